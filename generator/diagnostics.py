"""Diagnostics: one located, coded error message about a schema file.

Every problem the front end finds (unreadable file, syntax, structure, semantics) becomes a
:class:`Diagnostic`; nothing in ``load``/``validate`` raises for bad input. The codes are listed in
:mod:`synapsegen.codes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

NodePath = tuple[str | int, ...]
"""Where a node sits in the document: mapping keys and sequence indices from the root."""


class Position(NamedTuple):
    """A 1-based line and column (columns count characters, not bytes)."""

    line: int
    col: int


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One error, printed as ``path:line:col: CODE message`` (1-based line and column)."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def __str__(self) -> str:
        line = f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"
        return line if line.isprintable() else "".join(map(_visible, line))


def _visible(char: str) -> str:
    """A character as the terminal should see it: escaped if it is not printable.

    A file name or schema key with a line break, a bidi override or a control character would
    otherwise split the one-line diagnostic or rewrite the terminal.
    """
    return char if char.isprintable() else repr(char)[1:-1]


def format_node_path(node_path: NodePath) -> str:
    """Render a node path for people: ``synapses.Chat.rules[0].op``; the root is ``(top level)``."""
    text = ""
    for part in node_path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text or "(top level)"
