"""Every Python block of the README and the docs runs in a test (tests/docs/snippets.py says how
a block is marked when it is a fragment, a copy checked elsewhere, or cannot run here).

Blocks without a marker run as written, each as a script in its own process, beside the
``synapses`` package generated from schemas/; ``run with`` blocks run in the named context of
tests/docs/snippet_runner.py; ``not run`` blocks compile. ``-rP`` shows the counts.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from synapsegen.pipeline import Options, generate

from .snippet_runner import CONTEXTS
from .snippets import KINDS, ROOT, Block, documents, every_block, python_fences

BLOCKS = every_block()
TIMEOUT = 120  # seconds per block; each takes one or two


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with the generated ``synapses`` package of every example schema."""
    base = tmp_path_factory.mktemp("snippets")
    result = generate(sorted((ROOT / "schemas").glob("*.yaml")), Options(), ROOT)
    assert not result.diagnostics
    package = base / "synapses"
    package.mkdir()
    for name, text in result.files.items():
        (package / name).write_text(text, encoding="utf-8")
    yield base


def _run(command: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *command],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},  # tests.docs, after the folder itself
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _file_of(block: Block, folder: Path) -> Path:
    path = folder / f"{block.doc.replace('/', '_').replace('.', '_')}_{block.line}.py"
    path.write_text(block.code, encoding="utf-8")
    return path


def test_every_python_fence_is_seen_and_marked() -> None:
    """The parser sees every ```python fence; every marker names a context, a test or a reason."""
    for path in documents():
        seen = [b for b in BLOCKS if b.doc == path.relative_to(ROOT).as_posix()]
        assert len(seen) == python_fences(path), f"{path}: a python fence the parser missed"
    for block in BLOCKS:
        assert block.kind in KINDS, block.name
        if block.kind == "run with":
            assert block.note in CONTEXTS, f"{block.name}: no context {block.note!r}"
        elif block.kind == "checked by":
            test = block.note.split(" ")[0]
            assert (ROOT / test).is_file(), f"{block.name}: no test {test}"
            doc_name = Path(block.doc).name
            assert doc_name in (ROOT / test).read_text(encoding="utf-8"), (
                f"{block.name}: {test} does not read {doc_name}"
            )
        elif block.kind == "not run":
            assert len(block.note) > 10, f"{block.name}: say why it is not run"


def test_the_counts() -> None:
    counts = Counter(block.kind for block in BLOCKS)
    print(f"{len(BLOCKS)} python blocks: " + ", ".join(f"{counts[k]} {k}" for k in KINDS))
    for block in BLOCKS:
        if block.kind == "not run":
            print(f"  not run: {block.name}: {block.note}")
    assert counts["run"] + counts["run with"] >= 7
    # Of the rest, the copies that other tests check are the most; a new fragment should be
    # made runnable (a context) before it is marked not run.
    assert counts["not run"] <= 7, counts


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "run"], ids=lambda b: b.name)
def test_a_block_runs_as_written(block: Block, folder: Path) -> None:
    result = _run([str(_file_of(block, folder))], folder)
    assert result.returncode == 0, f"{block.name}\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "run with"], ids=lambda b: b.name)
def test_a_fragment_runs_in_its_context(block: Block, folder: Path) -> None:
    path = _file_of(block, folder)
    result = _run(["-m", "tests.docs.snippet_runner", block.note, str(path)], folder)
    assert result.returncode == 0, f"{block.name}\n{result.stdout}\n{result.stderr}"
    assert result.stdout.endswith("ran\n"), result.stdout


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.kind == "not run"], ids=lambda b: b.name)
def test_a_block_not_run_compiles(block: Block) -> None:
    compile(block.code, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
