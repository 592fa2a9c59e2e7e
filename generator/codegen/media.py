"""A streaming class's ``stream_media``: what its body is on the HTTP-era transports.

The framing kind gives the media type and the sentinel (:meth:`Framing.media_type`,
:meth:`Framing.sentinel`); this module writes the JSON Schema of one token as the schema file
declares it. The schema is self-contained JSON Schema 2020-12: the ``$defs`` entries the token
refers to (transitively, so recursion is fine) are copied under its own ``$defs``, in the schema
file's order, and its ``$ref`` values (``#/$defs/Name``) stay as written. A typed token
(``token: {$ref: ...}`` to a model) is the generated model itself (``item_model``), whose
``model_json_schema()`` the runtime reads instead.
"""

from __future__ import annotations

from typing import Any

from ..kinds import FRAMINGS
from ..language.spec import JsonSchema, StreamSpec
from .ir import MediaIR
from .types import references, schema_dict

_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_SCHEMA_LISTS = ("anyOf", "oneOf")
_SCHEMA_VALUES = ("items", "additionalProperties")


def build_media(
    stream: StreamSpec, defs: dict[str, JsonSchema], token_model: str | None, require_object: bool
) -> MediaIR:
    """The ``stream_media`` of an expanded, validated stream."""
    assert stream.framing is not None and stream.payload is not None  # the presets stage
    framing = FRAMINGS[stream.framing]
    return MediaIR(
        media_type=framing.media_type(stream),
        payload=stream.payload,
        item_schema=token_schema(stream, defs, token_model, require_object),
        item_model=token_model,
        sentinel=framing.sentinel(stream),
        error_schema=error_schema(stream),
    )


def token_schema(
    stream: StreamSpec, defs: dict[str, JsonSchema], token_model: str | None, require_object: bool
) -> dict[str, Any] | None:
    """The JSON Schema of one JSON token (None for text and for a typed token).

    Without a declared ``token``: an object when the rules read keys (each token is checked to be
    one), else any JSON value.
    """
    if stream.payload != "json" or token_model is not None:
        return None
    if stream.token is None:
        return {"type": "object"} if require_object else {}
    node = _readable(schema_dict(stream.token))
    needed = _referenced(node, defs)
    if needed:
        node["$defs"] = {
            name: _readable(schema_dict(schema)) for name, schema in defs.items() if name in needed
        }
    return node


def _referenced(node: dict[str, Any], defs: dict[str, JsonSchema]) -> set[str]:
    """Every ``$defs`` name ``node`` refers to, directly or through other entries."""
    found: set[str] = set()
    pending = references(node)
    while pending:
        name = pending.pop()
        if name in found or name not in defs:
            continue
        found.add(name)
        pending += references(schema_dict(defs[name]))
    return found


def _readable(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with integral bounds as ints (the language reads ``maximum: 0`` as 0.0)."""
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in _BOUNDS and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif key == "properties" and isinstance(value, dict):
            value = {name: _readable(child) for name, child in value.items()}
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            value = _readable(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [_readable(member) for member in value]
        result[key] = value
    return result


def error_schema(stream: StreamSpec) -> dict[str, Any] | None:
    """The JSON Schema of the declared error event (``server.error_event``), or None."""
    event = stream.server.error_event
    if event is None:
        return None
    key = stream.server.error_message_key
    properties: dict[str, Any] = {tag: {"const": value} for tag, value in event.items()}
    properties[key] = {"type": "string"}
    return {
        "description": "The miner's error event, sent in place of a token.",
        "type": "object",
        "properties": properties,
        "required": [*event, key],
    }
