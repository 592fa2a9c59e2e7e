"""The schema hash (``schema_hash`` of a generated class): what changes it and what does not.

Each case edits one base document (a streaming ``Chat`` and a plain ``Ping``) and compares the
hash of the synapse it touches with the base's: the edits of ``SAME`` (descriptions, order,
formatting, YAML or JSON, presets, names of ``$defs`` entries, local options) keep it, every edit
of ``CHANGED`` (a wire-relevant change) gives a new one, different from every other case's.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from synapsegen.codegen.schema_hash import canonical_bytes, schema_hash
from synapsegen.language.load import load_text
from synapsegen.language.spec import SchemaFile
from synapsegen.language.validate import validate

from ._paths import ROOT, SCHEMAS

BASE: dict[str, Any] = {
    "version": 1,
    "description": "The base document.",
    "synapses": {
        "Chat": {
            "description": "A chat stream.",
            "request": {
                "messages": {
                    "type": "array",
                    "items": {"$ref": "#/$defs/Message"},
                    "hash": True,
                    "description": "The conversation.",
                },
                "temperature": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 2,
                    "default": 0.7,
                    "hash": True,
                },
                "tag": {"type": "string", "default": "", "header": True},
                "mode": {
                    "type": ["string", "null"],
                    "enum": ["fast", "slow", None],
                    "default": None,
                },
            },
            "response": {
                "completion": {"type": "string", "default": ""},
                "usage": {
                    "type": ["object", "null"],
                    "properties": {"n": {"type": "integer"}, "m": {"type": "integer"}},
                    "default": None,
                },
            },
            "stream": {
                "framing": "sse",
                "sentinel": "[DONE]",
                "payload": "json",
                "token": {
                    "type": "object",
                    "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
                    "required": ["type"],
                },
                "rules": [
                    {
                        "op": "concat",
                        "path": "text",
                        "field": "completion",
                        "when": {"type": "text"},
                    },
                    {"op": "replace", "path": "usage", "field": "usage"},
                ],
                "end": {"signal": "sentinel"},
                "server": {"error_event": {"type": "error"}},
            },
        },
        "Ping": {
            "request": {"tasks": {"type": "array", "items": {"type": "string"}, "default": []}},
            "response": {
                "load": {"type": "number", "minimum": 0, "maximum": 1, "default": 0},
                "ok": {"type": "boolean", "default": False},
            },
        },
    },
    "$defs": {
        "Role": {"type": "string", "enum": ["system", "user", "assistant"]},
        "Message": {
            "type": "object",
            "properties": {"role": {"$ref": "#/$defs/Role"}, "content": {"type": "string"}},
            "required": ["role", "content"],
        },
    },
}

Edit = Callable[[dict[str, Any]], Any]


def _hashes_of(schema: SchemaFile) -> dict[str, str]:
    return {name: schema_hash(spec, schema.defs) for name, spec in schema.synapses.items()}


def _validated(text: str, name: str) -> SchemaFile:
    result = validate(load_text(Path(name), text))
    assert result.diagnostics == (), [str(d) for d in result.diagnostics]
    assert result.schema is not None
    return result.schema


def _hashes(document: dict[str, Any], *, as_json: bool = False) -> dict[str, str]:
    if as_json:
        return _hashes_of(_validated(json.dumps(document, indent=1), "s.json"))
    return _hashes_of(_validated(yaml.safe_dump(document, sort_keys=False), "s.yaml"))


def _edited(edit: Edit) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    edit(document)
    return document


def _chat(d: dict[str, Any]) -> dict[str, Any]:
    return d["synapses"]["Chat"]  # type: ignore[no-any-return]


def _request(d: dict[str, Any]) -> dict[str, Any]:
    return _chat(d)["request"]  # type: ignore[no-any-return]


def _stream(d: dict[str, Any]) -> dict[str, Any]:
    return _chat(d)["stream"]  # type: ignore[no-any-return]


def _ordered(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    assert sorted(keys) == sorted(mapping)
    return {key: mapping[key] for key in keys}


def _reorder_all(node: Any) -> Any:
    """Every mapping's keys in reverse order, all the way down (lists keep their order)."""
    if isinstance(node, dict):
        return {key: _reorder_all(value) for key, value in reversed(list(node.items()))}
    if isinstance(node, list):
        return [_reorder_all(item) for item in node]
    return node


def _rename_def(d: dict[str, Any]) -> None:
    d["$defs"]["ChatMessage"] = d["$defs"].pop("Message")
    _request(d)["messages"]["items"]["$ref"] = "#/$defs/ChatMessage"


def _describe_everything(d: dict[str, Any]) -> None:
    d["description"] = "Another file description."
    _chat(d)["description"] = "Other words."
    _request(d)["temperature"].update(description="Sampling temperature.", title="T", examples=[1])
    d["$defs"]["Message"]["description"] = "One message."
    d["$defs"]["Message"]["properties"]["content"]["description"] = "Its text."
    _stream(d)["token"]["description"] = "One event."


