"""Section: idle and slowloris floods against an Axon at a 1,024 file-descriptor limit.

The Axon runs in its own process (``bench.our_stack serve-load --nofile 1024``: ``RLIMIT_NOFILE``
lowered with ``resource`` before the Axon is built, so its ``max_connections="auto"`` is 768) with
its default limits (``max_connections_per_ip=128``, ``header_timeout=10 s``). Another process
(``python -m bench.flood``, below) opens ~2,000 sockets and keeps them open, reopening each one the
server closes after a second:

- **idle**: the sockets send nothing (the issue's case: 2,000 idle sockets from one client);
- **slowloris**: each sends one byte of a request head every second, never finishing it;
- **spread**: idle sockets from 16 addresses (127.0.1.1-16), 125 each, so no address reaches
  the per-address cap and the server-wide cap is what is left (informative, no target).

A good client (``our_stack probe``: short streaming calls from 127.0.0.1, each on a new
connection) is timed without a flood and under each flood; the latency ratio and its answers are
reported, with the number of lines the Axon wrote to its log (stderr) during each flood.
Target: under the idle and slowloris floods from one address, every call of the good client is
served.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import generated
from .common import (
    REPO_ROOT,
    SectionResult,
    Table,
    fmt_ratio,
    fmt_seconds,
    median,
    our_stack_command,
    require_codecs,
    require_runtime,
    stop_server,
)

NOFILE = 1024
FLOOD_SOCKETS = 2000
RECONNECT_DELAY_S = 1.0
TRICKLE_PERIOD_S = 1.0
MAX_FLOOD_S = 120.0  # a flood process ends by itself after this long, whatever happens
HEAD = b"POST /LoadStream HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


# ---------------------------------------------------------------- the flood client (a process)


class Flood:
    """``count`` sockets to 127.0.0.1:``port`` from ``sources``, kept open (each one the server
    closes is reopened ``RECONNECT_DELAY_S`` later), optionally trickling a request head."""

    def __init__(self, port: int, count: int, sources: list[str], slow: bool) -> None:
        self.port = port
        self.slow = slow
        self.selector = selectors.DefaultSelector()
        self.sources = [sources[i % len(sources)] for i in range(count)]
        self.sent: dict[socket.socket, int] = {}
        self.reopen: collections.deque[tuple[float, str]] = collections.deque()
        self.stats = {"opened": 0, "closed_by_server": 0, "connect_errors": 0, "bytes_sent": 0}

    def open(self, source: str) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.bind((source, 0))
            sock.connect_ex(("127.0.0.1", self.port))  # EINPROGRESS; completes in the kernel
        except OSError:
            sock.close()
            self.stats["connect_errors"] += 1
            self.reopen.append((time.monotonic() + RECONNECT_DELAY_S, source))
            return
        self.selector.register(sock, selectors.EVENT_READ, source)
        self.sent[sock] = 0
        self.stats["opened"] += 1

    def closed(self, sock: socket.socket, source: str) -> None:
        self.selector.unregister(sock)
        sock.close()
        del self.sent[sock]
        self.stats["closed_by_server"] += 1
        self.reopen.append((time.monotonic() + RECONNECT_DELAY_S, source))

    def trickle(self) -> None:
        for sock, sent in list(self.sent.items()):
            try:
                sock.send(HEAD[sent : sent + 1] if sent < len(HEAD) else b"a")
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                continue  # a reset connection is seen (and reopened) by the read side
            self.sent[sock] = sent + 1
            self.stats["bytes_sent"] += 1

    def run(self, deadline: float) -> dict[str, int]:
        """Open every socket, print a ready line, and keep the flood up until stdin closes."""
        for source in self.sources:
            self.open(source)
        print(json.dumps({"ready": True, **self.stats}), flush=True)
        self.selector.register(sys.stdin, selectors.EVENT_READ, None)
        next_trickle = time.monotonic() + TRICKLE_PERIOD_S
        while time.monotonic() < deadline:
            for key, _ in self.selector.select(timeout=0.1):
                if key.data is None:  # stdin: closed means stop
                    if not sys.stdin.readline():
                        return self.finish()
                    continue
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    data = sock.recv(4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.closed(sock, key.data)
            now = time.monotonic()
            while self.reopen and self.reopen[0][0] <= now:
                self.open(self.reopen.popleft()[1])
            if self.slow and now >= next_trickle:
                self.trickle()
                next_trickle = now + TRICKLE_PERIOD_S
        return self.finish()

    def finish(self) -> dict[str, int]:
        self.stats["open_at_end"] = len(self.sent)
        for sock in list(self.sent):
            sock.close()
        return self.stats


def flood_main(argv: list[str] | None = None) -> None:
    """``python -m bench.flood --port P --sockets N --sources A,B --mode idle|slow``."""
    parser = argparse.ArgumentParser(prog="python -m bench.flood")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sockets", type=int, default=FLOOD_SOCKETS)
    parser.add_argument("--sources", default="127.0.0.2", help="comma-separated source addresses")
    parser.add_argument("--mode", choices=("idle", "slow"), default="idle")
    parser.add_argument("--max-seconds", type=float, default=MAX_FLOOD_S)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.sockets + 64
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    flood = Flood(args.port, args.sockets, args.sources.split(","), args.mode == "slow")
    print(json.dumps(flood.run(time.monotonic() + args.max_seconds)), flush=True)


# ---------------------------------------------------------------- the section


def _probe(module: Path, ready: dict[str, Any], calls: int) -> list[dict[str, Any]]:
    port, hotkey = ready["ports"][0], ready["hotkey"]
    command = our_stack_command(
        "probe", "--module", str(module), "--port", str(port), "--hotkey", hotkey,
        "--calls", str(calls),
    )  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60 + 15 * calls, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the good client failed:\n{done.stderr[-3000:]}")
    answers: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return answers


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


# A traceback's file path, shown by its last folder and name only: the rest is the machine's.
_FILE_PATH = re.compile(r'"(?:[^"/]*/)+([^"/]+/[^"/]+)"')


def _kinds(path: Path, skip: int) -> dict[str, int]:
    """The log's lines after the first ``skip``, counted by kind (numbers replaced by N, file
    paths cut to their last folder)."""
    lines = path.read_text(errors="replace").splitlines()[skip:]
    return dict(
        collections.Counter(
            re.sub(r"\d+", "N", _FILE_PATH.sub(r'".../\1"', line))[:90] for line in lines
        )
    )


def _start_server(module: Path, log: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The Axon process at the lowered descriptor limit, its stderr (the log) into ``log``."""
    with open(log, "wb") as stderr:
        proc = subprocess.Popen(
            our_stack_command(
                "serve-load", "--module", str(module), "--nofile", str(NOFILE)
            ),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=REPO_ROOT,
        )  # fmt: skip
    return proc, _ready(proc, lambda: f"the flood target exited before it was ready:\n"
                        f"{log.read_text()}")  # fmt: skip


