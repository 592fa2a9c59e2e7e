"""The ``synapsegen`` command.

    synapsegen [generate] [SCHEMA|DIR]... -o OUT [--check] [--runtime {synapsegen,bittensor}]
               [--templates DIR] [--exit-code] [--force] [--watch] [-q | -v]
    synapsegen check [SCHEMA|DIR]... -o OUT    # the same as --check
    synapsegen schema          # print the schema language's JSON Schema (for editors)
    synapsegen openapi [SCHEMA|DIR]... [-o FILE] [--templates DIR] [--title T] [--version V]
    synapsegen diff OLD NEW | --against REV [SCHEMA|DIR]...   # breaking changes (synapsegen.diff)
    synapsegen explain CODE    # what an error code means, why the rule exists, how to fix it
    synapsegen --version

The short form (no command word) generates. A first word that names a command is the command,
also when a file or folder of that name is here (``synapsegen diff --against HEAD`` beside a
folder ``diff``), except ``schema`` followed by more words: that command takes none, so
``synapsegen schema -o out`` beside a folder ``schema`` meant the short form; it stops and asks for
``synapsegen generate schema ...`` or ``./schema``. Alone, ``synapsegen schema`` is the command.

Exit codes (:data:`EXIT_CODES`; ``synapsegen --help`` and the README list the same):

    0   done; with --check: nothing is stale
    1   --check found stale, missing or extra files; or files were written or removed and
        --exit-code is given or PRE_COMMIT=1 is set
    2   bad input: command line, [tool.synapsegen], schema errors, a missing input or one that
        is not a regular file or folder
    3   a file or folder could not be read or written: the output is a file, permission denied,
        read-only file system, file name too long, disk full (the message names the path)
    4   out of memory
    5   a file in the output folder that synapsegen did not generate would be overwritten
        (--force overwrites it)
    6   the generator's dependencies are not installed (pip install 'synapsegen[generator]')
    70  internal error: a bug in synapsegen
    130 interrupted (Ctrl-C); --watch exits 0 on Ctrl-C

A failure of exit code 2 to 6 is one line, ``synapsegen: error: <path>: <what is wrong>``;
schema errors are one line each (``file:line:col: SGnnn message``) and a count. An OSError, a
MemoryError or a missing dependency never reaches the internal-error path. A reader of standard
output that goes away (``| head``) ends the run quietly, exit 3.

This module reads the command word, runs its command and turns an operational failure into its
one line and exit code. The commands are modules of their own: ``synapsegen.commands``
(generate and check, ``--watch``, ``openapi``, ``schema``), ``synapsegen.diff.command`` and
``synapsegen.explain``.

Imports are lazy: ``--check`` of an unchanged folder reads the schemas' bytes and the generated
files' headers, and never imports Jinja, ruff, PyYAML or watchfiles.
"""

from __future__ import annotations

import os
import sys

from .terminal import escape_what_the_output_cannot_encode, one_line

# typing, collections.abc and dataclasses (which loads inspect) cost the cold ``--check`` ~30 ms,
# a third of its budget; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .diagnostics import Diagnostic

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_INPUT = 2
EXIT_OS_ERROR = 3
EXIT_OUT_OF_MEMORY = 4
EXIT_NOT_GENERATED = 5
EXIT_MISSING_DEPENDENCY = 6
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
COMMANDS = ("generate", "check", "schema", "openapi", "diff", "explain")

# (code, meaning) for --help's epilog, wrapped by hand (textwrap would cost every run its
# import); the module docstring and the README say the same.
EXIT_CODES = (
    (EXIT_OK, "done; with --check: nothing is stale"),
    (EXIT_CHANGED, "--check found stale, missing or extra files; or files were written or\n"
                   "removed and --exit-code is given or PRE_COMMIT=1 is set"),
    (EXIT_INPUT, "bad input: command line, [tool.synapsegen], schema errors, a missing input\n"
                 "or one that is not a regular file or folder"),
    (EXIT_OS_ERROR, "a file or folder could not be read or written: the output is a file,\n"
                    "permission denied, read-only, file name too long, disk full"),
    (EXIT_OUT_OF_MEMORY, "out of memory"),
    (EXIT_NOT_GENERATED, "a file in the output folder that synapsegen did not generate would be\n"
                         "overwritten (--force overwrites it)"),
    (EXIT_MISSING_DEPENDENCY, "the generator's dependencies are not installed\n"
                              "(pip install 'synapsegen[generator]')"),
    (EXIT_INTERNAL, "internal error: a bug in synapsegen"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); --watch exits 0 on Ctrl-C"),
)  # fmt: skip

