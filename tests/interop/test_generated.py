"""Interop of *generated* synapse classes with real bittensor 10.5.0 and 9.0.0.

``synapsegen schemas/chat.yaml schemas/prompting.yaml --runtime bittensor`` gives classes built
on bittensor's own Synapse and StreamingSynapse: a streaming ``ChatCompletion`` and a plain
``AvailabilitySynapse`` (one request, one JSON answer filled by the generated ``respond()``).
They run inside the bittensor venv (which then needs synapsegen installed, for the runtime
helpers they import). The default flavour runs here, on ``synapsegen.runtime``. Every
combination talks over 127.0.0.1 between two processes, both ways, once per release of
``harness.BT_MATRIX`` (the bittensor flavour is generated once and imported by both releases).

No ``from __future__ import annotations``: the Axon reads the forward function's parameter
annotation, which here is a class imported at run time.
"""

import importlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, AxonTarget, Dendrite

from .bt_side.common import MINER_SS58, availability_answer, chat_tokens, expected_text
from .harness import (
    BT_MATRIX,
    LOOPBACK,
    REPO_ROOT,
    BtAxonServer,
    BtDendriteClient,
    generated_flavours,
    start_bt_generated_axon,
)

SCHEMAS = [REPO_ROOT / "schemas" / "chat.yaml", REPO_ROOT / "schemas" / "prompting.yaml"]
BT_PACKAGE, OUR_PACKAGE = "gen_bt", "gen_sg"
CHAT = ("chat", "ChatCompletion")  # (module, class)
PLAIN = ("prompting", "AvailabilitySynapse")
CONTENT, MAX_TOKENS, MODEL = "héllo😀", 7, "m-1"
CHAT_FIELDS = {
    "messages": [{"role": "user", "content": CONTENT}],
    "max_tokens": MAX_TOKENS,
    "model": MODEL,
}
EXPECTED = expected_text(CONTENT, MAX_TOKENS)
TASKS = ["chat", "translate", "grüße"]
ANSWER = availability_answer(TASKS)
CALL_TIMEOUT_S = 10.0


@pytest.fixture(scope="module", params=BT_MATRIX, ids=lambda version: f"bt{version}")
def bt_version(request: pytest.FixtureRequest) -> str:
    """The bittensor release of the real side (every test runs once per release)."""
    return str(request.param)


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding both generated flavours as packages; on sys.path while the module runs."""
    packages = {BT_PACKAGE: "bittensor", OUR_PACKAGE: "synapsegen"}
    with generated_flavours(tmp_path_factory.mktemp("generated"), SCHEMAS, packages) as root:
        yield root


@pytest.fixture(scope="module")
def bt_generated_axon(
    generated_root: Path, bt_with_synapsegen: Path, bt_version: str
) -> Iterator[BtAxonServer]:
    """A real bittensor Axon serving the bittensor-flavoured classes (stream and plain)."""
    served = [f"{BT_PACKAGE}.{module}:{name}" for module, name in (CHAT, PLAIN)]
    server = start_bt_generated_axon(generated_root, served, version=bt_version)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bt_generated_dendrite(
    generated_root: Path, bt_with_synapsegen: Path, bt_version: str
) -> Iterator[BtDendriteClient]:
    """A real bittensor Dendrite process that can import the generated package."""
    client = BtDendriteClient(extra_pythonpath=[generated_root], version=bt_version)
    try:
        yield client
    finally:
        client.close()


def _our_class(which: tuple[str, str]) -> Any:
    """A synapsegen-flavoured generated class (imported in this process)."""
    module, name = which
    return getattr(importlib.import_module(f"{OUR_PACKAGE}.{module}"), name)


@pytest.fixture(scope="module")
def our_generated_axon(generated_root: Path, keypairs: dict[str, Keypair]) -> Iterator[Axon]:
    """synapsegen's Axon serving the generated classes: the stream with stream_response, the
    plain synapse with respond()."""
    chat_class, plain_class = _our_class(CHAT), _our_class(PLAIN)

    async def tokens(content: str, max_tokens: int) -> AsyncIterator[str]:
        for token in chat_tokens(content, max_tokens):
            yield token

    async def stream(synapse: chat_class) -> Any:  # type: ignore[valid-type]
        content = synapse.messages[-1].content if synapse.messages else ""
        return synapse.stream_response(tokens(content, synapse.max_tokens))

    async def answer(synapse: plain_class) -> Any:  # type: ignore[valid-type]
        return synapse.respond(**availability_answer(synapse.tasks))

    axon = Axon(keypairs["miner"], ip=LOOPBACK, port=0)
    axon.attach(stream)
    axon.attach(answer)
    axon.start()
    try:
        yield axon
    finally:
        axon.stop()


def _bt_call(
    client: BtDendriteClient, port: int, which: tuple[str, str], fields: dict[str, Any]
) -> dict[str, Any]:
    module, name = which
    call = {
        "target": {"ip": LOOPBACK, "port": port, "hotkey": MINER_SS58},
        "module": f"{BT_PACKAGE}.{module}",
        "synapse": name,
        "fields": fields,
        "timeout": CALL_TIMEOUT_S,
    }
    result = client.calls([call])[0]
    assert "error" not in result, result["error"]
    assert result["status_code"] == 200, result
    assert result["axon_status_code"] == 200
    assert result["axon"]["hotkey"] == MINER_SS58
    return result


def _assert_bt_results(client: BtDendriteClient, port: int) -> None:
    """The real Dendrite's view of both classes served on ``port``."""
    result = _bt_call(client, port, CHAT, CHAT_FIELDS)
    assert result["completion"] == EXPECTED
    assert "".join(result["chunks"]) == EXPECTED
    fields = result["final_fields"]
    assert fields["model"] == MODEL and fields["max_tokens"] == MAX_TOKENS
    assert fields["messages"] == CHAT_FIELDS["messages"]

    fields = _bt_call(client, port, PLAIN, {"tasks": TASKS})["final_fields"]
    assert fields["tasks"] == TASKS
    assert {key: fields[key] for key in ANSWER} == ANSWER


