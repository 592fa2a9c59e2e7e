"""What the command line writes to a terminal: one-line text, the terminal's width, and standard
output and error that escape what their encoding cannot write.

Imports only ``os`` and ``sys`` (loaded at start-up already): every run of the command, the cold
``--check`` too, goes through here.
"""

from __future__ import annotations

import os
import sys

DEFAULT_COLUMNS = 80  # when standard output is no terminal and COLUMNS is not set


def one_line(text: str) -> str:
    """``text`` with line breaks and control characters escaped, so an error stays one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def terminal_columns() -> int:
    """The terminal's width: ``COLUMNS`` if set to a positive number, else the terminal's own,
    else 80. (shutil.get_terminal_size says the same, but importing shutil, with bz2 and lzma,
    costs a cold ``--check`` ~4 ms.)"""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size().columns
    except OSError:  # not a terminal
        return DEFAULT_COLUMNS


def escape_what_the_output_cannot_encode() -> None:
    """Make standard output and error write a character their encoding lacks as a backslash
    escape: on an ASCII terminal (``PYTHONIOENCODING=ascii``, ``LANG=C`` on an old Python) an
    ``é`` of ``synapsegen explain SG002`` was an internal error."""
    import io  # loaded at start-up already

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")
