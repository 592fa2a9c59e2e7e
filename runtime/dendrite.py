"""Dendrite: the client side of the bittensor 10 axon/dendrite wire protocol, on aiohttp.

A request is built exactly as a real ``bittensor.Dendrite`` builds it (wire_protocol.md §8): one
``POST http://{ip}:{port}/{SynapseClassName}`` with headers from ``synapse.to_headers()`` and the
JSON body ``synapse.model_dump()``, signed with sr25519 over
``nonce.dendrite_hotkey.axon_hotkey.uuid.body_hash``. Responses are merged as bittensor's
``process_server_response`` merges them (§11), and transport errors map to the same status codes and
messages with bittensor's exact-type table (§12), so code that checks ``synapse.is_timeout`` and
friends keeps working.

Public API (bittensor 10 names and semantics): ``Dendrite.call``, ``call_stream``, ``forward`` (also
``__call__``), ``query``, ``aquery``, ``preprocess_synapse_for_request``,
``process_server_response``, ``process_error_message``, ``session``, ``close_session``,
``aclose_session``; plus ``aclose`` and ``async with``. ``AxonTarget`` is the typed (ip, port,
hotkey) a request goes to.

Deliberate differences from bittensor 10.5.0 (each is a fix of a known bug or cost):

(a) **Status before body.** A non-200 response is never fed to ``process_streaming_response``: its
    body is read (at most 64 KiB) as the error JSON ``{"message": ...}``; a body that is not a JSON
    object is tolerated and its text becomes the message. The status and message are recorded in
    ``synapse.axon`` and mirrored into ``synapse.dendrite``, and nothing is yielded but the final
    synapse. The same tolerant reading applies to non-200 answers of ``call`` (bittensor gives 422
    "Failed to parse response" when such a body is not ``application/json``).
(b) **Deep copies.** ``forward`` gives every axon its own copy of the synapse sharing nothing
    mutable, so list/dict fields are never shared between miners or with the caller's template.
    It is signed as bittensor's shallow ``model_copy()`` and deep-copied right after, so its
    ``total_size`` header is bittensor's too. (``call``/``call_stream`` fill in and return the
    synapse they are given, like bittensor's.)
(c) **First-byte timeout.** ``first_byte_timeout`` (per Dendrite, overridable per call) bounds the
    time until the response headers *and* the first body byte arrived, beside the total
    ``timeout``. Exceeding it gives 408 "Request timeout after {s} seconds waiting for the first
    response byte (first_byte_timeout)". It costs one timer per request, nothing per chunk.
(d) **Stream errors are recorded.** ``StreamError`` from ``synapsegen.runtime.errors``
    (TruncatedStream, FrameTooLarge, MalformedFrame, MinerError, ...) maps to 422
    "Failed to parse response: {message}" (bittensor's default bucket); the synapse records it,
    tokens already yielded stay yielded.
(e) **Bounded history.** ``synapse_history`` is a ``deque`` bounded by ``history_size`` (default 0:
    nothing is kept, and no per-call ``to_headers()`` is paid for it).
(f) **No nonce race.** Nonces are ``time.time_ns()`` forced strictly increasing per Dendrite. A real
    axon rejects a nonce not greater than the last one it accepted for (hotkey, uuid), so two
    concurrent requests to the same axon could still arrive out of order (§8.6). Requests to one
    axon therefore use different uuids while they overlap: the Dendrite's own ``uuid`` for the
    first, extra ``uuid1()`` lanes for concurrent ones (created on demand, reused afterwards).
    Sequential requests always carry ``dendrite.uuid``.
(g) **Connections.** One ``ClientSession`` is kept (keep-alive pool) with ``max_connections``
    connections (bittensor: aiohttp's default 100, so a 256-miner query queued part of its requests
    against their own timeouts). A response whose body was not read to the end, or whose reading
    failed on our side, is closed instead of being returned to the pool. A request that fails on a
    pooled keep-alive connection before any response byte, because the server had closed that
    connection (§9.7: "Can not write request body" after a mid-stream server failure), is retried
    once on a fresh connection with a fresh nonce.
(h) **Nothing looked up on the internet.** ``external_ip`` is a constructor argument (default
    ``"127.0.0.1"``; ``None`` sends no ``bt_header_dendrite_ip``); bittensor calls
    ``get_external_ip()``, which queries external services. IPv6 target addresses are bracketed in
    the URL (bittensor builds a broken URL for them).
(i) **Timing.** ``dendrite.process_time`` is set on failures (and cancellations) too (bittensor
    leaves it None). It starts when the request is sent, after signing: in a fan-out every
    request is signed before any is sent, so no miner's time (nor its first-byte budget)
    includes the signing of the others, and no signing runs while answers arrive.
(j) **Never raises.** A ``deserialize()`` that raises (e.g. a generated model response the miner
    did not send) makes ``call``/``forward`` return, and ``call_stream`` yield last, None; on an
    otherwise successful call the synapse records 422 "Failed to parse response: deserialize()
    failed: ..." (an earlier failure is kept). bittensor raises to the caller.
(k) **Header text.** Response header values are decoded as latin-1, which is what HTTP header
    bytes are (aiohttp decodes UTF-8 and turns other bytes into lone surrogates, so a latin-1
    "Grüß" broke ``model_dump_json()``), and on a non-200 answer the JSON body's ``message``
    wins over the ``bt_header_axon_status_message`` header.
(l) **Fan-out policies.** ``forward(..., policy=FirstK(3))``: ``WaitAll`` (default), ``FirstK``,
    ``Quorum``, ``Deadline``; see ``forward``.
(m) **Schema check.** ``Dendrite(..., check_schema=True)`` reads each axon's manifest once
    (``GET /synapsegen/manifest``, cached) and does not send a request whose class the miner serves
    with another ``schema_hash``: the synapse records 409 "schema mismatch: ..." instead. An axon
    without a manifest (bittensor's answers 404) is called as usual. See ``_schema_check``.

The ``total_size`` header is computed as bittensor's dendrite computes it (its outgoing-request
log line calls ``get_total_size()`` once before ``to_headers()`` does again).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import uuid as uuid_module
from collections import deque
from collections.abc import AsyncGenerator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Final, Protocol

import aiohttp
from pydantic import BaseModel
from yarl import URL

from . import btauth, epistula
from ._closing import AsyncClosing
from ._schema_check import SchemaCheck, manifest_cache
from .errors import FirstByteTimeout, SchemaMismatch, StreamError
from .http_wire import encode_request, error_message, merge_answer
from .signing import VERSION_AS_INT, request_message, sign
from .synapse import (
    StreamingSynapse,
    Synapse,
    TerminalInfo,
    is_bittensor_class,
    mixed_runtimes_error,
    split_terminal_headers,
)
from .transports import BITTENSOR10, BTAUTH, TRANSPORTS

__all__ = [
    "DENDRITE_DEFAULT_ERROR",
    "DENDRITE_ERROR_MAPPING",
    "AxonTarget",
    "Deadline",
    "Dendrite",
    "FanOutPolicy",
    "FirstByteTimeout",
    "FirstK",
    "Quorum",
    "WaitAll",
]

_logger = logging.getLogger(__name__)

# bittensor's table, looked up by EXACT exception type (a subclass falls through to the default).
DENDRITE_ERROR_MAPPING: Final[dict[type[BaseException], tuple[int | None, str]]] = {
    aiohttp.ClientConnectorError: (503, "Service unavailable"),
    asyncio.TimeoutError: (408, "Request timeout"),
    aiohttp.ClientResponseError: (None, "Client response error"),
    aiohttp.ClientPayloadError: (400, "Payload error"),
    aiohttp.ClientError: (500, "Client error"),
    aiohttp.ServerTimeoutError: (504, "Server timeout error"),
    aiohttp.ServerDisconnectedError: (503, "Service disconnected"),
    aiohttp.ServerConnectionError: (503, "Service connection error"),
}
DENDRITE_DEFAULT_ERROR: Final[tuple[int, str]] = (422, "Failed to parse response")

# What asyncio.wait_for raises on expiry: asyncio.TimeoutError, which before Python 3.11 is not
# the builtin TimeoutError (catching only one of them let a first-byte timeout through as a total
# timeout on 3.10).
_WAIT_FOR_TIMEOUTS: Final = (TimeoutError, asyncio.TimeoutError)

# An int of the size (sys.getsizeof) of any total_size value, 257 to 2**30 - 1 (see
# _signed_request); not one of the small ints CPython shares.
_TOTAL_SIZE_STAND_IN: Final = 1 << 20

# Parsed request URLs a Dendrite keeps (see Dendrite._endpoint_url); more axons than this in one
# fan-out would only parse them again, as before the cache.
_MAX_CACHED_URLS: Final = 4096

# Error bodies are small JSON documents; never buffer more than this of one.
_MAX_ERROR_BODY_BYTES: Final = 64 * 1024
_MAX_ERROR_MESSAGE_CHARS: Final = 1024


class HotkeyKeypair(Protocol):
    """What the Dendrite needs of a keypair (``bittensor_wallet.Keypair`` satisfies it)."""

    @property
    def ss58_address(self) -> str: ...

    def sign(self, data: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class AxonTarget:
    """The axon a request goes to: its address and the hotkey the request is signed for."""

    ip: str
    port: int
    hotkey: str

    def __post_init__(self) -> None:
        if not isinstance(self.ip, str) or not self.ip:
            raise ValueError(f"AxonTarget.ip must be a non-empty string, got {self.ip!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ValueError(f"AxonTarget.port must be an int, got {self.port!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"AxonTarget.port must be in 1..65535, got {self.port}")
        if not isinstance(self.hotkey, str):
            raise ValueError(f"AxonTarget.hotkey must be a string, got {self.hotkey!r}")

    @classmethod
    def from_axon_info(cls, info: Any) -> AxonTarget:
        """Build a target from anything with ``ip``, ``port`` and ``hotkey`` attributes.

        Accepts an ``AxonTarget`` (returned as is), a bittensor ``AxonInfo``, or an axon object
        exposing ``info()`` (as ``bittensor.Axon`` does).
        """
        if isinstance(info, AxonTarget):
            return info
        info_method = getattr(info, "info", None)
        if callable(info_method):
            info = info_method()
        try:
            ip, port, hotkey = info.ip, info.port, info.hotkey
        except AttributeError as exc:
            raise TypeError(
                f"an axon target needs ip, port and hotkey attributes; got {type(info).__name__}"
            ) from exc
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        return cls(ip=str(ip), port=port, hotkey=str(hotkey))

    def url_host(self, external_ip: str | None) -> str:
        """``host:port`` for the URL: bittensor's same-machine rule, IPv6 literals bracketed."""
        host = "0.0.0.0" if external_ip is not None and self.ip == external_ip else self.ip
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{host}:{self.port}"


