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

Imports are lazy: ``--check`` of an unchanged folder reads the schemas' bytes and the generated
files' headers, and never imports Jinja, ruff, PyYAML or watchfiles.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .kinds.targets import TARGETS

# typing, collections.abc and dataclasses (which loads inspect) cost the cold ``--check`` ~30 ms,
# a third of its budget; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

    from .config import Config
    from .diagnostics import Diagnostic
    from .pipeline import Generated

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_INPUT = 2
EXIT_OS_ERROR = 3
EXIT_OUT_OF_MEMORY = 4
EXIT_NOT_GENERATED = 5
EXIT_MISSING_DEPENDENCY = 6
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
SCHEMA_SUFFIXES = (".yaml", ".yml", ".json")
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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, sized without shutil; descriptions and epilogs keep their lines.

    argparse builds a formatter for every ``add_argument``, and the stock one imports shutil
    (with bz2 and lzma) for the terminal width: ~4 ms of a cold ``--check``.
    """

    def __init__(self, prog: str) -> None:
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            width = int(columns)
        else:
            try:
                width = os.get_terminal_size().columns
            except OSError:  # not a terminal
                width = 80
        super().__init__(prog, width=width - 2)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``synapsegen: error: ...`` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"synapsegen: error: {message} (see `{self.prog} --help`)")


def _printable(text: str) -> str:
    """``text`` with line breaks and control characters escaped, so an error stays one line."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _path_argument(text: str) -> Path:
    """A path on the command line; an empty one is refused (``Path("")`` means ``.``)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path names nothing (write . for this folder)")
    return Path(text)


def _exit_codes_epilog() -> str:
    lines = [f"  {code:<4}{meaning}".replace("\n", "\n      ") for code, meaning in EXIT_CODES]
    return "exit codes:\n" + "\n".join(lines)


_SHORT_FORM_USAGE = """\
%(prog)s [generate|check] [SCHEMA|DIR]... [-o OUT] [OPTION]...   (options below)
       %(prog)s schema | openapi ... | diff ... | explain CODE | --version"""

_COMMANDS_HELP = """\
commands (`synapsegen COMMAND --help` for each):
  synapsegen [generate] [SCHEMA|DIR]... -o OUT   write the modules (the default command)
  synapsegen check [SCHEMA|DIR]... -o OUT        the same as --check: write nothing, exit 1
                                                 if anything is stale
  synapsegen schema                              print the schema language's JSON Schema
  synapsegen openapi [SCHEMA|DIR]... [-o FILE]   the synapses' OpenAPI 3.1 document
  synapsegen diff OLD NEW | --against REV        breaking protocol changes (exit 1 on one)
  synapsegen explain CODE                        what an error code (SG203) means and how to
                                                 fix it

