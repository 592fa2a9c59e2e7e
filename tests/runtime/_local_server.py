"""A TCP server on 127.0.0.1 for the Dendrite tests that answer with raw HTTP bytes.

Needs no conftest and nothing of ``_vectors`` (Python 3.11): test_dendrite_wire.py imports it and
runs on Python 3.10 with ``--noconftest``.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from synapsegen.runtime.dendrite import AxonTarget

_Server = TypeVar("_Server", bound="LocalServer")


class LocalServer:
    """``async with server:`` listens on 127.0.0.1:``server.port``; every connection is served by
    ``serve_connection`` in a task of its own, and its writer closed after. Leaving the block
    cancels the connections still being served."""

    def __init__(self, hotkey: str) -> None:
        self.hotkey = hotkey
        self.port = 0
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    @property
    def target(self) -> AxonTarget:
        return AxonTarget("127.0.0.1", self.port, self.hotkey)

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Server) -> _Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self.serve_connection(reader, writer)
        finally:
            writer.close()
            self._handlers.discard(task)
