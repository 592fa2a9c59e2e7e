"""``synapsegen diff``: every rule on a pair of schemas, the example schemas against themselves,
JSON output, ``--against`` a git revision, bad input, and diff(x, x) for random schemas.

Each folder of diff_cases/ holds ``old.yaml``, ``new.yaml`` and ``expected``, the output of
``synapsegen diff -v old.yaml new.yaml`` run in that folder. Regenerate the goldens after an
intended change with ``SYNAPSEGEN_UPDATE_GOLDEN=1 pytest tests/generator/test_diff.py`` and
review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from synapsegen.cli import main
from synapsegen.diff.findings import LABELS

from ._paths import ROOT, SCHEMAS
from .schema_strategies import Case, cases

DIFF_CASES = Path(__file__).parent / "diff_cases"
CASES = sorted(p for p in DIFF_CASES.iterdir() if p.is_dir())
UPDATE = os.environ.get("SYNAPSEGEN_UPDATE_GOLDEN") == "1"
LINE = re.compile(r"(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>SG6\d\d) (?P<rest>.*)")
HAS_GIT = shutil.which("git") is not None


def _diff(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["diff", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _data(name: str, text: str) -> object:
    """A schema file's data, read as synapsegen reads it (YAML 1.2 booleans)."""
    from synapsegen.language.load import load_text

    document = load_text(Path(name), text)
    assert not document.diagnostics, document.diagnostics
    return document.data


def _breaking(line: str) -> bool:
    match = LINE.fullmatch(line)
    assert match, line
    return not match.group("rest").startswith(f"{LABELS['compatible']}: ")


# ---- the corpus: one pair per rule -----------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_diff_case_matches_golden(
    case: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(case)  # findings name the files as given: keep them short
    code, out, err = _diff(["-v", "old.yaml", "new.yaml"], capsys)
    expected = case / "expected"
    if UPDATE:
        expected.write_text(out, encoding="utf-8")
    assert expected.exists(), f"no golden for {case.name}; run with SYNAPSEGEN_UPDATE_GOLDEN=1"
    assert out == expected.read_text(encoding="utf-8")
    lines = out.splitlines()
    assert lines, f"{case.name}: no finding"
    assert code == (1 if any(_breaking(line) for line in lines) else 0), err
    # Without -v, only the breaking lines; the summary counts both.
    code_quiet, quiet, summary = _diff(["old.yaml", "new.yaml"], capsys)
    assert code_quiet == code
    assert quiet.splitlines() == [line for line in lines if _breaking(line)]
    assert summary.startswith("synapsegen: ") and summary.count("\n") == 1


def test_every_diff_code_has_a_case() -> None:
    from synapsegen.codes import CODES

    table = {code for code in CODES if code.startswith("SG6")}
    covered: set[str] = set()
    for case in CASES:
        covered |= set(re.findall(r": (SG\d{3}) ", (case / "expected").read_text("utf-8")))
    assert covered <= table, "a golden uses a code the registry does not explain"
    assert table - covered == set(), "a rule without a case in diff_cases/"


def test_golden_positions_are_inside_the_files() -> None:
    for case in CASES:
        for entry in (case / "expected").read_text(encoding="utf-8").splitlines():
            match = LINE.fullmatch(entry)
            assert match, entry
            assert match.group("file") in ("old.yaml", "new.yaml"), entry
            lines = (case / match.group("file")).read_text(encoding="utf-8").splitlines()
            line, col = int(match.group("line")), int(match.group("col"))
            assert 1 <= line <= len(lines), entry
            assert 1 <= col <= len(lines[line - 1]) + 1, entry


def test_every_case_validates_on_both_sides() -> None:
    """The pairs are valid schemas: a finding is about a change, never about an error."""
    from synapsegen.language.load import load_document
    from synapsegen.language.validate import validate

    for case in CASES:
        for side in ("old.yaml", "new.yaml"):
            assert validate(load_document(case / side)).ok, f"{case.name}/{side}"


# ---- no change, no finding ---------------------------------------------------------------------


