"""The README's tour really works: generate the example schemas, then run the demo against them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_chat_demo_streams_through_generated_code(tmp_path: Path) -> None:
    out = tmp_path / "synapses"
    generate = subprocess.run(
        [sys.executable, "-m", "synapsegen", str(REPO / "schemas"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generate.returncode == 0, generate.stderr

    # cwd=tmp_path puts the freshly generated `synapses` package first on sys.path.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    demo = subprocess.run(
        [sys.executable, "-m", "examples.chat_demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert "status 200, complete=True" in demo.stdout
    assert "completion: 'You said: Grüß dich, 世界 🌍 '" in demo.stdout


def test_migrate_demo_serves_both_wires_with_one_handler(tmp_path: Path) -> None:
    out = tmp_path / "synapses"
    generate = subprocess.run(
        [sys.executable, "-m", "synapsegen", str(REPO / "schemas"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generate.returncode == 0, generate.stderr
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    demo = subprocess.run(
        [sys.executable, "-m", "examples.migrate_demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    answer = "completion 'You said: Grüß dich 🌍 ', available {'chat': True, 'image': False}"
    assert f"bittensor10: status 200, {answer}" in demo.stdout
    assert f"btauth/1: status 200, {answer}" in demo.stdout
    assert "openapi.json paths: /AvailabilitySynapse, /ChatCompletion, /openapi.json" in demo.stdout
