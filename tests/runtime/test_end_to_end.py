"""Our Axon and our Dendrite together, on 127.0.0.1, with real sr25519 keys.

The streaming synapse is written by hand the way generated code should be: raw UTF-8 text into
``completion``, decoded incrementally with ``TextDecoder`` (so characters split across sends
survive), accumulated locally and assigned (kept even when the stream is cut): that is
``_dendrite_helpers.runtime_text``; every field returned by ``extract_response_json``. The
server side produces tokens with ``token_streamer``.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any, ClassVar

from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import AxonTarget, Dendrite
from synapsegen.runtime.streaming import token_streamer
from synapsegen.runtime.synapse import StreamingSynapse, split_terminal_headers

from ._dendrite_helpers import TextPrompt, keypair, runtime_text

VALIDATOR = keypair("validator")
MINER = keypair("miner")
OTHER = keypair("other")

TEXT = "Hello, wörld! héllo 🙂\nnext line\n"


class Echo(TextPrompt):
    """Non-streaming, on its own route: the axon reverses the prompt."""


class Chat(StreamingSynapse):
    """Streaming raw UTF-8 text; ``mode`` tells the test axon how to cut it into sends."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "mode")
    prompt: str
    mode: str = "words"
    delay: float = 0.0
    completion: str = ""

    process_streaming_response = runtime_text  # partial text survives a timeout

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {**self.model_dump(), **split_terminal_headers(response.headers)}

    def deserialize(self) -> str:
        return self.completion


class Blocked(Chat):
    pass


def sends_for(synapse: Chat, prefix: str = "") -> list[bytes]:
    data = (prefix + synapse.prompt).encode("utf-8")
    if synapse.mode == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    if synapse.mode == "split3":  # 3-byte sends: cut through 2- and 4-byte characters
        return [data[i : i + 3] for i in range(0, len(data), 3)]
    return [word.encode() + b" " for word in (prefix + synapse.prompt).split(" ")]


def chat_forward(prefix: str = "") -> Any:
    async def forward(synapse: Chat) -> Any:
        async def tokens() -> AsyncIterator[bytes]:
            for index, piece in enumerate(sends_for(synapse, prefix)):
                if synapse.delay and (synapse.mode != "stall_first" or index == 0):
                    await asyncio.sleep(synapse.delay)
                yield piece

        return synapse.create_streaming_response(token_streamer(tokens(), lambda b: b))

    return forward


def echo_forward(synapse: Echo) -> Echo:
    synapse.completion = synapse.prompt[::-1]
    return synapse


def blocked_forward(synapse: Blocked) -> Any:
    raise AssertionError("a blacklisted request must not reach forward")


def always_blacklist(synapse: Blocked) -> tuple[bool, str]:
    return True, "always"


def make_axon(prefix: str = "") -> Axon:
    axon = Axon(MINER, ip="127.0.0.1", port=0)
    axon.attach(chat_forward(prefix)).attach(echo_forward)
    axon.attach(blocked_forward, blacklist_fn=always_blacklist)
    return axon


async def stream_text(client: Dendrite, axon: Axon, synapse: Chat, **kw: Any) -> list[str]:
    items = [item async for item in client.call_stream(axon, synapse, deserialize=False, **kw)]
    assert items[-1] is synapse
    assert all(isinstance(item, str) for item in items[:-1])
    return items[:-1]


async def test_plain_call() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        assert await client.call(axon, Echo(prompt="héllo 🙂")) == "🙂 olléh"
        synapse = await client.call(axon, Echo(prompt="hi"), deserialize=False)
    assert synapse.is_success and synapse.completion == "ih"
    assert synapse.axon.hotkey == MINER.ss58_address
    assert synapse.dendrite.status_message == "Success"


async def test_streaming_call_and_split_characters() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        for mode in ("words", "split3", "bytes"):
            synapse = Chat(prompt=TEXT, mode=mode)
            tokens = await stream_text(client, axon, synapse)
            assert "".join(tokens) == synapse.completion
            assert synapse.completion == (TEXT if mode != "words" else TEXT + " "), mode
            assert synapse.is_success, (mode, synapse.dendrite)
            if mode == "bytes":
                assert len(tokens) > 1  # arrived in pieces, yet no character was broken


async def test_forward_streams_via_generator() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        stream = await client.forward(axon, Chat(prompt="a b c"))
        items = [item async for item in stream]
    assert "".join(items[:-1]) == items[-1] == "a b c "  # tokens, then deserialize()


async def test_blacklisted_stream_is_403_without_tokens() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        synapse = Blocked(prompt="hi")
        tokens = await stream_text(client, axon, synapse)
    assert tokens == [] and synapse.completion == ""
    assert synapse.is_blacklist
    assert synapse.dendrite.status_message == "Forbidden. Key is blacklisted: always."
    assert synapse.axon.status_code == 403


async def test_request_signed_for_another_hotkey_is_401() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        wrong = AxonTarget("127.0.0.1", axon.port, OTHER.ss58_address)
        synapse = await client.call(wrong, Echo(prompt="hi"), deserialize=False)
    assert synapse.failed_verification
    assert synapse.dendrite.status_message.startswith(
        "Not Verified with error: Signature mismatch with "
    )
    assert synapse.completion == ""


async def test_concurrent_streams_from_three_axons_do_not_mix() -> None:
    async with AsyncExitStack() as stack:
        axons = [await stack.enter_async_context(make_axon(f"axon{i} ")) for i in range(3)]
        client = await stack.enter_async_context(Dendrite(VALIDATOR))
        template = Chat(prompt="one two three four five six", delay=0.01)
        streams = await client.forward(axons, template, deserialize=False)

        async def consume(stream: Any) -> tuple[list[str], Chat]:
            items = [item async for item in stream]
            return items[:-1], items[-1]

        results = await asyncio.gather(*(consume(s) for s in streams))
    for index, (tokens, synapse) in enumerate(results):
        expected = f"axon{index} one two three four five six "
        assert "".join(tokens) == expected == synapse.completion
        assert synapse.is_success
    assert template.completion == ""


async def test_concurrent_streams_to_one_axon_all_verify() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        synapses = [Chat(prompt=f"n{i} x", delay=0.01) for i in range(4)]
        await asyncio.gather(*(stream_text(client, axon, s) for s in synapses))
    assert all(s.is_success for s in synapses), [s.dendrite.status_message for s in synapses]


async def test_first_byte_timeout() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        synapse = Chat(prompt="late start", mode="stall_first", delay=2.0)
        tokens = await stream_text(client, axon, synapse, timeout=10.0, first_byte_timeout=0.3)
    assert tokens == []
    assert synapse.is_timeout
    assert "first_byte_timeout" in (synapse.dendrite.status_message or "")


async def test_total_timeout_keeps_partial_tokens() -> None:
    async with make_axon() as axon, Dendrite(VALIDATOR) as client:
        synapse = Chat(prompt="a b c d e f g h i j", delay=0.1)
        tokens = await stream_text(client, axon, synapse, timeout=0.45)
        assert synapse.is_timeout
        assert synapse.dendrite.status_message == "Request timeout after 0.45 seconds"
        assert 0 < len(tokens) < 10
        assert synapse.completion == "".join(tokens)
        # The cut connection is not reused: the next call works.
        again = await client.call(axon, Echo(prompt="ok"), deserialize=False)
    assert again.is_success and again.completion == "ko"