@pytest.mark.parametrize("schema", SCHEMAS, ids=[p.name for p in SCHEMAS])
def test_an_example_schema_against_itself_is_empty(
    schema: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _diff(["-v", str(schema), str(schema)], capsys) == (0, "", "")
    code, out, _ = _diff(["--format", "json", str(schema), str(schema)], capsys)
    assert (code, json.loads(out)) == (0, [])


def test_the_example_folder_against_a_copy_in_json_is_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The comparison reads the validated schemas, not their text: the same schemas written as
    JSON (keys reordered, presets left as they are) compare equal."""
    copy = tmp_path / "schemas"
    copy.mkdir()
    for schema in SCHEMAS:
        text = json.dumps(_data(schema.name, schema.read_text("utf-8")), indent=1, sort_keys=True)
        (copy / schema.with_suffix(".json").name).write_text(text, encoding="utf-8")
    assert _diff(["-v", str(ROOT / "schemas"), str(copy)], capsys) == (0, "", "")


# ---- output ------------------------------------------------------------------------------------


def test_json_output(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(DIFF_CASES / "default_changed")
    code, out, _ = _diff(["--format", "json", "old.yaml", "new.yaml"], capsys)
    findings = json.loads(out)
    assert code == 1
    keys = {"code", "category", "breaking", "synapse", "path", "message", "file", "line", "col"}
    assert all(set(finding) == keys for finding in findings)
    assert {finding["category"] for finding in findings} == {"compatible", "breaks-both",
                                                             "breaks-old-validators"}  # fmt: skip
    text = (DIFF_CASES / "default_changed" / "expected").read_text(encoding="utf-8").splitlines()
    assert [
        f"{f['file']}:{f['line']}:{f['col']}: {f['code']} {LABELS[f['category']]}: {f['message']}"
        for f in findings
    ] == text
    score = next(f for f in findings if f["path"] == "synapses.Judge.response.score.default")
    assert score == {
        "code": "SG614", "category": "breaks-both", "breaking": True, "synapse": "Judge",
        "path": "synapses.Judge.response.score.default", "file": "new.yaml", "line": 8, "col": 38,
        "message": score["message"],
    }  # fmt: skip
    assert all(f["breaking"] == (f["category"] != "compatible") for f in findings)


def test_findings_in_a_shared_model_name_each_synapse(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A $defs change is reported once per synapse that uses it, at the model's node, with the
    fields that reach it; its category joins the directions of those fields."""
    monkeypatch.chdir(DIFF_CASES / "shared_model")
    findings = json.loads(_diff(["--format", "json", "old.yaml", "new.yaml"], capsys)[1])
    assert [(f["synapse"], f["category"], f["path"]) for f in findings] == [
        ("Store", "breaks-both", "$defs.Record.properties.kind.enum"),
        ("Fetch", "breaks-old-validators", "$defs.Record.properties.kind.enum"),
    ]


# ---- bad input ---------------------------------------------------------------------------------


def test_invalid_schemas_are_reported_as_the_main_command_reports_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / "tests" / "generator" / "bad_schemas" / "wrong_type.yaml", "bad.yaml")
    shutil.copy(SCHEMAS[0], "good.yaml")
    capsys.readouterr()
    assert main(["bad.yaml", "-o", "out"]) == 2
    expected = capsys.readouterr().err
    assert _diff(["good.yaml", "bad.yaml"], capsys) == (2, "", expected)
    assert _diff(["bad.yaml", "good.yaml"], capsys) == (2, "", expected)
    assert not (tmp_path / "out").exists()


