"""Validation of the example schemas, preset expansion, defaults, and the JSON Schema export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapsegen.language import names
from synapsegen.language.load import load_document, load_text
from synapsegen.language.schema_export import COMMITTED_PATH, language_json_schema_text
from synapsegen.language.spec import EndSpec, SchemaFile
from synapsegen.language.validate import Validated, validate

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "schemas").glob("*.yaml"))


def _validate_text(text: str, name: str = "s.yaml") -> Validated:
    return validate(load_text(Path(name), text))


def _schema(text: str) -> SchemaFile:
    result = _validate_text(text)
    assert result.diagnostics == (), [str(d) for d in result.diagnostics]
    assert result.schema is not None
    return result.schema


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_schemas_validate_cleanly(path: Path) -> None:
    result = validate(load_document(path))
    assert [str(d) for d in result.diagnostics] == []
    assert result.schema is not None
    for synapse in result.schema.synapses.values():
        for spec in synapse.response.values():
            assert "default" in spec.model_fields_set
        stream = synapse.stream
        if stream is None:  # a plain synapse
            continue
        assert stream.format is None
        for key in ("framing", "payload", "rules", "end", "yields", "deserialize"):
            assert getattr(stream, key) is not None, key


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_point_editors_at_the_json_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../generator/synapsegen.schema.json"


def test_the_same_schema_as_json_validates_the_same(tmp_path: Path) -> None:
    chat = load_document(REPO / "schemas" / "chat.yaml")
    as_json = tmp_path / "chat.json"
    as_json.write_text(json.dumps(chat.data, indent=2), encoding="utf-8")
    assert validate(load_document(as_json)).schema == validate(chat).schema


def test_text_preset_expands_and_adds_completion() -> None:
    schema = _schema("version: 1\nsynapses:\n  Chat:\n    stream: {format: text}\n")
    synapse = schema.synapses["Chat"]
    stream = synapse.stream
    assert (stream.framing, stream.payload, stream.yields) == ("raw", "text", "text")
    assert [(r.op, r.field, r.path) for r in stream.rules or []] == [("concat", "completion", None)]
    assert stream.end == EndSpec(signal="eof", keep_partial=True)
    assert stream.deserialize == {"field": "completion"}
    completion = synapse.response["completion"]
    assert (completion.type, completion.default, completion.description) == (
        "string", "", "The streamed text.")  # fmt: skip


def test_openai_preset_adds_three_fields_and_sentinel_end() -> None:
    schema = _schema(
        "version: 1\nsynapses:\n  Chat:\n    response:\n"
        "      completion: {type: string, default: '', description: Mine.}\n"
        "    stream: {format: openai-sse}\n"
    )
    synapse = schema.synapses["Chat"]
    assert list(synapse.response) == ["completion", "finish_reason", "usage"]
    assert synapse.response["completion"].description == "Mine."  # declared fields win
    assert synapse.response["usage"].type == ["object", "null"]
    assert "default" in synapse.response["usage"].model_fields_set
    stream = synapse.stream
    assert (stream.framing, stream.sentinel, stream.payload) == ("sse", "[DONE]", "json")
    assert stream.end == EndSpec(signal="sentinel", keep_partial=False)
    assert [r.path for r in stream.rules or []] == [
        "choices[0].delta.content", "choices[0].finish_reason", "usage"]  # fmt: skip


def test_ndjson_preset_sets_every_other_response_field_in_order() -> None:
    schema = _schema(
        "version: 1\nsynapses:\n  Q:\n    response:\n"
        "      b: {type: integer, default: 0}\n      a: {type: string, default: ''}\n"
        "    stream: {format: ndjson-events}\n"
    )
    stream = schema.synapses["Q"].stream
    rules = stream.rules or []
    assert rules[1].op == "set" and rules[1].fields == {"b": "b", "a": "a"}
    assert rules[1].when == {"type": "meta"} and rules[0].when == {"type": "text"}
    assert stream.server.error_event == {"type": "error"}
    assert stream.delimiter == "\n" and stream.framing == "lines"
    assert stream.token is not None and stream.token.required == ["type"]


def test_keys_beside_format_replace_the_preset_value_wholesale() -> None:
    schema = _schema(
        "version: 1\nsynapses:\n  Chat:\n    response:\n"
        "      parts: {type: string, default: ''}\n"
        "    stream:\n      format: text\n      rules: [{op: concat, field: parts}]\n"
        "      end: {keep_partial: false}\n"
    )
    stream = schema.synapses["Chat"].stream
    assert [(r.op, r.field) for r in stream.rules or []] == [("concat", "parts")]
    assert stream.end == EndSpec(signal="eof", keep_partial=False)
    assert stream.deserialize == {"field": "completion"}  # still the preset's


def test_defaults_of_explicit_streams() -> None:
    schema = _schema(
        "version: 1\nsynapses:\n  A:\n    response:\n"
        "      x: {type: [object, 'null'], default: null}\n"
        "    stream:\n      framing: sse\n      sentinel: '[END]'\n      payload: json\n"
        "      rules: [{op: replace, path: x, field: x}]\n      end: {keep_partial: false}\n"
        "  B:\n    response:\n      t: {type: string, default: ''}\n"
        "      s: {type: object, default: {}}\n"
        "    stream:\n      framing: json-seq\n"
        "      rules: [{op: set, fields: [s]}, {op: concat, path: t, field: t}]\n"
    )
    a, b = schema.synapses["A"].stream, schema.synapses["B"].stream
    assert a.end == EndSpec(signal="sentinel", keep_partial=False)
    assert (a.yields, a.deserialize) == ("token", "synapse")
    assert (b.payload, b.yields, b.deserialize) == ("json", "text", {"field": "t"})
    assert b.end == EndSpec(signal="eof", keep_partial=True)
    assert (b.rules or [])[0].fields == {"s": "s"}


def test_reserved_names_cover_pydantic_and_runtime() -> None:
    for name in ("model_dump", "copy", "json", "dict", "schema", "validate"):
        assert names.synapse_field_problem(name) is not None
    for name in ("timeout", "body_hash", "process_streaming_response", "stream_complete",
                 "request_fields", "stream_media", "schema_hash"):  # fmt: skip
        assert names.synapse_field_problem(name) is not None
    for name in ("prompt", "completion", "messages", "items", "usage"):
        assert names.synapse_field_problem(name) is None


def test_validated_is_frozen_and_reports_all_errors_sorted() -> None:
    result = _validate_text(
        "version: 1\nsynapses:\n  Chat:\n    request:\n      class: {type: string}\n"
        "      timeout: {type: integer, default: 1}\n    stream: {format: txt}\n"
    )
    assert result.schema is None
    assert [d.code for d in result.diagnostics] == ["SG202", "SG203", "SG104"]
    with pytest.raises(AttributeError):
        result.schema = None  # type: ignore[misc]


def test_committed_json_schema_is_current() -> None:
    assert COMMITTED_PATH.read_text(encoding="utf-8") == language_json_schema_text(), (
        "regenerate with: python -m synapsegen.language.schema_export"
    )


def test_json_schema_export_is_deterministic_and_describes_the_language() -> None:
    text = language_json_schema_text()
    assert text == language_json_schema_text()
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    assert set(schema["properties"]) == {"version", "description", "synapses", "$defs"}
    assert "framing" in schema["$defs"]["StreamSpec"]["properties"]


def test_a_key_an_open_token_does_not_list_is_a_warning() -> None:
    text = """\
version: 1
synapses:
  Events:
    request: {prompt: {type: string, default: "", hash: true}}
    response: {text: {type: string, default: ""}}
    stream:
      framing: json-seq
      payload: json
      token: {type: object, properties: {delta: {type: string}}}
      rules: [{op: concat, path: detla, field: text}]
"""
    result = validate(load_text(Path("open.yaml"), text))
    assert result.schema is not None and not result.diagnostics
    assert [str(w) for w in result.warnings] == [
        "open.yaml:10:34: SG502 warning: the declared token does not list key 'detla'; declare "
        "it under the token's properties if it is not a typo"
    ]
