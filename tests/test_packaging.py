"""Packaging: what the sdist and the wheel hold, and that they install and work.

The sdist and the wheel are built once (``python -m build``, as a release would: the sdist first,
the wheel from it) from a copy of the working tree, so building leaves nothing in the checkout.
Building and installing need the package index (setuptools for the build, the runtime's
dependencies for the clean venv), as ``pip install`` does.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
TIMEOUT_S = 600  # building or installing: downloads setuptools, or the runtime's dependencies
# What the sdist carries besides the package: everything the test suite needs.
SDIST_FOLDERS = ("docs", "schemas", "examples", "tests", "bench", "tools")
SDIST_FILES = ("LICENSE", "README.md", "pyproject.toml", ".pre-commit-hooks.yaml", ".ci/run",
               "mkdocs.yml")  # fmt: skip
# Never copied to the build: caches, venvs, build output, generated folders.
_NOT_SOURCE = {
    ".git", ".cache", "build", "dist", "site", "synapses", "out", "__pycache__", ".hypothesis",
    ".mypy_cache", ".ruff_cache", ".pytest_cache",
}  # fmt: skip


def test_every_generator_subpackage_is_packaged() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(("synapsegen", *path.parent.relative_to(ROOT / "generator").parts))
        for path in (ROOT / "generator").rglob("__init__.py")
    }
    assert found <= listed


def _ci_extra_versions() -> list[str]:
    match = re.search(
        r'^EXTRA_PYTHONS="([0-9. ]+)"', (ROOT / ".ci" / "run").read_text(), re.MULTILINE
    )
    assert match
    return match[1].split()


def test_classifiers_name_the_versions_ci_tests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: 3."
    classified = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"] if c.startswith(prefix)}
    tested = {"3.11", *_ci_extra_versions()}  # python3 on CI is 3.11
    assert classified == tested
    assert project["requires-python"] == ">=" + min(
        tested, key=lambda v: tuple(map(int, v.split(".")))
    )
    assert "License ::" not in " ".join(project["classifiers"])  # the SPDX `license` says it
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]


def _readme_install_arguments() -> list[str]:
    """The arguments of ``pip install`` in the README's first command."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    first = block.splitlines()[0]
    for command in first.split("&&"):
        words = shlex.split(command)
        if words[:1] == [".venv/bin/pip"] and words[1:2] == ["install"]:
            return words[2:]
    raise AssertionError(f"no .venv/bin/pip install in the README's first command: {first}")


def test_ci_installs_with_the_readmes_command() -> None:
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^INSTALL=\((.*)\)$", text, re.MULTILINE)
    assert match and '"${INSTALL[@]}"' in text
    assert shlex.split(match[1]) == _readme_install_arguments()