# ----------------------------------------------------------------------------- fan-out policies


class FanOutPolicy(Protocol):
    """When ``Dendrite.forward`` stops waiting for the axons of one call (see its docstring).

    ``forward`` returns as soon as ``successes_needed(number_of_axons)`` answers succeeded
    (status 200), every request finished, or ``deadline`` seconds passed since ``forward`` was
    called, whichever comes first. Requests still running then are cancelled and reported as
    408 with a message naming the policy. ``WaitAll``, ``FirstK``, ``Quorum`` and ``Deadline``
    implement it; any object with these two members does.
    """

    @property
    def deadline(self) -> float | None:
        """Seconds after which the requests still running are cancelled (None: no limit)."""
        ...

    def successes_needed(self, targets: int) -> int:
        """How many successful answers out of ``targets`` are enough."""
        ...


def _check_deadline(deadline: float | None) -> None:
    if deadline is None:
        return
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise TypeError(f"deadline must be a number of seconds or None, got {deadline!r}")
    if not 0 < deadline < float("inf"):
        raise ValueError(f"deadline must be a positive, finite number of seconds, got {deadline}")


@dataclass(frozen=True, slots=True)
class WaitAll:
    """Wait for every axon (the default), or until ``deadline`` seconds have passed."""

    deadline: float | None = None

    def __post_init__(self) -> None:
        _check_deadline(self.deadline)

    def successes_needed(self, targets: int) -> int:
        return targets


@dataclass(frozen=True, slots=True)
class FirstK:
    """Return once ``k`` axons answered successfully (status 200); cancel the others.

    Failed answers (timeouts, 4xx/5xx, refused connections) do not count towards ``k``; when
    fewer than ``k`` can still succeed, ``forward`` returns when every request has finished (or
    at ``deadline``). ``k`` larger than the number of axons means all of them.
    """

    k: int
    deadline: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int):
            raise TypeError(f"FirstK.k must be an int, got {self.k!r}")
        if self.k < 1:
            raise ValueError(f"FirstK.k must be at least 1, got {self.k}")
        _check_deadline(self.deadline)

    def successes_needed(self, targets: int) -> int:
        return min(self.k, targets)


@dataclass(frozen=True, slots=True)
class Quorum:
    """Return once a ``fraction`` of the axons (rounded up) answered successfully.

    ``Quorum(0.5)`` over 7 axons waits for 4 successes. A quorum by count is ``FirstK(count)``.
    Failures count as in ``FirstK``.
    """

    fraction: float
    deadline: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fraction, bool) or not isinstance(self.fraction, (int, float)):
            raise TypeError(f"Quorum.fraction must be a number, got {self.fraction!r}")
        if not 0 < self.fraction <= 1:
            raise ValueError(f"Quorum.fraction must be in (0, 1], got {self.fraction}")
        _check_deadline(self.deadline)

    def successes_needed(self, targets: int) -> int:
        # Rounded to 9 places first: 0.7 * 10 is 7.000000000000001, which must need 7, not 8.
        return math.ceil(round(self.fraction * targets, 9))


