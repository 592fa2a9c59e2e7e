"""The ``async with`` exit shared by the runtime's Axon and Dendrite."""

from __future__ import annotations

from types import TracebackType


class AsyncClosing:
    """``async with obj:`` ends with ``await obj.aclose()``, whatever the block raised."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
