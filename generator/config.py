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
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

RUNTIMES = ("synapsegen", "bittensor")


class ConfigError(Exception):
    """``[tool.synapsegen]`` is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Config:
    """Defaults found in a pyproject.toml (empty when there is none)."""

    source: Path | None = None
    schemas: tuple[Path, ...] = ()
    output: Path | None = None
    runtime: str | None = None
    templates: Path | None = None


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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    table = data.get("tool", {}).get("synapsegen")
    if table is None:
        return Config(source=path)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.synapsegen] must be a table")
    unknown = sorted(set(table) - {"schemas", "output", "runtime", "templates"})
    if unknown:
        raise ConfigError(f"{path}: [tool.synapsegen] has unknown keys: {', '.join(unknown)}")
    base = path.parent
    schemas = table.get("schemas", [])
    if isinstance(schemas, str):
        schemas = [schemas]
    if not isinstance(schemas, list) or not all(isinstance(item, str) for item in schemas):
        raise ConfigError(f"{path}: [tool.synapsegen] schemas must be a list of paths")
    output = table.get("output")
    if output is not None and not isinstance(output, str):
        raise ConfigError(f"{path}: [tool.synapsegen] output must be a path")
    runtime = table.get("runtime")
    if runtime is not None and runtime not in RUNTIMES:
        raise ConfigError(f"{path}: [tool.synapsegen] runtime must be one of {', '.join(RUNTIMES)}")
    templates = table.get("templates")
    if templates is not None and not isinstance(templates, str):
        raise ConfigError(f"{path}: [tool.synapsegen] templates must be a path")
    return Config(
        source=path,
        schemas=tuple(base / item for item in schemas),
        output=base / output if output is not None else None,
        runtime=runtime,
        templates=base / templates if templates is not None else None,
    )
