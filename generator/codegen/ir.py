"""The intermediate representation the templates render: plain frozen data.

Names (classes, fields, locals), Python type expressions, paths, limits and schema values, never
statements. Schema text is kept raw here: templates pass it through the filters of
:mod:`synapsegen.codegen.escape`, the one way it enters generated code. Each kind (framing, op,
target) adds its own IR dataclass in its module under :mod:`synapsegen.kinds`.

Built by :mod:`synapsegen.codegen.build`; rendered by :mod:`synapsegen.codegen.render`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class DefaultIR:
    """A field's default: ``value`` (JSON data from the schema).

    ``factory``: ``list`` or ``dict`` for a container, assigned as ``Field(default_factory=...)``
    so every instance gets a fresh one; ``validate``: pydantic validates it into the field's
    type (a model or an enum written as JSON).
    """

    value: Any
    factory: str | None = None  # "list" or "dict": Field(default_factory=...)
    validate: bool = False


@dataclass(frozen=True)
class FieldIR:
    """One pydantic field of a synapse or a nested model.

    ``type`` is a Python type expression (schema values in it went through ``escape.literal``);
    ``constraints`` are ``Field`` keywords with their values (``ge``, ``pattern``, ...).
    """

    name: str
    type: str
    description: str | None = None
    alias: str | None = None  # the key on the wire, when it cannot be the attribute's name
    title: str | None = None
    examples: Any = None
    constraints: tuple[tuple[str, Any], ...] = ()
    frozen: bool = False
    default: DefaultIR | None = None


@dataclass(frozen=True)
class ModelIR:
    """A nested pydantic model (a ``$defs`` entry or a hoisted inline object)."""

    name: str
    description: str | None
    fields: tuple[FieldIR, ...]
    forbid_extra: bool = False
    aliased: bool = False  # some field has an alias: read and written under it


@dataclass(frozen=True)
class AliasIR:
    """A type alias (a ``$defs`` entry that is not an object with properties).

    It never refers to itself (SG309: type checkers cannot follow such an alias).
    """

    name: str
    type: str
    constraints: tuple[tuple[str, Any], ...]
    description: str | None


@dataclass(frozen=True)
class FramingIR:
    """What every framing's IR holds; each framing's module adds its own options."""

    template: str  # the framing's macros
    payload: str  # "text" or "json"
    frame: str  # the loop variable over decoded frames
    max_frame_bytes: int | None
    max_total_bytes: int | None
    flushes_at_close: bool = False  # close() may return one last token


@dataclass(frozen=True)
class TagTest:
    """``token[key] == value`` with JSON equality; ``local`` holds ``token.get(key)``."""

    local: str
    key: str
    value: JsonScalar


@dataclass(frozen=True)
class ReadIR:
    """Where a rule's value comes from.

    ``steps`` is the path into the token (empty: the whole token); the value lands in
    ``variable``. ``guard``: skip the rule when the value is None (absent or null); ``text``: the
    value is known to be a ``str`` (a text token); ``where`` names it in error messages.
    """

    token: str
    steps: tuple[str | int, ...]
    variable: str
    root_is_dict: bool
    guard: bool
    text: bool
    where: str


@dataclass(frozen=True)
class AccumulatorIR:
    """The local that collects one response field during the stream.

    ``kind``: ``text`` (the runtime's ``TextParts``), ``list``, ``dict`` or ``value``.
    ``default``: the field's default (JSON), the starting value. ``nullable``: a text, list or
    dict accumulator whose field defaults to null: it starts as None, and the first value a rule
    adds makes it the empty text/list/dict first.
    """

    field: str
    kind: str
    local: str
    has_default: bool
    default: Any
    nullable: bool = False


@dataclass(frozen=True)
class RuleIR:
    """One schema rule: when it applies (``tests``, all must hold) and what its op does."""

    index: int
    template: str  # the op's macro
    summary: str  # schema text for the comment above the rule's code
    tests: tuple[TagTest, ...]
    action: Any  # the op's own IR


@dataclass(frozen=True)
class MediaIR:
    """A streaming class's ``stream_media``: its body's media type and what each item is.

    ``item_schema``: the JSON Schema of one token, self-contained (``$ref`` into its own
    ``$defs``); None for text (the runtime's default) and for a typed token, whose model
    ``item_model`` names. ``error_schema``: the declared error event's JSON Schema, or None.
    """

    media_type: str
    payload: str
    item_schema: dict[str, Any] | None
    item_model: str | None
    sentinel: str | None
    error_schema: dict[str, Any] | None


@dataclass(frozen=True)
class StreamIR:
    """The client-side decoding plan and the server-side encoding plan of one synapse."""

    framing: FramingIR
    token: str  # the variable holding the token the rules read: "text" or "event"
    require_object: bool  # the rules read keys: a token that is not a JSON object is an error
    tag_reads: tuple[tuple[str, str], ...]  # (local, key): each `when` key, read once per token
    error_tests: tuple[TagTest, ...]  # the miner's error event (empty: none declared)
    error_event: dict[str, JsonScalar] | None
    error_message_key: str
    end_signal: str  # "eof", "sentinel" or "event"
    end_tests: tuple[TagTest, ...]
    end_event: dict[str, JsonScalar] | None
    terminator: str  # what ends the stream, in words (schema text)
    after_end: str  # error message for data after the final event
    keep_partial: bool
    accumulators: tuple[AccumulatorIR, ...]
    rules: tuple[RuleIR, ...]
    yields_text: bool
    yield_type: str
    token_type: str
    token_model: str | None  # the $defs model the token is: the client yields it validated
    batch_count: int
    batch_interval: float | None
    summary: str  # first docstring line of process_streaming_response
    fills: str  # the paragraph after it (plain text, wrapped by the template)
    media: MediaIR


@dataclass(frozen=True)
class DeserializeIR:
    """The ``deserialize`` method: what it returns.

    ``field``: that field's value; ``parse`` + ``model``: the field parsed as JSON into the
    model; neither: the synapse itself.
    """

    return_type: str
    field: str | None = None
    parse: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class SynapseIR:
    """One generated synapse class: a StreamingSynapse, or a plain Synapse without ``stream``."""

    name: str
    description: str
    hash_fields: tuple[str, ...]
    fields: tuple[FieldIR, ...]
    response: tuple[FieldIR, ...]  # the response fields (also in ``fields``), for respond()
    stream: StreamIR | None
    deserialize: DeserializeIR
    timeout: float | None = None  # the class's default timeout (None: the base class's)
    header_fields: tuple[str, ...] = ()  # request fields whose values the headers carry too
    request_fields: tuple[str, ...] = ()  # the request section's fields, in order
    schema_hash: str = ""  # "sha256:<hex>" of the wire-relevant definition (codegen.schema_hash)


@dataclass(frozen=True)
class ImportIR:
    """``from <module> import <name> [as <alias>]``: a ``$defs`` entry that imports a class."""

    module: str
    name: str
    alias: str | None  # the $defs name, when it differs from the class's


@dataclass(frozen=True)
class ModuleIR:
    """One generated module ``<stem>.py``."""

    stem: str
    header: str  # comment lines (escaped by the header stage)
    description: str
    target: str  # the runtime target's template
    imports: tuple[ImportIR, ...]  # the user's classes the $defs import
    models: tuple[ModelIR | AliasIR, ...]  # in definition order (dependencies first)
    rebuilds: tuple[str, ...]  # models that refer to later ones: model_rebuild() at the end
    synapses: tuple[SynapseIR, ...]
    all_names: tuple[str, ...]  # sorted __all__


@dataclass(frozen=True)
class PackageImport:
    """``from .<module> import <names>`` in the package ``__init__.py``."""

    module: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class PackageInitIR:
    """The output folder's ``__init__.py``."""

    header: str
    description: str
    imports: tuple[PackageImport, ...]
    all_names: tuple[str, ...]
    # "Message: chat.Message, search.Message": names several modules define, not re-exported
    not_exported: tuple[str, ...] = ()
