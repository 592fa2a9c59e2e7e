"""Each reproduction from the generator-v2 review, as a test: a positioned error, or working code.

(Non-finite numbers, lone surrogates, bad paths and shadowing properties have bad-schema goldens;
the U+2028 injection has test_escape.py.)
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synapsegen.pipeline import Options, generate

from ._generated import FakeResponse, bytewise, generate_package, on_sys_path, stream_items
from .test_typing import _mypy_path

# Each generates; together they are type-checked once, then imported and run.
WORKING = {
    "lowercase_defs": """\
version: 1
synapses:
  Lowercase:
    request:
      item: {$ref: "#/$defs/my_item", default: {label: x}}
      kind: {$ref: "#/$defs/kind_t", default: a}
    stream: {format: text}
$defs:
  my_item:
    type: object
    properties:
      label: {type: string}
      type: {type: string, default: plain}
  kind_t: {type: string, enum: [a, b]}
""",
    "value_locals": """\
version: 1
synapses:
  Locals:
    response:
      value: {type: array, items: {type: integer}, default: []}
      received_value: {type: array, items: {type: integer}, default: []}
      key: {type: string, default: ""}
    stream:
      framing: json-seq
      rules:
        - {op: append, path: a, field: value}
        - {op: append, path: b, field: received_value}
        - {op: concat, path: k, field: key}
""",
    "pathless_first": """\
version: 1
synapses:
  Pathless:
    response:
      events: {type: array, default: []}
      text: {type: string, default: ""}
    stream:
      framing: json-seq
      rules:
        - {op: append, field: events}
        - {op: concat, path: text, field: text}
""",
    # Issue 8: nullable accumulation targets (Targon, Desearch) were SG403; None until the first
    # value, which makes them the empty text/list/dict first.
    "nullable_targets": """\
version: 1
synapses:
  Nullable:
    request: {q: {type: string, default: "", hash: true}}
    response:
      text: {type: [string, "null"], default: null}
      items: {anyOf: [{type: array, items: {type: integer}}, {type: "null"}], default: null}
      links:
        type: [object, "null"]
        additionalProperties: {type: object}
        default: null
      notes: {type: [string, "null"], default: null}
    stream:
      framing: json-seq
      rules:
        - {op: concat, path: t, field: text}
        - {op: append, path: i, field: items}
        - {op: put, path: l, key: url, field: links}
        - {op: replace, path: n, field: notes}
""",
    # Issue 8: JSON keys that cannot be attributes (keywords, `content-type`, names pydantic or
    # the class body use) were SG201/SG202/SG203/SG207; they become `from_`, `content_type`, ...
    # with the key as alias, read and written under the key.
    "aliased_properties": """\
version: 1
synapses:
  Mail:
    request:
      message: {$ref: "#/$defs/Message", default: {from: a, content-type: text/plain}, hash: true}
$defs:
  Message:
    type: object
    properties:
      from: {type: string}
      content-type: {type: string}
      max tokens: {type: integer, default: 1}
      str: {type: string, default: ""}
      Field: {type: integer, default: 0}
      copy: {type: boolean, default: false}
      model_config: {type: string, default: ""}
      _id: {type: string, default: ""}
      "2fa": {type: boolean, default: false}
    required: [from, content-type]
    additionalProperties: false
""",
    # Found by the property test: an optional property typed with a $defs alias of null was
    # `Nothing | None`, `None | None` at import (a TypeError).
    "null_alias": """\
version: 1
synapses:
  Q:
    request:
      m: {$ref: "#/$defs/M", default: {}, hash: true}
$defs:
  Nothing: {type: "null"}
  M:
    type: object
    properties:
      p: {$ref: "#/$defs/Nothing"}
""",
    # Found by the property test once it drew plain synapses: an integral default of a number
    # field stayed an int (`score: float = 0`) until it crossed the wire as 0.0, and the body
    # hash signs str(value): "0" on the validator, "0.0" on the miner, so every call failed.
    "number_defaults": """\
version: 1
synapses:
  Scored:
    request:
      score: {type: number, default: 0, hash: true}
      weights: {type: object, additionalProperties: {type: number}, default: {a: 1}, hash: true}
      mixed: {anyOf: [{type: number}, {type: string}], default: 1, hash: true}
