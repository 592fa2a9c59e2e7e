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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ..codegen.ir import AccumulatorIR, FramingIR, ReadIR

if TYPE_CHECKING:
    from ..codegen.build import RuleContext
    from ..diagnostics import NodePath
    from ..language.spec import JsonSchema, RuleSpec, StreamSpec

Report = Callable[["NodePath", str, str], None]
"""``report(path, code, message)``: a diagnostic at a node of the schema document."""

# Codes the kinds report (the table lives in synapsegen.language.validate).
RULE_OPTIONS = "SG404"
TEXT_PAYLOAD = "SG405"
FRAMING_PAYLOAD = "SG406"
FRAMING_OPTION = "SG407"
END_MISMATCH = "SG408"


class Options(BaseModel):
    """Base of a kind's options: strict and immutable, like every node of the language."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Framing:
    """How a byte stream is cut into tokens: raw text, lines, SSE events, JSON values."""

    name: ClassVar[str]
    summary: ClassVar[str]
    payloads: ClassVar[tuple[str, ...]]
    """The payloads (``text``, ``json``) the framing can carry; with one, it is the default."""
    Options: ClassVar[type[Options]] = Options

    @property
    def template(self) -> str:
        """The template holding this framing's macros."""
        return f"framings/{self.name.replace('-', '_')}.py.jinja"

    def default_payload(self) -> str | None:
        """The payload when the schema names none (only a framing with one payload has one)."""
        return self.payloads[0] if len(self.payloads) == 1 else None

    def payload_problem(self, payload: str) -> str | None:
        """Why this framing cannot carry ``payload`` (None when it can)."""
        return None if payload in self.payloads else f"framing {self.name!r} cannot carry {payload}"

    def has_sentinel(self, stream: StreamSpec) -> bool:
        """Whether the stream ends with an in-band sentinel this framing recognises."""
        return False

    def check(self, stream: StreamSpec, path: NodePath, report: Report) -> None:
        """The framing's own checks of an expanded stream (its options, its rules)."""

    IR: ClassVar[type[FramingIR]] = FramingIR
    frames: ClassVar[dict[str, str]]
    """The loop variable over decoded frames, by payload (``data``, ``frame``, ...)."""
    flushes_at_close: ClassVar[bool] = False
    """Whether the decoder's ``close()`` may return one last token."""

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
        """The framing's own values in its IR (its options, as the template needs them)."""
        return {}

    def option_defaults(self) -> dict[str, Any]:
        """The framing's own keys and their defaults."""
        return {name: info.default for name, info in self.Options.model_fields.items()}


class Op:
    """How a rule turns one token into response field values."""

    name: ClassVar[str]
    summary: ClassVar[str]
    accumulator: ClassVar[str]
    """The local that collects the target during the stream: text, list, dict or value."""
    target_type: ClassVar[str | None] = None
    """The JSON type the target field must have (None: any)."""
    reads_text: ClassVar[bool] = False
    """Whether the op applies to text tokens (``payload: text``)."""
    yields_text: ClassVar[bool] = False
    """Whether the op's text is what ``yields: text`` yields."""
    chunk_independent: ClassVar[bool] = False
    """Whether applying it to text however it was split gives one result (raw text has no
    token boundaries: each network chunk is a token)."""
    Options: ClassVar[type[Options]] = Options

    @property
    def template(self) -> str:
        """The template holding this op's ``apply`` macro."""
        return f"ops/{self.name}.py.jinja"

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
        raise NotImplementedError

    def build(self, rule: RuleSpec, context: RuleContext) -> Any:
        """The op's IR: ``context`` gives the reads of the token and the fields' accumulators."""
        raise NotImplementedError


@dataclass(frozen=True)
class ReadInto:
    """The IR of an op that reads one value into one field: what it reads, where it goes."""

    read: ReadIR
    target: AccumulatorIR


class FieldOp(Op):
    """An op that reads the value at ``path`` (or the token) into its ``field``."""

    def build(self, rule: RuleSpec, context: RuleContext) -> ReadInto:
        assert rule.field is not None  # SG404
        return ReadInto(read=context.read(rule.path), target=context.accumulator(rule.field))
