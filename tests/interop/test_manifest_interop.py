"""The capability manifest (``GET /synapsegen/manifest``) against real bittensor 10.5.0.

- bittensor's side reads our Axon's manifest: with the aiohttp session of a real
  ``bittensor.Dendrite`` (its Dendrite only POSTs ``/<ClassName>``; its session is what a
  bittensor validator has at hand) and with urllib. The hashes it lists are the ``schema_hash``
  of the classes generated for ``--runtime bittensor`` from the same schemas: both flavours agree.
- A method other than GET gets a clean 405 there.
- A real bittensor Axon answers the path 404 ``Synapse name 'synapsegen' not found`` (JSON, with
  bittensor's error headers): our ``Dendrite(check_schema=True)`` takes it for "no manifest" and
  calls that axon as usual (one manifest request, then none for ``ttl``).

No ``from __future__ import annotations``: the Axon reads the forward functions' annotations.
"""

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bittensor_wallet import Keypair

import synapsegen
from synapsegen.runtime import Axon, AxonTarget, Dendrite

from .harness import (
    LOOPBACK,
    REPO_ROOT,
    BtAxonServer,
    BtScript,
    generated_flavours,
    start_bt_generated_axon,
)

SCHEMAS = [REPO_ROOT / "schemas" / "chat.yaml", REPO_ROOT / "schemas" / "prompting.yaml"]
BT_PACKAGE, OUR_PACKAGE = "gen_bt_manifest", "gen_sg_manifest"
CLASSES = {"chat": ["ChatCompletion"], "prompting": ["AvailabilitySynapse", "PromptingSynapse"]}


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    packages = {BT_PACKAGE: "bittensor", OUR_PACKAGE: "synapsegen"}
    with generated_flavours(tmp_path_factory.mktemp("generated"), SCHEMAS, packages) as root:
        yield root


def _our_classes() -> dict[str, Any]:
    return {
        name: getattr(importlib.import_module(f"{OUR_PACKAGE}.{module}"), name)
        for module, names in CLASSES.items()
        for name in names
    }


@pytest.fixture(scope="module")
def our_axon(generated_root: Path, keypairs: dict[str, Keypair]) -> Iterator[Axon]:
    axon = Axon(keypairs["miner"], ip=LOOPBACK, port=0)
    for cls in _our_classes().values():

        def forward(synapse: Any) -> Any:
            return synapse

        forward.__annotations__ = {"synapse": cls, "return": Any}
        axon.attach(forward)
    axon.start()
    try:
        yield axon
    finally:
        axon.stop()


@pytest.fixture(scope="module")
def http_client(generated_root: Path, bt_with_synapsegen: Path) -> Iterator[BtScript]:
    with BtScript("http_get.py", extra_pythonpath=[generated_root]) as script:
        assert script.receive() == {"ready": True}
        yield script


def _bt_get(script: BtScript, url: str, client: str, method: str = "GET") -> dict[str, Any]:
    hashes: dict[str, Any] = {}
    for module, names in CLASSES.items():
        request = {"url": url, "method": method, "client": client,
                   "module": f"{BT_PACKAGE}.{module}", "classes": names}  # fmt: skip
        answer = script.request(request)
        assert "error" not in answer, answer["error"]
        hashes.update(answer.pop("hashes"))
    answer["hashes"] = hashes
    return answer


@pytest.mark.parametrize("client", ["bt_session", "urllib"])
def test_bittensor_side_reads_our_manifest(
    our_axon: Axon, http_client: BtScript, keypairs: dict[str, Keypair], client: str
) -> None:
    url = f"http://{LOOPBACK}:{our_axon.port}/synapsegen/manifest"
    answer = _bt_get(http_client, url, client)
    assert answer["bittensor"] == "10.5.0"
    assert (answer["status"], answer["content_type"]) == (200, "application/json")
    manifest = json.loads(answer["body"])
    assert manifest["synapsegen"] == synapsegen.__version__
    assert manifest["hotkey"] == keypairs["miner"].ss58_address
    ours = _our_classes()
    served = manifest["synapses"]
    assert set(served) == {*ours, "Synapse"}
    for name, cls in ours.items():
        # The same schema gives the same hash in both flavours.
        assert served[name]["schema_hash"] == cls.schema_hash == answer["hashes"][name], name
        assert served[name]["streaming"] == hasattr(cls, "stream_media")
        assert served[name]["transports"] == ["bittensor10", "btauth/1"]
    assert served["Synapse"]["schema_hash"] is None


def test_bittensor_side_posting_to_the_manifest_gets_405(
    our_axon: Axon, http_client: BtScript
) -> None:
    url = f"http://{LOOPBACK}:{our_axon.port}/synapsegen/manifest"
    answer = _bt_get(http_client, url, "urllib", method="POST")
    assert (answer["status"], answer["content_type"]) == (405, "application/json")
    assert json.loads(answer["body"]) == {"detail": "Method Not Allowed"}


@pytest.fixture(scope="module")
def bt_axon(generated_root: Path, bt_with_synapsegen: Path) -> Iterator[BtAxonServer]:
    served = [f"{BT_PACKAGE}.chat:ChatCompletion", f"{BT_PACKAGE}.prompting:AvailabilitySynapse"]
    server = start_bt_generated_axon(generated_root, served)
    try:
        yield server
    finally:
        server.stop()


async def test_a_bittensor_axon_has_no_manifest(bt_axon: BtAxonServer) -> None:
    url = f"http://{LOOPBACK}:{bt_axon.port}/synapsegen/manifest"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        status, headers, body = response.status, response.headers, await response.json()
    assert status == 404
    message = "Synapse name 'synapsegen' not found. Available synapses"
    assert body["message"].startswith(message)
    assert headers["bt_header_axon_status_code"] == "404"


async def test_our_checking_dendrite_calls_a_bittensor_axon_as_usual(
    bt_axon: BtAxonServer, keypairs: dict[str, Keypair]
) -> None:
    classes = _our_classes()
    target = AxonTarget(ip=LOOPBACK, port=bt_axon.port, hotkey=bt_axon.hotkey)
    async with Dendrite(keypairs["validator"], check_schema=True) as dendrite:
        answers = [
            await dendrite.call(
                target, classes["AvailabilitySynapse"](tasks=["chat"]), timeout=10,
                deserialize=False,
            )
            for _ in range(2)
        ]  # fmt: skip
        stream = dendrite.call_stream(
            target,
            classes["ChatCompletion"](messages=[{"role": "user", "content": "hi"}], max_tokens=3),
            timeout=10,
            deserialize=False,
        )
        items = [item async for item in stream]
        fetches = dendrite._manifests.fetches if dendrite._manifests is not None else None
    assert [a.dendrite.status_code for a in answers] == [200, 200]
    assert answers[0].available == {"chat": True}
    assert items[-1].dendrite.status_code == 200 and items[-1].completion
    assert fetches == 1  # bittensor's 404: no manifest, kept; every call went out
