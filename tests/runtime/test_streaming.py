"""token_streamer: batching, interval flushes, errors, timeouts, disconnects (fake send)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import uvicorn
from starlette.requests import ClientDisconnect

from synapsegen.runtime.codecs import SSEDecoder, StreamError, encode_sse, encode_sse_json
from synapsegen.runtime.errors import StreamAborted
from synapsegen.runtime.streaming import MinerError, sends_only_bytes, token_streamer


def encode(token: str) -> bytes:
    return token.encode()


class Recorder:
    """A fake ASGI send: records every message; optionally fails on the n-th call."""

    def __init__(self, fail_on: int | None = None, error: Exception | None = None) -> None:
        self.messages: list[dict[str, Any]] = []
        self.fail_on = fail_on
        self.error = error or OSError("connection reset")
        self.sent = asyncio.Event()

    async def __call__(self, message: Any) -> None:
        if self.fail_on is not None and len(self.messages) + 1 >= self.fail_on:
            raise self.error
        self.messages.append(dict(message))
        self.sent.set()

    @property
    def bodies(self) -> list[bytes]:
        for message in self.messages:
            assert message["type"] == "http.response.body"
            assert message["more_body"] is True
            assert type(message["body"]) is bytes and message["body"]
        return [m["body"] for m in self.messages]


class Tokens:
    """An async generator of tokens whose ``finally`` records that it was closed."""

    def __init__(self) -> None:
        self.closed = False
        self.produced = 0

    async def gen(self, *tokens: str, then: Callable[[], Any] | None = None) -> AsyncIterator[str]:
        try:
            for token in tokens:
                self.produced += 1
                yield token
            if then is not None:
                await then()
        finally:
            self.closed = True

    async def forever(self) -> AsyncIterator[str]:
        try:
            while True:
                self.produced += 1
                yield f"t{self.produced} "
                await asyncio.sleep(0)
        finally:
            self.closed = True


async def run_streamer(streamer: Callable[[Any], Any], send: Recorder) -> None:
    await asyncio.wait_for(streamer(send), timeout=10)


async def test_one_send_per_token_by_default() -> None:
    tokens = Tokens()
    send = Recorder()
    await run_streamer(token_streamer(tokens.gen("a", "b", "c"), encode), send)
    assert send.bodies == [b"a", b"b", b"c"]
    assert tokens.closed


def test_the_axon_may_skip_its_body_check_only_for_token_streamers() -> None:
    async def own_streamer(send: Any) -> None:
        await send({"type": "http.response.body", "body": "text", "more_body": True})

    assert sends_only_bytes(token_streamer(Tokens().gen("a"), encode))
    assert not sends_only_bytes(own_streamer)


async def test_batching_by_count_and_trailer() -> None:
    tokens = Tokens()
    send = Recorder()
    streamer = token_streamer(
        tokens.gen("a", "b", "c", "d", "e"), encode, batch_count=2, trailer=b"[END]"
    )
    await run_streamer(streamer, send)
    assert send.bodies == [b"ab", b"cd", b"e[END]"]


async def test_interval_flush_happens_without_a_new_token() -> None:
    # The generator blocks until the first batch was sent: only the interval timer can send it.
    tokens = Tokens()
    send = Recorder()

    async def wait_for_flush() -> None:
        await send.sent.wait()

    async def source() -> AsyncIterator[str]:
        async for token in tokens.gen("a", "b", then=wait_for_flush):
            yield token
        yield "c"

    streamer = token_streamer(source(), encode, batch_count=100, batch_interval=0.01)
    await run_streamer(streamer, send)
    assert send.bodies == [b"ab", b"c"]
    assert tokens.closed


async def test_interval_timer_never_loses_a_token() -> None:
    async def slow() -> AsyncIterator[str]:
        for i in range(6):
            if i % 2:
                await asyncio.sleep(0.03)  # several intervals pass while this token is produced
            yield str(i)

    send = Recorder()
    await run_streamer(token_streamer(slow(), encode, batch_count=4, batch_interval=0.005), send)
    assert b"".join(send.bodies) == b"012345"


async def test_iterator_failure_flushes_then_sends_error_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tokens = Tokens()
    send = Recorder()

    async def fail() -> None:
        raise ValueError("model crashed")

    streamer = token_streamer(
        tokens.gen("a", "b", then=fail),
        encode,
        batch_count=10,
        encode_error=lambda exc: encode_sse_json({"type": "error", "message": str(exc)}),
    )
    with caplog.at_level(logging.ERROR, logger="synapsegen.runtime.streaming"):
        await run_streamer(streamer, send)  # does not raise
    assert send.bodies == [b"ab", b'data: {"type":"error","message":"model crashed"}\n\n']
    assert "model crashed" in caplog.text
    assert tokens.closed


async def _fail() -> None:
    raise RuntimeError("boom")


@pytest.mark.parametrize(
    ("then", "options", "reported"),
    [
        pytest.param(lambda: _fail, {}, "boom", id="iterator-failure"),
        pytest.param(lambda: asyncio.Event().wait, {"timeout": 0.05}, "timed out", id="timeout"),
    ],
)
async def test_a_failure_without_its_event_aborts(
    then: Callable[[], Callable[[], Any]], options: dict[str, Any], reported: str
) -> None:
    """No error (or timeout) event to say so: the pending tokens go out, then the stream must
    end incomplete."""
    tokens = Tokens()
    send = Recorder()
    streamer = token_streamer(tokens.gen("a", then=then()), encode, batch_count=3, **options)
    with pytest.raises(StreamAborted, match=reported):
        await run_streamer(streamer, send)
    assert send.bodies == [b"a"]
    assert tokens.closed


async def test_encode_returning_str_is_reported_as_error() -> None:
    tokens = Tokens()
    send = Recorder()
    bad_encode: Any = lambda token: token  # noqa: E731  (str, not bytes: bug 8)
    streamer = token_streamer(
        tokens.gen("a", "b"), bad_encode, encode_error=lambda exc: b"ERR:" + str(exc).encode()
    )
    await run_streamer(streamer, send)
    assert send.bodies == [b"ERR:encode() returned str, not bytes"]
    assert tokens.closed


@pytest.mark.parametrize(
    ("produced", "options", "bodies"),
    [
        # The pending batch is flushed, then the timeout event; no trailer after a timeout.
        (("a", "b"), {"trailer": b"[END]"}, [b"ab", b"TIMEOUT"]),
        # Also while a batch interval is being timed.
        (("a",), {"batch_interval": 60}, [b"a", b"TIMEOUT"]),
    ],
    ids=["flushes_batch_no_trailer", "while_interval_batching"],
)
async def test_timeout_flushes_sends_timeout_event_and_closes(
    produced: tuple[str, ...], options: dict[str, Any], bodies: list[bytes]
) -> None:
    tokens = Tokens()
    send = Recorder()
    never = asyncio.Event()
    streamer = token_streamer(
        tokens.gen(*produced, then=never.wait),
        encode,
        batch_count=5,
        timeout=0.05,
        on_timeout=lambda: b"TIMEOUT",
        **options,
    )
    await run_streamer(streamer, send)
    assert send.bodies == bodies
    assert tokens.closed


async def test_expired_timeout_sends_only_the_timeout_event() -> None:
    tokens = Tokens()
    send = Recorder()
    streamer = token_streamer(tokens.forever(), encode, timeout=0, on_timeout=lambda: b"T")
    await run_streamer(streamer, send)
    assert send.bodies[-1] == b"T"
    assert tokens.closed


async def test_disconnect_stops_and_closes_the_iterator() -> None:
    tokens = Tokens()
    send = Recorder(fail_on=3)
    await run_streamer(token_streamer(tokens.forever(), encode), send)
    assert send.bodies == [b"t1 ", b"t2 "]
    assert tokens.closed
    assert tokens.produced == 3


@pytest.mark.parametrize("error", [ClientDisconnect(), ConnectionResetError()])
async def test_disconnect_during_interval_flush(error: Exception) -> None:
    tokens = Tokens()
    send = Recorder(fail_on=1, error=error)
    never = asyncio.Event()
    streamer = token_streamer(
        tokens.gen("a", then=never.wait), encode, batch_count=9, batch_interval=0.01
    )
    await run_streamer(streamer, send)  # the pending __anext__ is cancelled, the generator closed
    assert send.messages == []
    assert tokens.closed


async def test_other_send_errors_propagate_after_closing() -> None:
    tokens = Tokens()
    send = Recorder(fail_on=1, error=RuntimeError("unexpected ASGI message"))
    with pytest.raises(RuntimeError, match="unexpected ASGI message"):
        await run_streamer(token_streamer(tokens.forever(), encode), send)
    assert tokens.closed


async def test_external_cancel_propagates_and_closes() -> None:
    tokens = Tokens()
    send = Recorder()
    never = asyncio.Event()
    task = asyncio.ensure_future(
        token_streamer(tokens.gen("a", then=never.wait), encode, timeout=60)(send)
    )
    await send.sent.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tokens.closed


async def test_plain_async_iterator_without_aclose() -> None:
    class Countdown:
        def __init__(self) -> None:
            self.n = 3

        def __aiter__(self) -> Countdown:
            return self

        async def __anext__(self) -> str:
            if not self.n:
                raise StopAsyncIteration
            self.n -= 1
            return str(self.n)

    send = Recorder()
    await run_streamer(token_streamer(Countdown(), encode, batch_count=2, batch_interval=1), send)
    assert send.bodies == [b"21", b"0"]


def test_arguments_are_validated() -> None:
    async def nothing() -> AsyncIterator[str]:
        yield ""

    with pytest.raises(ValueError):
        token_streamer(nothing(), encode, batch_count=0)
    with pytest.raises(ValueError):
        token_streamer(nothing(), encode, batch_interval=0)
    with pytest.raises(ValueError):
        token_streamer(nothing(), encode, timeout=float("nan"))


async def test_sse_stream_decodes_on_the_client_side() -> None:
    events = ["hello", "multi\nline", "😀"]

    async def source() -> AsyncIterator[str]:
        for event in events:
            yield event

    send = Recorder()
    streamer = token_streamer(source(), encode_sse, batch_count=2, trailer=encode_sse("[DONE]"))
    await run_streamer(streamer, send)
    decoder = SSEDecoder()
    decoded = [data for body in send.bodies for data in decoder.feed(body)]
    assert decoded + decoder.close() == events
    assert decoder.done


def test_miner_error_is_a_stream_error() -> None:
    error = MinerError("rate limited")
    assert isinstance(error, StreamError)
    assert str(error) == "rate limited" and error.offset is None


async def test_real_uvicorn_and_aiohttp_round_trip() -> None:
    """Over loopback: one HTTP chunk per batch; the client decodes it with SSEDecoder."""
    events = [f"token {i} é😀" for i in range(50)]

    async def source() -> AsyncIterator[str]:
        for event in events:
            yield event
            await asyncio.sleep(0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        streamer = token_streamer(
            source(), encode_sse, batch_count=3, timeout=10, trailer=encode_sse("[DONE]")
        )
        await streamer(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    serving = asyncio.ensure_future(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        decoder = SSEDecoder()
        received: list[str] = []
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/Stream") as response,
        ):
            assert response.status == 200
            async for chunk in response.content.iter_any():
                received.extend(decoder.feed(chunk))
        received.extend(decoder.close())
        assert received == events
        assert decoder.done
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, timeout=10)
