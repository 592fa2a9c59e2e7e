"""``op: replace``: overwrite a field with the value at ``path`` (or the token).

Onto a field other rules accumulate (text, list, dict), the value must have that shape, or the
stream fails with MalformedFrame (a later append would otherwise crash).
Template: ``templates/ops/replace.py.jinja`` (its ``assign`` macro serves ``set`` too).
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
class ReplaceIR:
    """Make the value read the target's whole value."""

    read: ReadIR
    target: AccumulatorIR


class Replace(Op):
    """Overwrite a field."""

    name: ClassVar[str] = "replace"
    summary: ClassVar[str] = "overwrite the field"
    accumulator: ClassVar[str] = "value"
    reads_text: ClassVar[bool] = True

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"replace {rule.field} with {source}"

    def build(self, rule: RuleSpec, context: RuleContext) -> ReplaceIR:
        assert rule.field is not None
        return ReplaceIR(read=context.read(rule.path), target=context.accumulator(rule.field))


REPLACE = Replace()
