"""The golden modules are lint-clean (ruff) and type-clean (mypy --strict), as users check them.

One mypy run covers the whole golden tree. mypy cannot follow the editable install's import hook
(the package folders are named generator/ and runtime/, not synapsegen/), so the test builds a
``synapsegen`` package of symlinks and points MYPYPATH at it. Imports are followed normally, so
the runtime the goldens call is held to --strict as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ._paths import GOLDEN, ROOT

# The generated code's lint bar: the project's rule set. E501 is left to the formatter: schema
# text in docstrings and the header's sha256 lines may run past 100 columns.
RUFF_RULES = "E,F,I,UP,B,SIM"


def _mypy_path(tmp_path: Path) -> Path:
    package = tmp_path / "stubs" / "synapsegen"
    package.mkdir(parents=True)
    for entry in (ROOT / "generator").iterdir():
        if entry.suffix == ".py" or entry.name == "py.typed":
            (package / entry.name).symlink_to(entry)
    (package / "runtime").symlink_to(ROOT / "runtime")
    return package.parent


def _golden_folders() -> list[Path]:
    # The bittensor-runtime variant needs bittensor installed to type-check.
    return sorted(p for p in GOLDEN.iterdir() if p.is_dir() and p.name != "bittensor_runtime")


def test_goldens_pass_ruff_check() -> None:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    command = [str(find_ruff_bin()), "check", "--isolated", "--no-cache",
               "--line-length", "100", "--target-version", "py310",
               "--select", RUFF_RULES, "--ignore", "E501", str(GOLDEN)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_goldens_pass_ruff_format_check() -> None:
    from ruff.__main__ import find_ruff_bin

    command = [str(find_ruff_bin()), "format", "--check", "--isolated", "--no-cache",
               "--line-length", "100", "--target-version", "py310", str(GOLDEN)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_goldens_pass_mypy_strict(tmp_path: Path) -> None:
    env = {**os.environ, "MYPYPATH": str(_mypy_path(tmp_path))}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"),
               "--python-version", "3.11",
               *map(str, _golden_folders())]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
