"""Bounded state behind the Axon's checks: the priority gate (and, re-exported, the nonce store).

``NonceStore`` lives in ``replay`` beside the other replay stores; it is re-exported here for the
old import path.

``PriorityGate`` bounds how many forwards run at once. When all slots are taken, waiters are let in
by priority (higher first, FIFO among equals), which is what bittensor's ``priority_fn`` promises
but its thread pool never enforced.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math

from .replay import NonceStore

__all__ = ["NonceStore", "PriorityGate"]


class PriorityGate:
    """At most ``limit`` holders at once (None: unlimited); waiters admitted by priority.

    ``acquire`` returns at once while a slot is free and nobody waits. Otherwise the caller waits
    until ``release`` hands it a slot: the highest priority waiter goes first. A waiter whose
    timeout passes leaves the queue with ``TimeoutError``.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1 or None, got {limit}")
        self._limit = limit
        self._active = 0
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def limit(self) -> int | None:
        """Maximum number of concurrent holders (None: unlimited)."""
        return self._limit

    @property
    def active(self) -> int:
        """Number of slots currently held."""
        return self._active

    @property
    def waiting(self) -> int:
        """Number of callers waiting for a slot."""
        return sum(1 for _, _, fut in self._waiters if not fut.done())

    def _drop_finished_waiters(self) -> None:
        waiters = self._waiters
        while waiters and waiters[0][2].done():
            heapq.heappop(waiters)

    async def acquire(self, priority: float = 0.0, timeout: float | None = None) -> None:
        """Take a slot, waiting (at most ``timeout`` seconds) behind higher priorities.

        Raises ``TimeoutError`` when the timeout passes first; NaN counts as the lowest priority.
        """
        self._drop_finished_waiters()
        if self._limit is None or (self._active < self._limit and not self._waiters):
            self._active += 1
            return
        if math.isnan(priority):
            priority = -math.inf
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (-priority, next(self._order), future))
        try:
            if timeout is None:
                await future
            else:
                try:
                    await asyncio.wait_for(future, max(timeout, 0.0))
                except asyncio.TimeoutError:  # a distinct class before Python 3.11
                    raise TimeoutError(f"no slot within {timeout} s") from None
        except BaseException:
            # Timed out or cancelled. If release() had already handed us the slot, give it back.
            if future.done() and not future.cancelled():
                self.release()
            else:
                future.cancel()
            raise

    def release(self) -> None:
        """Give a slot back; the highest priority waiter (if any) takes it over."""
        self._active -= 1
        waiters = self._waiters
        while waiters:
            _, _, future = heapq.heappop(waiters)
            if not future.done():
                self._active += 1
                future.set_result(None)
                return
