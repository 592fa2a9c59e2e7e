"""Replay protection behind small interfaces: where a server remembers what it accepted.

Two kinds of memory, for two kinds of protocol:

- ``ReplayStore``: the last accepted *nonce* per endpoint, which must increase (bittensor 10's
  synapse headers, checked by the Axon). Below, up to "Seen-stores".
- ``SeenStore``: a *set* of request keys seen inside a freshness window, for protocols whose
  requests carry a unique id but no order (``btauth/1``: hotkey and nanosecond nonce; Epistula:
  hotkey and uuid). See "Seen-stores" at the end.

Nonce stores. bittensor's rule (``default_verify``), which both keep: each dendrite endpoint, keyed
``"<dendrite hotkey>:<dendrite uuid>"``, must send strictly increasing nonces. A request whose
nonce is not above the last one accepted for its key is a replay (or arrived too late) and gets
401 "Nonce is too old, a newer one was last processed". A key the store does not know must send a
nonce above the store's ``floor``.

Two implementations:

- ``NonceStore`` (the default): in this process's memory, bounded (LRU). It forgets everything
  on restart and is not shared, so it fits one Axon process.
- ``RedisReplayStore``: in Redis, shared by every worker process and host that uses the same
  Redis and namespace, and kept across restarts. Needs ``redis`` (``pip install
  'synapsegen[redis]'``), imported only when the store is first used.

The Axon checks a request in two steps, so that a request with a bad nonce *and* a bad signature
gets bittensor's nonce message: ``last_nonce`` and ``floor`` before the signature check, then
``accept_if_newer`` after it. ``accept_if_newer`` is atomic (the check and the write are one
step), so two requests carrying the same nonce, racing on two workers, are never both accepted.

``NonceStore`` floor: the largest nonce ever evicted becomes a *floor* that an unknown key's nonce
must exceed. A replay of a request whose entry was evicted is therefore still refused (its nonce
is at most the floor); the price is that, while the store churns, a brand-new client whose nonce
predates the floor is refused once and succeeds on its next (newer) nonce. The floor never exceeds
the clock at eviction time: nonces from the future are accepted, and letting them into the floor
would let a flood of far-future nonces (any signer, throwaway uuids) lock out every new client for
good. The cost is that a request whose nonce was still in the future when its entry was evicted
could be replayed once until the clock passes that nonce.

``RedisReplayStore`` floor: entries expire ``ttl`` seconds after they were written (or after their
nonce's time, for a nonce from the future, up to ``ttl`` ahead), instead of being evicted, so the
floor moves with the clock: ``now - ttl``. An expired entry's nonce is below it, so its replay is
still refused. ``ttl`` must therefore exceed the longest age the Axon accepts for a request (its
freshness window); the default of 10 minutes is far above it.

Seen-stores. ``first_sight(key, timestamp_ns, retain_s)`` records ``key`` and answers True the
first time, False ever after, in one atomic step (of two racing requests exactly one is first).
The verifiers (``btauth.py``, ``epistula.py``) call it only after the signature verified, with
``retain_s`` = their window (max age + max future). A key is remembered at least until
``timestamp_ns + retain_s``; a request older than that could not be remembered long enough, so
it is refused outright (it is past the verifiers' window anyway). Two implementations:

- ``SeenSet`` (the default): in this process's memory, at most ``max_entries`` keys. Expired
  keys are dropped first; when it is still full, the key with the oldest timestamp is evicted
  and its timestamp becomes the *floor*: any timestamp at or below it is refused, so an evicted
  request cannot be replayed. The price, only while more than ``max_entries`` requests arrive
  within one window: a fresh request older than the floor is refused once (its sender retries
  with a new nonce). Unlike ``NonceStore``'s floor this one is not capped at the clock, as that
  would let an evicted request from the future be replayed; callers bound how far ahead a
  timestamp may be (the verifiers: ``max_future``), which bounds the floor too.
- ``RedisSeenStore``: ``SET key NX PX`` in Redis, shared by every worker and host on the same
  Redis and namespace. Redis expires each key ``retain_s`` after its write (after its timestamp
  for one from the future), so no floor is needed.
"""

from __future__ import annotations

import heapq
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "NonceStore",
    "RedisReplayStore",
    "RedisSeenStore",
    "ReplayStore",
    "SeenSet",
    "SeenStore",
]

NANOSECONDS_IN_SECOND = 1_000_000_000


@runtime_checkable
class ReplayStore(Protocol):
    """The last accepted nonce per endpoint key, as the Axon's default verification uses it."""

    @property
    def floor(self) -> int:
        """An unknown key's nonce must be above this (0: any positive nonce)."""
        ...

    async def last_nonce(self, key: str) -> int | None:
        """Last accepted nonce of ``key``; None if the key is unknown (never seen, or forgotten)."""
        ...

    async def accept_if_newer(self, key: str, nonce: int) -> bool:
        """Atomically record ``nonce`` for ``key`` if it is above the stored one (above ``floor``
        for an unknown key); False, recording nothing, otherwise."""
        ...


