"""The file-level diagnostics SG901-SG903, exactly as the command prints them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import synapsegen.validate
from synapsegen.cli import main

from ._paths import ROOT

CHAT = ROOT / "schemas" / "chat.yaml"
LINES = ROOT / "schemas" / "lines.yaml"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``schemas`` folder under the cwd."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schemas").mkdir()
    return tmp_path / "schemas"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "-o", "out"])
    captured = capsys.readouterr()
    assert captured.out == ""
    return code, captured.err


def test_sg901_file_name_without_module_name(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("2chat.yaml", "chat.v2.yaml", "__init__.yaml"):
        shutil.copy(CHAT, folder / name)
    code, err = _run(capsys, "schemas")
    assert code == 2
    assert err == (
        "schemas/2chat.yaml:1:1: SG901 file name '2chat.yaml' does not give a Python module name\n"
        "schemas/__init__.yaml:1:1: SG901 file name '__init__.yaml' does not give a Python module"
        " name\n"
        "schemas/chat.v2.yaml:1:1: SG901 file name 'chat.v2.yaml' does not give a Python module"
        " name\n"
        "synapsegen: 3 errors\n"
    )
    assert not (folder.parent / "out").exists()


def test_sg902_two_files_one_module(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(CHAT, folder / "chat-v2.yaml")
    shutil.copy(LINES, folder / "chat_v2.yaml")
    code, err = _run(capsys, "schemas")
    assert code == 2
    assert err == (
        "schemas/chat_v2.yaml:1:1: SG902 would generate module chat_v2.py, like"
        " schemas/chat-v2.yaml\n"
        "synapsegen: 1 error\n"
    )


def test_sg902_is_listed_with_the_schema_errors(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(CHAT, folder / "a-b.yaml")
    (folder / "a_b.yaml").write_text("version: 2\n")
    (folder / "broken.yaml").write_text("version: 1\nsynapses: {}\n")
    code, err = _run(capsys, "schemas")
    assert code == 2
    assert err == (
        "schemas/a_b.yaml:1:1: SG902 would generate module a_b.py, like schemas/a-b.yaml\n"
        "schemas/broken.yaml:2:11: SG105 synapses: expected at least 1 entry\n"
        "synapsegen: 2 errors\n"
    )


def test_sg903_a_name_defined_by_two_files(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(CHAT, folder / "chat.yaml")
    shutil.copy(CHAT, folder / "copy.yaml")
    code, err = _run(capsys, "schemas")
    assert code == 2
    tail = "is also defined by schemas/chat.yaml; the package __init__.py re-exports both"
    assert err == (
        f"schemas/copy.yaml:1:1: SG903 'ChatCompletion' {tail} (rename one)\n"
        f"schemas/copy.yaml:1:1: SG903 'Message' {tail} (rename one)\n"
        f"schemas/copy.yaml:1:1: SG903 'Role' {tail} (rename one)\n"
        "synapsegen: 3 errors\n"
    )
    assert not (folder.parent / "out").exists()


def test_every_file_level_code_is_in_the_table() -> None:
    table = synapsegen.validate.__doc__ or ""
    assert {"SG901", "SG902", "SG903"} <= set(re.findall(r"^(SG9\d\d)\s", table, re.MULTILINE))
