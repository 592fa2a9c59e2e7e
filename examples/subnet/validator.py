"""The validator of the example subnet: queries every registered miner, scores the answers.

    python validator.py --metagraph /tmp/metagraph [--miners 3] [--rounds 3]

The validator's hotkey comes from a freshly generated mnemonic (no chain, no wallet on disk). It
registers itself under ``METAGRAPH/validators/`` so that the miners answer it, waits until
``--miners`` miners have registered, then runs ``--rounds`` rounds: each round sends one random
Arithmetic task to all of them at once with ``Dendrite.forward``, and a miner scores 1 for a
correct answer and 0 for a wrong one, a refusal or a timeout. It prints each round's answers,
then every miner's score and the normalised weights a real validator would set on chain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import time
from pathlib import Path

from bittensor_wallet import Keypair
from synapsegen.runtime import AxonTarget, Dendrite

from synapses.protocol import Arithmetic

TIMEOUT = 1.0  # seconds each miner gets per task


def expected(task: Arithmetic) -> int:
    if task.operation == "product":
        return math.prod(task.numbers)
    if task.operation == "max":
        return max(task.numbers, default=0)
    return sum(task.numbers)


def register(metagraph: Path, keypair: Keypair) -> None:
    folder = metagraph / "validators"
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / f"{keypair.ss58_address}.json"
    entry.write_text(json.dumps({"hotkey": keypair.ss58_address}), encoding="utf-8")


async def wait_for_miners(metagraph: Path, count: int, wait: float) -> dict[str, AxonTarget]:
    """The registered miners, by name, once ``count`` of them are there."""
    deadline = time.monotonic() + wait
    while True:
        entries = sorted((metagraph / "miners").glob("*.json"))
        if len(entries) >= count:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(entries)} of {count} miners registered within {wait} s")
        await asyncio.sleep(0.1)
    miners = {}
    for entry in entries:
        axon = json.loads(entry.read_text(encoding="utf-8"))
        miners[entry.stem] = AxonTarget(ip=axon["ip"], port=axon["port"], hotkey=axon["hotkey"])
    return miners


def task(rng: random.Random) -> Arithmetic:
    numbers = [rng.randint(-50, 50) for _ in range(rng.randint(2, 6))]
    return Arithmetic(numbers=numbers, operation=rng.choice(["sum", "product", "max"]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metagraph", type=Path, required=True, help="the shared folder")
    parser.add_argument("--miners", type=int, default=3, help="how many miners to wait for")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="makes the tasks reproducible")
    parser.add_argument("--wait", type=float, default=30.0, help="seconds to wait for miners")
    args = parser.parse_args()

    keypair = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    register(args.metagraph, keypair)
    miners = await wait_for_miners(args.metagraph, args.miners, args.wait)
    names, axons = list(miners), list(miners.values())
    print(f"validator {keypair.ss58_address} found {len(axons)} miners: {', '.join(names)}")

    rng = random.Random(args.seed)
    scores = dict.fromkeys(names, 0.0)
    async with Dendrite(keypair) as dendrite:
        for number in range(1, args.rounds + 1):
            synapse = task(rng)
            answers = await dendrite.forward(axons, synapse, timeout=TIMEOUT, deserialize=False)
            want = expected(synapse)
            print(f"round {number}: {synapse.operation} of {synapse.numbers} = {want}")
            for name, answer in zip(names, answers, strict=True):
                correct = answer.is_success and answer.result == want
                scores[name] += 1.0 if correct else 0.0
                status = answer.dendrite.status_code
                got = answer.result if answer.is_success else answer.dendrite.status_message
                print(f"  {name}: status {status}, {got!r}, {'correct' if correct else 'wrong'}")

    total = sum(scores.values())
    print("scores:", ", ".join(f"{name} {s / args.rounds:.2f}" for name, s in scores.items()))
    weights = {name: score / total if total else 0.0 for name, score in scores.items()}
    print("weights:", ", ".join(f"{name} {weight:.3f}" for name, weight in weights.items()))


if __name__ == "__main__":
    asyncio.run(main())
