"""The Dendrite's schema check (``runtime/_schema_check.py``): the manifest cache on its own,
against a scripted server, then ``Dendrite(check_schema=...)`` against real Axons serving two
versions of one schema (``_schema_versions``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any, ClassVar

import aiohttp
import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, Dendrite
from synapsegen.runtime._axon_app import AxonApp
from synapsegen.runtime._schema_check import ManifestCache, SchemaCheck, SchemaMismatch
from synapsegen.runtime.synapse import Synapse

from ._local_server import LocalServer
from ._schema_versions import generated_versions

MINER = Keypair.create_from_seed("0x" + "c1" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "c2" * 32)
OURS = "sha256:" + "a" * 64
THEIRS = "sha256:" + "b" * 64


class Chat(Synapse):
    schema_hash: ClassVar[str] = OURS


class Other(Synapse):
    schema_hash: ClassVar[str] = OURS


class Handmade(Synapse):
    pass


def manifest(hashes: dict[str, str | None], hotkey: str = MINER.ss58_address) -> bytes:
    synapses = {name: {"schema_hash": value, "transports": ["bittensor10"], "streaming": False}
                for name, value in hashes.items()}  # fmt: skip
    document = {"synapsegen": "0.1.0", "hotkey": hotkey, "synapses": synapses}
    return json.dumps(document).encode()


class Scripted(LocalServer):
    """Answers every request with ``status`` and ``body`` after ``delay`` seconds; counts them."""

    def __init__(self, status: int = 200, body: bytes = b"", delay: float = 0.0) -> None:
        super().__init__(MINER.ss58_address)
        self.status, self.body, self.delay = status, body, delay
        self.requests: list[str] = []

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head.split(b"\r\n", 1)[0].decode())
        await asyncio.sleep(self.delay)
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode()
            + self.body
        )
        await writer.drain()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def verify(cache: ManifestCache, server: Scripted, cls: type, timeout: float = 5.0) -> None:
    async with aiohttp.ClientSession() as session:
        await cache.verify(session, server.host, MINER.ss58_address, cls, timeout)


# ---- the cache on its own ---------------------------------------------------------------------


async def test_a_different_hash_is_refused_with_both_hashes_named() -> None:
    cache = ManifestCache(SchemaCheck())
    async with Scripted(body=manifest({"Chat": THEIRS, "Other": OURS})) as server:
        with pytest.raises(SchemaMismatch) as caught:
            await verify(cache, server, Chat)
        await verify(cache, server, Other)  # the same hash: called
        with pytest.raises(SchemaMismatch):
            await verify(cache, server, Chat)
    assert str(caught.value) == (
        f"schema mismatch: the miner serves Chat {THEIRS} but this validator has {OURS}"
    )
    assert caught.value.status == 409
    assert server.requests == ["GET /synapsegen/manifest HTTP/1.1"]  # once per axon
    assert cache.fetches == 1


@pytest.mark.parametrize(
    "served",
    [{"Chat": OURS}, {"Other": THEIRS}, {"Chat": None}],
    ids=["same hash", "class not listed", "no hash served"],
)
async def test_nothing_to_refuse(served: dict[str, str | None]) -> None:
    async with Scripted(body=manifest(served)) as server:
        await verify(ManifestCache(SchemaCheck()), server, Chat)


async def test_a_class_without_a_hash_fetches_nothing() -> None:
    cache = ManifestCache(SchemaCheck())
    async with Scripted(body=manifest({"Handmade": THEIRS})) as server:
        await verify(cache, server, Handmade)
    assert server.requests == [] and cache.fetches == 0


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (404, b'{"message": "Synapse name \'synapsegen\' not found. Available synapses []"}'),
        (405, b'{"detail": "Method Not Allowed"}'),
        (401, b'{"message": "Missing Signature"}'),
        (200, b"not json"),
        (200, b'{"message": "some other document"}'),
        (200, manifest({"Chat": THEIRS}, hotkey="5Another")),
        (200, b"[" * 2 + b" " * (1 << 20) + b"]" * 2),  # over 1 MiB
    ],
    ids=["404 bittensor", "405", "401", "not JSON", "not a manifest", "another hotkey", "too big"],
)
async def test_no_manifest_means_call_and_is_kept_for_ttl(status: int, body: bytes) -> None:
    clock = Clock()
    cache = ManifestCache(SchemaCheck(ttl=60.0, retry_after=5.0), clock)
    async with Scripted(status, body) as server:
        await verify(cache, server, Chat)
        clock.now += 59.0
        await verify(cache, server, Chat)
        assert len(server.requests) == 1
        clock.now += 2.0
        await verify(cache, server, Chat)
        assert len(server.requests) == 2


async def test_a_manifest_is_kept_for_ttl_so_an_upgrade_is_seen() -> None:
    clock = Clock()
    cache = ManifestCache(SchemaCheck(ttl=60.0), clock)
    async with Scripted(body=manifest({"Chat": THEIRS})) as server:
        with pytest.raises(SchemaMismatch):
            await verify(cache, server, Chat)
        server.body = manifest({"Chat": OURS})  # the miner upgraded
        clock.now += 30.0
        with pytest.raises(SchemaMismatch):
            await verify(cache, server, Chat)
        clock.now += 31.0
        await verify(cache, server, Chat)
    assert len(server.requests) == 2


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_asked_again_after_retry_after(status: int) -> None:
    clock = Clock()
    cache = ManifestCache(SchemaCheck(ttl=600.0, retry_after=5.0), clock)
    async with Scripted(status, b'{"message": "boom"}') as server:
        await verify(cache, server, Chat)
        clock.now += 4.0
        await verify(cache, server, Chat)
        assert len(server.requests) == 1
        clock.now += 2.0
        server.status, server.body = 200, manifest({"Chat": THEIRS})
        with pytest.raises(SchemaMismatch):
            await verify(cache, server, Chat)


async def test_an_unreachable_axon_is_called_and_asked_again_later() -> None:
    clock = Clock()
    cache = ManifestCache(SchemaCheck(retry_after=5.0), clock)
    async with Scripted() as server:
        host = server.host
    async with aiohttp.ClientSession() as session:  # nothing listens there any more
        await cache.verify(session, host, MINER.ss58_address, Chat, 5.0)
        await cache.verify(session, host, MINER.ss58_address, Chat, 5.0)
        assert cache.fetches == 1
        clock.now += 6.0
        await cache.verify(session, host, MINER.ss58_address, Chat, 5.0)
    assert cache.fetches == 2


@pytest.mark.parametrize(("limit", "call_timeout"), [(0.2, 5.0), (5.0, 0.2)])
async def test_a_slow_manifest_waits_the_shorter_timeout(limit: float, call_timeout: float) -> None:
    cache = ManifestCache(SchemaCheck(timeout=limit))
    async with Scripted(body=manifest({"Chat": THEIRS}), delay=3.0) as server:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await verify(cache, server, Chat, call_timeout)  # no answer in time: called
        assert loop.time() - started < 1.0


async def test_concurrent_first_requests_share_one_fetch() -> None:
    cache = ManifestCache(SchemaCheck())
    server = Scripted(body=manifest({"Chat": THEIRS, "Other": OURS}), delay=0.2)
    async with server, aiohttp.ClientSession() as session:
        checks = [cache.verify(session, server.host, server.hotkey, cls, 5.0)
                  for cls in (Chat, Other, Chat, Other)]  # fmt: skip
        outcomes = await asyncio.gather(*checks, return_exceptions=True)
    assert [type(o).__name__ for o in outcomes] == ["SchemaMismatch", "NoneType"] * 2
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [({"timeout": 0}, ValueError), ({"ttl": float("inf")}, ValueError),
     ({"retry_after": -1}, ValueError), ({"timeout": "2"}, TypeError), ({"ttl": True}, TypeError)],
)  # fmt: skip
def test_schema_check_refuses_bad_limits(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        SchemaCheck(**options)


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, ModuleType]]:
    yield from generated_versions(tmp_path_factory.mktemp("versions"))


# ---- Dendrite(check_schema=...) against real Axons --------------------------------------------


class Served:
    """A real Axon serving a module's ``Scored`` and ``Story``, counting what its forwards get."""

    def __init__(self, module: ModuleType) -> None:
        self.forwarded: list[str] = []
        self.axon = Axon(MINER)
        for cls in (module.Scored, module.Story):
            self.axon.attach(self._forward(cls))

    def _forward(self, cls: type) -> Any:
        def forward(synapse: Any) -> Any:
            self.forwarded.append(type(synapse).__name__)
            if hasattr(synapse, "stream_response"):

                async def tokens() -> AsyncIterator[str]:
                    yield "once upon a time"

                return synapse.stream_response(tokens())
            synapse.score = 0.5
            return synapse

        forward.__annotations__ = {"synapse": cls, "return": Any}
        return forward


