"""Section 9: the HTTP-era transports on loopback, same tokens, one run.

Three endpoints stream the same tokens, one token per send, as Server-Sent Events (``data:
<token>``), server and client in separate processes on 127.0.0.1:

- ``synapsegen btauth/1``: our Axon serving the generated ``TokenStream``
  (bench/schemas/transports.yaml), called by ``Dendrite(transport="btauth/1")``;
- ``synapsegen bittensor10``: the same Axon process and route, called by ``Dendrite()`` (bittensor
  10's wire);
- ``FastAPI + httpx``: the hand-written endpoint and client of bench/handwritten_http.py (a
  FastAPI route with a pydantic model, btauth/1 checked in a dependency, a ``StreamingResponse``
  of SSE lines; ``httpx.AsyncClient.stream`` parsing ``aiter_lines()``), served by uvicorn too.

Each round is one client process with one client (and connection pool) per endpoint: a
warm-up call each, then ``calls`` calls of ``n_tokens`` tokens per endpoint (tokens/s of each
call), then ``short_calls`` calls of ``SHORT_TOKENS`` tokens (time to the first token), the
endpoints taking turns call by call (the order rotating), so that whatever else loads the machine
falls on all three alike. Around each call the client reads its own CPU time and the server
process's (all threads, from /proc). Then, in this process, the cost of signing and verifying
one request under each scheme.

Targets: btauth/1 at least 2x the hand-written endpoint's tokens/s at one token per send, and
within 1.2x of our own bittensor10 route (btauth/1 tokens/s >= bittensor10 tokens/s / 1.2).

    python -m bench.transports serve-axon --module PATH
    python -m bench.transports serve-fastapi
        a server process: prints {"port", "hotkey", "pid"} once ready, serves until stdin closes.
    python -m bench.transports client --module PATH --targets JSON --n-tokens N --calls C
            --short-calls S
        one client process measuring the targets ({"stack": "btauth"|"v10"|"fastapi", "port",
        "hotkey", "pid"}) call by call in turn: prints one JSON line with every call's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any

from .common import (
    REPO_ROOT,
    SectionResult,
    SectionSkipped,
    Table,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    import_file,
    median,
    require_codecs,
    require_runtime,
    stop_server,
)
from .scaleout import machine_cpu

if str(REPO_ROOT) not in sys.path:  # the interop key seeds live in tests/
    sys.path.insert(0, str(REPO_ROOT))

THROUGHPUT_VS_HANDWRITTEN = 2.0
WITHIN_V10 = 1.2
SHORT_TOKENS = 10
CALL_TIMEOUT_S = 60.0

#: The stacks, in table order: key -> label.
STACKS = {
    "btauth": "synapsegen btauth/1",
    "v10": "synapsegen bittensor10",
    "fastapi": "FastAPI + httpx (hand-written)",
}

# Typical LLM tokens: 1-6 characters, some of them 2-4 UTF-8 bytes each.
_WORDS = (
    "The",
    " quick",
    " brown",
    " fox",
    " jumps",
    " over",
    " the",
    " lazy",
    " dog;",
    " Grüß",
    " dich,",
    " 世界",
    " 🌍",
    "!",
)


@cache
def tokens_of(n_tokens: int) -> tuple[str, ...]:
    """The ``n_tokens`` tokens every endpoint streams (whatever the prompt)."""
    return tuple(_WORDS[i % len(_WORDS)] for i in range(n_tokens))


def expected_text(n_tokens: int) -> str:
    """What a client must have received: the tokens, concatenated."""
    return "".join(tokens_of(n_tokens))


async def token_source(prompt: str, n_tokens: int) -> AsyncIterator[str]:
    """The miners' "model": the tokens, as fast as they are taken."""
    for token in tokens_of(n_tokens):
        yield token


