"""``op: replace``: overwrite a field with the value at ``path`` (or the token).

Onto a field other rules accumulate (text, list, dict), the value must have that shape, or the
stream fails with MalformedFrame (a later append would otherwise crash).
Template: ``templates/ops/replace.py.jinja`` (its ``assign`` macro serves ``set`` too).
"""

from __future__ import annotations

from ..base import Op


class Replace(Op, name="replace", accumulator="value", reads_text=True):
    """Overwrite a field."""

    summary = "overwrite the field"
    description = "replace {field} with {source}"


REPLACE = Replace()