def _flood(
    port: int, sockets: int, sources: list[str], mode: str
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.flood", "--port", str(port), "--sockets", str(sockets),
         "--sources", ",".join(sources), "--mode", mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )  # fmt: skip
    return proc, _ready(proc, lambda: "the flood client exited before it was ready")


def _ready(proc: subprocess.Popen[str], why: Callable[[], str]) -> dict[str, Any]:
    """The JSON line a helper process prints once it is ready; RuntimeError(why()) if it exits."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(why())
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def _end_flood(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    try:
        out = proc.stdout.read()
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return {}
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def run(quick: bool) -> SectionResult:
    """No flood, then each flood: the good client's answers and latency, the Axon's log lines."""
    generated.require_generator()
    require_codecs()
    require_runtime("Axon", "Dendrite", "token_streamer")
    result = SectionResult("flood", "Idle and slowloris floods at a 1,024 file-descriptor limit")
    sockets = 600 if quick else FLOOD_SOCKETS
    calls = 5 if quick else 20
    settle = 0.5 if quick else 3.0  # the flood runs this long before the good client starts
    spread_sources = [f"127.0.1.{i}" for i in range(1, 17)]
    scenarios = [
        ("none", 0, [], "idle"),
        ("idle, one address", sockets, ["127.0.0.2"], "idle"),
        ("slowloris, one address", sockets, ["127.0.0.2"], "slow"),
        (f"idle, {len(spread_sources)} addresses", sockets, spread_sources, "idle"),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-flood-") as tmp:
        out = Path(tmp)
        generated.generate([REPO_ROOT / "bench" / "schemas" / "load.yaml"], out)
        module = out / "load.py"
        log = out / "axon.log"
        server, ready = _start_server(module, log)
        try:
            _probe(module, ready, 2)  # warm-up
            for name, count, sources, mode in scenarios:
                lines_before = _lines(log)
                flood, opened = None, {}
                if count:
                    flood, opened = _flood(ready["ports"][0], count, sources, mode)
                    time.sleep(settle)
                started = time.monotonic()
                try:
                    answers = _probe(module, ready, calls)
                    probe_s = time.monotonic() - started
                finally:
                    stats = _end_flood(flood) if flood else {}
                time.sleep(0.5)  # let the server log what the end of the flood caused
                rows.append(
                    {
                        "scenario": name,
                        "sockets": count,
                        "sources": len(sources),
                        "mode": mode,
                        "answers": answers,
                        "probe_s": probe_s,
                        "flood": {**opened, **stats},
                        "log_lines": _lines(log) - lines_before,
                        "log_kinds": _kinds(log, lines_before),
                        "server_alive": server.poll() is None,
                    }
                )
        finally:
            stop_server(server)

    table = Table(
        f"Axon at RLIMIT_NOFILE={NOFILE} (max_connections auto = {NOFILE * 3 // 4}, "
        f"max_connections_per_ip 128, header_timeout 10 s); flood of {sockets:,} sockets from "
        f"another process, each reopened {RECONNECT_DELAY_S:g} s after the server closes it; the "
        f"good client: {calls} short streaming calls from 127.0.0.1, each on a new connection, "
        f"started {settle:g} s into the flood",
        ["flood", "sockets", "served", "latency p50", "max", "p50 vs no flood",
         "closed by server", "axon log lines", "axon alive"],
    )  # fmt: skip
    baseline = median([a["seconds"] for a in rows[0]["answers"]])
    for row in rows:
        answers = row["answers"]
        ok = [a for a in answers if a["status"] == 200 and a["complete"]]
        row["served"] = len(ok)
        times = [a["seconds"] for a in ok]
        p50 = median(times) if times else None
        if len(ok) < len(answers):
            statuses = collections.Counter(f"{a['status']} {a['message']}"[:70] for a in answers)
            result.note(f"{row['scenario']}: the good client's answers: {dict(statuses)}")
        if row["log_kinds"]:
            kinds = sorted(row["log_kinds"].items(), key=lambda kv: -kv[1])
            result.note(
                f"{row['scenario']}: the axon's log lines by kind: "
                + "; ".join(f"{n} x '{text}'" for text, n in kinds[:4])
            )
        table.add(
            [
                row["scenario"],
                f"{row['sockets']:,}",
                f"{len(ok)}/{len(answers)}",
                fmt_seconds(p50),
                fmt_seconds(max(times)) if times else "-",
                fmt_ratio(p50 / baseline) if p50 else "-",
                f"{row['flood'].get('closed_by_server', 0):,}" if row["sockets"] else "-",
                row["log_lines"],
                "yes" if row["server_alive"] else "NO",
            ],
            **row,
        )
    result.tables.append(table)
    for row in rows[1:3]:
        result.target(
            f"{row['scenario']} flood: the good client is served",
            row["served"] == len(row["answers"]) and row["server_alive"],
            f"{row['served']}/{len(row['answers'])} calls served, "
            f"{row['log_lines']} log lines during the flood",
        )
    result.note(
        "Log lines are what the Axon process wrote to stderr while each flood ran, until half a "
        "second after it ended (uvicorn and the axon log through Python's last-resort handler, "
        "WARNING and above)."
    )
    return result


if __name__ == "__main__":
    flood_main()
