"""Section 2: end to end on loopback, our Axon to our Dendrite vs bittensor 10.5.0's.

Server and client run in separate processes. Both stacks stream the same interop stream
(tests/interop/bt_side/common.py: N tokens of 14 bytes, every send boundary inside an emoji) at
1 and 10 tokens per send; the client measures tokens/s over the whole call and the time to the
first yielded chunk, after one warm-up call on the same connection pool. The bittensor side runs
in the isolated venv of tests/interop/harness.py. Targets: at least 5x bittensor's tokens/s at one
token per send; time to first token under a quarter of bittensor's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from .common import (
    REPO_ROOT,
    SectionResult,
    SectionSkipped,
    Table,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    median,
    our_stack_command,
    require_codecs,
    require_runtime,
    start_our_stack_server,
    stop_server,
)

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

THROUGHPUT_TARGET = 5.0
TTFT_TARGET = 0.25
SHORT_TOKENS = 10


def _require_our_stack() -> None:
    missing = [
        p
        for p in ("runtime/axon.py", "runtime/dendrite.py", "tests/interop/our_side.py")
        if not (REPO_ROOT / p).exists()
    ]
    if missing:
        raise SectionSkipped(f"not there yet: {', '.join(missing)}")
    require_codecs()
    require_runtime("Axon", "Dendrite", "token_streamer")


def measure_ours(batch_count: int, n_tokens: int, repeats: int) -> list[dict[str, Any]]:
    """Our Axon (one process) streaming to our Dendrite (another process)."""
    server, ready = start_our_stack_server(
        "our axon process", "serve-interop", "--batch-count", str(batch_count)
    )
    try:
        proc = subprocess.run(
            our_stack_command(
                "stream",
                "--port",
                str(ready["port"]),
                "--hotkey",
                ready["hotkey"],
                "--n-tokens",
                str(n_tokens),
                "--repeats",
                str(repeats),
            ),
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"our dendrite process failed:\n{proc.stderr[-3000:]}")
        results: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
        return results
    finally:
        stop_server(server)


def measure_bittensor(batch_count: int, n_tokens: int, repeats: int) -> list[dict[str, Any]]:
    """A real bittensor 10.5.0 Axon and Dendrite, via the interop harness."""
    from tests.interop.harness import BtDendriteClient, bt_stream_stats, start_bt_axon

    results = []
    with start_bt_axon(batch_count) as axon, BtDendriteClient() as client:
        bt_stream_stats(client, port=axon.port, hotkey=axon.hotkey, n_tokens=10, prompt="warmup")
        for _ in range(repeats):
            stats = bt_stream_stats(
                client,
                port=axon.port,
                hotkey=axon.hotkey,
                n_tokens=n_tokens,
                prompt="bench",
                timeout=600.0,
            )
            results.append(
                {
                    "status_code": stats.status_code,
                    "tokens_received": stats.tokens_received,
                    "completion_ok": stats.completion_ok,
                    "chunks": stats.chunks,
                    "duration_s": stats.duration_s,
                    "first_token_s": stats.first_token_s,
                }
            )
    return results


def _summary(results: list[dict[str, Any]], n_tokens: int) -> dict[str, Any]:
    bad = [r for r in results if r["status_code"] != 200 or not r["completion_ok"]]
    if bad:
        raise RuntimeError(f"a streaming call failed or was wrong: {bad[0]}")
    return {
        "tokens_per_s": median([n_tokens / r["duration_s"] for r in results]),
        "first_token_s": median([r["first_token_s"] for r in results]),
        "duration_s": median([r["duration_s"] for r in results]),
        "chunks": median([r["chunks"] for r in results]),
    }


def run(quick: bool) -> SectionResult:
    """Measure both stacks at 1 and 10 tokens per send."""
    _require_our_stack()
    result = SectionResult("e2e", "End to end on loopback: synapsegen vs bittensor 10.5.0")
    n_tokens = 2_000 if quick else 100_000
    repeats = 1 if quick else 3
    bt_error: str | None = None
    try:
        from tests.interop.harness import ensure_bt_venv

        ensure_bt_venv()
    except Exception as exc:  # no registry access, etc.: our figures still stand alone
        bt_error = f"{type(exc).__name__}: {str(exc)[:300]}"
        result.note(f"bittensor baseline not measured: {bt_error}")
    table = Table(
        f"{n_tokens:,} tokens per call, median of {repeats} call(s) after a warm-up",
        [
            "tokens/send",
            "stack",
            "tokens/s",
            "time to first token",
            "call time",
            "chunks read",
            "tokens/s vs bt",
            "TTFT vs bt",
        ],
    )
    figures: dict[tuple[int, str], dict[str, Any]] = {}
    for batch in (1, 10):
        ours = _summary(measure_ours(batch, n_tokens, repeats), n_tokens)
        figures[(batch, "synapsegen")] = ours
        bt = None
        if bt_error is None:
            bt = _summary(measure_bittensor(batch, n_tokens, repeats), n_tokens)
            figures[(batch, "bittensor")] = bt
        for stack, fig in (("synapsegen", ours), ("bittensor 10.5.0", bt)):
            if fig is None:
                continue
            speed = None if bt is None else fig["tokens_per_s"] / bt["tokens_per_s"]
            ttft = None if bt is None else fig["first_token_s"] / bt["first_token_s"]
            table.add(
                [
                    batch,
                    stack,
                    fmt_rate(fig["tokens_per_s"]),
                    fmt_seconds(fig["first_token_s"]),
                    fmt_seconds(fig["duration_s"]),
                    f"{fig['chunks']:,.0f}",
                    fmt_ratio(speed),
                    fmt_ratio(ttft),
                ],
                tokens_per_send=batch,
                stack=stack,
                ratio_tokens_per_s=speed,
                ratio_first_token=ttft,
                **fig,
            )
    result.tables.append(table)
    bt1 = figures.get((1, "bittensor"))
    ours1 = figures[(1, "synapsegen")]
    speed1 = None if bt1 is None else ours1["tokens_per_s"] / bt1["tokens_per_s"]
    result.target(
        f"at least {THROUGHPUT_TARGET:g}x bittensor's tokens/s at one token per send",
        None if speed1 is None else speed1 >= THROUGHPUT_TARGET,
        fmt_ratio(speed1),
    )

    # Time to first token on short calls: in the long calls above, both interop servers build
    # the whole 100k-token list before their first send, which adds the same tens of ms to both.
    short_calls = 5 if quick else 20
    ttft = Table(
        f"time to first token: {SHORT_TOKENS}-token calls at 1 token per send, "
        f"median of {short_calls} after a warm-up",
        ["stack", "TTFT p50", "TTFT min", "TTFT max", "vs bt"],
    )
    ours_short = [r["first_token_s"] for r in measure_ours(1, SHORT_TOKENS, short_calls)]
    bt_short: list[float] | None = None
    if bt_error is None:
        bt_short = [r["first_token_s"] for r in measure_bittensor(1, SHORT_TOKENS, short_calls)]
    ratio = None if bt_short is None else median(ours_short) / median(bt_short)
    for stack, values in (("synapsegen", ours_short), ("bittensor 10.5.0", bt_short)):
        if values is None:
            continue
        own = None if bt_short is None else median(values) / median(bt_short)
        ttft.add(
            [
                stack,
                fmt_seconds(median(values)),
                fmt_seconds(min(values)),
                fmt_seconds(max(values)),
                fmt_ratio(own),
            ],
            stack=stack,
            first_token_s=values,
        )
    result.tables.append(ttft)
    result.target(
        "time to first token under a quarter of bittensor's (one token per send)",
        None if ratio is None else ratio < TTFT_TARGET,
        fmt_ratio(ratio),
    )
    result.note(
        "The TTFT column of the first table includes each server building its whole "
        "token list before the first send (same code on both sides, tens of ms at 100k "
        "tokens); the target uses the short calls of the second table."
    )
    result.note(
        "Both clients yield per network chunk: at 1 token per send a fast client reads "
        "about one send per chunk, a slow one reads several sends per chunk."
    )
    return result
