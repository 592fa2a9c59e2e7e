"""``op: extend``: add the items of the list at ``path`` to a list field.

A value that is not a list is a stream error (MalformedFrame).
Template: ``templates/ops/extend.py.jinja``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..base import FieldOp

if TYPE_CHECKING:
    from ...language.spec import RuleSpec


class Extend(FieldOp):
    """Extend a list field with a list of items."""

    name: ClassVar[str] = "extend"
    summary: ClassVar[str] = "add the items of a list value"
    accumulator: ClassVar[str] = "list"
    target_type: ClassVar[str | None] = "array"

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"extend {rule.field} with {source}"


EXTEND = Extend()
