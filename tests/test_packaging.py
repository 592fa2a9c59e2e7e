"""The package lists every subpackage of the generator (a wheel would miss a forgotten one)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_generator_subpackage_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(("synapsegen", *path.parent.relative_to(ROOT / "generator").parts))
        for path in (ROOT / "generator").rglob("__init__.py")
    }
    assert found <= listed
