"""Chain registration and mixed runtimes, checked with real bittensor 10.5.0.

``bt_side/serve_and_mix.py`` runs in the bittensor venv (with synapsegen installed): bittensor's
own ``subtensor.serve_axon`` code path publishes our Axon and bittensor's Axon up to the
substrate submission, which is recorded; then it mixes the two runtimes' classes. This test reads
its findings.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon

from .bt_side.common import MINER_SEED, MINER_SS58
from .harness import BT_SIDE_DIR, _script_env

SCRIPT_TIMEOUT_S = 120.0
PUBLIC_IP, PUBLIC_PORT = "203.0.113.9", 8091  # what the script's axons advertise


@pytest.fixture(scope="module")
def findings(bt_with_synapsegen: Path) -> dict[str, Any]:
    """The script's one JSON line."""
    with tempfile.TemporaryDirectory(prefix="bt-home-") as home:
        done = subprocess.run(
            [str(bt_with_synapsegen), str(BT_SIDE_DIR / "serve_and_mix.py")],
            capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S, cwd=str(BT_SIDE_DIR),
            env=_script_env(Path(home), []),
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_serve_axon_publishes_our_axon_as_it_publishes_bittensors(
    findings: dict[str, Any],
) -> None:
    ours, theirs = findings["ours"], findings["theirs"]
    assert ours["success"], ours["message"]
    assert ours["call"] == theirs["call"]
    assert ours["call"]["call_function"] == "serve_axon"
    params = ours["call"]["call_params"]
    assert (params["ip"], params["port"]) == (0xCB007109, PUBLIC_PORT)  # 203.0.113.9
    assert (params["ip_type"], params["protocol"], params["netuid"]) == (4, 4, 7)
    assert (params["placeholder1"], params["placeholder2"]) == (0, 0)
    # Signed by the wallet's hotkey, as bittensor signs serve_axon.
    assert ours["signer"] == findings["wallet_hotkey"] == MINER_SS58
    assert ours["signature_verifies"]


def test_serve_axon_publishes_an_ipv6_address(findings: dict[str, Any]) -> None:
    published = findings["ours_ipv6"]
    assert published["success"], published["message"]
    assert published["call"]["call_params"]["ip_type"] == 6
    assert published["call"]["call_params"]["ip"] == 0x20010DB8000000000000000000000009


def test_serve_axon_without_a_wallet_names_the_fix(findings: dict[str, Any]) -> None:
    published = findings["ours_keypair_only"]
    assert not published["success"]
    assert "Axon(wallet=" in published["message"]


def test_info_has_bittensors_axon_info_fields(findings: dict[str, Any]) -> None:
    ours, theirs = findings["info"], findings["bt_info"]
    assert {key: ours[key] for key in theirs} == theirs
    assert ours["coldkey"] == findings["wallet_coldkey"]


def test_our_synapse_given_to_bittensors_dendrite_is_refused_with_the_fix(
    findings: dict[str, Any],
) -> None:
    refused = findings["mixing"]["bt_dendrite_our_synapse"]
    assert refused.get("error") == "TypeError", refused
    assert "do not mix" in refused["message"] and "--runtime bittensor" in refused["message"]
    assert findings["mixing"]["our_dendrite_our_synapse"] == {"text": "cba"}


def test_bittensor_synapse_attached_to_our_axon_is_refused_with_the_fix(
    findings: dict[str, Any],
) -> None:
    refused = findings["mixing"]["our_axon_bt_synapse"]
    assert refused.get("error") == "TypeError", refused
    assert "do not mix" in refused["message"]


@pytest.mark.parametrize("method", ["call", "call_stream", "forward"])
def test_bittensor_synapse_given_to_our_dendrite_is_refused_with_the_fix(
    findings: dict[str, Any], method: str
) -> None:
    """A real ``bittensor.Synapse`` subclass: a TypeError naming both classes and the fix, before
    any request (it used to be sent and come back as 422 with pydantic's TerminalInfo complaint)."""
    refused = findings["mixing"]["our_dendrite_bt_synapse"][method]
    assert refused.get("error") == "TypeError", refused
    message = refused["message"]
    assert "do not mix" in message and "--runtime bittensor" in message
    assert f"(in Dendrite.{method})" in message and ".Echo was given a synapsegen" in message


def test_wallet_argument_and_property() -> None:
    miner = Keypair.create_from_seed(MINER_SEED)
    with pytest.raises(AttributeError, match=r"Axon\(wallet="):
        _ = Axon(miner).wallet
    with pytest.raises(TypeError, match="not both"):
        Axon(miner, wallet=miner)
