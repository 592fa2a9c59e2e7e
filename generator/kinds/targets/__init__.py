"""Runtime targets: the base classes generated code stands on. One module each."""
