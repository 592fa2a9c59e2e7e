"""The Python blocks of the README and the docs, and the marker each carries.

A fenced ```` ```python ```` block runs as written unless the line just before its fence (at the
fence's indentation) is one of these HTML comments, which neither GitHub nor the site shows:

- ``<!-- run with: CONTEXT -->``: a fragment of a larger program, run as written inside the named
  context of tests/docs/snippet_runner.py, which defines what it assumes (a running ``Axon``, a
  ``dendrite``, ``model``...) and checks what it did; top-level ``await``/``async for`` allowed;
- ``<!-- checked by: TEST_FILE (what) -->``: a copy of a file or of generated output that the named
  test compares (and runs, for files);
- ``<!-- not run: REASON -->``: cannot run here (bittensor, the chain, a public port); compiled.

A doc this project does not edit yet may keep its markers in ``KEPT_HERE`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("run", "run with", "checked by", "not run")

FENCE = re.compile(
    r"^(?P<indent> *)"
    r"(?:<!-- (?P<kind>run with|checked by|not run): (?P<note>[^\n]*?) -->\n(?P=indent))?"
    r"```python\n(?P<code>.*?)^(?P=indent)```$",
    re.DOTALL | re.MULTILINE,
)

# doc -> first line of a block -> (kind, note): for docs whose text is someone else's to change.
KEPT_HERE: dict[str, dict[str, tuple[str, str]]] = {
    # docs/transports.md is written along with the transports; its markers can move into it.
    "docs/transports.md": {
        "async def chat(synapse: ChatCompletion) -> AsyncIterator[str]:": (
            "run with",
            "transports-miner",
        ),
        'async with Dendrite(wallet, transport="btauth/1") as dendrite:   # or "epistula/2"': (
            "not run",
            "a sketch: `messages=...` stands for real messages, `target(s)` for axons",
        ),
    },
}


@dataclass(frozen=True)
class Block:
    doc: str  # relative to the repository
    line: int  # of the fence
    kind: str  # one of KINDS
    note: str  # the context, the test file, or the reason
    code: str  # without the fence's indentation

    @property
    def name(self) -> str:
        return f"{self.doc}:{self.line}"


def documents() -> list[Path]:
    """The README, every doc, BENCHMARKS and the examples' READMEs."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "BENCHMARKS.md"]
    return paths + sorted((ROOT / "examples").glob("**/README.md"))


def blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    doc = path.relative_to(ROOT).as_posix()
    found = []
    for match in FENCE.finditer(text):
        indent = len(match.group("indent"))
        code = "".join(
            line[indent:] if line.strip() else line
            for line in match.group("code").splitlines(keepends=True)
        )
        kind, note = match.group("kind") or "run", match.group("note") or ""
        first = code.split("\n", 1)[0]
        if kind == "run" and first in KEPT_HERE.get(doc, {}):
            kind, note = KEPT_HERE[doc][first]
        line = text.count("\n", 0, match.start()) + 1 + (1 if match.group("kind") else 0)
        found.append(Block(doc, line, kind, note, code))
    return found


def every_block() -> list[Block]:
    return [block for path in documents() for block in blocks(path)]


def python_fences(path: Path) -> int:
    """How many ```` ```python ```` fences ``path`` opens, however indented: FENCE must see all."""
    return len(re.findall(r"^ *```python$", path.read_text(encoding="utf-8"), re.MULTILINE))