@dataclass(frozen=True, slots=True)
class Deadline:
    """Return what arrived within ``seconds`` of calling ``forward``; cancel the rest.

    Unlike ``timeout`` (how long each axon may take, and what it is told in
    ``synapse.timeout``), this bounds the caller's wait for the whole fan-out.
    """

    seconds: float

    def __post_init__(self) -> None:
        _check_deadline(self.seconds)

    @property
    def deadline(self) -> float:
        return self.seconds

    def successes_needed(self, targets: int) -> int:
        return targets


class _StartGate:
    """Holds the requests of one fan-out until every one of them is signed (see (i)).

    Every participant calls ``arrive()`` exactly once (also when its signing failed), then
    awaits ``opened()``.
    """

    __slots__ = ("_opened", "_waiting")

    def __init__(self, participants: int) -> None:
        self._waiting = participants
        self._opened = asyncio.Event()
        if participants <= 0:
            self._opened.set()

    def arrive(self) -> None:
        self._waiting -= 1
        if self._waiting <= 0:
            self._opened.set()

    async def opened(self) -> None:
        await self._opened.wait()


@dataclass(frozen=True, slots=True)
class _Copies:
    """What the requests of one ``forward`` share: the ``template`` each request's synapse is a
    shallow copy of (deep-copied once signed: see _detach_values), the ``body_hash`` of every
    such copy (None: each computes its own; see _shared_body_hash) and, in a fan-out, the
    ``gate`` that holds the requests until all are signed (see (i))."""

    template: Synapse
    body_hash: str | None
    gate: _StartGate | None = None


# What signing a request stamps onto its synapse (see Dendrite._stamp and to_headers).
_STAMPED_FIELDS: Final = frozenset({"timeout", "dendrite", "axon", "total_size"})


def _shared_body_hash(template: Synapse, transport: str) -> str | None:
    """``template.body_hash`` if every copy of ``template`` signed for any axon has that same
    hash, so a fan-out computes it once instead of twice per request; else None.

    That holds when the hash is ``Synapse``'s own over ``model_dump`` (not overridden), none of
    the hashed fields is one that signing stamps (``timeout``, ``dendrite``, ...) or a computed
    field, and no serializer could read another field (a model serializer, or a field serializer
    of a hashed field, gets the whole model). Then the hashed values are the template's own
    objects in every shallow copy. Only bittensor 10's wire signs a body hash.
    """
    cls = type(template)
    fields = set(cls.required_hash_fields)
    if (
        transport != BITTENSOR10
        or cls.body_hash is not Synapse.body_hash
        or cls.model_dump is not BaseModel.model_dump
        or not fields <= cls.model_fields.keys() - _STAMPED_FIELDS
    ):
        return None
    decorators = cls.__pydantic_decorators__
    if decorators.model_serializers or any(
        "*" in serializer.info.fields or fields.intersection(serializer.info.fields)
        for serializer in decorators.field_serializers.values()
    ):
        return None
    try:
        return template.body_hash
    except Exception:  # noqa: BLE001 - each request computes it again and records its failure
        return None


class _FanOut:
    """The requests of one ``forward`` under a fan-out policy (see ``Dendrite._fan_out``).

    Each request counts its own answer at the end of its task (``run``), so the one that
    satisfies the policy stops the fan-out in that same step: the requests still running are
    cancelled at once, and no event-loop turn passes in which answers that arrived meanwhile are
    read and merged only to be reported as cancelled. O(1) per answer, no callbacks.
    """

    __slots__ = ("_needed", "_running", "_stopped", "_successes", "policy", "reason", "tasks")

    def __init__(self, policy: FanOutPolicy, count: int) -> None:
        self.policy = policy
        self.tasks: list[asyncio.Task[None]] = []
        self.reason: str | None = None  # why it stopped early (None: every request finished)
        self._needed = policy.successes_needed(count)
        self._running = count
        self._successes = 0
        self._stopped: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def run(self, exchange: AsyncGenerator[Any, None], synapse: Synapse) -> None:
        """One request's task: ``exchange`` (which fills in ``synapse``), then its count."""
        try:
            await _last_item(exchange)
        finally:
            self._running -= 1
            if not self._stopped.done():
                self._successes += synapse.is_success
                if self._running == 0:
                    self._stop(None)
                elif self._successes >= self._needed:
                    self._stop(f"{self._successes} successful answers were enough")

    def _stop(self, reason: str | None) -> None:
        if self._stopped.done():
            return
        self.reason = reason
        self._stopped.set_result(None)
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()  # does nothing to a finished task

    async def wait(self) -> None:
        """Until the policy is satisfied, every request finished or the deadline passed; then
        until every request cancelled (also when the caller cancels ``forward``) has ended."""
        deadline = self.policy.deadline
        timer = None
        if self.tasks and self._needed <= 0:
            self._stop(f"{self._successes} successful answers were enough")
        elif deadline is not None:
            reason = f"the fan-out deadline of {deadline} seconds passed"
            timer = asyncio.get_running_loop().call_later(deadline, self._stop, reason)
        try:
            if self.tasks:
                await self._stopped
        finally:
            if timer is not None:
                timer.cancel()
            # No request outlives forward(): cancelled ones are waited for (they end at once).
            running = [task for task in self.tasks if not task.done()]
            for task in running:
                task.cancel()
            if running:
                await asyncio.wait(running)


def _record_cancelled(synapse: Synapse, message: str) -> None:
    """Mark a request a fan-out policy cancelled: 408 (``is_timeout``) and ``message``, which
    names the policy and why (see ``_cancelled_message``)."""
    dendrite = _terminal(synapse, "dendrite")
    dendrite.status_code = 408
    dendrite.status_message = message


def _cancelled_message(policy: FanOutPolicy, reason: str) -> str:
    return f"Request cancelled by fan-out policy {policy!r}: {reason}"


class _UuidLanes:
    """Hands out uuids so that requests in flight to the same axon never share one (see (f))."""

    def __init__(self, primary: str) -> None:
        self._uuids = [primary]
        self._in_flight: dict[AxonTarget, set[str]] = {}

    def take(self, target: AxonTarget) -> str:
        """A uuid no request in flight to ``target`` carries; ``give_back`` it when done."""
        busy = self._in_flight.setdefault(target, set())
        lane = next((u for u in self._uuids if u not in busy), None)
        if lane is None:
            lane = str(uuid_module.uuid1())
            self._uuids.append(lane)
        busy.add(lane)
        return lane

    def give_back(self, target: AxonTarget, lane: str) -> None:
        busy = self._in_flight.get(target)
        if busy is not None:
            busy.discard(lane)
            if not busy:
                del self._in_flight[target]