SAME: dict[str, Edit] = {
    "descriptions, titles and examples": _describe_everything,
    "every mapping's key order (the hash fields' kept)": lambda d: (
        d.update(_reorder_all(copy.deepcopy(d))),
        _chat(d).update(request=_ordered(_request(d), *_request(BASE))),
    ),
    "request field order, the hash fields' kept": lambda d: _chat(d).update(
        request=_ordered(_request(d), "tag", "messages", "mode", "temperature")
    ),
    "header flag": lambda d: _request(d)["tag"].pop("header"),
    "required, enum and type lists reordered": lambda d: (
        d["$defs"]["Message"].update(required=["content", "role"]),
        d["$defs"]["Role"].update(enum=["user", "assistant", "system"]),
        _request(d)["mode"].update(type=["null", "string"], enum=[None, "slow", "fast"]),
    ),
    "a $defs entry renamed": _rename_def,
    "an unused $defs entry added": lambda d: d["$defs"].update(Unused={"type": "integer"}),
    "format (informational)": lambda d: _request(d)["tag"].update(format="date-time"),
    "frozen": lambda d: _request(d)["temperature"].update(frozen=True),
    "hash: false written out": lambda d: _request(d)["tag"].update(hash=False),
    "timeout": lambda d: _chat(d).update(timeout=30),
    "integral floats": lambda d: (
        _request(d)["temperature"].update(minimum=0.0, maximum=2.0),
        d["synapses"]["Ping"]["response"]["load"].update(default=0.0),
    ),
    "client-side limits and keep_partial": lambda d: _stream(d).update(
        limits={"max_frame_bytes": 4096}, end={"signal": "sentinel", "keep_partial": False}
    ),
    "server batching": lambda d: _stream(d)["server"].update(batch_count=4, batch_interval=0.5),
    "what the local methods return": lambda d: _stream(d).update(
        yields="token", deserialize="synapse"
    ),
    "defaults written out": lambda d: _stream(d)["server"].update(error_message_key="message"),
}

CHANGED: dict[str, Edit] = {
    "a field's type": lambda d: _request(d)["tag"].update(type="integer", default=0),
    "a request field added": lambda d: _request(d).update(extra={"type": "integer", "default": 1}),
    "a response field added": lambda d: _chat(d)["response"].update(
        extra={"type": "integer", "default": 1}
    ),
    "a field renamed": lambda d: _request(d).update(label=_request(d).pop("tag")),
    "a field moved to the response": lambda d: _chat(d)["response"].update(
        tag={k: v for k, v in _request(d).pop("tag").items() if k != "header"}
    ),
    "a default changed": lambda d: _request(d)["temperature"].update(default=0.5),
    "a default removed (now required)": lambda d: _request(d)["tag"].pop("default"),
    "a maximum": lambda d: _request(d)["temperature"].update(maximum=3),
    "a minimum made exclusive": lambda d: _request(d)["temperature"].update(
        exclusiveMinimum=_request(d)["temperature"].pop("minimum")
    ),
    "a pattern added": lambda d: _request(d)["tag"].update(pattern="^[a-z]*$"),
    "a maxLength added": lambda d: _request(d)["tag"].update(maxLength=8),
    "an enum member added": lambda d: _request(d)["mode"]["enum"].append("medium"),
    "null no longer allowed": lambda d: _request(d)["mode"].update(
        type="string", enum=["fast", "slow"], default="fast"
    ),
    "hash flag": lambda d: _request(d)["tag"].update(hash=True),
    "the hash fields' order": lambda d: _chat(d).update(
        request=_ordered(_request(d), "temperature", "messages", "tag", "mode")
    ),
    "a $defs property's type": lambda d: d["$defs"]["Message"]["properties"]["content"].update(
        type="integer"
    ),
    "a $defs property added": lambda d: d["$defs"]["Message"]["properties"].update(
        name={"type": "string"}
    ),
    "a $defs entry's required": lambda d: d["$defs"]["Message"].update(required=["role"]),
    "an enum of a referenced $defs entry": lambda d: d["$defs"]["Role"]["enum"].append("tool"),
    "additionalProperties: false": lambda d: d["$defs"]["Message"].update(
        additionalProperties=False
    ),
    "an inline model's property": lambda d: _chat(d)["response"]["usage"]["properties"].update(
        k={"type": "integer"}
    ),
    "framing": lambda d: (
        _stream(d).update(framing="lines", end={"signal": "eof"}),
        _stream(d).pop("sentinel"),
    ),
    "the SSE sentinel": lambda d: _stream(d).update(sentinel="[END]"),
    "the end signal": lambda d: _stream(d).update(end={"signal": "eof"}),
    "the token schema": lambda d: _stream(d)["token"]["properties"].update(
        score={"type": "number"}
    ),
    "a rule's path": lambda d: _stream(d)["rules"][0].update(path="delta"),
    "a rule's condition": lambda d: _stream(d)["rules"][0].update(when={"type": "delta"}),
    "a rule's op": lambda d: _stream(d)["rules"][0].update(op="replace"),
    "a rule removed": lambda d: _stream(d)["rules"].pop(),
    "the rules' order": lambda d: _stream(d).update(rules=_stream(d)["rules"][::-1]),
    "the error event": lambda d: _stream(d)["server"].update(error_event={"type": "failure"}),
    "the error message key": lambda d: _stream(d)["server"].update(error_message_key="detail"),
    "the stream removed (a plain synapse)": lambda d: _chat(d).pop("stream"),
}


