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
from typing import Any

import pytest

from synapsegen.pipeline import Options, generate

from ._generated import on_sys_path
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

# Schema text that reaches comments and docstrings: line breaks in `when` keys and paths (which
# would end a comment and put the rest into the code), quotes and backslashes in a sentinel and
# an end event (which would end the stream_complete docstring).
QUOTED_TEXT = r"""
version: 1
description: "a \"\"\" b ''' {{ c }} \\ \r"
synapses:
  Quoted:
    description: "\"\"\"\\"
    request:
      q: {type: string, default: "\"\"\"\r\\", description: "x\u2028y", examples: ["\"\"\""]}
    response:
      out: {type: string, default: ""}
      n: {type: array, default: []}
    stream:
      framing: sse
      sentinel: "[DONE]\"\"\" \\"
      payload: json
      rules:
        - {when: {"a\nraise SystemExit()": "\"\"\""}, op: concat, path: "x\r1.y", field: out}
        - {when: {"k\u2028": 1}, op: set, fields: {n: "p\nq"}}
  Evented:
    response:
      out: {type: string, default: ""}
    stream:
      framing: json-seq
      rules: [{op: concat, path: "t\u0085", field: out}]
      end: {signal: event, event: {"done\"\"\"\\": "\"\"\"\\"}}
"""

# JSON lines with a custom delimiter: the token encoder is a lambda; the trailer and the error
# event must be bytes, not that lambda with a call appended to its body.
CUSTOM_DELIMITER = r"""
version: 1
synapses:
  Separated:
    response:
      out: {type: string, default: ""}
    stream:
      framing: lines
      delimiter: "\x1e"
      payload: json
      rules: [{op: concat, path: t, field: out}]
      end: {signal: event, event: {type: done}}
      server: {error_event: {type: error}}
"""

SCHEMAS = {
    "adv_nullable_model": NULLABLE_MODEL,
    "adv_quoted_text": QUOTED_TEXT,
    "adv_custom_delimiter": CUSTOM_DELIMITER,
}


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
    with on_sys_path(root, forget=SCHEMAS):
        yield root


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


def test_schema_text_in_comments_and_docstrings_stays_text(packages: Path) -> None:
    module = _module("adv_quoted_text")
    sentinel = '[DONE]""" \\'
    assert module.Quoted.stream_complete.__doc__.endswith(f"the SSE sentinel {sentinel!r}.")
    key, value = 'done"""\\', '"""\\'
    assert f"({key} = {value!r})." in module.Evented.stream_complete.__doc__
    assert module.Quoted.__doc__ == '"""\\'
    assert module.Quoted().q == '"""\r\\'


def test_custom_delimiter_trailer_and_error_event_are_bytes(
    packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("adv_custom_delimiter.adv_custom_delimiter")
    seen: dict[str, Any] = {}

    def record(tokens: Any, encode: Any, **options: Any) -> Any:
        seen.update(options, encode=encode)
        return iter(())

    monkeypatch.setattr(module, "token_streamer", record)
    monkeypatch.setattr(module.Separated, "create_streaming_response", lambda self, s: s)
    module.Separated().stream_response(None)
    assert seen["encode"]({"t": "x"}) == b'{"t":"x"}\x1e'
    assert seen["trailer"] == b'{"type":"done"}\x1e'
    assert seen["encode_error"](RuntimeError("down")) == b'{"type":"error","message":"down"}\x1e'
