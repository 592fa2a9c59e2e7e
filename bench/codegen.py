"""Section 5: code generation, cold, in subprocesses (what a developer and pre-commit pay).

``synapsegen`` over 1 and 50 schemas (generate; ``--check`` with nothing changed) against
``datamodel-codegen`` (pinned 0.89.0) run once over the same request fields, written as one JSON
Schema file per synapse in a directory. The 50 schemas are the examples in schemas/, cycled, with
their synapse classes renamed. Targets: ``--check`` of 50 unchanged schemas under 0.1 s wall;
generating one schema in at most half of datamodel-codegen's time, and 50 no slower than
datamodel-codegen, on the same fields.

Both tools run as pre-commit runs them: their console scripts, from a plain (non-editable)
install, here a fresh venv holding a copy of the package, its dependencies reached through a
``.pth`` line. Run from the
development venv instead, every command would also pay for setuptools' editable-install finder
(~30 ms of pathlib and friends at interpreter start), which no user's hook environment has.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sysconfig
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import yaml

from . import generated
from .common import REPO_ROOT, SCHEMAS_DIR, SectionResult, Table, fmt_ratio, fmt_seconds, median

CHECK_TARGET_SECONDS = 0.1
_OUR_KEYWORDS = ("hash", "frozen")


def make_schemas(count: int, out_dir: Path) -> list[Path]:
    """Write ``count`` schema files: the examples cycled, every class (synapse, $defs) renamed.

    One output folder exports every class, so names must be unique across the files.
    """
    examples = sorted(SCHEMAS_DIR.glob("*.yaml"))
    if not examples:
        raise RuntimeError(f"no example schemas in {SCHEMAS_DIR}")
    paths = []
    for i in range(count):
        source = examples[i % len(examples)]
        text = source.read_text()
        document = yaml.safe_load(text)
        for name in [*document["synapses"], *(document.get("$defs") or {})]:
            text = re.sub(rf"\b{re.escape(name)}\b", f"{name}V{i:02d}", text)
        path = out_dir / f"{source.stem}_{i:02d}.yaml"
        path.write_text(text)
        paths.append(path)
    return paths


def request_json_schema(name: str, synapse: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A synapse's request fields as a plain JSON Schema object (our keywords removed)."""
    properties = {}
    required = []
    for field_name, spec in (synapse.get("request") or {}).items():
        properties[field_name] = {k: v for k, v in spec.items() if k not in _OUR_KEYWORDS}
        if "default" not in spec:
            required.append(field_name)
    document: dict[str, Any] = {
        "title": name,
        "type": "object",
        "properties": properties,
        "required": required,
    }
    if defs:
        document["$defs"] = defs
    return document


def write_request_schemas(schema_paths: list[Path], out_dir: Path) -> None:
    """One ``<Synapse>.json`` per synapse of every schema file."""
    for path in schema_paths:
        document = yaml.safe_load(path.read_text())
        for name, synapse in document["synapses"].items():
            schema = request_json_schema(name, synapse, document.get("$defs") or {})
            (out_dir / f"{name}.json").write_text(json.dumps(schema, indent=2))


# Where each folder of the repository lands in an installed synapsegen (pyproject's package-dir).
_PACKAGE_LAYOUT = {"generator": "synapsegen", "runtime": "synapsegen/runtime",
                   "templates": "synapsegen/templates"}  # fmt: skip


def installed_python(root: Path) -> Path:
    """A fresh venv under ``root`` with synapsegen installed as a wheel would install it.

    The package is copied in (and compiled, as pip does); its dependencies (Jinja, PyYAML,
    pydantic, ruff, datamodel-code-generator) are the running venv's, reached through a ``.pth``
    line, which adds that folder to ``sys.path`` without running its own ``.pth`` files (so not
    the editable finder).
    """
    env = root / "installed"
    venv.create(env, with_pip=False, symlinks=True)
    python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    for folder, target in _PACKAGE_LAYOUT.items():
        shutil.copytree(
            REPO_ROOT / folder, site / target, dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )  # fmt: skip
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([str(python), "-m", "compileall", "-q", str(site / "synapsegen")], check=True)
    for script, module in _SCRIPTS.items():
        path = env / "bin" / script
        path.write_text(_CONSOLE_SCRIPT.format(python=python, module=module), encoding="utf-8")
        path.chmod(0o755)
    return python


