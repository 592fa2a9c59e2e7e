"""The benchmarks keep working: ``python -m bench --quick`` exits 0 and prints every section.

No timing is asserted anywhere: the figures vary with the machine and its load. A section whose
dependency does not exist yet prints SKIPPED (and is still printed); a crash exits non-zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.__main__ import SECTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_exits_0_and_prints_every_section(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # every section, on a 2-core machine that other work may load
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for name in SECTIONS:
        assert f"=== [{name}]" in proc.stdout, f"section {name} not printed"
    assert "CRASHED" not in proc.stdout
    results = json.loads(out.read_text())
    assert [s["name"] for s in results["sections"]] == list(SECTIONS)
    assert results["machine"]["python"]


def test_only_runs_the_named_section() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "decode"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "=== [decode]" in proc.stdout
    assert "=== [codegen]" not in proc.stdout
