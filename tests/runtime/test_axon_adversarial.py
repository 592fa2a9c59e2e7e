"""Adversarial Axon tests: slow or vanishing clients, hostile nonces, hooks returning odd things.

Each test here pins a bug found in review (see the docstrings) or proves a property the server's
liveness depends on (no leaked ``max_workers`` permit on any path).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Send

from synapsegen.runtime._axon_guards import NonceStore
from synapsegen.runtime.axon import Axon

from . import test_axon as _base
from .test_axon import Client, Keys, TextPrompt, TokenStream, reverse

# The fixtures of test_axon, shared (keys, an Axon factory stopping what it built, a session).
keys = _base.keys
make_axon = _base.make_axon
session = _base.session


async def _raw_request(port: int, head: bytes, body_part: bytes) -> asyncio.StreamWriter:
    """Open a TCP connection and send a request head plus part of its body; keep it open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body_part)
    await writer.drain()
    writer.reader = reader  # type: ignore[attr-defined]
    return writer


def _head(route: str, headers: dict[str, str], content_length: int) -> bytes:
    lines = [f"POST /{route} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def test_slow_body_does_not_hold_the_only_worker_forever(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug: the body was read after taking a ``max_workers`` slot, with no time limit. A client
    that sent its headers and then stalled mid-body (slowloris) held the slot forever, so with
    ``max_workers=1`` every later request waited its whole timeout and got 408."""
    axon = make_axon(max_workers=1).attach(reverse).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TextPrompt(prompt="slow"), uuid="slow", timeout=0.5)
    stalled = await _raw_request(axon.port, _head("TextPrompt", headers, len(body)), body[:10])
    try:
        await asyncio.sleep(0.1)  # let the stalled request reach the pipeline first
        reply = await client.call(TextPrompt(prompt="normal"), uuid="normal", timeout=3.0)
        assert reply.status == 200
        answer = await asyncio.wait_for(stalled.reader.read(4096), 5)  # type: ignore[attr-defined]
        assert answer.startswith(b"HTTP/1.1 408 ")
    finally:
        stalled.close()


def test_future_nonces_cannot_poison_the_eviction_floor() -> None:
    """Bug: the floor was the largest nonce ever evicted. Nonces from the future are accepted
    (as by bittensor), so anyone able to sign could fill the store with far-future nonces under
    throwaway uuids; once evicted they raised the floor above every real clock and the axon
    refused every new client ("a newer one was last processed") for good."""
    store = NonceStore(max_entries=2)
    far_future = time.time_ns() + 3600 * 10**9
    for uuid in ("a", "b", "c"):
        store.accept(f"attacker:{uuid}", far_future)
    assert store.floor <= time.time_ns()


async def test_future_nonce_flood_does_not_lock_out_new_clients(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    axon = make_axon(max_nonce_entries=2).attach(reverse).start()
    attacker = Client(session, axon, keys.other)
    far_future = time.time_ns() + 3600 * 10**9
    for uuid in ("x-1", "x-2", "x-3"):
        reply = await attacker.call(TextPrompt(prompt="a"), uuid=uuid, nonce=far_future)
        assert reply.status == 200
    newcomer = Client(session, axon, keys.validator)
    assert (await newcomer.call(TextPrompt(prompt="b"), uuid="fresh")).status == 200


@pytest.mark.filterwarnings("ignore:forward_fn of TextPrompt returned None")  # a case it sends
async def test_max_workers_permit_survives_every_failure_path(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """With ``max_workers=1``, run requests failing in every way (hooks raising or returning the
    wrong shape, forward returning odd things, streams raising, timing out, clients vanishing
    mid-body, mid-stream and while queued), then a normal request must still be served."""

    def blacklist(synapse: TextPrompt):  # type: ignore[no-untyped-def]  # odd returns
        kind = synapse.dendrite.uuid if synapse.dendrite else ""
        if kind == "bl-shape":
            return True  # not a tuple
        if kind == "bl-raise":
            raise RuntimeError("blacklist broke")
        return (False, "")

    def priority(synapse: TextPrompt):  # type: ignore[no-untyped-def]  # odd returns
        kind = synapse.dendrite.uuid if synapse.dendrite else ""
        if kind == "pr-raise":
            raise ValueError("priority broke")
        if kind == "pr-str":
            return "high"
        if kind == "pr-timeout":
            raise TimeoutError
        return 1.0

    async def forward(synapse: TextPrompt) -> Any:
        prompt = synapse.prompt
        if prompt == "raise":
            raise RuntimeError("forward broke")
        if prompt == "none":
            return None
        if prompt == "str":
            return "not a synapse"
        if prompt == "response":
            return PlainTextResponse("plain")
        if prompt == "status":
            assert synapse.axon is not None
            synapse.axon.status_code = 100
            return synapse
        if prompt == "cancel":
            raise asyncio.CancelledError
        return reverse(synapse)

    def stream(synapse: TokenStream) -> Any:
        async def streamer(send: Send) -> None:
            await send({"type": "http.response.body", "body": b"t", "more_body": True})
            if synapse.prompt == "raise":
                raise RuntimeError("streamer broke")
            if synapse.prompt == "str":
                await send({"type": "http.response.body", "body": "text", "more_body": True})
            await asyncio.sleep(3600)

        return synapse.create_streaming_response(streamer)

    axon = (
        make_axon(max_workers=1, stream_timeout_grace=0.0, max_body_bytes=4000)
        .attach(forward, blacklist_fn=blacklist, priority_fn=priority)
        .attach(stream)
        .start()
    )
    client = Client(session, axon, keys.validator)
    calls: list[Any] = []
    for uuid in ("bl-shape", "bl-raise", "pr-raise", "pr-str", "pr-timeout"):
        calls.append(client.call(TextPrompt(prompt="p"), uuid=uuid))
    for prompt in ("raise", "none", "str", "response", "status", "cancel", "x" * 5000):
        calls.append(client.call(TextPrompt(prompt=prompt), uuid=f"f-{prompt[:8]}"))
    for prompt in ("raise", "str", "hang"):
        calls.append(client.call(TokenStream(prompt=prompt), uuid=f"s-{prompt}", timeout=0.2))
    calls.append(client.post("TextPrompt", {}, b"{"))  # bad headers and JSON
    for call in calls:
        # A hanging stream: the client gives up, which disconnects it.
        with contextlib.suppress(asyncio.TimeoutError, aiohttp.ClientError):
            await asyncio.wait_for(call, 0.5)

    # Clients vanishing mid-body, mid-stream, and while queued behind a held slot.
    headers, body = client.build(TextPrompt(prompt="gone"), uuid="gone-body")
    writer = await _raw_request(axon.port, _head("TextPrompt", headers, len(body)), body[:5])
    writer.close()
    headers, body = client.build(TokenStream(prompt="hang"), uuid="gone-stream", timeout=30.0)
    writer = await _raw_request(axon.port, _head("TokenStream", headers, len(body)), body)
    await asyncio.wait_for(writer.reader.read(1), 5)  # type: ignore[attr-defined]
    headers, body = client.build(TextPrompt(prompt="q"), uuid="gone-queued", timeout=30.0)
    queued = await _raw_request(axon.port, _head("TextPrompt", headers, len(body)), body)
    await asyncio.sleep(0.05)
    queued.close()
    writer.close()

    for _ in range(500):
        if axon.gate.active == 0:
            break
        await asyncio.sleep(0.01)
    reply = await asyncio.wait_for(
        client.call(TextPrompt(prompt="fine"), uuid="last", timeout=5.0), 10
    )
    assert reply.status == 200
    assert reply.json()["completion"] == "enif"
    for _ in range(500):  # the slot is given back just after the response is sent
        if axon.gate.active == 0:
            break
        await asyncio.sleep(0.01)
    assert (axon.gate.active, axon.gate.waiting) == (0, 0)
