"""``op: append``: add the value at ``path`` (or the token) to a list field, as one item.

Template: ``templates/ops/append.py.jinja``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..base import FieldOp

if TYPE_CHECKING:
    from ...language.spec import RuleSpec


class Append(FieldOp):
    """Append one item to a list field."""

    name: ClassVar[str] = "append"
    summary: ClassVar[str] = "add the value to a list field"
    accumulator: ClassVar[str] = "list"
    target_type: ClassVar[str | None] = "array"
    reads_text: ClassVar[bool] = True

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"append {source} to {rule.field}"


APPEND = Append()
