"""synapsegen's own Axon and Dendrite, each in its own process, for the e2e and load sections.

Subcommands (JSON on stdout, one line; a server prints its ready line and runs until stdin closes):

    python -m bench.our_stack serve-interop --batch-count K
        our Axon serving the interop ``InteropStream`` (tests/interop/our_side.py): the same token
        bytes, in the same sends, as the bittensor axon of tests/interop/harness.py.
    python -m bench.our_stack stream --port P --hotkey H --n-tokens N [--warmup]
        one streaming call with our Dendrite: tokens received, tokens/s, time to first token.
    python -m bench.our_stack serve-load --module PATH --axons A [--workers N --replay-store URL]
            [--nofile LIMIT] [--max-connections-per-ip K]
        A Axons serving the generated ``LoadStream`` (bench/schemas/load.yaml): call ``call_id``
        streams tokens ``<call_id:seq>`` every ``interval_ms``. ``--nofile`` lowers the process's
        open-file limit before the Axons are built; ``--max-connections-per-ip 0`` removes the cap.
    python -m bench.our_stack load --module PATH --targets JSON --calls C --duration S --first-id I
            [--rounds R]
        C concurrent calls, restarted as they finish, for S seconds (or exactly R calls each);
        verifies every call's tokens.
    python -m bench.our_stack probe --module PATH --port P --hotkey H --calls K
        K short LoadStream calls one after another, each on a new connection (the "good client"
        of the flood section): per-call status and latency.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from .common import REPO_ROOT, import_file

if str(REPO_ROOT) not in sys.path:  # the interop helpers live in tests/
    sys.path.insert(0, str(REPO_ROOT))


def _keypair(name: str) -> Any:
    from bittensor_wallet import Keypair

    from tests.interop.bt_side.common import KEY_SEEDS

    return Keypair.create_from_seed(KEY_SEEDS[name])


def _ready(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def _wait_for_stdin_eof() -> None:
    for _ in sys.stdin:
        pass


# ---------------------------------------------------------------- e2e (interop synapse)


def serve_interop(batch_count: int) -> None:
    """Serve InteropStream on our Axon until stdin closes."""
    from tests.interop.our_side import start_our_axon

    axon = start_our_axon(_keypair("miner"), batch_count=batch_count)
    try:
        _ready({"port": axon.port, "hotkey": axon.hotkey, "pid": os.getpid()})
        _wait_for_stdin_eof()
    finally:
        axon.stop()


async def _stream_once(dendrite: Any, target: Any, n_tokens: int, prompt: str) -> dict[str, Any]:
    from tests.interop.bt_side.common import count_tokens, expected_text
    from tests.interop.our_side import InteropStream

    synapse = InteropStream(prompt=prompt, n_tokens=n_tokens)
    first: float | None = None
    chunks = 0
    start = time.perf_counter()
    async for item in dendrite.call_stream(target, synapse, timeout=600.0, deserialize=False):
        if isinstance(item, str):
            if first is None:
                first = time.perf_counter() - start
            chunks += 1
    duration = time.perf_counter() - start
    return {
        "status_code": synapse.dendrite.status_code,
        "status_message": synapse.dendrite.status_message,
        "tokens_received": count_tokens(synapse.completion),
        "completion_ok": synapse.completion == expected_text(prompt, n_tokens),
        "chunks": chunks,
        "duration_s": duration,
        "first_token_s": first,
    }


async def stream(port: int, hotkey: str, n_tokens: int, repeats: int) -> list[dict[str, Any]]:
    """A warm-up call, then ``repeats`` measured calls on one Dendrite."""
    from synapsegen.runtime import AxonTarget, Dendrite

    target = AxonTarget(ip="127.0.0.1", port=port, hotkey=hotkey)
    async with Dendrite(_keypair("validator")) as dendrite:
        await _stream_once(dendrite, target, 10, "warmup")
        return [await _stream_once(dendrite, target, n_tokens, "bench") for _ in range(repeats)]


# ---------------------------------------------------------------- load (generated LoadStream)


def load_token(call_id: str, seq: int) -> str:
    """Token ``seq`` of call ``call_id``: carries both, so mixing between calls is visible."""
    return f"<{call_id}:{seq}>"


def check_tokens(call_id: str, completion: str, n_tokens: int) -> tuple[int, int]:
    """(tokens of this call in order, foreign or out-of-order tokens) in a completion."""
    good = bad = 0
    pieces = completion.split(">")
    if pieces and pieces[-1] == "":
        pieces.pop()
    for expected_seq, piece in enumerate(pieces):
        if piece == f"<{call_id}:{expected_seq}":
            good += 1
        else:
            bad += 1
    if len(pieces) > n_tokens:
        bad += len(pieces) - n_tokens
    return good, bad


def empty_load_stats() -> dict[str, Any]:
    """What a load client reports, and what the load section sums over the clients (``seconds``:
    the client's wall time from its first call to its last answer; ``cpu_s``: its CPU time)."""
    return {
        "calls": 0,
        "tokens": 0,
        "errors": 0,
        "mixed": 0,
        "ttft": [],
        "error_samples": [],
        "seconds": 0.0,
        "cpu_s": 0.0,
    }


def serve_load(
    module_path: str,
    axons: int,
    workers: int = 1,
    replay_store: str | None = None,
    nofile: int | None = None,
    max_connections_per_ip: int | None = 128,
) -> None:
    """Serve the generated LoadStream on ``axons`` Axons until stdin closes."""
    if nofile is not None:  # before the Axons: max_connections="auto" reads the limit
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    from synapsegen.runtime import Axon

    cls = import_file(module_path, "_bench_load_module").LoadStream

    async def tokens(call_id: str, n_tokens: int, interval: float) -> AsyncIterator[str]:
        for seq in range(n_tokens):
            if seq and interval > 0:
                await asyncio.sleep(interval)
            yield load_token(call_id, seq)

    async def forward(synapse: Any) -> Any:
        # The generated server helper: encodes, batches and honours synapse.timeout.
        return synapse.stream_response(
            tokens(synapse.call_id, synapse.n_tokens, synapse.interval_ms / 1000)
        )

    forward.__annotations__["synapse"] = cls  # the Axon routes by this annotation
    servers = []
    try:
        for _ in range(axons):
            axon = Axon(
                _keypair("miner"),
                port=0,
                max_workers=None,
                workers=workers,
                replay_store=replay_store,
                max_connections_per_ip=max_connections_per_ip,
            )
            axon.attach(forward)
            axon.start()
            servers.append(axon)
        _ready(
            {
                "ports": [a.port for a in servers],
                "hotkey": servers[0].hotkey,
                "pid": os.getpid(),
                # the processes that serve (the forked workers, or this one)
                "server_pids": [p for a in servers for p in a.worker_pids] or [os.getpid()],
            }
        )
        _wait_for_stdin_eof()
    finally:
        for axon in servers:
            axon.stop()


async def load(
    module_path: str,
    targets: list[dict[str, Any]],
    calls: int,
    duration: float,
    first_id: int,
    n_tokens: int,
    interval_ms: float,
    rounds: int = 0,
    start_at: float | None = None,
) -> dict[str, Any]:
    """``calls`` concurrent workers, each calling in a loop until ``duration`` has passed (or
    exactly ``rounds`` times when ``rounds`` is positive), from ``start_at`` (a ``time.time()``,
    so that several client processes start together) or at once."""
    from synapsegen.runtime import AxonTarget, Dendrite

    cls = import_file(module_path, "_bench_load_module").LoadStream
    axon_targets = [AxonTarget(ip="127.0.0.1", port=t["port"], hotkey=t["hotkey"]) for t in targets]
    stats = empty_load_stats()
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + duration

    async def worker(dendrite: Any, index: int) -> None:
        round_ = 0
        while round_ < rounds if rounds > 0 else time.monotonic() < deadline:
            call_id = f"{first_id + index}.{round_}"
            round_ += 1
            synapse = cls(call_id=call_id, n_tokens=n_tokens, interval_ms=interval_ms)
            target = axon_targets[index % len(axon_targets)]
            first = None
            start = time.perf_counter()
            async for item in dendrite.call_stream(
                target, synapse, timeout=60.0, deserialize=False
            ):
                if first is None and isinstance(item, str):
                    first = time.perf_counter() - start
            good, bad = check_tokens(call_id, synapse.completion, n_tokens)
            stats["calls"] += 1
            stats["tokens"] += good
            stats["mixed"] += bad
            if synapse.dendrite.status_code != 200 or good != n_tokens:
                stats["errors"] += 1
                if len(stats["error_samples"]) < 5:
                    stats["error_samples"].append(
                        f"{synapse.dendrite.status_code} {synapse.dendrite.status_message}: "
                        f"{good}/{n_tokens} tokens"
                    )
            if first is not None:
                stats["ttft"].append(first)

    # max_connections=0: no pool limit (the default 512 would queue calls beyond it)
    async with Dendrite(_keypair("validator"), max_connections=0) as dendrite:
        cpu, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(dendrite, i) for i in range(calls)))
        stats["seconds"] = time.perf_counter() - start
        stats["cpu_s"] = time.process_time() - cpu
    return stats


