"""Section 3: load, many concurrent streaming calls against several axons.

Two server processes with two Axons each serve the generated ``LoadStream`` (bench/schemas/
load.yaml); two client processes keep C/2 calls each in flight (a worker starts a new call as
soon as its previous one ends) for the whole duration. Every token is ``<call_id:seq>`` and every
completion is checked token by token, so an error, a lost token and a token of another call
are all counted. Server RSS is sampled every 0.5 s. Targets: 0 errors, 0 mixed tokens, no RSS
growth trend.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from . import generated
from .common import (
    REPO_ROOT,
    SectionResult,
    SectionSkipped,
    Table,
    fmt_bytes,
    fmt_rate,
    fmt_seconds,
    our_stack_command,
    require_codecs,
    require_runtime,
    rss_bytes,
    start_our_stack_server,
    stop_server,
)
from .our_stack import empty_load_stats

SERVER_PROCESSES = 2
AXONS_PER_SERVER = 2
CLIENT_PROCESSES = 2
RSS_PERIOD_S = 0.5


class RssSampler(threading.Thread):
    """Samples the RSS of some processes every ``period`` seconds until stopped."""

    def __init__(self, pids: list[int], period: float = RSS_PERIOD_S) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.period = period
        self.samples: list[tuple[float, int]] = []  # (seconds since start, total RSS)
        self._stop_event = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self._stop_event.is_set():
            try:
                total = sum(rss_bytes(pid) for pid in self.pids)
            except (OSError, RuntimeError):
                break
            self.samples.append((time.monotonic() - start, total))
            self._stop_event.wait(self.period)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def slope(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, bytes per second."""
    n = len(samples)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (r - mean_r) for t, r in samples) / var


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by nearest rank."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(quick: bool) -> SectionResult:
    """Run the load test and report delivery, correctness, latency and server memory."""
    generated.require_generator()
    require_codecs()
    require_runtime("Axon", "Dendrite", "token_streamer")
    if not (REPO_ROOT / "runtime" / "axon.py").exists():
        raise SectionSkipped("runtime/axon.py does not exist yet")
    result = SectionResult("load", "Load: concurrent streaming calls, several axons and clients")
    calls = 20 if quick else 200
    duration = 5.0 if quick else 30.0
    n_tokens = 20 if quick else 100
    interval_ms = 20.0
    servers: list[subprocess.Popen[str]] = []
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-load-") as tmp:
        out = Path(tmp)
        generated.generate([REPO_ROOT / "bench" / "schemas" / "load.yaml"], out)
        module = out / "load.py"
        try:
            targets = []
            for _ in range(SERVER_PROCESSES):
                proc, ready = start_our_stack_server(
                    "a load server",
                    "serve-load",
                    "--module",
                    str(module),
                    "--axons",
                    str(AXONS_PER_SERVER),
                )
                servers.append(proc)
                targets += [{"port": p, "hotkey": ready["hotkey"]} for p in ready["ports"]]
            sampler = RssSampler([p.pid for p in servers])
            sampler.start()
            time.sleep(2 * RSS_PERIOD_S)
            per_client = calls // CLIENT_PROCESSES
            started = time.monotonic()
            clients = [
                subprocess.Popen(
                    our_stack_command(
                        "load",
                        "--module",
                        str(module),
                        "--targets",
                        json.dumps(targets),
                        "--calls",
                        str(per_client),
                        "--duration",
                        str(duration),
                        "--first-id",
                        str(i * per_client),
                        "--n-tokens",
                        str(n_tokens),
                        "--interval-ms",
                        str(interval_ms),
                    ),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=REPO_ROOT,
                )
                for i in range(CLIENT_PROCESSES)
            ]
            outputs = [c.communicate(timeout=duration + 120) for c in clients]
            elapsed = time.monotonic() - started
            time.sleep(2 * RSS_PERIOD_S)
            sampler.stop()
        finally:
            for proc in servers:
                stop_server(proc)
    stats = empty_load_stats()
    for client, (stdout, stderr) in zip(clients, outputs, strict=True):
        if client.returncode != 0:
            raise RuntimeError(f"a load client failed:\n{stderr[-3000:]}")
        part = json.loads(stdout.strip().splitlines()[-1])
        for key in ("calls", "tokens", "errors", "mixed"):
            stats[key] += part[key]
        stats["ttft"] += part["ttft"]
        stats["error_samples"] += part["error_samples"]

    samples = sampler.samples
    rss_start, rss_end = samples[0][1], samples[-1][1]
    rss_max = max(r for _, r in samples)
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    trend = slope(half)
    table = Table(
        f"{calls} concurrent calls for {duration:g} s: {SERVER_PROCESSES} server processes x "
        f"{AXONS_PER_SERVER} axons, {CLIENT_PROCESSES} client processes; {n_tokens} tokens per "
        f"call, one every {interval_ms:g} ms",
        [
            "calls done",
            "tokens delivered",
            "tokens/s",
            "errors",
            "mixed tokens",
            "TTFT p50",
            "TTFT p99",
            "server RSS start",
            "end",
            "max",
            "trend (2nd half)",
        ],
    )
    table.add(
        [
            f"{stats['calls']:,}",
            f"{stats['tokens']:,}",
            fmt_rate(stats["tokens"] / elapsed),
            stats["errors"],
            stats["mixed"],
            fmt_seconds(percentile(stats["ttft"], 0.5)),
            fmt_seconds(percentile(stats["ttft"], 0.99)),
            fmt_bytes(rss_start),
            fmt_bytes(rss_end),
            fmt_bytes(rss_max),
            f"{fmt_bytes(trend)}/s",
        ],
        calls=stats["calls"],
        tokens=stats["tokens"],
        seconds=elapsed,
        errors=stats["errors"],
        mixed=stats["mixed"],
        ttft_p50=percentile(stats["ttft"], 0.5),
        ttft_p99=percentile(stats["ttft"], 0.99),
        rss_samples=samples,
        rss_trend_bytes_per_s=trend,
    )
    result.tables.append(table)
    result.target(
        "0 errors",
        stats["errors"] == 0,
        f"{stats['errors']} ({'; '.join(stats['error_samples'][:3]) or 'none'})",
    )
    result.target("0 tokens mixed between calls", stats["mixed"] == 0, str(stats["mixed"]))
    # Growth over the second half, extrapolated to a minute, must stay within 1 MiB per server.
    allowance = (1 << 20) * SERVER_PROCESSES
    result.target(
        "no server RSS growth trend (2nd-half slope x 60 s under 1 MiB per server)",
        trend * 60 < allowance,
        f"{fmt_bytes(trend)}/s",
    )
    result.note(
        "RSS is the sum over the server processes, sampled every "
        f"{RSS_PERIOD_S:g} s from /proc; TTFT is measured in the clients from the start "
        "of call_stream to the first yielded text."
    )
    return result