# ---- built artifacts ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the working tree without caches, venvs and build output."""

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name in _NOT_SOURCE
            or name.startswith(".venv")
            or name.endswith((".egg-info", ".pyc"))
        }

    copy = tmp_path_factory.mktemp("source") / "synapsegen"
    shutil.copytree(ROOT, copy, ignore=ignore, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def dist(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, as ``python -m build`` makes them."""
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


def _only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_sdist_holds_docs_schemas_examples_tests_and_license(source: Path, dist: Path) -> None:
    sdist = _only(dist, "synapsegen-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        metadata = archive.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/PKG-INFO")
        assert metadata is not None
        pkg_info = metadata.read().decode()
    top = sdist.name.removesuffix(".tar.gz") + "/"
    members = {name.removeprefix(top) for name in names}
    expected = set(SDIST_FILES)
    for folder in (*SDIST_FOLDERS, "generator", "runtime", "templates"):
        expected |= {
            path.relative_to(source).as_posix()
            for path in (source / folder).rglob("*")
            if path.is_file() and path.suffix != ".pyc" and "__pycache__" not in path.parts
        }
    # Every file git tracks (that the working tree still has), but .gitignore.
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, timeout=60)
    if tracked.returncode == 0:  # else not a checkout (an unpacked sdist, say)
        names = tracked.stdout.decode().split("\0")
        expected |= {name for name in names if (source / name).is_file()} - {".gitignore"}
    assert sorted(expected - members) == []
    assert [name for name in members if "__pycache__" in name or name.endswith(".pyc")] == []
    # A few files the suite cannot run without, named so a wrong source copy cannot pass.
    assert {"tests/golden/chat/chat.py", "tests/vectors/headers.json", "schemas/chat.yaml",
            "docs/runtime.md", "examples/chat_demo.py", "LICENSE"} <= members  # fmt: skip
    assert "License-Expression: MIT" in pkg_info and "License-File: LICENSE" in pkg_info


def test_wheel_holds_the_package_data_and_the_license(dist: Path) -> None:
    with zipfile.ZipFile(_only(dist, "synapsegen-*.whl")) as wheel:
        names = set(wheel.namelist())
    assert {"synapsegen/py.typed", "synapsegen/synapsegen.schema.json",
            "synapsegen/runtime/py.typed", "synapsegen/templates/module.py.jinja",
            "synapsegen/templates/framings/sse.py.jinja"} <= names  # fmt: skip
    assert any(re.fullmatch(r"synapsegen-[^/]+\.dist-info/licenses/LICENSE", n) for n in names)
    assert not any(n.startswith(("tests/", "generator/", "runtime/")) for n in names)


def _new_venv(folder: Path) -> Path:
    """A venv of this interpreter's base Python, with nothing installed; its python."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=TIMEOUT_S)
    return folder / "bin" / "python"


def test_wheel_installs_in_a_clean_venv(dist: Path, tmp_path: Path) -> None:
    python = _new_venv(tmp_path / "venv")
    wheel = _only(dist, "synapsegen-*.whl")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    probe = (
        "import importlib.util, synapsegen.runtime as runtime\n"
        "from synapsegen.runtime import Axon, Dendrite, StreamingSynapse, Synapse\n"
        "class Ping(Synapse):\n"
        "    value: int = 0\n"
        "assert Ping(value=3).model_dump()['value'] == 3\n"
        "print(runtime.__file__)\n"
        "print(sorted(m for m in ('jinja2', 'yaml', 'ruff') if importlib.util.find_spec(m)))\n"
    )
    run = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    location, generator_packages = run.stdout.splitlines()
    assert Path(location).is_relative_to(tmp_path / "venv")
    assert generator_packages == "[]"  # the runtime alone: no generator dependency comes along
    version = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "synapsegen"), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.returncode == 0 and version.stdout.startswith("synapsegen "), version
    # Generating needs the generator extra: the command says so in one line (it was "internal
    # error ... a bug in synapsegen").
    generate = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "synapsegen"), str(ROOT / "schemas" / "chat.yaml"),
         "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert generate.returncode == 6, generate.stderr
    assert generate.stderr.startswith("synapsegen: error: the generator needs "), generate.stderr
    assert generate.stderr.endswith(
        "which is not installed: pip install 'synapsegen[generator]'\n"
    ), generate.stderr
    assert generate.stderr.count("\n") == 1, generate.stderr


# ---- the editable install and mypy ----------------------------------------------------------

_USER_MODULE = """\
from synapsegen.runtime import Synapse, TerminalInfo


class Ping(Synapse):
    value: int = 0


def answer(ping: Ping) -> TerminalInfo | None:
    return ping.axon


reveal_type(Ping(value=1).value)
reveal_type(answer)
"""


def test_mypy_sees_the_runtime_of_the_readmes_editable_install(
    source: Path, tmp_path: Path
) -> None:
    """A project checked by mypy --strict imports synapsegen.runtime from the README's install.

    The install is the README's (``pip install -e ...`` with its settings) of a copy of this tree,
    without dependencies: the venv borrows this one's site-packages through a .pth file, which
    loads no import hook of this venv's own synapsegen. A plain ``pip install -e .`` maps
    generator/ and runtime/ through an import hook that mypy cannot follow.
    """
    arguments = _readme_install_arguments()
    assert arguments[:2] == ["-e", ".[test]"], arguments
    python = _new_venv(tmp_path / "venv")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(source), *arguments[2:]],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.strip()
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(_USER_MODULE, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "MYPYPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), "--python-executable", str(python), "app.py"],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=project, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r'Revealed type is "(builtins\.)?int"', result.stdout), result.stdout
    assert "synapsegen.runtime.synapse.TerminalInfo" in result.stdout, result.stdout
