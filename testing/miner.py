"""A miner whose answers are scripted, served by a real ``Axon`` on 127.0.0.1.

``ScriptedMiner(Cls, tokens=[...])`` serves one synapse class; each request is answered as its
``Script`` says. Everything between the script and the validator is the real thing: the Axon's
checks (signatures, nonces, the HTTP-era transports), the class's own ``stream_response`` (so
the framing is the schema's), the Axon's way of ending a failed stream, and HTTP on a socket.

What a script can ask for (``Script``'s fields):

- ``tokens`` (streaming classes): what the miner yields, streamed by the class's
  ``stream_response``; or a function of the request synapse returning them;
- ``response`` (plain classes): field values set on the synapse it answers with; or a function of
  the request synapse returning them;
- ``body``: these bytes as the body instead (a streaming body in the class's framing, or a plain
  answer's JSON), e.g. a recorded or hand-made malformed answer;
- ``status`` and ``message``: answer with an error status instead (the Axon's error shape);
- ``first_byte_delay``: seconds before the answer starts (headers and first byte);
- ``token_delay``: seconds between tokens, or between pieces when ``chunking`` is not natural;
- ``error`` and ``error_after``: the miner raises (a streaming miner after ``error_after``
  tokens; a plain one in its forward function, which the Axon answers with 500);
- ``chunking``: how the body's bytes are cut into sends (``chunking.split_body``);
- ``truncate_at`` and ``clean_cut``: the body is cut after that many bytes (negative: counted
  from the end) and ends as an incomplete transfer, or cleanly with ``clean_cut``;
- ``oversized_frame``: the stream starts with one complete frame of that many bytes.

With a chunking, a truncation, an oversized frame or a ``body``, the streamer's output is
collected first (the class's real bytes, produced by its real ``stream_response``), then cut
and sent; a failure of the streamer (``error``) is raised after the pieces are sent, so the Axon
ends the body as it would have.

A send is one HTTP chunk on the wire; the client may still read several together. Exact splits
at the parser are ``FakeResponse``'s (and ``replay``'s) job; the miner checks the same bytes
survive a real network and a real Dendrite.
"""

from __future__ import annotations

import asyncio
import copy
import http
import json
import math
import threading
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar, cast

from bittensor_wallet import Keypair
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from synapsegen.runtime import Axon, AxonTarget, BTStreamingResponse, StreamingSynapse, Synapse
from synapsegen.runtime.errors import StreamAborted
from synapsegen.runtime.http_wire import encode_answer
from synapsegen.runtime.transports import BITTENSOR10, BTAUTH, EPISTULA, TRANSPORTS

from .chunking import Chunking, check_chunking, split_body
from .keys import miner_keypair

__all__ = ["Received", "Script", "ScriptSource", "ScriptedMiner"]

S = TypeVar("S", bound=Synapse)
Tokens = Sequence[Any] | Callable[[Any], Iterable[Any] | AsyncIterable[Any]]
Values = Mapping[str, Any] | Callable[[Any], Mapping[str, Any]]


