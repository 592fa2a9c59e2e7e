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


def _config(only: tuple[str, ...] = ()) -> str:
    """The published hooks as local ones (``only``: these ids)."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    local = []
    for hook in hooks:
        if only and hook["id"] not in only:
            continue
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


def _env(repo: Path) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home")}  # fmt: skip
    env.pop("PRE_COMMIT", None)
    return env


def _run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pre-commit"), *args], cwd=repo, capture_output=True, text=True, env=_env(repo)
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


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_breaking_hook_blocks_a_commit_that_breaks_old_peers(tmp_path: Path) -> None:
    """synapsegen-breaking as a real git pre-commit hook: `synapsegen diff --against HEAD` on
    what is about to be committed."""
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    schema = repo / "schemas" / "search.yaml"
    shutil.copy(ROOT / "schemas" / "search.yaml", schema)
    (repo / "pyproject.toml").write_text('[tool.synapsegen]\nschemas = ["schemas"]\n')
    (repo / ".pre-commit-config.yaml").write_text(_config(only=("synapsegen-breaking",)))
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    assert _run(repo, "install").returncode == 0

    def commit(message: str) -> subprocess.CompletedProcess[str]:
        _git(repo, "add", ".")
        return subprocess.run(["git", "commit", "-qm", message], cwd=repo, capture_output=True,
                              text=True, env=_env(repo))  # fmt: skip

    first = commit("first")  # no HEAD yet: every synapse is new
    assert first.returncode == 0, first.stdout + first.stderr
    schema.write_text(schema.read_text().replace("Search the web", "Search the whole web"))
    compatible = commit("a description")
    assert compatible.returncode == 0, compatible.stdout + compatible.stderr

    schema.write_text(schema.read_text().replace("[web, news, academic]", "[web, news]"))
    breaking = commit("drop a tool")
    output = breaking.stdout + breaking.stderr  # git shows the hook's output on stderr
    assert breaking.returncode == 1, output
    assert "synapsegen diff --against HEAD (no breaking protocol change)" in output
    line = schema.read_text().splitlines().index("    enum: [web, news]") + 1
    assert (
        f"schemas/search.yaml:{line}:11: SG617 breaks old validators: request field 'tools' of "
        "SearchSynapse: $defs.Tool: enum value 'academic' removed" in output
    ), output
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True)
    assert log.stdout.split("\n")[0] == "a description"  # the commit did not happen

    # A deliberate break goes in with the hook skipped, as pre-commit allows.
    skip = subprocess.run(["git", "commit", "-qm", "drop a tool"], cwd=repo, capture_output=True,
                          text=True, env={**_env(repo), "SKIP": "synapsegen-breaking"})  # fmt: skip
    assert skip.returncode == 0, skip.stdout + skip.stderr

    # The configuration is watched too: a change to pyproject.toml alone runs the hook.
    (repo / "pyproject.toml").write_text('[tool.synapsegen]\nschemas = ["schemas/search.yaml"]\n')
    _git(repo, "add", ".")
    config_only = _run(repo, "run", "synapsegen-breaking")
    assert config_only.returncode == 0, config_only.stdout + config_only.stderr
    assert "Passed" in config_only.stdout and "Skipped" not in config_only.stdout
