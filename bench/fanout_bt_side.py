"""The bittensor side of bench/fanout.py, run in the bittensor 10.5 venv of tests/interop/harness.py
with tests/interop/bt_side on its PYTHONPATH (its loopback-only network guard comes first).

    python fanout_bt_side.py serve --axons M
        M real bittensor Axons (one uvicorn thread each, as bittensor runs them) serving the
        interop ``InteropEcho``; prints {"ports": [...], "hotkey": ...}, serves until stdin closes.
    python fanout_bt_side.py client
        prints {"ready": true}, then answers JSON lines {"ports": [...], "hotkey": H,
        "n_tokens": N, "repeats": R}: one warm-up ``Dendrite.forward`` to every port, then R
        timed ones; answers {"wall_s": [...], "ok": [...], "statuses": [...]} (ok: correct 200
        answers per call; statuses: how many answers had each dendrite status and message).
"""

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# The bt_side modules first: this folder (bench/) has a common.py of its own.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "interop" / "bt_side"))

from axon_server import bound_port, build_axon  # noqa: E402 (imports bootstrap: the guard)
from bootstrap import LOOPBACK, answer_json_lines, bt, emit, keypair, log  # noqa: E402
from bt_synapses import InteropEcho  # noqa: E402
from common import echo_completion  # noqa: E402

CALL_TIMEOUT_S = 60.0


def serve(count: int) -> None:
    """Start ``count`` bittensor axons; report their ports; serve until stdin closes."""
    axons = [build_axon(batch_count=1, send_interval=0.0) for _ in range(count)]
    for axon in axons:
        axon.start()
    ports = [bound_port(axon) for axon in axons]
    emit({"ports": ports, "hotkey": axons[0].wallet.hotkey.ss58_address})
    log(f"{count} bittensor {bt.__version__} axons serving on {LOOPBACK}")
    sys.stdin.read()
    for axon in axons:
        axon.stop()


def _targets(ports: list[int], hotkey: str) -> list[Any]:
    return [
        bt.AxonInfo(version=0, ip=LOOPBACK, port=port, ip_type=4, hotkey=hotkey, coldkey=hotkey)
        for port in ports
    ]


async def fan_out(request: dict[str, Any]) -> dict[str, Any]:
    """One warm-up forward, then ``repeats`` timed ones, each to every port."""
    targets = _targets(request["ports"], request["hotkey"])
    n_tokens = int(request["n_tokens"])
    dendrite = bt.Dendrite(wallet=keypair("validator"))
    walls: list[float] = []
    oks: list[int] = []
    statuses: list[dict[str, int]] = []
    try:
        for index in range(int(request["repeats"]) + 1):
            prompt = f"fan{index}"
            expected = echo_completion(prompt, n_tokens)
            synapse = InteropEcho(prompt=prompt, n_tokens=n_tokens)
            started = time.perf_counter()
            results = await dendrite.forward(
                axons=targets, synapse=synapse, timeout=CALL_TIMEOUT_S, deserialize=False
            )
            wall = time.perf_counter() - started
            if index == 0:
                continue  # the warm-up: connections opened, code paths warmed
            walls.append(wall)
            statuses.append(
                dict(
                    Counter(
                        f"{r.dendrite.status_code} {str(r.dendrite.status_message)[:60]}"
                        for r in results
                    )
                )
            )
            oks.append(
                sum(
                    1
                    for result in results
                    if result.dendrite.status_code == 200 and result.completion == expected
                )
            )
    finally:
        await dendrite.aclose_session()
    return {"wall_s": walls, "ok": oks, "statuses": statuses}


async def client() -> None:
    await answer_json_lines({"ready": True}, fan_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mode", choices=["serve", "client"])
    parser.add_argument("--axons", type=int, default=1)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.axons)
    else:
        asyncio.run(client())


if __name__ == "__main__":
    main()
