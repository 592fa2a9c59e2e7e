"""Defaults of generated fields: fresh containers, and model-typed defaults built as models."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from synapsegen.pipeline import Options, generate

SCHEMA = """\
version: 1
synapses:
  Probe:
    request:
      settings: {$ref: "#/$defs/Settings", default: {}}
      maybe: {anyOf: [{$ref: "#/$defs/Settings"}, {type: "null"}], default: {}}
      many: {type: array, items: {$ref: "#/$defs/Settings"}, default: []}
      named: {type: object, additionalProperties: {$ref: "#/$defs/Settings"}, default: {}}
    stream: {format: text}
$defs:
  Settings:
    type: object
    properties:
      depth: {type: integer, default: 1}
"""


def test_empty_object_default_of_a_model_field_is_a_model(tmp_path: Path) -> None:
    schema = tmp_path / "defaults_probe.yaml"
    schema.write_text(SCHEMA, encoding="utf-8")
    result = generate([schema], Options(), tmp_path)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    (tmp_path / "defaults_probe.py").write_text(result.files["defaults_probe.py"])
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module("defaults_probe")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("defaults_probe", None)
    first, second = module.Probe(), module.Probe()
    assert isinstance(first.settings, module.Settings) and first.settings.depth == 1
    assert isinstance(first.maybe, module.Settings)
    assert first.many == [] and first.named == {}
    # A fresh object per instance, never a shared mutable default.
    assert first.settings is not second.settings and first.many is not second.many
