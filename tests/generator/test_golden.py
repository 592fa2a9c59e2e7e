"""Generated output for every schema in schemas/ equals the committed golden files, byte for byte.

Regenerate after an intended change with ``SYNAPSEGEN_UPDATE_GOLDEN=1 pytest tests/generator``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from synapsegen.output import write as output
from synapsegen.pipeline import Options, generate

from ._paths import GOLDEN, ROOT, SCHEMAS

UPDATE = os.environ.get("SYNAPSEGEN_UPDATE_GOLDEN") == "1"
# The inputs fingerprint hashes the generator's own code, so it moves with any refactor; goldens
# compare everything else (the body hash included), and test_fingerprint.py tests the value.
_INPUTS = re.compile(r"^(# synapsegen fingerprint: inputs=)[0-9a-f]{32}", re.MULTILINE)


def without_inputs_fingerprint(files: dict[str, str]) -> dict[str, str]:
    """``files`` with the inputs fingerprint value blanked out."""
    return {name: _INPUTS.sub(r"\1<inputs>", text) for name, text in files.items()}


def _generate(schema: Path, runtime: str = "synapsegen") -> dict[str, str]:
    result = generate([schema], Options(runtime=runtime), ROOT)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    return result.files


def _on_disk(folder: Path) -> dict[str, str]:
    if not folder.is_dir():  # a new example: no golden yet
        return {}
    return {p.name: p.read_bytes().decode() for p in sorted(folder.iterdir()) if p.is_file()}


CASES = [(schema, "synapsegen", GOLDEN / schema.stem) for schema in SCHEMAS] + [
    # One schema with the bittensor runtime (type-checked only where bittensor is installed).
    (ROOT / "schemas" / "chat.yaml", "bittensor", GOLDEN / "bittensor_runtime" / "chat"),
]


@pytest.mark.parametrize(
    ("schema", "runtime", "folder"),
    CASES,
    ids=[f"{folder.parent.name}/{folder.name}" for _, _, folder in CASES],
)
def test_matches_golden(schema: Path, runtime: str, folder: Path) -> None:
    files = _generate(schema, runtime)
    if UPDATE and without_inputs_fingerprint(_on_disk(folder)) != without_inputs_fingerprint(files):
        output.write(folder, files)
    assert folder.is_dir(), f"no golden folder {folder}; run with SYNAPSEGEN_UPDATE_GOLDEN=1"
    assert without_inputs_fingerprint(_on_disk(folder)) == without_inputs_fingerprint(files)


def test_every_schema_has_a_golden_and_no_golden_is_orphaned() -> None:
    # bittensor_runtime: the chat example on bittensor; openapi: documents (test_openapi.py).
    others = {"bittensor_runtime", "openapi"}
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir() and p.name not in others}
    assert folders == {schema.stem for schema in SCHEMAS}


def test_generation_is_deterministic() -> None:
    first = generate(SCHEMAS, Options(), ROOT)
    second = generate(SCHEMAS, Options(), ROOT)
    assert first.files == second.files
    assert all("\r" not in text and text.endswith("\n") for text in first.files.values())
