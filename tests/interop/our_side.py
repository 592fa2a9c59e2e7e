"""synapsegen's side of the interop tests: the same synapse classes on ``synapsegen.runtime``,
and a runtime Axon serving them the way ``bt_side/axon_server.py`` serves them on bittensor.

The class definitions mirror ``bt_side/bt_synapses.py`` field for field (same names, types,
defaults, ``required_hash_fields``): the route name and the body hash must agree on both sides
(the plain ones come from ``common.plain_synapses``, on each side's base class).
Reusable by the benchmarks (:func:`start_our_axon`).

No ``from __future__ import annotations``: like bittensor's, the runtime Axon may read the forward
function's parameter annotation as a real class.
"""

import asyncio
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar

import aiohttp

from synapsegen.runtime import (
    Axon,
    StreamingSynapse,
    Synapse,
    TextDecoder,
    split_terminal_headers,
    token_streamer,
)

from .bt_side.common import (
    MIDSTREAM_FAIL_PROMPT,
    MIDSTREAM_SENT_PIECES,
    PLAIN_SYNAPSE,
    STREAM_SYNAPSE,
    UNSERVED_SYNAPSE,
    blacklist_verdict,
    echo_completion,
    plain_synapses,
    raise_if_asked,
    token_bytes,
)

LOOPBACK = "127.0.0.1"


class InteropStream(StreamingSynapse):
    """Streams raw UTF-8 text into ``completion`` (decoded incrementally by the runtime codec)."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)

    prompt: str
    n_tokens: int
    completion: str = ""

    async def process_streaming_response(
        self, response: aiohttp.ClientResponse
    ) -> AsyncIterator[str]:
        decoder = TextDecoder()
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            for text in decoder.feed(chunk):
                parts.append(text)
                yield text
        for text in decoder.close():  # raises TruncatedStream on a cut character
            parts.append(text)
            yield text
        self.completion = "".join(parts)

    def extract_response_json(self, response: aiohttp.ClientResponse) -> dict[str, Any]:
        data = self.model_dump()
        terminals = split_terminal_headers(response.headers)
        data["axon"] = {**data["axon"], **terminals["axon"]}
        data["dendrite"] = {**data["dendrite"], **terminals["dendrite"]}
        return data

    def deserialize(self) -> str:
        return self.completion


InteropEcho, InteropUnserved = plain_synapses(Synapse)
assert (InteropStream.__name__, InteropEcho.__name__, InteropUnserved.__name__) == (
    STREAM_SYNAPSE,
    PLAIN_SYNAPSE,
    UNSERVED_SYNAPSE,
)


async def _pieces(prompt: str, n_tokens: int, send_interval: float) -> AsyncIterator[bytes]:
    for index, piece in enumerate(token_bytes(prompt, n_tokens)):
        if prompt == MIDSTREAM_FAIL_PROMPT and index == MIDSTREAM_SENT_PIECES:
            raise RuntimeError("token source failed on purpose")
        if index and send_interval > 0:
            await asyncio.sleep(send_interval)
        yield piece


def _identity(piece: bytes) -> bytes:
    return piece


def stream_forward(
    batch_count: int = 1, send_interval: float = 0.0
) -> Callable[[InteropStream], Awaitable[Any]]:
    """A forward function streaming ``common.token_bytes`` with the runtime's token streamer.

    ``send_interval`` sleeps between pieces (so that clients read several chunks); the runtime
    batches ``batch_count`` pieces per send. With ``MIDSTREAM_FAIL_PROMPT`` the token source
    raises after ``MIDSTREAM_SENT_PIECES`` pieces (the runtime flushes them, then aborts the
    chunked body: no terminating chunk).
    """

    async def forward(synapse: InteropStream) -> Any:
        raise_if_asked(synapse.prompt)
        # A real axon never cuts a stream; the client's total timeout does. Our server's own
        # cut-off (at synapse.timeout) would race the client's deadline on a loaded machine and
        # end the body first, so here it comes a second later and the client's timeout decides.
        server_timeout = None if synapse.timeout is None else synapse.timeout + 1.0
        streamer = token_streamer(
            _pieces(synapse.prompt, synapse.n_tokens, send_interval),
            _identity,
            batch_count=batch_count,
            timeout=server_timeout,
        )
        return synapse.create_streaming_response(streamer)

    return forward


def echo_forward(synapse: InteropEcho) -> InteropEcho:
    """Fill ``completion`` with the expected text (raise for ``RAISE_PROMPT``)."""
    synapse.completion = echo_completion(synapse.prompt, synapse.n_tokens)
    return synapse


def _hotkey(synapse: Synapse) -> str | None:
    return synapse.dendrite.hotkey if synapse.dendrite is not None else None


# Same annotations as bittensor requires (typing.Tuple), in case the runtime checks them too.
def blacklist_stream(synapse: InteropStream) -> typing.Tuple[bool, str]:  # noqa: UP006
    """Blacklist the "other" test key."""
    return blacklist_verdict(_hotkey(synapse))


def blacklist_echo(synapse: InteropEcho) -> typing.Tuple[bool, str]:  # noqa: UP006
    """Blacklist the "other" test key."""
    return blacklist_verdict(_hotkey(synapse))


def start_our_axon(
    keypair: Any,
    *,
    batch_count: int = 1,
    send_interval: float = 0.0,
    echo_verify: Callable[[InteropEcho], None] | None = None,
) -> Axon:
    """Start a synapsegen runtime Axon on 127.0.0.1 (free port) serving the interop synapses.

    Same behaviour as ``bt_side/axon_server.py``; ``echo_verify`` replaces the default
    verification of ``InteropEcho`` requests. The caller must ``stop()`` it.
    """
    axon = Axon(keypair, ip=LOOPBACK, port=0)
    axon.attach(stream_forward(batch_count, send_interval), blacklist_fn=blacklist_stream)
    axon.attach(echo_forward, blacklist_fn=blacklist_echo, verify_fn=echo_verify)
    axon.start()
    return axon
