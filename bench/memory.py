"""Section 4: memory, each case in a fresh subprocess.

* A 100 MB stream through the text format: peak RSS growth (VmHWM minus RSS before the stream)
  and the tracemalloc peak, against the completion's own size and against the floor parser
  (incremental decode, list of parts, one join) doing the same. Target: growth under 2x the
  completion plus a constant (16 MiB allowance).
* With a frame limit (1 MiB), a 100 MB frame that never ends is refused without being buffered:
  peak growth stays near the limit, and the bytes read before refusal are reported.

The input chunks are made on the fly from a repeated block, so the input costs constant memory.
Run a child by hand with ``python -m bench.memory --child '<json spec>'``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import (
    SCHEMAS_DIR,
    SectionResult,
    Table,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    import_file,
    peak_rss_bytes,
    rss_bytes,
)
from .streams import make_tokens, repeated_chunks, split_chunks

FRAME_LIMIT = 1 << 20
CONSTANT_ALLOWANCE = 16 << 20

# Oversized frames per framing: the bytes that open a frame which then never ends.
_OVERSIZED = {
    "lines": ("lines", "LineCompletion", {"prompt": "p"}, b""),
    "sse": (
        "openai",
        "OpenAIChat",
        {"messages": [{"role": "user", "content": "hi"}]},
        b'data: {"choices":[{"delta":{"content":"',
    ),
    "ndjson": ("hermes", "HermesQuery", {"query": "q"}, b'{"type":"text","text":"'),
    "json-seq": ("search", "SearchSynapse", {"query": "q"}, b'{"type":"summary","content":"'),
}


# ---------------------------------------------------------------- child side


class _Content:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.fed = 0

    async def iter_any(self) -> Any:
        for chunk in self.chunks:
            self.fed += len(chunk)
            yield chunk


class _Response:
    def __init__(self, chunks: Iterator[bytes]) -> None:
        from multidict import CIMultiDict, CIMultiDictProxy

        self.status = 200
        self.reason = "OK"
        self.headers = CIMultiDictProxy(CIMultiDict({"content-type": "text/event-stream"}))
        self.content = _Content(chunks)


async def _floor_text(response: _Response) -> str:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    parts = []
    async for chunk in response.content.iter_any():
        text = decoder.decode(chunk)
        if text:
            parts.append(text)
    decoder.decode(b"", final=True)
    return "".join(parts)


def _reset_peak_rss() -> None:
    """Make VmHWM start again from the current RSS (Linux >= 4.0), so a peak reached while
    setting up (imports, generating) cannot hide the peak of the measured run."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _chunk_sizes() -> list[int]:
    return [len(c) for c in split_chunks(b"x" * (4 << 20), seed=11)]


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one memory case in this (fresh) process and return its measurements."""
    module = import_file(spec["module"], "_bench_memory_module") if spec.get("module") else None
    cls = getattr(module, spec["synapse"]) if module else None
    total = spec["bytes"]
    if spec["case"] == "stream":
        # Latin-1 characters only (é, ü, ß: two bytes in UTF-8, one per char in a str), so the
        # completion is a 1-byte-per-character str and its size is comparable to the bytes.
        block = "".join(
            t
            for t in make_tokens(8192, seed=3)
            if t.isascii()
            or t.encode("utf-8", "ignore").decode().isprintable()
            and all(ord(c) < 256 for c in t)
        ).encode()
        chunks = repeated_chunks(total, block, _chunk_sizes())
    else:
        prefix = spec["prefix"].encode("latin-1")
        body = repeated_chunks(total - len(prefix), b"x" * 4096, _chunk_sizes())
        # Lazily: materialising the body would put the whole stream in memory before `before`.
        chunks = itertools.chain([prefix], body) if prefix else body
    response = _Response(chunks)
    synapse = cls(**spec["request"]) if cls else None
    gc.collect()
    _reset_peak_rss()
    if spec["tracemalloc"]:
        tracemalloc.start()
    before = rss_bytes()
    start = time.perf_counter()
    error = None
    completion_size = 0

    async def consume() -> None:
        nonlocal completion_size
        if synapse is None:
            completion_size = sys.getsizeof(await _floor_text(response))
            return
        async for _ in synapse.process_streaming_response(response):
            pass
        completion_size = sys.getsizeof(getattr(synapse, spec.get("field", "completion")))

    try:
        asyncio.run(consume())
    except Exception as exc:  # the oversized cases expect a refusal
        error = f"{type(exc).__name__}: {str(exc)[:120]}"
    elapsed = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1] if spec["tracemalloc"] else None
    return {
        "rss_before": before,
        "peak_growth": peak_rss_bytes() - before,
        "traced_peak": traced_peak,
        "completion_size": completion_size,
        "fed": response.content.fed,
        "error": error,
        "seconds": elapsed,
    }


# ---------------------------------------------------------------- parent side


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.memory", "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child failed: {spec['case']}\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _variant(schema: str, stream_override: str, out_dir: Path) -> Path:
    """A copy of an example schema with its ``stream:`` block's limits changed."""
    text = (SCHEMAS_DIR / f"{schema}.yaml").read_text()
    marker = "\n    stream:\n"
    if marker not in text:
        raise RuntimeError(f"{schema}.yaml has no top-level stream block at the expected indent")
    text = text.replace(marker, marker + stream_override, 1)
    path = out_dir / f"{schema}.yaml"
    path.write_text(text)
    return path


