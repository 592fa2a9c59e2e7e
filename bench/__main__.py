"""Run the benchmarks: ``python -m bench [--quick] [--only SECTION ...] [--json OUT]``.

Every section prints its tables, the targets it measured and whether they were met. Figures are
never asserted: the exit status is non-zero only when a section crashes (or a parser under test
returns a wrong result), so ``--quick`` in CI keeps the benchmarks working without timing flakes.
A section whose dependency does not exist yet prints SKIPPED with the reason.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .common import (
    SectionResult,
    SectionSkipped,
    machine_description,
    render_machine,
    render_section,
)

SECTIONS: dict[str, str] = {
    "decode": "Decoding per format",
    "e2e": "End to end on loopback vs bittensor 10.5.0",
    "load": "Load: concurrent streaming calls",
    "memory": "Memory: 100 MB stream and oversized frames",
    "codegen": "Code generation vs datamodel-codegen",
    "fanout": "Fan-out to many axons vs bittensor 10.5.0, and first-k",
    "scaleout": "Scale-out: 1 vs 2 workers with the Redis replay store",
    "flood": "Idle and slowloris floods at a 1,024 file-descriptor limit",
    "transports": "HTTP-era transports vs a hand-written FastAPI endpoint",
}


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes: every section in about a minute (what CI runs)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SECTIONS),
        metavar="SECTION",
        help=f"run only this section (repeatable): {', '.join(SECTIONS)}",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write all results as JSON")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="OUT",
        help="also write the results as markdown (for BENCHMARKS.md)",
    )
    return parser.parse_args(argv)


def run_section(name: str, quick: bool) -> tuple[SectionResult, bool]:
    """Run one section; return its result and whether it crashed."""
    try:
        module = importlib.import_module(f".{name}", __package__)
        return module.run(quick), False
    except SectionSkipped as exc:
        return SectionResult(name, SECTIONS[name], skipped=str(exc)), False
    except Exception:  # a crash is reported, and turns the exit status non-zero
        result = SectionResult(name, SECTIONS[name], skipped="CRASHED")
        result.note(traceback.format_exc())
        return result, True


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    args = _parse_args(argv)
    names = args.only or list(SECTIONS)
    machine = machine_description()
    started = datetime.now(timezone.utc)
    mode = "quick" if args.quick else "full"
    print(f"synapsegen benchmarks ({mode}), {started:%Y-%m-%d %H:%M} UTC")
    print(render_machine(machine), flush=True)
    results = []
    crashed = []
    for name in names:
        t0 = time.perf_counter()
        result, failed = run_section(name, args.quick)
        if failed:
            crashed.append(name)
        results.append(result)
        print()
        print(render_section(result))
        print(f"  ({name} took {time.perf_counter() - t0:.1f} s)", flush=True)
    if args.json:
        payload = {
            "mode": mode,
            "started": started.isoformat(),
            "machine": machine,
            "sections": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    if args.markdown:
        args.markdown.write_text(
            "\n\n".join(render_section(r, markdown=True) for r in results) + "\n"
        )
    if crashed:
        print(f"\nCRASHED sections: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
