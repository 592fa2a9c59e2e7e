"""``synapsegen openapi``: the OpenAPI 3.1 document of the synapses the schema files generate,
from the runtime's ``openapi_document`` (schema errors are reported as the main command reports
them)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..cli import EXIT_OK, UsageError, report_diagnostics
from ..terminal import one_line
from .arguments import HelpFormatter, Parser, add_schema_paths, exit_codes_epilog, path_argument
from .generate import run_pipeline
from .inputs import Settings, project_config, project_root, schema_files, templates_folder

# mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence


def openapi_command(argv: Sequence[str]) -> int:
    """``synapsegen openapi``: write the document to ``-o FILE`` or standard output."""
    args = _openapi_parser().parse_args(argv)
    cwd = Path.cwd()
    config = project_config(cwd)
    paths = schema_files(args.paths or list(config.schemas))
    output: Path | None = args.output
    if output is not None and output.is_dir():
        raise UsageError(
            f"synapsegen: error: {one_line(str(output))}: is a folder; -o names the file to write"
        )
    templates = templates_folder(args.templates or config.templates)
    # The classes as the main command generates them (on synapsegen.runtime, whatever the
    # configured runtime: bittensor's classes describe the same HTTP routes); diagnostics name
    # the files relative to the project of the output, as there.
    folder = output.parent if output is not None else cwd
    result = run_pipeline(
        Settings(paths, folder, "synapsegen", templates, project_root(folder, cwd))
    )
    if result.diagnostics:
        return report_diagnostics(result.diagnostics)
    for warning in result.warnings:
        print(warning, file=sys.stderr)

    from ..openapi_export import openapi_text

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
        print(f"wrote {one_line(str(output))}")
    return EXIT_OK


def _openapi_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="synapsegen openapi",
        formatter_class=HelpFormatter,
        description="Write the OpenAPI 3.1 document of the synapses the schema files generate,\n"
        "as served over the HTTP wire (btauth/1, Epistula v2).",
        epilog=exit_codes_epilog(),
    )
    add_schema_paths(parser)
    parser.add_argument(
        "-o", "--output", type=path_argument, metavar="FILE",
        help="write here (default: standard output)",
    )  # fmt: skip
    parser.add_argument(
        "--templates", type=path_argument, metavar="DIR",
        help="template overrides, as for the main command (default: [tool.synapsegen] templates)",
    )  # fmt: skip
    parser.add_argument("--title", default="Bittensor synapses", help="info.title")
    parser.add_argument("--version", default="1.0.0", metavar="V", help="info.version")
    return parser
