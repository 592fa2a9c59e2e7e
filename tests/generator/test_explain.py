"""``synapsegen explain``: every code explained for a terminal; unknown codes and bad command
lines are one line and exit code 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synapsegen.codes import CODES
from synapsegen.explain import explain_command, format_entry

FIRST, LAST = min(CODES), max(CODES)


def _explain(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = explain_command(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("code", list(CODES))
def test_each_code_is_explained_with_title_why_and_fix(
    code: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    entry = CODES[code]
    status, out, err = _explain([code], capsys)
    assert (status, err) == (0, "")
    assert out.startswith(f"{code}: {entry.title} (")
    assert out.endswith("\n") and not out.endswith("\n\n")
    prose = _words(out)
    for part in (entry.meaning, entry.why, entry.fix):
        assert _words(part) in prose
    assert "\nWhy:\n  " in out and "\nFix:\n  " in out
    if entry.example is not None:
        for label, schema in (("Wrong", entry.example.wrong), ("Right", entry.example.right)):
            indented = "".join(f"  {line}\n" for line in schema.splitlines())
            assert f"\n{label}:\n{indented}" in out + "\n"


def test_the_explanation_reads_as_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    status, out, _ = _explain(["SG203"], capsys)
    assert status == 0
    lines = out.splitlines()
    assert lines[:2] == ["SG203: Reserved name (error)", ""]
    assert lines[2].startswith("Name is reserved: a field of bittensor's Synapse")
    why = lines.index("Why:")
    assert lines[why + 1].startswith("  A field of that name would replace what the runtime")
    assert "Fix:" in lines and "Wrong:" in lines and "Right:" in lines
    assert '        name: {type: string, default: "", hash: true}' in lines
    assert '        user_name: {type: string, default: "", hash: true}' in lines


@pytest.mark.parametrize("columns", ["40", "60", "100"])
def test_prose_is_wrapped_to_the_terminal(
    columns: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every line but the examples' fits, unless it is one word longer than the width."""
    monkeypatch.setenv("COLUMNS", columns)
    status, out, _ = _explain(list(CODES), capsys)
    assert status == 0
    in_example = False
    for line in out.splitlines():
        if line in ("Wrong:", "Right:"):
            in_example = True
        elif not line.startswith("  "):
            in_example = False  # a blank line, a heading or the next code
        if not in_example and len(line) > int(columns):
            assert len(line.split()) == 1, line


def test_a_very_wide_terminal_still_wraps_at_100() -> None:
    entry = CODES["SG305"]
    assert max(len(line) for line in format_entry(entry, 100).splitlines()) <= 100
    assert format_entry(entry, 100) != format_entry(entry, 60)


@pytest.mark.parametrize("spelling", ["SG203", "sg203", "Sg203", "203", " SG203 "])
def test_codes_are_read_case_insensitively(
    spelling: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _explain([spelling], capsys)
    assert (status, err) == (0, "")
    assert out.startswith("SG203: Reserved name")


def test_several_codes_are_explained_in_turn(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _explain(["SG101", "sg616"], capsys)
    assert status == 0
    assert out.startswith("SG101: ") and "\n\nSG616: Enum values added (" in out


@pytest.mark.parametrize(
    ("argv", "shown"),
    [(["SG999"], "SG999"), (["999"], "SG999"), (["sg700"], "SG700"), (["SG203", "bogus"], "bogus")],
)
def test_an_unknown_code_is_one_line_and_exit_2(
    argv: list[str], shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _explain(argv, capsys)
    assert status == 2
    assert out == ""
    assert err == (
        f"synapsegen: error: unknown code {shown} (codes: {FIRST}-{LAST}; "
        "see synapsegen explain --list)\n"
    )


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        ([], "name a code (synapsegen explain SG203), or --list"),
        (["--list", "SG203"], "--list takes no codes"),
        (["--verbose"], "unknown option --verbose"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_2(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _explain(argv, capsys)
    assert (status, out) == (2, "")
    assert err == f"synapsegen: error: {problem}\n"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _explain(["--help"], capsys)
    assert (status, err) == (0, "")
    assert out.startswith("usage: synapsegen explain CODE")


def test_list_names_every_code_with_its_title(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _explain(["--list"], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == len(CODES)
    for line, entry in zip(lines, CODES.values(), strict=True):
        assert line.startswith(f"{entry.code}  {entry.title}")
    assert "SG501  No `hash: true` request field (warning)" in lines
    assert "SG616  Enum values added (synapsegen diff finding)" in lines


def test_importing_explain_loads_no_heavy_module() -> None:
    heavy = ("jinja2", "yaml", "ruff", "pydantic", "synapsegen.language", "synapsegen.runtime")
    probe = (
        "import sys, synapsegen.explain; "
        f"print([m for m in sys.modules if m.startswith({heavy!r})])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_command_line_runs_explain() -> None:
    command = shutil.which("synapsegen", path=str(Path(sys.executable).parent))
    assert command is not None
    env = {**os.environ, "COLUMNS": "80"}
    result = subprocess.run([command, "explain", "SG203"], capture_output=True, text=True, env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("SG203: Reserved name (error)\n")
    unknown = subprocess.run([command, "explain", "SG999"], capture_output=True, text=True, env=env)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        f"synapsegen: error: unknown code SG999 (codes: {FIRST}-{LAST}; "
        "see synapsegen explain --list)\n"
    )
