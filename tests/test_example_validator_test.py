"""examples/validator_test/ as its README runs it: the chat classes generated into the folder,
then the validator's own test suite (scripted miners scored, the recorded vector replayed) with
pytest, in a copy of the folder so that nothing is written into the repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from synapsegen.pipeline import Options, generate

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "validator_test"
TIMEOUT = 300  # seconds; the suite itself takes about 10


def test_the_validator_test_example_passes(tmp_path: Path) -> None:
    work = tmp_path / "validator_test"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("__pycache__", "synapses"))
    result = generate([ROOT / "schemas" / "chat.yaml"], Options(), ROOT)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    (work / "synapses").mkdir()
    for name, text in result.files.items():
        (work / "synapses" / name).write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "11 passed" in run.stdout, run.stdout
