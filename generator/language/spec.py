"""The schema language, version 1, defined as pydantic models.

A schema file (YAML or JSON) describes one or more streaming synapses::

    version: 1
    synapses:
      ChatCompletion:
        description: Stream a chat completion from a miner.
        request:
          prompt: {type: string, hash: true, description: The user's prompt.}
        stream:
          format: text          # preset: raw UTF-8 text concatenated into `completion`
    $defs: {}                   # shared JSON Schema definitions, referenced as "#/$defs/Name"

These models are the single definition of the language: the loader validates documents against
them, ``synapsegen schema`` prints their JSON Schema for editors, and later stages read them.
Fields are written in JSON Schema vocabulary plus two keywords of ours (``hash``, ``frozen``).
Semantic checks that need the whole document (unknown ``$ref``, reserved names, rule targets) live
in ``validate.py``; presets are expanded there too, so later stages see explicit streams only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..kinds import FRAMINGS, OPS
from ..kinds.base import Options as KindOptions

SCHEMA_VERSION = 1

# The kinds' names and their own keys come from the registry (synapsegen.kinds): a new framing or
# op adds its keys here by being registered. Built dynamically, so mypy sees them as Any.
if TYPE_CHECKING:
    FramingName = str
    OpName = str
else:
    FramingName = Literal[tuple(FRAMINGS)]
    OpName = Literal[tuple(OPS)]
_FRAMING_OPTIONS = tuple(
    dict.fromkeys(k.Options for k in FRAMINGS.values() if k.Options is not KindOptions)
)
_OP_OPTIONS = tuple(dict.fromkeys(k.Options for k in OPS.values() if k.Options is not KindOptions))


def _kinds_description(kinds: dict[str, Any], lead: str = "") -> str:
    return lead + "; ".join(f"{name}: {kind.summary}" for name, kind in kinds.items()) + "."


JsonScalar = str | int | float | bool | None


class _Strict(BaseModel):
    """Base for every node: unknown keys are errors, and nodes are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class JsonSchema(_Strict):
    """The subset of JSON Schema (2020-12) a field or a shared definition may use."""

    type: Annotated[
        Literal["string", "integer", "number", "boolean", "array", "object", "null"]
        | list[Literal["string", "integer", "number", "boolean", "array", "object", "null"]]
        | None,
        Field(description="JSON type, or a list of types (e.g. [string, 'null'] for nullable)."),
    ] = None
    ref: Annotated[
        str | None, Field(alias="$ref", description='Reference to a shared model, "#/$defs/Name".')
    ] = None
    python_import: Annotated[
        str | None,
        Field(
            alias="import",
            description=(
                "$defs entries only: use this existing Python class (package.module.Name, e.g. a"
                " pydantic model or a (str, Enum)) instead of generating one; the rest of the"
                " entry describes it for the checks."
            ),
        ),
    ] = None
    title: str | None = None
    description: str | None = None
    examples: list[Any] | None = None
    default: Any = None
    enum: list[JsonScalar] | None = None
    const: JsonScalar = None
    format: str | None = None
    items: JsonSchema | None = None
    properties: dict[str, JsonSchema] | None = None
    required: list[str] | None = None
    additional_properties: Annotated[
        bool | JsonSchema | None, Field(alias="additionalProperties")
    ] = None
    any_of: Annotated[list[JsonSchema] | None, Field(alias="anyOf")] = None
    one_of: Annotated[list[JsonSchema] | None, Field(alias="oneOf")] = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: Annotated[float | None, Field(alias="exclusiveMinimum")] = None
    exclusive_maximum: Annotated[float | None, Field(alias="exclusiveMaximum")] = None
    multiple_of: Annotated[float | None, Field(alias="multipleOf", gt=0)] = None
    min_length: Annotated[int | None, Field(alias="minLength", ge=0)] = None
    max_length: Annotated[int | None, Field(alias="maxLength", ge=0)] = None
    pattern: str | None = None
    min_items: Annotated[int | None, Field(alias="minItems", ge=0)] = None
    max_items: Annotated[int | None, Field(alias="maxItems", ge=0)] = None


class FieldSpec(JsonSchema):
    """One synapse field: a JSON Schema plus synapsegen's own keywords.

    A field without ``default`` is required. Response fields must have a default, since the
    validator builds the synapse before any response exists.
    """

    hash: Annotated[
        bool,
        Field(description="Include this field in the signed body hash (required_hash_fields)."),
    ] = False
    frozen: Annotated[
        bool, Field(description="Assignment raises; the dendrite keeps the caller's value.")
    ] = False
    header: Annotated[
        bool,
        Field(
            description=(
                "Request fields: also send the value in the request headers (not only the empty"
                " placeholder bittensor sends), so the axon's blacklist/priority hooks see it"
                " before the body is read. Keep such values small."
            )
        ),
    ] = False


TagMatch = Annotated[dict[str, JsonScalar], Field(min_length=1)]
"""Top-level event properties that must all be equal for a rule to apply, e.g. {type: text}."""


