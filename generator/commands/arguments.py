"""What the commands' argument parsers share: one-line errors, help sized to the terminal with
its lines kept, the exit codes as help's epilog, and path arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import EXIT_CODES, UsageError
from ..terminal import terminal_columns

# typing costs the cold ``--check`` milliseconds; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized without shutil; descriptions and epilogs keep their lines.

    argparse builds a formatter for every ``add_argument``, and the stock one imports shutil
    (with bz2 and lzma) for the terminal width: ~4 ms of a cold ``--check``.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_columns() - 2)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``synapsegen: error: ...`` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"synapsegen: error: {message} (see `{self.prog} --help`)")


def path_argument(text: str) -> Path:
    """A path on the command line; an empty one is refused (``Path("")`` means ``.``)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names nothing (write . for this folder)")
    return Path(text)


def add_schema_paths(parser: argparse.ArgumentParser) -> None:
    """The schema files and folders a command reads (``generate``, ``check``, ``openapi``)."""
    parser.add_argument(
        "paths", nargs="*", type=path_argument, metavar="SCHEMA|DIR",
        help="schema files, or folders whose *.yaml/*.yml/*.json files are used "
        "(default: [tool.synapsegen] schemas)",
    )  # fmt: skip


def exit_codes_epilog() -> str:
    """``exit codes:`` and :data:`synapsegen.cli.EXIT_CODES`, for help's epilog."""
    lines = [f"  {code:<4}{meaning}".replace("\n", "\n      ") for code, meaning in EXIT_CODES]
    return "exit codes:\n" + "\n".join(lines)
