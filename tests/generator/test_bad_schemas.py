"""Golden tests: each bad schema in bad_schemas/ prints exactly the lines of its .expected file.

Regenerate the goldens after an intended change with ``SYNAPSEGEN_UPDATE_GOLDEN=1 pytest
tests/generator/test_bad_schemas.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from synapsegen.language.load import load_document
from synapsegen.language.validate import validate

BAD_SCHEMAS = Path(__file__).parent / "bad_schemas"
CASES = sorted(p for p in BAD_SCHEMAS.iterdir() if p.suffix in {".yaml", ".json"})
UPDATE = os.environ.get("SYNAPSEGEN_UPDATE_GOLDEN") == "1"


def _output(case: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(BAD_SCHEMAS)  # diagnostics carry the path as given: keep it short
    result = validate(load_document(Path(case.name)))
    assert result.schema is None, f"{case.name} should not validate"
    return "".join(f"{diagnostic}\n" for diagnostic in result.diagnostics)


_JSON_SYNTAX_LINE = re.compile(r"^[^\n]*: SG003 JSON syntax error: [^\n]*$", re.MULTILINE)


def _json_error_here(case: Path) -> str | None:
    """The SG003 line of a JSON syntax error as this interpreter's json words and places it.

    The goldens were written on Python 3.11; json's messages are its own and change between
    versions (3.13: "Illegal trailing comma before end of object", one column earlier, where
    3.11 says "Expecting property name enclosed in double quotes").
    """
    if case.suffix != ".json":
        return None
    try:
        json.loads(case.read_bytes().decode("utf-8"))
    except json.JSONDecodeError as exc:
        return f"{case.name}:{exc.lineno}:{exc.colno}: SG003 JSON syntax error: {exc.msg}"
    except ValueError:  # not a syntax error of json's (NaN, bad UTF-8): our own wording
        return None
    return None


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_bad_schema_output_matches_golden(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = _output(case, monkeypatch)
    expected_path = case.with_suffix(case.suffix + ".expected")
    if UPDATE:
        expected_path.write_text(output, encoding="utf-8")
    assert expected_path.exists(), f"no golden for {case.name}; run with SYNAPSEGEN_UPDATE_GOLDEN=1"
    expected = expected_path.read_text(encoding="utf-8")
    here = _json_error_here(case)
    if here is not None:
        assert len(_JSON_SYNTAX_LINE.findall(expected)) == 1, expected
        expected = _JSON_SYNTAX_LINE.sub(lambda _: here, expected)
    assert output == expected


def test_every_code_in_the_registry_has_a_golden_case() -> None:
    from synapsegen.codes import CODES

    documented = set(CODES)
    covered = set()
    for golden in BAD_SCHEMAS.glob("*.expected"):
        covered |= set(re.findall(r": (SG\d{3}) ", golden.read_text(encoding="utf-8")))
    # SG001 (unreadable) and SG006 (extension) cannot live in this folder; test_load covers them.
    # SG9xx are about the set of files (the pipeline's); test_file_diagnostics covers them.
    # SG5xx are warnings, given with a file that generates: test_cli and test_validate cover them.
    # SG6xx are the findings of `synapsegen diff`, not errors: test_diff covers them (diff_cases).
    warnings = {"SG501", "SG502"}
    diff = {code for code in documented if code.startswith("SG6")}
    assert documented - covered == {"SG001", "SG006", "SG901", "SG902", "SG903", *warnings, *diff}
    assert covered <= documented, "a golden uses a code the registry does not explain"


def test_golden_positions_are_inside_the_file() -> None:
    for golden in BAD_SCHEMAS.glob("*.expected"):
        source = golden.with_suffix("")
        lines = source.read_bytes().decode("utf-8", errors="replace").splitlines() or [""]
        for entry in golden.read_text(encoding="utf-8").splitlines():
            match = re.match(r"[^:]+:(\d+):(\d+): SG\d{3} ", entry)
            assert match, entry
            line, col = int(match.group(1)), int(match.group(2))
            assert 1 <= line <= len(lines), entry
            assert 1 <= col <= len(lines[line - 1]) + 1, entry
