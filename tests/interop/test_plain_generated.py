"""Interop of a generated *plain* synapse with real bittensor 10.5.0 (schemas/prompting.yaml).

``AvailabilitySynapse`` has no stream: one request, one JSON answer, filled by the generated
``respond()``. The bittensor flavour (``--runtime bittensor``) runs in the bittensor venv, the
default flavour here; each pair talks over 127.0.0.1 between two processes, both ways.

No ``from __future__ import annotations``: the Axon reads the forward function's parameter
annotation, which here is a class imported at run time.
"""

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, AxonTarget, Dendrite

from .bt_side.common import MINER_SS58, availability_answer
from .harness import (
    LOOPBACK,
    REPO_ROOT,
    BtAxonServer,
    BtDendriteClient,
    start_bt_generated_axon,
)

SCHEMA = REPO_ROOT / "schemas" / "prompting.yaml"
BT_PACKAGE, OUR_PACKAGE = "gen_plain_bt", "gen_plain_sg"
SYNAPSE = "AvailabilitySynapse"
TASKS = ["chat", "translate", "grüße"]
EXPECTED = availability_answer(TASKS)
CALL_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def generated_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both generated flavours as packages; on sys.path while the module runs."""
    root = tmp_path_factory.mktemp("generated_plain")
    for package, runtime in ((BT_PACKAGE, "bittensor"), (OUR_PACKAGE, "synapsegen")):
        command = [sys.executable, "-m", "synapsegen", str(SCHEMA), "-o", str(root / package),
                   "--runtime", runtime]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.split(".")[0] in (BT_PACKAGE, OUR_PACKAGE)]:
            del sys.modules[name]


@pytest.fixture(scope="module")
def bt_axon(generated_root: Path, bt_with_synapsegen: Path) -> Iterator[BtAxonServer]:
    """A real bittensor Axon answering the bittensor-flavoured class with ``respond()``."""
    server = start_bt_generated_axon(generated_root, f"{BT_PACKAGE}.prompting", SYNAPSE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bt_dendrite(generated_root: Path, bt_with_synapsegen: Path) -> Iterator[BtDendriteClient]:
    client = BtDendriteClient(extra_pythonpath=[generated_root])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def our_class(generated_root: Path) -> Any:
    return getattr(importlib.import_module(f"{OUR_PACKAGE}.prompting"), SYNAPSE)


@pytest.fixture(scope="module")
def our_axon(our_class: Any, keypairs: dict[str, Keypair]) -> Iterator[Axon]:
    """synapsegen's Axon answering the default-flavoured class with ``respond()``."""

    async def answer(synapse: our_class) -> Any:  # type: ignore[valid-type]
        return synapse.respond(**availability_answer(synapse.tasks))

    axon = Axon(keypairs["miner"], ip=LOOPBACK, port=0)
    axon.attach(answer)
    axon.start()
    try:
        yield axon
    finally:
        axon.stop()


def _bt_call(client: BtDendriteClient, port: int) -> dict[str, Any]:
    call = {
        "target": {"ip": LOOPBACK, "port": port, "hotkey": MINER_SS58},
        "module": f"{BT_PACKAGE}.prompting",
        "synapse": SYNAPSE,
        "fields": {"tasks": TASKS},
        "timeout": CALL_TIMEOUT_S,
    }
    result = client.calls([call])[0]
    assert "error" not in result, result["error"]
    assert result["status_code"] == 200 and result["axon_status_code"] == 200, result
    assert result["axon"]["hotkey"] == MINER_SS58
    return result["final_fields"]


def test_bittensor_flavour_on_real_bittensor_both_ends(
    bt_dendrite: BtDendriteClient, bt_axon: BtAxonServer
) -> None:
    fields = _bt_call(bt_dendrite, bt_axon.port)
    assert fields["tasks"] == TASKS
    assert {k: fields[k] for k in EXPECTED} == EXPECTED


def test_real_dendrite_calls_our_axon(bt_dendrite: BtDendriteClient, our_axon: Axon) -> None:
    fields = _bt_call(bt_dendrite, our_axon.port)
    assert fields["tasks"] == TASKS
    assert {k: fields[k] for k in EXPECTED} == EXPECTED


async def test_our_dendrite_calls_real_axon(
    bt_axon: BtAxonServer, our_class: Any, keypairs: dict[str, Keypair]
) -> None:
    target = AxonTarget(ip=LOOPBACK, port=bt_axon.port, hotkey=bt_axon.hotkey)
    async with Dendrite(keypairs["validator"]) as dendrite:
        synapse = await dendrite.call(
            target, our_class(tasks=TASKS), timeout=CALL_TIMEOUT_S, deserialize=False
        )
        available = await dendrite.call(target, our_class(tasks=TASKS), timeout=CALL_TIMEOUT_S)
    assert isinstance(synapse, our_class)
    assert synapse.dendrite.status_code == 200, synapse.dendrite
    assert synapse.axon.status_code == 200 and synapse.axon.hotkey == MINER_SS58
    assert synapse.tasks == TASKS
    assert synapse.available == EXPECTED["available"] and synapse.load == EXPECTED["load"]
    assert available == EXPECTED["available"]  # deserialize() returns `available`
