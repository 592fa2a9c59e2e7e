"""neurons/validator.py (excerpt): querying miners."""

from collections.abc import Sequence
from typing import Any

from synapsegen.runtime import Dendrite

from mysubnet.protocol import Dummy, StreamPrompting


async def ask_dummy(dendrite: Dendrite, axons: Sequence[Any]) -> list[int | None]:
    """Every miner's ``dummy_output``, in the order of ``axons`` (None where a call failed)."""
    return await dendrite.forward(list(axons), Dummy(dummy_input=21), timeout=12.0)


async def ask_prompting(dendrite: Dendrite, axon: Any, text: str) -> tuple[str, StreamPrompting]:
    """One miner's answer: the text as it streamed in, and the filled-in synapse."""
    synapse = StreamPrompting(roles=["user"], messages=[text])
    streamed = ""
    async for item in dendrite.call_stream(axon, synapse, timeout=12.0, deserialize=False):
        if isinstance(item, StreamPrompting):  # the last item
            synapse = item  # status in synapse.dendrite, completion, stream_complete
        else:
            streamed += item  # a text delta, as it arrives
    return streamed, synapse
