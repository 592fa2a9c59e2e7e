"""Section: scale-out, ``Axon(workers=1)`` against ``Axon(workers=2)`` on the same machine.

One server process serves the generated ``LoadStream`` (bench/schemas/load.yaml) with one or two
uvicorn workers on one port (``SO_REUSEPORT``), both with the Redis replay store on a real
``redis-server`` this section starts (tests/runtime/_redis_server.py, a temporary folder, a free
127.0.0.1 port). One separate client process (our Dendrite) keeps ``CALLS`` streams in flight,
each ``N_TOKENS`` tokens with no pause between them, so the servers' CPU is the limit, for
``DURATION`` seconds. Configurations alternate (1, 2, 1, 2, ...) and the median of each is taken.

How the 2 cores are split: nothing is pinned. With one worker the server can use one core and
the client the other; with two workers the two workers and the client share both cores, so the
client's own cost per token bounds the speed-up: with a client costing c CPU-seconds per token
and a worker s, two workers can give at most ``2s / (s + c)``. The table reports the CPU time of
the servers and of the client so that share is visible, and tokens per server CPU-second.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from . import generated
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

CALLS = 32
N_TOKENS = 2000


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(values[:8])  # user .. steal (guest time is already counted in user)
    return (total - values[3] - values[4]) / tick, total / tick


def _redis_module() -> Any:
    """tests/runtime/_redis_server.py: how the tests start a real redis-server."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from tests.runtime import _redis_server

    return _redis_server


def run_config(
    module: Path, redis_url: str, workers: int, duration: float, calls: int, n_tokens: int
) -> dict[str, Any]:
    """One server with ``workers`` workers, one client process: tokens/s and CPU seconds."""
    proc, ready = start_our_stack_server(
        f"a {workers}-worker server",
        "serve-load",
        "--module",
        str(module),
        "--workers",
        str(workers),
        "--replay-store",
        redis_url,
    )
    try:
        pids = ready["server_pids"]
        before = sum(cpu_seconds(pid) for pid in pids)
        machine_before = machine_cpu()
        command = our_stack_command(
            "load",
            "--module",
            str(module),
            "--targets",
            json.dumps([{"port": ready["ports"][0], "hotkey": ready["hotkey"]}]),
            "--calls",
            str(calls),
            "--duration",
            str(duration),
            "--n-tokens",
            str(n_tokens),
            "--interval-ms",
            "0",
        )
        client = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=duration + 120,
            check=False,
        )
        server_cpu = sum(cpu_seconds(pid) for pid in pids) - before
        machine_after = machine_cpu()
    finally:
        stop_server(proc)
    if client.returncode != 0:
        raise RuntimeError(f"the scale-out client failed:\n{client.stderr[-3000:]}")
    stats = json.loads(client.stdout.strip().splitlines()[-1])
    return {
        "workers": workers,
        "tokens": stats["tokens"],
        "calls": stats["calls"],
        "errors": stats["errors"],
        "mixed": stats["mixed"],
        "seconds": stats["seconds"],
        "tokens_per_s": stats["tokens"] / stats["seconds"],
        "server_cpu_s": server_cpu,
        "client_cpu_s": stats["cpu_s"],
        # CPU the whole machine spent while the client process ran (it also covers the client's
        # start-up): what the other processes took is what neither server nor client did
        "machine_busy_s": machine_after[0] - machine_before[0],
        "machine_total_s": machine_after[1] - machine_before[1],
        "error_samples": stats["error_samples"],
    }


def run(quick: bool) -> SectionResult:
    """Measure tokens/s with one and with two workers and report the ratio."""
    generated.require_generator()
    require_codecs()
    require_runtime("Axon", "Dendrite", "token_streamer", "RedisReplayStore")
    if not sys.platform.startswith("linux"):
        raise SectionSkipped("Axon(workers=N) is Linux only")
    result = SectionResult("scaleout", "Scale-out: 1 vs 2 workers with the Redis replay store")
    repetitions = 1 if quick else 5
    duration = 2.0 if quick else 6.0
    n_tokens = 500 if quick else N_TOKENS
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-scaleout-") as tmp:
        out = Path(tmp)
        generated.generate([REPO_ROOT / "bench" / "schemas" / "load.yaml"], out)
        module = out / "load.py"
        redis_folder = out / "redis"
        redis_folder.mkdir()
        redis_server = _redis_module()
        with contextlib.ExitStack() as stack:
            try:
                redis_url = stack.enter_context(redis_server.running_redis_server(redis_folder))
            except redis_server.RedisServerError as exc:  # no binary, or it did not start
                raise SectionSkipped(str(exc)) from exc
            for _ in range(repetitions):
                for workers in (1, 2):
                    runs[workers].append(
                        run_config(module, redis_url, workers, duration, CALLS, n_tokens)
                    )

    table = Table(
        f"{CALLS} concurrent streams of {n_tokens:,} tokens (no pause between tokens) for "
        f"{duration:g} s from one client process, one server process on one port; median of "
        f"{repetitions} run(s) per configuration, alternating",
        [
            "workers",
            "tokens/s",
            "vs 1 worker",
            "calls",
            "errors",
            "mixed",
            "server CPU",
            "client CPU",
            "wall",
            "tokens per server CPU-s",
            "machine busy",
            "all runs (tokens/s)",
        ],
    )
    medians = {}
    for workers, samples in runs.items():
        medians[workers] = median([s["tokens_per_s"] for s in samples])
    for workers, samples in runs.items():
        mid = sorted(samples, key=lambda s: s["tokens_per_s"])[len(samples) // 2]
        table.add(
            [
                workers,
                fmt_rate(medians[workers]),
                fmt_ratio(medians[workers] / medians[1]),
                f"{sum(s['calls'] for s in samples):,}",
                sum(s["errors"] for s in samples),
                sum(s["mixed"] for s in samples),
                fmt_seconds(mid["server_cpu_s"]),
                fmt_seconds(mid["client_cpu_s"]),
                fmt_seconds(mid["seconds"]),
                fmt_rate(mid["tokens"] / mid["server_cpu_s"]) if mid["server_cpu_s"] else "-",
                f"{mid['machine_busy_s'] / mid['machine_total_s']:.0%}"
                if mid["machine_total_s"]
                else "-",
                ", ".join(fmt_rate(s["tokens_per_s"]) for s in samples),
            ],
            workers=workers,
            tokens_per_s=medians[workers],
            runs=samples,
        )
    result.tables.append(table)
    ratio = medians[2] / medians[1]
    result.target(
        "2 workers give at least 1.6x the tokens/s of 1 worker (Redis replay store)",
        ratio >= 1.6,
        f"{fmt_ratio(ratio)} ({fmt_rate(medians[2])} vs {fmt_rate(medians[1])} tokens/s)",
    )
    errors = sum(s["errors"] + s["mixed"] for samples in runs.values() for s in samples)
    samples_text = "; ".join(e for s in runs[1] + runs[2] for e in s["error_samples"][:2])
    result.target(
        "0 errors and 0 mixed tokens", errors == 0, f"{errors} ({samples_text or 'none'})"
    )
    result.note(
        "Nothing is pinned: with 1 worker the server uses at most one core and the client the "
        "other; with 2 workers both workers and the client share the 2 cores, so the client's "
        "CPU (column 'client CPU') is taken from the servers. CPU times are the median run's, "
        "from /proc (server: the worker processes). 'machine busy' is the share of both "
        "cores in use by any process while the median run's client ran (from its start-up to "
        "its exit): what the server and client did not use of it was other work on the machine."
    )
    return result
