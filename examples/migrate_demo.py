"""Moving a live subnet from bittensor 10's wire to btauth/1 without downtime, in one process.

One miner serves ``ChatCompletion`` and ``AvailabilitySynapse`` on bittensor 10's wire and on
btauth/1 at once, with one handler each. A validator that has not upgraded keeps calling with
bittensor 10's wire; an upgraded one calls with btauth/1; a third party reads the OpenAPI
document. Nothing in the miner's or the validator's logic changes: only the ``transports`` the
miner accepts and the ``transport`` the validator picks.

Run from the repository root after `synapsegen schemas/ -o synapses/`:

    .venv/bin/python -m examples.migrate_demo
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, AxonTarget, Dendrite
from synapses.chat import ChatCompletion, Message
from synapses.prompting import AvailabilitySynapse


# --- miner side: written once, whatever the transport -----------------------------------------
async def chat(synapse: ChatCompletion) -> AsyncIterator[str]:
    """Stand-in for a model: the tokens themselves; the Axon streams them in the schema's format."""
    for word in f"You said: {synapse.messages[-1].content}".split(" "):
        yield word + " "


def availability(synapse: AvailabilitySynapse) -> AvailabilitySynapse:
    return synapse.respond(available={task: task == "chat" for task in synapse.tasks}, load=0.1)


# Step 1 of the migration: accept both wires (bittensor10 and btauth/1 are the default;
# add "epistula/2" for Epistula callers).
BOTH = ("bittensor10", "btauth/1")


# --- validator side: the same calls, the transport is a constructor argument --------------------
async def ask(dendrite: Dendrite, target: AxonTarget) -> None:
    synapse = ChatCompletion(messages=[Message(role="user", content="Grüß dich 🌍")])
    async for item in dendrite.call_stream(target, synapse, timeout=5.0, deserialize=False):
        done = item  # tokens, then the filled-in synapse
    available = await dendrite.call(target, AvailabilitySynapse(tasks=["chat", "image"]))
    print(
        f"{dendrite.transport:>11}: status {done.dendrite.status_code}, "
        f"completion {done.completion!r}, available {available}"
    )


async def main() -> None:
    miner_key = Keypair.create_from_uri("//Alice")  # public dev keys: never use them for real
    validator_key = Keypair.create_from_uri("//Bob")

    async with Axon(miner_key).attach(chat, transports=BOTH).attach(
        availability, transports=BOTH
    ) as axon:
        target = AxonTarget(ip="127.0.0.1", port=axon.port, hotkey=miner_key.ss58_address)
        # Step 2: validators switch one by one; old and new are served side by side.
        for transport in ("bittensor10", "btauth/1"):
            async with Dendrite(validator_key, transport=transport) as dendrite:
                await ask(dendrite, target)
        # Anyone can read what the miner serves over HTTP.
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{axon.port}/openapi.json"
            async with session.get(url) as response:
                document = await response.json()
        print("openapi.json paths:", ", ".join(sorted(document["paths"])))
    # Step 3, once every validator has switched: attach(..., transports=("btauth/1",)).


if __name__ == "__main__":
    asyncio.run(main())
