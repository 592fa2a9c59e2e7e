"""``op: append``: add the value at ``path`` (or the token) to a list field, as one item.

Template: ``templates/ops/append.py.jinja``.
"""

from __future__ import annotations

from ..base import GroupOptions, Op


class Append(Op, name="append", accumulator="list", Options=GroupOptions, reads_text=True):
    """Append one item to a list field."""

    summary = "add the value to a list field"
    description = "append {source} to {field}"


APPEND = Append()
