"""A miner of the example subnet: serves Arithmetic on an Axon until stopped.

    python miner.py --name alice --metagraph /tmp/metagraph [--behaviour honest|sloppy|slow]

There is no chain here: the miner makes a wallet (coldkey and hotkey, no password) in a
temporary folder, serves on 127.0.0.1, and registers by writing its axon's address and hotkey to
``METAGRAPH/miners/NAME.json``, where the validator finds it. It answers only hotkeys registered
under ``METAGRAPH/validators/`` (the blacklist), as a real miner answers only validators of its
subnet. ``--behaviour`` makes a miner worth scoring low: ``sloppy`` ignores the operation and always
sums, ``slow`` answers after the validator's timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from bittensor_wallet import Wallet
from synapsegen.runtime import Axon

from synapses.protocol import Arithmetic

SLOW_SECONDS = 5.0  # longer than the validator's timeout


def solve(synapse: Arithmetic) -> int:
    if synapse.operation == "product":
        return math.prod(synapse.numbers)
    if synapse.operation == "max":
        return max(synapse.numbers, default=0)
    return sum(synapse.numbers)


def make_forward(behaviour: str) -> Callable[[Arithmetic], Awaitable[Arithmetic]]:
    async def forward(synapse: Arithmetic) -> Arithmetic:
        # sloppy: ignores the operation, so it is right only when the task is a sum
        answer = sum(synapse.numbers) if behaviour == "sloppy" else solve(synapse)
        if behaviour == "slow":
            await asyncio.sleep(SLOW_SECONDS)
        return synapse.respond(result=answer)

    return forward


def make_blacklist(metagraph: Path) -> Callable[[Arithmetic], tuple[bool, str]]:
    def blacklist(synapse: Arithmetic) -> tuple[bool, str]:
        validators = {
            json.loads(entry.read_text(encoding="utf-8"))["hotkey"]
            for entry in (metagraph / "validators").glob("*.json")
        }
        if synapse.dendrite.hotkey not in validators:
            return True, "not a registered validator"
        return False, "registered validator"

    return blacklist


def register(metagraph: Path, name: str, entry: dict[str, object]) -> None:
    """Write ``entry`` to ``METAGRAPH/miners/NAME.json`` in one step (readers never see half)."""
    folder = metagraph / "miners"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.json.partial"
    partial.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(partial, folder / f"{name}.json")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="the miner's name in the metagraph")
    parser.add_argument("--metagraph", type=Path, required=True, help="the shared folder")
    parser.add_argument("--port", type=int, default=0, help="0 (the default): any free port")
    parser.add_argument("--behaviour", choices=["honest", "sloppy", "slow"], default="honest")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="subnet-wallets-") as wallets:
        wallet = Wallet(name=args.name, hotkey="default", path=wallets)
        wallet.create_if_non_existent(
            coldkey_use_password=False, hotkey_use_password=False, suppress=True
        )
        axon = Axon(wallet=wallet, ip="127.0.0.1", port=args.port)
        axon.attach(make_forward(args.behaviour), blacklist_fn=make_blacklist(args.metagraph))

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        async with axon:
            info = axon.info()
            entry = {"ip": info.ip, "port": info.port, "hotkey": info.hotkey}
            register(args.metagraph, args.name, entry | {"coldkey": info.coldkey})
            print(
                f"miner {args.name} ({args.behaviour}) serving on {info.ip}:{info.port}, "
                f"hotkey {info.hotkey}",
                flush=True,
            )
            try:
                await stop.wait()
            finally:
                (args.metagraph / "miners" / f"{args.name}.json").unlink(missing_ok=True)
        print(f"miner {args.name} stopped", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
