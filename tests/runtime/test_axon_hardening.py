"""Axon hardening (issue 10, items 1-3): freshness never decided by unsigned values, the verified
signer reaches ``forward_fn``, bounded sends and connections, and failed streams that look failed.

Real uvicorn on 127.0.0.1, real aiohttp and raw sockets; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from starlette.types import Send

from synapsegen.runtime import streaming
from synapsegen.runtime._axon_limits import rate_limited_loop_errors
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import Dendrite

from . import test_axon as _base
from .test_axon import Client, Keys, TextPrompt, TokenStream, reverse

# The fixtures of test_axon, shared (keys, an Axon factory stopping what it built, a session).
keys = _base.keys
make_axon = _base.make_axon
session = _base.session

HOUR_NS = 3600 * 10**9


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


# ---- 1. freshness and the verified signer ------------------------------------------------------


@pytest.fixture
def served(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> Callable[..., Client]:
    """``served(**axon_options)``: a started Axon serving ``reverse``, and a validator client."""

    def build(**options: Any) -> Client:
        axon = make_axon(**options).attach(reverse).start()
        return Client(session, axon, keys.validator)

    return build


async def test_an_old_request_without_a_version_header_is_refused(
    served: Callable[..., Client],
) -> None:
    """Bug: the window only applied to dendrite versions >= 7.2.0, read from an unsigned
    header: dropping ``bt_header_dendrite_version`` let a request of any age through."""
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    reply = await client.post("TextPrompt", _without(headers, "bt_header_dendrite_version"), body)
    assert reply.status == 401
    assert "Nonce is too old: acceptable delta is 16.00 seconds" in reply.message
    legacy = await client.call(
        TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS, version=7_000_000, uuid="legacy"
    )
    assert legacy.status == 401


async def test_a_huge_timeout_does_not_widen_the_window_past_max_request_age(
    served: Callable[..., Client],
) -> None:
    """Bug: the window was 4 s + the unsigned ``timeout``: ``timeout: 1e9`` accepted a captured
    request of any age. The window is capped by the server's ``max_request_age``."""
    client = served()
    old = time.time_ns() - HOUR_NS
    reply = await client.call(TextPrompt(prompt="hi"), nonce=old, timeout=1e9)
    assert reply.status == 401
    assert reply.message.startswith(
        "Not Verified with error: Nonce is too old: acceptable delta is 64.00 seconds"
    )
    capped = served(max_request_age=2.0)
    late = await capped.call(TextPrompt(prompt="hi"), nonce=time.time_ns() - 3 * 10**9)
    assert late.status == 401
    assert "acceptable delta is 2.00 seconds" in late.message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "NaN"])
async def test_a_non_finite_timeout_is_refused_with_401(
    served: Callable[..., Client], value: str
) -> None:
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    headers["timeout"] = value
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 401
    assert reply.message.startswith("Not Verified with error: Invalid timeout ")
    assert "must be a finite number of seconds" in reply.message


async def test_a_missing_timeout_is_refused_with_401(served: Callable[..., Client]) -> None:
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    reply = await client.post("TextPrompt", _without(headers, "timeout"), body)
    assert reply.status == 401
    assert reply.message == (
        "Not Verified with error: Missing timeout: the request's age cannot be checked"
    )


async def test_bittensor_callers_within_the_bound_keep_bittensors_window(
    served: Callable[..., Client],
) -> None:
    """A bittensor 10 caller (timeout 12 s) 10 s late is inside 4 s + 12 s: still served."""
    client = served()
    late = await client.call(TextPrompt(prompt="hi"), nonce=time.time_ns() - 10 * 10**9)
    assert late.status == 200
    long_call = await client.call(
        TextPrompt(prompt="hi"), nonce=time.time_ns() - 50 * 10**9, timeout=60.0, uuid="long"
    )
    assert long_call.status == 200


async def test_a_held_back_request_is_refused_once_stale_even_with_a_stored_nonce(
    served: Callable[..., Client],
) -> None:
    """Bug (also bittensor's): with a nonce stored for the key the window was skipped, so a
    request an attacker held back (newer nonce, never delivered) was accepted hours later."""
    client = served(max_request_age=0.5)
    first_headers, first_body = client.build(TextPrompt(prompt="first"), timeout=0.1)
    held_headers, held_body = client.build(TextPrompt(prompt="held"), timeout=0.1)
    assert (await client.post("TextPrompt", first_headers, first_body)).status == 200
    await asyncio.sleep(0.7)
    reply = await client.post("TextPrompt", held_headers, held_body)
    assert reply.status == 401
    assert "Nonce is too old: acceptable delta is 0.50 seconds" in reply.message


