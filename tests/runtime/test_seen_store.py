"""The seen-stores on their own: one rule for both, the Redis one against a real redis-server.

The rule (``replay.py``, "Seen-stores"): ``first_sight`` is True once per key, atomically; a key
is remembered at least until ``timestamp + retain_s``; a timestamp already older than that is
refused. ``SeenSet`` adds a bound: evicting the oldest timestamp raises a floor, at or below
which everything is refused, so eviction never lets a replay through.
"""

from __future__ import annotations

import asyncio
import time
import uuid as uuid_module
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from synapsegen.runtime import RedisSeenStore, SeenSet, SeenStore

SECOND = 1_000_000_000

StoreFactory = Callable[[], SeenStore]


class FakeClock:
    """A settable nanosecond clock for ``SeenSet``."""

    def __init__(self, now_ns: int = 1_700_000_000 * SECOND) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Stores of one kind that share what they saw (Redis: one namespace, several clients)."""
    if request.param == "memory":
        shared = SeenSet(1024)
        yield lambda: shared
        return
    url = request.getfixturevalue("redis_url")
    namespace = f"test-{uuid_module.uuid4().hex}"
    built: list[RedisSeenStore] = []

    def factory() -> SeenStore:
        store = RedisSeenStore(url, namespace=namespace)
        built.append(store)
        return store

    yield factory
    for store in built:
        await store.aclose()


def test_both_are_seen_stores() -> None:
    assert isinstance(SeenSet(), SeenStore)
    assert isinstance(RedisSeenStore("redis://127.0.0.1:1/0", namespace="n"), SeenStore)


async def test_a_key_is_new_once(make_store: StoreFactory) -> None:
    store = make_store()
    now = time.time_ns()
    assert await store.first_sight("hotkey:1", now, 12.0)
    assert not await store.first_sight("hotkey:1", now, 12.0)
    assert not await store.first_sight("hotkey:1", now + 1, 12.0)  # the key decides, not the time
    assert await store.first_sight("hotkey:2", now, 12.0)


async def test_a_timestamp_past_its_retention_is_refused(make_store: StoreFactory) -> None:
    """It could not be remembered for as long as it would be fresh: refused, not recorded."""
    store = make_store()
    assert not await store.first_sight("old", time.time_ns() - 13 * SECOND, 12.0)
    assert await store.first_sight("recent", time.time_ns() - 11 * SECOND, 12.0)


async def test_racing_first_sights_accept_one(make_store: StoreFactory) -> None:
    """Several stores (Redis: several connections, as several workers have) race one key."""
    stores = [make_store() for _ in range(4)]
    now = time.time_ns()
    results = await asyncio.gather(
        *(stores[i % 4].first_sight("hotkey:race", now, 12.0) for i in range(40))
    )
    assert results.count(True) == 1


@pytest.mark.parametrize("retain_s", [0.0, -1.0, float("inf"), float("nan")])
async def test_a_retention_that_is_no_duration_is_refused(
    make_store: StoreFactory, retain_s: float
) -> None:
    with pytest.raises(ValueError):
        await make_store().first_sight("k", time.time_ns(), retain_s)


# ---------------------------------------------------------------------------------- SeenSet


def test_seen_set_refuses_no_capacity() -> None:
    with pytest.raises(ValueError):
        SeenSet(0)


def test_seen_set_forgets_expired_keys() -> None:
    clock = FakeClock()
    seen = SeenSet(8, clock=clock)
    start = clock.now_ns
    assert seen.see("a", start, 10.0)
    assert seen.see("b", start + 5 * SECOND, 10.0)
    clock.now_ns = start + 10 * SECOND  # a's timestamp + retention: a may go, b stays
    assert not seen.see("c", start, 10.0)  # and its like is refused, not recorded
    assert "a" not in seen and "b" in seen and len(seen) == 1
    assert seen.floor == 0  # expiry is no eviction: the floor stays
    clock.now_ns = start + 15 * SECOND
    assert seen.see("d", start + 14 * SECOND, 10.0)
    assert "b" not in seen and len(seen) == 1


def test_seen_set_evicts_the_oldest_timestamp_and_raises_the_floor() -> None:
    clock = FakeClock()
    seen = SeenSet(3, clock=clock)
    now = clock.now_ns
    # Recorded out of timestamp order: eviction follows timestamps, not arrival.
    for key, age_s in (("b", 2), ("a", 3), ("c", 1)):
        assert seen.see(key, now - age_s * SECOND, 10.0)
    assert seen.see("d", now, 10.0)  # full: "a" (the oldest timestamp) goes
    assert len(seen) == 3 and "a" not in seen
    assert seen.floor == now - 3 * SECOND
    # The replay of the evicted request is still refused, and so is anything as old.
    assert not seen.see("a", now - 3 * SECOND, 10.0)
    assert not seen.see("e", now - 4 * SECOND, 10.0)
    # A request newer than the floor is fine (and evicts the next oldest).
    assert seen.see("f", now - 2 * SECOND + 1, 10.0)
    assert "b" not in seen and seen.floor == now - 2 * SECOND
    assert not seen.see("b", now - 2 * SECOND, 10.0)


def test_seen_set_stays_bounded_under_a_flood() -> None:
    clock = FakeClock()
    seen = SeenSet(100, clock=clock)
    now = clock.now_ns
    accepted = [seen.see(f"k{i}", now - (10_000 - i) * 1000, 10.0) for i in range(10_000)]
    assert all(accepted)  # increasing timestamps: each one is above the floor
    assert len(seen) == 100
    assert seen.floor == now - (10_000 - 9_899) * 1000
    # Every evicted key's replay is refused.
    assert not any(seen.see(f"k{i}", now - (10_000 - i) * 1000, 10.0) for i in range(10_000))


def test_seen_set_floor_is_not_capped_at_the_clock() -> None:
    """An evicted request from the future must stay refused when it is replayed (a floor capped at
    the clock, like NonceStore's, would let it through)."""
    clock = FakeClock()
    seen = SeenSet(1, clock=clock)
    now = clock.now_ns
    assert seen.see("future", now + 2 * SECOND, 10.0)
    assert seen.see("later", now + 3 * SECOND, 10.0)  # evicts "future"
    assert not seen.see("future", now + 2 * SECOND, 10.0)


async def test_seen_set_first_sight_is_see() -> None:
    seen = SeenSet(4)
    now = time.time_ns()
    assert await seen.first_sight("k", now, 1.0)
    assert not seen.see("k", now, 1.0)
    assert seen.max_entries == 4


# ----------------------------------------------------------------------------- RedisSeenStore


async def test_redis_store_expires_keys_after_the_retention(redis_url: str) -> None:
    store = RedisSeenStore(redis_url, namespace=f"test-{uuid_module.uuid4().hex}")
    client: Redis = Redis.from_url(redis_url)
    try:
        now = time.time_ns()
        assert await store.first_sight("k", now, 0.2)
        remaining_ms = await client.pttl(store.redis_key("k"))
        assert 150 < remaining_ms <= 201
        # A timestamp from the future is kept retain_s past that timestamp, not past now.
        assert await store.first_sight("f", now + 30 * SECOND, 60.0)
        remaining_ms = await client.pttl(store.redis_key("f"))
        assert 85_000 < remaining_ms <= 90_001
        for _ in range(100):  # bounded: "k" expires after 0.2 s
            if not await client.exists(store.redis_key("k")):
                break
            await asyncio.sleep(0.01)
        assert not await client.exists(store.redis_key("k"))
    finally:
        await client.aclose()
        await store.aclose()


async def test_redis_store_is_namespaced(redis_url: str) -> None:
    """Two servers (hotkeys) on one Redis each see a request once."""
    namespace = f"test-{uuid_module.uuid4().hex}"
    first = RedisSeenStore(redis_url, namespace=namespace)
    other = RedisSeenStore(redis_url, namespace=namespace + "-other")
    try:
        now = time.time_ns()
        assert await first.first_sight("k", now, 10.0)
        assert await other.first_sight("k", now, 10.0)
        assert first.redis_key("k") != other.redis_key("k")
    finally:
        await first.aclose()
        await other.aclose()
