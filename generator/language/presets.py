"""Stream presets (``stream.format``) and the defaults of explicit streams.

:func:`expand_stream` turns any :class:`~synapsegen.spec.StreamSpec` into an explicit one
(``format`` None; ``framing``, ``payload``, ``rules``, ``end``, ``yields`` and ``deserialize`` all
set) and returns the response fields the preset adds. The rules are those of the language contract
(docs/schema-reference.md, "Presets"): a key given beside
``format`` replaces the preset's value for that key wholesale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..kinds import FRAMINGS, OPS, Framing
from .spec import EndSpec, FieldSpec, JsonSchema, RuleSpec, ServerSpec, StreamSpec

COMPLETION_FIELD: dict[str, Any] = {
    "type": "string",
    "default": "",
    "description": "The streamed text.",
}
FINISH_REASON_FIELD: dict[str, Any] = {
    "type": ["string", "null"],
    "default": None,
    "description": "Why generation stopped, from the last chunk that said.",
}
USAGE_FIELD: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
    },
    "default": None,
    "description": "Token counts, from the chunk that carried them.",
}


@dataclass(frozen=True)
class Expansion:
    """An explicit stream and the response fields (name -> spec) the preset added, in order."""

    stream: StreamSpec
    added_response: dict[str, FieldSpec]


def preset_response_fields(preset: str) -> dict[str, dict[str, Any]]:
    """The response fields a preset adds when the synapse does not declare them."""
    if preset == "openai-sse":
        return {
            "completion": COMPLETION_FIELD,
            "finish_reason": FINISH_REASON_FIELD,
            "usage": USAGE_FIELD,
        }
    return {"completion": COMPLETION_FIELD}


def _preset_values(preset: str, response_names: list[str]) -> dict[str, Any]:
    """The stream keys a preset sets, as spec objects."""
    if preset == "text":
        return {
            "framing": "raw",
            "payload": "text",
            "rules": [RuleSpec(op="concat", field="completion")],
            "end": EndSpec(signal="eof", keep_partial=True),
            "yields": "text",
            "deserialize": {"field": "completion"},
        }
    if preset == "openai-sse":
        return {
            "framing": "sse",
            "sentinel": "[DONE]",
            "payload": "json",
            "rules": [
                RuleSpec(op="concat", path="choices[0].delta.content", field="completion"),
                RuleSpec(op="replace", path="choices[0].finish_reason", field="finish_reason"),
                RuleSpec(op="replace", path="usage", field="usage"),
            ],
            "end": EndSpec(signal="sentinel", keep_partial=False),
            "yields": "text",
            "deserialize": {"field": "completion"},
        }
    if preset == "ndjson-events":
        trailer = [name for name in response_names if name != "completion"]
        rules = [RuleSpec(op="concat", path="text", field="completion", when={"type": "text"})]
        if trailer:  # a `set` with no fields would be an error of its own
            rules.append(
                RuleSpec(op="set", when={"type": "meta"}, fields={name: name for name in trailer})
            )
        return {
            "framing": "lines",
            "delimiter": "\n",
            "payload": "json",
            # Every key the rules read: a text event's `text`, a meta event's trailer fields.
            "token": JsonSchema.model_validate(
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string"},
                        "text": {"type": "string"},
                        **{name: {} for name in trailer},
                    },
                    "required": ["type"],
                }
            ),
            "rules": rules,
            "end": EndSpec(signal="eof", keep_partial=True),
            "server": ServerSpec(error_event={"type": "error"}),
            "yields": "text",
            "deserialize": {"field": "completion"},
        }
    raise ValueError(f"unknown preset {preset!r}")


def expand_stream(
    stream: StreamSpec, response: dict[str, FieldSpec], taken_names: frozenset[str] = frozenset()
) -> Expansion:
    """Expand the preset (if any) and fill the defaults of an explicit stream.

    ``response`` holds the declared response fields; a preset field is added only when no field
    of that name is declared there. ``taken_names`` (request field names) is accepted so that a
    clash is left for the validator to report rather than silently hidden.
    """
    del taken_names  # the clash check lives in the validator; kept for a stable signature
    added: dict[str, FieldSpec] = {}
    values: dict[str, Any] = {}
    if stream.format is not None:
        for name, spec in preset_response_fields(stream.format).items():
            if name not in response:
                added[name] = FieldSpec.model_validate(spec)
        values = _preset_values(stream.format, [*response, *added])
    given = {key: getattr(stream, key) for key in stream.model_fields_set if key != "format"}
    if "rules" in given and "yields" not in given:
        # The preset's `yields` describes the preset's rules; for the schema's own rules it is
        # derived again (text only if a rule yields text).
        values.pop("yields", None)
    values.update(given)
    values["format"] = None
    merged = stream.model_copy(update=values)
    return Expansion(_fill_defaults(merged), added)


def _fill_defaults(stream: StreamSpec) -> StreamSpec:
    """The stream with every key an explicit stream may leave out set (``format`` is None)."""
    framing = FRAMINGS.get(stream.framing) if stream.framing is not None else None
    updates: dict[str, Any] = {
        **_payload_default(stream, framing),
        **_end_default(stream, framing),
        **_normalized_rules(stream),
        **_yields_and_deserialize_defaults(stream),
    }
    return stream.model_copy(update=updates) if updates else stream


def _payload_default(stream: StreamSpec, framing: Framing | None) -> dict[str, Any]:
    """``payload``, when not given and the framing carries only one."""
    if stream.payload is None and framing is not None and framing.default_payload():
        return {"payload": framing.default_payload()}
    return {}


def _end_default(stream: StreamSpec, framing: Framing | None) -> dict[str, Any]:
    """``end``, or its ``signal``: the sentinel when the framing has one, else end of file."""
    signal: Literal["eof", "sentinel"] = (
        "sentinel" if framing is not None and framing.has_sentinel(stream) else "eof"
    )
    if stream.end is None:
        return {"end": EndSpec(signal=signal, keep_partial=True)}
    if "signal" not in stream.end.model_fields_set:
        # `end: {keep_partial: false}` alone keeps the derived signal, not the model's "eof".
        return {"end": stream.end.model_copy(update={"signal": signal})}
    return {}


def _normalized_rules(stream: StreamSpec) -> dict[str, Any]:
    """``rules`` with every list of ``fields`` turned into its mapping (name -> same name)."""
    rules = list(stream.rules or [])
    normalized = [
        rule.model_copy(update={"fields": {name: name for name in rule.fields}})
        if isinstance(rule.fields, list)
        else rule
        for rule in rules
    ]
    if stream.rules is not None and normalized != rules:
        return {"rules": normalized}
    return {}


def _yields_and_deserialize_defaults(stream: StreamSpec) -> dict[str, Any]:
    """``yields`` and ``deserialize``, derived from the first rule that yields text (concat)."""
    updates: dict[str, Any] = {}
    first_concat = next((rule for rule in stream.rules or [] if OPS[rule.op].yields_text), None)
    if stream.yields is None:
        updates["yields"] = "text" if first_concat is not None else "token"
    if stream.deserialize is None:
        updates["deserialize"] = (
            {"field": first_concat.field}
            if first_concat is not None and first_concat.field
            else "synapse"
        )
    return updates