A command word is the command, also beside a file or folder of that name; to generate from a
folder named like one, write `synapsegen generate schema ...` or `./schema`."""


def _generate_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of ``synapsegen [generate|check]``: ``command`` is the word given, if any."""
    prog = "synapsegen" if command is None else f"synapsegen {command}"
    if command is None:
        description = (
            "Generate Bittensor streaming synapse modules from schema files.\n\n" + _COMMANDS_HELP
        )
    elif command == "check":
        description = (
            "Check that the output folder holds what the schemas generate; write nothing.\n"
            "Stale, missing and extra files are listed (a diff for each stale one), exit 1."
        )
    else:
        description = "Generate Bittensor streaming synapse modules from schema files."
    parser = _Parser(
        prog=prog,
        formatter_class=_HelpFormatter,
        usage=_SHORT_FORM_USAGE if command is None else None,
        description=description,
        epilog=_exit_codes_epilog(),
    )
    parser.add_argument(
        "paths", nargs="*", type=_path_argument, metavar="SCHEMA|DIR",
        help="schema files, or folders whose *.yaml/*.yml/*.json files are used "
        "(default: [tool.synapsegen] schemas)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", type=_path_argument, metavar="OUT",
        help="output folder (default: [tool.synapsegen] output)",
    )  # fmt: skip
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; report stale, missing and extra files and exit 1 if there are "
        "any (the same as `synapsegen check`)",
    )  # fmt: skip
    parser.add_argument(
        "--runtime", choices=tuple(TARGETS), default=None,
        help="what the generated classes build on: synapsegen (synapsegen.runtime; no "
        "bittensor needed) or bittensor (bittensor 10.x's own StreamingSynapse) "
        "(default: [tool.synapsegen] runtime, else synapsegen)",
    )  # fmt: skip
    parser.add_argument(
        "--templates", type=_path_argument, metavar="DIR",
        help="folder of Jinja templates that replace the shipped ones of the same name "
        "(default: [tool.synapsegen] templates; see docs/customizing.md)",
    )  # fmt: skip
    if command != "check":
        parser.add_argument(
            "--exit-code", action="store_true", help="exit 1 when files were written or removed"
        )
        parser.add_argument(
            "--force", action="store_true",
            help="overwrite files in the output folder that lack synapsegen's header (without "
            "it such a file stops the run, exit 5, before anything is written)",
        )  # fmt: skip
        parser.add_argument(
            "--watch", action="store_true",
            help="after generating, generate again whenever a schema file (or a template of "
            "--templates, or pyproject.toml) changes, until Ctrl-C; bad edits are reported "
            "and watching goes on",
        )  # fmt: skip
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    loudness.add_argument(
        "-v", "--verbose", action="store_true",
        help="also list the files left unchanged, and how long the run took",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"synapsegen {__version__}")
    # `synapsegen check` has no writing options; its --check is on (and may be given again).
    parser.set_defaults(exit_code=False, force=False, watch=False)
    if command == "check":
        parser.set_defaults(check=True)
    return parser


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Folders become their schema files (sorted); files stay; nothing missing passes silently.

    A file named twice (``schemas schemas/chat.yaml``) is kept once, where it first appears. A
    named input, or a schema-named entry of a folder, that is neither a regular file nor a folder
    (a FIFO, a socket, a device) is refused: reading one could wait forever.
    """
    result: list[Path] = []
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.iterdir()):
                if entry.suffix not in SCHEMA_SUFFIXES:
                    continue
                if entry.is_file():
                    result.append(entry)
                elif entry.exists() and not entry.is_dir():
                    raise UsageError(_not_regular(entry))
        elif path.is_file():
            result.append(path)
        elif path.exists():
            raise UsageError(_not_regular(path))
        else:
            raise UsageError(_missing(path))
    seen: set[str] = set()
    unique = []
    for path in result:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _missing(path: Path) -> str:
    """The error for a named input that does not exist (a link to nothing says so)."""
    shown = _printable(str(path))
    if path.is_symlink():  # `no such file` for a name `ls` shows would puzzle
        return (
            f"synapsegen: error: {shown}: a symbolic link to a missing file or folder (or a loop "
            "of links)"
        )
    return f"synapsegen: error: {shown}: no such file or folder"


def _not_regular(path: Path) -> str:
    return (
        f"synapsegen: error: {_printable(str(path))}: not a regular file (a FIFO, socket or "
        "device); name schema files or folders"
    )


def _print_schema() -> int:
    from .language.schema_export import language_json_schema_text

    sys.stdout.write(language_json_schema_text())
    return EXIT_OK


class _Settings:
    """What one run works on: the command line over ``[tool.synapsegen]`` over the defaults."""

    __slots__ = ("sources", "paths", "output", "runtime", "templates", "root", "config_file")

    def __init__(
        self,
        paths: list[Path],
        output: Path,
        runtime: str,
        templates: Path | None,
        root: Path,
        sources: list[Path] | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.sources = sources if sources is not None else paths  # as named: files or folders
        self.paths = paths  # the schema files
        self.output = output
        self.runtime = runtime
        self.templates = templates
        self.root = root  # the folder the headers name schema files relative to
        self.config_file = config_file  # the pyproject.toml that gave defaults, if any


def _schema_command(extra: Sequence[str]) -> int:
    """``synapsegen schema``: print the language's JSON Schema (it takes no arguments)."""
    if extra:
        raise UsageError("synapsegen: error: `synapsegen schema` takes no arguments")
    return _print_schema()


