"""Server-side token streaming: turn an async iterator of tokens into a bittensor token streamer.

CONTRACT (generated server helpers call exactly this API):

    def token_streamer(
        tokens: AsyncIterable[T],
        encode: Callable[[T], bytes],
        *,
        batch_count: int = 1,             # flush after this many tokens ...
        batch_interval: float | None = None,  # ... or seconds since the first unsent token
        timeout: float | None = None,     # stop after this many seconds (pass synapse.timeout)
        encode_error: Callable[[BaseException], bytes] | None = None,
        on_timeout: Callable[[], bytes] | None = None,
        trailer: bytes | None = None,     # sent after the last token when ``tokens`` ends normally
        final: Mapping[str, JsonScalar] | None = None,  # tags of the miner's own final event
    ) -> Callable[[Send], Awaitable[None]]

The returned coroutine function is what ``StreamingSynapse.create_streaming_response`` takes. It
sends only ``http.response.body`` messages with ``bytes`` bodies and ``more_body: True`` (the
response itself sends the final empty message), concatenating a batch into one send; empty bodies
are not sent. An interval batch is flushed when its time is up even if no new token arrives (the
pending ``__anext__`` is kept, so no token is lost). When ``tokens`` ends normally, the pending
tokens and the ``trailer`` (the SSE sentinel or final event of the schema) go out in one send.
With ``final`` (the tags of the schema's final event), a token that is a JSON object carrying
those tags is the miner's own final event, with data of its own (a score, usage): it is sent,
the stream ends there (the iterator is closed, nothing after it is sent) and no ``trailer``
follows, so the client never sees a second final event.
When the token iterator raises (or ``encode`` fails, or returns something other than bytes),
pending tokens are flushed first, then ``encode_error(exc)`` is sent if given (the schema's
declared error event) and the response ends cleanly; the exception is logged. Without an error
event, ``StreamAborted`` is raised after the flush: the Axon then ends the body without its final
chunk, so the client sees an incomplete transfer rather than a truncated success. When ``timeout``
passes (counted from the first call; zero or less means already expired), pending tokens are
flushed, then ``on_timeout()`` is sent if given (else ``StreamAborted`` is raised, as above),
and the token iterator is closed (``aclose``); the wait for a token is cancelled, a send in
progress is not. A client that disconnects (``send`` raises OSError, ``ClientDisconnect``, or
anyio's broken/closed stream error) stops the iteration and closes the iterator; the streamer then
returns normally. In every case the iterator is closed before the streamer returns. Invalid
arguments (``batch_count < 1``, ``batch_interval <= 0``, a NaN timeout) raise ValueError at once.

Note: uvicorn itself drops sends after a disconnect silently, so there the stream only stops at
the end of ``tokens`` or at the timeout; a server that makes ``send`` raise stops it at once.

``MinerError(message)`` (a StreamError subclass) is what a generated client raises when it receives
the schema's declared error event.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Final, Generic, TypeVar, cast

import anyio
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import Message, Send

from .errors import MinerError, StreamAborted, _ClientGone
from .errors import StreamError as StreamError  # importable here before errors.py existed

__all__ = ["MinerError", "token_streamer"]

T = TypeVar("T")
JsonScalar = str | int | float | bool | None

logger = logging.getLogger(__name__)

# What ``send`` raises when the client has gone away.
_DISCONNECTED: Final = (
    OSError,
    ClientDisconnect,
    anyio.BrokenResourceError,
    anyio.ClosedResourceError,
)
_FLUSH_DUE: Final = object()  # returned instead of a token when the batch interval is up
_ENDED: Final = object()  # returned instead of a token when the stream was finished while waiting


def token_streamer(
    tokens: AsyncIterable[T],
    encode: Callable[[T], bytes],
    *,
    batch_count: int = 1,
    batch_interval: float | None = None,
    timeout: float | None = None,
    encode_error: Callable[[BaseException], bytes] | None = None,
    on_timeout: Callable[[], bytes] | None = None,
    trailer: bytes | None = None,
    final: Mapping[str, JsonScalar] | None = None,
) -> Callable[[Send], Awaitable[None]]:
    """Build the token streamer for a BTStreamingResponse (see the module docstring)."""
    if isinstance(batch_count, bool) or not isinstance(batch_count, int) or batch_count < 1:
        raise ValueError(f"batch_count must be an int >= 1, not {batch_count!r}")
    if batch_interval is not None and not batch_interval > 0:
        raise ValueError(f"batch_interval must be > 0 seconds or None, not {batch_interval!r}")
    if timeout is not None and math.isnan(timeout):
        raise ValueError("timeout must be a number of seconds or None, not NaN")
    if trailer is not None and not isinstance(trailer, bytes):
        raise ValueError(f"trailer must be bytes or None, not {type(trailer).__name__}")

    return _TokenStreamer(
        tokens, encode, batch_count, batch_interval, timeout, encode_error, on_timeout, trailer,
        final,
    )  # fmt: skip


class _TokenStreamer(Generic[T]):
    """What ``token_streamer`` returns: a coroutine function of ``send`` running one ``_Pump``.

    Every body it sends is ``bytes`` (``encode``'s results and the events are checked before
    they are sent, the trailer when the streamer is built), so the Axon need not check each send
    again (see ``sends_only_bytes``).
    """

    def __init__(
        self,
        tokens: AsyncIterable[T],
        encode: Callable[[T], bytes],
        batch_count: int,
        batch_interval: float | None,
        timeout: float | None,
        encode_error: Callable[[BaseException], bytes] | None,
        on_timeout: Callable[[], bytes] | None,
        trailer: bytes | None,
        final: Mapping[str, JsonScalar] | None,
    ) -> None:
        self._tokens = tokens
        self._encode = encode
        self._batch_count = batch_count
        self._batch_interval = batch_interval
        self._timeout = timeout
        self._encode_error = encode_error
        self._on_timeout = on_timeout
        self._trailer = trailer
        self._final = final

    async def __call__(self, send: Send) -> None:
        pump = _Pump(
            self._tokens, self._encode, send, self._batch_count, self._batch_interval,
            self._encode_error, self._on_timeout, self._trailer, self._final,
        )  # fmt: skip
        await pump.run(self._timeout)


def sends_only_bytes(streamer: Callable[[Send], Awaitable[None]]) -> bool:
    """Whether ``streamer`` is one of ``token_streamer``'s, which checks its bodies itself."""
    return isinstance(streamer, _TokenStreamer)


