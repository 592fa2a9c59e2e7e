"""An aiohttp-like response that delivers a body in chosen pieces, without a network.

``FakeResponse`` has what the runtime's ``Dendrite`` and the generated classes read from an
``aiohttp.ClientResponse``: ``status``, ``headers`` (case-insensitive), ``raw_headers``,
``content`` (``iter_any``, ``iter_chunked``, ``read``, ``readany``), ``read``/``text``/``json``,
``release`` and ``close``. ``content`` yields exactly the pieces it was given, one per read,
giving the event loop a turn before each (as a socket would), so a split lands exactly where the
test put it. With ``complete=False`` the body ends as an incomplete transfer: the read after the
last piece raises aiohttp's ``ClientPayloadError``, as aiohttp does when a chunked body stops
before its terminating chunk.

``FakeSession`` answers ``post`` with a prepared ``FakeResponse``: what a ``Dendrite`` is given in
place of its aiohttp session to run its whole pipeline offline (``replay`` does this).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = ["INCOMPLETE_TRANSFER", "FakeContent", "FakeResponse", "FakeSession"]

INCOMPLETE_TRANSFER = (
    "Response payload is not completed: <TransferEncodingError: 400, "
    "message='Not enough data to satisfy transfer length header.'>"
)
"""The message of the ``ClientPayloadError`` aiohttp raises for a chunked body cut short."""

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


class FakeContent:
    """``response.content``: the pieces, one per read, then the end (or the payload error)."""

    def __init__(self, chunks: Iterable[bytes], complete: bool = True) -> None:
        self._chunks = [bytes(chunk) for chunk in chunks if chunk]
        self._next = 0
        self._left = b""  # the rest of a piece a sized read did not take
        self._complete = complete

    def _end(self) -> bytes:
        if not self._complete:
            raise aiohttp.ClientPayloadError(INCOMPLETE_TRANSFER)
        return b""

    async def readany(self) -> bytes:
        """The next piece (what arrived since the last read); ``b""`` at the end."""
        await asyncio.sleep(0)
        if self._left:
            piece, self._left = self._left, b""
            return piece
        if self._next >= len(self._chunks):
            return self._end()
        piece = self._chunks[self._next]
        self._next += 1
        return piece

    async def read(self, n: int = -1) -> bytes:
        """At most ``n`` bytes of the next piece (``n`` < 0: the rest of the body)."""
        if n < 0:
            parts = []
            while piece := await self.readany():
                parts.append(piece)
            return b"".join(parts)
        if n == 0:
            return b""
        piece = await self.readany()
        piece, self._left = piece[:n], piece[n:]
        return piece

    async def iter_any(self) -> AsyncIterator[bytes]:
        """Each piece as it arrives."""
        while piece := await self.readany():
            yield piece

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes."""
        while piece := await self.read(n):
            yield piece

    def at_eof(self) -> bool:
        return not self._left and self._next >= len(self._chunks)


class FakeResponse:
    """The part of ``aiohttp.ClientResponse`` the runtime reads (see the module docstring).

    ``chunks``: the body's pieces, in order (empty ones are dropped). ``headers``: a mapping or
    ``(name, value)`` pairs (repeats kept, as on the wire). ``complete``: False makes the body an
    incomplete transfer.
    """

    def __init__(
        self,
        chunks: Iterable[bytes] = (),
        status: int = 200,
        headers: Headers | None = None,
        *,
        complete: bool = True,
        reason: str | None = None,
        url: str = "http://127.0.0.1/",
    ) -> None:
        pairs = list(headers.items() if isinstance(headers, Mapping) else headers or ())
        self.status = status
        self.reason = reason
        self.headers: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict(pairs))
        self.raw_headers: tuple[tuple[bytes, bytes], ...] = tuple(
            (name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in pairs
        )
        self.content = FakeContent(chunks, complete)
        self.url = URL(url)
        self.history: tuple[Any, ...] = ()
        self.closed = False
        self._body: bytes | None = None

    @property
    def request_info(self) -> aiohttp.RequestInfo:
        return aiohttp.RequestInfo(self.url, "POST", CIMultiDictProxy(CIMultiDict()), self.url)

    async def read(self) -> bytes:
        """The whole body (raises ``ClientPayloadError`` for an incomplete one)."""
        if self._body is None:
            self._body = await self.content.read()
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        return (await self.read()).decode(encoding or "utf-8", errors)

    async def json(
        self, *, encoding: str | None = None, content_type: str | None = "application/json"
    ) -> Any:
        """As aiohttp's: refuses an unexpected content type, None for an empty body."""
        body = await self.read()
        if content_type:
            ctype = self.headers.get("Content-Type", "").lower()
            expected = (
                _JSON_TYPE.match(ctype) is not None
                if content_type == "application/json"
                else content_type in ctype
            )
            if not expected:
                raise aiohttp.ContentTypeError(
                    self.request_info,
                    self.history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {ctype}",
                    headers=self.headers,
                )
        stripped = body.strip()
        if not stripped:
            return None
        return json.loads(stripped.decode(encoding or "utf-8"))

    def release(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> FakeResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class FakeSession:
    """Stands in for an ``aiohttp.ClientSession``: ``post`` answers with ``response`` and keeps
    what it was asked (``requests``: the URL and keyword arguments of each call)."""

    def __init__(self, response: FakeResponse) -> None:
        self.response = response
        self.requests: list[tuple[str | URL, dict[str, Any]]] = []
        self.closed = False

    def post(self, url: str | URL, **kwargs: Any) -> asyncio.Future[FakeResponse]:
        self.requests.append((url, kwargs))
        answer: asyncio.Future[FakeResponse] = asyncio.get_running_loop().create_future()
        answer.set_result(self.response)
        return answer

    async def close(self) -> None:
        self.closed = True
