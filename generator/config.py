"""Project defaults from ``[tool.synapsegen]`` in the nearest ``pyproject.toml``.

Keys (paths are relative to the ``pyproject.toml`` that sets them)::

    [tool.synapsegen]
    schemas = ["schemas"]          # files or folders, used when the command line names none
    output = "src/myproject/synapses"
    runtime = "synapsegen"         # or "bittensor"
    templates = "synapsegen-templates"  # template overrides (docs/customizing.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

from .kinds.targets import TARGETS

# typing and dataclasses (which loads inspect) cost the cold ``--check`` ~25 ms; mypy reads this
# name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class ConfigError(Exception):
    """``[tool.synapsegen]`` is malformed; the message names the file and the key."""


class Config:
    """Defaults found in a pyproject.toml (empty when there is none)."""

    __slots__ = ("source", "schemas", "output", "runtime", "templates")

    def __init__(
        self,
        source: Path | None = None,
        schemas: tuple[Path, ...] = (),
        output: Path | None = None,
        runtime: str | None = None,
        templates: Path | None = None,
    ) -> None:
        self.source = source
        self.schemas = schemas
        self.output = output
        self.runtime = runtime
        self.templates = templates


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``."""
    for folder in (start.absolute(), *start.absolute().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> Config:
    """Read ``[tool.synapsegen]`` from the nearest pyproject.toml (no file: empty Config)."""
    path = find_pyproject(start)
    if path is None:
        return Config()
    table = _read_table(path)
    if table is None:
        return Config(source=path)
    schemas = _schemas(path, table)
    output = _optional_path(path, table, "output")
    runtime = _runtime(path, table)
    templates = _optional_path(path, table, "templates")
    base = path.parent
    return Config(
        source=path,
        schemas=tuple(base / item for item in schemas),
        output=base / output if output is not None else None,
        runtime=runtime,
        templates=base / templates if templates is not None else None,
    )


def _read_table(path: Path) -> dict[str, Any] | None:
    """The ``[tool.synapsegen]`` table of ``path`` (None when absent), with known keys only."""
    if sys.version_info >= (3, 11):
        import tomllib  # here, not at the top: most runs have no [tool.synapsegen] to read
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    tool = data.get("tool", {})
    if not isinstance(tool, dict):  # `tool = 1` is valid TOML, and not our problem to keep
        return None
    table = tool.get("synapsegen")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.synapsegen] must be a table")
    unknown = sorted(set(table) - {"schemas", "output", "runtime", "templates"})
    if unknown:
        raise ConfigError(f"{path}: [tool.synapsegen] has unknown keys: {', '.join(unknown)}")
    return table


def _schemas(path: Path, table: dict[str, Any]) -> list[str]:
    """``schemas``: a path or a list of paths (default: none)."""
    schemas = table.get("schemas", [])
    if isinstance(schemas, str):
        schemas = [schemas]
    if not isinstance(schemas, list) or not all(isinstance(item, str) for item in schemas):
        raise ConfigError(f"{path}: [tool.synapsegen] schemas must be a list of paths")
    if "" in schemas:  # joined to the project folder, "" would name the whole project
        raise ConfigError(f"{path}: [tool.synapsegen] schemas: an empty path names nothing")
    return schemas


def _optional_path(path: Path, table: dict[str, Any], key: str) -> str | None:
    """A key holding one path (``output``, ``templates``), or None when not set."""
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: [tool.synapsegen] {key} must be a path")
    if value == "":  # joined to the project folder, "" would name the project folder itself
        raise ConfigError(f"{path}: [tool.synapsegen] {key}: an empty path names nothing")
    return value


def _runtime(path: Path, table: dict[str, Any]) -> str | None:
    """``runtime``: a runtime target (``synapsegen.kinds.targets``), or None when not set."""
    runtime = table.get("runtime")
    if runtime is not None and runtime not in TARGETS:
        raise ConfigError(f"{path}: [tool.synapsegen] runtime must be one of {', '.join(TARGETS)}")
    return runtime
