"""A cold command line run stays light: no importlib.metadata from synapsegen itself, a fast
``--check`` that loads only what it uses, and compiled templates reused between runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import synapsegen
from synapsegen.output.header import installed_version

ROOT = Path(__file__).parents[2]


def test_version_is_the_packaged_one() -> None:
    from importlib import metadata

    assert synapsegen.__version__ == metadata.version("synapsegen")
    assert installed_version("ruff") == metadata.version("ruff")


# Modules the fast --check must not load: the heavy stages, and the standard library modules that
# cost a cold run a few milliseconds each (the 0.1 s budget is mostly interpreter start-up).
NOT_FOR_CHECK = ("jinja2", "pydantic", "yaml", "importlib.metadata", "importlib.resources",
                 "typing", "dataclasses", "inspect", "json", "shutil", "tomllib")  # fmt: skip


def test_the_check_fast_path_imports_no_heavy_stage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    schema = ROOT / "schemas" / "chat.yaml"
    subprocess.run([sys.executable, "-m", "synapsegen", str(schema), "-o", str(out)], check=True,
                   capture_output=True, cwd=tmp_path)  # fmt: skip
    probe = (
        "import sys; from synapsegen.cli import main; "
        f"code = main([{str(schema)!r}, '-o', {str(out)!r}, '--check']); "
        f"heavy = sorted(m for m in {NOT_FOR_CHECK!r} if m in sys.modules); print(code, heavy)"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert run.stdout.split("\n")[-2] == "0 []"


def test_templates_compile_once_per_cache(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": ""}
    schema = ROOT / "schemas" / "chat.yaml"
    command = [sys.executable, "-m", "synapsegen", str(schema), "-o", str(tmp_path / "out")]
    subprocess.run(command, check=True, capture_output=True, env=env)
    cached = list((tmp_path / "cache" / "synapsegen").rglob("*.cache"))
    assert len(cached) >= 5  # module, synapse, models, rules, a framing, an op, a target


def test_generating_loads_no_server_or_client_stack() -> None:
    """The generator reads runtime names only: starlette, aiohttp and asyncio stay unloaded."""
    probe = (
        "import sys; import synapsegen.pipeline, synapsegen.codegen.render, "
        "synapsegen.language.validate; "
        "print(sorted(m for m in ('starlette', 'aiohttp', 'asyncio') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
