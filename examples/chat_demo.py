"""A miner and a validator in one process, talking over loopback with the generated ChatCompletion.

Run from the repository root after `synapsegen schemas/ -o synapses/`:

    .venv/bin/python -m examples.chat_demo
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, AxonTarget, BTStreamingResponse, Dendrite
from synapses.chat import ChatCompletion, Message


# --- miner side -------------------------------------------------------------------------------
async def generate(synapse: ChatCompletion) -> AsyncIterator[str]:
    """Stand-in for a model: echo the last message back, one word at a time."""
    for word in f"You said: {synapse.messages[-1].content}".split(" "):
        yield word + " "


async def forward(synapse: ChatCompletion) -> BTStreamingResponse:
    return synapse.stream_response(generate(synapse))


async def blacklist(synapse: ChatCompletion) -> tuple[bool, str]:
    return False, "allowed"


# --- validator side ---------------------------------------------------------------------------
async def main() -> None:
    miner_key = Keypair.create_from_uri("//Alice")  # public dev keys: never use them for real
    validator_key = Keypair.create_from_uri("//Bob")

    async with Axon(miner_key).attach(forward, blacklist_fn=blacklist) as axon:
        target = AxonTarget(ip="127.0.0.1", port=axon.port, hotkey=miner_key.ss58_address)
        synapse = ChatCompletion(messages=[Message(role="user", content="Grüß dich, 世界 🌍")])

        async with Dendrite(validator_key) as dendrite:
            async for item in dendrite.call_stream(target, synapse, timeout=5.0, deserialize=False):
                if isinstance(item, ChatCompletion):  # the last item is the filled-in synapse
                    print(f"\nstatus {item.dendrite.status_code}, complete={item.stream_complete}")
                    print(f"completion: {item.completion!r}")
                else:
                    print(item, end="", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
