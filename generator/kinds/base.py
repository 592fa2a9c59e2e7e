"""What a kind is: the interface every framing, rule op and runtime target implements.

A kind is one module under ``synapsegen.kinds`` plus one template under ``templates/``
(runtime targets need no pydantic and have their base in :mod:`synapsegen.kinds.targets`):

- its **options**: a pydantic model whose fields are the schema keys the kind owns (mixed into
  ``StreamSpec`` or ``RuleSpec`` by :mod:`synapsegen.language.spec`);
- its **checks**: methods the front end calls with a ``report`` callback, giving SG codes;
- its **IR**: a frozen dataclass of plain data the template macro renders;
- its **macro**: ``templates/<folder>/<name>.py.jinja``.

The front end and the back end look kinds up in :mod:`synapsegen.kinds` and ask them; nothing
outside a kind's module compares its name.

A kind declares itself in its class statement. The keywords (name, option and IR classes,
flags) become the class attributes of the same name, listed first in each base below; the body
gives the texts people read, the tables, and the methods where the kind differs from its base::

    class SSE(Framing, name="sse", Options=SSEOptions, IR=SSEIR):
        summary = "server-sent events, one token per event's data"
        frames = {"text": "text", "json": "data"}  # payload -> loop variable over its frames

``__init_subclass__`` (below, in :class:`Framing` and :class:`Op`) does the storing; a keyword
left out keeps its default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..codegen.ir import AccumulatorIR, FramingIR, ReadIR

if TYPE_CHECKING:
    from ..codegen.build import RuleContext
    from ..diagnostics import NodePath
    from ..language.spec import JsonSchema, RuleSpec, StreamSpec

Report = Callable[["NodePath", str, str], None]
"""``report(path, code, message)``: a diagnostic at a node of the schema document."""

# Codes the kinds report (explained in synapsegen.codes).
RULE_OPTIONS = "SG404"
TEXT_PAYLOAD = "SG405"
FRAMING_PAYLOAD = "SG406"
FRAMING_OPTION = "SG407"
END_MISMATCH = "SG408"


class Options(BaseModel):
    """Base of a kind's options: strict and immutable, like every node of the language."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


OptionsModel = Options
"""``Options`` under a name the kinds' class bodies below (which have an ``Options``) keep."""


class Framing:
    """How a byte stream is cut into tokens: raw text, lines, SSE events, JSON values."""

    # Keywords of the class statement:
    name: ClassVar[str]
    Options: ClassVar[type[Options]] = Options
    IR: ClassVar[type[FramingIR]] = FramingIR
    flushes_at_close: ClassVar[bool] = False
    """Whether the decoder's ``close()`` may return one last token."""
    # The class body:
    summary: ClassVar[str]
    frames: ClassVar[dict[str, str]]
    """The payloads (``text``, ``json``) the framing can carry, each with the loop variable over
    its decoded frames (``data``, ``frame``, ...)."""
    refusal: ClassVar[str | None] = None
    """Why it cannot carry a payload missing from ``frames`` (None: a plain message)."""
    media_types: ClassVar[dict[str, str]]
    """The body's media type for each payload in ``frames``: the ``Content-Type`` a stream of
    this framing is sent with on the HTTP-era transports (the generated ``stream_media``)."""

    def __init_subclass__(
        cls,
        *,
        name: str,
        Options: type[OptionsModel] = OptionsModel,  # named as the attribute it sets
        IR: type[FramingIR] = FramingIR,
        flushes_at_close: bool = False,
    ) -> None:
        super().__init_subclass__()
        cls.name, cls.Options, cls.IR = name, Options, IR
        cls.flushes_at_close = flushes_at_close

    @property
    def template(self) -> str:
        """The template holding this framing's macros."""
        return f"framings/{self.name.replace('-', '_')}.py.jinja"

    @property
    def payloads(self) -> tuple[str, ...]:
        """The payloads the framing can carry; with one, it is the default."""
        return tuple(self.frames)

    def default_payload(self) -> str | None:
        """The payload when the schema names none (only a framing with one payload has one)."""
        return self.payloads[0] if len(self.payloads) == 1 else None

    def payload_problem(self, payload: str) -> str | None:
        """Why this framing cannot carry ``payload`` (None when it can)."""
        if payload in self.frames:
            return None
        return self.refusal or f"framing {self.name!r} cannot carry {payload}"

    def has_sentinel(self, stream: StreamSpec) -> bool:
        """Whether the stream ends with an in-band sentinel this framing recognises."""
        return self.sentinel(stream) is not None

    def sentinel(self, stream: StreamSpec) -> str | None:
        """The in-band data that ends the stream and is no token (None: none)."""
        return None

    def media_type(self, stream: StreamSpec) -> str:
        """The media type of an expanded stream's body (by default, its payload's)."""
        assert stream.payload is not None  # filled in by the presets stage
        return self.media_types[stream.payload]

    def check(self, stream: StreamSpec, path: NodePath, report: Report) -> None:
        """The framing's own checks of an expanded stream (its options, its rules)."""

    def build(self, stream: StreamSpec) -> FramingIR:
        """The framing's IR for an expanded, validated stream."""
        payload = stream.payload
        assert payload is not None  # filled in by the presets stage
        return self.IR(
            template=self.template,
            payload=payload,
            frame=self.frames[payload],
            max_frame_bytes=stream.limits.max_frame_bytes,
            max_total_bytes=stream.limits.max_total_bytes,
            flushes_at_close=self.flushes_at_close,
            **self.options_ir(stream),
        )

    def options_ir(self, stream: StreamSpec) -> dict[str, Any]:
        """The framing's own values in its IR: its options, as the template needs them (by
        default as the schema gives them)."""
        return {key: getattr(stream, key) for key in self.Options.model_fields}

    def option_defaults(self) -> dict[str, Any]:
        """The framing's own keys and their defaults."""
        return {name: info.default for name, info in self.Options.model_fields.items()}


