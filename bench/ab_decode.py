"""Decoding before and after a generator change, in one run: ``python -m bench.ab_decode REV``.

"Before" is the golden modules committed at git revision ``REV`` (what the generator wrote
then); "after" is what the current generator writes. Both parse the same recorded streams in the
same process, interleaved, so machine load hits them alike. Prints one ratio per format
(after / before; the generator-v2 target is within 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

from . import generated
from .common import REPO_ROOT, import_file, median
from .decode import FormatBench, mismatches
from .streams import FORMATS, record, split_chunks


def _golden_at(revision: str, stem: str, folder: Path) -> ModuleType:
    text = subprocess.run(
        ["git", "show", f"{revision}:tests/golden/{stem}/{stem}.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = folder / f"before_{stem}.py"
    path.write_text(text, encoding="utf-8")
    return import_file(path, f"before_{stem}")


async def _compare(before: FormatBench, after: FormatBench, rounds: int) -> tuple[float, float]:
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(rounds):
        for name, bench in (("before", before), ("after", after)):
            elapsed, out = await bench.generated()
            wrong = mismatches(bench.rec.expected, out)
            if wrong:
                raise AssertionError(f"{bench.rec.format} ({name}) is wrong: {wrong}")
            times[name].append(elapsed)
    return median(times["before"]), median(times["after"])


def main(argv: list[str] | None = None) -> None:
    """Print before/after medians and their ratio for every format."""
    parser = argparse.ArgumentParser(prog="python -m bench.ab_decode")
    parser.add_argument("revision", help="git revision whose goldens are 'before'")
    parser.add_argument("--tokens", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="synapsegen-ab-") as tmp:
        print(f"{'format':10} {'before':>10} {'after':>10} {'after/before':>13}")
        for fmt in FORMATS:
            rec = record(fmt, args.tokens)
            rec.chunks = split_chunks(rec.data)
            old = getattr(_golden_at(args.revision, rec.schema, Path(tmp)), rec.synapse)
            new = getattr(generated.load_module(rec.schema), rec.synapse)
            before, after = asyncio.run(
                _compare(FormatBench(rec, old), FormatBench(rec, new), args.rounds)
            )
            print(f"{fmt:10} {before * 1e3:8.2f}ms {after * 1e3:8.2f}ms {after / before:13.3f}")


if __name__ == "__main__":
    main()
