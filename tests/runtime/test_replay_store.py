"""The replay stores on their own: one rule for both, the Redis one against a real redis-server.

The rule (bittensor's ``default_verify``): per endpoint key, only a nonce above the last accepted
one; an unknown key's nonce above the store's floor; the check and the write are one atomic step.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid as uuid_module
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from synapsegen.runtime import NonceStore, RedisReplayStore, ReplayStore
from synapsegen.runtime._axon_guards import NonceStore as OldPathNonceStore

StoreFactory = Callable[[], ReplayStore]


def _fresh_namespace() -> str:
    """Each test gets keys of its own on the session's Redis."""
    return f"test-{uuid_module.uuid4().hex}"


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Build stores of one kind; Redis stores of one test share a namespace (one 'axon')."""
    built: list[RedisReplayStore] = []
    if request.param == "memory":
        shared = NonceStore(16)
        yield lambda: shared
        return
    url = request.getfixturevalue("redis_url")
    namespace = _fresh_namespace()

    def factory() -> ReplayStore:
        store = RedisReplayStore(url, namespace=namespace)
        built.append(store)
        return store

    yield factory
    for store in built:
        await store.aclose()


def test_redis_is_imported_only_when_a_redis_store_is_used() -> None:
    """Production miners install the runtime without redis: building an Axon, even with a Redis
    URL, must not need it until the first request is checked."""
    code = (
        "import sys\n"
        "from synapsegen.runtime import Axon, RedisReplayStore\n"
        "Axon(replay_store='redis://127.0.0.1:1/0')\n"
        "assert 'redis' not in sys.modules, 'redis imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_old_import_path_still_works() -> None:
    assert OldPathNonceStore is NonceStore
    assert isinstance(NonceStore(), ReplayStore)


async def test_nonces_must_increase_per_key(make_store: StoreFactory) -> None:
    store = make_store()
    now = time.time_ns()
    assert await store.last_nonce("v:u") is None
    assert await store.accept_if_newer("v:u", now)
    assert await store.last_nonce("v:u") == now
    assert not await store.accept_if_newer("v:u", now)  # the replay
    assert not await store.accept_if_newer("v:u", now - 1)  # older
    assert await store.accept_if_newer("v:u2", now - 1)  # another key has its own sequence
    assert await store.accept_if_newer("v:u", now + 1)
    assert await store.last_nonce("v:u") == now + 1


async def test_unknown_key_needs_a_nonce_above_the_floor(make_store: StoreFactory) -> None:
    store = make_store()
    assert not await store.accept_if_newer("v:u", store.floor)
    assert not await store.accept_if_newer("v:u", -5)
    assert await store.last_nonce("v:u") is None


async def test_nanosecond_nonces_compare_exactly(make_store: StoreFactory) -> None:
    """Bug class: Lua numbers are doubles; 1.7e18 and 1.7e18 + 1 are the same double, so a
    numeric comparison in the script would take a replay of ``n`` after ``n + 1`` as equal and
    ``n + 1`` after ``n`` as no newer."""
    store = make_store()
    base = time.time_ns() // 1024 * 1024  # a multiple of 1024: + 1 is lost as a double
    assert float(base) == float(base + 1)
    assert await store.accept_if_newer("v:u", base)
    assert await store.accept_if_newer("v:u", base + 1)
    assert not await store.accept_if_newer("v:u", base + 1)
    assert await store.last_nonce("v:u") == base + 1


async def test_same_nonce_racing_is_accepted_once(make_store: StoreFactory) -> None:
    """Several stores (Redis: several connections, as several workers have) race one nonce."""
    stores = [make_store() for _ in range(4)]
    nonce = time.time_ns()
    results = await asyncio.gather(
        *(stores[i % 4].accept_if_newer("v:race", nonce) for i in range(40))
    )
    assert results.count(True) == 1


async def test_redis_store_is_shared_and_namespaced(redis_url: str) -> None:
    namespace = _fresh_namespace()
    first = RedisReplayStore(redis_url, namespace=namespace)
    second = RedisReplayStore(redis_url, namespace=namespace)  # another worker, or a restart
    other_axon = RedisReplayStore(redis_url, namespace=namespace + "-other")
    try:
        nonce = time.time_ns()
        assert await first.accept_if_newer("v:u", nonce)
        assert not await second.accept_if_newer("v:u", nonce)
        # A dendrite calling two miners may reach the second one with an older nonce.
        assert await other_axon.accept_if_newer("v:u", nonce - 10)
    finally:
        for store in (first, second, other_axon):
            await store.aclose()


async def test_redis_store_expired_entry_stays_refused(redis_url: str) -> None:
    """An entry expires ``ttl`` after its write, but its nonce is then below the moving floor."""
    store = RedisReplayStore(redis_url, namespace=_fresh_namespace(), ttl=0.2)
    try:
        nonce = time.time_ns()
        assert await store.accept_if_newer("v:u", nonce)
        for _ in range(100):  # bounded: the key expires after 0.2 s
            if await store.last_nonce("v:u") is None:
                break
            await asyncio.sleep(0.01)
        assert await store.last_nonce("v:u") is None
        assert not await store.accept_if_newer("v:u", nonce)
        assert await store.accept_if_newer("v:u", time.time_ns())
    finally:
        await store.aclose()


async def test_redis_store_entry_of_a_future_nonce_outlives_the_ttl(redis_url: str) -> None:
    """A nonce from the future would be above the floor when its entry expires after ``ttl``:
    the entry lives ``ttl`` past the nonce's time instead."""
    store = RedisReplayStore(redis_url, namespace=_fresh_namespace(), ttl=60.0)
    client: Redis = Redis.from_url(redis_url)
    try:
        future = time.time_ns() + 30 * 10**9
        assert await store.accept_if_newer("v:u", future)
        remaining_ms = await client.pttl(store.redis_key("v:u"))
        assert 85_000 < remaining_ms <= 90_001
    finally:
        await client.aclose()
        await store.aclose()


async def test_redis_store_survives_a_script_flush(redis_url: str) -> None:
    """A restarted (or flushed) Redis forgets loaded scripts: the store sends it again."""
    store = RedisReplayStore(redis_url, namespace=_fresh_namespace())
    client: Redis = Redis.from_url(redis_url)
    try:
        assert await store.accept_if_newer("v:u", time.time_ns())
        await client.script_flush()
        assert await store.accept_if_newer("v:u", time.time_ns())
    finally:
        await client.aclose()
        await store.aclose()


def test_redis_store_refuses_a_ttl_that_is_no_duration() -> None:
    with pytest.raises(ValueError):
        RedisReplayStore("redis://127.0.0.1:1/0", namespace="n", ttl=0)
