"""The ``synapsegen`` command.

    synapsegen [SCHEMA|DIR]... -o OUT [--check] [--runtime {synapsegen,bittensor}]
               [--templates DIR] [--exit-code]
    synapsegen schema          # print the schema language's JSON Schema (for editors)
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
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_OK = 0
EXIT_CHANGED = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 70
SCHEMA_SUFFIXES = (".yaml", ".yml", ".json")


class UsageError(Exception):
    """Bad command line or configuration; the message is printed as is."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synapsegen",
        description="Generate Bittensor streaming synapse modules from schema files.",
        epilog="`synapsegen schema` prints the schema language's JSON Schema.",
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
    parser.add_argument("--runtime", choices=("synapsegen", "bittensor"), default=None)
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
    """Folders become their schema files (sorted); files stay; nothing missing passes silently."""
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
    return result


def _print_schema() -> int:
    from .schema_export import language_json_schema_text

    sys.stdout.write(language_json_schema_text())
    return EXIT_OK


def _run(argv: Sequence[str]) -> int:
    if list(argv[:1]) == ["schema"]:
        if len(argv) > 1:
            raise UsageError("synapsegen: error: `synapsegen schema` takes no arguments")
        return _print_schema()
    args = _parser().parse_args(argv)
    from .config import ConfigError, load_config

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
    output: Path | None = args.output or config.output
    if output is None:
        raise UsageError(
            "synapsegen: error: no output folder (pass -o, or set [tool.synapsegen] output)"
        )
    runtime = args.runtime or config.runtime or "synapsegen"
    templates: Path | None = args.templates or config.templates
    if templates is not None and not templates.is_dir():
        raise UsageError(f"synapsegen: error: templates folder {templates}: no such folder")

    if args.check:
        from .layout import up_to_date

        if up_to_date(paths, output, {"runtime": runtime}, cwd, templates):
            return EXIT_OK

    from .layout import display_path
    from .pipeline import Options, generate
    from .render import TemplateOverrideError

    try:
        result = generate(paths, Options(runtime=runtime, templates=templates), cwd)
    except TemplateOverrideError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc
    if result.diagnostics:
        for diagnostic in result.diagnostics:
            print(diagnostic, file=sys.stderr)
        count = len(result.diagnostics)
        print(f"synapsegen: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_INPUT

    from . import output as output_folder

    shown = display_path(output, cwd)
    if args.check:
        report = output_folder.check(output, result.files, shown)
        sys.stdout.writelines(report)
        if report:
            print(
                f"synapsegen: {shown} is out of date; run synapsegen to update it", file=sys.stderr
            )
            return EXIT_CHANGED
        return EXIT_OK

    changes = output_folder.write(output, result.files)
    for name in changes.written:
        print(f"wrote {shown}/{name}")
    for name in changes.removed:
        print(f"removed {shown}/{name}")
    if changes and (args.exit_code or os.environ.get("PRE_COMMIT") == "1"):
        return EXIT_CHANGED
    return EXIT_OK


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
