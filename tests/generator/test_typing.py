"""The golden modules are lint-clean (ruff) and type-clean (mypy --strict), as users check them.

One mypy run covers the whole golden tree. mypy cannot follow the editable install's import hook
(the package folders are named generator/ and runtime/, not synapsegen/), so the test builds a
``synapsegen`` package of symlinks and points MYPYPATH at it. Imports are followed normally, so
the runtime the goldens call is held to --strict as well. The same run includes a caller's
module that builds every generated class from its required fields only, and a second run checks
the generator's own modules.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from ._paths import GOLDEN, ROOT

# The generated code's lint bar: the project's rule set. E501 is left to the formatter: schema
# text in docstrings and the header's sha256 lines may run past 100 columns.
RUFF_RULES = "E,F,I,UP,B,SIM"


def _mypy_path(tmp_path: Path) -> Path:
    package = tmp_path / "stubs" / "synapsegen"
    package.mkdir(parents=True)
    for entry in (ROOT / "generator").iterdir():
        if entry.suffix == ".py" or entry.name == "py.typed" or (entry / "__init__.py").is_file():
            (package / entry.name).symlink_to(entry)
    (package / "runtime").symlink_to(ROOT / "runtime")
    return package.parent


def _golden_folders() -> list[Path]:
    # The bittensor-runtime variant needs bittensor installed to type-check; golden/openapi
    # holds documents, not a package.
    return sorted(
        p
        for p in GOLDEN.iterdir()
        if p.is_dir() and p.name != "bittensor_runtime" and (p / "__init__.py").is_file()
    )


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


def _user_code(folders: list[Path]) -> str:
    """A caller's module: every generated class built from its required fields only.

    Type checkers must see that a field with a default may be omitted (a default_factory inside
    ``Annotated`` alone would make it a required argument to them).
    """
    lines = ["from typing import Any, cast", ""]
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            spec = importlib.util.spec_from_file_location(f"_golden_{folder.name}", path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            for name in module.__all__:
                cls = getattr(module, name)
                if isinstance(cls, type) and issubclass(cls, BaseModel):
                    required = [f for f, info in cls.model_fields.items() if info.is_required()]
                    arguments = ", ".join(f"{f}=cast(Any, None)" for f in required)
                    lines.append(f"from {folder.name}.{path.stem} import {name}")
                    lines.append(f"{folder.name}_{name.lower()} = {name}({arguments})")
    return "\n".join(lines) + "\n"


def test_goldens_pass_mypy_strict(tmp_path: Path) -> None:
    folders = _golden_folders()
    (tmp_path / "user").mkdir()
    user_code = tmp_path / "user" / "user_code.py"
    user_code.write_text(_user_code(folders), encoding="utf-8")
    assert "search_searchsynapse = SearchSynapse(query=cast(Any, None))" in user_code.read_text()
    # Everything is checked by module name: the goldens are packages on the path, so the user
    # code imports them as a project would.
    path = [_mypy_path(tmp_path), GOLDEN, tmp_path / "user"]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, path))}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"),
               "--python-version", "3.11",
               *(f"--package={folder.name}" for folder in folders),
               "--module=user_code"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generator_passes_mypy_strict(tmp_path: Path) -> None:
    # Through the symlinked package: the editable install's import hook hides it from mypy.
    env = {**os.environ, "MYPYPATH": str(_mypy_path(tmp_path))}
    package = ROOT / "generator"
    modules = sorted(
        ".".join(p.relative_to(package).with_suffix("").parts) for p in package.rglob("*.py")
    )
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11",
               *(f"--module=synapsegen.{m}".removesuffix(".__init__") if m != "__init__"
                 else "--module=synapsegen" for m in modules)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"in {len(modules)} source files" in result.stdout
