"""Section: fan-out to many axons, our Dendrite.forward vs bittensor 10.5's, and first-k.

Every axon is its own port, all on 127.0.0.1, spread over 16 server processes; every
answer carries a few hundred tokens (the interop ``InteropEcho``: ``n_tokens`` tokens of
``tests/interop/bt_side/common.expected_text``), checked on arrival.

1. Wait for all: our Axons and ``Dendrite.forward`` vs real bittensor 10.5 Axons (one uvicorn
   thread each, as bittensor runs them) and its ``Dendrite.forward``, at equal results (every
   answer 200 and correct). Target: at least 5x less wall time.
2. First k (ours): miners answer after different delays; ``forward(..., policy=FirstK(k))``
   returns after the k-th success. Target: wall time within 1.5x of the k-th fastest miner's
   own time (the largest ``process_time`` among the k successes).

Subcommands (the section runs them in other processes; JSON lines on stdout):

    python -m bench.fanout serve --axons M [--delays-ms JSON]
        M of our Axons in one event loop; prints {"ports": [...], "hotkey": ...} and serves
        until stdin closes. Axon i answers after delays_ms[i] (default 0).
    python -m bench.fanout first-k [--quick]
        part 2 alone (our side only), printed as the section prints it.
    python -m bench.fanout ab REV [--quick] [--rounds N]
        part 2's FirstK with runtime/dendrite.py at git revision REV and with the working
        tree's, interleaved in one process on the same axons (fair on a loaded machine).
    python -m bench.fanout client --ports JSON --hotkey H --n-tokens N --repeats R [--first-k K]
        one warm-up forward to every port, then R timed ones; prints the figures (wall time and
        the client process's CPU time of each call, ...).
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

from .common import (
    REPO_ROOT,
    SectionResult,
    SectionSkipped,
    Table,
    fmt_ratio,
    fmt_seconds,
    import_file,
    median,
    render_section,
    require_runtime,
    stop_server,
)

if str(REPO_ROOT) not in sys.path:  # the interop helpers live in tests/
    sys.path.insert(0, str(REPO_ROOT))

WALL_TARGET = 5.0
FIRST_K_TARGET = 1.5
N_TOKENS = 300
CALL_TIMEOUT_S = 60.0
BT_SIDE_SCRIPT = Path(__file__).resolve().with_name("fanout_bt_side.py")


# ---------------------------------------------------------------- our side (subprocesses)


async def _serve(count: int, delays_ms: list[float]) -> None:
    """Run ``count`` of our Axons until stdin closes (see the module docstring)."""
    from bittensor_wallet import Keypair

    from synapsegen.runtime.axon import Axon
    from tests.interop.bt_side.common import KEY_SEEDS, echo_completion
    from tests.interop.our_side import InteropEcho

    def answering_after(delay_s: float) -> Any:
        async def forward(synapse: InteropEcho) -> InteropEcho:
            if delay_s:
                await asyncio.sleep(delay_s)
            synapse.completion = echo_completion(synapse.prompt, synapse.n_tokens)
            return synapse

        return forward

    miner = Keypair.create_from_seed(KEY_SEEDS["miner"])
    async with AsyncExitStack() as stack:
        axons = []
        for index in range(count):
            delay_s = (delays_ms[index] if index < len(delays_ms) else 0.0) / 1000
            axon = Axon(miner, ip="127.0.0.1", port=0).attach(answering_after(delay_s))
            axons.append(await stack.enter_async_context(axon))
        print(json.dumps({"ports": [a.port for a in axons], "hotkey": miner.ss58_address}))
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        for axon in axons:
            axon.stop()  # signal all at once; the exit stack then awaits each


async def _client(
    ports: list[int], hotkey: str, n_tokens: int, repeats: int, first_k: int | None
) -> dict[str, Any]:
    """Warm-up forward, then ``repeats`` timed ones; wall time, correct answers, first-k data."""
    from bittensor_wallet import Keypair

    from synapsegen.runtime import AxonTarget, Dendrite, FirstK
    from tests.interop.bt_side.common import KEY_SEEDS, echo_completion
    from tests.interop.our_side import InteropEcho

    targets = [AxonTarget("127.0.0.1", port, hotkey) for port in ports]
    policy = None if first_k is None else FirstK(first_k)
    figures: dict[str, list[Any]] = {
        "wall_s": [],
        "cpu_s": [],
        "ok": [],
        "kth_process_s": [],
        "statuses": [],
    }
    async with Dendrite(Keypair.create_from_seed(KEY_SEEDS["validator"])) as dendrite:
        for index in range(repeats + 1):
            prompt = f"fan{index}"
            expected = echo_completion(prompt, n_tokens)
            synapse = InteropEcho(prompt=prompt, n_tokens=n_tokens)
            started, cpu_started = time.perf_counter(), time.process_time()
            results = await dendrite.forward(
                targets, synapse, CALL_TIMEOUT_S, deserialize=False, policy=policy
            )
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            if index == 0:
                continue  # the warm-up: connections opened, code paths warmed
            good = [r for r in results if r.is_success and r.completion == expected]
            figures["wall_s"].append(wall)
            figures["cpu_s"].append(cpu)
            figures["ok"].append(len(good))
            figures["statuses"].append(dict(Counter(str(r.dendrite.status_code) for r in results)))
            times = sorted(r.dendrite.process_time for r in good)
            if times:
                figures["kth_process_s"].append(times[min(first_k or len(times), len(times)) - 1])
    return figures


async def _ab_client(
    ports: list[int], hotkey: str, dendrites: dict[str, ModuleType], k: int, rounds: int
) -> dict[str, dict[str, list[float]]]:
    """FirstK(k) forwards with each ``dendrites`` module's Dendrite in turn (one warm-up each,
    then ``rounds`` rounds, the order alternating), in this one process."""
    from bittensor_wallet import Keypair

    from tests.interop.bt_side.common import KEY_SEEDS, echo_completion
    from tests.interop.our_side import InteropEcho

    keypair = Keypair.create_from_seed(KEY_SEEDS["validator"])
    figures: dict[str, dict[str, list[float]]] = {}
    async with AsyncExitStack() as stack:
        clients = {}
        for name, module in dendrites.items():
            client = await stack.enter_async_context(module.Dendrite(keypair))
            targets = [module.AxonTarget("127.0.0.1", port, hotkey) for port in ports]
            clients[name] = (client, targets, module.FirstK(k))
            figures[name] = {"wall_s": [], "cpu_s": [], "kth_process_s": [], "ok": []}
        names = list(dendrites)
        for index in range(rounds + 1):
            for name in names if index % 2 else names[::-1]:
                client, targets, policy = clients[name]
                prompt = f"ab{index}"
                synapse = InteropEcho(prompt=prompt, n_tokens=N_TOKENS)
                started, cpu_started = time.perf_counter(), time.process_time()
                results = await client.forward(
                    targets, synapse, CALL_TIMEOUT_S, deserialize=False, policy=policy
                )
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                if index == 0:
                    continue  # the warm-up: connections opened, code paths warmed
                expected = echo_completion(prompt, N_TOKENS)
                good = [r for r in results if r.is_success and r.completion == expected]
                times = sorted(r.dendrite.process_time for r in good)
                figures[name]["wall_s"].append(wall)
                figures[name]["cpu_s"].append(cpu)
                figures[name]["ok"].append(len(good))
                figures[name]["kth_process_s"].append(times[min(k, len(times)) - 1])
    return figures


def run_ab(revision: str, quick: bool, rounds: int) -> SectionResult:
    """FirstK before and after a Dendrite change, interleaved on the same axons
    (``python -m bench.fanout ab REV``): "before" is runtime/dendrite.py at git revision
    ``REV``, "after" the working tree's, both in one process, so machine load hits them alike."""
    count, processes, _ = _sizes(quick)
    result = _section(count)
    text = subprocess.run(
        ["git", "show", f"{revision}:runtime/dendrite.py"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    from synapsegen.runtime import dendrite as after

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dendrite_before.py"
        path.write_text(text, encoding="utf-8")
        # A module of the runtime package, so that its relative imports resolve.
        before = import_file(path, "synapsegen.runtime._dendrite_before")
    k = max(1, count // 8)
    with ExitStack() as stack:
        ports, hotkey = _start_our_servers(stack, count, processes, _delays_ms(count))
        dendrites = {f"before ({revision})": before, "after (working tree)": after}
        figures = asyncio.run(_ab_client(ports, hotkey, dendrites, k, rounds))
    table = Table(
        f"FirstK({k}) of {count} axons (miners answer after 50-500 ms), before and after, "
        f"interleaved, median of {rounds} each",
        [
            "dendrite",
            "wall / k-th",
            "wall time",
            "k-th fastest miner's time",
            "wall - k-th",
            "client CPU per call",
            "successes (fewest, most)",
        ],
    )
    for name, data in figures.items():
        pairs = list(zip(data["wall_s"], data["kth_process_s"], strict=True))
        table.add(
            [
                name,
                fmt_ratio(median([w / t for w, t in pairs])),
                fmt_seconds(median(data["wall_s"])),
                fmt_seconds(median(data["kth_process_s"])),
                fmt_seconds(median([w - t for w, t in pairs])),
                fmt_seconds(median(data["cpu_s"])),
                f"{min(data['ok'])}, {max(data['ok'])}",
            ],
            dendrite=name,
            **data,
        )
    result.tables.append(table)
    result.note(
        "Client CPU per call is this process's CPU time over the call (both Dendrites live in it; "
        "the idle one costs nothing meanwhile). Each call's ratio is its wall time over the "
        "largest process_time among its first k successes, as in the section."
    )
    return result


def _main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--axons", type=int, required=True)
    serve.add_argument("--delays-ms", default="[]")
    client = sub.add_parser("client")
    client.add_argument("--ports", required=True)
    client.add_argument("--hotkey", required=True)
    client.add_argument("--n-tokens", type=int, default=N_TOKENS)
    client.add_argument("--repeats", type=int, default=1)
    client.add_argument("--first-k", type=int)
    first_k = sub.add_parser("first-k", help="only the first-k part of the section")
    first_k.add_argument("--quick", action="store_true")
    ab = sub.add_parser("ab", help="FirstK with runtime/dendrite.py at REV vs now, interleaved")
    ab.add_argument("revision", metavar="REV")
    ab.add_argument("--quick", action="store_true")
    ab.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args.axons, json.loads(args.delays_ms)))
    elif args.command == "first-k":
        print(render_section(run_first_k(args.quick)))
    elif args.command == "ab":
        print(render_section(run_ab(args.revision, args.quick, args.rounds)))
    else:
        figures = asyncio.run(
            _client(json.loads(args.ports), args.hotkey, args.n_tokens, args.repeats, args.first_k)
        )
        print(json.dumps(figures))


# ---------------------------------------------------------------- the section


def _split(count: int, parts: int) -> list[int]:
    """``count`` axons over ``parts`` processes, as evenly as possible."""
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


def _start_our_servers(
    stack: ExitStack, count: int, processes: int, delays_ms: list[float]
) -> tuple[list[int], str]:
    """Our axon processes; returns every port (in delay order) and the miner hotkey."""
    ports: list[int] = []
    hotkey = ""
    offset = 0
    for share in _split(count, processes):
        delays = json.dumps(delays_ms[offset : offset + share])
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fanout", "serve", "--axons", str(share)]
            + ["--delays-ms", delays],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
        )
        stack.callback(stop_server, proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("an axon process of ours exited before it was ready")
        ready = json.loads(line)
        ports += ready["ports"]
        hotkey = ready["hotkey"]
        offset += share
    return ports, hotkey


def _run_our_client(
    ports: list[int], hotkey: str, repeats: int, first_k: int | None = None
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.fanout", "client", "--ports", json.dumps(ports)]
    command += ["--hotkey", hotkey, "--n-tokens", str(N_TOKENS), "--repeats", str(repeats)]
    if first_k is not None:
        command += ["--first-k", str(first_k)]
    proc = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=900, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"our dendrite process failed:\n{proc.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return figures


def _measure_bittensor(count: int, processes: int, repeats: int) -> dict[str, Any]:
    """Real bittensor axons (``processes`` processes) and a real bittensor Dendrite."""
    from tests.interop.harness import BT_SIDE_DIR, BtScript

    with ExitStack() as stack:
        ports: list[int] = []
        hotkey = ""
        servers = []
        for share in _split(count, processes):  # start all, then wait: they start in parallel
            script = BtScript(
                str(BT_SIDE_SCRIPT),
                ["serve", "--axons", str(share)],
                extra_pythonpath=[BT_SIDE_DIR],
            )
            stack.callback(script.close)
            servers.append(script)
        for script in servers:
            ready = script.receive(timeout=300)
            ports += ready["ports"]
            hotkey = ready["hotkey"]
        client = BtScript(str(BT_SIDE_SCRIPT), ["client"], extra_pythonpath=[BT_SIDE_DIR])
        stack.callback(client.close)
        client.receive(timeout=120)
        request = {"ports": ports, "hotkey": hotkey, "n_tokens": N_TOKENS, "repeats": repeats}
        reply = client.request(request, timeout=900)
        if "error" in reply:
            raise RuntimeError(f"bittensor dendrite failed:\n{reply['error']}")
        return reply


def _delays_ms(count: int) -> list[float]:
    """Miner i answers after 50 ms plus its rank times 450/count ms; ranks are shuffled over the
    ports (a fixed permutation), so the fast miners are not the first ones asked."""
    step = 450 / count
    stride = next(s for s in (97, 89, 83, 79, 73) if count % s)  # coprime to count: a permutation
    return [50 + ((i * stride) % count) * step for i in range(count)]


def _sizes(quick: bool) -> tuple[int, int, int]:
    """Axons, server processes and timed calls: 16/2/1 (quick) or 256/16/5.

    bittensor runs each axon on its own uvicorn thread: 64 of them in one process starve each
    other (GIL), so both stacks get 16 processes of 16 axons.
    """
    return (16, 2, 1) if quick else (256, 16, 5)


def _section(count: int) -> SectionResult:
    require_runtime("Axon", "Dendrite")
    if not (REPO_ROOT / "tests/interop/our_side.py").exists():
        raise SectionSkipped("tests/interop/our_side.py is not there")
    return SectionResult("fanout", f"Fan-out to {count} axons ({N_TOKENS} tokens each)")


def run(quick: bool) -> SectionResult:
    """Wait-for-all vs bittensor, then first-k, at 16 (quick) or 256 axons."""
    count, processes, repeats = _sizes(quick)
    result = _section(count)
    _wait_for_all(result, count, processes, repeats)
    _first_k(result, count, processes, repeats)
    return result


def run_first_k(quick: bool) -> SectionResult:
    """Only the first-k part of the section (``python -m bench.fanout first-k``): our axons
    and Dendrite alone, without the minutes bittensor's wait-for-all baseline takes."""
    count, processes, repeats = _sizes(quick)
    result = _section(count)
    _first_k(result, count, processes, repeats)
    return result


def _wait_for_all(result: SectionResult, count: int, processes: int, repeats: int) -> None:
    """1. Wait for all, ours vs bittensor's, no miner delay: the stacks' own cost."""
    with ExitStack() as stack:
        ports, hotkey = _start_our_servers(stack, count, processes, [0.0] * count)
        ours = _run_our_client(ports, hotkey, repeats)
    bt: dict[str, Any] | None = None
    try:
        from tests.interop.harness import ensure_bt_venv

        ensure_bt_venv()
        bt = _measure_bittensor(count, processes, repeats)
    except Exception as exc:  # no registry access, etc.: our figures still stand alone
        result.note(f"bittensor baseline not measured: {type(exc).__name__}: {str(exc)[:300]}")
    table = Table(
        f"forward() to {count} axons in {processes} server processes, wait for all, "
        f"median of {repeats} after a warm-up",
        ["stack", "wall time", "correct answers (worst call)", "wall vs ours"],
    )
    ours_wall = median(ours["wall_s"])
    bt_wall = None if bt is None else median(bt["wall_s"])
    for stack_name, figures, wall in (
        ("synapsegen", ours, ours_wall),
        ("bittensor 10.5.0", bt, bt_wall),
    ):
        if figures is None or wall is None:
            continue
        table.add(
            [
                stack_name,
                fmt_seconds(wall),
                f"{min(figures['ok'])}/{count}",
                fmt_ratio(wall / ours_wall),
            ],
            stack=stack_name,
            wall_s=figures["wall_s"],
            ok=figures["ok"],
        )
    result.tables.append(table)
    for stack_name, figures in (("synapsegen", ours), ("bittensor 10.5.0", bt)):
        if figures is not None and min(figures["ok"]) < count:
            result.note(
                f"{stack_name}: dendrite statuses per call: "
                + "; ".join(json.dumps(codes, sort_keys=True) for codes in figures["statuses"])
            )
    equal = bt is not None and min(ours["ok"]) == count == min(bt["ok"])
    speedup = None if bt_wall is None else bt_wall / ours_wall
    result.target(
        f"at least {WALL_TARGET:g}x less wall time than bittensor at equal results",
        None if speedup is None else equal and speedup >= WALL_TARGET,
        f"{fmt_ratio(speedup)} less, results {'equal' if equal else 'NOT equal'}",
    )


def _first_k(result: SectionResult, count: int, processes: int, repeats: int) -> None:
    """2. First k, ours, miners with different delays."""
    k = max(1, count // 8)
    delays = _delays_ms(count)
    with ExitStack() as stack:
        ports, hotkey = _start_our_servers(stack, count, processes, delays)
        first = _run_our_client(ports, hotkey, repeats, first_k=k)
        everyone = _run_our_client(ports, hotkey, repeats)
    kth_delay = sorted(delays)[k - 1] / 1000
    ratio = median([w / t for w, t in zip(first["wall_s"], first["kth_process_s"], strict=True)])
    overhead = median([w - t for w, t in zip(first["wall_s"], first["kth_process_s"], strict=True)])
    first_table = Table(
        f"miners answer after 50-500 ms; FirstK({k}) vs waiting for all, median of {repeats}",
        [
            "policy",
            "wall time",
            "successes",
            "k-th fastest miner's time",
            "wall / k-th",
            "wall - k-th",
            "client CPU per call",
        ],
    )
    first_table.add(
        [
            f"FirstK({k})",
            fmt_seconds(median(first["wall_s"])),
            f"{min(first['ok'])}",
            fmt_seconds(median(first["kth_process_s"])),
            fmt_ratio(ratio),
            fmt_seconds(overhead),
            fmt_seconds(median(first["cpu_s"])),
        ],
        policy="first_k",
        k=k,
        kth_delay_s=kth_delay,
        **first,
    )
    first_table.add(
        [
            "WaitAll()",
            fmt_seconds(median(everyone["wall_s"])),
            f"{min(everyone['ok'])}",
            "",
            "",
            "",
            fmt_seconds(median(everyone["cpu_s"])),
        ],
        policy="wait_all",
        **everyone,
    )
    result.tables.append(first_table)
    result.target(
        f"FirstK({k}) returns within {FIRST_K_TARGET:g}x of the k-th fastest miner's time",
        ratio <= FIRST_K_TARGET and min(first["ok"]) >= k,
        fmt_ratio(ratio),
    )
    result.note(
        "The k-th fastest miner's time is the largest process_time among the k successes: from "
        "its request's send to its answer, so it includes the axon processes' queueing on this "
        f"machine (all {count} miners share its cores) but not the signing of the {count} "
        "requests before any is sent, which the wall time includes, nor cancelling the others. "
        f"The k-th smallest miner delay is {kth_delay * 1000:.0f} ms. Client CPU per call: the "
        "dendrite process's CPU time (time.process_time) over the call, all phases and GC "
        "included; less noisy than wall times when other work shares the cores."
    )


if __name__ == "__main__":
    _main(sys.argv[1:])
