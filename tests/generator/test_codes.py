"""The registry of diagnostic codes (``synapsegen.codes``) holds exactly the codes synapsegen
reports, each seen reported by some test, and its wrong and right examples do what they say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synapsegen.codes import CODES, SERIES
from synapsegen.language.load import load_text
from synapsegen.language.validate import validate

from ._paths import ROOT

GENERATOR = ROOT / "generator"
REGISTRY = GENERATOR / "codes.py"
GOLDEN_OUTPUTS = sorted(
    [
        *(ROOT / "tests" / "generator" / "bad_schemas").glob("*.expected"),
        *(ROOT / "tests" / "generator" / "diff_cases").glob("*/expected"),
    ]
)
# Codes no golden output and no registry example can show, and the test that sees each reported.
SEEN_ELSEWHERE = {
    "SG001": "tests/generator/test_load.py",  # an unreadable file: no file content gives it
    "SG006": "tests/generator/test_load.py",  # the file's extension, not its content
    "SG901": "tests/generator/test_file_diagnostics.py",  # file names
    "SG902": "tests/generator/test_file_diagnostics.py",
    "SG903": "tests/generator/test_file_diagnostics.py",  # two files
}
EXAMPLES = [code for code, entry in CODES.items() if entry.example is not None]


def _golden_codes() -> set[str]:
    codes: set[str] = set()
    for path in GOLDEN_OUTPUTS:
        codes |= set(re.findall(r": (SG\d{3}) ", path.read_text(encoding="utf-8")))
    return codes


def _codes_in_sources() -> dict[str, set[str]]:
    """Each code written as a string literal in the generator's modules (the registry aside),
    with the modules that write it: the codes the generator and diff can report."""
    found: dict[str, set[str]] = {}
    for path in sorted(GENERATOR.rglob("*.py")):
        if path == REGISTRY:
            continue
        for code in re.findall(r"[\"'](SG\d{3})[\"']", path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_golden_outputs_are_found() -> None:
    assert len(GOLDEN_OUTPUTS) > 50
    assert {"SG003", "SG103", "SG414", "SG616", "SG646"} <= _golden_codes()


def test_every_code_in_a_golden_output_is_in_the_registry() -> None:
    assert _golden_codes() - set(CODES) == set()


def test_the_registry_holds_exactly_the_codes_the_sources_report() -> None:
    """Every code literal in generator/ is explained, and every explained code is reported by
    some module (a code nothing reports would be documentation of nothing)."""
    in_sources = _codes_in_sources()
    assert set(in_sources) - set(CODES) == set(), "codes the registry does not explain"
    assert set(CODES) - set(in_sources) == set(), "registry codes no module reports"


def test_every_code_is_seen_reported() -> None:
    """Each code shows up in a golden output, is reported for its own wrong example (tested
    below), or is seen by the test SEEN_ELSEWHERE names."""
    shown = _golden_codes() | set(EXAMPLES)
    assert set(CODES) - shown == set(SEEN_ELSEWHERE)
    for code, test in SEEN_ELSEWHERE.items():
        assert re.search(rf"\b{code}\b", (ROOT / test).read_text(encoding="utf-8")), (code, test)


def test_the_registry_is_well_formed() -> None:
    codes = list(CODES)
    assert codes == sorted(codes)
    kinds = {"5": "warning", "6": "finding"}
    for code, entry in CODES.items():
        assert re.fullmatch(r"SG\d{3}", code) and entry.code == code
        assert code[2] in SERIES, code
        assert entry.kind == kinds.get(code[2], "error"), code
        assert 0 < len(entry.title) <= 50 and not entry.title.endswith("."), code
        for text in (entry.title, entry.meaning, entry.why, entry.fix):
            assert text and text == text.strip(), code
            assert "``" not in text, f"{code}: reStructuredText literal, use `code`"
            assert text.count("`") % 2 == 0, f"{code}: unbalanced backquotes in {text!r}"
            assert "  " not in text and "\n\n\n" not in text, code
            assert not re.search(r"[a-z]- [a-z]", text), f"{code}: a word broken at a hyphen"
        for text in (entry.meaning, entry.why, entry.fix):
            assert text.endswith((".", ")", ":")) or text.endswith("`"), (code, text[-30:])


@pytest.mark.parametrize("code", EXAMPLES)
def test_the_wrong_example_gets_its_code_and_no_other(code: str) -> None:
    example = CODES[code].example
    assert example is not None
    result = validate(load_text(Path("example.yaml"), example.wrong))
    reported = [d.code for d in (*result.diagnostics, *result.warnings)]
    assert set(reported) == {code}, [str(d) for d in (*result.diagnostics, *result.warnings)]


@pytest.mark.parametrize("code", EXAMPLES)
def test_the_right_example_validates_without_warnings(code: str) -> None:
    example = CODES[code].example
    assert example is not None
    result = validate(load_text(Path("example.yaml"), example.right))
    assert result.ok and not result.warnings, [
        str(d) for d in (*result.diagnostics, *result.warnings)
    ]


def test_examples_are_whole_short_files() -> None:
    for code in EXAMPLES:
        example = CODES[code].example
        assert example is not None
        for schema in (example.wrong, example.right):
            assert schema.endswith("\n") and not schema.endswith("\n\n"), code
            assert schema.startswith(("version: 1\n", "synapses:\n")), code
            assert len(schema.splitlines()) <= 20, code
            assert max(map(len, schema.splitlines())) <= 96, code
        assert example.wrong != example.right, code


def test_sg003_tells_of_the_hints_the_yaml_mistakes_get() -> None:
    """The common YAML mistakes are worded with a hint at the character to change
    (synapsegen.language.yaml_hints); SG003's text said only that the position is where the
    parser gave up, to be read with the line before it."""
    hinted = [
        path.name
        for path in GOLDEN_OUTPUTS
        if re.search(r": SG003 YAML syntax error: .*\(hint: ", path.read_text(encoding="utf-8"))
    ]
    assert hinted, "no golden shows a hinted YAML syntax error"
    entry = CODES["SG003"]
    assert "hint" in entry.why and "hint" in entry.fix


@pytest.mark.parametrize(
    ("stream", "words"),
    [
        ("{framing: lines, payload: json, delimiter: ',', rules: [{op: concat, path: t,"
         " field: answer}]}", "control characters"),
        ('{framing: sse, payload: text, sentinel: "a\\nb", rules: [{op: concat, field: answer}]}',
         "line break"),
    ],
)  # fmt: skip
def test_sg407_says_what_it_reports_within_a_framing(stream: str, words: str) -> None:
    """SG407's meaning named only an option of another framing; it also reports one its own
    framing cannot carry."""
    text = (
        "version: 1\nsynapses:\n  Chat:\n    request:\n"
        '      prompt: {type: string, default: "", hash: true}\n'
        '    response:\n      answer: {type: string, default: ""}\n'
        f"    stream: {stream}\n"
    )
    codes = [d.code for d in validate(load_text(Path("s.yaml"), text)).diagnostics]
    assert codes == ["SG407"]
    assert words in CODES["SG407"].meaning


@pytest.mark.parametrize(
    ("code", "reported", "meaning"),
    [
        ("SG306", "of an integer must be a whole number", "whole number"),
        ("SG409", "also matches the final event", "final event"),
        ("SG412", "`group` 'a..b' is not a path", "`group`"),
    ],
)
def test_a_meaning_covers_what_the_goldens_show_reported(
    code: str, reported: str, meaning: str
) -> None:
    """The meanings of these codes left out one of the messages reported with them."""
    shown = [
        line
        for path in GOLDEN_OUTPUTS
        for line in path.read_text(encoding="utf-8").splitlines()
        if f": {code} " in line and reported in line
    ]
    assert shown, f"no golden shows {code} reporting {reported!r}"
    assert meaning in CODES[code].meaning
