"""``synapsegen diff``: the command line.

    synapsegen diff OLD NEW [-v] [--format {text,json}]
    synapsegen diff --against REV [SCHEMA|DIR]... [-v] [--format {text,json}]

OLD and NEW are schema files or folders. ``--against REV`` compares the schema paths (given, or
``[tool.synapsegen] schemas``) in the working tree with the same paths at git revision REV.

Text output: one line per finding, ``file:line:col: SGnnn category: message``, breaking ones
only unless ``-v``; a count on stderr. JSON output: every finding. Exit codes: 0 no breaking
change, 1 breaking changes, 2 bad input (schema errors, as the main command prints them; usage;
an unreadable path or revision).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..cli import EXIT_CHANGED, EXIT_OK, UsageError, report_diagnostics


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synapsegen diff",
        description="Classify the changes between two versions of the schemas by what they do "
        "to miners and validators that still run the other version (exit 1 on a breaking one).",
        epilog="Categories: compatible, breaks-old-miners, breaks-old-validators, breaks-both, "
        "signature, stream. Codes: SG6xx (docs/protocol-changes.md).",
    )
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="OLD and NEW (schema files or folders); with --against, the schema files or "
        "folders to compare (default: [tool.synapsegen] schemas)",
    )
    parser.add_argument(
        "--against",
        metavar="REV",
        help="compare the working tree's schemas with the same paths at this git revision",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print the compatible changes"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def diff_command(argv: Sequence[str]) -> int:
    """Run ``synapsegen diff``; returns the exit code (usage errors raise UsageError)."""
    from .protocol import compare
    from .sources import SourceError, from_paths, from_revision, load

    args = _parser().parse_args(argv)
    cwd = Path.cwd()
    try:
        if args.against is not None:
            old_files, new_files = from_revision(args.against, _schema_paths(args.paths, cwd), cwd)
        elif len(args.paths) == 2:
            old_files, new_files = (
                from_paths([args.paths[0]], cwd),
                from_paths([args.paths[1]], cwd),
            )
        else:
            raise UsageError(
                "synapsegen: error: `synapsegen diff` takes OLD and NEW, or --against REV"
            )
    except SourceError as exc:
        raise UsageError(str(exc)) from exc
    old, old_problems = load(old_files, cwd)
    new, new_problems = load(new_files, cwd)
    if old_problems or new_problems:
        return report_diagnostics([*old_problems, *new_problems])  # as the main command

    findings = compare(old, new)
    breaking = [finding for finding in findings if finding.breaking]
    if args.format == "json":
        text = json.dumps([finding.as_json() for finding in findings], indent=2, ensure_ascii=False)
        sys.stdout.write(text + "\n")
    else:
        shown = findings if args.verbose else breaking
        sys.stdout.writelines(f"{finding}\n" for finding in shown)
        _summary(len(breaking), len(findings) - len(breaking), args.verbose)
    return EXIT_CHANGED if breaking else EXIT_OK


def _schema_paths(paths: list[Path], cwd: Path) -> list[Path]:
    """The paths ``--against`` compares: the given ones, or the configured ones."""
    if paths:
        return paths
    from ..config import ConfigError, load_config

    try:
        config = load_config(cwd)
    except ConfigError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc
    if not config.schemas:
        raise UsageError(
            "synapsegen: error: no schema files (name them, or set [tool.synapsegen] schemas)"
        )
    return list(config.schemas)


def _summary(breaking: int, compatible: int, verbose: bool) -> None:
    if not breaking and not compatible:
        return
    parts = []
    if breaking:
        parts.append(f"{breaking} breaking change{'s' if breaking != 1 else ''}")
    if compatible:
        hidden = "" if verbose else " (-v shows them)"
        parts.append(f"{compatible} compatible change{'s' if compatible != 1 else ''}{hidden}")
    print(f"synapsegen: {', '.join(parts)}", file=sys.stderr)
