"""Bounded state behind the Axon's checks: the nonce store and the priority gate.

``NonceStore`` remembers the last accepted nonce per ``"<hotkey>:<uuid>"`` like bittensor's
``axon.nonces`` dict, but bounded: the least recently used entry is evicted when full, and the
largest nonce ever evicted becomes a *floor* that an unknown key's nonce must exceed. A replay of a
request whose entry was evicted is therefore still refused (its nonce is at most the floor); the
price is that, while the store churns, a brand-new client whose nonce predates the floor is refused
once and succeeds on its next (newer) nonce. The floor never exceeds the clock at eviction time:
nonces from the future are accepted, and letting them into the floor would let a flood of
far-future nonces (any signer, throwaway uuids) lock out every new client for good. The cost is
that a request whose nonce was still in the future when its entry was evicted could be replayed
once until the clock passes that nonce.

``PriorityGate`` bounds how many forwards run at once. When all slots are taken, waiters are let in
by priority (higher first, FIFO among equals), which is what bittensor's ``priority_fn`` promises
but its thread pool never enforced.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import OrderedDict

__all__ = ["NonceStore", "PriorityGate"]


class NonceStore:
    """Last accepted nonce per endpoint key, at most ``max_entries`` keys (LRU eviction)."""

    def __init__(self, max_entries: int = 65536) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self._max_entries = max_entries
        self._nonces: OrderedDict[str, int] = OrderedDict()
        self._floor = 0

    @property
    def floor(self) -> int:
        """Largest nonce evicted so far (0 if none): unknown keys must send a larger one."""
        return self._floor

    @property
    def max_entries(self) -> int:
        """Capacity of the store."""
        return self._max_entries

    def get(self, key: str) -> int | None:
        """Last accepted nonce of ``key``, or None if the key is not (or no longer) stored."""
        return self._nonces.get(key)

    def accept(self, key: str, nonce: int) -> None:
        """Record ``nonce`` as the last accepted one of ``key``, evicting the oldest key if full."""
        nonces = self._nonces
        nonces[key] = nonce
        nonces.move_to_end(key)
        while len(nonces) > self._max_entries:
            _, evicted = nonces.popitem(last=False)
            # Capped at the current time: nonces from the future are accepted (as by bittensor),
            # and an uncapped floor would let anyone who can sign fill the store with far-future
            # nonces and so lock every new client out for good.
            evicted = min(evicted, time.time_ns())
            if evicted > self._floor:
                self._floor = evicted

    def __len__(self) -> int:
        return len(self._nonces)

    def __contains__(self, key: object) -> bool:
        return key in self._nonces


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
