"""``op: append``: add the value at ``path`` (or the token) to a list field, as one item.

Template: ``templates/ops/append.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..base import Op

if TYPE_CHECKING:
    from ...codegen.build import RuleContext
    from ...codegen.ir import AccumulatorIR, ReadIR
    from ...language.spec import RuleSpec


@dataclass(frozen=True)
class AppendIR:
    """Append the value read to the target list."""

    read: ReadIR
    target: AccumulatorIR


class Append(Op):
    """Append one item to a list field."""

    name: ClassVar[str] = "append"
    summary: ClassVar[str] = "add the value to a list field"
    accumulator: ClassVar[str] = "list"
    target_type: ClassVar[str | None] = "array"
    reads_text: ClassVar[bool] = True

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"append {source} to {rule.field}"

    def build(self, rule: RuleSpec, context: RuleContext) -> AppendIR:
        assert rule.field is not None
        return AppendIR(read=context.read(rule.path), target=context.accumulator(rule.field))


APPEND = Append()
