"""A short, derandomized run of the fuzz campaign (``tests/generator/fuzz.py``).

No schema string may change what generated code does: hostile text in every string position of
the language, and hostile numbers, folder and file names, must give either one-line diagnostics or
a module that imports, constructs, holds the text intact and runs no payload. The full campaign is
``python -m tests.generator.fuzz --examples 10000``.

The first tests check the harness itself: unchanged example schemas pass every check, and each
detector fires on a planted failure.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from .fuzz import (
    BASES,
    CANARY,
    FAILURE_CLASSES,
    POSITIONS,
    Example,
    Report,
    injection_problems,
    one_line,
    run_campaign,
    run_chunk,
    run_imports,
)

EXAMPLES = 5 * len(POSITIONS)
"""Five examples per position: about 30 s on two cores."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The campaign, run once for every test below (derandomized: the same examples each run)."""
    return run_campaign(
        EXAMPLES,
        workers=min(2, os.cpu_count() or 1),
        save_dir=tmp_path_factory.mktemp("fuzz-failures"),
    )


def test_unchanged_example_schemas_pass_every_check(tmp_path: Path) -> None:
    unchanged = [
        (index, Example(base=name, positions=[], document=copy.deepcopy(document),
                        fmt="yaml", folders=("schemas",), stem=name, suffix=".yaml"))
        for index, (name, document) in enumerate(sorted(BASES.items()))
    ]  # fmt: skip
    outcomes = run_chunk(unchanged, str(tmp_path))
    assert [o.failures for o in outcomes] == [{}] * len(BASES)
    assert all(o.generated for o in outcomes)


def test_detectors_fire_on_planted_failures(tmp_path: Path) -> None:
    planted = f'# from schemas\n{CANARY}\n#/chat.yaml\n"""Doc."""\n'
    assert injection_problems(planted)
    assert not injection_problems('"""Doc."""\nimport os\n__all__ = ["A"]\nclass A:\n    x: int\n')
    assert not one_line("a\u2028b") and not one_line("a\x85b") and one_line("a b")
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text(f"{CANARY}\n", encoding="utf-8")
    (package / "mod.py").write_text("import nowhere_to_be_found\n", encoding="utf-8")
    job = {"id": 0, "package": "planted", "module": "mod", "construct": [], "expectations": []}
    results, _ = run_imports([job], tmp_path, timeout=60)
    assert results[0]["executed"] == ["while importing"]
    assert results[0]["import_error"].startswith("ModuleNotFoundError")


def test_campaign_ran(report: Report) -> None:
    print(report.summary())
    assert report.examples == EXAMPLES
    assert report.counts["generated"] > EXAMPLES // 2


@pytest.mark.parametrize("kind", FAILURE_CLASSES)
def test_no_failures(report: Report, kind: str) -> None:
    """Zero examples of each failure class (the first few are listed, and saved)."""
    assert report.counts[kind] == 0, (
        f"{report.summary()}\n{report.details(per_class=5, kinds=[kind])}\n"
        f"saved to {report.saved_to}"
    )
