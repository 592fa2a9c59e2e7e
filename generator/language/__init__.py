"""The schema language: load, structure, semantics, presets, validate (the front end)."""
