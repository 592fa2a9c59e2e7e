"""The Axon's ASGI application: bittensor's axon middleware and route, as one plain ASGI callable.

Request pipeline, in bittensor 10's order (``wire_protocol.md`` §9-§10):

0. two public documents, answered before anything else and without a signature:
   ``GET /openapi.json`` (the HTTP-era routes) and ``GET /synapsegen/manifest`` (every route
   with its schema hash; another method: 405). No class can be named like either path.
1. route lookup by path (``/<ClassName>``)                     unknown: 404, bare ``Synapse``
2. header-side synapse ``Class.from_headers(headers)``           failure: 500 ``Internal Server
   Error #<uuid4>``, bare ``Synapse``
3. stamp it: axon version/uuid/nonce/status 100, dendrite ip/port = TCP peer, axon signature
4. ``blacklist_fn``                                              ``(True, r)``: 403
5. ``verify_fn`` or the default nonce + signature check          any exception: 401
6. ``priority_fn``, then a slot of the priority gate             timeout waiting: 408
   (the body is read before the slot is taken, within min(timeout, body_timeout): 408 after)
7. body: JSON content type, JSON syntax, ``Class(**body)``, body hash == header hash
                                                                 422 (FastAPI shape) for bad JSON,
                                                                 500 for everything else
8. ``forward_fn(body_synapse)``                                  raises: 500
9. response: a ``Synapse`` becomes compact JSON, a ``BTStreamingResponse`` is streamed

Steps 4-6 see the synapse built from *headers* (required fields hold empty placeholders); only
``forward_fn`` gets the synapse parsed from the *body*, as in bittensor. Errors are
``{"message": ...}`` JSON with the header-side synapse's ``to_headers()``.

No starlette middleware is involved: the streaming path hands uvicorn's ``send`` straight to the
token streamer, so each chunk costs one ``send`` and nothing else.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import math
import time
import uuid as uuid_module
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bittensor_wallet import Keypair
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ._axon_forward import (
    Hook,
    call_hook,
    fill_success,
    finite_or_none,
    tokens_as_response,
    valid_response_status,
)
from ._axon_guards import PriorityGate
from ._axon_http import (
    RawHeaders,
    encode_headers,
    fastapi_json_error,
    is_json_content_type,
    json_bytes,
    read_body,
    run_lifespan,
    sanitize_header_value,
    send_json,
    wait_for_disconnect,
)
from ._axon_http_wire import serve_http_wire
from ._axon_limits import RateLimitedLogger, connection_control
from .errors import BodyTooLarge, ClientDisconnected, Rejected, StreamAborted
from .manifest import MANIFEST_PATH, manifest_document
from .openapi import DOCUMENT_PATH as OPENAPI_PATH
from .openapi import openapi_document
from .replay import ReplayStore
from .signing import VERSION_AS_INT, axon_message, request_message, sign, verify_or_raise
from .streaming import sends_only_bytes
from .synapse import BTStreamingResponse, Synapse, TerminalInfo
from .transports import BITTENSOR10, DEFAULT_SERVED

if TYPE_CHECKING:
    from ._auth import RequestVerifier

__all__ = ["AxonApp", "Route"]

# Per-request messages, at most once per interval each: a flood of bad requests must not flood
# the log.
logger = RateLimitedLogger(logging.getLogger("synapsegen.runtime.axon"))

# bittensor/utils/axon_utils.py
ALLOWED_DELTA_NS = 4_000_000_000
NANOSECONDS_IN_SECOND = 1_000_000_000

# How long a cancelled token streamer may take to clean up before the stream is ended anyway.
_STREAMER_CANCEL_GRACE = 1.0
# A send due at the stream's deadline still gets this long (the client may just be slow).
_SEND_GRACE = 0.5


@dataclass(frozen=True)
class Route:
    """One attached synapse class and its handlers (``verify`` None: the default check)."""

    synapse_class: type[Synapse]
    forward: Hook
    blacklist: Hook | None = None
    priority: Hook | None = None
    verify: Hook | None = None
    transports: frozenset[str] = DEFAULT_SERVED
    """The transports served (``transports.TRANSPORTS``)."""


def _adopt_verified(body_synapse: Synapse, synapse: Synapse) -> None:
    """Give the body-parsed synapse the signer's identity and timeout from the checked headers.

    The JSON body is covered by the signature only through ``required_hash_fields``: its
    ``dendrite`` block and ``timeout`` are whatever the client wrote. bittensor hands them to
    ``forward_fn`` as they are, so any signer could claim another validator's hotkey there. Here
    the values the hooks saw and the verification accepted (the headers) replace them, and a
    non-finite timeout never reaches ``forward_fn`` (a ``NaN`` made ``stream_response`` raise).
    """
    verified = synapse.dendrite
    if verified is not None:
        if body_synapse.dendrite is None:
            body_synapse.dendrite = TerminalInfo()
        # __dict__ like _stamp: the values were validated when the header synapse was built.
        body_synapse.dendrite.__dict__.update(
            hotkey=verified.hotkey,
            nonce=verified.nonce,
            uuid=verified.uuid,
            signature=verified.signature,
        )
    timeout = finite_or_none(synapse.timeout)
    body_synapse.timeout = timeout if timeout is not None else finite_or_none(body_synapse.timeout)


class StreamEnd(enum.Enum):
    """How a streamed response's body ended."""

    COMPLETE = "the streamer returned"
    FAILED = "the streamer raised"
    CUT = "cut at the stream's deadline"
    STALLED = "the client stopped reading"
    GONE = "the client disconnected"