class NonceStore:
    """Last accepted nonce per endpoint key, at most ``max_entries`` keys (LRU eviction).

    In this process's memory: the default store of a single-process Axon (module docstring).
    """

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

    async def last_nonce(self, key: str) -> int | None:
        """``get`` for the ``ReplayStore`` interface."""
        return self._nonces.get(key)

    async def accept_if_newer(self, key: str, nonce: int) -> bool:
        """``accept`` if ``nonce`` is above the stored one (or the floor); atomic, as nothing
        here awaits between the check and the write."""
        stored = self._nonces.get(key)
        if nonce <= (stored if stored is not None else self._floor):
            return False
        self.accept(key, nonce)
        return True

    def __len__(self) -> int:
        return len(self._nonces)

    def __contains__(self, key: object) -> bool:
        return key in self._nonces


# Compares decimal strings as numbers: Lua numbers are doubles, which cannot tell apart
# nanosecond nonces (about 1.7e18, above 2**53). Both strings are non-negative, no leading zeros.
_ACCEPT_IF_NEWER_LUA = """
local function above(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end
local stored = redis.call('GET', KEYS[1])
if not above(ARGV[1], stored or ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"""


class _RedisConnection:
    """What the Redis stores share: the URL, and a client made lazily, once per process and
    event loop, so one store object can be handed to forked workers."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Redis | None = None
        self._client_owner: tuple[int, Any] | None = None

    @property
    def url(self) -> str:
        """The Redis URL."""
        return self._url

    def _redis(self) -> Redis:
        """The client of this process and event loop (a forked child or a new loop makes its own:
        a connection must not be shared across either)."""
        import asyncio

        from redis.asyncio import Redis

        owner = (os.getpid(), asyncio.get_running_loop())
        if self._client is None or self._client_owner != owner:
            self._client = Redis.from_url(self._url)
            self._client_owner = owner
        return self._client

    async def aclose(self) -> None:
        """Close this process's connection pool (the store reconnects if used again)."""
        client, self._client, self._client_owner = self._client, None, None
        if client is not None:
            await client.aclose()


class RedisReplayStore(_RedisConnection):
    """Last accepted nonce per endpoint key in Redis, shared by processes and hosts.

    Args:
        url: Redis URL, e.g. ``"redis://127.0.0.1:6379/0"`` (``redis.asyncio.Redis.from_url``).
        namespace: keeps the nonces of one axon hotkey apart from another's on a shared Redis
            (a dendrite calls many miners with one nonce sequence); ``Axon`` uses its hotkey.
        ttl: seconds an entry is kept after its last write; must exceed the Axon's freshness
            window (module docstring).
        key_prefix: prefix of every Redis key this store writes.

    The connection is made lazily, once per process and event loop, so one store object can be
    handed to forked workers.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str,
        ttl: float = 600.0,
        key_prefix: str = "synapsegen:nonce:",
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
        super().__init__(url)
        self._ttl_ns = int(ttl * NANOSECONDS_IN_SECOND)
        self._key_prefix = f"{key_prefix}{namespace}:"
        self._accept_sha: str | None = None

    @property
    def floor(self) -> int:
        """``now - ttl`` in nanoseconds: expired entries' nonces are below it."""
        return max(time.time_ns() - self._ttl_ns, 0)

    def redis_key(self, key: str) -> str:
        """The Redis key holding ``key``'s last nonce."""
        return self._key_prefix + key

    async def last_nonce(self, key: str) -> int | None:
        """Last accepted nonce of ``key``; None if unknown or expired."""
        value = await self._redis().get(self.redis_key(key))
        return None if value is None else int(value)

    def _expiry_ms(self, nonce: int) -> int:
        """``ttl`` after the later of now and the nonce's time (at most ``ttl`` ahead), so an
        entry never expires while its nonce is still above the floor."""
        ahead_ns = min(max(nonce - time.time_ns(), 0), self._ttl_ns)
        return (self._ttl_ns + ahead_ns) // 1_000_000 + 1

    async def accept_if_newer(self, key: str, nonce: int) -> bool:
        """One Lua script: compare with the stored nonce (or the floor) and write, atomically."""
        from redis.exceptions import NoScriptError

        floor = self.floor
        if nonce <= floor:  # also keeps negative numbers out of the script's string comparison
            return False
        client = self._redis()
        arguments = (self.redis_key(key), str(nonce), str(floor), str(self._expiry_ms(nonce)))
        if self._accept_sha is None:
            self._accept_sha = str(await client.script_load(_ACCEPT_IF_NEWER_LUA))
        try:
            accepted = await client.evalsha(self._accept_sha, 1, *arguments)
        except NoScriptError:  # a restarted Redis forgot the script: send it whole
            accepted = await client.eval(_ACCEPT_IF_NEWER_LUA, 1, *arguments)
        return bool(accepted == 1)