def _openapi_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="synapsegen openapi",
        formatter_class=_HelpFormatter,
        description="Write the OpenAPI 3.1 document of the synapses the schema files generate,\n"
        "as served over the HTTP wire (btauth/1, Epistula v2).",
        epilog=_exit_codes_epilog(),
    )
    parser.add_argument(
        "paths", nargs="*", type=_path_argument, metavar="SCHEMA|DIR",
        help="schema files, or folders whose *.yaml/*.yml/*.json files are used "
        "(default: [tool.synapsegen] schemas)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", type=_path_argument, metavar="FILE",
        help="write here (default: standard output)",
    )  # fmt: skip
    parser.add_argument(
        "--templates", type=_path_argument, metavar="DIR",
        help="template overrides, as for the main command (default: [tool.synapsegen] templates)",
    )  # fmt: skip
    parser.add_argument("--title", default="Bittensor synapses", help="info.title")
    parser.add_argument("--version", default="1.0.0", metavar="V", help="info.version")
    return parser


def _project_config(cwd: Path) -> Config:
    """``[tool.synapsegen]`` of the project around ``cwd``; a malformed one is a UsageError."""
    from .config import ConfigError, load_config

    try:
        return load_config(cwd)
    except ConfigError as exc:
        raise UsageError(f"synapsegen: error: {_printable(str(exc))}") from exc


def _schema_files(sources: Sequence[Path]) -> list[Path]:
    """The schema files of ``sources`` (:func:`expand_paths`); none at all is a UsageError."""
    paths = expand_paths(sources)
    if not paths:
        raise UsageError(
            "synapsegen: error: no schema files (name them, or set [tool.synapsegen] schemas)"
        )
    return paths


def _templates_folder(templates: Path | None) -> Path | None:
    """``--templates`` (or the configured folder), which must be a folder if given."""
    if templates is not None and not templates.is_dir():
        problem = "not a folder" if templates.exists() else "no such folder"
        raise UsageError(
            f"synapsegen: error: templates folder {_printable(str(templates))}: {problem}"
        )
    return templates


def _openapi_command(argv: Sequence[str]) -> int:
    """``synapsegen openapi``: the OpenAPI document of the generated classes, from the runtime's
    ``openapi_document`` (schema errors are reported as the main command reports them)."""
    args = _openapi_parser().parse_args(argv)
    cwd = Path.cwd()
    config = _project_config(cwd)
    paths = _schema_files(args.paths or list(config.schemas))
    output: Path | None = args.output
    if output is not None and output.is_dir():
        raise UsageError(
            f"synapsegen: error: {_printable(str(output))}: is a folder; -o names the file to write"
        )
    templates = _templates_folder(args.templates or config.templates)
    # The classes as the main command generates them (on synapsegen.runtime, whatever the
    # configured runtime: bittensor's classes describe the same HTTP routes); diagnostics name
    # the files relative to the project of the output, as there.
    folder = output.parent if output is not None else cwd
    result = _generate(
        _Settings(paths, folder, "synapsegen", templates, _project_root(folder, cwd))
    )
    if result.diagnostics:
        return _report_diagnostics(result.diagnostics)
    for warning in result.warnings:
        print(warning, file=sys.stderr)

    from .openapi_export import openapi_text

    text = openapi_text(result.files, title=args.title, version=args.version)
    if output is None:
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
        return EXIT_OK
    data = text.encode()
    if not output.is_file() or output.read_bytes() != data:
        try:
            output.write_bytes(data)
        except OSError as exc:  # a failed write() or close() names no file
            raise OSError(exc.errno, exc.strerror, str(output)) from exc
        print(f"wrote {_printable(str(output))}")
    return EXIT_OK


