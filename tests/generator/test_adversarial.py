"""Unusual but legal schemas: the generated module imports, behaves, and passes mypy --strict.

Each schema here once produced code that failed to import, failed mypy, or misbehaved. The
behaviour tests import the generated package; one mypy run checks every package at the end.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from synapsegen.pipeline import Options, generate

from .test_typing import _mypy_path

# A `$defs` model declared nullable: a reference to it must accept None (it is `M | None`).
NULLABLE_MODEL = """\
version: 1
synapses:
  Probe:
    request:
      m: {$ref: "#/$defs/M", default: null}
      ms: {type: array, items: {$ref: "#/$defs/M"}, default: []}
    response:
      last: {$ref: "#/$defs/M", default: null}
    stream:
      framing: lines
      payload: json
      rules: [{op: replace, path: m, field: last}]
$defs:
  M:
    type: [object, "null"]
    properties:
      a: {type: string}
      child: {$ref: "#/$defs/M"}
    required: [a]
  N:
    type: object
    properties:
      m: {$ref: "#/$defs/M"}
    required: [m]
"""

SCHEMAS = {"adv_nullable_model": NULLABLE_MODEL}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every schema of SCHEMAS generated into its own package ``<name>`` under one folder."""
    root = tmp_path_factory.mktemp("adversarial")
    for name, text in SCHEMAS.items():
        source = root / "schemas" / f"{name}.yaml"
        source.parent.mkdir(exist_ok=True)
        source.write_text(text, encoding="utf-8")
        result = generate([source], Options(), root)
        assert not result.diagnostics, [str(d) for d in result.diagnostics]
        package = root / name
        package.mkdir()
        for file_name, content in result.files.items():
            (package / file_name).write_text(content, encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m.split(".")[0] in SCHEMAS]:
            sys.modules.pop(module)


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_nullable_model_reference_accepts_none(packages: Path) -> None:
    module = _module("adv_nullable_model")
    probe = module.Probe(m=None, ms=[None, {"a": "x"}])
    assert probe.m is None and probe.ms[0] is None and probe.ms[1].a == "x"
    assert module.N(m=None).m is None


def test_adversarial_outputs_pass_mypy_strict(packages: Path, tmp_path: Path) -> None:
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, [_mypy_path(tmp_path), packages]))}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11",
               *(f"--package={name}" for name in SCHEMAS)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
