"""The ``synapsegen`` command.

    synapsegen [SCHEMA|DIR]... -o OUT [--check] [--runtime {synapsegen,bittensor}]
               [--templates DIR] [--exit-code]
    synapsegen schema          # print the schema language's JSON Schema (for editors)
    synapsegen openapi [SCHEMA|DIR]... [-o FILE] [--templates DIR] [--title T] [--version V]
    synapsegen diff OLD NEW | --against REV [SCHEMA|DIR]...   # breaking changes (synapsegen.diff)
    synapsegen --version

Exit codes: 0 success (check: up to date); 1 check found differences, or write mode changed files
and ``--exit-code`` is given or ``PRE_COMMIT=1`` is set; 2 bad input (schema errors, usage);
70 internal error (a bug in synapsegen).

Imports are lazy: ``--check`` of an unchanged folder reads the schemas' bytes and the generated
files' headers, and never imports Jinja, ruff, PyYAML or the nested-model generator.
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
    from collections.abc import Sequence

    from .diagnostics import Diagnostic
    from .pipeline import Generated

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 70
SCHEMA_SUFFIXES = (".yaml", ".yml", ".json")


class UsageError(Exception):
    """Bad command line or configuration; the message is printed as is."""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without shutil.

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synapsegen",
        formatter_class=_HelpFormatter,
        description="Generate Bittensor streaming synapse modules from schema files.",
        epilog="`synapsegen schema` prints the schema language's JSON Schema; "
        "`synapsegen openapi SCHEMA... -o openapi.json` writes the synapses' OpenAPI document.",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="SCHEMA|DIR",
        help="schema files, or folders whose *.yaml/*.yml/*.json files are used "
        "(default: [tool.synapsegen] schemas)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", type=Path, help="output folder (default: [tool.synapsegen] output)"
    )
    parser.add_argument(
        "--check", action="store_true",
        help="write nothing; report stale, missing and extra files and exit 1 if there are any",
    )  # fmt: skip
    parser.add_argument("--runtime", choices=tuple(TARGETS), default=None)
    parser.add_argument(
        "--templates", type=Path, metavar="DIR",
        help="folder of Jinja templates that replace the shipped ones of the same name "
        "(default: [tool.synapsegen] templates; see docs/customizing.md)",
    )  # fmt: skip
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when files were written or removed"
    )
    parser.add_argument("--version", action="version", version=f"synapsegen {__version__}")
    return parser


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Folders become their schema files (sorted); files stay; nothing missing passes silently.

    A file named twice (``schemas schemas/chat.yaml``) is kept once, where it first appears.
    """
    result: list[Path] = []
    for path in paths:
        if path.is_dir():
            result.extend(
                sorted(p for p in path.iterdir() if p.suffix in SCHEMA_SUFFIXES and p.is_file())
            )
        elif path.exists():
            result.append(path)
        else:
            raise UsageError(f"synapsegen: error: {path}: no such file or folder")
    seen: set[str] = set()
    unique = []
    for path in result:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _print_schema() -> int:
    from .language.schema_export import language_json_schema_text

    sys.stdout.write(language_json_schema_text())
    return EXIT_OK


class _Settings:
    """What one run works on: the command line over ``[tool.synapsegen]`` over the defaults."""

    __slots__ = ("paths", "output", "runtime", "templates", "root")

    def __init__(
        self, paths: list[Path], output: Path, runtime: str, templates: Path | None, root: Path
    ) -> None:
        self.paths = paths
        self.output = output
        self.runtime = runtime
        self.templates = templates
        self.root = root  # the folder the headers name schema files relative to


def _schema_command(extra: Sequence[str]) -> int:
    """``synapsegen schema``: print the language's JSON Schema (it takes no arguments)."""
    if extra:
        raise UsageError("synapsegen: error: `synapsegen schema` takes no arguments")
    return _print_schema()


def _openapi_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synapsegen openapi",
        formatter_class=_HelpFormatter,
        description="Write the OpenAPI 3.1 document of the synapses the schema files generate, "
        "as served over the HTTP wire (btauth/1, Epistula v2).",
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="SCHEMA|DIR",
        help="schema files, or folders whose *.yaml/*.yml/*.json files are used "
        "(default: [tool.synapsegen] schemas)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: standard output)"
    )
    parser.add_argument(
        "--templates", type=Path, metavar="DIR",
        help="template overrides, as for the main command (default: [tool.synapsegen] templates)",
    )  # fmt: skip
    parser.add_argument("--title", default="Bittensor synapses", help="info.title")
    parser.add_argument("--version", default="1.0.0", metavar="V", help="info.version")
    return parser


