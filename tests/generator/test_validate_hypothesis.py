"""Property tests: random valid schemas validate cleanly; random damage gives located diagnostics.

Never a traceback: whatever the bytes, ``validate(load_text(...))`` returns diagnostics whose
positions lie inside the text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synapsegen.language.load import load_bytes, load_text
from synapsegen.language.validate import validate

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

field_names = st.from_regex(r"[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,4})?", fullmatch=True).map(
    lambda name: f"f_{name}"  # keeps clear of keywords and reserved names
)
class_names = st.from_regex(r"[A-Z][a-z]{1,6}[A-Z][a-z]{0,4}", fullmatch=True)

scalar_fields = st.sampled_from([
    {"type": "string", "default": ""},
    {"type": "integer", "default": 3, "minimum": 0},
    {"type": "number", "default": 0.5},
    {"type": "boolean", "default": False},
    {"type": ["string", "null"], "default": None},
    {"type": "array", "items": {"type": "string"}, "default": ["a"]},
    {"type": "object", "additionalProperties": {"type": "integer"}, "default": {}},
    {"type": "string", "enum": ["a", "b"], "default": "b"},
])  # fmt: skip
required_fields = st.sampled_from([
    {"type": "string"}, {"type": "integer"}, {"type": "array", "items": {"type": "number"}},
    {"type": "object", "properties": {"x": {"type": "integer"}}},
])  # fmt: skip


@st.composite
def synapses(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(field_names, min_size=1, max_size=6, unique=True))
    split = draw(st.integers(0, len(names)))
    request = {n: dict(draw(st.one_of(scalar_fields, required_fields)), hash=draw(st.booleans()))
               for n in names[:split]}  # fmt: skip
    response = {n: draw(scalar_fields) for n in names[split:]}
    kind = draw(st.sampled_from(["text", "openai-sse", "ndjson-events", "explicit"]))
    for reserved in ("completion", "finish_reason", "usage"):
        request.pop(reserved, None)
    if kind != "explicit":
        return {"request": request, "response": response, "stream": {"format": kind}}
    response["f_text"] = {"type": "string", "default": ""}
    request.pop("f_text", None)
    framing = draw(st.sampled_from(["raw", "lines", "sse", "json-seq"]))
    payload = (
        "text"
        if framing == "raw"
        else "json"
        if framing == "json-seq"
        else draw(st.sampled_from(["text", "json"]))
    )
    stream: dict[str, Any] = {"framing": framing, "payload": payload}
    if payload == "text":
        stream["rules"] = [{"op": "concat", "field": "f_text"}]
    else:
        rules: list[dict[str, Any]] = [{"op": "concat", "path": "t", "field": "f_text"}]
        for name, spec in response.items():
            op = {"array": "append", "string": "concat"}.get(str(spec.get("type")), "replace")
            if "enum" in spec:  # fixed values: concat could build a value the enum forbids
                op = "replace"
            rules.append(
                {
                    "op": op,
                    "path": f"p.{name}[0]",
                    "field": name,
                    "when": {"type": draw(st.sampled_from(["a", "b"]))},
                }
            )
        stream["rules"] = rules
    if framing == "sse" and draw(st.booleans()):
        stream["sentinel"] = "[DONE]"
        stream["end"] = {"signal": "sentinel", "keep_partial": draw(st.booleans())}
    return {"request": request, "response": response, "stream": stream}


@st.composite
def schema_files(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(class_names, min_size=1, max_size=3, unique=True))
    return {"version": 1, "synapses": {name: draw(synapses()) for name in names}}


def _assert_in_range(text: str, result: Any) -> None:
    # YAML also breaks lines at \r, NEL, LS and PS; JSON only at \n: bound by the widest reading.
    most_lines = len(re.split("\r\n|[\n\r\x85\u2028\u2029]", text))
    widest = max(len(line) for line in text.split("\n"))
    assert result.schema is None and result.diagnostics
    for diagnostic in result.diagnostics:
        assert 1 <= diagnostic.line <= most_lines, str(diagnostic)
        assert 1 <= diagnostic.col <= widest + 1, str(diagnostic)
        assert diagnostic.code.startswith("SG") and diagnostic.message


@FAST
@given(schema_files(), st.booleans())
def test_random_valid_schemas_validate_cleanly(data: dict[str, Any], as_json: bool) -> None:
    text = json.dumps(data, indent=1) if as_json else yaml.safe_dump(data, sort_keys=False)
    result = validate(load_text(Path("s.json" if as_json else "s.yaml"), text))
    assert [str(d) for d in result.diagnostics] == []
    assert result.schema is not None


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _nodes(value, (*path, index))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@FAST
@given(schema_files(), st.data())
def test_mutations_give_located_diagnostics(data: dict[str, Any], draw: st.DataObject) -> None:
    mapping_paths = [p for p in _nodes(data) if p and isinstance(_parent(data, p), dict)]
    path = draw.draw(st.sampled_from(mapping_paths))
    parent = _parent(data, path)
    mutation = draw.draw(st.sampled_from(["delete_required", "unknown_key", "retype"]))
    if mutation == "delete_required":
        # A synapse without `stream` is a valid plain synapse; one whose stream lacks both
        # `format` and `framing` is not.
        target = draw.draw(st.sampled_from([("version",), ("synapses",)] + [
            ("synapses", name, "stream", "format" if "format" in synapse["stream"] else "framing")
            for name, synapse in data["synapses"].items()]))  # fmt: skip
        del _parent(data, target)[target[-1]]
    elif mutation == "unknown_key":
        if path[-2:-1] == ("when",):  # `when` matches any property: no key is unknown there
            parent = _parent(data, path[:-1])
        parent[draw.draw(st.sampled_from(["framng", "tpye", "deafult", "on"]))] = 1
    else:
        parent[path[-1]] = draw.draw(st.sampled_from([[], {"x": 1}, 7, "nonsense", None, True]))
    text = yaml.safe_dump(data, sort_keys=False)
    result = validate(load_text(Path("s.yaml"), text))
    if mutation != "retype" or result.diagnostics:  # retyping may by chance produce a valid schema
        _assert_in_range(text, result)


@FAST
@given(st.binary(max_size=300), st.sampled_from([".yaml", ".json"]))
def test_random_bytes_never_raise(raw: bytes, suffix: str) -> None:
    result = validate(load_bytes(Path("s" + suffix), raw, is_json=suffix == ".json"))
    text = raw.decode("utf-8", errors="replace")
    if result.schema is None:
        _assert_in_range(text, result)


yaml_garbage = st.lists(
    st.sampled_from(["version: 1", "synapses:", "  A:", "    stream:", "      format: text", "- x",
                     "{", "}", "[", "]", ": :", "&a", "*a", "!!str", "? k", "  - 1", "\t", "'",
                     '"', "key: value", "    request: {a: {type: string}}", "#", "---", "..."]),
    max_size=12,
).map("\n".join)  # fmt: skip


@FAST
@given(yaml_garbage)
def test_garbage_yaml_never_raises(text: str) -> None:
    result = validate(load_text(Path("s.yaml"), text))
    if result.schema is None:
        _assert_in_range(text, result)