def run(quick: bool) -> SectionResult:
    """Run the memory cases in subprocesses and report growth against sizes and limits."""
    from . import generated

    generated.require_generator()
    result = SectionResult("memory", "Memory: a long text stream, and oversized frames")
    total = (8 << 20) if quick else (100 << 20)
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-mem-") as tmp:
        root = Path(tmp)
        schemas = root / "schemas"
        schemas.mkdir()
        unbounded = _variant("chat", "      limits: {max_total_bytes: null}\n", schemas)
        limited = {
            fmt: _variant(
                schema,
                f"      limits: {{max_frame_bytes: {FRAME_LIMIT}, max_total_bytes: null}}\n",
                schemas,
            )
            for fmt, (schema, *_rest) in _OVERSIZED.items()
            if schema != "chat"
        }
        out = root / "out"
        generated.generate([unbounded, *limited.values()], out)

        stream = Table(
            f"{fmt_bytes(total)} of text in 1 B-4 KiB chunks (fresh process each)",
            [
                "parser",
                "measure",
                "peak growth",
                "completion",
                "growth/completion",
                "vs floor",
                "time",
            ],
        )
        floor_rss = _run_child({"case": "stream", "bytes": total, "tracemalloc": False})
        floor_tm = _run_child({"case": "stream", "bytes": total, "tracemalloc": True})
        gen_spec = {
            "case": "stream",
            "bytes": total,
            "module": str(out / "chat.py"),
            "synapse": "ChatCompletion",
            "request": {"messages": [{"role": "user", "content": "hi"}]},
        }
        gen_rss = _run_child({**gen_spec, "tracemalloc": False})
        gen_tm = _run_child({**gen_spec, "tracemalloc": True})
        for name, rss, tm, floor in (
            ("floor", floor_rss, floor_tm, None),
            ("generated", gen_rss, gen_tm, (floor_rss, floor_tm)),
        ):
            for measure, run_, key in (
                ("RSS (VmHWM)", rss, "peak_growth"),
                ("tracemalloc peak", tm, "traced_peak"),
            ):
                if run_["error"]:
                    raise RuntimeError(f"{name} failed on the long stream: {run_['error']}")
                growth = run_[key]
                size = run_["completion_size"]
                base = None if floor is None else floor[0 if key == "peak_growth" else 1][key]
                stream.add(
                    [
                        name,
                        measure,
                        fmt_bytes(growth),
                        fmt_bytes(size),
                        fmt_ratio(growth / size),
                        fmt_ratio(None if base is None else growth / base),
                        fmt_seconds(run_["seconds"]),
                    ],
                    parser=name,
                    measure=measure,
                    growth=growth,
                    completion=size,
                    seconds=run_["seconds"],
                )
        result.tables.append(stream)
        growth = gen_rss["peak_growth"]
        size = gen_rss["completion_size"]
        result.target(
            "text stream: peak RSS growth under 2x the completion plus 16 MiB",
            growth <= 2 * size + CONSTANT_ALLOWANCE,
            f"{fmt_bytes(growth)} for a {fmt_bytes(size)} completion ({fmt_ratio(growth / size)})",
        )

        frames = Table(
            f"one {fmt_bytes(total)} frame that never ends, max_frame_bytes "
            f"{fmt_bytes(FRAME_LIMIT)}",
            [
                "format",
                "outcome",
                "bytes read before refusal",
                "peak RSS growth",
                "tracemalloc peak",
                "traced peak/limit",
            ],
        )
        all_refused = True
        for fmt, (schema, synapse, request, prefix) in _OVERSIZED.items():
            spec = {
                "case": "oversized",
                "bytes": total,
                "module": str(out / f"{schema}.py"),
                "synapse": synapse,
                "request": request,
                "prefix": prefix.decode("latin-1"),
            }
            run_ = _run_child({**spec, "tracemalloc": False})
            traced = _run_child({**spec, "tracemalloc": True})["traced_peak"]
            refused = bool(run_["error"]) and "TooLarge" in run_["error"]
            all_refused &= refused and max(run_["peak_growth"], traced) <= 4 * FRAME_LIMIT + (
                8 << 20
            )
            frames.add(
                [
                    fmt,
                    run_["error"] or "NOT REFUSED",
                    f"{run_['fed']:,}",
                    fmt_bytes(run_["peak_growth"]),
                    fmt_bytes(traced),
                    fmt_ratio(traced / FRAME_LIMIT),
                ],
                format=fmt,
                error=run_["error"],
                fed=run_["fed"],
                growth=run_["peak_growth"],
                traced_peak=traced,
            )
        result.tables.append(frames)
        result.target(
            "an oversized frame is refused with peak growth near the limit "
            "(at most 4x the limit plus 8 MiB)",
            all_refused,
            "all formats" if all_refused else "see table",
        )
    result.note(
        "RSS growth includes allocator slack; the tracemalloc peak counts Python "
        "objects only. Both are measured after imports, in a fresh interpreter, with the "
        "peak RSS reset first (/proc/self/clear_refs); RSS growth below a few MiB mostly "
        "shows whether freed heap was reused, so the traced peak is the figure for the "
        "oversized frames."
    )
    return result


def _child_main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, help="JSON spec of one case")
    args = parser.parse_args()
    print(json.dumps(child(json.loads(args.child))))


if __name__ == "__main__":
    _child_main()
