"""The file-level diagnostics SG901-SG903, exactly as the command prints them."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from synapsegen.cli import main
from synapsegen.codes import CODES

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


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"2chat.yaml": CHAT, "chat.v2.yaml": CHAT, "__init__.yaml": CHAT},
            "schemas/2chat.yaml:1:1: SG901 file name '2chat.yaml' does not give a Python module"
            " name\n"
            "schemas/__init__.yaml:1:1: SG901 file name '__init__.yaml' does not give a Python"
            " module name\n"
            "schemas/chat.v2.yaml:1:1: SG901 file name 'chat.v2.yaml' does not give a Python"
            " module name\n"
            "synapsegen: 3 errors\n",
            id="sg901_file_name_without_module_name",
        ),
        pytest.param(
            {"chat-v2.yaml": CHAT, "chat_v2.yaml": LINES},
            "schemas/chat_v2.yaml:1:1: SG902 would generate module chat_v2.py, like"
            " schemas/chat-v2.yaml\n"
            "synapsegen: 1 error\n",
            id="sg902_two_files_one_module",
        ),
        pytest.param(
            {
                "a-b.yaml": CHAT,
                "a_b.yaml": "version: 2\n",
                "broken.yaml": "version: 1\nsynapses: {}\n",
            },
            "schemas/a_b.yaml:1:1: SG902 would generate module a_b.py, like schemas/a-b.yaml\n"
            "schemas/broken.yaml:2:11: SG105 synapses: expected at least 1 entry\n"
            "synapsegen: 2 errors\n",
            id="sg902_is_listed_with_the_schema_errors",
        ),
        pytest.param(
            {"chat.yaml": CHAT, "copy.yaml": CHAT},
            # Only the synapse: the nested models Message and Role may be defined by both files.
            "schemas/copy.yaml:1:1: SG903 synapse 'ChatCompletion' is also defined by "
            "schemas/chat.yaml; a synapse's name is its route on the axon, so it must be unique "
            "(rename one)\n"
            "synapsegen: 1 error\n",
            id="sg903_a_synapse_name_defined_by_two_files",
        ),
    ],
)
def test_file_level_errors(
    folder: Path, capsys: pytest.CaptureFixture[str], files: dict[str, Path | str], expected: str
) -> None:
    """Each file is a copy of a schema (a Path) or the text given; the command fails with exactly
    ``expected`` and writes nothing."""
    for name, source in files.items():
        if isinstance(source, Path):
            shutil.copy(source, folder / name)
        else:
            (folder / name).write_text(source)
    code, err = _run(capsys, "schemas")
    assert code == 2
    assert err == expected
    assert not (folder.parent / "out").exists()


def _import_package(out: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(out.parent))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(out.parent))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def test_nested_models_may_share_names_across_files(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(CHAT, folder / "chat.yaml")
    other = CHAT.read_text(encoding="utf-8").replace("ChatCompletion:", "ChatCompletionB:")
    # A model of the other file named like this file's synapse: the synapse keeps the name.
    other = other.replace("$defs:\n", "$defs:\n  ChatCompletion: {type: string}\n")
    (folder / "other.yaml").write_text(other, encoding="utf-8")
    assert main(["schemas", "-o", "sg_shared_names"]) == 0
    assert capsys.readouterr().err == ""
    out = folder.parent / "sg_shared_names"
    init = (out / "__init__.py").read_text(encoding="utf-8")
    assert (
        "\n# Defined by several modules, so not re-exported here; import each from its module:\n"
        "#   ChatCompletion: other.ChatCompletion\n"
        "#   Message: chat.Message, other.Message\n"
        "#   Role: chat.Role, other.Role\n"
    ) in init
    package = _import_package(out, "sg_shared_names")
    assert package.__all__ == ["ChatCompletion", "ChatCompletionB"]
    assert not hasattr(package, "Message")
    assert package.ChatCompletion is package.chat.ChatCompletion  # the synapse, not the alias
    assert package.chat.Message is not package.other.Message
    # Each synapse validates with its own module's model.
    message = {"role": "user", "content": "hi"}
    assert isinstance(package.ChatCompletion(messages=[message]).messages[0], package.chat.Message)
    b = package.ChatCompletionB(messages=[message])
    assert isinstance(b.messages[0], package.other.Message)


def test_every_file_level_code_is_in_the_registry() -> None:
    assert {"SG901", "SG902", "SG903"} == {code for code in CODES if code.startswith("SG9")}