def _touched(document: dict[str, Any]) -> str:
    return "Ping" if document["synapses"]["Ping"] != BASE["synapses"]["Ping"] else "Chat"


def test_the_base_hashes_are_sha256() -> None:
    hashes = _hashes(BASE)
    for value in hashes.values():
        assert value.startswith("sha256:") and len(value) == len("sha256:") + 64
        int(value[len("sha256:") :], 16)
    assert hashes["Chat"] != hashes["Ping"]


@pytest.mark.parametrize("edit", SAME.values(), ids=list(SAME))
def test_same_wire_same_hash(edit: Edit) -> None:
    assert _hashes(_edited(edit)) == _hashes(BASE)


def test_json_and_yaml_and_formatting_give_the_same_hash() -> None:
    base = _hashes(BASE)
    assert _hashes(BASE, as_json=True) == base
    flow = yaml.safe_dump(BASE, default_flow_style=True, width=60)
    commented = "# a comment\n" + yaml.safe_dump(BASE, indent=4).replace("\n", "  # note\n", 3)
    assert _hashes_of(_validated(flow, "flow.yaml")) == base
    assert _hashes_of(_validated(commented, "commented.yml")) == base


def test_a_preset_and_its_expansion_give_the_same_hash() -> None:
    preset = "version: 1\nsynapses:\n  C:\n    request: {p: {type: string, hash: true}}\n"
    expanded = (
        preset + "    response: {completion: {type: string, default: '', description: The text.}}\n"
        "    stream:\n      framing: raw\n      payload: text\n"
        "      rules: [{op: concat, field: completion}]\n"
    )
    assert _hashes_of(_validated(preset + "    stream: {format: text}\n", "a.yaml")) == (
        _hashes_of(_validated(expanded, "b.yaml"))
    )


@pytest.mark.parametrize("edit", CHANGED.values(), ids=list(CHANGED))
def test_a_wire_relevant_change_changes_the_hash(edit: Edit) -> None:
    document = _edited(edit)
    touched = _touched(document)
    hashes, base = _hashes(document), _hashes(BASE)
    assert hashes[touched] != base[touched]
    for name in hashes:  # the other synapse of the file keeps its hash
        if name != touched:
            assert hashes[name] == base[name]


def test_plain_synapse_changes() -> None:
    ping: dict[str, Edit] = {
        "response type": lambda d: d["synapses"]["Ping"]["response"]["ok"].update(
            type="integer", default=0
        ),
        "item type": lambda d: d["synapses"]["Ping"]["request"]["tasks"]["items"].update(
            type="integer"
        ),
        "minItems": lambda d: d["synapses"]["Ping"]["request"]["tasks"].update(
            minItems=1, default=["chat"]
        ),
        "a stream added": lambda d: d["synapses"]["Ping"].update(
            response={"completion": {"type": "string", "default": ""}}, stream={"format": "text"}
        ),
    }
    seen = {_hashes(BASE)["Ping"]}
    for edit in ping.values():
        value = _hashes(_edited(edit))["Ping"]
        assert value not in seen
        seen.add(value)


def test_every_change_gives_its_own_hash() -> None:
    values = [_hashes(_edited(edit))["Chat"] for edit in CHANGED.values()]
    assert len(set(values)) == len(values)


def test_the_canonical_document_is_as_documented() -> None:
    """The exact bytes for a small schema: a change here breaks every deployed hash."""
    text = (
        "version: 1\nsynapses:\n  S:\n    description: Ignored.\n    request:\n"
        "      b: {type: array, items: {$ref: '#/$defs/Z'}, hash: true}\n"
        "      a: {type: number, default: 1.0}\n"
        "    response: {r: {type: [string, 'null'], default: null, description: Ignored.}}\n"
        "$defs:\n  Z: {type: object, properties: {y: {$ref: '#/$defs/A'}}, required: [y]}\n"
        "  A: {type: string, enum: [b, a], format: uri, title: Ignored}\n"
    )
    schema = _validated(text, "s.yaml")
    assert canonical_bytes(schema.synapses["S"], schema.defs) == (
        b'{"defs":[{"properties":{"y":{"$ref":1}},"required":["y"],"type":"object"},'
        b'{"enum":["a","b"],"type":"string"}],"hash_fields":["b"],'
        b'"request":{"a":{"default":1,"type":"number"},"b":{"items":{"$ref":0},"type":"array"}},'
        b'"response":{"r":{"default":null,"type":["null","string"]}},'
        b'"stream":null,"synapsegen-schema":1}'
    )


@pytest.mark.parametrize("path", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_generated_classes_carry_the_hash(path: Path) -> None:
    schema = _validated(path.read_text(encoding="utf-8"), path.name)
    golden = (ROOT / "tests" / "golden" / path.stem / f"{path.stem}.py").read_text("utf-8")
    for name, value in _hashes_of(schema).items():
        assert f'"{value}"' in golden, name