def _openapi_command(argv: Sequence[str]) -> int:
    """``synapsegen openapi``: the OpenAPI document of the generated classes, from the runtime's
    ``openapi_document`` (schema errors are reported as the main command reports them)."""
    from .config import ConfigError, load_config

    args = _openapi_parser().parse_args(argv)
    cwd = Path.cwd()
    try:
        config = load_config(cwd)
    except ConfigError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc
    paths = expand_paths(args.paths or list(config.schemas))
    if not paths:
        raise UsageError(
            "synapsegen: error: no schema files (name them, or set [tool.synapsegen] schemas)"
        )
    output: Path | None = args.output
    if output is not None and output.is_dir():
        raise UsageError(f"synapsegen: error: {output} is a folder; -o names the file to write")
    templates: Path | None = args.templates or config.templates
    if templates is not None and not templates.is_dir():
        raise UsageError(f"synapsegen: error: templates folder {templates}: no such folder")
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
        output.write_bytes(data)
        print(f"wrote {output}")
    return EXIT_OK


def _settings(args: argparse.Namespace, cwd: Path) -> _Settings:
    """Resolve the run's inputs; a missing or unusable one is a :class:`UsageError`."""
    from .config import ConfigError, load_config

    try:
        config = load_config(cwd)
    except ConfigError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc
    paths = expand_paths(args.paths or list(config.schemas))
    if not paths:
        raise UsageError(
            "synapsegen: error: no schema files (name them, or set [tool.synapsegen] schemas)"
        )
    output: Path | None = args.output or config.output
    if output is None:
        raise UsageError(
            "synapsegen: error: no output folder (pass -o, or set [tool.synapsegen] output)"
        )
    runtime = args.runtime or config.runtime or "synapsegen"
    templates: Path | None = args.templates or config.templates
    if templates is not None and not templates.is_dir():
        raise UsageError(f"synapsegen: error: templates folder {templates}: no such folder")
    return _Settings(paths, output, runtime, templates, _project_root(output, cwd))


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


def _check_folder(output: Path, files: dict[str, str], shown: str) -> int:
    """``--check``: list the stale, missing and extra files; exit 1 if there are any."""
    from .output import write as output_folder

    report = output_folder.check(output, files, shown)
    sys.stdout.writelines(report)
    if report:
        print(f"synapsegen: {shown} is out of date; run synapsegen to update it", file=sys.stderr)
        return EXIT_CHANGED
    return EXIT_OK


def _write_folder(output: Path, files: dict[str, str], shown: str, exit_code: bool) -> int:
    """Write the files, list what changed; exit 1 on changes with ``--exit-code`` or pre-commit."""
    from .output import write as output_folder

    changes = output_folder.write(output, files)
    for name in changes.written:
        print(f"wrote {shown}/{name}")
    for name in changes.removed:
        print(f"removed {shown}/{name}")
    if changes and (exit_code or os.environ.get("PRE_COMMIT") == "1"):
        return EXIT_CHANGED
    return EXIT_OK


def _run(argv: Sequence[str]) -> int:
    """One command: ``schema``, ``openapi``, or generate (write or ``--check``) an output
    folder."""
    if list(argv[:1]) == ["schema"]:
        return _schema_command(argv[1:])
    if list(argv[:1]) == ["openapi"]:
        return _openapi_command(argv[1:])
    if list(argv[:1]) == ["diff"]:
        from .diff.command import diff_command

        return diff_command(argv[1:])
    args = _parser().parse_args(argv)
    cwd = Path.cwd()
    settings = _settings(args, cwd)
    if args.check and _up_to_date(settings):
        return EXIT_OK

    result = _generate(settings)
    if result.diagnostics:
        return _report_diagnostics(result.diagnostics)
    for warning in result.warnings:
        print(warning, file=sys.stderr)

    from .output.layout import display_path

    shown = display_path(settings.output, cwd)
    if args.check:
        return _check_folder(settings.output, result.files, shown)
    return _write_folder(settings.output, result.files, shown, args.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (bad input never shows a traceback)."""
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so plainly, with what to report
        print(
            f"synapsegen: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in synapsegen, not in your schema. Please report it with the schema "
            "files and this message (run with SYNAPSEGEN_TRACEBACK=1 for the traceback).",
            file=sys.stderr,
        )
        if os.environ.get("SYNAPSEGEN_TRACEBACK") == "1":
            raise
        return EXIT_INTERNAL
