"""Record vectors/chat_echo.json: a miner's answer to one ChatCompletion, replayed by the tests.

By default the miner is the chat demo's echo miner (examples/chat_demo.py), served here on
127.0.0.1; ``--target IP:PORT:HOTKEY`` records a real miner instead (it must accept this
validator's hotkey, ``synapsegen.testing.validator_keypair()``). Run from this folder, after
generating the classes (see README.md):

    python record_vector.py [--target 203.0.113.9:8091:5F...] [--out vectors/chat_echo.json]

The file keeps the request and the answer's bytes; its ``expected`` says what the answer must
decode to (the echo miner's answer; check it when recording another miner).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from synapsegen.runtime import Axon, AxonTarget
from synapsegen.testing import Vector, miner_keypair, record

from synapses.chat import ChatCompletion, Message

QUESTION = "Grüß dich, 世界 🌍"
ANSWER = f"You said: {QUESTION} "


async def echo(synapse: ChatCompletion) -> AsyncIterator[str]:
    """The chat demo's miner: the last message back, one word at a time."""
    for word in f"You said: {synapse.messages[-1].content}".split(" "):
        yield word + " "


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--target", help="IP:PORT:HOTKEY of a miner (default: the echo miner)")
    parser.add_argument("--out", type=Path, default=Path("vectors") / "chat_echo.json")
    args = parser.parse_args()
    synapse = ChatCompletion(messages=[Message(role="user", content=QUESTION)])
    vector: Vector
    if args.target:
        ip, port, hotkey = args.target.split(":")
        miner = AxonTarget(ip=ip, port=int(port), hotkey=hotkey)
        vector = await record(miner, synapse, note=f"a miner at {ip}:{port}")
    else:
        async with Axon(miner_keypair()).attach(echo) as axon:
            note = "the chat demo's echo miner (record_vector.py), bittensor10 on 127.0.0.1"
            vector = await record(axon, synapse, note=note)
    path = vector.with_expected({"completion": ANSWER}, status_code=200).save(args.out)
    print(f"wrote {path}: status {vector.response.status}, {len(vector.response.body)} bytes")


if __name__ == "__main__":
    asyncio.run(main())
