"""Plain-ASGI building blocks of the Axon: header encoding, body reading, JSON responses.

Nothing here knows about synapses. The Axon answers with raw ASGI messages instead of starlette
``Response`` objects so that the byte layout (header order, compact JSON) is exactly what a real
bittensor axon (FastAPI + starlette ``JSONResponse``) puts on the wire, at a fraction of the cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import Receive, Send

from .errors import BodyTooLarge, ClientDisconnected

__all__ = [
    "BodyTooLarge",
    "ClientDisconnected",
    "encode_headers",
    "fastapi_json_error",
    "is_json_content_type",
    "read_body",
    "run_lifespan",
    "sanitize_header_value",
    "send_json",
    "wait_for_disconnect",
]

RawHeaders = list[tuple[bytes, bytes]]

# Control characters are not allowed in HTTP field values (h11 refuses them and so would a peer).
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def sanitize_header_value(value: str) -> str:
    """``value`` made safe for an HTTP header: latin-1 only, no control characters.

    Characters outside latin-1 become ``?`` and control characters a space, so that a status
    message quoting user text can never break the response (bittensor's starlette would raise).
    """
    if not value.isascii():
        value = value.encode("latin-1", "replace").decode("latin-1")
    if _CONTROL_CHARS.search(value):
        value = _CONTROL_CHARS.sub(" ", value)
    return value


def encode_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> RawHeaders:
    """ASGI raw headers: lowercase latin-1 names, sanitized values, order kept."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [
        (
            sanitize_header_value(name).lower().encode("latin-1"),
            sanitize_header_value(value).encode("latin-1"),
        )
        for name, value in items
    ]


def is_json_content_type(value: str | None) -> bool:
    """Whether FastAPI would parse a body with this ``Content-Type`` as JSON.

    Missing, ``application/json`` and ``application/<anything>+json`` (parameters ignored).
    """
    if not value:
        return True
    media_type = value.split(";", 1)[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


async def read_body(receive: Receive, limit: int | None) -> bytes:
    """The whole request body; ``BodyTooLarge`` past ``limit`` bytes (None: no limit)."""
    chunks: list[bytes] = []
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge(f"request body larger than {limit} bytes")
        chunks.append(chunk)
        more_body = message.get("more_body", False)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the client disconnects (call only after the body has been read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def json_bytes(payload: Any) -> bytes:
    """Compact UTF-8 JSON, as starlette's ``JSONResponse`` renders it."""
    return json.dumps(
        payload, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


async def send_json(send: Send, status: int, body: bytes, headers: RawHeaders) -> None:
    """Send a complete JSON response: ``headers``, then content-length and content-type.

    This is the order starlette's ``JSONResponse(headers=...)`` uses, which is what bittensor's
    error responses look like.
    """
    raw = [
        *headers,
        (b"content-length", str(len(body)).encode("latin-1")),
        (b"content-type", b"application/json"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def fastapi_json_error(exc: json.JSONDecodeError) -> dict[str, Any]:
    """FastAPI's 422 body for a malformed JSON request body."""
    return {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", exc.pos],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
        ]
    }


async def run_lifespan(receive: Receive, send: Send) -> None:
    """Answer the ASGI lifespan protocol (nothing to set up or tear down)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