def is_tagged(token: object, tags: Mapping[str, JsonScalar]) -> bool:
    """Whether ``token`` is a JSON object holding every tag, compared as JSON compares.

    JSON tells ``1`` from ``true`` and ``1`` from ``1.0`` no more than Python does for numbers,
    but a boolean is never a number: ``{"final": true}`` does not match ``{"final": 1}``. A
    typed token (a pydantic model) is compared by what it sends: its wire names and values.
    """
    if isinstance(token, BaseModel):
        token = token.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if not isinstance(token, dict):
        return False
    for key, wanted in tags.items():
        if key not in token:
            return False
        got = token[key]
        if isinstance(wanted, bool) or isinstance(got, bool):
            if got is not wanted:
                return False
        elif got != wanted:
            return False
    return True


async def _anext(iterator: AsyncIterator[T]) -> T:
    return await iterator.__anext__()


class _Pump(Generic[T]):
    """One run of a token streamer: reads tokens, batches them, sends, and cleans up."""

    def __init__(
        self,
        tokens: AsyncIterable[T],
        encode: Callable[[T], bytes],
        send: Send,
        batch_count: int,
        batch_interval: float | None,
        encode_error: Callable[[BaseException], bytes] | None,
        on_timeout: Callable[[], bytes] | None,
        trailer: bytes | None,
        final: Mapping[str, JsonScalar] | None = None,
    ) -> None:
        self._iterator = aiter(tokens)
        self._encode = encode
        self._send = send
        self._batch_count = batch_count
        self._batch_interval = batch_interval
        self._encode_error = encode_error
        self._on_timeout = on_timeout
        self._trailer = trailer
        self._pending: list[bytes] = []
        # An __anext__ running as its own task: only while a batch interval is being timed, so
        # that the timer can fire without cancelling (and losing) the token being produced.
        self._next_task: asyncio.Task[T] | None = None
        self._task: asyncio.Task[object] | None = None
        self._waiting = False  # the run is awaiting the next token (the only place we cancel)
        self._timed_out = False
        self._final = dict(final) if final is not None else None  # the miner's final event

    async def run(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        watchdog = None
        if timeout is not None:
            watchdog = loop.call_later(max(timeout, 0.0), self._deadline_passed)
        try:
            await self._pump()
        except _ClientGone as gone:
            logger.info("client disconnected, token stream stopped: %r", gone.__cause__)
        finally:
            if watchdog is not None:
                watchdog.cancel()
            await self._close_iterator()

    def _deadline_passed(self) -> None:
        self._timed_out = True
        if self._waiting and self._task is not None:
            self._task.cancel()  # interrupt the wait for a token; sends are never interrupted

    async def _pump(self) -> None:
        if self._batch_count == 1 and self._batch_interval is None:
            await self._pump_each()
            return
        loop = asyncio.get_running_loop()
        pending = self._pending
        batch_count = self._batch_count
        interval = self._batch_interval
        flush_at: float | None = None  # when the oldest unsent token must go out
        while True:
            if self._timed_out:
                await self._finish_timeout()
                return
            token = await self._await_token(flush_at)
            if token is _ENDED:
                return
            if token is _FLUSH_DUE:
                await self._flush()
                flush_at = None
                continue
            if await self._queue(cast(T, token)):
                return
            if len(pending) >= batch_count:
                await self._flush()
                flush_at = None
            elif flush_at is None and interval is not None:
                flush_at = loop.time() + interval

    async def _pump_each(self) -> None:
        """``_pump`` when every token is its own send (``batch_count`` 1, no interval).

        The common case, and the hot loop of a stream: one ``__anext__``, one ``encode``, one
        ``send`` per token, without the batch list, the flush bookkeeping or a coroutine call per
        step. The deadline, the error paths and the final event behave as in ``_pump``.
        """
        next_token = self._iterator.__anext__
        encode = self._encode
        send = self._send
        final = self._final
        while not self._timed_out:
            self._waiting = True
            try:
                token = await next_token()
            except BaseException as exc:  # the end, a failure or the deadline: as _await_token
                self._waiting = False
                await self._token_not_got(exc)
                return
            self._waiting = False
            try:
                data = encode(token)
                if type(data) is not bytes:
                    raise TypeError(f"encode() returned {type(data).__name__}, not bytes")
            except Exception as exc:
                await self._finish_error(exc, "encoding a token failed")
                return
            if data:  # empty bodies are not sent
                try:
                    await send({"type": "http.response.body", "body": data, "more_body": True})
                except _DISCONNECTED as exc:
                    raise _ClientGone() from exc
            if final is not None and is_tagged(token, final):
                return
        await self._finish_timeout()

    async def _token_not_got(self, exc: BaseException) -> None:
        """Finish the stream after ``__anext__`` raised ``exc`` (``_waiting`` already false):
        the iterator ended, failed, or the deadline cut the wait (see ``_await_token``)."""
        if isinstance(exc, StopAsyncIteration):
            if self._trailer:
                self._pending.append(self._trailer)
            await self._flush()
        elif isinstance(exc, asyncio.CancelledError):
            if not (self._timed_out and self._own_cancel()):
                raise exc
            await self._finish_timeout()
        elif isinstance(exc, Exception):
            await self._finish_error(exc, "token iterator failed")
        else:
            raise exc

    async def _await_token(self, flush_at: float | None) -> object:
        """The next token (``_FLUSH_DUE`` if ``flush_at`` comes first), or ``_ENDED`` once the
        stream is finished here: the iterator ended or failed, or the deadline cut the wait.

        ``_waiting`` is true only during the wait, never during the sends that finish a stream
        (the deadline cancels only a wait).
        """
        self._waiting = True
        try:
            if flush_at is None and self._next_task is None:
                token: object = await self._iterator.__anext__()
            else:
                token = await self._next_token(flush_at)
        except StopAsyncIteration:
            self._waiting = False
            if self._trailer:
                self._pending.append(self._trailer)
            await self._flush()
            return _ENDED
        except asyncio.CancelledError:
            self._waiting = False
            if self._timed_out and self._own_cancel():
                await self._finish_timeout()
                return _ENDED
            raise
        except Exception as exc:
            self._waiting = False
            await self._finish_error(exc, "token iterator failed")
            return _ENDED
        self._waiting = False
        return token

    async def _queue(self, token: T) -> bool:
        """Encode ``token`` into the pending batch; True when the stream ends with it (the
        miner's own final event, sent at once; or an encoding failure, reported)."""
        try:
            data = self._encode(token)
            if type(data) is not bytes:
                raise TypeError(f"encode() returned {type(data).__name__}, not bytes")
        except Exception as exc:
            await self._finish_error(exc, "encoding a token failed")
            return True
        self._pending.append(data)
        if self._final is not None and is_tagged(token, self._final):
            await self._flush()
            return True
        return False

    async def _next_token(self, flush_at: float | None) -> object:
        """The next token, or _FLUSH_DUE if ``flush_at`` comes first (the __anext__ goes on)."""
        task = self._next_task
        if task is None:
            task = self._next_task = asyncio.ensure_future(_anext(self._iterator))
        if not task.done():
            delay = None if flush_at is None else flush_at - asyncio.get_running_loop().time()
            if delay is not None and delay <= 0:
                return _FLUSH_DUE
            done, _ = await asyncio.wait((task,), timeout=delay)
            if not done:
                return _FLUSH_DUE
        self._next_task = None
        return task.result()

    def _own_cancel(self) -> bool:
        """After our watchdog's cancel: True unless someone else cancelled the task as well."""
        task = self._task
        uncancel = getattr(task, "uncancel", None)  # Python 3.11+
        return uncancel is None or uncancel() == 0

    async def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        body = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        if body:
            await self._emit(body)

    async def _emit(self, body: bytes) -> None:
        message: Message = {"type": "http.response.body", "body": body, "more_body": True}
        try:
            await self._send(message)
        except _DISCONNECTED as exc:
            raise _ClientGone() from exc

    async def _finish_error(self, exc: Exception, what: str) -> None:
        logger.error("%s; ending the token stream", what, exc_info=exc)
        await self._flush()
        encode_error = self._encode_error
        event = None if encode_error is None else self._call(lambda: encode_error(exc))
        if not event:
            # Nothing in-band says the answer is incomplete: a clean end would look like success.
            raise StreamAborted(f"{what}: {exc!r}") from exc
        await self._emit(event)

    async def _finish_timeout(self) -> None:
        logger.info("token stream timed out; ending it")
        await self._stop_next_task()
        await self._flush()
        event = None if self._on_timeout is None else self._call(self._on_timeout)
        if not event:
            raise StreamAborted("the token stream timed out")
        await self._emit(event)

    def _call(self, make_event: Callable[[], bytes]) -> bytes | None:
        """Run a user callback that builds an event; log and skip it if it fails."""
        try:
            event = make_event()
            if type(event) is not bytes:
                raise TypeError(f"event callback returned {type(event).__name__}, not bytes")
        except Exception:
            logger.exception("building the closing event failed; not sent")
            return None
        return event

    async def _stop_next_task(self) -> None:
        task, self._next_task = self._next_task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait((task,))
        if not task.cancelled() and task.exception() is not None:
            logger.debug("token iterator failed while being stopped", exc_info=task.exception())

    async def _close_iterator(self) -> None:
        await self._stop_next_task()
        aclose = getattr(self._iterator, "aclose", None)
        if aclose is None:
            return
        try:
            await aclose()
        except Exception:
            logger.warning("closing the token iterator failed", exc_info=True)