def _settings(args: argparse.Namespace, cwd: Path) -> _Settings:
    """Resolve the run's inputs; a missing or unusable one is a :class:`CommandError`."""
    config = _project_config(cwd)
    sources: list[Path] = args.paths or list(config.schemas)
    paths = _schema_files(sources)
    output: Path | None = args.output or config.output
    if output is None:
        raise UsageError(
            "synapsegen: error: no output folder (pass -o, or set [tool.synapsegen] output)"
        )
    if output.is_symlink() and not output.exists():  # mkdir would say it "already exists"
        raise CommandError(
            f"synapsegen: error: {_printable(str(output))}: a symbolic link to a missing folder "
            "(or a loop of links); make the folder it names, or name another output folder",
            EXIT_OS_ERROR,
        )
    if output.exists() and not output.is_dir():
        raise CommandError(
            f"synapsegen: error: {_printable(str(output))}: is a file, not a folder "
            "(the output is the folder the modules are written into)",
            EXIT_OS_ERROR,
        )
    runtime = args.runtime or config.runtime or "synapsegen"
    templates = _templates_folder(args.templates or config.templates)
    root = _project_root(output, cwd)
    return _Settings(paths, output, runtime, templates, root, sources, config.source)


def _project_root(output: Path, cwd: Path) -> Path:
    """The folder the headers name schema files relative to.

    That is the output's project root (the folder of the nearest pyproject.toml above the output
    folder), not the cwd: the generated bytes, and so --check, must not depend on where
    synapsegen is run from. Without a pyproject.toml: the cwd.
    """
    from .config import find_pyproject

    project = find_pyproject(output)
    return project.parent if project is not None else cwd


def _up_to_date(settings: _Settings) -> bool:
    """The fast ``--check``: whether the headers show the output folder is current.

    Reads bytes and headers only, so an unchanged folder never imports the heavy stages.
    """
    from .output.layout import up_to_date

    runtime = {"runtime": settings.runtime}
    return up_to_date(settings.paths, settings.output, runtime, settings.root, settings.templates)


def _generate(settings: _Settings) -> Generated:
    """Run the pipeline; a broken template override is a :class:`UsageError`."""
    from .codegen.render import TemplateOverrideError
    from .pipeline import Options, generate

    try:
        options = Options(runtime=settings.runtime, templates=settings.templates)
        return generate(settings.paths, options, settings.root)
    except TemplateOverrideError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc


