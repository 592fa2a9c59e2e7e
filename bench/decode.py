"""Section 1: client-side decoding, per token format.

The generated ``process_streaming_response`` is fed a recorded stream in realistic network chunks
(sizes log-uniform from 1 byte to 4 KiB, many boundaries inside frames and inside UTF-8
characters) through a fake response, against (a) the floor and (b) the hand-written subnet style
(see ``baselines``). Target: the generated parser within 1.5x of the floor for every format.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import time
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

from . import generated
from .baselines import FLOORS, HANDWRITTEN
from .common import SectionResult, SectionSkipped, Table, fmt_rate, fmt_ratio, fmt_seconds, median
from .streams import (
    FORMATS,
    FakeResponse,
    Recording,
    record,
    split_chunks,
    splits_inside_characters,
)

TARGET_RATIO = 1.5


def plain(value: Any) -> Any:
    """Pydantic models to dicts, recursively, so results compare with the expected JSON."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def mismatches(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Names of expected fields whose values differ, with a short description."""
    wrong = []
    for key, want in expected.items():
        got = plain(actual.get(key))
        if got != want:
            if isinstance(want, str) and isinstance(got, str):
                wrong.append(f"{key}: {len(got)} of {len(want)} chars")
            elif isinstance(want, list | dict) and isinstance(got, list | dict):
                wrong.append(f"{key}: {len(got)} of {len(want)} items")
            else:
                wrong.append(f"{key}: {str(got)[:30]!r}")
    return wrong


async def _drain(stream: AsyncIterator[Any]) -> int:
    count = 0
    async for _ in stream:
        count += 1
    return count


async def _time(make_stream: Callable[[], AsyncIterator[Any]]) -> float:
    gc.collect()
    stream = make_stream()
    start = time.perf_counter()
    await _drain(stream)
    return time.perf_counter() - start


def _fields(obj: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name, None) for name in names}


class FormatBench:
    """The three implementations of one format, runnable on the same chunks."""

    def __init__(self, rec: Recording, synapse_cls: type | None) -> None:
        self.rec = rec
        self.synapse_cls = synapse_cls
        self.field_names = list(rec.expected)
        self.errors = "strict"

    def target(self) -> Any:
        """What the hand-written code mutates: the generated synapse, else a namespace."""
        if self.synapse_cls is not None:
            return self.synapse_cls(**self.rec.request)
        defaults = {
            "completion": "",
            "summary": "",
            "results": [],
            "snippets": [],
            "links": {},
            "status": None,
            "sources": [],
            "latency_ms": None,
            "finish_reason": None,
            "usage": None,
        }
        return SimpleNamespace(**{k: defaults[k] for k in self.field_names})

    async def floor(self) -> tuple[float, dict[str, Any]]:
        out: dict[str, Any] = {}
        t = await _time(lambda: FLOORS[self.rec.format](FakeResponse(self.rec.chunks), out))
        return t, out

    async def generated(self) -> tuple[float, dict[str, Any]]:
        assert self.synapse_cls is not None
        synapse = self.synapse_cls(**self.rec.request)
        t = await _time(lambda: synapse.process_streaming_response(FakeResponse(self.rec.chunks)))
        return t, _fields(synapse, self.field_names)

    async def handwritten(self) -> tuple[float, dict[str, Any]]:
        obj = self.target()
        fn = HANDWRITTEN[self.rec.format]
        t = await _time(lambda: fn(obj, FakeResponse(self.rec.chunks), self.errors))
        return t, _fields(obj, self.field_names)

    async def handwritten_verdict(self) -> str:
        """Run the hand-written parser strictly once; describe how it is wrong, if it is."""
        verdicts = []
        try:
            _, out = await self.handwritten()
        except UnicodeDecodeError as exc:
            verdicts.append(f"raises UnicodeDecodeError ({exc.reason}) on a split character")
            self.errors = "ignore"
            _, out = await self.handwritten()
            verdicts.append("timed with errors='ignore'")
        wrong = mismatches(self.rec.expected, out)
        if wrong:
            verdicts.append("wrong result: " + "; ".join(wrong))
        return "; ".join(verdicts) if verdicts else "correct"


