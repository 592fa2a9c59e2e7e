"""``--templates DIR`` / ``[tool.synapsegen] templates``: user templates replace shipped ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from synapsegen.cli import main
from synapsegen.output.header import templates_digest
from synapsegen.output.layout import up_to_date

from ._paths import ROOT

CHAT = ROOT / "schemas" / "chat.yaml"

# Wraps the shipped synapse template: a marker comment above every synapse class.
WRAPPER = """\
# Reviewed synapse: {{ synapse.name }}
{% include "synapsegen/synapse.py.jinja" %}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cwd with schemas/chat.yaml and a templates/ folder overriding synapse.py.jinja."""
    (tmp_path / "schemas").mkdir()
    shutil.copy(CHAT, tmp_path / "schemas" / "chat.yaml")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "synapse.py.jinja").write_text(WRAPPER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    return tmp_path


def test_override_replaces_the_shipped_template(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "-o", "plain"]) == 0
    assert main(["schemas", "-o", "out", "--templates", "templates"]) == 0
    custom = (project / "out" / "chat.py").read_text()
    plain = (project / "plain" / "chat.py").read_text()
    assert "# Reviewed synapse: ChatCompletion\nclass ChatCompletion(StreamingSynapse):" in custom
    # Everything else is the shipped output (the included original, formatted the same way).
    body = custom.split("\n", 3)[3].replace("# Reviewed synapse: ChatCompletion\n", "")
    assert body == plain.split("\n", 3)[3]
    # The override is part of the inputs fingerprint; its folder's path is not.
    assert custom.splitlines()[2] != plain.splitlines()[2]
    capsys.readouterr()
    assert main(["schemas", "-o", "out", "--templates", "templates", "--check"]) == 0
    assert main(["schemas", "-o", "out", "--check"]) == 1  # without them: out of date
    assert "-# Reviewed synapse: ChatCompletion" in capsys.readouterr().out


def test_check_notices_an_edited_override(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    templates = project / "templates"
    assert main(["schemas", "-o", "out", "--templates", "templates"]) == 0
    paths = [project / "schemas" / "chat.yaml"]
    options = {"runtime": "synapsegen"}
    assert up_to_date(paths, project / "out", options, project, templates)  # the fast path
    assert not up_to_date(paths, project / "out", options, project)  # shipped templates only

    (templates / "synapse.py.jinja").write_text(WRAPPER.replace("Reviewed", "Audited"))
    assert not up_to_date(paths, project / "out", options, project, templates)
    capsys.readouterr()
    assert main(["schemas", "-o", "out", "--templates", "templates", "--check"]) == 1
    report = capsys.readouterr().out
    assert "+# Audited synapse: ChatCompletion" in report

    # A new file in the folder counts too (it could be included); a hidden one does not.
    assert main(["schemas", "-o", "out", "--templates", "templates"]) == 0
    before = templates_digest(templates)
    (templates / ".synapse.py.jinja.swp").write_bytes(b"editor state")
    assert templates_digest(templates) == before
    (templates / "parts").mkdir()
    (templates / "parts" / "extra.jinja").write_text("# extra\n")
    assert templates_digest(templates) != before
    assert not up_to_date(paths, project / "out", options, project, templates)


def test_pyproject_templates_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.synapsegen]\nschemas = ["schemas"]\noutput = "out"\ntemplates = "templates"\n'
    )
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")  # paths in pyproject.toml are relative to it
    assert main([]) == 0
    assert "# Reviewed synapse: ChatCompletion" in (project / "out" / "chat.py").read_text()
    assert main(["--check"]) == 0


def test_missing_templates_folder_is_a_usage_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "-o", "out", "--templates", "nowhere"]) == 2
    assert capsys.readouterr().err == (
        "synapsegen: error: templates folder nowhere: no such folder\n"
    )
    (project / "pyproject.toml").write_text("[tool.synapsegen]\ntemplates = 3\n")
    assert main(["schemas", "-o", "out"]) == 2
    assert "[tool.synapsegen] templates must be a path" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% if %}\n", "templates/synapse.py.jinja:1: TemplateSyntaxError: "),
        ("{{ synapse.nme }}\n", "UndefinedError: "),
        ("class {{ synapse.name }}(:\n", "the rendered code is not valid Python"),
    ],
    ids=["syntax", "undefined", "not-python"],
)
def test_broken_override_is_an_input_error_naming_the_folder(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    (project / "templates" / "synapse.py.jinja").write_text(text)
    assert main(["schemas", "-o", "out", "--templates", "templates"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("synapsegen: error: templates in templates: ")
    assert expected in err and "internal error" not in err
    assert not (project / "out").exists()