async def test_forward_fn_sees_the_verified_signer_not_the_body_claim(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug (also bittensor's): ``forward_fn`` got ``dendrite.hotkey``/``nonce``/``uuid``/
    ``signature`` from the JSON body, which the signature does not cover: any signer could
    claim to be another validator there."""
    seen: list[tuple[Any, ...]] = []

    def forward(synapse: TextPrompt) -> TextPrompt:
        assert synapse.dendrite is not None
        dendrite = synapse.dendrite
        seen.append((dendrite.hotkey, dendrite.nonce, dendrite.uuid, dendrite.signature))
        return synapse

    axon = make_axon().attach(forward).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TextPrompt(prompt="hi"), uuid="real-uuid")
    claimed = json.loads(body)
    claimed["dendrite"].update(
        hotkey=keys.other.ss58_address, nonce=1, uuid="claimed", signature="0x00"
    )
    reply = await client.post("TextPrompt", headers, json.dumps(claimed).encode())
    assert reply.status == 200
    assert seen == [
        (
            keys.validator.ss58_address,
            int(headers["bt_header_dendrite_nonce"]),
            "real-uuid",
            headers["bt_header_dendrite_signature"],
        )
    ]


async def test_a_nan_timeout_in_the_body_does_not_break_stream_response(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug: the body's ``timeout`` (unsigned, JSON allows ``NaN``) reached ``forward_fn``; a
    streamer built with ``timeout=synapse.timeout`` raised ValueError (500). The checked header
    timeout replaces it."""
    seen: list[float | None] = []

    async def words() -> AsyncIterator[str]:
        yield "ok"

    def forward(synapse: TokenStream) -> Any:
        seen.append(synapse.timeout)
        streamer = streaming.token_streamer(words(), str.encode, timeout=synapse.timeout)
        return synapse.create_streaming_response(streamer)

    axon = make_axon().attach(forward).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TokenStream(prompt="p"), timeout=3.0)
    data = json.loads(body)
    data["timeout"] = float("nan")
    reply = await client.post("TokenStream", headers, json.dumps(data).encode())
    assert (reply.status, reply.body) == (200, b"ok")
    assert seen == [3.0]


def test_max_request_age_must_be_finite_and_positive(keys: Keys) -> None:
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="max_request_age"):
            Axon(keys.miner, max_request_age=bad)


# ---- 3. a failed stream without an end marker looks failed --------------------------------------


