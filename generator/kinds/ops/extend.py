"""``op: extend``: add the items of the list at ``path`` to a list field.

A value that is not a list is a stream error (MalformedFrame).
Template: ``templates/ops/extend.py.jinja``.
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
class ExtendIR:
    """Extend the target list with the list read."""

    read: ReadIR
    target: AccumulatorIR


class Extend(Op):
    """Extend a list field with a list of items."""

    name: ClassVar[str] = "extend"
    summary: ClassVar[str] = "add the items of a list value"
    accumulator: ClassVar[str] = "list"
    target_type: ClassVar[str | None] = "array"

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"extend {rule.field} with {source}"

    def build(self, rule: RuleSpec, context: RuleContext) -> ExtendIR:
        assert rule.field is not None
        return ExtendIR(read=context.read(rule.path), target=context.accumulator(rule.field))


EXTEND = Extend()