async def _measure(
    rec: Recording,
    runners: dict[str, Callable[[], Any]],
    times: dict[str, list[float]],
    verdicts: dict[str, str],
    repetitions: int,
) -> None:
    """Time every parser ``repetitions`` times, interleaved so drift hits them alike."""
    for _ in range(repetitions):
        for name, runner in runners.items():
            elapsed, out = await runner()
            times[name].append(elapsed)
            if name != "hand-written":
                wrong = mismatches(rec.expected, out)
                if wrong:
                    raise AssertionError(f"{rec.format}: the {name} parser is wrong: {wrong}")
                verdicts[name] = "correct"


def profile_generated(bench: FormatBench, top: int = 8) -> str:
    """cProfile one run of the generated parser; the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(bench.generated())
    profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return "\n".join(lines[start : start + top + 1])


def run(quick: bool) -> SectionResult:
    """Measure every format; return the section's tables and targets."""
    result = SectionResult("decode", "Decoding: generated parser vs floor vs hand-written")
    # The hand-written style is quadratic (`self.completion += token` copies the whole string),
    # which bounds how long the full-run streams can be.
    tokens = 2_000 if quick else 30_000
    repetitions = 3 if quick else 7
    generator_missing = None
    try:
        generated.require_generator()
    except SectionSkipped as exc:
        generator_missing = str(exc)
        result.note(f"generated parsers not measured: {generator_missing}")

    table = Table(
        f"{tokens:,} tokens per stream, chunks 1 B-4 KiB log-uniform, median of {repetitions}",
        [
            "format",
            "bytes",
            "chunks",
            "split chars",
            "parser",
            "median",
            "tokens/s",
            "MB/s",
            "vs floor",
            "result",
        ],
    )
    ratios: dict[str, float] = {}
    for fmt in FORMATS:
        rec = record(fmt, tokens)
        rec.chunks = split_chunks(rec.data)
        synapse_cls = None
        if generator_missing is None:
            synapse_cls = getattr(generated.load_module(rec.schema), rec.synapse)
        bench = FormatBench(rec, synapse_cls)
        verdicts = {"floor": "correct", "hand-written": asyncio.run(bench.handwritten_verdict())}
        runners: dict[str, Callable[[], Any]] = {
            "floor": bench.floor,
            "hand-written": bench.handwritten,
        }
        if synapse_cls is not None:
            runners["generated"] = bench.generated
        times: dict[str, list[float]] = {name: [] for name in runners}

        asyncio.run(_measure(rec, runners, times, verdicts, repetitions))
        floor_time = median(times["floor"])
        for name in ("generated", "floor", "hand-written"):
            if name not in times:
                continue
            t = median(times[name])
            ratio = t / floor_time
            if name == "generated":
                ratios[fmt] = ratio
            table.add(
                [
                    fmt,
                    f"{len(rec.data):,}",
                    f"{len(rec.chunks):,}",
                    splits_inside_characters(rec.chunks),
                    name,
                    fmt_seconds(t),
                    fmt_rate(rec.tokens / t),
                    f"{len(rec.data) / t / 1e6:.1f}",
                    fmt_ratio(ratio),
                    verdicts[name],
                ],
                format=fmt,
                parser=name,
                bytes=len(rec.data),
                chunks=len(rec.chunks),
                tokens=rec.tokens,
                seconds=t,
                all_seconds=times[name],
                tokens_per_s=rec.tokens / t,
                mb_per_s=len(rec.data) / t / 1e6,
                ratio_to_floor=ratio,
                result=verdicts[name],
            )
        if fmt in ratios and ratios[fmt] > TARGET_RATIO and not quick:
            result.note(
                f"profile of the generated {fmt} parser (top own time):\n"
                + profile_generated(bench)
            )
    result.tables.append(table)
    for fmt in FORMATS:
        ratio = ratios.get(fmt)
        result.target(
            f"generated {fmt} parser within {TARGET_RATIO}x of the floor",
            None if ratio is None else ratio <= TARGET_RATIO,
            fmt_ratio(ratio) if ratio is not None else "not measured",
        )
    result.note("tokens/s counts the tokens the server sent (raw text arrives merged per chunk).")
    return result
