"""The Axon's capability manifest (``GET /synapsegen/manifest``) and ``schema_hash_of``.

A real Axon on 127.0.0.1 serving generated classes (two versions of one schema,
``_schema_versions``) and hand-written ones; the manifest is fetched with plain aiohttp, no
signature.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from types import ModuleType
from typing import Any, ClassVar

import aiohttp
import pytest
from bittensor_wallet import Keypair

import synapsegen
from synapsegen.runtime import manifest as manifest_module
from synapsegen.runtime import schema_hash_of
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import Dendrite
from synapsegen.runtime.synapse import Synapse

from ._schema_versions import generated_versions

MINER = Keypair.create_from_seed("0x" + "b1" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "b2" * 32)


class Handmade(Synapse):
    """Written by hand: no schema hash."""

    text: str = ""


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ModuleType, ModuleType]]:
    yield from generated_versions(tmp_path_factory.mktemp("versions"))


def forward_for(cls: type[Synapse]) -> Any:
    """A forward function for ``cls`` (its annotation names the class, as ``attach`` needs)."""

    def forward(synapse: Any) -> Any:
        if hasattr(synapse, "stream_response"):

            async def tokens() -> AsyncIterator[str]:
                yield "once upon a time"

            return synapse.stream_response(tokens())
        if hasattr(synapse, "score"):
            synapse.score = 0.5
        return synapse

    forward.__annotations__ = {"synapse": cls, "return": Any}
    return forward


def serving(module: ModuleType, *extra: type[Synapse]) -> Axon:
    axon = Axon(MINER)
    for cls in (module.Scored, module.Story, *extra):
        axon.attach(forward_for(cls), transports=("bittensor10", "btauth/1"))
    return axon


async def get(axon: Axon, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{axon.port}{path}"
        async with session.request(method, url) as response:
            return response.status, dict(response.headers), await response.read()


async def test_the_manifest_lists_every_route_with_its_hash(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, _ = versions
    async with serving(v1, Handmade) as axon:
        status, headers, body = await get(axon, "/synapsegen/manifest")
    assert status == 200 and headers["Content-Type"] == "application/json"
    both = ["bittensor10", "btauth/1"]
    assert json.loads(body) == {
        "synapsegen": synapsegen.__version__,
        "hotkey": MINER.ss58_address,
        "synapses": {
            "Handmade": {"schema_hash": None, "transports": both, "streaming": False},
            "Scored": {
                "schema_hash": v1.Scored.schema_hash,
                "transports": both,
                "streaming": False,
            },
            "Story": {"schema_hash": v1.Story.schema_hash, "transports": both, "streaming": True},
            "Synapse": {"schema_hash": None, "transports": ["bittensor10"], "streaming": False},
        },
    }
    assert v1.Scored.schema_hash.startswith("sha256:")


async def test_two_versions_of_a_schema_differ_where_the_wire_does(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, v2 = versions
    assert v1.Scored.schema_hash != v2.Scored.schema_hash  # a request field added
    assert v1.Story.schema_hash == v2.Story.schema_hash  # only its description changed
    async with serving(v2) as axon:
        _, _, body = await get(axon, "/synapsegen/manifest")
    served = json.loads(body)["synapses"]
    assert served["Scored"]["schema_hash"] == v2.Scored.schema_hash


async def test_other_methods_get_405_and_synapse_routes_are_untouched(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, _ = versions
    async with serving(v1) as axon:
        for method in ("POST", "PUT", "DELETE"):
            status, headers, body = await get(axon, "/synapsegen/manifest", method)
            assert (status, headers["Allow"]) == (405, "GET"), method
            assert json.loads(body) == {"detail": "Method Not Allowed"}
        # The path's first segment is no route: an unknown synapse, as before.
        status, _, body = await get(axon, "/synapsegen", "POST")
        assert status == 404 and "'synapsegen' not found" in json.loads(body)["message"]
        async with Dendrite(VALIDATOR) as dendrite:
            scored = await dendrite.call(axon, v1.Scored(prompt="hi"), timeout=5)
            story = [i async for i in dendrite.call_stream(axon, v1.Story(prompt="hi"), timeout=5)]
    assert (scored, story) == (0.5, ["once upon a time", "once upon a time"])


async def test_the_manifest_is_built_once_per_set_of_routes(
    versions: tuple[ModuleType, ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    v1, _ = versions
    built: list[int] = []
    real = manifest_module.manifest_document

    def counting(*args: Any) -> dict[str, Any]:
        built.append(1)
        return real(*args)

    monkeypatch.setattr("synapsegen.runtime._axon_app.manifest_document", counting)
    axon = serving(v1)
    async with axon:
        first = (await get(axon, "/synapsegen/manifest"))[2]
        assert (await get(axon, "/synapsegen/manifest"))[2] == first
        assert len(built) == 1
        axon.attach(forward_for(Handmade))  # a new route: a new manifest
        third = (await get(axon, "/synapsegen/manifest"))[2]
    assert len(built) == 2 and "Handmade" in json.loads(third)["synapses"]


def test_attach_refuses_a_class_named_like_no_route() -> None:
    odd = type("synapsegen/manifest", (Synapse,), {})

    def forward(synapse: Any) -> Any:
        return synapse

    forward.__annotations__ = {"synapse": odd}
    with pytest.raises(ValueError, match="not a Python identifier"):
        Axon(MINER).attach(forward)


# ---- schema_hash_of ----------------------------------------------------------------------------


def test_schema_hash_of_a_generated_class_and_a_handmade_one(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, _ = versions
    assert schema_hash_of(v1.Scored) == v1.Scored.schema_hash
    assert schema_hash_of(Handmade) is None
    assert schema_hash_of(Synapse) is None


def test_a_subclass_keeps_the_hash_only_while_its_wire_is_the_same(
    versions: tuple[ModuleType, ModuleType],
) -> None:
    v1, _ = versions

    class Methods(v1.Scored):  # type: ignore[name-defined,misc]
        def deserialize(self) -> float:
            return 2 * float(self.score)

    class MoreFields(v1.Scored):  # type: ignore[name-defined,misc]
        extra: int = 0

    class Retyped(v1.Scored):  # type: ignore[name-defined,misc]
        score: int = 0

    class OtherHash(v1.Scored):  # type: ignore[name-defined,misc]
        required_hash_fields: ClassVar[tuple[str, ...]] = ()

    class OwnHash(MoreFields):
        schema_hash: ClassVar[str] = "sha256:" + "0" * 64

    assert schema_hash_of(Methods) == v1.Scored.schema_hash
    assert schema_hash_of(MoreFields) is None
    assert schema_hash_of(Retyped) is None
    assert schema_hash_of(OtherHash) is None
    assert schema_hash_of(OwnHash) == "sha256:" + "0" * 64


def test_served_hashes_reads_a_manifest_and_refuses_other_json() -> None:
    document = manifest_module.manifest_document("5F", [("A", Handmade, ["bittensor10"])])
    assert manifest_module.served_hashes(document) == {"A": None}
    assert manifest_module.served_hashes(
        {"synapsegen": "9", "synapses": {"A": {"schema_hash": "sha256:1"}, "B": [], "C": {}}}
    ) == {"A": "sha256:1", "B": None, "C": None}
    for junk in (None, [], {"message": "not found"}, {"synapsegen": 1, "synapses": {}},
                 {"synapsegen": "1", "synapses": []}):  # fmt: skip
        assert manifest_module.served_hashes(junk) is None
