"""The inputs fingerprint covers the generator's own code, so --check's fast path notices it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

import synapsegen
import synapsegen.output.header
import synapsegen.pipeline
from synapsegen.cli import main

from ._paths import ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CHAT = ROOT / "schemas" / "chat.yaml"


def test_every_generator_module_is_hashed_unless_listed() -> None:
    """Every module shapes the output (hashed) unless NOT_OUTPUT_SOURCES names it."""
    package = Path(synapsegen.__file__).parent
    modules = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    # A wheel or a strict editable install has runtime/, templates/, testing/ inside synapsegen/.
    modules = {
        name for name in modules if not name.startswith(synapsegen.output.header.OTHER_PACKAGES)
    }
    hashed = {name for name, _ in synapsegen.output.header.output_sources()}
    unhashed = set(synapsegen.output.header.NOT_OUTPUT_SOURCES)
    assert unhashed <= modules, "NOT_OUTPUT_SOURCES names a module that does not exist"
    assert not hashed & unhashed
    assert modules == hashed | unhashed
    assert {"codegen/build.py", "language/validate.py", "output/header.py"} <= hashed


def test_other_packages_are_the_ones_installed_from_their_own_folders() -> None:
    """OTHER_PACKAGES names every subpackage pyproject.toml maps to a folder of its own."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir = config["tool"]["setuptools"]["package-dir"]
    mapped = {name.removeprefix("synapsegen.").replace(".", "/") + "/" for name in package_dir}
    assert set(synapsegen.output.header.OTHER_PACKAGES) == mapped - {"synapsegen/"}


def test_digest_covers_every_output_source_and_the_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    header = synapsegen.output.header
    original = header.generator_digest.__wrapped__()
    assert original == header.generator_digest()
    monkeypatch.setattr(header, "OUTPUT_TOOLS", ())
    assert header.generator_digest.__wrapped__() != original
    monkeypatch.undo()
    sources = header.output_sources()
    monkeypatch.setattr(header, "output_sources", lambda: sources[:-1])
    assert header.generator_digest.__wrapped__() != original


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemas").mkdir()
    shutil.copy(CHAT, tmp_path / "schemas" / "chat.yaml")
    assert main(["schemas", "-o", "out"]) == 0
    return tmp_path


def _forbid_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def render(*args: object, **kwargs: object) -> None:
        raise AssertionError("--check rendered although the fast path should have answered")

    monkeypatch.setattr(synapsegen.pipeline, "generate", render)


def test_fast_path_confirms_an_unchanged_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _forbid_rendering(monkeypatch)
    assert main(["schemas", "-o", "out", "--check"]) == 0


def test_changed_generator_code_invalidates_the_fast_path(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    # As if a byte of build_ir.py had changed, with the same synapsegen version.
    monkeypatch.setattr(synapsegen.output.header, "generator_digest", lambda: "0" * 64)
    assert main(["schemas", "-o", "out", "--check"]) == 1  # rendered, and the headers differ
    captured = capsys.readouterr()
    assert "-# synapsegen fingerprint: inputs=" in captured.out
    assert "out is out of date" in captured.err
    assert main(["schemas", "-o", "out"]) == 0  # regenerate with the "new" generator
    _forbid_rendering(monkeypatch)
    assert main(["schemas", "-o", "out", "--check"]) == 0
