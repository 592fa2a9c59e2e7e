"""neurons/miner.py (excerpt): the miner's forward functions."""

from collections.abc import AsyncIterator

from synapsegen.runtime import BTStreamingResponse

from mysubnet.protocol import Dummy, StreamPrompting


async def forward_dummy(synapse: Dummy) -> Dummy:
    return synapse.respond(dummy_output=synapse.dummy_input * 2)


async def generate(synapse: StreamPrompting) -> AsyncIterator[str]:
    """Stand-in for your model: echo the last user message, one word at a time."""
    for word in synapse.last_user_message().split(" "):
        yield word + " "


async def forward_prompting(synapse: StreamPrompting) -> BTStreamingResponse:
    return synapse.stream_response(generate(synapse))