class _FirstByteWatch:
    """One timer per request: fails the body read if no byte arrived by the deadline.

    The timer sets a ``FirstByteTimeout`` on the response's stream (waking the reader with it)
    instead of cancelling the task, so it can never hit the caller's code; once a byte arrived it
    does nothing, so the read path pays nothing per chunk.
    """

    __slots__ = ("_handle", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._handle: asyncio.TimerHandle | None = None

    def arm(self, response: aiohttp.ClientResponse, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        self._handle = loop.call_at(deadline, self._expire, response)

    def _expire(self, response: aiohttp.ClientResponse) -> None:
        self._handle = None
        content = response.content
        if content.total_bytes > 0 or content.at_eof():
            return
        content.set_exception(FirstByteTimeout(self.seconds))

    def disarm(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def _keypair_of(wallet: Any) -> HotkeyKeypair:
    """The hotkey keypair of a ``Keypair`` or of a ``Wallet`` (anything with ``.hotkey``)."""
    if hasattr(wallet, "ss58_address") and callable(getattr(wallet, "sign", None)):
        keypair: HotkeyKeypair = wallet
        return keypair
    hotkey = getattr(wallet, "hotkey", None)
    if hotkey is not None and hasattr(hotkey, "ss58_address"):
        wallet_hotkey: HotkeyKeypair = hotkey
        return wallet_hotkey
    raise TypeError(
        f"Dendrite needs a Keypair or a Wallet with a hotkey, got {type(wallet).__name__}"
    )


class Dendrite(AsyncClosing):
    """Client for bittensor-10 axons (see the module docstring for the deliberate differences).

    Use one Dendrite from one thread; its session follows the event loop it is used in.

    Args:
        wallet: a ``bittensor_wallet.Keypair`` (the hotkey) or a ``Wallet`` (its ``hotkey``).
        external_ip: the IP claimed in ``bt_header_dendrite_ip``; a target with this IP is called
            on 0.0.0.0 (bittensor's same-machine rule). ``None`` claims nothing.
        first_byte_timeout: default limit (seconds) for headers plus first body byte; None = only
            the total timeout applies.
        max_connections: size of the keep-alive connection pool (0 = unlimited).
        history_size: how many past calls ``synapse_history`` keeps (0 = none).
        transport: how requests are signed and sent. ``"bittensor10"`` (the default): bittensor
            10's wire, for axons of bittensor 9/10 and synapsegen. ``"btauth/1"`` (bittensor
            11's signed requests) or ``"epistula/2"``: the HTTP wire (``http_wire``), served by
            synapsegen's Axon next to bittensor 10's on the same routes. The calls, results and
            statuses are the same whichever is chosen.
        check_schema: ``True`` (or a ``SchemaCheck`` with its own limits) to compare each
            miner's schema hash with the synapse class's before the first request to it, and
            refuse a mismatch with 409 without sending it (see (m)). Off by default.
    """

    def __init__(
        self,
        wallet: Any,
        *,
        external_ip: str | None = "127.0.0.1",
        first_byte_timeout: float | None = None,
        max_connections: int = 512,
        history_size: int = 0,
        transport: str = BITTENSOR10,
        check_schema: bool | SchemaCheck = False,
    ) -> None:
        if transport not in TRANSPORTS:
            choices = ", ".join(repr(name) for name in TRANSPORTS)
            raise ValueError(f"transport must be one of {choices}, got {transport!r}")
        if max_connections < 0:
            raise ValueError("max_connections must be >= 0")
        if history_size < 0:
            raise ValueError("history_size must be >= 0")
        _check_timeout("first_byte_timeout", first_byte_timeout)
        self.keypair: HotkeyKeypair = _keypair_of(wallet)
        self.uuid: str = str(uuid_module.uuid1())
        self.external_ip: str | None = external_ip
        self.first_byte_timeout = first_byte_timeout
        self.synapse_history: deque[Synapse] = deque(maxlen=history_size)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._last_nonce = 0
        self._lanes = _UuidLanes(self.uuid)
        self._urls: dict[tuple[AxonTarget, str, str | None], URL] = {}
        self.transport = transport
        self._manifests = manifest_cache(check_schema)

    # ----------------------------------------------------------------------------- session

    @property
    async def session(self) -> aiohttp.ClientSession:
        """The shared aiohttp session (created on first use), as bittensor's ``await d.session``."""
        return self._get_session()

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and self._session_loop is not loop:
            # A session cannot outlive its event loop (e.g. after asyncio.run() returned);
            # its connections died with that loop, so a new session is opened for this one.
            self._session = None
        if self._session is None or self._session.closed:
            self._session_loop = loop
            trace = aiohttp.TraceConfig()
            trace.on_connection_reuseconn.append(_note_connection_reused)
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=0)
            self._session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])
        return self._session

    async def aclose_session(self) -> None:
        """Close the session and its pooled connections (a later call opens a new one)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    aclose = aclose_session

    def close_session(self, using_new_loop: bool = False) -> None:
        """Synchronous close, for code without a running event loop (bittensor's name).

        Inside a running loop the close is scheduled; prefer ``await aclose_session()`` there.
        ``using_new_loop`` is accepted for bittensor compatibility and ignored (this method never
        leaves a loop of its own open).
        """
        session, session_loop = self._session, self._session_loop
        self._session = None
        if session is None or session.closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            task = running.create_task(session.close())
            self._closing.add(task)  # keep a reference until it is done
            task.add_done_callback(self._closing.discard)
        elif session_loop is not None and not session_loop.is_closed():
            session_loop.run_until_complete(session.close())
        else:
            try:  # its loop is gone (asyncio.run returned): close what is left in a new one
                asyncio.run(session.close())
            except Exception as exc:  # noqa: BLE001 - best effort, nothing to report to
                _logger.debug("closing a session whose event loop is gone: %r", exc)

    async def __aenter__(self) -> Dendrite:
        return self

    def __str__(self) -> str:
        return f"dendrite({self.keypair.ss58_address})"

    __repr__ = __str__

    # ----------------------------------------------------------------------------- requests

    def _next_nonce(self) -> int:
        nonce = time.time_ns()
        if nonce <= self._last_nonce:
            nonce = self._last_nonce + 1
        self._last_nonce = nonce
        return nonce

    def _endpoint_url(self, target: AxonTarget, request_name: str) -> URL:
        """``http://{host}:{port}/{request_name}``, parsed once per axon and request name (a
        fan-out to hundreds of axons thrashes yarl's own cache of parsed URLs)."""
        key = (target, request_name, self.external_ip)
        url = self._urls.get(key)
        if url is None:
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            url = self._urls[key] = URL(
                f"http://{target.url_host(self.external_ip)}/{request_name}"
            )
        return url

    def preprocess_synapse_for_request(
        self,
        target_axon_info: Any,
        synapse: Synapse,
        timeout: float = 12.0,
        *,
        uuid: str | None = None,
    ) -> Synapse:
        """Stamp timeout, dendrite and axon terminal info and the signature onto ``synapse``.

        ``uuid`` defaults to the Dendrite's own (see (f) for when another one is used).
        """
        target = AxonTarget.from_axon_info(target_axon_info)
        return self._stamp(target, synapse, timeout, uuid or self.uuid, None)

    def _stamp(
        self,
        target: AxonTarget,
        synapse: Synapse,
        timeout: float,
        lane: str,
        body_hash: str | None,
    ) -> Synapse:
        """``preprocess_synapse_for_request``; ``body_hash``, when given, is ``synapse.body_hash``
        computed once for every copy of a template (see _shared_body_hash)."""
        nonce, hotkey = self._next_nonce(), self.keypair.ss58_address
        synapse.timeout = timeout
        dendrite = TerminalInfo(
            ip=self.external_ip, version=VERSION_AS_INT, nonce=nonce, uuid=lane, hotkey=hotkey
        )
        synapse.dendrite = dendrite
        synapse.axon = TerminalInfo(ip=target.ip, port=target.port, hotkey=target.hotkey)
        if body_hash is None:
            body_hash = synapse.body_hash
        message = request_message(nonce, hotkey, target.hotkey, lane, body_hash)
        # Assign on the synapse's own object (pydantic may have copied ``dendrite``).
        _terminal(synapse, "dendrite").signature = sign(self.keypair, message)
        return synapse

    def _signed_request(
        self,
        target: AxonTarget,
        synapse: Synapse,
        timeout: float,
        lane: str,
        body_hash: str | None = None,
    ) -> tuple[dict[str, str], dict[str, Any] | bytes]:
        """Stamp and sign ``synapse``; return the request headers and the JSON body (bittensor
        10's wire: the body as a dict, serialized by aiohttp as bittensor's dendrite does; the
        HTTP wire: the exact bytes that were signed). ``body_hash``: see ``_stamp``."""
        if self.transport != BITTENSOR10:
            return self._signed_http_request(target, synapse, timeout, lane)
        self._stamp(target, synapse, timeout, lane, body_hash)
        # bittensor's dendrite computes get_total_size() once (for its outgoing-request log line)
        # before to_headers() computes it again, so what it sends counts the int the first walk
        # stored. Any int of the same size counts the same: storing a stand-in gives bittensor's
        # value with one walk (in to_headers) instead of two.
        synapse.total_size = _TOTAL_SIZE_STAND_IN
        headers = synapse.to_headers()  # before model_dump: it refreshes total_size
        return headers, synapse.model_dump()

    def _signed_http_request(
        self, target: AxonTarget, synapse: Synapse, timeout: float, lane: str
    ) -> tuple[dict[str, str], bytes]:
        """The HTTP wire's request: the request fields as JSON, signed per ``self.transport``."""
        synapse.timeout = timeout
        hotkey = self.keypair.ss58_address
        synapse.dendrite = TerminalInfo(
            ip=self.external_ip, version=VERSION_AS_INT, uuid=lane, hotkey=hotkey
        )
        synapse.axon = TerminalInfo(ip=target.ip, port=target.port, hotkey=target.hotkey)
        body = encode_request(synapse)
        path = f"/{type(synapse).__name__}"
        signer: Any = self.keypair
        if self.transport == BTAUTH:
            nonce = self._next_nonce()
            receiver = target.hotkey
            auth = btauth.sign_request(
                signer, method="POST", target=path, body=body, receiver=receiver, nonce_ns=nonce
            )
        else:
            nonce = time.time_ns()
            auth = epistula.sign_request(signer, body=body, receiver=target.hotkey)
        _terminal(synapse, "dendrite").nonce = nonce
        return {"Content-Type": "application/json", **auth}, body

    async def _send(
        self,
        target: AxonTarget,
        synapse: Synapse,
        timeout: float,
        lane: str,
        watch: _FirstByteWatch | None,
        started: float,
        signed: tuple[dict[str, str], dict[str, Any] | bytes],
    ) -> aiohttp.ClientResponse:
        """POST the ``signed`` request; returns the response once its headers arrived.

        See (c) and (g); a retry is signed again, with a fresh nonce.
        """
        url = self._endpoint_url(target, type(synapse).__name__)
        session = self._get_session()
        for attempt in (1, 2):
            if attempt == 2:
                signed = self._signed_request(target, synapse, timeout, lane)
            headers, body = signed
            trace_ctx = SimpleNamespace(reused=False)
            # A retry gets only what is left of the total timeout.
            remaining_total = max(started + timeout - time.monotonic(), 0.001)
            request = session.post(
                url,
                headers=headers,
                **({"data": body} if isinstance(body, bytes) else {"json": body}),
                timeout=aiohttp.ClientTimeout(total=remaining_total),
                trace_request_ctx=trace_ctx,
            )
            try:
                if watch is None:
                    return await request
                deadline = started + watch.seconds
                try:
                    return await asyncio.wait_for(request, max(deadline - time.monotonic(), 0.0))
                except _WAIT_FOR_TIMEOUTS as exc:
                    if time.monotonic() < deadline:
                        raise  # aiohttp's own (total) timeout
                    raise FirstByteTimeout(watch.seconds) from exc
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # A pooled connection the server had already closed: the request never reached
                # it, so one retry on a fresh connection is safe (see (g)).
                if attempt == 2 or not trace_ctx.reused:
                    raise
                _logger.debug("retrying %s on a fresh connection after %r", url, exc)
        raise AssertionError("unreachable")

    async def call(
        self,
        target_axon: Any,
        synapse: Synapse | None = None,
        timeout: float | None = None,
        deserialize: bool = True,
        *,
        first_byte_timeout: float | None = None,
    ) -> Any:
        """Send one non-streaming request; fill in and return ``synapse`` (or its deserialize()).

        ``timeout`` (seconds) defaults to the synapse's own (its class default: 12, or what its
        schema sets).

        Never raises for transport or parse failures: they are recorded in
        ``synapse.dendrite.status_code/status_message`` (§12). Neither does a ``deserialize()``
        that raises: see (j). A ``synapse`` that is not a ``synapsegen.runtime`` one (e.g. a
        bittensor synapse) is refused with ``TypeError`` before any request.
        """
        synapse = _own_synapse(synapse, "Dendrite.call")
        exchange = self._exchange(
            target_axon,
            synapse,
            _timeout_of(synapse, timeout),
            first_byte_timeout,
            stream=False,
            result=deserialize,
        )
        return await _last_item(exchange)

    def call_stream(
        self,
        target_axon: Any,
        synapse: Synapse | None = None,
        timeout: float | None = None,
        deserialize: bool = True,
        *,
        first_byte_timeout: float | None = None,
    ) -> AsyncGenerator[Any, None]:
        """Send one streaming request; yield what ``process_streaming_response`` yields, then the
        filled-in synapse (or its deserialize()) as the last item. ``timeout`` defaults to the
        synapse's own.

        A non-200 answer yields only that last item (see (a)). Failures never raise; they are
        recorded in ``synapse.dendrite`` (§12), after the tokens already yielded. A
        ``deserialize()`` that raises is recorded too, and None is the last item (see (j)).
        Closing the generator (``aclose``, or ``contextlib.aclosing``) gives its connection and
        lane back at once, not at garbage collection. A ``synapse`` that is not a
        ``synapsegen.runtime`` one is refused with ``TypeError`` here, before any request.
        """
        synapse = _own_synapse(synapse, "Dendrite.call_stream")
        seconds = _timeout_of(synapse, timeout)
        return self._exchange(
            target_axon, synapse, seconds, first_byte_timeout, stream=True, result=deserialize
        )

    def _result(self, synapse: Synapse, deserialize: bool) -> Any:
        """``synapse.deserialize()`` (or the synapse itself); a deserialize() that raises gives
        None and, on an otherwise successful call, a 422 status naming the error (see (j))."""
        if not deserialize:
            return synapse
        try:
            return synapse.deserialize()
        except Exception as exc:  # noqa: BLE001 - a miner's bad answer must not raise in the caller
            _logger.debug("%s.deserialize() failed: %r", type(synapse).__name__, exc)
            if synapse.is_success:  # an earlier failure (timeout, 4xx/5xx) says more: keep it
                status_code, label = DENDRITE_DEFAULT_ERROR
                dendrite = _terminal(synapse, "dendrite")
                dendrite.status_code = status_code
                dendrite.status_message = f"{label}: deserialize() failed: {exc}"
            return None

    async def _exchange(
        self,
        target_axon: Any,
        synapse: Synapse,
        timeout: float,
        first_byte_timeout: float | None,
        *,
        stream: bool,
        copies: _Copies | None = None,
        result: bool | None = None,
    ) -> AsyncGenerator[Any, None]:
        """One request and its answer, shared by ``call``, ``call_stream`` and ``forward``.

        Yields the items of ``process_streaming_response`` when ``stream`` (nothing otherwise),
        then fills in ``synapse`` from the answer or from the failure; with ``result`` not None,
        yields last ``self._result(synapse, result)`` (``call_stream``'s last item). With
        ``copies`` (``forward``), ``synapse`` is a shallow copy of ``copies.template``, deep-copied
        once signed; with ``copies.gate`` (fan-out), the request then waits until every request
        of the fan-out is signed, so no signing runs while answers arrive; its timing starts only
        then (see (i)).
        """
        _check_timeout("timeout", timeout)
        target = AxonTarget.from_axon_info(target_axon)
        request_name = type(synapse).__name__
        started = time.monotonic()
        watch = self._first_byte_watch(first_byte_timeout, timeout)
        response: aiohttp.ClientResponse | None = None
        gate = None if copies is None else copies.gate
        lane = self._lanes.take(target)
        try:
            try:
                try:
                    if copies is None:
                        signed = self._signed_request(target, synapse, timeout, lane)
                    else:
                        try:
                            signed = self._signed_request(
                                target, synapse, timeout, lane, copies.body_hash
                            )
                        finally:  # also when signing failed: the copy is returned all the same
                            _detach_values(synapse, copies.template)
                finally:
                    if gate is not None:
                        gate.arrive()  # also when signing failed: the others must not wait on it
                if gate is not None:
                    await gate.opened()
                if self._manifests is not None:  # (m): raises SchemaMismatch, a 409
                    host = target.url_host(self.external_ip)
                    await self._manifests.verify(
                        self._get_session(), host, target.hotkey, type(synapse), timeout
                    )
                # Timing (process_time, the first-byte budget) starts when this request does,
                # not when its task was scheduled or while other requests were being signed.
                started = time.monotonic()
                response = await self._send(target, synapse, timeout, lane, watch, started, signed)
                if watch is not None:
                    watch.arm(response, _loop_deadline(started, watch.seconds))
                http_wire = self.transport != BITTENSOR10
                json_response: Any = None
                if response.status != 200:
                    json_response = await _read_error_json(response)
                elif stream:
                    # Duck-typed like bittensor: a plain Synapse fails here (AttributeError, 422).
                    streaming_synapse: Any = synapse
                    async for item in streaming_synapse.process_streaming_response(response):
                        yield item
                    # The HTTP wire's stream carries no synapse headers: nothing to rebuild.
                    if not http_wire:
                        json_response = streaming_synapse.extract_response_json(response)
                else:
                    json_response = await response.json()
                if http_wire:
                    _merge_http_answer(response.status, json_response, synapse, stream)
                else:
                    self.process_server_response(response, json_response, synapse)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a status, as in bittensor
                self.process_error_message(synapse, request_name, exc)
                if response is not None:
                    response.close()  # never pool a connection in an unknown state
            except BaseException:
                # Cancelled (a fan-out policy, or the caller): the timing is still recorded.
                _terminal(synapse, "dendrite").process_time = time.monotonic() - started
                raise
            finally:
                if watch is not None:
                    watch.disarm()
                if response is not None:
                    # A body the subclass stopped reading early is closed, not pooled (aiohttp).
                    response.release()
        finally:
            self._lanes.give_back(target, lane)
        _terminal(synapse, "dendrite").process_time = time.monotonic() - started
        self._remember(synapse)
        if result is not None:
            yield self._result(synapse, result)

    async def forward(
        self,
        axons: Any,
        synapse: Synapse | None = None,
        timeout: float | None = None,
        deserialize: bool = True,
        run_async: bool = True,
        streaming: bool = False,
        *,
        first_byte_timeout: float | None = None,
        policy: FanOutPolicy | None = None,
    ) -> Any:
        """Query one axon (returns its result) or a list of axons (returns a list, in order).

        Each axon gets its own deep copy of ``synapse``. With a StreamingSynapse (or
        ``streaming=True``) the results are ``call_stream`` generators, not awaited. ``timeout``
        defaults to the synapse's own (12 seconds, or what its schema sets).

        Fan-out: ``policy`` says when to stop waiting (non-streaming calls with ``run_async``):

        - ``WaitAll()`` (the default): every axon answers or fails (its ``timeout``);
        - ``FirstK(k)``: ``k`` axons answered successfully;
        - ``Quorum(fraction)``: that fraction of the axons, rounded up, answered successfully;
        - ``Deadline(seconds)``: whatever finished within ``seconds`` of this call; the other
          policies take a ``deadline=`` too (``FirstK(3, deadline=2.0)``).

        The result always has one entry per axon, in order. Requests still running when the
        policy is satisfied are cancelled (their connections closed) and their synapses report
        status 408 (``is_timeout``) with "Request cancelled by fan-out policy FirstK(k=3, ...):
        3 successful answers were enough" (or "... the fan-out deadline of 2.0 seconds passed").
        The answer that satisfies the policy cancels the others at once, so ``FirstK(3)`` gives
        exactly 3 successes: an answer that arrived in the same instant but was not read yet is
        cancelled too. ``forward`` returns once every cancelled request has ended.

        Every request of one fan-out is signed before any is sent, and each request's
        ``dendrite.process_time`` (and its first-byte budget) starts when it is sent, so a
        miner's time does not include the signing of the others (see (i)).

        Raises ``TypeError``/``ValueError`` for a bad axon, timeout or policy, ``TypeError`` for a
        synapse that is not a ``synapsegen.runtime`` one (a bittensor synapse), and
        ``ValueError`` for a policy other than ``WaitAll()`` with streaming or ``run_async=False``.
        """
        template = _own_synapse(synapse, "Dendrite.forward")
        timeout = _timeout_of(template, timeout)
        many = isinstance(axons, (list, tuple))
        targets = [AxonTarget.from_axon_info(axon) for axon in (axons if many else [axons])]
        _check_timeout("timeout", timeout)
        self._first_byte_watch(first_byte_timeout, timeout)  # validates it before any request
        is_streaming_class = isinstance(template, StreamingSynapse)
        if streaming != is_streaming_class:
            _logger.warning(
                "streaming=%s but %s is%s a StreamingSynapse; streaming=%s is used",
                streaming,
                type(template).__name__,
                "" if is_streaming_class else " not",
                streaming or is_streaming_class,
            )
        streaming = streaming or is_streaming_class
        policy = _checked_policy(policy, streaming=streaming, run_async=run_async)
        # Shallow copies, detached (deep-copied) right after signing: see _detach_values.
        copies = [template.model_copy() for _ in targets]
        shared = _Copies(template, _shared_body_hash(template, self.transport))
        results: list[Any]
        if streaming:
            results = [
                self._exchange(
                    target,
                    copy,
                    timeout,
                    first_byte_timeout,
                    stream=True,
                    copies=shared,
                    result=deserialize,
                )
                for target, copy in zip(targets, copies, strict=True)
            ]
        else:
            if run_async:
                await self._fan_out(targets, copies, timeout, first_byte_timeout, policy, shared)
            else:
                for target, copy in zip(targets, copies, strict=True):
                    await _last_item(
                        self._exchange(
                            target, copy, timeout, first_byte_timeout, stream=False, copies=shared
                        )
                    )
            results = [self._result(copy, deserialize) for copy in copies]
        return results if many else results[0]

    async def _fan_out(
        self,
        targets: Sequence[AxonTarget],
        synapses: Sequence[Synapse],
        timeout: float,
        first_byte_timeout: float | None,
        policy: FanOutPolicy,
        shared: _Copies,
    ) -> None:
        """Call every target concurrently under ``policy``, filling in ``synapses`` (shallow
        copies of ``shared.template``) in place; the requests the policy no longer waits for are
        cancelled and recorded as such."""
        copies = _Copies(shared.template, shared.body_hash, _StartGate(len(targets)))
        fan_out = _FanOut(policy, len(targets))
        fan_out.tasks = [
            asyncio.create_task(
                fan_out.run(
                    self._exchange(
                        target, synapse, timeout, first_byte_timeout, stream=False, copies=copies
                    ),
                    synapse,
                )
            )
            for target, synapse in zip(targets, synapses, strict=True)
        ]
        await fan_out.wait()
        message = _cancelled_message(policy, fan_out.reason or "cancelled")  # once, not per request
        for task, synapse in zip(fan_out.tasks, synapses, strict=True):
            if task.cancelled():
                _record_cancelled(synapse, message)
            else:
                task.exception()  # retrieved (exchanges record their failures; never raised)

    __call__ = forward

    async def aquery(self, *args: Any, **kwargs: Any) -> Any:
        """``forward(*args, **kwargs)``, then close the session (bittensor's ``aquery``, which
        passes its arguments on the same way)."""
        try:
            return await self.forward(*args, **kwargs)
        finally:
            await self.aclose_session()

    def query(self, *args: Any, **kwargs: Any) -> Any:
        """Synchronous ``forward(*args, **kwargs)`` in a fresh event loop, closing the session
        afterwards (bittensor's ``query``)."""
        return asyncio.run(self.aquery(*args, **kwargs))

    # ----------------------------------------------------------------------------- responses

    def process_server_response(
        self,
        server_response: aiohttp.ClientResponse,
        json_response: Any,
        local_synapse: Synapse,
    ) -> None:
        """Merge a server answer into ``local_synapse`` exactly as bittensor does (§11.3).

        On 200 every field is copied from ``type(local)(**json_response)`` (frozen fields refuse
        the assignment and keep the client's value); otherwise the status and the JSON
        ``message`` go to ``local.axon``. Then the response headers' terminal infos overlay the
        local ones (non-None values win, written to ``__dict__`` like bittensor), and the axon
        status is mirrored into the dendrite status.

        Two fixes (see (k)): header values are decoded as latin-1 from the raw header bytes
        (aiohttp decodes them as UTF-8 and turns other bytes into lone surrogates, which
        ``model_dump_json()`` then refuses), and on a non-200 answer a JSON ``message`` wins over
        the ``bt_header_axon_status_message`` header (bittensor lets the header win).
        """
        message: Any = None
        if server_response.status == 200:
            server_synapse = type(local_synapse)(**json_response)
            for name, field in type(local_synapse).model_fields.items():
                if field.exclude:
                    continue
                # A frozen field refuses the assignment and keeps the local value.
                with contextlib.suppress(Exception):
                    setattr(local_synapse, name, getattr(server_synapse, name))
        else:
            axon = _terminal(local_synapse, "axon")
            axon.status_code = server_response.status
            message = json_response.get("message") if isinstance(json_response, dict) else None
            axon.status_message = message

        header_parts = split_terminal_headers(_latin1_headers(server_response))
        local_dendrite = _terminal(local_synapse, "dendrite")
        local_axon = _terminal(local_synapse, "axon")
        for local_info, header_values in (
            (local_dendrite, header_parts["dendrite"]),
            (local_axon, header_parts["axon"]),
        ):
            # Values are already validated (a malformed one is dropped); like bittensor, write
            # __dict__ directly so the overlay cannot fail half-way.
            local_info.__dict__.update(
                {name: value for name, value in header_values.items() if value is not None}
            )
        if isinstance(message, str):
            local_axon.status_message = message  # the body's own words, not the header's copy

        local_dendrite.status_code = local_axon.status_code
        local_dendrite.status_message = local_axon.status_message

    def process_error_message(
        self, synapse: Synapse, request_name: str, exception: BaseException
    ) -> Synapse:
        """Record a failure in ``synapse.dendrite`` with bittensor's codes and messages (§12)."""
        _logger.debug("%s to %s failed: %r", request_name, synapse.axon, exception)
        dendrite = _terminal(synapse, "dendrite")
        if isinstance(exception, SchemaMismatch):  # not sent (see (m))
            dendrite.status_code, dendrite.status_message = exception.status, str(exception)
            return synapse
        if isinstance(exception, FirstByteTimeout):
            dendrite.status_code = 408
            dendrite.status_message = (
                f"Request timeout after {exception.seconds} seconds waiting for the first "
                "response byte (first_byte_timeout)"
            )
            return synapse
        status_code: int | None
        if isinstance(exception, StreamError):
            status_code, label = DENDRITE_DEFAULT_ERROR
        else:
            status_code, label = DENDRITE_ERROR_MAPPING.get(type(exception), DENDRITE_DEFAULT_ERROR)
        if status_code is None and isinstance(exception, aiohttp.ClientResponseError):
            status_code = exception.status
        if status_code is not None:
            dendrite.status_code = status_code
        if isinstance(exception, aiohttp.ClientConnectorError):
            axon = synapse.axon
            ip, port = (axon.ip, axon.port) if axon is not None else (None, None)
            dendrite.status_message = f"{label} at {ip}:{port}/{request_name}"
        elif isinstance(exception, asyncio.TimeoutError):
            dendrite.status_message = f"{label} after {synapse.timeout} seconds"
        else:
            dendrite.status_message = f"{label}: {exception}"
        return synapse

    # ----------------------------------------------------------------------------- helpers

    def _first_byte_watch(
        self, per_call: float | None, total_timeout: float
    ) -> _FirstByteWatch | None:
        seconds = per_call if per_call is not None else self.first_byte_timeout
        _check_timeout("first_byte_timeout", seconds)
        if seconds is None or seconds >= total_timeout:
            return None  # the total timeout fires first anyway
        return _FirstByteWatch(seconds)

    def _remember(self, synapse: Synapse) -> None:
        if self.synapse_history.maxlen:
            self.synapse_history.append(
                Synapse(
                    timeout=synapse.timeout,
                    dendrite=synapse.dendrite.model_copy() if synapse.dendrite else None,
                    axon=synapse.axon.model_copy() if synapse.axon else None,
                )
            )


def _merge_http_answer(status: int, answer: Any, synapse: Synapse, streamed: bool) -> None:
    """The HTTP wire's answer into ``synapse``: a plain answer's response fields (all or none),
    the status in ``synapse.axon``, mirrored into ``synapse.dendrite`` (as bittensor 10's)."""
    axon, dendrite = _terminal(synapse, "axon"), _terminal(synapse, "dendrite")
    if status == 200:
        if not streamed:
            merge_answer(synapse, answer)
        axon.status_code, axon.status_message = 200, "Success"
    else:
        axon.status_code, axon.status_message = status, error_message(answer, status)
    dendrite.status_code, dendrite.status_message = axon.status_code, axon.status_message


async def _last_item(exchange: AsyncGenerator[Any, None]) -> Any:
    """Run ``exchange`` to its end, closing it also when cancelled; its last item (None if it
    yielded nothing)."""
    last = None
    async with contextlib.aclosing(exchange):
        async for item in exchange:
            last = item
    return last


def _own_synapse(synapse: Synapse | None, where: str) -> Synapse:
    """The synapse a request is made of: ``synapse``, or a plain ``Synapse()`` if None.

    Anything but a ``synapsegen.runtime`` synapse is refused before any request: a bittensor
    synapse would be sent, and come back as 422 with pydantic's complaint about ``TerminalInfo``.
    """
    if synapse is None:
        return Synapse()
    if isinstance(synapse, Synapse):
        return synapse
    if is_bittensor_class(type(synapse)):
        raise mixed_runtimes_error(type(synapse), Dendrite, where)
    raise TypeError(f"{where} needs a synapsegen.runtime Synapse, got {type(synapse).__name__}")


def _checked_policy(
    policy: FanOutPolicy | None, *, streaming: bool, run_async: bool
) -> FanOutPolicy:
    """``policy`` (``WaitAll()`` if None), refused where it cannot apply."""
    if policy is None:
        return WaitAll()
    if not callable(getattr(policy, "successes_needed", None)) or not hasattr(policy, "deadline"):
        raise TypeError(f"policy must be a FanOutPolicy (e.g. FirstK(3)), got {policy!r}")
    if policy != WaitAll():
        if streaming:
            raise ValueError(
                "fan-out policies apply to non-streaming calls; streaming forward() returns "
                "generators the caller consumes"
            )
        if not run_async:
            raise ValueError("fan-out policies need run_async=True (requests run concurrently)")
    return policy


# Values deepcopy() returns as they are; not worth a call (exact types: a subclass may be mutable).
_IMMUTABLE_ATOMS: Final = frozenset({str, int, float, bool, bytes, type(None)})
_NOT_SHARED: Final = object()


def _detach_values(synapse: Synapse, template: Synapse) -> None:
    """Replace the values of ``synapse`` (a shallow copy of ``template``, forward's) by deep
    copies, in place, so that it shares nothing mutable with the template or the other axons'
    copies.

    Called right after signing: the shallow copy is what bittensor's forward signs and measures,
    so ``total_size`` is the same as bittensor's; replacing values in place keeps the instance
    dict as it was (see (b)). Only the values still shared with the template are copied: those
    signing put there (the ``dendrite`` and ``axon`` infos, ``timeout``, ``total_size``) are this
    copy's own already, and immutable atoms (str, int, ...) need no copy.
    """
    memo: dict[int, Any] = {}
    values = synapse.__dict__
    shared = template.__dict__
    for name, value in values.items():
        if type(value) not in _IMMUTABLE_ATOMS and value is shared.get(name, _NOT_SHARED):
            values[name] = deepcopy(value, memo)
    for slot in ("__pydantic_extra__", "__pydantic_private__"):
        more = getattr(synapse, slot)
        if more:
            object.__setattr__(synapse, slot, deepcopy(more, memo))


def _latin1_headers(response: aiohttp.ClientResponse) -> dict[str, str]:
    """The response headers decoded as latin-1, which is what HTTP header bytes are (the last
    of repeated names wins, as in ``split_terminal_headers``)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in response.raw_headers}


async def _note_connection_reused(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceConnectionReuseconnParams,
) -> None:
    request_ctx = getattr(context, "trace_request_ctx", None)
    if request_ctx is not None:
        request_ctx.reused = True


def _terminal(synapse: Synapse, side: str) -> TerminalInfo:
    """``synapse.dendrite`` or ``synapse.axon``, created first if it is None."""
    info: TerminalInfo | None = getattr(synapse, side)
    if info is None:
        setattr(synapse, side, TerminalInfo())
        info = getattr(synapse, side)
        assert info is not None
    return info


DEFAULT_TIMEOUT = 12.0
"""Seconds a call may take when neither the call nor the synapse says (bittensor's default)."""


def _timeout_of(synapse: Synapse, timeout: float | None) -> float:
    """The call's timeout: the one given, else the synapse's own.

    bittensor's Dendrite always sends its argument's default (12 s); here a schema's per-class
    ``timeout`` (the synapse's field default) holds unless the caller says otherwise.
    """
    if timeout is not None:
        return timeout
    return synapse.timeout if synapse.timeout is not None else DEFAULT_TIMEOUT


def _check_timeout(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _loop_deadline(started_monotonic: float, seconds: float) -> float:
    """Convert a ``time.monotonic()`` start plus seconds into the running loop's clock."""
    loop = asyncio.get_running_loop()
    return loop.time() + (started_monotonic + seconds - time.monotonic())


async def _read_error_json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    """Read a non-200 body as ``{"message": ...}``, tolerating non-JSON and oversized bodies."""
    chunks: list[bytes] = []
    size = 0
    while size < _MAX_ERROR_BODY_BYTES:
        chunk = await response.content.read(_MAX_ERROR_BODY_BYTES - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    raw = b"".join(chunks)
    try:
        parsed = json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", errors="replace").strip()
        return {"message": text[:_MAX_ERROR_MESSAGE_CHARS] or None}
    if isinstance(parsed, dict):
        return parsed
    return {"message": None}
