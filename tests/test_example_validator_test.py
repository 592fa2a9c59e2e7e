"""examples/validator_test/ as its README runs it: the chat classes generated into the folder,
then the validator's own test suite (scripted miners scored, the recorded vector replayed) with
pytest, in a copy of the folder so that nothing is written into the repository. docs/testing.md
quotes two of its files: the quotes must be what the files say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from synapsegen.pipeline import Options, generate

from .docs.snippets import blocks

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


def test_testing_md_quotes_the_example_as_it_is() -> None:
    quotes = [
        block
        for block in blocks(ROOT / "docs" / "testing.md")
        if block.kind == "checked by" and block.note.startswith("tests/test_example_validator_test")
    ]
    assert len(quotes) == 2
    for block in quotes:
        match = re.search(r"examples/validator_test/\S+\.py", block.note)
        assert match, block.note
        source = (ROOT / match.group(0)).read_text(encoding="utf-8")
        assert block.code in source, f"{block.name} is not a part of {match.group(0)}"
