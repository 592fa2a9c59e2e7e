"""Hostile inputs, drawn by hypothesis: file and folder names for the command line, and YAML texts
for the loader. Whatever is drawn, the promises hold: a documented exit code (never 70, an
internal error), no traceback, every error one line, every syntax error placed inside the text.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from synapsegen.cli import main
from synapsegen.language import load
from synapsegen.language.load import load_text
from synapsegen.language.yaml_hints import source_lines

from ._paths import ROOT

CHAT = ROOT / "schemas" / "chat.yaml"
FEW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ------------------------------------------------------------------------------ the command line

# Exit codes a run over names alone can end with (cli.EXIT_CODES): done, stale, bad input, an
# OS error, a hand-written file in the way.
EXIT_CODES = {0, 1, 2, 3, 5}
_DIAGNOSTIC = re.compile(r".+:\d+:\d+: SG\d{3} (?:warning: )?\S")
_COUNT = re.compile(r"synapsegen: \d+ errors?")
_STALE = re.compile(
    r"synapsegen: \S.* is out of date; run synapsegen to update it"
    r"(?: \(--force to overwrite .+, which synapsegen did not generate\))?"
)

# Pieces of file names: spaces, line breaks, control characters, quotes, non-ASCII letters, bytes
# that are no UTF-8 (as os.fsdecode gives them), dots, dashes, and a name near the 255-byte limit.
_PIECES = st.sampled_from(
    [
        "a", "chat", " ", "  x ", "\n", "\r", "\t", "\x1b[31m", "\x7f", "'", '"', "$HOME", "*",
        "é", "\u2028", "\U0001f600", os.fsdecode(b"\xff"), os.fsdecode(b"\xc3("), ".", "..", "-",
        "-o", "--", "schema", "diff", "c" * 120,
    ]
)  # fmt: skip
_NAMES = (
    st.lists(_PIECES, min_size=1, max_size=4)
    .map("".join)
    .filter(lambda n: n not in ("", ".", ".."))
)
_SUFFIXES = st.sampled_from([".yaml", ".yml", ".json", "", ".txt"])


@st.composite
def _runs(draw: st.DrawFn) -> tuple[str, str, str, str, bool]:
    """(how the schema is there, its name, how the output is there, its name, --check)."""
    schema_kind = draw(st.sampled_from(["file", "folder", "missing", "dangling link"]))
    schema = draw(_NAMES) + draw(_SUFFIXES)
    output_kind = draw(st.sampled_from(["new", "folder", "file", "below a file"]))
    output = draw(_NAMES)
    return schema_kind, schema, output_kind, output, draw(st.booleans())


@contextlib.contextmanager
def _in_new_folder() -> Iterator[Path]:
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(cwd)


def _strict_utf8() -> io.TextIOWrapper:
    """A standard stream as in a UTF-8 locale: what cannot be encoded raises."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def _make(kind: str, name: str, folder: Path) -> str | None:
    """Make the input or output ``kind`` named ``name`` below ``folder``; the argument to pass,
    or None when the name cannot be made here (too long for the file system)."""
    path = folder / name
    try:
        if kind == "file":
            shutil.copy(CHAT, path)
        elif kind == "folder":
            path.mkdir()
            shutil.copy(CHAT, path / "chat.yaml")
        elif kind == "dangling link":
            path.symlink_to(folder / "nowhere")
        elif kind == "below a file":
            (folder / "a-file").write_text("not a folder\n")
            return str(folder / "a-file" / name)
    except OSError:
        return None
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names")
@FEW
@given(run=_runs())
def test_hostile_file_names_get_a_documented_exit_and_one_line_errors(
    run: tuple[str, str, str, str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema_kind, schema_name, output_kind, output_name, check = run
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    monkeypatch.delenv("SYNAPSEGEN_TRACEBACK", raising=False)
    with _in_new_folder() as here:
        (here / "in").mkdir()
        (here / "out").mkdir()
        schema = _make(schema_kind, schema_name, here / "in")
        output = _make(
            "folder" if output_kind == "folder" else output_kind, output_name, here / "out"
        )
        if schema is None or output is None:
            event("a name the file system refuses")
            return
        if output_kind == "folder":  # an output folder with our schema in it: a hand-written file
            (Path(output) / "chat.py").write_text("# mine\n")
        stdout, stderr = _strict_utf8(), _strict_utf8()
        monkeypatch.setattr(sys, "stdout", stdout)
        monkeypatch.setattr(sys, "stderr", stderr)
        code = main([*(["check"] if check else []), schema, "-o", output])
        monkeypatch.undo()
    err = _text(stderr)
    event(f"exit {code}")
    assert code in EXIT_CODES, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    if code in (3, 5) or code == 2 and not any(_COUNT.fullmatch(line) for line in lines):
        assert len(lines) == 1 and lines[0].startswith("synapsegen: error: "), err
    else:  # schema diagnostics (and warnings) one line each, their count; or --check's verdict
        for line in lines:
            assert _DIAGNOSTIC.match(line) or _COUNT.fullmatch(line) or _STALE.fullmatch(line)
    if not check:  # the listing: one line per file (a --check report holds diffs of files)
        for line in _text(stdout).splitlines():
            assert line.startswith(("wrote ", "removed ")), line


# ------------------------------------------------------------------------------------ YAML texts

_YAML_PIECES = st.sampled_from(
    [
        "\t", ":", ": ", ":x", "'", '"', "[", "]", "{", "}", ",", "- ", "-", "#", " ", "  ",
        "\n", "\r\n", "\r", "a", "key", "type:string", "1", "é", "\U0001f600", "\u2028", "\x85",
        "\ufeff", "*", "&", "!", "|", ">", "@", "`", "%", "?", "...", "---", "\\", "\\q",
    ]
)  # fmt: skip
_PREFIXES = st.sampled_from(
    ["", "\ufeff", "version: 1\nsynapses:\n  Chat:\n    ", "a:\n  - b: 1\n"]
)
_YAML_TEXTS = st.tuples(_PREFIXES, st.lists(_YAML_PIECES, max_size=24).map("".join)).map("".join)
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")


@FEW
@given(text=_YAML_TEXTS, libyaml=st.booleans())
def test_every_yaml_syntax_error_is_one_line_inside_the_text(text: str, libyaml: bool) -> None:
    """With libyaml or without, every SG003 names a line of the text and a column of that line
    (or just past its end), in a message of one line; nothing raises."""
    saved = load._LibyamlParser
    if not libyaml:
        load._LibyamlParser = None
    try:
        document = load_text(Path("s.yaml"), text)
    finally:
        load._LibyamlParser = saved
    lines = source_lines(document.text)  # as the loader reads it: without a leading BOM
    for diagnostic in document.diagnostics:
        assert not _LINE_BREAKS.search(diagnostic.message), diagnostic.message
        if diagnostic.code != "SG003":
            continue
        assert 1 <= diagnostic.line <= len(lines), (diagnostic, lines)
        assert 1 <= diagnostic.col <= len(lines[diagnostic.line - 1]) + 1, (diagnostic, lines)