def _report_diagnostics(diagnostics: Sequence[Diagnostic]) -> int:
    """Print the schema errors and their count to stderr; bad input's exit code."""
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
    count = len(diagnostics)
    print(f"synapsegen: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
    return EXIT_INPUT


def _check_folder(output: Path, files: dict[str, str], shown: str, verbosity: int) -> int:
    """``--check``: list the stale, missing and extra files; exit 1 if there are any."""
    from .output import write as output_folder

    report = output_folder.check(output, files, shown)
    if verbosity >= 0:
        sys.stdout.writelines(report)
    if report:
        print(f"synapsegen: {shown} is out of date; run synapsegen to update it", file=sys.stderr)
        return EXIT_CHANGED
    if verbosity > 0:
        print(f"{shown} is up to date ({len(files)} files rendered and compared)")
    return EXIT_OK


def _write_folder(
    output: Path, files: dict[str, str], shown: str, args: argparse.Namespace, verbosity: int
) -> int:
    """Write the files, list what changed; exit 1 on changes with ``--exit-code`` or pre-commit.

    A file to be replaced that synapsegen did not write stops the run before anything is
    written (exit 5), unless ``--force``.
    """
    from .output import write as output_folder

    try:
        changes = output_folder.write(output, files, force=args.force)
    except output_folder.NotGeneratedError as exc:
        first, *others = (f"{shown}/{_printable(name)}" for name in exc.names)
        also = f" (also {', '.join(others)})" if others else ""
        raise CommandError(
            f"synapsegen: error: {first}: not generated by synapsegen (no '# Generated by "
            f"synapsegen' header), so it is not overwritten; move it away, or pass --force to "
            f"overwrite it{also}",
            EXIT_NOT_GENERATED,
        ) from None
    if verbosity >= 0:
        for name in changes.written:
            print(f"wrote {shown}/{name}")
        for name in changes.removed:
            print(f"removed {shown}/{name}")
    if verbosity > 0:
        for name in changes.unchanged:
            print(f"unchanged {shown}/{name}")
    if changes and (args.exit_code or os.environ.get("PRE_COMMIT") == "1"):
        return EXIT_CHANGED
    return EXIT_OK


def _verbosity(args: argparse.Namespace) -> int:
    """-1 with ``-q`` (errors only), 1 with ``-v`` (unchanged files, timing), else 0."""
    return -1 if args.quiet else 1 if args.verbose else 0


def _generate_once(settings: _Settings, args: argparse.Namespace, cwd: Path) -> int:
    """One generation (write or ``--check``) of the output folder; its exit code."""
    import time

    started = time.perf_counter()
    verbosity = _verbosity(args)
    from .output.layout import display_path

    # Printable: the listing and the report stay one line per file, and a name that is no UTF-8
    # (os.fsencode's surrogates) does not fail a strict-UTF-8 standard output.
    shown = _printable(display_path(settings.output, cwd))
    try:
        if args.check and _up_to_date(settings):
            if verbosity > 0:
                print(f"{shown} is up to date (headers checked, nothing rendered)")
            code = EXIT_OK
        else:
            result = _generate(settings)
            if result.diagnostics:
                return _report_diagnostics(result.diagnostics)
            if verbosity >= 0:
                for warning in result.warnings:
                    print(warning, file=sys.stderr)
            if args.check:
                code = _check_folder(settings.output, result.files, shown, verbosity)
            else:
                code = _write_folder(settings.output, result.files, shown, args, verbosity)
    except MemoryError:
        raise CommandError(
            f"synapsegen: error: {shown}: out of memory while generating it from "
            f"{len(settings.paths)} schema file(s)",
            EXIT_OUT_OF_MEMORY,
        ) from None
    if verbosity > 0:
        count = len(settings.paths)
        elapsed = time.perf_counter() - started
        print(f"synapsegen: {count} schema file{'s' if count != 1 else ''} in {elapsed:.2f} s")
    return code


def _generate_command(command: str | None, argv: Sequence[str]) -> int:
    """``synapsegen [generate|check] ...``: write or check the output folder, or watch."""
    args = _generate_parser(command).parse_args(argv)
    cwd = Path.cwd()
    if args.watch:
        if args.check:
            raise UsageError("synapsegen: error: --watch writes; it cannot go with --check")
        return _watch(args, cwd)
    return _generate_once(_settings(args, cwd), args, cwd)


def _watched(settings: _Settings) -> tuple[list[str], set[str], set[str], set[str]]:
    """What ``--watch`` watches: (folders, files accepted by name, folders whose schema files
    are accepted, folders whose every file is accepted), all absolute."""
    folders: set[str] = set()
    files: set[str] = set()
    schema_folders: set[str] = set()
    template_folders: set[str] = set()
    for source in settings.sources:
        path = os.path.abspath(source)
        if os.path.isdir(path):
            folders.add(path)
            schema_folders.add(path)
        else:
            folders.add(os.path.dirname(path))
            files.add(path)
    if settings.config_file is not None:
        path = os.path.abspath(settings.config_file)
        folders.add(os.path.dirname(path))
        files.add(path)
    if settings.templates is not None:
        # Overrides may sit in subfolders; each is watched (the watch is not recursive, so an
        # output folder below a watched one costs nothing). The folder itself is watched even
        # when it is gone (os.walk gives nothing then): its parent sees it made again.
        templates = os.path.abspath(settings.templates)
        folders.add(templates)
        template_folders.add(templates)
        for folder, subfolders, _names in os.walk(templates):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            folders.add(folder)
            template_folders.add(folder)
    return sorted(folders), files, schema_folders, template_folders


def _watch_roots(folders: Sequence[str]) -> list[str]:
    """The folders to hand the watcher: each watched folder that exists, and the nearest
    existing folder above it, which sees it removed and made again.

    A watch is on the folder as it was: once it is removed (``rm -rf schemas``, a checkout of
    another branch), no change inside the new one reaches it.
    """
    roots: set[str] = set()
    for folder in folders:
        if os.path.isdir(folder):
            roots.add(folder)
        parent = os.path.dirname(folder)
        while not os.path.isdir(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
        roots.add(parent)
    return sorted(roots)


def _watch_filter(
    watched: tuple[list[str], set[str], set[str], set[str]],
) -> Callable[[object, str], bool]:
    """Whether a changed path is an input of :func:`_watched`'s answer ``watched``."""
    folders, files, schema_folders, template_folders = watched

    def relevant(_change: object, path: str) -> bool:
        path = os.path.abspath(path)
        parent, name = os.path.split(path)
        if path in files or path in folders:  # a watched folder itself: made or removed
            return True
        if parent in schema_folders and name.endswith(SCHEMA_SUFFIXES):
            return True
        return parent in template_folders and not name.startswith(".")

    return relevant


def _watch(args: argparse.Namespace, cwd: Path) -> int:
    """``--watch``: generate, then again after each change to the inputs, until Ctrl-C (exit 0).

    Bad input, schema errors and operational failures during the watch are printed and the
    watch goes on; only the first resolution of the inputs can stop it (nothing to watch). When
    a watched folder is removed or made, the watch starts again on the folders there are then,
    and generates once more when it has started (a change in between would be missed).
    """
    import watchfiles  # here: only --watch needs it

    def report(exc: Exception) -> None:
        """Print an operational failure (the watch goes on); a bug raises."""
        failure = _failure(exc)
        if failure is None:
            raise exc
        print(failure[0], file=sys.stderr, flush=True)

    def generate(settings: _Settings | None) -> _Settings | None:
        """Generate once (with the inputs resolved again if None); the inputs, if resolved."""
        try:
            settings = settings or _settings(args, cwd)
            _generate_once(settings, args, cwd)
        except Exception as exc:
            report(exc)
        sys.stdout.flush()
        sys.stderr.flush()
        return settings

    settings = _settings(args, cwd)
    generate(settings)
    if not args.quiet:
        shown = ", ".join(_printable(str(source)) for source in settings.sources)
        print(f"synapsegen: watching {shown} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    watched = _watched(settings)
    restarted = False
    try:
        while True:
            roots = _watch_roots(watched[0])
            # yield_on_timeout: an empty batch when 5 s pass without a change, the first of
            # which, after a restart, says the watcher runs: generate once more then.
            for changes in watchfiles.watch(
                *roots, watch_filter=_watch_filter(watched), recursive=False, raise_interrupt=True,
                yield_on_timeout=True,
            ):  # fmt: skip
                if not changes and not restarted:
                    continue
                restarted = False
                # The inputs again: a folder may have gained or lost a schema.
                settings = generate(None) or settings
                now = _watched(settings)
                if now != watched or _watch_roots(now[0]) != roots:
                    watched = now
                    restarted = True
                    break
    except KeyboardInterrupt:
        pass
    return EXIT_OK


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


def _run(argv: Sequence[str]) -> int:
    """One command: ``schema``, ``openapi``, ``diff``, ``explain``, or generate (write or
    ``--check``) an output folder."""
    command, rest = _command(argv)
    if command == "schema":
        return _schema_command(rest)
    if command == "openapi":
        return _openapi_command(rest)
    if command == "diff":
        from .diff.command import diff_command

        return diff_command(rest)
    if command == "explain":
        from .explain import explain_command

        return explain_command(rest)
    return _generate_command(command, rest)


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
        return _printable(plain)
    shown = os.fsdecode(name) if isinstance(name, bytes) else str(name)
    return _printable(f"{shown}: {plain}")


def _failure(exc: Exception) -> tuple[str, int] | None:
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


def _escape_what_the_output_cannot_encode() -> None:
    """Make standard output and error write a character their encoding lacks as a backslash
    escape: on an ASCII terminal (``PYTHONIOENCODING=ascii``, ``LANG=C`` on an old Python) an
    ``é`` of ``synapsegen explain SG002`` was an internal error."""
    import io  # loaded at start-up already

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (bad input never shows a traceback)."""
    try:
        _escape_what_the_output_cannot_encode()
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
        failure = _failure(exc)
        if failure is not None:
            print(failure[0], file=sys.stderr)
            return failure[1]
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
