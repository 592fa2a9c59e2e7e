"""The Axon's HTTP wire: btauth/1 and Epistula v2 requests, on the routes bittensor 10 uses.

``AxonApp`` hands a request here when it carries the headers of an HTTP-era scheme (a
``RequestVerifier`` whose ``present`` says so); a request with neither takes bittensor 10's
path. One ``forward_fn`` serves both. The format is ``http_wire``'s; the pipeline:

1. ``POST`` only                                                   405
2. the route accepts the scheme (``attach(transports=...)``)       401
3. ``verifier.claim(headers)``: shape, receiver, freshness         400, 421, 401
4. the body, read within ``body_timeout`` and ``max_body_bytes``   408, 413
5. ``verifier.verify``: the signature over the exact bytes read,
   then the replay store (written only for a good signature)      401
6. the body becomes the synapse (request fields only)             415, 400, 422
7. terminal infos: ``dendrite`` is the *verified* signer and the TCP peer
8. ``blacklist_fn``, then ``priority_fn`` and a worker slot        403, 408
9. ``forward_fn``: a synapse is answered with its response fields; a stream (or tokens, which
   the synapse's ``stream_response`` streams) with the class's own content type   500

``verify_fn`` belongs to bittensor 10's scheme and is not called here: the signature check of an
HTTP-era scheme cannot be replaced. Errors are ``{"message": ...}`` without ``bt_header_*``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid as uuid_module
from typing import TYPE_CHECKING

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ._axon_forward import call_hook, fill_success, tokens_as_response, valid_response_status
from ._axon_http import json_bytes, read_body, send_json
from ._axon_limits import RateLimitedLogger
from .errors import BodyTooLarge, ClientDisconnected, Rejected
from .http_wire import decode_request, encode_answer, stream_media_type
from .signing import VERSION_AS_INT
from .synapse import BTStreamingResponse, Synapse, TerminalInfo

if TYPE_CHECKING:
    from ._auth import Claim, RequestVerifier
    from ._axon_app import AxonApp, Route

__all__ = ["serve_http_wire"]

logger = RateLimitedLogger(logging.getLogger("synapsegen.runtime.axon"))


def request_target(scope: Scope) -> str:
    """The request target as the client sent it (path and query), which btauth/1 signs."""
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


async def send_message(send: Send, status: int, message: str) -> None:
    """An error answer of the HTTP wire: ``{"message": ...}`` and nothing else."""
    await send_json(send, status, json_bytes({"message": message}), [])


def _stamp(synapse: Synapse, claim: Claim, scope: Scope, own_hotkey: str) -> None:
    """Terminal infos from what was verified (never from the body) and from the TCP peer."""
    client = scope.get("client") or (None, None)
    synapse.dendrite = TerminalInfo(
        hotkey=claim.hotkey,
        ip=str(client[0]) if client[0] is not None else None,
        port=int(client[1]) if client[1] is not None else None,
        nonce=claim.timestamp_ns,
        uuid=claim.uuid,
        signature="0x" + claim.signature.hex(),
    )
    synapse.axon = TerminalInfo(hotkey=own_hotkey, version=VERSION_AS_INT, nonce=time.time_ns())


async def serve_http_wire(
    app: AxonApp,
    route: Route,
    verifier: RequestVerifier,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Serve one HTTP-wire request on ``route`` (see the module docstring for the steps)."""
    cls = route.synapse_class
    if scope["method"] != "POST":
        body = json_bytes({"message": "Method Not Allowed"})
        await send_json(send, 405, body, [(b"allow", b"POST")])
        return
    if verifier.scheme not in route.transports:
        accepted = ", ".join(sorted(route.transports))
        message = f"{verifier.scheme} is not accepted on /{cls.__name__} (accepted: {accepted})"
        await send_message(send, 401, message)
        return
    headers = Headers(scope=scope)
    try:
        claim = verifier.claim(headers)
        body = await _read_body(app, cls, receive)
        claim = await verifier.verify(claim, method="POST", target=request_target(scope), body=body)
        synapse = decode_request(cls, body, headers.get("content-type"))
        _stamp(synapse, claim, scope, app.keypair.ss58_address)
        priority = await app.run_hooks(route, synapse)
    except ClientDisconnected:
        return
    except Rejected as rejection:
        await send_message(send, rejection.status, str(rejection))
        return
    except Exception as exc:
        await _internal_error(send, exc, f"request checks of {cls.__name__}")
        return

    try:
        await app.gate.acquire(priority, synapse.timeout)
    except TimeoutError:
        await send_message(send, 408, f"Response timeout after: {synapse.timeout}s")
        return
    try:
        await _forward(app, route, synapse, scope, receive, send)
    finally:
        app.gate.release()


async def _read_body(app: AxonApp, cls: type[Synapse], receive: Receive) -> bytes:
    """The body within ``body_timeout`` (and the class's timeout); ``Rejected`` 408 or 413."""
    limit = app.body_limit(cls.model_fields["timeout"].default)
    try:
        return await asyncio.wait_for(read_body(receive, app.max_body_bytes), limit)
    except BodyTooLarge as exc:
        raise Rejected(413, str(exc)) from None
    except asyncio.TimeoutError:
        raise Rejected(408, f"Request body not received within {limit}s") from None


async def _forward(
    app: AxonApp, route: Route, synapse: Synapse, scope: Scope, receive: Receive, send: Send
) -> None:
    name = type(synapse).__name__
    forward_start = time.time()
    try:
        result = tokens_as_response(await call_hook(route.forward, synapse), synapse)
        if result is None:
            result = synapse
    except Exception as exc:
        await _internal_error(send, exc, f"forward_fn of {name}")
        return
    if isinstance(result, BTStreamingResponse):
        stream_synapse = result.synapse if result.synapse is not None else synapse
        fill_success(stream_synapse, forward_start)
        media_type = stream_media_type(type(stream_synapse)).encode("latin-1")
        raw = [(b"content-type", media_type), (b"cache-control", b"no-store")]
        await app.send_stream(scope, send, receive, result, stream_synapse, raw, forward_start)
    elif isinstance(result, Synapse):
        await _answer(send, result, forward_start)
    elif isinstance(result, Response):
        await result(scope, receive, send)
    else:
        returned = type(result).__name__
        error = TypeError(f"forward_fn returned {returned}; expected a Synapse or a response")
        await _internal_error(send, error, f"forward_fn of {name}")


async def _answer(send: Send, result: Synapse, forward_start: float) -> None:
    """A returned synapse: its response fields, or the error status ``forward_fn`` set."""
    try:
        fill_success(result, forward_start)
        assert result.axon is not None
        status = result.axon.status_code
        if not valid_response_status(status):
            raise ValueError(f"forward_fn set an unusable axon.status_code {status!r}")
        assert status is not None
        if status != 200:
            await send_message(send, status, result.axon.status_message or f"HTTP {status}")
            return
        body = encode_answer(result)
    except Exception as exc:
        await _internal_error(send, exc, f"response serialization of {type(result).__name__}")
        return
    raw = [
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _internal_error(send: Send, exc: BaseException, stage: str) -> None:
    """500 ``Internal Server Error #<uuid4>``; the details go to the log only."""
    error_id = str(uuid_module.uuid4())
    logger.error("%s#%s during %s: %s", type(exc).__name__, error_id, stage, exc, exc_info=exc)
    await send_message(send, 500, f"Internal Server Error #{error_id}")