def test_generated_bittensor_flavour_works_on_real_bittensor_both_ends(
    bt_generated_dendrite: BtDendriteClient, bt_generated_axon: BtAxonServer
) -> None:
    _assert_bt_results(bt_generated_dendrite, bt_generated_axon.port)


def test_real_dendrite_with_generated_classes_calls_our_axon(
    bt_generated_dendrite: BtDendriteClient, our_generated_axon: Axon
) -> None:
    _assert_bt_results(bt_generated_dendrite, our_generated_axon.port)


async def test_our_dendrite_with_generated_classes_calls_real_axon(
    bt_generated_axon: BtAxonServer, generated_root: Path, keypairs: dict[str, Keypair]
) -> None:
    chat_class, plain_class = _our_class(CHAT), _our_class(PLAIN)
    target = AxonTarget(ip=LOOPBACK, port=bt_generated_axon.port, hotkey=bt_generated_axon.hotkey)
    async with Dendrite(keypairs["validator"]) as dendrite:
        stream = await dendrite.forward(
            target, chat_class(**CHAT_FIELDS), timeout=CALL_TIMEOUT_S, deserialize=False
        )
        items = [item async for item in stream]
        plain = await dendrite.call(
            target, plain_class(tasks=TASKS), timeout=CALL_TIMEOUT_S, deserialize=False
        )
        available = await dendrite.call(target, plain_class(tasks=TASKS), timeout=CALL_TIMEOUT_S)

    chunks, final = items[:-1], items[-1]
    assert isinstance(final, chat_class)
    assert final.dendrite.status_code == 200, final.dendrite
    assert final.axon.status_code == 200 and final.axon.hotkey == MINER_SS58
    assert "".join(chunks) == EXPECTED
    assert final.completion == EXPECTED
    assert final.stream_complete
    assert final.model == MODEL and final.max_tokens == MAX_TOKENS
    assert [m.model_dump(mode="json") for m in final.messages] == CHAT_FIELDS["messages"]

    assert isinstance(plain, plain_class)
    assert plain.dendrite.status_code == 200, plain.dendrite
    assert plain.axon.status_code == 200 and plain.axon.hotkey == MINER_SS58
    assert plain.tasks == TASKS
    assert plain.available == ANSWER["available"] and plain.load == ANSWER["load"]
    assert available == ANSWER["available"]  # deserialize() returns `available`
