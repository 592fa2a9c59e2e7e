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


def _config(
    only: tuple[str, ...] = (),
    hooks_file: Path = ROOT / ".pre-commit-hooks.yaml",
    stages: dict[str, list[str]] | None = None,
) -> str:
    """The published hooks as local ones (``only``: these ids)."""
    hooks = yaml.safe_load(hooks_file.read_text())
    stages = stages or {}
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
                "pass_filenames": hook["pass_filenames"],
                "require_serial": hook["require_serial"],
                "stages": stages.get(
                    hook["id"], ["manual"] if hook["id"] == "synapsegen" else ["pre-commit"]
                ),
            }
        )
        for key in ("files", "always_run"):
            if key in hook:
                local[-1][key] = hook[key]
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


def _stale_commit(tmp_path: Path, hook: str, folder: str, change, hooks_file: Path) -> str:
    """Commit schemas in ``folder`` and their modules, apply ``change`` (it edits the tree and
    stages what it changed), then commit again with ``hook`` installed as a git pre-commit hook:
    that commit must fail. Returns the hook's output."""
    repo = tmp_path / "repo"
    (repo / folder).mkdir(parents=True)
    for name in ("chat.yaml", "search.yaml"):
        shutil.copy(ROOT / "schemas" / name, repo / folder / name)
    (repo / "pyproject.toml").write_text(
        f'[tool.synapsegen]\nschemas = ["{folder}"]\noutput = "synapses"\n'
    )
    subprocess.run([str(BIN / "synapsegen")], cwd=repo, check=True, capture_output=True)
    (repo / ".pre-commit-config.yaml").write_text(
        _config(only=(hook,), hooks_file=hooks_file, stages={hook: ["pre-commit"]})
    )
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    assert _run(repo, "install").returncode == 0
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first", "--no-verify")
    change(repo)
    stale = subprocess.run(["git", "commit", "-qm", "stale"], cwd=repo, capture_output=True,
                           text=True, env=_env(repo))  # fmt: skip
    output = stale.stdout + stale.stderr
    assert stale.returncode == 1, output
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True, text=True)
    assert log.stdout.split("\n")[0] == "first", output  # the commit did not happen
    return output


def _delete_schema(repo: Path) -> None:
    _git(repo, "rm", "-q", "schemas/search.yaml")


def _edit_schema_outside_schemas_folder(repo: Path) -> None:
    schema = repo / "protocol" / "chat.yaml"
    schema.write_text(schema.read_text().replace("Sampling temperature.", "How random."))
    _git(repo, "add", ".")


def _edit_generated_module(repo: Path) -> None:
    module = repo / "synapses" / "chat.py"
    module.write_text(module.read_text() + "# edited by hand\n")
    _git(repo, "add", ".")


STALE_CASES = [
    pytest.param("schemas", _delete_schema, "EXTRA: synapses/search.py", id="deleted-schema"),
    pytest.param("protocol", _edit_schema_outside_schemas_folder, "How random.", id="other-folder"),
    pytest.param("schemas", _edit_generated_module, "-# edited by hand", id="hand-edited"),
]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("folder", "change", "reported"), STALE_CASES)
def test_check_hook_fails_a_commit_that_leaves_generated_code_stale(
    tmp_path: Path, folder: str, change, reported: str
) -> None:
    """Cases a ``files`` pattern on schema(s)/ skipped: synapsegen-check runs on every commit."""
    output = _stale_commit(
        tmp_path, "synapsegen-check", folder, change, ROOT / ".pre-commit-hooks.yaml"
    )
    assert reported in output and "Skipped" not in output, output


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(("folder", "change", "reported"), STALE_CASES)
def test_regenerate_hook_fails_a_commit_that_leaves_generated_code_stale(
    tmp_path: Path, folder: str, change, reported: str
) -> None:
    output = _stale_commit(tmp_path, "synapsegen", folder, change, ROOT / ".pre-commit-hooks.yaml")
    assert "files were modified by this hook" in output, output


def _break_schema_outside_schemas_folder(repo: Path) -> None:
    schema = repo / "protocol" / "search.yaml"
    schema.write_text(schema.read_text().replace("[web, news, academic]", "[web, news]"))
    _git(repo, "add", ".")


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize(
    ("folder", "change", "reported"),
    [
        pytest.param("schemas", _delete_schema, "SG602", id="deleted-schema"),
        pytest.param("protocol", _break_schema_outside_schemas_folder, "SG617", id="other-folder"),
    ],
)
def test_breaking_hook_sees_deletions_and_any_folder(
    tmp_path: Path, folder: str, change, reported: str
) -> None:
    """Cases a ``files`` pattern on schema(s)/ skipped: pre-commit passes no deleted file to a
    ``files`` filter, and a schema outside schema(s)/ matched nothing, so a synapse removed (old
    validators still call its route) or a narrowed enum went in unchecked."""
    output = _stale_commit(
        tmp_path, "synapsegen-breaking", folder, change, ROOT / ".pre-commit-hooks.yaml"
    )
    assert reported in output and "Skipped" not in output, output
