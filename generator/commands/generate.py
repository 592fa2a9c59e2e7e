"""``synapsegen [generate]`` and ``synapsegen check``: write the output folder, or check it.

``--check`` of an unchanged folder answers from the headers alone (:func:`up_to_date`); anything
else runs the pipeline, then writes the files or compares them with the folder. ``--watch`` is
:mod:`.watch`'s.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import __version__
from ..cli import (
    EXIT_CHANGED,
    EXIT_NOT_GENERATED,
    EXIT_OK,
    EXIT_OUT_OF_MEMORY,
    CommandError,
    UsageError,
    report_diagnostics,
)
from ..kinds.targets import TARGETS
from ..terminal import one_line
from .arguments import HelpFormatter, Parser, add_schema_paths, exit_codes_epilog, path_argument
from .inputs import Settings, resolve_settings

# typing and collections.abc cost the cold ``--check`` milliseconds; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..pipeline import Generated

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


def generate_command(command: str | None, argv: Sequence[str]) -> int:
    """``synapsegen [generate|check] ...``: write or check the output folder, or watch.

    ``command`` is the word given (``generate``, ``check``), None for the short form.
    """
    args = generate_parser(command).parse_args(argv)
    cwd = Path.cwd()
    # Options that would be ignored are refused, so that nobody relies on them.
    if args.check and args.force:
        raise UsageError("synapsegen: error: --force overwrites; it cannot go with --check")
    if args.watch:
        if args.check:
            raise UsageError("synapsegen: error: --watch writes; it cannot go with --check")
        if args.exit_code:
            raise UsageError(
                "synapsegen: error: --watch runs until Ctrl-C; it cannot go with --exit-code"
            )
        from .watch import watch  # here: only --watch needs it (and watchfiles)

        return watch(args, cwd)
    return generate_once(resolve_settings(args, cwd), args, cwd)


def generate_parser(command: str | None) -> argparse.ArgumentParser:
    """The parser of ``synapsegen [generate|check]``: ``command`` is the word given, if any."""
    parser = Parser(
        prog="synapsegen" if command is None else f"synapsegen {command}",
        formatter_class=HelpFormatter,
        usage=_SHORT_FORM_USAGE if command is None else None,
        description=_description(command),
        epilog=exit_codes_epilog(),
    )
    _add_input_options(parser)
    if command != "check":
        _add_writing_options(parser)
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


def _description(command: str | None) -> str:
    if command is None:
        return (
            "Generate Bittensor streaming synapse modules from schema files.\n\n" + _COMMANDS_HELP
        )
    if command == "check":
        return (
            "Check that the output folder holds what the schemas generate; write nothing.\n"
            "Stale, missing and extra files are listed (a diff for each stale one), exit 1."
        )
    return "Generate Bittensor streaming synapse modules from schema files."


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    """The schemas, the output folder, --check, and what the modules are generated with."""
    add_schema_paths(parser)
    parser.add_argument(
        "-o", "--output", type=path_argument, metavar="OUT",
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
        "--templates", type=path_argument, metavar="DIR",
        help="folder of Jinja templates that replace the shipped ones of the same name "
        "(default: [tool.synapsegen] templates; see docs/customizing.md)",
    )  # fmt: skip


def _add_writing_options(parser: argparse.ArgumentParser) -> None:
    """The options of writing (not of ``synapsegen check``): --exit-code, --force, --watch."""
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


def generate_once(settings: Settings, args: argparse.Namespace, cwd: Path) -> int:
    """One generation (write or ``--check``) of the output folder; its exit code."""
    import time

    started = time.perf_counter()
    verbosity = _verbosity(args)
    from ..output.layout import display_path

    # Printable: the listing and the report stay one line per file, and a name that is no UTF-8
    # (os.fsencode's surrogates) does not fail a strict-UTF-8 standard output.
    shown = one_line(display_path(settings.output, cwd))
    try:
        if args.check and up_to_date(settings):
            if verbosity > 0:
                print(f"{shown} is up to date (headers checked, nothing rendered)")
            code = EXIT_OK
        else:
            result = run_pipeline(settings)
            if result.diagnostics:
                return report_diagnostics(result.diagnostics)
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


def _verbosity(args: argparse.Namespace) -> int:
    """-1 with ``-q`` (errors only), 1 with ``-v`` (unchanged files, timing), else 0."""
    return -1 if args.quiet else 1 if args.verbose else 0


def up_to_date(settings: Settings) -> bool:
    """The fast ``--check``: whether the headers show the output folder is current.

    Reads bytes and headers only, so an unchanged folder never imports the heavy stages.
    """
    from ..output.layout import up_to_date

    runtime = {"runtime": settings.runtime}
    return up_to_date(settings.paths, settings.output, runtime, settings.root, settings.templates)


def run_pipeline(settings: Settings) -> Generated:
    """Run the pipeline; a broken template override is a :class:`UsageError`."""
    from ..codegen.render import TemplateOverrideError
    from ..pipeline import Options, generate

    try:
        options = Options(runtime=settings.runtime, templates=settings.templates)
        return generate(settings.paths, options, settings.root)
    except TemplateOverrideError as exc:
        raise UsageError(f"synapsegen: error: {exc}") from exc


def _check_folder(output: Path, files: dict[str, str], shown: str, verbosity: int) -> int:
    """``--check``: list the stale, missing and extra files; exit 1 if there are any."""
    from ..output import write as output_folder

    report = output_folder.check(output, files, shown)
    if verbosity >= 0:
        sys.stdout.writelines(report)
    if report:
        # A plain run would stop at a file synapsegen did not write (exit 5): say so here.
        foreign = output_folder.not_generated(output, sorted(files))
        how = (
            f"run synapsegen to update it (--force to overwrite {shown}/{one_line(foreign[0])}, "
            "which synapsegen did not generate)"
            if foreign
            else "run synapsegen to update it"
        )
        print(f"synapsegen: {shown} is out of date; {how}", file=sys.stderr)
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
    from ..output import write as output_folder

    try:
        changes = output_folder.write(output, files, force=args.force)
    except output_folder.NotGeneratedError as exc:
        first, *others = (f"{shown}/{one_line(name)}" for name in exc.names)
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
