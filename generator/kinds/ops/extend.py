"""``op: extend``: add the items of the list at ``path`` to a list field.

A value that is not a list is a stream error (MalformedFrame).
Template: ``templates/ops/extend.py.jinja``.
"""

from __future__ import annotations

from ..base import GroupOptions, Op


class Extend(Op, name="extend", accumulator="list", Options=GroupOptions):
    """Extend a list field with a list of items."""

    summary = "add the items of a list value"
    description = "extend {field} with {source}"


EXTEND = Extend()
