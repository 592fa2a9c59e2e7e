"""Loading YAML and JSON: data, node positions, YAML 1.2 booleans, and errors as diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synapsegen.diagnostics import Diagnostic, Position
from synapsegen.language.load import load_bytes, load_document, load_text

YAML_TEXT = """\
version: 1
synapses:
  Chat:
    request:
      prompt: {type: string, hash: true}
      flags: [on, yes, no, off, true, False]
    stream:
      format: text
"""


def test_yaml_data_uses_yaml_12_core_booleans() -> None:
    doc = load_text(Path("s.yaml"), YAML_TEXT)
    assert doc.diagnostics == ()
    request = doc.data["synapses"]["Chat"]["request"]
    assert request["prompt"] == {"type": "string", "hash": True}
    assert request["flags"] == ["on", "yes", "no", "off", True, False]


def test_yaml_scalars_follow_the_core_schema() -> None:
    doc = load_text(
        Path("s.yaml"), "a: 0o17\nb: 0x1f\nc: 1.5e3\nd: ~\ne:\nf: -1.0\ng: 2001-01-01\n"
    )
    assert doc.data == {"a": 15, "b": 31, "c": 1500.0, "d": None, "e": None,
                        "f": -1.0, "g": "2001-01-01"}  # fmt: skip


def test_yaml_keys_are_strings_taken_verbatim() -> None:
    doc = load_text(Path("s.yaml"), "1: a\ntrue: b\nnull: c\n")
    assert doc.data == {"1": "a", "true": "b", "null": "c"}


def test_yaml_positions_of_values_and_keys() -> None:
    doc = load_text(Path("s.yaml"), YAML_TEXT)
    prompt = ("synapses", "Chat", "request", "prompt")
    assert doc.key_positions[prompt] == Position(5, 7)
    assert doc.positions[prompt] == Position(5, 15)
    assert doc.positions[(*prompt, "hash")] == Position(5, 36)
    assert doc.positions[("synapses", "Chat", "request", "flags", 4)] == Position(6, 33)
    assert doc.positions[("synapses", "Chat", "stream", "format")] == Position(8, 15)


def test_json_data_and_positions_match_the_text() -> None:
    data = {"version": 1, "synapses": {"Chat": {"stream": {"format": "text"}}}, "x": [1, "a\\"]}
    text = json.dumps(data, indent="\t")
    doc = load_text(Path("s.json"), text)
    assert doc.diagnostics == ()
    assert doc.data == data
    lines = text.splitlines()
    for path, pos in doc.positions.items():
        line = lines[pos.line - 1]
        if path:
            start = line[pos.col - 1 :]
            value = data
            for part in path:
                value = value[part]  # type: ignore[index]
            assert start.startswith(json.dumps(value)[:1]), (path, line)
    for path, pos in doc.key_positions.items():
        assert lines[pos.line - 1][pos.col - 1 :].startswith(json.dumps(path[-1])), path


def test_json_positions_tolerate_odd_whitespace() -> None:
    doc = load_text(Path("s.json"), '{"a"\n  :\r\n [ 1 ,\n\t{"b" : null} ] }')
    assert doc.positions[("a", 1, "b")] == Position(4, 9)
    assert doc.key_positions[("a",)] == Position(1, 2)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("s.json", '{"a": 1,\n "b": tru}', "s.json:2:7: SG003 JSON syntax error: Expecting value"),
        ("s.json", '{"a": NaN}', "s.json:1:7: SG003 JSON syntax error: NaN is not valid JSON"),
        ("s.yaml", "a: [1\nb: 2\n", "s.yaml:1:4: SG003 YAML syntax error: this '[' is not closed "
         "before line 2 (hint: end the list with ']')"),
        ("s.yaml", "a: 1\n---\nb: 2\n", "s.yaml:2:1: SG003 YAML syntax error: a second YAML "
         "document starts at this '---' line, and a schema file holds one (hint: remove the '---' "
         "line, or move what follows it into a file of its own)"),
        ("s.yaml", "a: &x [*x]\n", "s.yaml:1:4: SG005 recursive alias: a node contains itself"),
        ("s.yaml", "? [a]\n: 1\n", "s.yaml:1:3: SG005 mapping keys must be plain strings"),
        ("s.yaml", "a: 1\na: 2\n", "s.yaml:2:1: SG004 duplicate key 'a' (first defined at line 1, "
         "column 1)"),
    ],
)  # fmt: skip
def test_bad_text_gives_one_diagnostic(name: str, text: str, expected: str) -> None:
    doc = load_text(Path(name), text)
    assert doc.data is None
    assert [str(d) for d in doc.diagnostics] == [expected]


def test_alias_bombs_are_bounded() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    doc = load_text(Path("bomb.yaml"), "\n".join(lines) + "\n")
    assert [d.code for d in doc.diagnostics] == ["SG005"]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    for name, text in (("d.yaml", "[" * 5000 + "]" * 5000), ("d.json", "[" * 5000 + "]" * 5000)):
        doc = load_text(Path(name), text)
        assert doc.data is None and [d.code for d in doc.diagnostics] in (["SG005"], ["SG003"])


def test_load_document_reads_files_and_hashes_raw_bytes(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbfversion: 1\n"  # with a BOM
    (tmp_path / "a.yml").write_bytes(raw)
    doc = load_document(tmp_path / "a.yml")
    assert doc.data == {"version": 1}
    import hashlib

    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.text == "version: 1\n"


def test_unreadable_and_unknown_files_give_diagnostics(tmp_path: Path) -> None:
    missing = load_document(tmp_path / "missing.yaml")
    assert [d.code for d in missing.diagnostics] == ["SG001"]
    assert str(missing.diagnostics[0]).startswith(f"{tmp_path / 'missing.yaml'}:1:1: SG001 ")
    (tmp_path / "a.toml").write_text("x = 1")
    assert [d.code for d in load_document(tmp_path / "a.toml").diagnostics] == ["SG006"]
    (tmp_path / "bad.json").write_bytes(b'{"a": "\xff"}')
    bad = load_document(tmp_path / "bad.json")
    assert [str(d) for d in bad.diagnostics] == [
        f"{tmp_path / 'bad.json'}:1:8: SG002 file is not valid UTF-8 (byte 0xff at offset 7)"
    ]


def test_diagnostic_str_format() -> None:
    assert str(Diagnostic("a.yaml", 3, 7, "SG101", "msg")) == "a.yaml:3:7: SG101 msg"


def test_invalid_utf8_column_counts_characters_and_offset_counts_bytes() -> None:
    # Found by hypothesis: two 2-byte characters before the bad byte are columns 1-2, not 1-4.
    doc = load_bytes(Path("s.yaml"), b"\xc2\x80\xc2\x80\x80", is_json=False)
    assert [str(d) for d in doc.diagnostics] == [
        "s.yaml:1:3: SG002 file is not valid UTF-8 (byte 0x80 at offset 4)"
    ]
    with_bom = load_bytes(Path("s.yaml"), b"\xef\xbb\xbfab\n\xc3\xa9\x80", is_json=False)
    assert [str(d) for d in with_bom.diagnostics] == [
        "s.yaml:2:2: SG002 file is not valid UTF-8 (byte 0x80 at offset 8)"
    ]
