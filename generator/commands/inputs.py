"""What a run works on: the schema files, the output folder, the runtime and the templates, from
the command line over ``[tool.synapsegen]`` over the defaults. A missing or unusable input is a
one-line :class:`~synapsegen.cli.UsageError` (or, for an output that is no folder, exit 3)."""

from __future__ import annotations

import os
from pathlib import Path

from ..cli import EXIT_OS_ERROR, CommandError, UsageError
from ..terminal import one_line

# typing and collections.abc cost the cold ``--check`` milliseconds; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from ..config import Config

SCHEMA_SUFFIXES = (".yaml", ".yml", ".json")


class Settings:
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


def resolve_settings(args: argparse.Namespace, cwd: Path) -> Settings:
    """Resolve the run's inputs; a missing or unusable one is a :class:`CommandError`."""
    config = project_config(cwd)
    sources: list[Path] = args.paths or list(config.schemas)
    paths = schema_files(sources)
    output: Path | None = args.output or config.output
    if output is None:
        raise UsageError(
            "synapsegen: error: no output folder (pass -o, or set [tool.synapsegen] output)"
        )
    if output.is_symlink() and not output.exists():  # mkdir would say it "already exists"
        raise CommandError(
            f"synapsegen: error: {one_line(str(output))}: a symbolic link to a missing folder "
            "(or a loop of links); make the folder it names, or name another output folder",
            EXIT_OS_ERROR,
        )
    if output.exists() and not output.is_dir():
        raise CommandError(
            f"synapsegen: error: {one_line(str(output))}: is a file, not a folder "
            "(the output is the folder the modules are written into)",
            EXIT_OS_ERROR,
        )
    runtime = args.runtime or config.runtime or "synapsegen"
    templates = templates_folder(args.templates or config.templates)
    root = project_root(output, cwd)
    return Settings(paths, output, runtime, templates, root, sources, config.source)


def project_config(cwd: Path) -> Config:
    """``[tool.synapsegen]`` of the project around ``cwd``; a malformed one is a UsageError."""
    from ..config import ConfigError, load_config

    try:
        return load_config(cwd)
    except ConfigError as exc:
        raise UsageError(f"synapsegen: error: {one_line(str(exc))}") from exc


def schema_files(sources: Sequence[Path]) -> list[Path]:
    """The schema files of ``sources`` (:func:`expand_paths`); none at all is a UsageError."""
    paths = expand_paths(sources)
    if not paths:
        raise UsageError(
            "synapsegen: error: no schema files (name them, or set [tool.synapsegen] schemas)"
        )
    return paths


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
    shown = one_line(str(path))
    if path.is_symlink():  # `no such file` for a name `ls` shows would puzzle
        return (
            f"synapsegen: error: {shown}: a symbolic link to a missing file or folder (or a loop "
            "of links)"
        )
    return f"synapsegen: error: {shown}: no such file or folder"


def _not_regular(path: Path) -> str:
    return (
        f"synapsegen: error: {one_line(str(path))}: not a regular file (a FIFO, socket or "
        "device); name schema files or folders"
    )


def templates_folder(templates: Path | None) -> Path | None:
    """``--templates`` (or the configured folder), which must be a folder if given."""
    if templates is not None and not templates.is_dir():
        problem = "not a folder" if templates.exists() else "no such folder"
        raise UsageError(
            f"synapsegen: error: templates folder {one_line(str(templates))}: {problem}"
        )
    return templates


def project_root(output: Path, cwd: Path) -> Path:
    """The folder the headers name schema files relative to.

    That is the output's project root (the folder of the nearest pyproject.toml above the output
    folder), not the cwd: the generated bytes, and so --check, must not depend on where
    synapsegen is run from. Without a pyproject.toml: the cwd.
    """
    from ..config import find_pyproject

    project = find_pyproject(output)
    return project.parent if project is not None else cwd