def _keypair(name: str) -> Any:
    from bittensor_wallet import Keypair

    from tests.interop.bt_side.common import KEY_SEEDS

    return Keypair.create_from_seed(KEY_SEEDS[name])


def _ready(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def _wait_for_stdin_eof() -> None:
    for _ in sys.stdin:
        pass


def _token_stream_class(module_path: str) -> Any:
    return import_file(module_path, "_bench_transports_module").TokenStream


# ---------------------------------------------------------------- server processes


def serve_axon(module_path: str) -> None:
    """Our Axon serving TokenStream on all three transports until stdin closes."""
    from synapsegen.runtime import Axon

    cls = _token_stream_class(module_path)

    async def forward(synapse: Any) -> Any:
        return synapse.stream_response(token_source(synapse.prompt, synapse.n_tokens))

    forward.__annotations__["synapse"] = cls  # the Axon routes by this annotation
    axon = Axon(_keypair("miner"))
    axon.attach(forward, transports=("bittensor10", "btauth/1", "epistula/2"))
    axon.start()
    try:
        _ready({"port": axon.port, "hotkey": axon.hotkey, "pid": os.getpid()})
        _wait_for_stdin_eof()
    finally:
        axon.stop()


def serve_fastapi() -> None:
    """The hand-written FastAPI endpoint under uvicorn until stdin closes."""
    import uvicorn

    from .handwritten_http import build_app

    keypair = _keypair("miner")
    app = build_app(keypair.ss58_address, token_source)
    # proto IPPROTO_TCP, as the sockets asyncio opens for ``uvicorn.run(app, host, port)``:
    # asyncio sets TCP_NODELAY only on those (with proto 0, Nagle delays the first token ~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    # uvicorn's defaults but its access log (ours has none either); httptools when installed.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))

    def stop_on_eof() -> None:
        _wait_for_stdin_eof()
        server.should_exit = True

    threading.Thread(target=stop_on_eof, daemon=True).start()
    _ready({"port": sock.getsockname()[1], "hotkey": keypair.ss58_address, "pid": os.getpid()})
    server.run(sockets=[sock])


# ---------------------------------------------------------------- client processes


async def _ours_once(dendrite: Any, target: Any, cls: Any, n_tokens: int) -> dict[str, Any]:
    synapse = cls(prompt="bench", n_tokens=n_tokens)
    first: float | None = None
    start = time.perf_counter()
    async for item in dendrite.call_stream(
        target, synapse, timeout=CALL_TIMEOUT_S, deserialize=False
    ):
        if first is None and isinstance(item, str):
            first = time.perf_counter() - start
    duration = time.perf_counter() - start
    return {
        "status": synapse.dendrite.status_code,
        "message": synapse.dendrite.status_message,
        "ok": synapse.completion == expected_text(n_tokens) and synapse.stream_complete,
        "duration_s": duration,
        "first_token_s": first,
    }


async def _fastapi_once(client: Any, keypair: Any, hotkey: str, n_tokens: int) -> dict[str, Any]:
    from .handwritten_http import stream_call

    parts: list[str] = []
    first: list[float] = []
    start = time.perf_counter()

    def on_token(token: str) -> None:
        if not first:
            first.append(time.perf_counter() - start)
        parts.append(token)

    status = await stream_call(client, keypair, hotkey, "bench", n_tokens, on_token)
    duration = time.perf_counter() - start
    return {
        "status": status,
        "message": None,
        "ok": "".join(parts) == expected_text(n_tokens),
        "duration_s": duration,
        "first_token_s": first[0] if first else None,
    }


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of process ``pid`` so far, in ns (/proc/PID/task/*/schedstat:
    precise, where /proc/PID/stat counts 10 ms ticks). Threads that ended are not counted."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):  # a thread that just ended
            continue
    return total


class _Stack:
    """One endpoint's client and the figures of its calls."""

    def __init__(self, name: str, server_pid: int, once: Callable[[int], Any]) -> None:
        self.name = name
        self.server_pid = server_pid
        self.once = once
        self.figures: dict[str, Any] = {
            "calls": [],
            "short": [],
            "server_cpu_s": 0.0,
            "client_cpu_s": 0.0,
            "short_server_cpu_s": 0.0,
            "short_client_cpu_s": 0.0,
        }

    async def call(self, n_tokens: int, kind: str) -> None:
        """One call; its figures and the CPU time it took on both sides."""
        server, own = cpu_ns(self.server_pid), time.process_time()
        result = await self.once(n_tokens)
        server, own = cpu_ns(self.server_pid) - server, time.process_time() - own
        prefix = "" if kind == "calls" else "short_"
        self.figures[kind].append(result)
        self.figures[f"{prefix}server_cpu_s"] += server / 1e9
        self.figures[f"{prefix}client_cpu_s"] += own


async def _interleaved(stacks: list[_Stack], n_tokens: int, calls: int, short_calls: int) -> None:
    """A warm-up call each, then the long calls and the short ones, one endpoint after the
    other call by call (the order rotating), so that other work on the machine falls on all."""
    for stack in stacks:
        stack.figures["warmup"] = await stack.once(SHORT_TOKENS)
    gc.collect()
    for count, n, kind in ((calls, n_tokens, "calls"), (short_calls, SHORT_TOKENS, "short")):
        for index in range(count):
            shift = index % len(stacks)
            for stack in stacks[shift:] + stacks[:shift]:
                await stack.call(n, kind)


async def client(
    module_path: str,
    targets: list[dict[str, Any]],
    n_tokens: int,
    calls: int,
    short_calls: int,
) -> dict[str, Any]:
    """Measure the targets (``{"stack", "port", "hotkey", "pid"}``) call by call in turn, each
    with its own client (a Dendrite, or an httpx.AsyncClient) and connection pool."""
    import httpx

    from synapsegen.runtime import AxonTarget, Dendrite

    keypair = _keypair("validator")
    cls = _token_stream_class(module_path)
    async with contextlib.AsyncExitStack() as exits:
        stacks = []
        for spec in targets:
            stack, port, hotkey = spec["stack"], spec["port"], spec["hotkey"]
            if stack == "fastapi":
                http = await exits.enter_async_context(
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=CALL_TIMEOUT_S)
                )

                async def hand_once(n: int, http: Any = http, hotkey: str = hotkey) -> Any:
                    return await _fastapi_once(http, keypair, hotkey, n)

                stacks.append(_Stack(stack, spec["pid"], hand_once))
            else:
                transport = "btauth/1" if stack == "btauth" else "bittensor10"
                dendrite = await exits.enter_async_context(Dendrite(keypair, transport=transport))
                target = AxonTarget(ip="127.0.0.1", port=port, hotkey=hotkey)

                async def our_once(n: int, dendrite: Any = dendrite, target: Any = target) -> Any:
                    return await _ours_once(dendrite, target, cls, n)

                stacks.append(_Stack(stack, spec["pid"], our_once))
        await _interleaved(stacks, n_tokens, calls, short_calls)
    return {stack.name: stack.figures for stack in stacks}


# ---------------------------------------------------------------- the section


def _start_server(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.transports", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )


def _ready_line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    """The JSON line a server prints once it serves."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"server `{' '.join(map(str, proc.args))}` exited before it was ready")
    ready: dict[str, Any] = json.loads(line)
    return ready


def _run_client(
    module: Path, targets: list[dict[str, Any]], n_tokens: int, calls: int, short_calls: int
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.transports",
        "client",
        "--module",
        str(module),
        "--targets",
        json.dumps(targets),
        "--n-tokens",
        str(n_tokens),
        "--calls",
        str(calls),
        "--short-calls",
        str(short_calls),
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the client process failed:\n{proc.stderr[-3000:]}")
    results: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    for stack, result in results.items():
        bad = [
            c
            for c in [result["warmup"], *result["calls"], *result["short"]]
            if c["status"] != 200 or not c["ok"] or c["first_token_s"] is None
        ]
        if bad:
            raise RuntimeError(f"a {STACKS[stack]} call failed or was wrong: {bad[0]}")
    return results


def _time_ops(fn: Callable[[], object], count: int, repetitions: int) -> float:
    """Median over ``repetitions`` of the mean seconds per call of ``fn`` (``count`` calls)."""
    samples = []
    for _ in range(repetitions):
        gc.collect()
        start = time.perf_counter()
        for _ in range(count):
            fn()
        samples.append((time.perf_counter() - start) / count)
    return median(samples)


def _time_pairs(
    make: Callable[[], Any],
    prepare: Callable[[Any], Any],
    check: Callable[[Any], Any],
    count: int,
    repetitions: int,
) -> tuple[float, float]:
    """(sign, verify) seconds per request: ``prepare(make())`` ``count`` signed requests (only
    ``prepare`` timed), then run the coroutine ``check(request)`` on each in one event loop;
    medians over ``repetitions``."""
    signs, verifies = [], []
    for _ in range(repetitions):
        synapses = [make() for _ in range(count)]
        gc.collect()
        start = time.perf_counter()
        requests = [prepare(synapse) for synapse in synapses]
        signs.append((time.perf_counter() - start) / count)

        async def verify_all(requests: list[Any] = requests) -> float:
            start = time.perf_counter()
            for request in requests:
                await check(request)
            return time.perf_counter() - start

        gc.collect()
        verifies.append(asyncio.run(verify_all()) / count)
    return median(signs), median(verifies)


def signing_costs(cls: Any, count: int, repetitions: int) -> list[dict[str, Any]]:
    """Sign and verify one ``TokenStream`` request per scheme, in this process (seconds).

    "sign": from a synapse to the signed request's headers and body bytes, as the Dendrite
    builds them; "verify": the server's checks of those headers and body (the body is not yet
    parsed into a synapse, except bittensor10's body hash, which is that scheme's digest)."""
    from bittensor_wallet import Keypair

    from synapsegen.runtime import Axon, AxonTarget, Dendrite
    from synapsegen.runtime.btauth import BtAuthVerifier
    from synapsegen.runtime.btauth import sign_request as btauth_sign
    from synapsegen.runtime.epistula import EpistulaVerifier
    from synapsegen.runtime.epistula import sign_request as epistula_sign
    from synapsegen.runtime.http_wire import encode_request

    validator, miner = _keypair("validator"), _keypair("miner")
    receiver = miner.ss58_address
    route = f"/{cls.__name__}"
    rows = []

    def make() -> Any:
        return cls(prompt="bench", n_tokens=2000)

    payload = b"x" * 200  # about the size of a btauth/1 signed payload
    signature = validator.sign(payload)
    sign_s = _time_ops(lambda: validator.sign(payload), count, repetitions)
    verify_s = _time_ops(
        lambda: Keypair(ss58_address=validator.ss58_address).verify(payload, signature),
        count,
        repetitions,
    )
    rows.append(
        {
            "scheme": "sr25519 alone (the floor)",
            "sign_what": "Keypair.sign of 200 bytes",
            "verify_what": "Keypair(ss58_address).verify",
            "sign_s": sign_s,
            "verify_s": verify_s,
        }
    )

    for scheme, sign, verifier in (
        ("btauth/1", btauth_sign, BtAuthVerifier(receiver)),
        ("epistula/2", epistula_sign, EpistulaVerifier(receiver)),
    ):

        def http_prepare(synapse: Any, sign: Any = sign) -> tuple[dict[str, str], bytes]:
            body = encode_request(synapse)
            if sign is btauth_sign:
                return sign(
                    validator, method="POST", target=route, body=body, receiver=receiver
                ), body
            return sign(validator, body=body, receiver=receiver), body

        async def http_check(
            request: tuple[dict[str, str], bytes], verifier: Any = verifier
        ) -> None:
            headers, body = request
            claim = verifier.claim(headers)
            await verifier.verify(claim, method="POST", target=route, body=body)

        sign_s, verify_s = _time_pairs(make, http_prepare, http_check, count, repetitions)
        name = type(verifier).__name__
        rows.append(
            {
                "scheme": scheme,
                "sign_what": f"http_wire.encode_request, {scheme.split('/')[0]}.sign_request",
                "verify_what": f"{name}.claim + verify (replay set included)",
                "sign_s": sign_s,
                "verify_s": verify_s,
            }
        )

    # bittensor 10: the dendrite stamps and signs the synapse; the axon's default check.
    dendrite = Dendrite(validator)
    axon = Axon(miner)  # not started: only its app's default_verify is used
    target = AxonTarget(ip="127.0.0.1", port=1, hotkey=receiver)

    def v10_prepare(synapse: Any) -> tuple[Any, dict[str, str], bytes]:
        dendrite.preprocess_synapse_for_request(target, synapse, 12.0)
        headers = synapse.to_headers()
        return synapse, headers, json.dumps(synapse.model_dump()).encode()

    async def v10_check(request: tuple[Any, dict[str, str], bytes]) -> None:
        body_synapse, headers, _ = request  # the synapse the axon parses from the body
        await axon.app.default_verify(cls.from_headers(headers))
        if body_synapse.body_hash != headers["computed_body_hash"]:
            raise AssertionError("body hash mismatch")

    sign_s, verify_s = _time_pairs(make, v10_prepare, v10_check, count, repetitions)
    rows.append(
        {
            "scheme": "bittensor10",
            "sign_what": "Dendrite.preprocess_synapse_for_request, to_headers, JSON body",
            "verify_what": "Synapse.from_headers, AxonApp.default_verify, body hash check",
            "sign_s": sign_s,
            "verify_s": verify_s,
        }
    )
    return rows


def _summary(results: list[dict[str, Any]], n_tokens: int) -> dict[str, Any]:
    calls = [c for r in results for c in r["calls"]]
    short = [c["first_token_s"] for r in results for c in r["short"]]
    tokens = n_tokens * len(calls)
    return {
        "tokens_per_s": median([n_tokens / c["duration_s"] for c in calls]),
        "all_tokens_per_s": [n_tokens / c["duration_s"] for c in calls],
        "call_s": median([c["duration_s"] for c in calls]),
        "first_token_s": median(short),
        "first_token_min_s": min(short),
        "first_token_max_s": max(short),
        "first_token_all_s": short,
        "server_cpu_per_token_s": sum(r["server_cpu_s"] for r in results) / tokens,
        "client_cpu_per_token_s": sum(r["client_cpu_s"] for r in results) / tokens,
        "server_cpu_per_short_call_s": sum(r["short_server_cpu_s"] for r in results) / len(short),
        "client_cpu_per_short_call_s": sum(r["short_client_cpu_s"] for r in results) / len(short),
        "calls": len(calls),
        "short_calls": len(short),
        "round_tokens_per_s": [
            median([n_tokens / c["duration_s"] for c in r["calls"]]) for r in results
        ],
    }


def _require() -> None:
    require_codecs()
    require_runtime("Axon", "Dendrite", "token_streamer", "encode_sse")
    for module, what in (
        ("synapsegen.runtime.btauth", "btauth/1 signing"),
        ("synapsegen.runtime.epistula", "Epistula signing"),
        ("synapsegen.runtime.http_wire", "the HTTP wire"),
    ):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise SectionSkipped(f"{what} ({module}) does not exist yet: {exc}") from exc
    for name in ("fastapi", "httpx"):  # found, not imported: FastAPI takes a second to import
        if importlib.util.find_spec(name) is None:
            raise SectionSkipped(f"{name} is not installed (pip install -e '.[test]' brings it)")


def run(quick: bool) -> SectionResult:
    """Stream the same tokens over the three endpoints; sign and verify in-process."""
    _require()
    from . import generated  # generate() raises, with its output, if the CLI fails

    result = SectionResult("transports", "HTTP-era transports vs a hand-written FastAPI endpoint")
    n_tokens = 200 if quick else 2_000
    calls = 2 if quick else 20
    short_calls = 2 if quick else 100
    rounds = 1 if quick else 3
    sign_count, sign_repetitions = (30, 1) if quick else (1_000, 5)
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {stack: [] for stack in STACKS}
    with tempfile.TemporaryDirectory(prefix="synapsegen-bench-transports-") as tmp:
        out = Path(tmp)
        servers: list[subprocess.Popen[str]] = []
        try:
            servers.append(_start_server("serve-fastapi"))  # starts while the code generates
            generated.generate([REPO_ROOT / "bench" / "schemas" / "transports.yaml"], out)
            module = out / "transports.py"
            servers.append(_start_server("serve-axon", "--module", str(module)))
            fastapi_ready, axon_ready = (_ready_line(proc) for proc in servers)
            ready = {"btauth": axon_ready, "v10": axon_ready, "fastapi": fastapi_ready}
            targets = [{"stack": stack, **ready[stack]} for stack in STACKS]
            busy0, total0 = machine_cpu()
            for index in range(rounds):  # one client process per round
                shift = index % len(targets)
                order = targets[shift:] + targets[:shift]
                results = _run_client(module, order, n_tokens, calls, short_calls)
                for stack, samples in results.items():
                    runs[stack].append(samples)
            busy1, total1 = machine_cpu()
        finally:
            for server in servers:
                stop_server(server)
        cls = _token_stream_class(str(module))
        costs = signing_costs(cls, sign_count, sign_repetitions)
    load_after = os.getloadavg()

    figures = {stack: _summary(samples, n_tokens) for stack, samples in runs.items()}
    hand = figures["fastapi"]
    v10 = figures["v10"]
    table = Table(
        f"{n_tokens:,} tokens per call at one token per send (SSE), {calls} calls x {rounds} "
        f"round(s) per endpoint after a warm-up; median per call",
        [
            "endpoint",
            "tokens/s",
            "vs hand-written",
            "vs our v10",
            "call time",
            "server CPU/token",
            "client CPU/token",
            "rounds (tokens/s)",
        ],
    )
    for stack, label in STACKS.items():
        fig = figures[stack]
        table.add(
            [
                label,
                fmt_rate(fig["tokens_per_s"]),
                fmt_ratio(fig["tokens_per_s"] / hand["tokens_per_s"]),
                fmt_ratio(fig["tokens_per_s"] / v10["tokens_per_s"]),
                fmt_seconds(fig["call_s"]),
                fmt_seconds(fig["server_cpu_per_token_s"]),
                fmt_seconds(fig["client_cpu_per_token_s"]),
                ", ".join(fmt_rate(v) for v in fig["round_tokens_per_s"]),
            ],
            stack=stack,
            **fig,
        )
    result.tables.append(table)

    ttft = Table(
        f"time to first token: {SHORT_TOKENS}-token calls, {short_calls} x {rounds} round(s) per "
        "endpoint after a warm-up",
        [
            "endpoint",
            "TTFT p50",
            "TTFT min",
            "TTFT max",
            "vs hand-written",
            "server CPU/call",
            "client CPU/call",
        ],
    )
    for stack, label in STACKS.items():
        fig = figures[stack]
        ttft.add(
            [
                label,
                fmt_seconds(fig["first_token_s"]),
                fmt_seconds(fig["first_token_min_s"]),
                fmt_seconds(fig["first_token_max_s"]),
                fmt_ratio(fig["first_token_s"] / hand["first_token_s"]),
                fmt_seconds(fig["server_cpu_per_short_call_s"]),
                fmt_seconds(fig["client_cpu_per_short_call_s"]),
            ],
            stack=stack,
            first_token_s=fig["first_token_all_s"],
        )
    result.tables.append(ttft)

    signing = Table(
        f"signing and verifying one request, in this process: mean of {sign_count:,}, median "
        f"of {sign_repetitions}",
        ["scheme", "sign", "verify", "sign + verify", "sign timed", "verify timed"],
    )
    for row in costs:
        signing.add(
            [
                row["scheme"],
                fmt_seconds(row["sign_s"]),
                fmt_seconds(row["verify_s"]),
                fmt_seconds(row["sign_s"] + row["verify_s"]),
                row["sign_what"],
                row["verify_what"],
            ],
            **row,
        )
    result.tables.append(signing)

    ours = figures["btauth"]["tokens_per_s"]
    vs_hand = ours / hand["tokens_per_s"]
    result.target(
        f"btauth/1 endpoint at least {THROUGHPUT_VS_HANDWRITTEN:g}x the hand-written FastAPI + "
        "httpx endpoint's tokens/s at one token per send",
        vs_hand >= THROUGHPUT_VS_HANDWRITTEN,
        f"{fmt_ratio(vs_hand)} ({fmt_rate(ours)} vs {fmt_rate(hand['tokens_per_s'])} tokens/s)",
    )
    vs_v10 = v10["tokens_per_s"] / ours
    result.target(
        f"btauth/1 endpoint within {WITHIN_V10:g}x of our bittensor10 route's tokens/s",
        vs_v10 <= WITHIN_V10,
        f"bittensor10 / btauth/1 = {fmt_ratio(vs_v10)} ({fmt_rate(v10['tokens_per_s'])} vs "
        f"{fmt_rate(ours)} tokens/s)",
    )
    busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else None
    result.note(
        f"Machine load: load average {load_before[0]:.2f} (1 min) before the section, "
        f"{load_after[0]:.2f} after; both cores "
        + ("-" if busy is None else f"{busy:.0%}")
        + " busy (any process) while the streaming rounds ran. Other work on the machine "
        "slows every endpoint (the endpoints take turns call by call, so it falls on all three "
        "alike, on average); the CPU columns move least with it."
    )
    result.note(
        "CPU per token (per call): the CPU time of the server process (all its threads, "
        "/proc/PID/task/*/schedstat) and of the client process during each long (short) call, "
        "summed and divided by the tokens they carried (by the calls). Calls run one at a "
        "time, so the bittensor10 and btauth/1 rows, which share one Axon process, each count "
        "only their own calls."
    )
    result.note(
        "The hand-written endpoint signs and verifies with the runtime's btauth.sign_request and "
        "BtAuthVerifier (bittensor 11's http_auth signs the same bytes), so only the HTTP stack "
        "differs; it runs under uvicorn with its access log off, as our Axon does."
    )
    return result


def main() -> None:
    """Command-line entry (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.transports")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve-axon")
    p.add_argument("--module", required=True)
    sub.add_parser("serve-fastapi")
    p = sub.add_parser("client")
    p.add_argument("--module", required=True)
    p.add_argument(
        "--targets", required=True, help='JSON list of {"stack", "port", "hotkey", "pid"}'
    )
    p.add_argument("--n-tokens", type=int, required=True)
    p.add_argument("--calls", type=int, default=1)
    p.add_argument("--short-calls", type=int, default=1)
    args = parser.parse_args()
    if args.command == "serve-axon":
        serve_axon(args.module)
    elif args.command == "serve-fastapi":
        serve_fastapi()
    else:
        stats = asyncio.run(
            client(
                args.module, json.loads(args.targets), args.n_tokens, args.calls, args.short_calls
            )
        )
        print(json.dumps(stats))


if __name__ == "__main__":
    main()