async def test_a_changed_schema_is_refused_before_sending_and_the_same_one_called(
    versions: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    v1, v2 = versions
    miner = Served(v2)
    manifests = _count_manifests(monkeypatch)
    async with miner.axon as axon, Dendrite(VALIDATOR, check_schema=True) as dendrite:
        refused = await dendrite.call(axon, v1.Scored(prompt="hi"), timeout=5, deserialize=False)
        story = [i async for i in dendrite.call_stream(axon, v1.Story(prompt="hi"), timeout=5)]
        again = await dendrite.call(axon, v1.Scored(prompt="hi"), timeout=5, deserialize=False)
    assert refused.dendrite.status_code == 409 and not refused.is_success
    assert refused.dendrite.status_message == (
        f"schema mismatch: the miner serves Scored {v2.Scored.schema_hash} but this validator "
        f"has {v1.Scored.schema_hash}"
    )
    assert refused.axon.status_code is None  # nothing came back from the miner
    assert again.dendrite.status_code == 409
    assert story == ["once upon a time", "once upon a time"]  # the same schema: served
    assert miner.forwarded == ["Story"]  # Scored was never sent
    assert manifests == [1]  # one manifest for the axon, every class and call


async def test_without_the_check_the_request_is_sent_and_fails_on_the_miner(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, v2 = versions
    miner = Served(v2)
    async with miner.axon as axon, Dendrite(VALIDATOR) as dendrite:
        sent = await dendrite.call(axon, v1.Scored(prompt="hi"), timeout=5, deserialize=False)
    # v2's required `language` is missing: the miner cannot build the synapse (bittensor's 500).
    assert sent.dendrite.status_code == 500
    assert sent.dendrite.status_message.startswith("Internal Server Error #")
    assert miner.forwarded == []


async def test_a_validator_of_the_new_version_is_refused_by_an_old_miner_too(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, v2 = versions
    async with Served(v1).axon as axon, Dendrite(VALIDATOR, check_schema=True) as dendrite:
        refused = await dendrite.call(
            axon, v2.Scored(prompt="hi", language="de"), timeout=5, deserialize=False
        )
        same = await dendrite.call(axon, v1.Scored(prompt="hi"), timeout=5)
    assert refused.dendrite.status_code == 409
    assert same == 0.5  # the manifest names the hash, not the module the class came from


async def test_a_streaming_mismatch_yields_only_the_refused_synapse(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, _ = versions

    class Story(v1.Story):  # type: ignore[name-defined,misc]  # the same route, another hash
        schema_hash: ClassVar[str] = THEIRS

    miner = Served(v1)
    async with miner.axon as axon, Dendrite(VALIDATOR, check_schema=True) as dendrite:
        items = [
            item
            async for item in dendrite.call_stream(
                axon, Story(prompt="hi"), timeout=5, deserialize=False
            )
        ]
    (synapse,) = items
    assert synapse.dendrite.status_code == 409 and synapse.completion == ""
    assert miner.forwarded == []


async def test_a_fan_out_refuses_only_the_miners_that_differ(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, v2 = versions
    old, new = Served(v1), Served(v2)
    check = SchemaCheck(timeout=1.0, ttl=60.0)
    async with old.axon as a, new.axon as b, Dendrite(VALIDATOR, check_schema=check) as dendrite:
        answers = await dendrite.forward([a, b, a], v1.Scored(prompt="hi"), timeout=5)
        statuses = await dendrite.forward(
            [a, b], v1.Scored(prompt="hi"), timeout=5, deserialize=False
        )
    assert answers == [0.5, 0.0, 0.5]  # a refused synapse deserializes to its default (0)
    assert [s.dendrite.status_code for s in statuses] == [200, 409]
    assert old.forwarded == ["Scored"] * 3 and new.forwarded == []


async def test_a_handwritten_class_is_called_without_a_manifest(
    versions: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = _count_manifests(monkeypatch)
    axon = Axon(MINER)

    def echo(synapse: Handmade) -> Handmade:
        return synapse

    echo.__annotations__ = {"synapse": Handmade, "return": Handmade}
    async with axon.attach(echo), Dendrite(VALIDATOR, check_schema=True) as dendrite:
        answer = await dendrite.call(axon, Handmade(), timeout=5, deserialize=False)
    assert answer.dendrite.status_code == 200 and manifests == [0]


def test_check_schema_takes_a_bool_or_a_schema_check() -> None:
    with pytest.raises(TypeError, match="check_schema must be a bool or a SchemaCheck"):
        Dendrite(VALIDATOR, check_schema="yes")  # type: ignore[arg-type]


def _count_manifests(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many manifests the Axons served (a one-item list, counted up)."""
    count = [0]
    real = AxonApp.manifest_json

    def counting(self: AxonApp) -> bytes:
        count[0] += 1
        return real(self)

    monkeypatch.setattr(AxonApp, "manifest_json", counting)
    return count