class RuleSpec(*_OP_OPTIONS, _Strict):  # type: ignore[misc]  # ops' own keys (key, fields)
    """How one decoded token fills response fields.

    ``path`` points into the token (``choices[0].delta.content``; omitted = the whole token).
    A token whose path is missing or null does not apply the rule; a value of the wrong type is a
    stream error. Each op (``synapsegen.kinds.ops``) adds the keys it owns.
    """

    op: Annotated[OpName, Field(description=_kinds_description(OPS))]
    field: Annotated[
        str | None, Field(description="Target response field (all ops but `set`).")
    ] = None
    path: Annotated[str | None, Field(description="Path into the token, e.g. a.b[0].c.")] = None
    when: Annotated[TagMatch | None, Field(description="Apply only to tokens matching these.")] = (
        None
    )


class EndSpec(_Strict):
    """How the stream signals that it is complete."""

    signal: Annotated[
        Literal["eof", "sentinel", "event"],
        Field(description="eof: end of body; sentinel: the SSE sentinel; event: a final event."),
    ] = "eof"
    event: Annotated[
        TagMatch | None, Field(description="`signal: event`: the final event's tags.")
    ] = None
    keep_partial: Annotated[
        bool,
        Field(description="Keep accumulated response fields when the terminator never came."),
    ] = True


class LimitsSpec(_Strict):
    """Bounds on what the client buffers."""

    max_frame_bytes: Annotated[int, Field(gt=0)] = 1 << 20
    max_total_bytes: Annotated[int | None, Field(gt=0)] = 64 << 20


class ServerSpec(_Strict):
    """The generated server-side token streamer."""

    batch_count: Annotated[int, Field(ge=1, description="Send after this many tokens.")] = 1
    batch_interval: Annotated[
        float | None, Field(gt=0, description="... or after this many seconds.")
    ] = None
    error_event: Annotated[
        Annotated[dict[str, JsonScalar], Field(min_length=1)] | None,
        Field(
            description=(
                "JSON payloads only: the event sent when the miner's token iterator fails; the"
                " message goes under `error_message_key`. The client raises MinerError on it."
            )
        ),
    ] = None
    error_message_key: str = "message"


DeserializeSpec = (
    Literal["synapse"]
    | Annotated[dict[Literal["field"], str], Field(description="Return this field.")]
    | Annotated[
        dict[Literal["parse", "model"], str],
        Field(description='Parse the text field `parse` as JSON into the model "#/$defs/Name".'),
    ]
)


class StreamSpec(*_FRAMING_OPTIONS, _Strict):  # type: ignore[misc]  # framings' own keys
    """The token format on the wire and how it fills the synapse.

    Either a preset (``format``), optionally refined by the other keys, or an explicit
    ``framing`` + ``payload`` + ``rules``. Each framing (``synapsegen.kinds.framings``) adds the
    keys it owns (``delimiter``, ``sentinel``).
    """

    format: Annotated[
        Literal["text", "openai-sse", "ndjson-events"] | None,
        Field(
            description=(
                "Preset. text: raw UTF-8 concatenated into `completion`. openai-sse: OpenAI"
                " chat-completion chunks over SSE with [DONE]. ndjson-events: JSON Lines events"
                " tagged by `type` (text/meta/error)."
            )
        ),
    ] = None
    framing: Annotated[FramingName | None, Field(description=_kinds_description(FRAMINGS))] = None
    payload: Literal["text", "json"] | None = None
    token: Annotated[JsonSchema | None, Field(description="Schema of one JSON token/event.")] = None
    rules: list[RuleSpec] | None = None
    end: EndSpec | None = None
    limits: LimitsSpec = LimitsSpec()
    yields: Annotated[
        Literal["text", "token"] | None,
        Field(
            description=(
                "What process_streaming_response yields: text = the str deltas of concat rules;"
                " token = each decoded token."
            )
        ),
    ] = None
    deserialize: DeserializeSpec | None = None
    server: ServerSpec = ServerSpec()


class SynapseSpec(_Strict):
    """One synapse class: a StreamingSynapse with ``stream``, a plain Synapse without."""

    description: str | None = None
    request: Annotated[
        dict[str, FieldSpec], Field(description="Fields the validator sets before the call.")
    ] = {}
    response: Annotated[
        dict[str, FieldSpec],
        Field(description="Fields the miner fills (with a stream: the stream fills them)."),
    ] = {}
    stream: Annotated[
        StreamSpec | None,
        Field(
            description=(
                "The token stream (a StreamingSynapse). Without it the synapse is a plain"
                " Synapse: one request, one JSON answer."
            )
        ),
    ] = None
    deserialize: Annotated[
        DeserializeSpec | None,
        Field(
            description=(
                "Plain synapses only (a stream has its own): what deserialize() returns;"
                " default: the synapse."
            )
        ),
    ] = None
    timeout: Annotated[
        float | None,
        Field(
            gt=0,
            allow_inf_nan=False,
            description=(
                "The class's default timeout in seconds (bittensor's is 12): what the Dendrite"
                " uses when the call gives none, and what the miner is told."
            ),
        ),
    ] = None


class SchemaFile(_Strict):
    """A whole schema file."""

    version: Literal[1]
    description: str | None = None
    synapses: Annotated[dict[str, SynapseSpec], Field(min_length=1)]
    defs: Annotated[dict[str, JsonSchema], Field(alias="$defs")] = {}
