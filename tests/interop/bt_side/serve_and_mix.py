"""bittensor 10.5's ``subtensor.serve_axon`` given synapsegen's Axon, and the two runtimes mixed.

Runs in the bittensor venv with synapsegen installed; prints one JSON line of findings.

``serve_axon`` runs bittensor's own code (``serve_axon_extrinsic`` -> ``serve_extrinsic`` -> wallet
unlock -> ``AxonServeCallParams`` -> ``SubtensorModule.serve_axon`` -> ``sign_and_send_extrinsic``)
on a ``Subtensor`` that has no chain: only the calls that need one are replaced, the neuron lookup
(an unregistered neuron), ``compose_call`` (the chain's metadata) and the substrate interface,
which records the signed extrinsic instead of submitting it. bittensor's own Axon goes through
the same path as the reference.
"""

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from bittensor.core.chain_data import NeuronInfo
from bittensor_wallet import Keypair
from bootstrap import LOOPBACK, bt, emit, keypair, wallet_for

from synapsegen.runtime import Axon, Dendrite
from synapsegen.runtime import Synapse as OurSynapse

NETUID = 7
PUBLIC_IP, PUBLIC_IPV6, PUBLIC_PORT = "203.0.113.9", "2001:db8::9", 8091


class RecordingSubstrate:
    """Stands in for the substrate interface: signs like it (with the given keypair) and
    records the extrinsic instead of submitting it."""

    def __init__(self) -> None:
        self.signed: list[dict[str, Any]] = []

    def create_signed_extrinsic(self, call: Any, keypair: Keypair, **options: Any) -> Any:
        payload = json.dumps(call, sort_keys=True).encode()
        signature = "0x" + keypair.sign(payload).hex()
        self.signed.append(
            {
                "call": call,
                "signer": keypair.ss58_address,
                "payload": payload.decode(),
                "signature": signature,
                "options": options,
            }  # fmt: skip
        )
        return self.signed[-1]

    def submit_extrinsic(self, extrinsic: Any, **options: Any) -> Any:
        return SimpleNamespace(is_success=True, total_fee_amount=0, error_message=None)


def offline_subtensor() -> tuple[Any, RecordingSubstrate]:
    """A real ``bt.Subtensor`` object, without its chain connection (see module docstring)."""
    subtensor = bt.Subtensor.__new__(bt.Subtensor)
    substrate = RecordingSubstrate()
    subtensor.substrate = substrate
    subtensor.network = "offline"
    subtensor.get_neuron_for_pubkey_and_subnet = lambda *a, **k: NeuronInfo.get_null_neuron()
    subtensor.compose_call = lambda call_module, call_function, call_params, **k: {
        "call_module": call_module, "call_function": call_function, "call_params": call_params,
    }  # fmt: skip
    return subtensor, substrate


def publish(axon: Any) -> dict[str, Any]:
    """``subtensor.serve_axon(NETUID, axon)``: its response and the extrinsic it signed."""
    subtensor, substrate = offline_subtensor()
    response = subtensor.serve_axon(NETUID, axon)
    result: dict[str, Any] = {"success": response.success, "message": str(response.message)}
    if substrate.signed:
        signed = substrate.signed[-1]
        verifies = Keypair(ss58_address=signed["signer"]).verify(
            signed["payload"].encode(), bytes.fromhex(signed["signature"][2:])
        )
        result.update(call=signed["call"], signer=signed["signer"], signature_verifies=verifies)
    return result


class Echo(OurSynapse):
    text: str = ""


def reverse(synapse: Echo) -> Echo:
    synapse.text = synapse.text[::-1]
    return synapse


def bt_echo_class() -> type:
    """A bittensor synapse with the route name of ``Echo``."""

    class Echo(bt.Synapse):
        text: str = ""

    return Echo


_DENDRITE_METHODS = ("call", "call_stream", "forward")


async def _send_bt_synapse(dendrite: Dendrite, method: str, axon: Axon) -> dict[str, Any]:
    """A bittensor synapse given to our Dendrite's ``method``: what came back, or what it raised."""
    synapse = bt_echo_class()(text="abc")
    try:
        if method == "call_stream":
            items = [item async for item in dendrite.call_stream(axon, synapse, timeout=5.0)]
            answer = items[-1]
        else:
            answer = await getattr(dendrite, method)(axon, synapse, timeout=5.0)
    except Exception as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"returned": repr(answer)[:300], "status_code": synapse.dendrite.status_code}


async def mixing() -> dict[str, Any]:
    """Our synapse to bittensor's Dendrite, and a bittensor synapse to our Axon."""
    found: dict[str, Any] = {}
    async with Axon(keypair("miner")).attach(reverse) as axon:
        dendrite = bt.Dendrite(wallet=keypair("validator"))
        try:
            answers = await dendrite.forward(axons=[axon.info()], synapse=Echo(text="abc"))
            found["bt_dendrite_our_synapse"] = {"returned": repr(answers)}
        except Exception as exc:
            found["bt_dendrite_our_synapse"] = {"error": type(exc).__name__, "message": str(exc)}
        finally:
            await dendrite.aclose_session()
        ours = Dendrite(keypair("validator"))
        try:
            answer = await ours.forward(axon, Echo(text="abc"), timeout=5.0)
            found["our_dendrite_our_synapse"] = {"text": answer.text}
            found["our_dendrite_bt_synapse"] = {
                method: await _send_bt_synapse(ours, method, axon) for method in _DENDRITE_METHODS
            }
        finally:
            await ours.aclose()

    class BtEcho(bt.Synapse):
        text: str = ""

    def bt_forward(synapse: BtEcho) -> BtEcho:
        return synapse

    try:
        Axon(keypair("miner")).attach(bt_forward)
        found["our_axon_bt_synapse"] = {"attached": True}
    except Exception as exc:
        found["our_axon_bt_synapse"] = {"error": type(exc).__name__, "message": str(exc)}
    return found


def main() -> None:
    wallet = wallet_for("miner")
    ours = Axon(wallet=wallet, ip=LOOPBACK, external_ip=PUBLIC_IP, external_port=PUBLIC_PORT)
    theirs = bt.Axon(wallet=wallet, ip=LOOPBACK, external_ip=PUBLIC_IP, port=PUBLIC_PORT)
    ours_v6 = Axon(wallet=wallet, external_ip=PUBLIC_IPV6, external_port=PUBLIC_PORT)
    emit(
        {
            "wallet_hotkey": wallet.hotkey.ss58_address,
            "wallet_coldkey": wallet.coldkeypub.ss58_address,
            "ours": publish(ours),
            "theirs": publish(theirs),
            "ours_ipv6": publish(ours_v6),
            "ours_keypair_only": publish(Axon(keypair("miner"), external_ip=PUBLIC_IP)),
            "info": ours.info().__dict__,
            "bt_info": {
                k: getattr(theirs.info(), k)
                for k in ("ip", "port", "hotkey", "coldkey", "ip_type", "protocol", "version")
            },
            "mixing": asyncio.run(mixing()),
        }
    )


if __name__ == "__main__":
    main()
