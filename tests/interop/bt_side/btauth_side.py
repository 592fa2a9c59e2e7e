"""bittensor 11's ``http_auth`` (btauth/1) for the interop tests: signs and verifies on request.

Runs inside the bittensor 11 venv (not through ``bootstrap``, which needs bittensor 10's
networking module); the loopback guard is installed before bittensor is imported. Protocol: one
ready line ``{"version", "keys": {name: {"sr25519": ss58, "ed25519": ss58}}}``, then one answer
per request line:

- ``{"op": "sign", "key", "crypto", "method", "target", "body_hex", "receiver", "nonce_ns"}``
  -> ``{"headers": {...}}`` from ``http_auth.sign``;
- ``{"op": "payload", "scheme", "method", "target", "body_hex", "nonce_ns", "sender",
  "receiver"}`` -> ``{"payload_hex"}`` from ``http_auth.build_payload``;
- ``{"op": "verify", "headers", "body_hex", "method", "target", "self", "require_receiver",
  "store"}`` -> ``{"ok": true, "caller": {...}}`` or ``{"ok": false, "error": <exception class
  name>, "message"}`` from ``http_auth.verify``; ``store`` names an ``InMemoryNonceStore`` kept
  for the script's life, so each test has replay memory of its own.
"""

import os
import sys

import guard

guard.install()

# The JSON channel is a private copy of stdout; fd 1 goes to stderr (anything bittensor prints).
_json_channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
sys.stdout.flush()
os.dup2(2, 1)

import json  # noqa: E402
import traceback  # noqa: E402
from typing import Any  # noqa: E402

import bittensor  # noqa: E402
from bittensor import http_auth  # noqa: E402
from bittensor.sp_core import CRYPTO_ED25519, CRYPTO_SR25519, Keypair  # noqa: E402
from common import KEY_SEEDS  # noqa: E402

CRYPTO = {"sr25519": CRYPTO_SR25519, "ed25519": CRYPTO_ED25519}
KEYS = {
    (name, crypto): Keypair.create_from_seed(bytes.fromhex(seed[2:]), number)
    for name, seed in KEY_SEEDS.items()
    for crypto, number in CRYPTO.items()
}
STORES: dict[str, http_auth.InMemoryNonceStore] = {}


def emit(message: dict[str, Any]) -> None:
    _json_channel.write(json.dumps(message) + "\n")
    _json_channel.flush()


def sign(request: dict[str, Any]) -> dict[str, Any]:
    headers = http_auth.sign(
        KEYS[request["key"], request.get("crypto", "sr25519")],
        method=request["method"],
        path=request["target"],
        body=bytes.fromhex(request["body_hex"]),
        receiver_ss58=request.get("receiver"),
        nonce_ns=request.get("nonce_ns"),
    )
    return {"headers": headers}


def payload(request: dict[str, Any]) -> dict[str, Any]:
    data = http_auth.build_payload(
        scheme=request["scheme"],
        method=request["method"],
        path=request["target"],
        body=bytes.fromhex(request["body_hex"]),
        nonce_ns=request["nonce_ns"],
        sender_ss58=request["sender"],
        receiver_ss58=request.get("receiver"),
    )
    return {"payload_hex": data.hex()}


def verify(request: dict[str, Any]) -> dict[str, Any]:
    store = STORES.setdefault(request["store"], http_auth.InMemoryNonceStore())
    try:
        caller = http_auth.verify(
            request["headers"],
            bytes.fromhex(request["body_hex"]),
            method=request["method"],
            path=request["target"],
            self_hotkey_ss58=request["self"],
            require_receiver=request.get("require_receiver", True),
            nonce_store=store,
        )
    except http_auth.AuthError as exc:
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}
    return {
        "ok": True,
        "caller": {
            "hotkey": caller.hotkey_ss58,
            "nonce_ns": caller.nonce_ns,
            "crypto_type": caller.crypto_type,
        },
    }


OPS = {"sign": sign, "payload": payload, "verify": verify}


def main() -> None:
    emit(
        {
            "version": bittensor.__version__,
            "keys": {
                name: {crypto: KEYS[name, crypto].ss58_address for crypto in CRYPTO}
                for name in KEY_SEEDS
            },
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            reply = OPS[request["op"]](request)
        except Exception:
            reply = {"error": traceback.format_exc()}
        emit(reply)


main()
