"""``synapsegen explain``: what a diagnostic code means, why the rule exists, how to fix it.

    synapsegen explain SG203 [CODE]...   # the code, its title, why and how to fix, with an example
    synapsegen explain --list            # every code with its title

A code is read case-insensitively, with or without its ``SG`` (``sg203``, ``203``). Exit codes:
0 explained; 2 an unknown code or a bad command line (one line on stderr). The text comes from
:mod:`synapsegen.codes`; it is wrapped to the terminal (``COLUMNS``, at most 100 columns).

Imports only the standard library, the registry and synapsegen.terminal (the terminal's width):
no Jinja, PyYAML, pydantic or ruff.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Sequence

from .codes import CODES, CodeEntry
from .terminal import terminal_columns

EXIT_OK = 0
EXIT_USAGE = 2  # as the main command's bad input
MAX_WIDTH = 100  # wider prose is hard to read, whatever the terminal
MIN_WIDTH = 40
INDENT = "  "

USAGE = """\
usage: synapsegen explain CODE [CODE ...]
       synapsegen explain --list

Explain a diagnostic code (SG203, sg203 or 203): what it reports, why the rule exists and how
to fix it. --list prints every code with its title.
"""

_CODE = re.compile(r"(?:sg)?([0-9]{3})", re.IGNORECASE)
_KIND_LABELS = {"error": "error", "warning": "warning", "finding": "synapsegen diff finding"}


def explain_command(argv: Sequence[str]) -> int:
    """Run ``synapsegen explain`` with the arguments after ``explain``; return the exit code.

    Prints the explanations (or, with ``--list``, every code and its title) to stdout; an
    unknown code or a bad command line is one line on stderr and exit code 2.
    """
    arguments = list(argv)
    if any(argument in ("-h", "--help") for argument in arguments):
        print(USAGE, end="")
        return EXIT_OK
    if arguments == ["--list"]:
        print(list_codes(), end="")
        return EXIT_OK
    options = [argument for argument in arguments if argument.startswith("-")]
    if options:
        problem = "--list takes no codes" if "--list" in options else f"unknown option {options[0]}"
        return _usage_error(problem)
    if not arguments:
        return _usage_error("name a code (synapsegen explain SG203), or --list")
    entries: list[CodeEntry] = []
    for argument in arguments:
        entry = find_code(argument)
        if entry is None:
            first, last = min(CODES), max(CODES)
            shown = _normalized(argument)
            return _usage_error(
                f"unknown code {shown} (codes: {first}-{last}; see synapsegen explain --list)"
            )
        entries.append(entry)
    width = terminal_width()
    print("\n\n".join(format_entry(entry, width) for entry in entries))
    return EXIT_OK


def find_code(text: str) -> CodeEntry | None:
    """The registry entry for ``text`` (``SG203``, ``sg203``, ``203``), or None."""
    return CODES.get(_normalized(text))


def _normalized(text: str) -> str:
    """``sg203`` and ``203`` as ``SG203``; anything else as given (but shown printable)."""
    match = _CODE.fullmatch(text.strip())
    if match:
        return f"SG{match.group(1)}"
    return repr(text) if not text.isprintable() or not text else text


def _usage_error(problem: str) -> int:
    print(f"synapsegen: error: {problem}", file=sys.stderr)
    return EXIT_USAGE


def terminal_width() -> int:
    """The width to wrap to: ``COLUMNS`` or the terminal's, within 40 to 100 columns."""
    return max(MIN_WIDTH, min(terminal_columns(), MAX_WIDTH))


def list_codes() -> str:
    """Every code with its title, one per line (warnings and diff findings say so)."""
    lines: list[str] = []
    for entry in CODES.values():
        kind = "" if entry.kind == "error" else f" ({_KIND_LABELS[entry.kind]})"
        lines.append(f"{entry.code}  {entry.title}{kind}\n")
    return "".join(lines)


def format_entry(entry: CodeEntry, width: int = 80) -> str:
    """One code explained as plain text wrapped to ``width`` columns (examples as written)."""
    out = _paragraphs(f"{entry.code}: {entry.title} ({_KIND_LABELS[entry.kind]})", width, "")
    out += [""] + _paragraphs(entry.meaning, width, "")
    for heading, text in (("Why", entry.why), ("Fix", entry.fix)):
        out += ["", f"{heading}:"]
        out += _paragraphs(text, width, INDENT)
    if entry.example is not None:
        for heading, schema in (("Wrong", entry.example.wrong), ("Right", entry.example.right)):
            out += ["", f"{heading}:"]
            out += [f"{INDENT}{line}".rstrip() for line in schema.splitlines()]
    return "\n".join(out)


def _paragraphs(text: str, width: int, indent: str) -> list[str]:
    """``text``'s paragraphs wrapped to ``width``, each line indented, a blank line between."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n\n")):
        if number:
            lines.append("")
        lines += textwrap.wrap(
            paragraph,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines
