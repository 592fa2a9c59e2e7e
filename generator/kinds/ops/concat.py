"""``op: concat``: add the text at ``path`` (or the text token) to a string field.

The target collects parts, joined once at the end (and into blocks now and then), so a long
stream costs about twice its text. With ``yields: text`` each part is also yielded.
Template: ``templates/ops/concat.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..base import Op

if TYPE_CHECKING:
    from ...codegen.build import RuleContext
    from ...codegen.ir import AccumulatorIR, ReadIR
    from ...language.spec import JsonSchema, RuleSpec


@dataclass(frozen=True)
class ConcatIR:
    """Append the value read to the target's text parts; yield it when the synapse yields text."""

    read: ReadIR
    target: AccumulatorIR
    yields: bool


class Concat(Op):
    """Concatenate text into a string field."""

    name: ClassVar[str] = "concat"
    summary: ClassVar[str] = "add text to a string field"
    accumulator: ClassVar[str] = "text"
    target_type: ClassVar[str | None] = "string"
    reads_text: ClassVar[bool] = True
    yields_text: ClassVar[bool] = True
    chunk_independent: ClassVar[bool] = True

    def target_problem(self, target: str, schema: JsonSchema) -> str | None:
        if schema.enum is not None or "const" in schema.model_fields_set:
            # Concatenated text is no longer one of the listed values.
            return (
                f"rule 'concat' needs a free string field; {target!r} only allows fixed "
                "values (enum/const): use 'replace'"
            )
        return None

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"concat {source} onto {rule.field}"

    def build(self, rule: RuleSpec, context: RuleContext) -> ConcatIR:
        assert rule.field is not None
        return ConcatIR(
            read=context.read(rule.path),
            target=context.accumulator(rule.field),
            yields=context.yields_text,
        )


CONCAT = Concat()
