"""``op: concat``: add the text at ``path`` (or the text token) to a string field.

The target collects parts, joined once at the end (and into blocks now and then), so a long
stream costs about twice its text. With ``yields: text`` each part is also yielded.
Template: ``templates/ops/concat.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..base import GroupOptions, Op, ReadInto

if TYPE_CHECKING:
    from ...codegen.build import RuleContext
    from ...codegen.ir import ReadIR
    from ...language.spec import JsonSchema, RuleSpec


@dataclass(frozen=True)
class ConcatIR(ReadInto):
    """Append the value read to the target's text parts; yield it when the synapse yields text."""

    yields: bool


class Concat(
    Op,
    name="concat",
    accumulator="text",
    Options=GroupOptions,
    IR=ConcatIR,
    reads_text=True,
    yields_text=True,
    chunk_independent=True,
):
    """Concatenate text into a string field."""

    summary = "add text to a string field"
    description = "concat {source} onto {field}"

    def target_problem(self, target: str, schema: JsonSchema) -> str | None:
        if schema.enum is not None or "const" in schema.model_fields_set:
            # Concatenated text is no longer one of the listed values.
            return (
                f"rule 'concat' needs a free string field; {target!r} only allows fixed "
                "values (enum/const): use 'replace'"
            )
        return None

    def own_ir(self, rule: RuleSpec, context: RuleContext, read: ReadIR) -> dict[str, Any]:
        return {"yields": context.yields_text}


CONCAT = Concat()