class GroupOptions(Options):
    """``group``, shared by the ops that add to a text or a list (concat, append, extend)."""

    group: Annotated[
        str | None,
        Field(
            description=(
                "concat/append/extend: path in the token of a string that keys the target dict:"
                " the value goes to field[group] (e.g. text per `role`)."
            )
        ),
    ] = None


@dataclass(frozen=True)
class ReadInto:
    """The IR of an op that reads one value into one field: what it reads, where it goes.

    ``group``: with ``group``, the read of the key the value goes under in the target dict.
    """

    read: ReadIR
    target: AccumulatorIR
    group: ReadIR | None = field(default=None, kw_only=True)  # kw_only: subclasses add fields


TARGET_TYPES: dict[str, str | None] = {"text": "string", "list": "array", "dict": "object"}
"""The JSON type a field collected by each accumulator must have (``value``: any)."""

GROUPED = "_groups"
"""Suffix of a grouped accumulator's kind: ``text_groups`` is a dict of texts by group key."""


class Op:
    """How a rule turns one token into response field values.

    By default it reads the value at ``path`` (or the token) into its ``field``: its ``IR`` is
    :class:`ReadInto`, or a subclass holding the op's own values (``own_ir``).
    """

    # Keywords of the class statement:
    name: ClassVar[str]
    accumulator: ClassVar[str]
    """The local that collects the target during the stream: text, list, dict or value."""
    reads_text: ClassVar[bool] = False
    """Whether the op applies to text tokens (``payload: text``)."""
    yields_text: ClassVar[bool] = False
    """Whether the op's text is what ``yields: text`` yields."""
    chunk_independent: ClassVar[bool] = False
    """Whether applying it to text however it was split gives one result (raw text has no
    token boundaries: each network chunk is a token)."""
    Options: ClassVar[type[Options]] = Options
    IR: ClassVar[type[ReadInto]] = ReadInto
    # The class body:
    summary: ClassVar[str]
    description: ClassVar[str]
    """What a rule does, for the comment above its code: a format string of ``source`` (what
    it reads), ``field`` and ``key`` (the rule's keys)."""

    def __init_subclass__(
        cls,
        *,
        name: str,
        accumulator: str,
        reads_text: bool = False,
        yields_text: bool = False,
        chunk_independent: bool = False,
        Options: type[OptionsModel] = OptionsModel,  # named as the attribute it sets
        IR: type[ReadInto] = ReadInto,
    ) -> None:
        super().__init_subclass__()
        cls.name, cls.accumulator, cls.Options, cls.IR = name, accumulator, Options, IR
        cls.reads_text, cls.yields_text = reads_text, yields_text
        cls.chunk_independent = chunk_independent

    @property
    def template(self) -> str:
        """The template holding this op's ``apply`` macro."""
        return f"ops/{self.name}.py.jinja"

    @property
    def target_type(self) -> str | None:
        """The JSON type the target field must have (None: any)."""
        return TARGET_TYPES.get(self.accumulator)

    def targets(self, rule: RuleSpec) -> list[str]:
        """The response fields the rule writes."""
        return [rule.field] if rule.field is not None else []

    def check(self, rule: RuleSpec, path: NodePath, report: Report) -> None:
        """The rule's options fit this op (SG404)."""
        if rule.field is None:
            report(path, RULE_OPTIONS, f"rule {self.name!r} needs `field`, its target")

    def target_problem(self, target: str, schema: JsonSchema) -> str | None:
        """Why the (resolved) target field cannot take this op beyond its type, or None."""
        return None

    def describe(self, rule: RuleSpec, source: str) -> str:
        """What the rule does, for the comment above its code (``source``: what it reads)."""
        group = self.group_of(rule)
        field = rule.field if group is None else f"{rule.field}[{group}]"
        return self.description.format(source=source, field=field, key=rule.key)

    def group_of(self, rule: RuleSpec) -> str | None:
        """The rule's ``group`` path, if this op takes one (the ops with :class:`GroupOptions`)."""
        return rule.group if "group" in self.Options.model_fields else None

    def accumulator_of(self, rule: RuleSpec) -> str:
        """The accumulator of this rule's target: the op's own, or a dict of them by group."""
        grouped = self.group_of(rule) is not None
        return f"{self.accumulator}{GROUPED}" if grouped else self.accumulator

    def build(self, rule: RuleSpec, context: RuleContext) -> Any:
        """The op's IR: ``context`` gives the reads of the token and the fields' accumulators."""
        assert rule.field is not None  # SG404
        read = context.read(rule.path)
        own = self.own_ir(rule, context, read)
        group = self.group_of(rule)
        if group is not None:
            own["group"] = context.group_read(group)
        return self.IR(read=read, target=context.accumulator(rule.field), **own)

    def own_ir(self, rule: RuleSpec, context: RuleContext, read: ReadIR) -> dict[str, Any]:
        """The op's own values in its IR, beside what it reads (``read``) and its target."""
        return {}
