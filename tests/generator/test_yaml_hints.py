"""YAML syntax errors in plain words (synapsegen.language.yaml_hints).

The bad schemas in bad_schemas/ (yaml_*.yaml) hold one common mistake each, with its golden
output; here: the hints place the error at the character they name, say the same without
libyaml, and stay off where they would be wrong (a quoted text, a JSON file).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from synapsegen.language import load
from synapsegen.language.load import load_document, load_text
from synapsegen.language.validate import validate

from .test_bad_schemas import BAD_SCHEMAS

HINTED = sorted(
    golden.with_suffix("")
    for golden in BAD_SCHEMAS.glob("*.yaml.expected")
    if "(hint: " in golden.read_text(encoding="utf-8")
)

# Each kind of explained message, and the character its position must hold (None: the start of
# the text it is about, whatever that is).
_NAMED_CHARACTER: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]]] = [
    (re.compile(r"SG003 YAML syntax error: a tab "), lambda m: "\t"),
    (re.compile(r"'[^']*' has no space after its colon"), lambda m: ":"),
    (re.compile(r"the value '.*' contains ': '"), lambda m: ":"),
    (re.compile(r"an unquoted (?:value|key) cannot start with '(.)'"), lambda m: m.group(1)),
    (re.compile(r"'(.)' starts an? "), lambda m: m.group(1)),
    (re.compile(r"'(\*)[^']*' refers to an anchor"), lambda m: m.group(1)),
    (re.compile(r"this '(.)' is (?:not|never) closed"), lambda m: m.group(1)),
    (re.compile(r"'(.)' does not close"), lambda m: m.group(1)),
    (re.compile(r"'(.)' closes nothing"), lambda m: m.group(1)),
    (re.compile(r"the quote (.) that starts this value"), lambda m: m.group(1)),
    (re.compile(r"'(\\).' is no escape sequence"), lambda m: m.group(1)),
    (re.compile(r"a list item "), lambda m: "-"),
    (re.compile(r"'(.)[^']*' is (?:at column|indented more)"), lambda m: m.group(1)),
    (re.compile(r"a second YAML document starts at this '---'"), lambda m: "-"),
    (re.compile(r"'\.\.\.' ends the YAML document"), lambda m: "."),
    (re.compile(r"'[^']*' is followed by no ':'"), lambda m: ""),  # the end of the line
    (re.compile(r"a key among the items of a list"), lambda m: None),
    (re.compile(r"a ',' is missing before this entry"), lambda m: None),
    (re.compile(r"text after the closing quote"), lambda m: None),
    (re.compile(r"text after the '.' that closes"), lambda m: None),
    (re.compile(r"this line is indented less than the first line"), lambda m: None),
    (re.compile(r"unsupported YAML tag '(!)"), lambda m: m.group(1)),
]


def _output(case: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(BAD_SCHEMAS)
    return [str(d) for d in validate(load_document(Path(case.name))).diagnostics]


def test_there_are_hinted_cases() -> None:
    assert len(HINTED) >= 25, [case.name for case in HINTED]


@pytest.mark.parametrize("case", HINTED, ids=[case.name for case in HINTED])
def test_a_hint_points_at_the_character_it_names(case: Path) -> None:
    lines = case.read_text(encoding="utf-8").split("\n")
    for entry in case.with_suffix(".yaml.expected").read_text(encoding="utf-8").splitlines():
        position = re.match(r"[^:]+:(\d+):(\d+): ", entry)
        assert position is not None, entry
        line, col = int(position.group(1)), int(position.group(2))
        at = lines[line - 1][col - 1 : col]
        named = [rule(m) for pattern, rule in _NAMED_CHARACTER if (m := pattern.search(entry))]
        if " SG1" in entry:  # a structure error, at its node as every other
            continue
        assert named, f"no rule here knows this message: {entry}"
        if named[0] is None:
            assert at.strip(), f"{entry}: the position holds {at!r}"
        else:
            assert at == named[0], f"{entry}: the position holds {at!r}"


@pytest.mark.parametrize("case", HINTED, ids=[case.name for case in HINTED])
def test_the_hints_are_the_same_without_libyaml(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With libyaml the loader parses a text again with PyYAML's parser when libyaml refuses it;
    without libyaml PyYAML's parser is the only one: the same words either way."""
    golden = case.with_suffix(".yaml.expected").read_text(encoding="utf-8").splitlines()
    monkeypatch.setattr(load, "_LibyamlParser", None)
    assert _output(case, monkeypatch) == golden


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        # A missing comma in a {...} over several lines; the same text at the column of the
        # block's keys is the next key: the bracket was left open.
        ("a:\n  b: {c: 1\n    d: 2}\n", "3:5", "a ',' is missing before this entry of the "
         "mapping opened at line 2, column 6"),
        ("a:\n  b: {c: 1\n  d: 2\n", "2:6", "this '{' is not closed before line 3"),
        ("a: {b: 1 c: 2}\n", "1:10", "a ',' is missing before this entry"),
        ("a: [1, 2}\n", "1:9", "'}' does not close the '[' opened at column 4"),
        ("a: {b: [1, 2\n", "1:8", "this '[' is never closed"),
        # The text after a key's value: a key of a nested mapping, or text.
        ("a: 1\n  b: 2\n", "2:3", "'b' is indented more than 'a' above it"),
        ("a:\n  - b: c: d\n", "2:9", "the value 'c: d' contains ': '"),
        ("version:1\nsynapses: {}\n", "1:8", "'version:1' has no space after its colon"),
        ("a: ]\n", "1:4", "an unquoted value cannot start with ']'"),
        ("@a: 1\n", "1:1", "an unquoted key cannot start with '@'"),
        ("a: - b\n", "1:4", "a list item cannot start on the line of its key"),
        ("a: 'it's'\n", "1:8", "text after the closing quote of a value"),
        ("  a: 1\nb: 2\n", "2:1", "this line is indented less than the first line"),
        ("a:\n  b: 1\n c: 2\n", "3:2", "'c' is at column 2, where no mapping above it has its "
         "keys (hint: indent it with spaces to column 1 or 3"),
        # A list's own column is no key column (a key there is a key among list items): the
        # columns offered are those of keys, after the `- ` (the hints offered 3, and 1).
        ("a:\n  - b: 1\n   c: 2\n", "3:4", "'c' is at column 4, where no mapping above it has "
         "its keys (hint: indent it with spaces to column 1 or 5,"),
        ("a:\n  -\n    b: 1\n   c: 2\n", "4:4", "'c' is at column 4, where no mapping above it "
         "has its keys (hint: indent it with spaces to column 1 or 5,"),
        ("- a: 1\n   b: 2\n", "2:4", "'b' is indented more than 'a' above it, which already has "
         "a value on its line (hint: line it up with 'a', at column 3,"),
        # The lines of a block text, and a list item that is no mapping, hold no keys: their
        # columns were offered (a key at column 3 here is text of the '>' block).
        ("a: >\n  see:this\n c: 2\n", "3:2", "'c' is at column 2, where no mapping above it has "
         "its keys (hint: indent it with spaces to column 1, like"),
        ("a:\n  - |\n    t\n c: 2\n", "4:2", "'c' is at column 2, where no mapping above it has "
         "its keys (hint: indent it with spaces to column 1, like"),
    ],
)  # fmt: skip
def test_hints_of_other_shapes(text: str, position: str, message: str) -> None:
    [diagnostic] = load_text(Path("s.yaml"), text).diagnostics
    assert str(diagnostic).startswith(f"s.yaml:{position}: SG003 YAML syntax error: {message}")
    assert "(hint: " in diagnostic.message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.yaml", 'version: 1\nsynapses:\n  Chat:\n    request:\n      p: "type:string"\n'),
        ("s.yaml", "version: 1\nsynapses:\n  Chat:\n    request:\n      p: !!str type:string\n"),
        ("s.json", '{"version": 1, "synapses": {"Chat": {"request": {"p": "type:string"}}}}'),
    ],
    ids=["quoted", "tagged", "json"],
)
def test_a_written_text_gets_no_colon_hint(name: str, text: str) -> None:
    """``type:string`` in quotes, tagged ``!!str``, or in JSON, was written as a text on purpose."""
    messages = [d.message for d in validate(load_text(Path(name), text)).diagnostics]
    assert any("expected a mapping, got 'type:string'" in m for m in messages), messages
    assert not any("hint" in m for m in messages), messages


def test_an_unquoted_colon_text_gets_the_hint() -> None:
    text = "version: 1\nsynapses:\n  Chat:\n    request:\n      p: type:string\n"
    messages = [d.message for d in validate(load_text(Path("s.yaml"), text)).diagnostics]
    assert any(m.endswith("(hint: put a space after the colon: `type: string`)") for m in messages)


def test_a_key_with_no_key_above_gets_no_column_hint() -> None:
    """No line above holds a key: there is no column to offer, and PyYAML's words stay."""
    [diagnostic] = load_text(Path("s.yaml"), "-  - x\n  a: 1\n").diagnostics
    assert diagnostic.code == "SG003" and "hint" not in diagnostic.message, diagnostic.message