async def _send_before(send: Send, message: Message, deadline: float | None) -> bool:
    """``send(message)``, given until ``deadline`` (loop time; None: no limit) plus a short
    grace; False if it could not be sent in time (the client is not reading)."""
    if deadline is None:
        await send(message)
        return True
    remaining = max(0.0, deadline - asyncio.get_running_loop().time()) + _SEND_GRACE
    try:
        await asyncio.wait_for(send(message), remaining)
    except asyncio.TimeoutError:  # a distinct class before Python 3.11
        return False
    return True


def _bytes_only(send: Send) -> Send:
    """``send`` refusing a body that is not bytes (a ``str`` body is a streamer bug).

    bittensor's axon fails such a response; uvicorn would fail it mid-write. Raising here makes
    the streamer fail cleanly, so the stream ends incomplete instead of looking like success.
    """

    async def checked(message: Message) -> None:
        body = message.get("body", b"")
        if not isinstance(body, bytes):
            raise TypeError(f"token streamer sent a {type(body).__name__} body, not bytes")
        await send(message)

    return checked


def _end_incomplete(scope: Scope, name: str, end: StreamEnd) -> None:
    """End a streamed body without its final chunk, so the client sees an incomplete transfer.

    Without an in-band end marker (e.g. ``format: text``) a clean end after a failure would look
    like a complete answer. Under the Axon's server the connection is closed; elsewhere
    ``StreamAborted`` is raised, which ASGI servers answer by dropping the connection.
    """
    control = connection_control(scope)
    if control is None:
        raise StreamAborted(f"{name}: {end.value}")
    logger.info("%s: %s; connection closed without the final chunk", name, end.value)
    control.close_incomplete(flush_within=_STREAMER_CANCEL_GRACE)


def _min_limit(first: float | None, second: float | None) -> float | None:
    """The smaller of two optional time limits (None: no limit); never negative."""
    limits = [limit for limit in (first, second) if limit is not None]
    return max(min(limits), 0.0) if limits else None