# Modules the generator imports that a plain `pip install synapsegen` (the runtime) lacks, by
# the name pip knows them by; the generator extra installs them.
_PACKAGE_OF_MODULE = {"yaml": "pyyaml"}


class CommandError(Exception):
    """An operational failure: the message (one line) is printed as is, the run exits ``code``."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CommandError):
    """Bad command line, configuration or input; the message is printed as is (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_INPUT)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (bad input never shows a traceback)."""
    try:
        escape_what_the_output_cannot_encode()
        code = _run(sys.argv[1:] if argv is None else argv)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then handled below
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of standard output went away (`synapsegen explain --list | head`): that is
        # the reader's choice, not an error to report. Point stdout at /dev/null so that the
        # interpreter's flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OS_ERROR
    except Exception as exc:
        found = failure(exc)
        if found is not None:
            print(found[0], file=sys.stderr)
            return found[1]
        # A bug: say so plainly, with what to report.
        print(
            f"synapsegen: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in synapsegen, not in your schema. Please report it with the schema "
            "files and this message (run with SYNAPSEGEN_TRACEBACK=1 for the traceback).",
            file=sys.stderr,
        )
        if os.environ.get("SYNAPSEGEN_TRACEBACK") == "1":
            raise
        return EXIT_INTERNAL


def _run(argv: Sequence[str]) -> int:
    """One command: ``schema``, ``openapi``, ``diff``, ``explain``, or generate (write or
    ``--check``) an output folder. Each command's module is imported when it runs."""
    command, rest = _command(argv)
    if command == "schema":
        from .commands.schema import schema_command

        return schema_command(rest)
    if command == "openapi":
        from .commands.openapi import openapi_command

        return openapi_command(rest)
    if command == "diff":
        from .diff.command import diff_command

        return diff_command(rest)
    if command == "explain":
        from .explain import explain_command

        return explain_command(rest)
    from .commands.generate import generate_command

    return generate_command(command, rest)


def _command(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The command word and the arguments after it; None for the short form (generate)."""
    if not argv or argv[0] not in COMMANDS:
        return None, list(argv)
    word = argv[0]
    # `schema` takes no arguments: with more words beside a path of that name, the short form
    # (`synapsegen schema -o out`) was meant. The other commands take arguments, and their word
    # is theirs (`synapsegen diff --against HEAD` beside a folder `diff`).
    if word == "schema" and len(argv) > 1 and os.path.lexists(word):
        raise UsageError(
            f"synapsegen: error: `{word}` is both a command (it takes no arguments) and a file "
            f"or folder here; to generate from it write `synapsegen generate {word} ...` or "
            f"`./{word}`"
        )
    return word, list(argv[1:])


def failure(exc: Exception) -> tuple[str, int] | None:
    """The one-line message and exit code of an operational failure; None for a bug."""
    if isinstance(exc, CommandError):
        return str(exc), exc.code
    if isinstance(exc, MemoryError):
        return "synapsegen: error: out of memory", EXIT_OUT_OF_MEMORY
    if isinstance(exc, OSError):
        return f"synapsegen: error: {_os_error_text(exc)}", EXIT_OS_ERROR
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.partition(".")[0]
        if top != "synapsegen":  # our own module missing is a broken install or a bug
            package = _PACKAGE_OF_MODULE.get(top, top)
            return (
                f"synapsegen: error: the generator needs {package}, which is not installed: "
                "pip install 'synapsegen[generator]'",
                EXIT_MISSING_DEPENDENCY,
            )
    return None


def _os_error_text(exc: OSError) -> str:
    """``path: what went wrong`` in plain words, for an OSError."""
    import errno

    plain = {
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.ENAMETOOLONG: "file name too long",
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.ENOTDIR: "a part of this path is a file, not a folder",
        errno.EISDIR: "is a folder, not a file",
        errno.ENOENT: "no such file or folder",
        errno.EEXIST: "already exists",
    }.get(exc.errno or 0) or (exc.strerror or str(exc) or type(exc).__name__)
    plain = plain[:1].lower() + plain[1:]
    name = exc.filename if exc.filename is not None else exc.filename2
    if name is None:
        return one_line(plain)
    shown = os.fsdecode(name) if isinstance(name, bytes) else str(name)
    return one_line(f"{shown}: {plain}")


def report_diagnostics(diagnostics: Sequence[Diagnostic]) -> int:
    """Print the schema errors and their count to stderr; bad input's exit code."""
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
    count = len(diagnostics)
    print(f"synapsegen: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
    return EXIT_INPUT
