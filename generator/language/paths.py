"""Rule paths: ``choices[0].delta.content`` -> ``["choices", 0, "delta", "content"]``.

A path is keys separated by dots, each optionally followed by list indices in brackets. A key is
any non-empty text without ``.``, ``[`` or ``]``. The front end rejects a path that does not parse
(SG412); the back end only meets parsed ones.
"""

from __future__ import annotations

import re

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> tuple[str | int, ...] | None:
    """The steps of ``path``, or None when it is not a valid path."""
    parts: list[str | int] = []
    position = 0
    for match in _PART.finditer(path):
        between = path[position : match.start()]
        key, index = match.groups()
        # A key follows the start or a dot; an index follows the start, a key or an index.
        if key is not None and between != ("" if position == 0 else "."):
            return None
        if index is not None and between != "":
            return None
        parts.append(int(index) if index is not None else key)
        position = match.end()
    if position != len(path) or not parts:
        return None
    return tuple(parts)