@dataclass(kw_only=True, eq=False, repr=False)
class AxonApp:
    """ASGI application serving the attached synapse routes (see the module docstring).

    Normally built and owned by ``Axon``; usable on its own under any ASGI server. Built with
    keyword arguments only; compared by identity.
    """

    keypair: Keypair
    uuid: str
    nonces: ReplayStore
    gate: PriorityGate
    max_body_bytes: int | None
    stream_timeout_grace: float | None
    body_timeout: float | None = 60.0
    max_request_age: float = 64.0
    verifiers: tuple[RequestVerifier, ...] = ()
    """The HTTP-era schemes (btauth/1, Epistula v2): a request carrying one's headers takes the
    HTTP wire (``_axon_http_wire``) instead of bittensor 10's."""
    routes: dict[str, Route] = field(default_factory=dict, init=False)
    _openapi: tuple[tuple[Any, ...], bytes] | None = field(default=None, init=False)
    _manifest: tuple[tuple[Any, ...], bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_request_age) and self.max_request_age > 0):
            raise ValueError(
                f"max_request_age must be a finite number of seconds > 0, got "
                f"{self.max_request_age!r}"
            )

    # ---- ASGI entry point -------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._handle(scope, receive, send)
        elif scope["type"] == "lifespan":
            await run_lifespan(receive, send)
        # Websockets are not served: returning without accepting closes the connection.

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.time()
        documents = {OPENAPI_PATH: self.openapi_json, MANIFEST_PATH: self.manifest_json}
        document = documents.get(scope["path"])
        if document is not None:  # public, read-only documents: GET only
            if scope["method"] == "GET":
                await send_json(send, 200, document(), [])
            else:
                body = json_bytes({"detail": "Method Not Allowed"})
                await send_json(send, 405, body, [(b"allow", b"GET")])
            return
        name = scope["path"][1:]
        route = self.routes.get(name)
        if route is None:
            message = f"Synapse name '{name}' not found. Available synapses {list(self.routes)}"
            await self._send_error(send, Synapse(), 404, message, start)
            return
        headers = Headers(scope=scope)
        for verifier in self.verifiers:
            if verifier.present(headers):
                await serve_http_wire(self, route, verifier, scope, receive, send)
                return
        if scope["method"] not in ("GET", "POST"):
            body = json_bytes({"detail": "Method Not Allowed"})
            await send_json(send, 405, body, [(b"allow", b"GET, POST")])
            return
        if BITTENSOR10 not in route.transports:
            message = f"/{name} needs a signed request of {' or '.join(sorted(route.transports))}"
            await send_json(send, 401, json_bytes({"message": message}), [])
            return

        try:
            synapse = route.synapse_class.from_headers(headers)
        except Exception as exc:
            await self._send_internal_error(send, Synapse(), exc, start, f"header parsing ({name})")
            return
        try:
            self._stamp(synapse, scope)
            priority = await self._run_checks(route, synapse)
        except Rejected as rejection:
            logger.debug("%s rejected with %d: %s", name, rejection.status, rejection)
            await self._send_error(send, synapse, rejection.status, str(rejection), start)
            return
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "request checks")
            return

        # The body is read before taking a worker slot and within a time limit: a client that
        # stalls mid-body (slowloris) must neither hold a slot nor a task forever.
        body_limit = self.body_limit(synapse.timeout)
        try:
            body = await asyncio.wait_for(read_body(receive, self.max_body_bytes), body_limit)
        except ClientDisconnected:
            return
        except BodyTooLarge as exc:
            await self._send_error(send, synapse, 413, str(exc), start)
            return
        except asyncio.TimeoutError:
            message = f"Request body not received within {body_limit}s"
            await self._send_error(send, synapse, 408, message, start)
            return

        try:
            await self.gate.acquire(priority, finite_or_none(synapse.timeout))
        except TimeoutError:
            message = f"Response timeout after: {synapse.timeout}s"
            await self._send_error(send, synapse, 408, message, start)
            return
        try:
            await self._serve(route, synapse, headers, body, scope, receive, send, start)
        finally:
            self.gate.release()

    # ---- header side: stamp and checks ------------------------------------------------------

    def _stamp(self, synapse: Synapse, scope: Scope) -> None:
        """Fill in the axon's own terminal info and the TCP peer, and sign (bittensor §9.2)."""
        if synapse.axon is None:
            synapse.axon = TerminalInfo()
        if synapse.dendrite is None:
            synapse.dendrite = TerminalInfo()
        axon, dendrite = synapse.axon, synapse.dendrite
        # Like bittensor, write __dict__ directly (no re-validation). Unlike bittensor, a status
        # message the client put in its headers is dropped so it can never become our message.
        nonce = time.time_ns()
        axon.__dict__.update(
            version=VERSION_AS_INT,
            uuid=self.uuid,
            nonce=nonce,
            status_code=100,
            status_message=None,
        )
        client = scope.get("client")
        if client:
            dendrite.__dict__.update(ip=str(client[0]), port=int(client[1]))
        message = axon_message(nonce, str(dendrite.hotkey), str(axon.hotkey), self.uuid)
        axon.__dict__["signature"] = sign(self.keypair, message)

    def openapi_json(self) -> bytes:
        """The OpenAPI document of the routes served over the HTTP wire (``GET /openapi.json``),
        built once per set of routes."""
        routes = tuple(
            (route.synapse_class, route.transports)
            for route in self.routes.values()
            if route.transports - {BITTENSOR10}
        )
        if self._openapi is None or self._openapi[0] != routes:
            auth = sorted({name for _, served in routes for name in served} - {BITTENSOR10})
            document = openapi_document([cls for cls, _ in routes], auth=auth)
            self._openapi = (routes, json_bytes(document))
        return self._openapi[1]

    def manifest_json(self) -> bytes:
        """The capability manifest (``GET /synapsegen/manifest``, see ``runtime/manifest.py``):
        every attached route with its schema hash, transports and kind; built once per set of
        routes."""
        routes = tuple(
            (name, route.synapse_class, route.transports) for name, route in self.routes.items()
        )
        if self._manifest is None or self._manifest[0] != routes:
            document = manifest_document(self.keypair.ss58_address, routes)
            self._manifest = (routes, json_bytes(document))
        return self._manifest[1]

    def body_limit(self, timeout: float | None) -> float | None:
        """Seconds a body may take: the request's ``timeout`` capped by ``body_timeout``."""
        return _min_limit(finite_or_none(timeout), self.body_timeout)

    async def _run_checks(self, route: Route, synapse: Synapse) -> float:
        """Blacklist, verify, priority; returns the priority. Raises ``Rejected``."""
        await self._blacklist(route, synapse)
        try:
            if route.verify is None:
                await self.default_verify(synapse)
            else:
                await call_hook(route.verify, synapse)
        except Exception as exc:
            raise Rejected(401, f"Not Verified with error: {exc}") from exc
        return await self._priority(route, synapse)

    async def run_hooks(self, route: Route, synapse: Synapse) -> float:
        """The HTTP wire's checks after its own verification: blacklist, then priority."""
        await self._blacklist(route, synapse)
        return await self._priority(route, synapse)

    async def _blacklist(self, route: Route, synapse: Synapse) -> None:
        if route.blacklist is not None:
            blacklisted, reason = await call_hook(route.blacklist, synapse)
            if blacklisted:
                raise Rejected(403, f"Forbidden. Key is blacklisted: {reason}.")

    async def _priority(self, route: Route, synapse: Synapse) -> float:
        if route.priority is None:
            return 0.0
        try:
            return float(await call_hook(route.priority, synapse))
        except TimeoutError as exc:
            raise Rejected(408, f"Response timeout after: {synapse.timeout}s") from exc

    async def default_verify(self, synapse: Synapse) -> None:
        """bittensor 10.5's ``default_verify``: nonce rules, then the dendrite's signature.

        Raises an ``Exception`` whose text becomes the 401 message. The nonce store is bounded
        (see ``NonceStore``) and the freshness window is the server's (see ``_check_fresh``);
        otherwise the rules and texts are bittensor's.
        """
        dendrite = synapse.dendrite
        if dendrite is None:
            raise Exception("Synapse.dendrite is None")
        # First, as in bittensor: a missing/invalid hotkey fails with the Keypair's own text.
        Keypair(ss58_address=dendrite.hotkey)
        hotkey = str(dendrite.hotkey)
        endpoint_key = f"{dendrite.hotkey}:{dendrite.uuid}"
        nonce = dendrite.nonce
        if nonce is None:
            raise Exception("Missing Nonce")
        self._check_fresh(nonce, synapse.timeout)
        stored = await self.nonces.last_nonce(endpoint_key)
        if (stored is not None and nonce <= stored) or (
            stored is None and nonce <= self.nonces.floor
        ):
            raise Exception("Nonce is too old, a newer one was last processed")
        if not dendrite.signature:
            raise Exception("Missing Signature")
        # str(None) == "None", exactly what bittensor's f-string puts in the message.
        message = request_message(
            nonce,
            hotkey,
            self.keypair.ss58_address,
            str(dendrite.uuid),
            str(synapse.computed_body_hash),
        )
        verify_or_raise(hotkey, message, dendrite.signature)
        # Checked again, atomically with the write: the same nonce may be racing on another
        # worker sharing the store (or in another task while a shared store is awaited).
        if not await self.nonces.accept_if_newer(endpoint_key, nonce):
            raise Exception("Nonce is too old, a newer one was last processed")

    def _check_fresh(self, nonce: int, timeout: float | None) -> None:
        """Refuse a nonce older than the freshness window; raises ``Exception`` (401 text).

        bittensor's window is ``4 s + timeout`` and only for dendrite versions >= 7.2.0, but the
        timeout and version headers are not signed: dropping the version or sending ``timeout:
        inf`` let a captured request of any age through. Here the window always applies, needs a
        finite timeout, and never exceeds ``max_request_age`` (callers whose ``4 s + timeout``
        fits get bittensor's window exactly, and its message). It also applies when a nonce of
        the same key is stored: a request held back by an attacker is refused once it is stale.
        """
        if timeout is None:
            raise Exception("Missing timeout: the request's age cannot be checked")
        if not math.isfinite(timeout):
            raise Exception(f"Invalid timeout {timeout}: must be a finite number of seconds")
        window_s = min(ALLOWED_DELTA_NS / NANOSECONDS_IN_SECOND + timeout, self.max_request_age)
        now = time.time_ns()
        if nonce <= now - int(window_s * NANOSECONDS_IN_SECOND):
            age = (now - nonce) / NANOSECONDS_IN_SECOND
            raise Exception(
                f"Nonce is too old: acceptable delta is {window_s:.2f} seconds but request "
                f"was {age:.2f} seconds old"
            )

    # ---- body side: parse, forward, respond -------------------------------------------------

    async def _serve(
        self,
        route: Route,
        synapse: Synapse,
        headers: Headers,
        body: bytes,
        scope: Scope,
        receive: Receive,
        send: Send,
        start: float,
    ) -> None:
        content_type = headers.get("content-type")
        if not is_json_content_type(content_type):
            # FastAPI hands the raw bytes to the model, which fails: bittensor answers 500.
            error: Exception = ValueError(f"unsupported Content-Type {content_type!r}")
            await self._send_internal_error(send, synapse, error, start, "body parsing")
            return
        if body:
            try:
                data = json.loads(body)
            except json.JSONDecodeError as exc:
                await send_json(send, 422, json_bytes(fastapi_json_error(exc)), [])
                return
            except RecursionError:
                # Nested past the parser's recursion limit: was uvicorn's plain-text 500.
                detail = json_bytes({"detail": "The request body is nested too deeply"})
                await send_json(send, 400, detail, [])
                return
            except ValueError:  # not UTF-8/16/32: FastAPI's generic body error
                detail = json_bytes({"detail": "There was an error parsing the body"})
                await send_json(send, 400, detail, [])
                return
        else:
            data = None

        try:
            if not isinstance(data, dict):
                raise TypeError(f"request body is not a JSON object: {type(data).__name__}")
            body_synapse = route.synapse_class(**data)
            parsed_hash = body_synapse.body_hash
            header_hash = headers.get("computed_body_hash", "")
            if parsed_hash != header_hash:
                raise ValueError(
                    f"Hash mismatch between header body hash {header_hash} and parsed body "
                    f"hash {parsed_hash}"
                )
            _adopt_verified(body_synapse, synapse)
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "body parsing")
            return

        forward_start = time.time()
        try:
            result = await call_hook(route.forward, body_synapse)
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "forward_fn")
            return
        if result is None:
            warnings.warn(
                f"forward_fn of {route.synapse_class.__name__} returned None; answering with the "
                "input synapse. Return the synapse (or a streaming response) explicitly.",
                DeprecationWarning,
                stacklevel=1,
            )
            result = body_synapse
        try:
            result = tokens_as_response(result, body_synapse)
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "forward_fn")
            return

        if isinstance(result, Synapse):
            await self._send_synapse(send, result, synapse, forward_start, start)
        elif isinstance(result, BTStreamingResponse):
            await self._send_stream(
                scope, send, receive, result, body_synapse, synapse, forward_start, start
            )
        elif isinstance(result, Response):
            await self._send_other_response(
                scope, receive, send, result, body_synapse, synapse, forward_start, start
            )
        else:
            error = TypeError(
                f"forward_fn returned {type(result).__name__}; expected a Synapse or a response"
            )
            await self._send_internal_error(send, synapse, error, start, "forward_fn")

    async def _send_synapse(
        self,
        send: Send,
        result: Synapse,
        synapse: Synapse,
        forward_start: float,
        start: float,
    ) -> None:
        """A returned synapse: compact JSON body, then its headers (bittensor's order)."""
        try:
            fill_success(result, forward_start)
            assert result.axon is not None
            status = result.axon.status_code
            if not valid_response_status(status):
                raise ValueError(f"forward_fn set an unusable axon.status_code {status!r}")
            # Serialize before to_headers(): to_headers() rewrites total_size, as in bittensor.
            body = json_bytes(result.model_dump(mode="json", by_alias=True))
            headers = encode_headers(result.to_headers())
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "response serialization")
            return
        raw = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
            *headers,
        ]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _send_stream(
        self,
        scope: Scope,
        send: Send,
        receive: Receive,
        response: BTStreamingResponse,
        body_synapse: Synapse,
        synapse: Synapse,
        forward_start: float,
        start: float,
    ) -> None:
        """A streaming response: 200 + headers up front, the streamer's sends, then the end.

        Every send is bounded by the stream's deadline (``timeout + stream_timeout_grace`` after
        ``forward_fn`` was called), so a client that stops reading cannot hold the worker slot.
        Only a streamer that returned normally gets the final (empty) chunk; a failed, cut or
        stalled stream ends without it (see ``_end_incomplete``).
        """
        stream_synapse: Synapse = response.synapse if response.synapse is not None else body_synapse
        try:
            fill_success(stream_synapse, forward_start)
            response.headers.update(
                {k: sanitize_header_value(v) for k, v in stream_synapse.to_headers().items()}
            )
            raw: RawHeaders = [(b"content-type", b"text/event-stream"), *response.raw_headers]
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "stream headers")
            return
        await self.send_stream(scope, send, receive, response, stream_synapse, raw, forward_start)

    async def send_stream(
        self,
        scope: Scope,
        send: Send,
        receive: Receive,
        response: BTStreamingResponse,
        stream_synapse: Synapse,
        raw_headers: RawHeaders,
        forward_start: float,
    ) -> None:
        """Send status 200 with ``raw_headers``, run the token streamer, and end the body.

        Shared by the bittensor-10 wire and the HTTP wire (``_axon_http_wire``), which differ
        only in their headers. See ``_send_stream`` for the deadline and how a stream ends.
        """
        deadline: float | None = None
        timeout = finite_or_none(stream_synapse.timeout)
        if self.stream_timeout_grace is not None and timeout is not None:
            wall_deadline = forward_start + timeout + self.stream_timeout_grace
            deadline = asyncio.get_running_loop().time() + max(0.0, wall_deadline - time.time())
        name = type(stream_synapse).__name__

        start_message = {"type": "http.response.start", "status": 200, "headers": raw_headers}
        end = StreamEnd.STALLED
        if await _send_before(send, start_message, deadline):
            streamer = response.token_streamer
            # token_streamer's own streamers check their bodies: no wrapper around each send.
            checked_send = send if sends_only_bytes(streamer) else _bytes_only(send)
            end = await self._run_streamer(streamer, checked_send, receive, deadline, name)
        if end is StreamEnd.COMPLETE:
            last = {"type": "http.response.body", "body": b"", "more_body": False}
            if not await _send_before(send, last, deadline):
                end = StreamEnd.STALLED
        if end in (StreamEnd.FAILED, StreamEnd.CUT, StreamEnd.STALLED):
            _end_incomplete(scope, name, end)
        if response.background is not None:
            await response.background()

    async def _run_streamer(
        self,
        streamer: Callable[[Send], Awaitable[None]],
        send: Send,
        receive: Receive,
        deadline: float | None,
        name: str,
    ) -> StreamEnd:
        """Run the token streamer with uvicorn's own ``send``; stop it at the deadline or on a
        disconnect, and say how it ended."""

        async def stream() -> None:
            await streamer(send)

        loop = asyncio.get_running_loop()
        time_limit = None if deadline is None else max(0.0, deadline - loop.time())
        stream_task = asyncio.ensure_future(stream())
        disconnect_task = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait(
                (stream_task, disconnect_task),
                timeout=time_limit,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:  # also when this request task is cancelled (server shutdown)
            disconnect_task.cancel()
            if not stream_task.done():
                stream_task.cancel()
        if disconnect_task in done and not disconnect_task.cancelled():
            if stream_task not in done:
                logger.debug("%s: client disconnected; token streamer cancelled", name)
                await asyncio.wait((stream_task,), timeout=_STREAMER_CANCEL_GRACE)
            return StreamEnd.GONE
        if stream_task not in done:
            # A streamer ignoring its timeout, or a send waiting on a client that stopped reading.
            logger.warning(
                "%s: stream still running %.1f s after synapse.timeout; cancelled",
                name,
                self.stream_timeout_grace or 0.0,
            )
            await asyncio.wait((stream_task,), timeout=_STREAMER_CANCEL_GRACE)
            return StreamEnd.CUT
        exc = stream_task.exception()
        if exc is None:
            return StreamEnd.COMPLETE
        if isinstance(exc, StreamAborted):
            logger.info("%s: %s; ending the stream incomplete", name, exc)
        else:
            logger.error(
                "%s: token streamer raised; ending the stream incomplete", name, exc_info=exc
            )
        return StreamEnd.FAILED

    async def _send_other_response(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        response: Response,
        body_synapse: Synapse,
        synapse: Synapse,
        forward_start: float,
        start: float,
    ) -> None:
        """Any other starlette response: add the synapse headers and let it send itself."""
        response_synapse = getattr(response, "synapse", None)
        if not isinstance(response_synapse, Synapse):
            response_synapse = body_synapse
        try:
            fill_success(response_synapse, forward_start)
            response.headers.update(
                {k: sanitize_header_value(v) for k, v in response_synapse.to_headers().items()}
            )
        except Exception as exc:
            await self._send_internal_error(send, synapse, exc, start, "response headers")
            return
        await response(scope, receive, send)

    # ---- errors -----------------------------------------------------------------------------

    async def _send_internal_error(
        self, send: Send, synapse: Synapse, exc: BaseException, start: float, stage: str
    ) -> None:
        """500 ``Internal Server Error #<uuid4>``; the details go to the log only."""
        error_id = str(uuid_module.uuid4())
        logger.error(
            "%s#%s during %s: %s",
            type(exc).__name__,
            error_id,
            stage if stage.startswith("header parsing") else f"{stage} of {synapse.name}",
            exc,
            exc_info=exc if stage in ("forward_fn", "request checks") else None,
        )
        await self._send_error(send, synapse, 500, f"Internal Server Error #{error_id}", start)

    async def _send_error(
        self, send: Send, synapse: Synapse, status: int, message: str, start: float
    ) -> None:
        """``{"message": ...}`` with the header-side synapse's headers (bittensor's error shape)."""
        headers = _error_headers(synapse, status, message, time.time() - start)
        await send_json(send, status, json_bytes({"message": message}), headers)


def _error_headers(synapse: Synapse, status: int, message: str, process_time: float) -> RawHeaders:
    """The header-side synapse's ``to_headers()`` with the error status filled in."""
    try:
        if synapse.axon is None:
            synapse.axon = TerminalInfo()
        synapse.axon.__dict__.update(
            status_code=status, status_message=message, process_time=process_time
        )
        return encode_headers(synapse.to_headers())
    except Exception:
        logger.exception(
            "to_headers() of %s failed; answering with bare Synapse headers", type(synapse).__name__
        )
        bare = Synapse()
        assert bare.axon is not None
        bare.axon.__dict__.update(
            status_code=status, status_message=message, process_time=process_time
        )
        return encode_headers(bare.to_headers())