# What pip writes for a console-script entry point (``python -m`` would add runpy's imports).
_CONSOLE_SCRIPT = """#!{python}
import re
import sys
from {module} import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""
_SCRIPTS = {
    "synapsegen": "synapsegen.cli",
    "datamodel-codegen": "datamodel_code_generator.__main__",
}


def _wall(cmd: list[str], expect_status: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect_status:
        raise RuntimeError(
            f"{' '.join(cmd[:3])} ... exited {proc.returncode} (expected {expect_status}):\n"
            f"{proc.stdout[-1000:]}\n{proc.stderr[-2000:]}"
        )
    return elapsed


def run(quick: bool) -> SectionResult:
    """Time cold generator runs and datamodel-codegen on the same request fields."""
    generated.require_generator()
    result = SectionResult("codegen", "Code generation: synapsegen vs datamodel-codegen")
    repetitions = 2 if quick else 7
    counts = (1, 50)
    table = Table(
        f"cold subprocess wall clock, median of {repetitions}",
        ["schemas", "command", "median", "per schema", "vs datamodel-codegen"],
    )
    medians: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-codegen-") as tmp:
        root = Path(tmp)
        python = str(installed_python(root))
        synapsegen = [str(root / "installed" / "bin" / "synapsegen")]
        dmcg = [str(root / "installed" / "bin" / "datamodel-codegen")]
        for count in counts:
            src = root / f"schemas{count}"
            src.mkdir()
            paths = make_schemas(count, src)
            json_dir = root / f"request_json{count}"
            json_dir.mkdir()
            write_request_schemas(paths, json_dir)
            out = root / f"out{count}"
            dm_out = root / f"dm_out{count}"
            dm_input = next(json_dir.iterdir()) if count == 1 else json_dir
            dm_target = dm_out / "model.py" if count == 1 else dm_out
            commands = {
                "synapsegen (generate)": [*synapsegen, *map(str, paths), "-o", str(out)],
                "synapsegen --check (unchanged)": [
                    *synapsegen,
                    *map(str, paths),
                    "-o",
                    str(out),
                    "--check",
                ],
                "python -c pass (interpreter start)": [python, "-c", "pass"],
                "datamodel-codegen (request fields)": [
                    *dmcg,
                    "--input",
                    str(dm_input),
                    "--input-file-type",
                    "jsonschema",
                    "--output",
                    str(dm_target),
                    "--output-model-type",
                    "pydantic_v2.BaseModel",
                ],
            }
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(repetitions):
                for name, cmd in commands.items():
                    if name.startswith("synapsegen (generate)"):
                        shutil.rmtree(out, ignore_errors=True)  # really generate, every time
                    if name.startswith("datamodel"):
                        shutil.rmtree(dm_out, ignore_errors=True)
                        if count == 1:
                            dm_out.mkdir()
                    times[name].append(_wall(cmd))
            dm_median = median(times["datamodel-codegen (request fields)"])
            for name, values in times.items():
                m = median(values)
                medians[(count, name)] = m
                table.add(
                    [count, name, fmt_seconds(m), fmt_seconds(m / count), fmt_ratio(m / dm_median)],
                    schemas=count,
                    command=name,
                    seconds=m,
                    all_seconds=values,
                    ratio_to_datamodel_codegen=m / dm_median,
                )
    result.tables.append(table)
    check50 = medians[(50, "synapsegen --check (unchanged)")]
    start = medians[(50, "python -c pass (interpreter start)")]
    result.target(
        f"--check of 50 unchanged schemas under {CHECK_TARGET_SECONDS} s wall",
        check50 < CHECK_TARGET_SECONDS,
        f"{fmt_seconds(check50)}, of which {fmt_seconds(check50 - start)} after the "
        f"interpreter's own start ({fmt_seconds(start)} in the same run)",
    )
    gen1 = medians[(1, "synapsegen (generate)")]
    dm1 = medians[(1, "datamodel-codegen (request fields)")]
    result.target(
        "generating one schema (the pre-commit path) in at most half of datamodel-codegen's time",
        gen1 <= dm1 / 2,
        f"{fmt_seconds(gen1)} vs {fmt_seconds(dm1)} ({fmt_ratio(gen1 / dm1)})",
    )
    gen50 = medians[(50, "synapsegen (generate)")]
    dm50 = medians[(50, "datamodel-codegen (request fields)")]
    result.target(
        "generating 50 schemas no slower than datamodel-codegen on the same fields",
        gen50 <= dm50,
        f"{fmt_seconds(gen50)} vs {fmt_seconds(dm50)} ({fmt_ratio(gen50 / dm50)})",
    )
    result.note(
        "synapsegen writes whole streaming synapses (request and response fields, "
        "parser, server helper); datamodel-codegen writes request-field models only."
    )
    return result