# ------------------------------------------------------------------------------------ seen-stores


@runtime_checkable
class SeenStore(Protocol):
    """Request keys seen inside a freshness window, as the request verifiers use it."""

    async def first_sight(self, key: str, timestamp_ns: int, retain_s: float) -> bool:
        """Atomically: record ``key`` and return True if it was never seen; False if it was (or
        if ``timestamp_ns + retain_s`` is already past). A recorded key is remembered at least
        until ``timestamp_ns + retain_s``."""
        ...


def _retain_ns(retain_s: float) -> int:
    if not 0 < retain_s < float("inf"):
        raise ValueError(f"retain_s must be a positive number of seconds, got {retain_s}")
    return int(retain_s * NANOSECONDS_IN_SECOND)


class SeenSet:
    """Request keys seen recently, in this process's memory, at most ``max_entries`` of them.

    The default seen-store of a single-process server (module docstring: expiry, eviction by
    oldest timestamp, and the floor that keeps eviction replay-safe). ``clock`` gives the time
    in nanoseconds (``time.time_ns``; tests pass their own).
    """

    def __init__(
        self, max_entries: int = 65536, *, clock: Callable[[], int] = time.time_ns
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self._max_entries = max_entries
        self._clock = clock
        self._expiry: dict[str, int] = {}  # key -> when it may be forgotten (ns)
        # (timestamp_ns, expiry_ns, key) of every key in _expiry, oldest timestamp first.
        self._by_time: list[tuple[int, int, str]] = []
        self._floor = 0

    @property
    def floor(self) -> int:
        """Largest timestamp evicted so far (0 if none): timestamps at or below it are refused."""
        return self._floor

    @property
    def max_entries(self) -> int:
        """Capacity of the set."""
        return self._max_entries

    def _forget_expired(self, now_ns: int) -> None:
        # Expiry times follow timestamps when retain_s is the same for every key (one verifier);
        # with mixed retentions a key may outstay its expiry behind an older one, never leave
        # early, and the set stays bounded by max_entries either way.
        by_time, expiry = self._by_time, self._expiry
        while by_time and by_time[0][1] <= now_ns:
            _, _, key = heapq.heappop(by_time)
            del expiry[key]

    def see(self, key: str, timestamp_ns: int, retain_s: float) -> bool:
        """``first_sight`` without the ``await`` (nothing here waits, so both are atomic)."""
        retain_ns = _retain_ns(retain_s)
        now_ns = self._clock()
        self._forget_expired(now_ns)
        expires_ns = timestamp_ns + retain_ns
        if timestamp_ns <= self._floor or expires_ns <= now_ns or key in self._expiry:
            return False
        self._expiry[key] = expires_ns
        heapq.heappush(self._by_time, (timestamp_ns, expires_ns, key))
        while len(self._expiry) > self._max_entries:
            evicted, _, evicted_key = heapq.heappop(self._by_time)
            del self._expiry[evicted_key]
            self._floor = max(self._floor, evicted)
        return True

    async def first_sight(self, key: str, timestamp_ns: int, retain_s: float) -> bool:
        """``see`` for the ``SeenStore`` interface."""
        return self.see(key, timestamp_ns, retain_s)

    def __len__(self) -> int:
        return len(self._expiry)

    def __contains__(self, key: object) -> bool:
        return key in self._expiry


class RedisSeenStore(_RedisConnection):
    """Request keys seen recently, in Redis (``SET NX PX``), shared by processes and hosts.

    Args:
        url: Redis URL, e.g. ``"redis://127.0.0.1:6379/0"``.
        namespace: keeps one server hotkey's keys apart from another's on a shared Redis (the
            same signed request may legitimately reach two servers that accept unbound ones).
        key_prefix: prefix of every Redis key this store writes.

    Connects lazily, once per process and event loop, like ``RedisReplayStore``.
    """

    def __init__(self, url: str, *, namespace: str, key_prefix: str = "synapsegen:seen:") -> None:
        super().__init__(url)
        self._key_prefix = f"{key_prefix}{namespace}:"

    def redis_key(self, key: str) -> str:
        """The Redis key recording ``key``."""
        return self._key_prefix + key

    async def first_sight(self, key: str, timestamp_ns: int, retain_s: float) -> bool:
        """One ``SET NX``: atomic in Redis, whichever worker or host asks."""
        retain_ns = _retain_ns(retain_s)
        now_ns = time.time_ns()
        if timestamp_ns + retain_ns <= now_ns:
            return False
        # retain_s from now, longer for a timestamp from the future: on another host whose clock
        # is a little behind this one, the key still outlives timestamp + retain_s.
        expiry_ms = (retain_ns + max(timestamp_ns - now_ns, 0)) // 1_000_000 + 1
        written = await self._redis().set(
            self.redis_key(key), str(timestamp_ns), nx=True, px=expiry_ms
        )
        return bool(written)
