"""Interop of *generated* synapse classes with real bittensor 10.5.0 (schemas/chat.yaml).

``synapsegen schemas/chat.yaml --runtime bittensor`` gives a ``ChatCompletion`` built on
bittensor's own StreamingSynapse; it runs inside the bittensor venv (which then needs synapsegen
installed, for the runtime helpers it imports). The default flavour runs here, on
``synapsegen.runtime``. Every combination talks over 127.0.0.1 between two processes.

No ``from __future__ import annotations``: the Axon reads the forward function's parameter
annotation, which here is a class imported at run time.
"""

import importlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, AxonTarget, Dendrite

from .bt_side.common import MINER_SS58, chat_tokens, expected_text
from .harness import (
    LOOPBACK,
    REPO_ROOT,
    BtAxonServer,
    BtDendriteClient,
    start_bt_generated_axon,
)

SCHEMA = REPO_ROOT / "schemas" / "chat.yaml"
BT_PACKAGE, OUR_PACKAGE = "gen_chat_bt", "gen_chat_sg"
SYNAPSE = "ChatCompletion"
CONTENT, MAX_TOKENS, MODEL = "héllo😀", 7, "m-1"
FIELDS = {
    "messages": [{"role": "user", "content": CONTENT}],
    "max_tokens": MAX_TOKENS,
    "model": MODEL,
}
EXPECTED = expected_text(CONTENT, MAX_TOKENS)
CALL_TIMEOUT_S = 10.0


def _generate(output: Path, runtime: str) -> None:
    command = [sys.executable, "-m", "synapsegen", str(SCHEMA), "-o", str(output)]
    command += ["--runtime", runtime]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding both generated flavours as packages; on sys.path while the module runs."""
    root = tmp_path_factory.mktemp("generated")
    _generate(root / BT_PACKAGE, "bittensor")
    _generate(root / OUR_PACKAGE, "synapsegen")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in (BT_PACKAGE, OUR_PACKAGE)]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def bt_generated_axon(generated_root: Path, bt_with_synapsegen: Path) -> Iterator[BtAxonServer]:
    """A real bittensor Axon serving the bittensor-flavoured generated ChatCompletion."""
    server = start_bt_generated_axon(generated_root, f"{BT_PACKAGE}.chat", SYNAPSE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bt_generated_dendrite(
    generated_root: Path, bt_with_synapsegen: Path
) -> Iterator[BtDendriteClient]:
    """A real bittensor Dendrite process that can import the generated package."""
    client = BtDendriteClient(extra_pythonpath=[generated_root])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def our_chat_class(generated_root: Path) -> Any:
    """The synapsegen-flavoured generated ChatCompletion (imported in this process)."""
    return getattr(importlib.import_module(f"{OUR_PACKAGE}.chat"), SYNAPSE)


@pytest.fixture(scope="module")
def our_generated_axon(our_chat_class: Any, keypairs: dict[str, Keypair]) -> Iterator[Axon]:
    """synapsegen's Axon serving the generated ChatCompletion with its stream_response helper."""

    async def tokens(content: str, max_tokens: int) -> AsyncIterator[str]:
        for token in chat_tokens(content, max_tokens):
            yield token

    async def forward(synapse: our_chat_class) -> Any:  # type: ignore[valid-type]
        content = synapse.messages[-1].content if synapse.messages else ""
        return synapse.stream_response(tokens(content, synapse.max_tokens))

    axon = Axon(keypairs["miner"], ip=LOOPBACK, port=0)
    axon.attach(forward)
    axon.start()
    try:
        yield axon
    finally:
        axon.stop()


def _bt_generated_call(client: BtDendriteClient, port: int) -> dict[str, Any]:
    call = {
        "target": {"ip": LOOPBACK, "port": port, "hotkey": MINER_SS58},
        "module": f"{BT_PACKAGE}.chat",
        "synapse": SYNAPSE,
        "fields": FIELDS,
        "timeout": CALL_TIMEOUT_S,
    }
    result = client.calls([call])[0]
    assert "error" not in result, result["error"]
    return result


def _assert_bt_result(result: dict[str, Any]) -> None:
    assert result["status_code"] == 200, result
    assert result["axon_status_code"] == 200
    assert result["completion"] == EXPECTED
    assert "".join(result["chunks"]) == EXPECTED
    fields = result["final_fields"]
    assert fields["model"] == MODEL and fields["max_tokens"] == MAX_TOKENS
    assert fields["messages"] == FIELDS["messages"]
    assert result["axon"]["hotkey"] == MINER_SS58


def test_generated_bittensor_flavour_works_on_real_bittensor_both_ends(
    bt_generated_dendrite: BtDendriteClient, bt_generated_axon: BtAxonServer
) -> None:
    _assert_bt_result(_bt_generated_call(bt_generated_dendrite, bt_generated_axon.port))


def test_real_dendrite_with_generated_class_streams_from_our_axon(
    bt_generated_dendrite: BtDendriteClient, our_generated_axon: Axon
) -> None:
    _assert_bt_result(_bt_generated_call(bt_generated_dendrite, our_generated_axon.port))


async def test_our_dendrite_with_generated_class_streams_from_real_axon(
    bt_generated_axon: BtAxonServer, our_chat_class: Any, keypairs: dict[str, Keypair]
) -> None:
    target = AxonTarget(ip=LOOPBACK, port=bt_generated_axon.port, hotkey=bt_generated_axon.hotkey)
    async with Dendrite(keypairs["validator"]) as dendrite:
        stream = await dendrite.forward(
            target, our_chat_class(**FIELDS), timeout=CALL_TIMEOUT_S, deserialize=False
        )
        items = [item async for item in stream]
    chunks, final = items[:-1], items[-1]
    assert isinstance(final, our_chat_class)
    assert final.dendrite.status_code == 200, final.dendrite
    assert final.axon.status_code == 200 and final.axon.hotkey == MINER_SS58
    assert "".join(chunks) == EXPECTED
    assert final.completion == EXPECTED
    assert final.stream_complete
    assert final.model == MODEL and final.max_tokens == MAX_TOKENS
    assert [m.model_dump(mode="json") for m in final.messages] == FIELDS["messages"]