""",
}


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("regressions")
    schemas = []
    for name, text in WORKING.items():
        (root / f"{name}.yaml").write_text(text, encoding="utf-8")
        schemas.append(root / f"{name}.yaml")
    out = root / "regressions_pkg"
    generate_package(schemas, root, out)
    return out


def test_they_pass_mypy_strict(package: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MYPYPATH": os.pathsep.join([str(_mypy_path(tmp_path)), str(package.parent)]),
    }
    cache = str(tmp_path / "cache")
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", cache,
               "--python-version", "3.11", f"--package={package.name}"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


async def _decode(synapse: Any, body: bytes) -> list[Any]:
    return await stream_items(synapse, FakeResponse(bytewise(body)))


def test_they_run(package: Path) -> None:
    with on_sys_path(package.parent):
        lowercase = importlib.import_module(f"{package.name}.lowercase_defs")
        probe = lowercase.Lowercase()
        assert probe.item.label == "x" and probe.item.type == "plain" and probe.kind == "a"

        locals_ = importlib.import_module(f"{package.name}.value_locals").Locals()
        asyncio.run(_decode(locals_, b'{"a": 1}{"b": 2}{"k": "x"}{"a": 3}'))
        assert (locals_.value, locals_.received_value, locals_.key) == ([1, 3], [2], "x")

        pathless = importlib.import_module(f"{package.name}.pathless_first").Pathless()
        asyncio.run(_decode(pathless, b'{"text": "hi"} {"text": "!"}'))
        assert pathless.text == "hi!" and len(pathless.events) == 2

        nullable = importlib.import_module(f"{package.name}.nullable_targets").Nullable
        untouched = nullable()
        asyncio.run(_decode(untouched, b'{"x": 1}'))
        assert (untouched.text, untouched.items, untouched.links, untouched.notes) == (None,) * 4
        filled = nullable()
        asyncio.run(_decode(filled, b'{"t": "a"}{"i": 1}{"t": "b"}{"l": {"url": "u"}}{"t": ""}'))
        assert (filled.text, filled.items, filled.links) == ("ab", [1], {"u": {"url": "u"}})
        assert filled.notes is None
        empty_text = nullable()
        asyncio.run(_decode(empty_text, b'{"t": ""}'))
        assert empty_text.text == ""  # the first value, even empty, ends the None

        aliased = importlib.import_module(f"{package.name}.aliased_properties")
        wire = {"from": "b", "content-type": "x/y", "max tokens": 7, "str": "s", "Field": 2,
                "copy": True, "model_config": "m", "_id": "i", "2fa": True}  # fmt: skip
        message = aliased.Message.model_validate(wire)
        assert (message.from_, message.content_type, message.max_tokens) == ("b", "x/y", 7)
        assert (message.str_, message.Field_, message.copy_) == ("s", 2, True)
        assert (message.field_model_config, message.id, message.field_2fa) == ("m", "i", True)
        assert message.model_dump() == wire  # written under the keys, as they arrived
        mail = aliased.Mail(message=message)
        assert type(mail).model_validate_json(mail.model_dump_json()).message == message
        assert aliased.Mail().message.from_ == "a"  # the default, written with the keys

        null_alias = importlib.import_module(f"{package.name}.null_alias").Q()
        assert null_alias.m.p is None

        scored = importlib.import_module(f"{package.name}.number_defaults").Scored()
        arrived = type(scored).model_validate_json(scored.model_dump_json())
        assert repr(scored.score) == repr(arrived.score) == "0.0"
        assert repr(scored.mixed) == repr(arrived.mixed) == "1.0"  # a number member of a union
        assert scored.body_hash == arrived.body_hash


@pytest.mark.parametrize("stem", ["class", "import", "None", "True", "lambda"])
def test_keyword_file_names_are_sg901(tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.yaml"
    path.write_text(WORKING["pathless_first"], encoding="utf-8")
    result = generate([path], Options(), tmp_path)
    assert [(d.code, d.line, d.col) for d in result.diagnostics] == [("SG901", 1, 1)]
    assert "Python keyword" in result.diagnostics[0].message


def test_soft_keyword_file_names_generate(tmp_path: Path) -> None:
    path = tmp_path / "match.yaml"
    path.write_text(WORKING["pathless_first"], encoding="utf-8")
    assert not generate([path], Options(), tmp_path).diagnostics