def _check_delay(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Script.{name} must be a number of seconds, got {value!r}")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"Script.{name} must be a finite number of seconds >= 0, got {value!r}")


@dataclass(frozen=True)
class Script:
    """How a ``ScriptedMiner`` answers one request (the module docstring lists the fields).

    The default answers a streaming class with an empty stream and a plain class with the
    request synapse itself, status 200.
    """

    tokens: Tokens = ()
    response: Values | None = None
    body: bytes | None = None
    status: int = 200
    message: str | None = None
    first_byte_delay: float = 0.0
    token_delay: float = 0.0
    error: str | Exception | None = None
    error_after: int | None = None
    chunking: Chunking = "natural"
    truncate_at: int | None = None
    clean_cut: bool = False
    oversized_frame: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.tokens, (str, bytes)):
            raise TypeError("Script.tokens must be a sequence of tokens, not one str or bytes")
        if self.body is not None and not isinstance(self.body, bytes):
            raise TypeError(f"Script.body must be bytes, got {type(self.body).__name__}")
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            raise TypeError(f"Script.status must be an int, got {self.status!r}")
        if not 200 <= self.status <= 599 or self.status in (204, 304):
            raise ValueError(f"Script.status must be 200..599 (not 204 or 304), got {self.status}")
        _check_delay("first_byte_delay", self.first_byte_delay)
        _check_delay("token_delay", self.token_delay)
        for name in ("error_after", "oversized_frame"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(f"Script.{name} must be an int >= 0 or None, got {value!r}")
        if self.oversized_frame is not None and self.oversized_frame < 8:
            raise ValueError(
                f"Script.oversized_frame must be at least 8 bytes, got {self.oversized_frame}"
            )
        if self.truncate_at is not None and (
            isinstance(self.truncate_at, bool) or not isinstance(self.truncate_at, int)
        ):
            raise TypeError(f"Script.truncate_at must be an int or None, got {self.truncate_at!r}")
        if self.error is not None and not isinstance(self.error, (str, Exception)):
            raise TypeError(f"Script.error must be a str or an Exception, got {self.error!r}")
        check_chunking(self.chunking)

    @property
    def collects(self) -> bool:
        """Whether the body is collected, then cut and sent (anything but the natural stream)."""
        return (
            self.chunking != "natural"
            or self.truncate_at is not None
            or self.oversized_frame is not None
            or self.body is not None
        )


ScriptSource = Script | Sequence[Script] | Callable[[Any], Script]
"""What a ``ScriptedMiner`` answers with: one script for every call, one per call in order, or
a function of the request synapse."""


@dataclass(frozen=True)
class Received:
    """One request as the miner's forward function received it.

    ``synapse`` is a deep copy of the request synapse (its ``dendrite`` is the verified signer);
    ``hotkey`` the signer's SS58 address; ``transport`` the wire it came over (``bittensor10``,
    ``btauth/1`` or ``epistula/2``, read from the terminal info the Axon set); ``index`` its
    position among the miner's calls; ``at`` its ``time.monotonic()``.
    """

    synapse: Synapse
    hotkey: str | None
    transport: str
    index: int
    at: float


def _transport_of(synapse: Synapse) -> str:
    """Which wire the Axon received ``synapse`` over. bittensor 10's body carries the dendrite's
    version (the Axon refuses a request without one); the HTTP wire's terminal info has none,
    and an Epistula request has a uuid where btauth/1 has none."""
    dendrite = synapse.dendrite
    if dendrite is None or dendrite.version is not None:
        return BITTENSOR10
    return EPISTULA if dendrite.uuid else BTAUTH


def _exception(error: str | Exception) -> Exception:
    return RuntimeError(error) if isinstance(error, str) else copy.copy(error)


async def _each(tokens: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(tokens, AsyncIterable):
        async for token in tokens:
            yield token
    else:
        for token in tokens:
            yield token


async def _scripted_tokens(script: Script, synapse: Synapse, paced: bool) -> AsyncIterator[Any]:
    """The miner's tokens: the script's, ``token_delay`` apart when ``paced``, the error raised
    after ``error_after`` of them (after all of them when None)."""
    source = script.tokens(synapse) if callable(script.tokens) else script.tokens
    sent = 0
    async for token in _each(source):
        stop = script.error_after
        if script.error is not None and stop is not None and sent >= stop:
            raise _exception(script.error)
        if paced and sent and script.token_delay:
            await asyncio.sleep(script.token_delay)
        yield token
        sent += 1
    if script.error is not None:
        raise _exception(script.error)


def oversized_frame(media_type: str, size: int) -> bytes:
    """One complete frame of exactly ``size`` bytes in the framing of ``media_type``: a JSON
    string of ``x`` as SSE data, a JSON line or a JSON text, or a line of text."""
    essence = media_type.split(";", 1)[0].strip().lower()
    if essence == "text/event-stream":
        head, tail = b'data: "', b'"\n\n'
    elif essence == "application/jsonl":
        head, tail = b'"', b'"\n'
    elif essence == "application/json-seq":
        head, tail = b'"', b'"'
    else:
        head, tail = b"", b"\n"
    return head + b"x" * (size - len(head) - len(tail)) + tail


def _cut(data: bytes, truncate_at: int) -> bytes:
    return data[:truncate_at] if truncate_at >= 0 else data[: max(len(data) + truncate_at, 0)]


def _close_incomplete(scope: Scope, what: str) -> None:
    """End the response without its final chunk: the client sees an incomplete transfer."""
    try:
        from synapsegen.runtime._axon_limits import connection_control
    except ImportError:  # pragma: no cover - another runtime: its server drops the connection
        raise StreamAborted(what) from None
    control = connection_control(scope)
    if control is None:  # not under the Axon's own server
        raise StreamAborted(what)
    control.close_incomplete(flush_within=1.0)


async def _send_pieces(send: Send, pieces: Sequence[bytes], pause: float) -> None:
    for index, piece in enumerate(pieces):
        if index:
            await asyncio.sleep(pause)  # sleep(0) still gives each piece its own write
        await send({"type": "http.response.body", "body": piece, "more_body": True})


def _collecting_streamer(
    produce: Callable[[Send], Awaitable[None]] | None, script: Script, media_type: str
) -> Callable[[Send], Awaitable[None]]:
    """A token streamer that collects ``produce``'s output (or takes ``script.body``), applies the
    script's oversized frame, truncation and chunking, sends the pieces, then fails as the
    producer did (or as the truncation asks)."""

    async def streamer(send: Send) -> None:
        natural: list[int] = []
        failure: BaseException | None = None
        if script.body is not None:
            data = script.body
        else:
            collected = bytearray()

            async def collect(message: Message) -> None:
                body = message.get("body", b"")
                if body:
                    collected.extend(body)
                    natural.append(len(body))

            try:
                if produce is not None:
                    await produce(collect)
            except Exception as exc:  # raised again once the pieces are sent
                failure = exc
            data = bytes(collected)
        if script.body is not None and script.error is not None:
            failure = _exception(script.error)
        if script.oversized_frame is not None:
            frame = oversized_frame(media_type, script.oversized_frame)
            data = frame + data
            natural.insert(0, len(frame))
        if script.truncate_at is not None:
            data = _cut(data, script.truncate_at)
            if script.clean_cut:
                failure = None
            elif failure is None:
                failure = StreamAborted(f"scripted truncation after {len(data)} bytes")
        pieces = split_body(data, script.chunking, natural if script.body is None else None)
        await _send_pieces(send, pieces, script.token_delay)
        if failure is not None:
            raise failure

    return streamer


class _ErrorAnswer(JSONResponse):
    """An error status: ``{"message": ...}``, with the synapse (status set) for the Axon's
    bittensor-10 headers."""

    def __init__(self, synapse: Synapse, status: int, message: str) -> None:
        super().__init__({"message": message}, status_code=status)
        self.synapse = synapse


class _BodyAnswer(Response):
    """A plain synapse's answer sent in pieces: the Axon's own body bytes for the transport
    (or the script's ``body``), cut and truncated as the script says."""

    def __init__(self, synapse: Synapse, script: Script, transport: str) -> None:
        super().__init__(media_type="application/json")
        self.synapse = synapse
        self.script = script
        self.transport = transport

    def _body(self) -> bytes:
        if self.script.body is not None:
            return self.script.body
        if self.transport != BITTENSOR10:
            return encode_answer(self.synapse)
        dump = self.synapse.model_dump(mode="json", by_alias=True)
        return json.dumps(dump, ensure_ascii=False, separators=(",", ":")).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        script = self.script
        full = self._body()
        data = full if script.truncate_at is None else _cut(full, script.truncate_at)
        headers = [(k, v) for k, v in self.raw_headers if k.lower() != b"content-length"]
        if script.truncate_at is None:  # whole: announced, as the Axon does; cut: chunked
            headers.insert(0, (b"content-length", str(len(full)).encode("latin-1")))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await _send_pieces(send, split_body(data, script.chunking), script.token_delay)
        if script.truncate_at is not None and not script.clean_cut:
            _close_incomplete(scope, f"scripted truncation after {len(data)} bytes")
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class ScriptedMiner(Generic[S]):
    """Serve ``synapse_class`` from an in-process ``Axon`` on 127.0.0.1, answering as scripted.

    ``script``: a ``Script`` for every call, a sequence of them (one per call, in order; a call
    beyond the last is answered 500 and the test sees a failed call), or a function of the request
    synapse returning one. Instead of ``script`` the fields of one ``Script`` may be given as
    keywords: ``ScriptedMiner(ChatCompletion, tokens=["a", "b"], chunking="bytewise")``.

    ``transports``: the wires served (all three by default). ``keypair``: the miner's hotkey
    (``keys.miner_keypair()`` by default). ``axon_options``: more keyword arguments for the
    ``Axon`` (``max_request_age``, ``stream_timeout_grace``, ...).

    Serve it in the running event loop (``async with ScriptedMiner(...) as miner``) or in a
    background thread with its own loop (``start()``/``stop()``, or ``with``), which is what the
    pytest fixture does. ``target`` is the ``AxonTarget`` to call, ``requests`` what arrived.
    """

    def __init__(
        self,
        synapse_class: type[S],
        script: ScriptSource | None = None,
        /,
        *,
        transports: Iterable[str] = TRANSPORTS,
        keypair: Keypair | None = None,
        axon_options: Mapping[str, Any] | None = None,
        **script_fields: Any,
    ) -> None:
        if not (isinstance(synapse_class, type) and issubclass(synapse_class, Synapse)):
            raise TypeError(
                f"ScriptedMiner serves a synapsegen.runtime Synapse class, got {synapse_class!r}"
            )
        if script is not None and script_fields:
            raise TypeError("give a script or Script fields as keywords, not both")
        if script is None:
            script = Script(**script_fields)
        if isinstance(script, Sequence):
            scripts = list(script)
            if not all(isinstance(one, Script) for one in scripts):
                raise TypeError("a sequence of scripts must hold Script instances only")
            for one in scripts:
                self._check(synapse_class, one)
        elif isinstance(script, Script):
            self._check(synapse_class, script)
        elif not callable(script):
            raise TypeError(f"script must be a Script, a sequence or a function, got {script!r}")
        self.synapse_class = synapse_class
        self.script = script
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._calls = 0
        self._keypair = keypair if keypair is not None else miner_keypair()
        self._axon = Axon(self._keypair, ip="127.0.0.1", port=0, **dict(axon_options or {}))
        self._axon.attach(self._forward_fn(), transports=tuple(transports))

    @staticmethod
    def _check(synapse_class: type[Synapse], script: Script) -> None:
        streaming = issubclass(synapse_class, StreamingSynapse)
        name = synapse_class.__name__
        if streaming and script.response is not None:
            raise ValueError(f"{name} streams: script its tokens, not response values")
        if not streaming and (script.tokens or script.oversized_frame is not None):
            raise ValueError(f"{name} is a plain synapse: script response values, not tokens")
        framer = getattr(synapse_class, "stream_response", None)
        if streaming and script.tokens and script.body is None and not callable(framer):
            raise TypeError(f"{name} has no stream_response() to frame tokens with; script a body")

    # ---- what the Axon calls ---------------------------------------------------------------

    def _forward_fn(self) -> Callable[[Any], Awaitable[Any]]:
        async def forward(synapse: Any) -> Any:
            return await self._answer(synapse)

        # The Axon routes by the annotation of the first parameter.
        forward.__annotations__ = {"synapse": self.synapse_class, "return": Any}
        return forward

    def _next_script(self, synapse: Synapse) -> tuple[int, Script]:
        with self._lock:
            index = self._calls
            self._calls += 1
        self.requests.append(
            Received(
                synapse=synapse.model_copy(deep=True),
                hotkey=synapse.dendrite.hotkey if synapse.dendrite is not None else None,
                transport=_transport_of(synapse),
                index=index,
                at=time.monotonic(),
            )
        )
        source = self.script
        if isinstance(source, Script):
            return index, source
        if isinstance(source, Sequence):
            if index >= len(source):
                raise LookupError(
                    f"ScriptedMiner({self.synapse_class.__name__}): call {index + 1} but only "
                    f"{len(source)} scripts"
                )
            return index, source[index]
        chosen = source(synapse)
        if not isinstance(chosen, Script):
            raise TypeError(f"the script function returned {chosen!r}, not a Script")
        self._check(self.synapse_class, chosen)
        return index, chosen

    async def _answer(self, synapse: Synapse) -> Any:
        _, script = self._next_script(synapse)
        if script.first_byte_delay:
            await asyncio.sleep(script.first_byte_delay)
        if script.status != 200:
            message = script.message or http.HTTPStatus(script.status).phrase
            if synapse.axon is not None:
                synapse.axon.status_code = script.status
                synapse.axon.status_message = message
            return _ErrorAnswer(synapse, script.status, message)
        if isinstance(synapse, StreamingSynapse):
            return self._stream(synapse, script)
        if script.error is not None:
            raise _exception(script.error)
        values = script.response(synapse) if callable(script.response) else script.response
        for name, value in (values or {}).items():
            setattr(synapse, name, value)
        if not script.collects:
            return synapse
        if synapse.axon is not None:  # what the Axon's fill-in does before it serializes
            synapse.axon.status_code = 200
            synapse.axon.status_message = "Success"
        return _BodyAnswer(synapse, script, _transport_of(synapse))

    def _stream(self, synapse: StreamingSynapse, script: Script) -> BTStreamingResponse:
        media = getattr(type(synapse), "stream_media", None)
        media_type = str(getattr(media, "media_type", "text/event-stream"))
        produce: Callable[[Send], Awaitable[None]] | None = None
        if script.body is None:
            stream_response = getattr(synapse, "stream_response", None)
            tokens = _scripted_tokens(script, synapse, paced=not script.collects)
            if stream_response is None:
                raise TypeError(f"{type(synapse).__name__} has no stream_response()")
            response = cast(BTStreamingResponse, stream_response(tokens))
            if not script.collects:
                return response
            produce = response.token_streamer
        return synapse.create_streaming_response(_collecting_streamer(produce, script, media_type))

    # ---- serving ----------------------------------------------------------------------------

    @property
    def axon(self) -> Axon:
        """The ``Axon`` serving the script."""
        return self._axon

    @property
    def hotkey(self) -> str:
        return self._keypair.ss58_address

    @property
    def target(self) -> AxonTarget:
        """Where to call the miner (an ``AxonTarget`` any ``Dendrite`` accepts); once serving."""
        if not self._axon.is_running:
            raise RuntimeError("the ScriptedMiner is not serving: start() it or use async with")
        return AxonTarget(ip="127.0.0.1", port=self._axon.port, hotkey=self.hotkey)

    @property
    def calls(self) -> int:
        """How many requests reached the forward function."""
        return self._calls

    def start(self) -> ScriptedMiner[S]:
        """Serve in a background thread (its own event loop); returns once listening."""
        self._axon.start()
        return self

    def stop(self) -> None:
        """Stop serving (the background thread, or the ``async with`` server)."""
        self._axon.stop()

    def __enter__(self) -> ScriptedMiner[S]:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    async def __aenter__(self) -> ScriptedMiner[S]:
        await self._axon.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._axon.aclose()

    def __repr__(self) -> str:
        state = f"127.0.0.1:{self._axon.port}" if self._axon.is_running else "stopped"
        return f"ScriptedMiner({self.synapse_class.__name__}, {state}, calls={self._calls})"
