"""``op: replace``: overwrite a field with the value at ``path`` (or the token).

Onto a field other rules accumulate (text, list, dict), the value must have that shape, or the
stream fails with MalformedFrame (a later append would otherwise crash).
Template: ``templates/ops/replace.py.jinja`` (its ``assign`` macro serves ``set`` too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..base import FieldOp

if TYPE_CHECKING:
    from ...language.spec import RuleSpec


class Replace(FieldOp):
    """Overwrite a field."""

    name: ClassVar[str] = "replace"
    summary: ClassVar[str] = "overwrite the field"
    accumulator: ClassVar[str] = "value"
    reads_text: ClassVar[bool] = True

    def describe(self, rule: RuleSpec, source: str) -> str:
        return f"replace {rule.field} with {source}"


REPLACE = Replace()
