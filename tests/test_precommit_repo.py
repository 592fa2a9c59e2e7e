"""The published hooks, installed the way users get them: pre-commit clones this repository.

tests/generator/test_precommit.py runs the hook definitions quickly as local hooks. This test
points a real ``repo:`` at this checkout, so pre-commit builds its own environment (a regular,
non-editable install: package data such as the templates must ship) and runs the hooks from
there. It tests the committed HEAD, which in CI is the code under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.generator.test_golden import without_inputs_fingerprint

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PRE_COMMIT_HOME for the module: pre-commit builds the hooks' environment once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def head() -> str:  # once: a commit made meanwhile would make pre-commit build another environment
    result = _run(ROOT, "git", "rev-parse", "HEAD")
    if result.returncode != 0:
        pytest.fail(f"this test needs the repository's git history: {result.stderr}")
    return result.stdout.strip()


def test_published_hooks_from_a_real_repo_entry(
    tmp_path: Path, head: str, pre_commit_home: Path
) -> None:
    project = tmp_path / "subnet"
    (project / "schemas").mkdir(parents=True)
    shutil.copy(ROOT / "schemas" / "chat.yaml", project / "schemas" / "chat.yaml")
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {ROOT}\n"
        f"    rev: {head}\n"
        "    hooks:\n"
        "      - id: synapsegen\n"
        "        args: [schemas, -o, synapses]\n"
        "      - id: synapsegen-check\n"
        "        args: [schemas, -o, synapses]\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    env.pop("PRE_COMMIT", None)
    for command in (["init", "-q"], ["config", "user.email", "t@example.invalid"],
                    ["config", "user.name", "t"], ["add", "-A"]):  # fmt: skip
        assert _run(project, "git", *command).returncode == 0

    # First run: the regenerate hook writes the module and fails the commit, as pre-commit wants.
    first = _run(project, str(PRE_COMMIT), "run", "--all-files", env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "wrote synapses/chat.py" in first.stdout
    generated = (project / "synapses" / "chat.py").read_bytes()
    golden = (ROOT / "tests" / "golden" / "chat" / "chat.py").read_text(encoding="utf-8")
    # The inputs fingerprint hashes the generator's code; goldens compare everything else.
    assert without_inputs_fingerprint({"chat.py": generated.decode()}) == (
        without_inputs_fingerprint({"chat.py": golden})
    )

    # Once the output is staged, both hooks pass.
    assert _run(project, "git", "add", "-A").returncode == 0
    second = _run(project, str(PRE_COMMIT), "run", "--all-files", env=env)
    assert second.returncode == 0, second.stdout + second.stderr

    # A schema edit: the check hook reports the stale module and writes nothing.
    schema = project / "schemas" / "chat.yaml"
    schema.write_text(schema.read_text().replace("Sampling temperature.", "How random."))
    assert _run(project, "git", "add", "-A").returncode == 0
    check = _run(project, str(PRE_COMMIT), "run", "synapsegen-check", "--all-files", env=env)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "MISSING" not in check.stdout and "How random." in check.stdout  # the unified diff
    assert (project / "synapses" / "chat.py").read_bytes() == generated


def test_published_breaking_hook(tmp_path: Path, head: str, pre_commit_home: Path) -> None:
    """synapsegen-breaking from the real repo entry: the schemas about to be committed against
    the last commit's (synapsegen diff --against HEAD)."""
    project = tmp_path / "subnet"
    (project / "schemas").mkdir(parents=True)
    schema = project / "schemas" / "search.yaml"
    shutil.copy(ROOT / "schemas" / "search.yaml", schema)
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {ROOT}\n"
        f"    rev: {head}\n"
        "    hooks:\n"
        "      - id: synapsegen-breaking\n"
        "        args: [schemas]\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home)}
    env.pop("PRE_COMMIT", None)
    for command in (["init", "-q"], ["config", "user.email", "t@example.invalid"],
                    ["config", "user.name", "t"], ["add", "-A"],
                    ["commit", "-qm", "first"]):  # fmt: skip
        assert _run(project, "git", *command).returncode == 0

    schema.write_text(schema.read_text().replace("maximum: 100", "maximum: 50"))
    assert _run(project, "git", "add", "-A").returncode == 0
    breaking = _run(project, str(PRE_COMMIT), "run", "synapsegen-breaking", env=env)
    assert breaking.returncode == 1, breaking.stdout + breaking.stderr
    assert (
        "SG618 breaks old validators: request field 'max_results' of SearchSynapse: maximum "
        "100 -> 50; old validators may send values new miners refuse" in breaking.stdout
    )
    schema.write_text(schema.read_text().replace("maximum: 50", "maximum: 200"))
    assert _run(project, "git", "add", "-A").returncode == 0
    loosened = _run(project, str(PRE_COMMIT), "run", "synapsegen-breaking", env=env)
    assert loosened.returncode == 1 and "SG619 breaks old miners" in loosened.stdout
    schema.write_text(schema.read_text().replace("maximum: 200", "maximum: 100"))
    assert _run(project, "git", "add", "-A").returncode == 0
    same = _run(project, str(PRE_COMMIT), "run", "synapsegen-breaking", env=env)
    assert same.returncode == 0, same.stdout + same.stderr


def test_hook_dependencies_are_the_generator_extra() -> None:
    """pre-commit cannot install an extra of the hook's own repo, so the hooks list it again."""
    import tomllib
    import yaml

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    wanted = sorted(extra["generator"])
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text()):
        assert sorted(hook["additional_dependencies"]) == wanted, hook["id"]


def test_documented_rev_has_the_current_hook_definitions() -> None:
    """The ``rev:`` that README.md and the docs tell users to pin is a commit of this repository
    whose .pre-commit-hooks.yaml is today's: a rev from before a hook change gives users the old
    hooks (the pinned ca9a661 still had synapsegen-breaking's ``files`` pattern, which skips
    deleted schemas)."""
    import re

    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    revs = {
        (path.name, match)
        for path in documents
        for match in re.findall(r"^\s*rev:\s*(\S+)", path.read_text(), flags=re.MULTILINE)
    }
    assert revs, "no rev: in README.md or docs/"
    current = (ROOT / ".pre-commit-hooks.yaml").read_bytes()
    for name, rev in sorted(revs):
        assert re.fullmatch(r"[0-9a-f]{40}", rev), f"{name}: rev {rev} is not a commit SHA"
        shown = subprocess.run(["git", "show", f"{rev}:.pre-commit-hooks.yaml"], cwd=ROOT,
                               capture_output=True)  # fmt: skip
        if shown.returncode != 0 and _shallow():
            pytest.skip("a shallow clone: the pinned commit may be outside its history")
        assert shown.returncode == 0, f"{name}: rev {rev}: {shown.stderr.decode().strip()}"
        assert shown.stdout == current, f"{name}: rev {rev} has other hook definitions than HEAD"


def _shallow() -> bool:
    result = _run(ROOT, "git", "rev-parse", "--is-shallow-repository")
    return result.stdout.strip() == "true"
