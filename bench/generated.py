"""Run the real ``synapsegen`` CLI into a temporary directory and import what it wrote."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from .common import REPO_ROOT, SCHEMAS_DIR, SectionSkipped, import_file


def synapsegen_command() -> list[str]:
    """The command that runs the generator CLI (the installed script next to this Python)."""
    script = Path(sys.executable).with_name("synapsegen")
    if script.exists():
        return [str(script)]
    found = shutil.which("synapsegen")
    if found:
        return [found]
    return [sys.executable, "-m", "synapsegen.cli"]


def require_generator() -> None:
    """Raise SectionSkipped unless ``synapsegen --help`` works."""
    if not (REPO_ROOT / "generator" / "cli.py").exists():
        raise SectionSkipped("the generator CLI (generator/cli.py) does not exist yet")
    proc = subprocess.run(
        [*synapsegen_command(), "--help"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SectionSkipped(f"`synapsegen --help` fails: {proc.stderr.strip()[-300:]}")


def generate(schema_paths: list[Path], out_dir: Path, extra: tuple[str, ...] = ()) -> None:
    """Run ``synapsegen SCHEMA... -o OUT_DIR``; raise with its output if it fails."""
    cmd = [*synapsegen_command(), *map(str, schema_paths), "-o", str(out_dir), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")


_cache: dict[str, ModuleType] = {}
_workdir: Path | None = None


def load_module(schema: str | Path) -> ModuleType:
    """Generate the module for ``schemas/<schema>.yaml`` (or a schema path) and import it."""
    global _workdir
    path = Path(schema) if isinstance(schema, Path) else SCHEMAS_DIR / f"{schema}.yaml"
    key = str(path.resolve())
    if key in _cache:
        return _cache[key]
    require_generator()
    if _workdir is None:
        _workdir = Path(tempfile.mkdtemp(prefix="synapsegen-bench-"))
    out_dir = _workdir / f"gen{len(_cache)}"
    out_dir.mkdir()
    generate([path], out_dir)
    module_file = out_dir / f"{path.stem}.py"
    if not module_file.exists():
        written = sorted(p.name for p in out_dir.iterdir())
        raise RuntimeError(f"synapsegen wrote {written}, expected {module_file.name}")
    module = import_file(module_file, f"_bench_generated_{len(_cache)}_{path.stem}")
    _cache[key] = module
    return module