def test_a_synapse_two_files_define_is_sg903(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "new").mkdir()
    shutil.copy(ROOT / "schemas" / "chat.yaml", "chat.yaml")
    shutil.copy(ROOT / "schemas" / "chat.yaml", "new/chat.yaml")
    shutil.copy(ROOT / "schemas" / "chat.yaml", "new/copy.yaml")
    code, out, err = _diff(["chat.yaml", "new"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("new/copy.yaml:1:1: SG903 synapse 'ChatCompletion' is also defined by")


def test_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert _diff([str(SCHEMAS[0])], capsys)[0] == 2
    code, _, err = _diff([str(SCHEMAS[0]), "missing.yaml"], capsys)
    assert code == 2 and "missing.yaml: no such file or folder" in err
    shutil.copy(SCHEMAS[0], tmp_path / "schema.yaml")  # tmp_path is in no repository
    code, _, err = _diff(["--against", "HEAD", "schema.yaml"], capsys)
    assert code == 2 and "not in a git repository" in err


# ---- --against a git revision ------------------------------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose pyproject.toml names schemas/; the cwd; nothing committed."""
    repo = tmp_path / "repo"
    (repo / "schemas").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.synapsegen]\nschemas = ["schemas"]\n')
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "t")
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_against_a_revision(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    search = repo / "schemas" / "search.yaml"
    shutil.copy(ROOT / "schemas" / "search.yaml", search)
    shutil.copy(ROOT / "schemas" / "chat.yaml", repo / "schemas" / "chat.yaml")

    # No commit yet: every synapse is new (the pre-commit hook's first commit).
    code, out, _ = _diff(["-v", "--against", "HEAD"], capsys)
    assert code == 0 and out.count("SG601 compatible") == 2
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    assert _diff(["--against", "HEAD"], capsys) == (0, "", "")

    # The working tree against HEAD: a narrower enum, a removed schema file, a new one.
    search.write_text(search.read_text().replace("[web, news, academic]", "[web, news]"))
    (repo / "schemas" / "chat.yaml").unlink()
    shutil.copy(ROOT / "schemas" / "lines.yaml", repo / "schemas" / "lines.yaml")
    code, out, _ = _diff(["-v", "--against", "HEAD"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert lines[0].startswith("HEAD:schemas/chat.yaml:6:3: SG602 breaks old validators: ")
    assert lines[1].startswith("schemas/lines.yaml:")
    assert " SG601 compatible: " in lines[1]
    assert lines[2].startswith("schemas/search.yaml:")
    assert "SG617 breaks old validators: request field 'tools' of SearchSynapse: " in lines[2]

    # Given paths instead of the configured ones, from a subfolder; an older revision.
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "second")
    os.chdir(repo / "schemas")
    code, out, _ = _diff(["--against", "HEAD~1", "search.yaml"], capsys)
    assert code == 1 and out.startswith("search.yaml:")
    assert _diff(["--against", "HEAD", "search.yaml"], capsys) == (0, "", "")
    code, _, err = _diff(["--against", "no-such-rev", "search.yaml"], capsys)
    assert code == 2 and "no-such-rev: not a commit" in err


@pytest.mark.skipif(not HAS_GIT, reason="git is not installed")
def test_against_a_revision_with_an_invalid_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A schema that was invalid at the revision is reported under its REV:path name."""
    (repo / "schemas" / "chat.yaml").write_text("version: 1\nsynapses: {}\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "broken")
    shutil.copy(ROOT / "schemas" / "chat.yaml", repo / "schemas" / "chat.yaml")
    code, out, err = _diff(["--against", "HEAD"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith("HEAD:schemas/chat.yaml:2:11: SG105 ")


# ---- a property: diff(x, x) is empty -----------------------------------------------------------


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(case=cases())
def test_a_random_schema_against_itself_is_empty(case: Case) -> None:
    """Random schemas (tests/generator/schema_strategies.py, hostile names included) that
    validate compare equal to themselves, as written and converted to JSON."""
    from synapsegen.diff.protocol import compare
    from synapsegen.diff.sources import SchemaFileText, load

    as_written = [SchemaFileText(Path(name), text.encode()) for name, text in case.files.items()]
    as_json = [
        SchemaFileText(Path(name).with_suffix(".json"), json.dumps(_data(name, text)).encode())
        for name, text in case.files.items()
    ]
    old, problems = load(as_written, Path.cwd())
    if problems:
        return  # hostile names may be refused, as the main command refuses them
    assert compare(old, old) == []
    new, problems = load(as_json, Path.cwd())
    assert problems == [], case.describe()
    assert compare(old, new) == [], case.describe()


# ---- the docs ----------------------------------------------------------------------------------


def test_the_docs_show_real_output_and_the_codes() -> None:
    """docs/protocol-changes.md quotes the enum_added case's output and names the code range."""
    from synapsegen.codes import CODES

    doc = (ROOT / "docs" / "protocol-changes.md").read_text(encoding="utf-8")
    shown = (DIFF_CASES / "enum_added" / "expected").read_text(encoding="utf-8")
    assert f"```\n{shown}```" in doc
    codes = sorted(code for code in CODES if code.startswith("SG6"))
    assert f"{codes[0]}-{codes[-1]}" in doc
    for category, label in LABELS.items():
        assert f"| `{category}` | {label} |" in doc


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(old_case=cases(), new_case=cases())
def test_any_two_random_schemas_compare_without_error(old_case: Case, new_case: Case) -> None:
    """Two unrelated random schemas, the new one's first synapse renamed to the old one's first,
    so that two different synapses are compared field by field: no exception, and every finding
    is located inside one of the files."""
    from synapsegen.diff.protocol import compare
    from synapsegen.diff.sources import SchemaFileText, load

    old_name, old_text = next(iter(old_case.files.items()))
    new_name, new_text = next(iter(new_case.files.items()))
    data = _data(new_name, new_text)
    assert isinstance(data, dict)
    first_old = next(iter(_data(old_name, old_text)["synapses"]))  # type: ignore[index]
    synapses = list(data["synapses"].items())
    data["synapses"] = {first_old: synapses[0][1], **dict(synapses[1:])}
    texts = {f"old/{old_name}": old_text.encode(), "new/new.json": json.dumps(data).encode()}
    old, old_problems = load([SchemaFileText(Path(f"old/{old_name}"), texts[f"old/{old_name}"])],
                             Path.cwd())  # fmt: skip
    new, new_problems = load([SchemaFileText(Path("new/new.json"), texts["new/new.json"])],
                             Path.cwd())  # fmt: skip
    if old_problems or new_problems:
        return
    for finding in compare(old, new):
        assert finding.file in texts, finding
        lines = texts[finding.file].decode().split("\n")
        assert 1 <= finding.line <= len(lines) and finding.col >= 1, finding
        json.dumps(finding.as_json())
