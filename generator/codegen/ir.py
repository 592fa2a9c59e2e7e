"""The intermediate representation the templates render.

Plain frozen dataclasses holding everything a template needs, already computed: Python type
expressions, ``Field(...)`` arguments as literal source text (every schema string went through
``repr``), docstrings, decoder constructor calls and rule plans. Templates only loop and branch.

Built by :mod:`synapsegen.build_ir`; rendered by :mod:`synapsegen.render`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Import:
    """``from <module> import <names>`` (names sorted)."""

    module: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class FieldIR:
    """One pydantic field of a synapse class.

    ``annotation`` is the full ``Annotated[T, Field(...)]`` expression; ``default`` the source
    after ``=``: the value, or ``Field(default_factory=...)`` for a list or dict (``None`` when the
    field is required).
    """

    name: str
    annotation: str
    default: str | None


@dataclass(frozen=True)
class LocalIR:
    """A local accumulator of ``process_streaming_response`` and how it becomes a field.

    ``declarations`` are ``name: T = initial`` statements (a text field has two: its joined
    blocks and the parts since the last join); ``assignment`` is ``self.field = <final expr>``.
    A text field's parts are joined after a network chunk (``join``) when ``join_check`` holds.
    """

    declarations: tuple[str, ...]
    assignment: str
    join_check: str | None = None
    join: tuple[str, ...] = ()


@dataclass(frozen=True)
class LookupIR:
    """Read one value out of the token: statements that leave it in ``value`` (or None)."""

    path: str  # the schema's path text, for comments and error messages
    statements: tuple[str, ...]


@dataclass(frozen=True)
class StepIR:
    """One statement of an action, or a type guard: ``if <code>: raise MalformedFrame(<msg>)``."""

    code: str
    raise_message: str | None  # source of an f-string literal; None for a plain statement


@dataclass(frozen=True)
class ActionIR:
    """What one rule does: look a value up, then (if it is not None) run ``steps``.

    Without a lookup (text payloads) the steps run unconditionally on the text token.
    ``yield_value`` is yielded afterwards when the synapse yields text.
    """

    lookup: LookupIR | None
    steps: tuple[StepIR, ...]
    yield_value: str | None


@dataclass(frozen=True)
class RuleIR:
    """One schema rule: an optional ``when`` condition and the actions it runs."""

    comment: str
    condition: str | None
    actions: tuple[ActionIR, ...]


@dataclass(frozen=True)
class StreamIR:
    """The client-side decoding plan and server-side encoding plan of one synapse."""

    decoder: str  # constructor call, e.g. "SSEDecoder(sentinel='[DONE]', max_frame_bytes=...)"
    frame_name: str  # loop variable over decoded frames: "text", "frame" or "event"
    token_name: str  # variable holding the token the rules read: "text" or "event"
    token_decode: str | None  # e.g. "decode_json_frame(frame)"; None if the frame is the token
    json_tokens: bool
    require_object: bool  # the rules need a JSON object token: check it
    object_check_message: str | None
    tag_reads: tuple[str, ...]  # e.g. "event_type = event.get('type')": each `when` key, once
    error_condition: str | None  # token is the declared error event
    error_message: str | None  # expression of the miner's message
    end_condition: str | None  # token is the declared final event (signal: event)
    after_end_message: str | None
    complete_at_eof: bool  # signal eof: a clean close() completes the stream
    close_returns_frames: bool  # the decoder's close() can flush a last token (JSON seq)
    complete_expression: str | None  # signal sentinel: "decoder.done"
    keep_partial: bool
    locals: tuple[LocalIR, ...]
    rules: tuple[RuleIR, ...]
    yields_text: bool
    yield_token: bool
    yield_type: str
    terminator_doc: str  # human description of the terminator, for docstrings
    process_doc: tuple[str, ...]  # docstring lines of process_streaming_response
    # Server side.
    token_type: str  # what the miner's token iterator yields
    encoder: str  # expression of the token encoder
    streamer_arguments: tuple[str, ...]  # keyword arguments of token_streamer after `encode`


@dataclass(frozen=True)
class DeserializeIR:
    """The ``deserialize`` method: its return type and expression."""

    return_type: str
    expression: str
    doc: str


@dataclass(frozen=True)
class SynapseIR:
    """One generated StreamingSynapse subclass."""

    name: str
    docstring: str  # already a Python string literal
    hash_fields: str  # tuple literal, e.g. "('messages',)"
    fields: tuple[FieldIR, ...]
    response_doc: str
    stream: StreamIR
    deserialize: DeserializeIR
    extract_names: tuple[str, ...]  # every field extract_response_json returns, in order


@dataclass(frozen=True)
class ModuleIR:
    """One generated module ``<stem>.py``."""

    stem: str
    header: str  # comment lines without the trailing newline
    docstring: str  # Python string literal
    imports: tuple[Import, ...]
    models_code: str  # nested models (datamodel-code-generator output, imports removed)
    rebuild_calls: tuple[str, ...]  # e.g. "Asset.model_rebuild()"
    synapses: tuple[SynapseIR, ...]
    all_names: tuple[str, ...]  # sorted __all__
    response_class: str  # annotation of stream_response's result


@dataclass(frozen=True)
class PackageInitIR:
    """The output folder's ``__init__.py``."""

    header: str
    imports: tuple[Import, ...]
    all_names: tuple[str, ...]
    # "Message: chat.Message, search.Message": names several modules define, not re-exported
    not_exported: tuple[str, ...] = ()