def _chat_module() -> Any:
    """The generated ``format: text`` class of the golden chat schema (no end marker)."""
    path = Path(__file__).resolve().parents[1] / "golden" / "chat" / "chat.py"
    spec = importlib.util.spec_from_file_location("_golden_chat_for_hardening", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHAT = _chat_module()


async def _text_call(axon: Axon, keys: Keys, *, timeout: float = 5.0) -> Any:
    """One ``ChatCompletion`` through the runtime's Dendrite; the filled-in synapse."""
    synapse = CHAT.ChatCompletion(messages=[{"role": "user", "content": "hi"}])
    async with Dendrite(keys.validator) as dendrite:
        items = [
            item
            async for item in dendrite.call_stream(
                axon.info(), synapse, timeout=timeout, deserialize=False
            )
        ]
    return items[-1]


@pytest.mark.parametrize("failure", ["raises", "times_out"])
async def test_a_text_stream_that_fails_midway_is_reported_incomplete(
    make_axon: Callable[..., Axon], keys: Keys, failure: str
) -> None:
    """Bug: a ``format: text`` stream whose miner raised (or hit its timeout) mid-stream ended
    with a clean final chunk: the validator saw 200 and ``stream_complete=True`` with a
    truncated answer. The body now ends without its final chunk."""

    async def tokens() -> AsyncIterator[str]:
        yield "partial "
        if failure == "raises":
            raise RuntimeError("model crashed")
        await asyncio.sleep(3600)

    def forward(synapse: CHAT.ChatCompletion) -> Any:  # type: ignore[name-defined]
        if failure == "times_out":
            synapse.timeout = 0.3
        return synapse.stream_response(tokens())

    axon = make_axon().attach(forward).start()
    answer = await _text_call(axon, keys)
    assert answer.completion == "partial "
    assert answer.stream_complete is False
    assert answer.dendrite.status_code != 200
    assert not answer.is_success


async def test_a_text_stream_that_ends_normally_is_complete(
    make_axon: Callable[..., Axon], keys: Keys
) -> None:
    async def tokens() -> AsyncIterator[str]:
        yield "whole "
        yield "answer"

    def forward(synapse: CHAT.ChatCompletion) -> Any:  # type: ignore[name-defined]
        return synapse.stream_response(tokens())

    axon = make_axon().attach(forward).start()
    answer = await _text_call(axon, keys)
    assert (answer.completion, answer.stream_complete, answer.dendrite.status_code) == (
        "whole answer",
        True,
        200,
    )


async def test_a_str_body_from_a_streamer_does_not_look_like_success(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """A raw streamer sending ``str`` (bittensor's axon fails that response): the body ends
    incomplete, so no client takes it for a complete answer."""

    def forward(synapse: TokenStream) -> Any:
        async def streamer(send: Send) -> None:
            await send({"type": "http.response.body", "body": b"ok ", "more_body": True})
            await send({"type": "http.response.body", "body": "text", "more_body": True})

        return synapse.create_streaming_response(streamer)

    axon = make_axon().attach(forward).start()
    with pytest.raises(aiohttp.ClientPayloadError):
        await Client(session, axon, keys.validator).call(TokenStream(prompt="p"))


# ---- 2. bounded sends and connections -----------------------------------------------------------


async def _wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll ``condition`` every 10 ms for at most ``seconds``."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


async def _open(port: int, source: str = "127.0.0.1") -> tuple[asyncio.StreamReader, Any]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


async def _closed_by_server(reader: asyncio.StreamReader, seconds: float = 5.0) -> bool:
    """Whether the server closes the connection within ``seconds`` (what it sent is ignored)."""

    async def drain() -> None:
        while await reader.read(65536):
            pass

    try:
        await asyncio.wait_for(drain(), seconds)
    except asyncio.TimeoutError:  # a distinct class before Python 3.11
        return False
    except ConnectionResetError:
        pass
    return True


async def test_a_client_that_stops_reading_a_stream_releases_its_worker_slot(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug: at the stream's deadline the streamer was cancelled, but the final send then waited
    on flow control for a client that never reads: the ``max_workers`` slot was held forever."""

    def forward(synapse: TokenStream) -> Any:
        async def streamer(send: Send) -> None:
            chunk = b"x" * 65536
            for _ in range(4096):  # far more than the socket buffers hold
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        return synapse.create_streaming_response(streamer)

    axon = make_axon(max_workers=1, stream_timeout_grace=0.1).attach(forward).attach(reverse)
    axon.start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TokenStream(prompt="p"), uuid="stalled", timeout=0.3)
    reader, writer = await _open(axon.port)
    writer.write(_base_head("TokenStream", headers, len(body)) + body)
    await writer.drain()
    try:
        assert await reader.readuntil(b"\r\n\r\n")  # the stream started; now never read again
        assert await _wait_until(lambda: axon.gate.active == 0)
        reply = await client.call(TextPrompt(prompt="next"), uuid="next", timeout=5.0)
        assert reply.status == 200
    finally:
        writer.close()


def _base_head(route: str, headers: dict[str, str], content_length: int) -> bytes:
    lines = [f"POST /{route} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_silent_and_trickling_connections_are_closed(
    make_axon: Callable[..., Axon], http: str
) -> None:
    """Bug: a connection that never completed a request head was kept forever (uvicorn's
    keep-alive timer only runs after a response, and each byte reset it)."""
    axon = make_axon(http=http, header_timeout=0.3).start()
    silent, silent_writer = await _open(axon.port)
    trickle, trickle_writer = await _open(axon.port)

    async def trickle_bytes() -> None:
        for byte in b"POST /Synapse HTTP/1.1\r\nHost: x\r\n":
            if trickle_writer.is_closing():
                return
            trickle_writer.write(bytes([byte]))
            await asyncio.sleep(0.05)

    trickling = asyncio.ensure_future(trickle_bytes())
    try:
        assert await _closed_by_server(silent, 3.0)
        assert await _closed_by_server(trickle, 3.0)
    finally:
        trickling.cancel()
        silent_writer.close()
        trickle_writer.close()


async def test_connections_are_capped_per_peer_address_and_per_server(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug: no cap: idle sockets from one client used up every file descriptor. A peer over its
    share is closed at once; another peer is still served."""
    axon = make_axon(max_connections_per_ip=3, max_connections=5).attach(reverse).start()
    flood = [await _open(axon.port, "127.0.0.2") for _ in range(4)]
    try:
        assert await _closed_by_server(flood[3][0], 3.0)  # the 4th from 127.0.0.2
        reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="ok"))
        assert reply.status == 200
        others = [await _open(axon.port, "127.0.0.3") for _ in range(3)]
        try:  # 3 + 1 (the session's pooled one) + 1 from 127.0.0.3 fill the server's 5
            assert await _closed_by_server(others[-1][0], 3.0)
        finally:
            for _, writer in others:
                writer.close()
    finally:
        for _, writer in flood:
            writer.close()


@pytest.mark.parametrize("http", ["h11", "httptools"])
async def test_an_oversized_request_head_is_refused(
    make_axon: Callable[..., Axon], http: str
) -> None:
    """Bug: httptools has no header size limit (a 64 MiB header was accepted).

    A head one byte over the limit, never ended, gets 431 and the connection is closed. The client
    sends exactly that and nothing more: the byte over the limit is the last one, so the server has
    read everything when it refuses and closes. (Bytes still arriving after its close would make
    its kernel answer with a reset, which can destroy the 431 on the client's side first.)
    """
    limit = 16384
    axon = make_axon(http=http, max_header_bytes=limit).start()
    start = b"POST /Synapse HTTP/1.1\r\nHost: x\r\nX-Big: "
    head = start + b"a" * (limit + 1 - len(start))
    reader, writer = await _open(axon.port)
    try:
        writer.write(head)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # to the server's close
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert b"connection: close" in answer


async def test_a_body_nested_too_deeply_gets_a_json_400(served: Callable[..., Client]) -> None:
    """Bug: ``json.loads`` raised RecursionError, which became uvicorn's plain-text 500."""
    client = served()
    headers, _ = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("TextPrompt", headers, b'{"prompt":' + b"[" * 100_000)
    assert reply.status == 400
    assert reply.json() == {"detail": "The request body is nested too deeply"}


async def test_per_event_log_lines_are_rate_limited(
    make_axon: Callable[..., Axon], caplog: pytest.LogCaptureFixture
) -> None:
    """Bug: every bad request (and every refused connection) wrote its own log line."""
    axon = make_axon(http="httptools").start()
    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        for _ in range(20):
            reader, writer = await _open(axon.port)
            writer.write(b"NOT HTTP\r\n\r\n")
            await _closed_by_server(reader, 3.0)
            writer.close()
    lines = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert [r.getMessage() for r in lines] == ["Invalid HTTP request received."]


async def test_refused_connections_are_logged_once_per_interval(
    make_axon: Callable[..., Axon], caplog: pytest.LogCaptureFixture
) -> None:
    """Bug: every connection over the per-address cap wrote its own line (2,000 a second under a
    flood), though the docs said refusals are rate-limited."""
    axon = make_axon(max_connections_per_ip=2).start()
    with caplog.at_level(logging.INFO, logger="synapsegen.runtime.axon"):
        flood = [await _open(axon.port, "127.0.0.2") for _ in range(12)]
        try:
            for reader, _ in flood[2:]:
                assert await _closed_by_server(reader, 3.0)
        finally:
            for _, writer in flood:
                writer.close()
    refusals = [r for r in caplog.records if r.name == "synapsegen.runtime.axon"]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]


async def test_accept_errors_reach_the_log_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """asyncio reports every failed ``accept()`` (out of file descriptors) through the loop."""
    loop = asyncio.get_running_loop()
    context = {"message": "socket.accept() out of system resource", "exception": OSError(24)}
    with caplog.at_level(logging.ERROR, logger="asyncio"), rate_limited_loop_errors(60.0):
        for _ in range(1000):
            loop.call_exception_handler(dict(context))
    assert len([r for r in caplog.records if "socket.accept()" in r.getMessage()]) == 1
