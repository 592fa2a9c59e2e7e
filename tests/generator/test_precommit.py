"""The hooks run under a real pre-commit in a temporary git repository.

The hooks are declared as ``repo: local`` with ``language: system`` calling this venv's
``synapsegen``: pointing ``repo:`` at this checkout with ``language: python`` would make pre-commit
pip-install synapsegen and its generator dependencies into a fresh environment (network, tens of
seconds). The entries, ``files`` patterns and flags are taken from .pre-commit-hooks.yaml, so the
published hook definitions are what is exercised.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ._paths import ROOT

BIN = Path(sys.executable).parent


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _config() -> str:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = []
    for hook in hooks:
        command = hook["entry"].split()
        local.append(
            {
                "id": hook["id"],
                "name": hook["name"],
                "entry": " ".join([str(BIN / command[0]), *command[1:]]),
                "language": "system",
                "files": hook["files"],
                "pass_filenames": hook["pass_filenames"],
                "require_serial": hook["require_serial"],
                "stages": ["manual"] if hook["id"] == "synapsegen" else ["pre-commit"],
            }
        )
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}  # fmt: skip
    return subprocess.run(
        [str(BIN / "pre-commit"), *args], cwd=repo, capture_output=True, text=True, env=env
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_hooks_in_a_git_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    shutil.copy(ROOT / "schemas" / "chat.yaml", repo / "schemas" / "chat.yaml")
    (repo / "pyproject.toml").write_text(
        '[tool.synapsegen]\nschemas = ["schemas"]\noutput = "synapses"\n'
    )
    (repo / ".pre-commit-config.yaml").write_text(_config())
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")

    # Regenerate hook: writes the modules and fails (files changed), then passes.
    _git(repo, "add", ".")
    first = _run(repo, "run", "synapsegen", "--hook-stage", "manual", "--all-files")
    assert first.returncode == 1, first.stdout + first.stderr
    assert (repo / "synapses" / "chat.py").is_file()
    second = _run(repo, "run", "synapsegen", "--hook-stage", "manual", "--all-files")
    assert second.returncode == 0, second.stdout + second.stderr

    # Check hook: passes when up to date, fails on a schema edit without regenerating.
    _git(repo, "add", ".")
    assert _run(repo, "run", "synapsegen-check", "--all-files").returncode == 0
    schema = repo / "schemas" / "chat.yaml"
    schema.write_text(schema.read_text().replace("Sampling temperature.", "Temperature."))
    _git(repo, "add", ".")
    stale = _run(repo, "run", "synapsegen-check", "--all-files")
    assert stale.returncode == 1
    assert "Temperature." in stale.stdout  # the diff of the stale module