async def probe(module_path: str, port: int, hotkey: str, calls: int) -> list[dict[str, Any]]:
    """``calls`` short LoadStream calls in a row, each on a new connection: status, latency."""
    from synapsegen.runtime import AxonTarget, Dendrite

    cls = import_file(module_path, "_bench_load_module").LoadStream
    target = AxonTarget(ip="127.0.0.1", port=port, hotkey=hotkey)
    results = []
    async with Dendrite(_keypair("validator")) as dendrite:
        for index in range(calls):
            synapse = cls(call_id=f"probe.{index}", n_tokens=10, interval_ms=0)
            start = time.perf_counter()
            async for _ in dendrite.call_stream(target, synapse, timeout=10.0, deserialize=False):
                pass
            results.append(
                {
                    "status": synapse.dendrite.status_code,
                    "message": synapse.dendrite.status_message,
                    "seconds": time.perf_counter() - start,
                    "complete": check_tokens(synapse.call_id, synapse.completion, 10) == (10, 0),
                }
            )
            await dendrite.aclose_session()  # the next call opens a new connection
    return results


def main() -> None:
    """Command-line entry (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.our_stack")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve-interop")
    p.add_argument("--batch-count", type=int, default=1)
    p = sub.add_parser("stream")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hotkey", required=True)
    p.add_argument("--n-tokens", type=int, required=True)
    p.add_argument("--repeats", type=int, default=1)
    p = sub.add_parser("serve-load")
    p.add_argument("--module", required=True)
    p.add_argument("--axons", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--replay-store")
    p.add_argument("--nofile", type=int)
    p.add_argument("--max-connections-per-ip", type=int, default=128, help="0: no cap")
    p = sub.add_parser("load")
    p.add_argument("--module", required=True)
    p.add_argument("--targets", required=True, help="JSON list of {port, hotkey}")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--duration", type=float, required=True)
    p.add_argument("--first-id", type=int, default=0)
    p.add_argument("--n-tokens", type=int, default=100)
    p.add_argument("--interval-ms", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=0, help="calls per worker (0: until --duration)")
    p.add_argument("--start-at", type=float, help="a time.time() to wait for before calling")
    p = sub.add_parser("probe")
    p.add_argument("--module", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hotkey", required=True)
    p.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    if args.command == "serve-interop":
        serve_interop(args.batch_count)
    elif args.command == "stream":
        print(json.dumps(asyncio.run(stream(args.port, args.hotkey, args.n_tokens, args.repeats))))
    elif args.command == "serve-load":
        serve_load(
            args.module,
            args.axons,
            workers=args.workers,
            replay_store=args.replay_store,
            nofile=args.nofile,
            max_connections_per_ip=args.max_connections_per_ip or None,
        )
    elif args.command == "probe":
        print(json.dumps(asyncio.run(probe(args.module, args.port, args.hotkey, args.calls))))
    else:
        print(
            json.dumps(
                asyncio.run(
                    load(
                        args.module,
                        json.loads(args.targets),
                        args.calls,
                        args.duration,
                        args.first_id,
                        args.n_tokens,
                        args.interval_ms,
                        args.rounds,
                        args.start_at,
                    )
                )
            )
        )


if __name__ == "__main__":
    main()
