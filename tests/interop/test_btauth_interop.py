"""btauth/1 against real bittensor 11 (``bittensor.http_auth``), each side in its own process.

bittensor signs, ``BtAuthVerifier`` verifies; ``sign_request`` signs, bittensor verifies; both
build the same payload bytes; and on replayed, stale, future, forged, misdirected and tampered
requests both refuse, for the same reason (bittensor's exception class, our status). Where we are
deliberately stricter (``btauth.py``'s docstring), the difference is pinned here too, so a change
on either side shows.

bittensor 11.3.0 is the newest 11.3 release the package index has (11.3.2, which adds
``expected_crypto_type``, is not published there), so it lacks scheme pinning.
"""

from __future__ import annotations

import time
import uuid as uuid_module
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import BtAuthVerifier, Claim, Rejected
from synapsegen.runtime.btauth import (
    HEADER_CRYPTO,
    HEADER_HOTKEY,
    HEADER_NONCE,
    HEADER_RECEIVER,
    HEADER_SIGNATURE,
    HEADER_VERSION,
    sign_request,
    signed_payload,
)

from ..runtime._auth_helpers import run, ss58_encode
from .bt_side.common import KEY_SEEDS
from .harness import BtScript

BT11_VERSION = "11.3.0"
SECOND = 1_000_000_000

# bittensor's exception class -> our status, for the refusals both sides make.
STATUS_OF = {
    "MalformedAuth": 400,
    "WrongReceiver": 421,
    "StaleRequest": 401,
    "BadSignature": 401,
    "ReplayedRequest": 401,
}

METHOD, TARGET, BODY = "POST", "/generate?stream=1&n=2", b'{"prompt": "h\xc3\xa9llo"}'


@pytest.fixture(scope="module")
def bt_version() -> str:
    """This module talks to bittensor 11 (the conftest's bt_python builds its venv)."""
    return BT11_VERSION


class BtAuth:
    """The bittensor side: ``http_auth.sign`` / ``build_payload`` / ``verify`` over JSON lines."""

    def __init__(self, script: BtScript) -> None:
        self.script = script
        ready = script.receive()
        self.version = str(ready["version"])
        self.keys: dict[str, dict[str, str]] = ready["keys"]

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = self.script.request(request)
        assert "error" not in reply or "ok" in reply, reply.get("error")
        return reply

    def sign(
        self,
        *,
        key: str = "validator",
        crypto: str = "sr25519",
        method: str = METHOD,
        target: str = TARGET,
        body: bytes = BODY,
        receiver: str | None,
        nonce_ns: int | None = None,
    ) -> dict[str, str]:
        request = {
            "op": "sign",
            "key": key,
            "crypto": crypto,
            "method": method,
            "target": target,
            "body_hex": body.hex(),
            "receiver": receiver,
            "nonce_ns": nonce_ns,
        }
        headers: dict[str, str] = self._ask(request)["headers"]
        return headers

    def payload(self, **fields: Any) -> bytes:
        body = fields.pop("body")
        reply = self._ask({"op": "payload", "body_hex": body.hex(), **fields})
        return bytes.fromhex(reply["payload_hex"])

    def verify(
        self,
        headers: dict[str, str],
        *,
        own: str,
        store: str,
        method: str = METHOD,
        target: str = TARGET,
        body: bytes = BODY,
        require_receiver: bool = True,
    ) -> dict[str, Any]:
        request = {
            "op": "verify",
            "headers": headers,
            "body_hex": body.hex(),
            "method": method,
            "target": target,
            "self": own,
            "require_receiver": require_receiver,
            "store": store,
        }
        return self._ask(request)


@pytest.fixture(scope="module")
def bt(bt_python: Path, bt_version: str) -> Iterator[BtAuth]:
    with BtScript("btauth_side.py", version=bt_version) as script:
        yield BtAuth(script)


def keypair(name: str, crypto: str = "sr25519") -> Keypair:
    return Keypair.create_from_seed(KEY_SEEDS[name], crypto_type=0 if crypto == "ed25519" else 1)


VALIDATOR, MINER, OTHER = keypair("validator"), keypair("miner"), keypair("other")


def ours(headers: dict[str, str], *, verifier: BtAuthVerifier, **request: Any) -> Claim | int:
    """Our verdict: the claim, or the status of the refusal."""
    full = {"method": METHOD, "target": TARGET, "body": BODY, **request}
    try:
        return run(verifier.verify(verifier.claim(headers), **full))
    except Rejected as refusal:
        return refusal.status


def fresh_store() -> str:
    return uuid_module.uuid4().hex


# --------------------------------------------------------------------------------- agreement


def test_same_release_and_keys(bt: BtAuth) -> None:
    assert bt.version == BT11_VERSION
    for name in KEY_SEEDS:
        assert bt.keys[name]["sr25519"] == keypair(name).ss58_address
        assert bt.keys[name]["ed25519"] == keypair(name, "ed25519").ss58_address


@pytest.mark.parametrize(
    ("method", "target", "body", "receiver", "scheme"),
    [
        ("post", "/generate?stream=1", b"{}", MINER.ss58_address, "sr25519"),
        ("GET", "/", b"", None, "sr25519"),
        ("delete", "/a%20b?x=%C3%A9&y", b"\x00\xff" * 100, MINER.ss58_address, "ed25519"),
        ("PATCH", "/caf\u00e9", "\u20ac".encode(), "-", "sr25519"),
    ],
)
def test_payload_bytes_are_bittensors(
    bt: BtAuth, method: str, target: str, body: bytes, receiver: str | None, scheme: str
) -> None:
    fields = {
        "method": method,
        "target": target,
        "body": body,
        "nonce_ns": 1_700_000_000_000_000_001,
        "sender": VALIDATOR.ss58_address,
        "receiver": receiver,
        "scheme": scheme,
    }
    assert signed_payload(**fields) == bt.payload(**fields)


@pytest.mark.parametrize(
    ("method", "target", "body", "bound"),
    [
        (METHOD, TARGET, BODY, True),
        ("get", "/", b"", True),
        ("PUT", "/x?q=%20", bytes(range(256)), False),
    ],
)
def test_bittensor_signed_requests_verify_here(
    bt: BtAuth, method: str, target: str, body: bytes, bound: bool
) -> None:
    receiver = MINER.ss58_address if bound else None
    headers = bt.sign(method=method, target=target, body=body, receiver=receiver)
    verifier = BtAuthVerifier(MINER.ss58_address, require_receiver=bound)
    claim = ours(headers, verifier=verifier, method=method.upper(), target=target, body=body)
    assert isinstance(claim, Claim), claim
    assert claim.hotkey == VALIDATOR.ss58_address
    assert claim.nonce_ns == int(headers[HEADER_NONCE]) and claim.receiver == receiver


@pytest.mark.parametrize(
    ("method", "target", "body", "bound"),
    [
        (METHOD, TARGET, BODY, True),
        ("get", "/", b"", True),
        ("PUT", "/x?q=%20", bytes(range(256)), False),
    ],
)
def test_our_signed_requests_verify_in_bittensor(
    bt: BtAuth, method: str, target: str, body: bytes, bound: bool
) -> None:
    receiver = MINER.ss58_address if bound else None
    headers = sign_request(VALIDATOR, method=method, target=target, body=body, receiver=receiver)
    verdict = bt.verify(
        headers,
        own=MINER.ss58_address,
        store=fresh_store(),
        method=method.upper(),
        target=target,
        body=body,
        require_receiver=bound,
    )
    assert verdict["ok"], verdict
    assert verdict["caller"] == {
        "hotkey": VALIDATOR.ss58_address,
        "nonce_ns": int(headers[HEADER_NONCE]),
        "crypto_type": 1,
    }


def test_ed25519_both_ways(bt: BtAuth) -> None:
    ed_validator = keypair("validator", "ed25519")
    theirs = bt.sign(crypto="ed25519", receiver=MINER.ss58_address)
    assert theirs[HEADER_CRYPTO] == "ed25519"
    claim = ours(theirs, verifier=BtAuthVerifier(MINER.ss58_address, expected_crypto="ed25519"))
    assert isinstance(claim, Claim) and claim.hotkey == ed_validator.ss58_address
    mine = sign_request(
        ed_validator, method=METHOD, target=TARGET, body=BODY, receiver=MINER.ss58_address
    )
    verdict = bt.verify(mine, own=MINER.ss58_address, store=fresh_store())
    assert verdict["ok"] and verdict["caller"]["crypto_type"] == 0, verdict


# ------------------------------------------------------------------- the same refusals, same why


def _scenario(name: str, bt: BtAuth) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """(headers, the request as received, verifier options) for one refusal scenario, signed by
    bittensor where it can be, by us where bittensor's signer cannot make it."""
    now = time.time_ns()
    request: dict[str, Any] = {}
    options: dict[str, Any] = {}
    if name == "stale":
        headers = bt.sign(receiver=MINER.ss58_address, nonce_ns=now - 12 * SECOND)
    elif name == "future":
        headers = bt.sign(receiver=MINER.ss58_address, nonce_ns=now + 5 * SECOND)
    elif name == "forged":  # another key signs, the hotkey header claims the validator
        headers = bt.sign(key="other", receiver=MINER.ss58_address)
        headers[HEADER_HOTKEY] = VALIDATOR.ss58_address
    elif name == "wrong-receiver":
        headers = bt.sign(receiver=OTHER.ss58_address)
    elif name == "missing-receiver":
        headers = bt.sign(receiver=None)
    elif name == "receiver-stripped":
        headers = bt.sign(receiver=MINER.ss58_address)
        del headers[HEADER_RECEIVER]
        options["require_receiver"] = False
    elif name == "tampered-body":
        headers = bt.sign(receiver=MINER.ss58_address)
        request["body"] = BODY + b" "
    elif name == "tampered-query":
        headers = bt.sign(receiver=MINER.ss58_address)
        request["target"] = TARGET.replace("n=2", "n=3")
    elif name == "tampered-path":
        headers = bt.sign(receiver=MINER.ss58_address)
        request["target"] = "/other?stream=1&n=2"
    elif name == "tampered-method":
        headers = bt.sign(receiver=MINER.ss58_address)
        request["method"] = "PUT"
    elif name == "tampered-nonce":
        headers = bt.sign(receiver=MINER.ss58_address)
        headers[HEADER_NONCE] = str(int(headers[HEADER_NONCE]) - 1)
    elif name == "wrong-version":
        headers = {**bt.sign(receiver=MINER.ss58_address), HEADER_VERSION: "2"}
    elif name == "missing-signature":
        headers = bt.sign(receiver=MINER.ss58_address)
        del headers[HEADER_SIGNATURE]
    elif name == "nonce-not-a-number":
        headers = {**bt.sign(receiver=MINER.ss58_address), HEADER_NONCE: "soon"}
    elif name == "unknown-crypto":
        headers = {**bt.sign(receiver=MINER.ss58_address), HEADER_CRYPTO: "ecdsa"}
    else:
        raise AssertionError(name)
    return headers, request, options


SCENARIOS = {
    "stale": "StaleRequest",
    "future": "StaleRequest",
    "forged": "BadSignature",
    "wrong-receiver": "WrongReceiver",
    "missing-receiver": "WrongReceiver",
    "receiver-stripped": "BadSignature",
    "tampered-body": "BadSignature",
    "tampered-query": "BadSignature",
    "tampered-path": "BadSignature",
    "tampered-method": "BadSignature",
    "tampered-nonce": "BadSignature",
    "wrong-version": "MalformedAuth",
    "missing-signature": "MalformedAuth",
    "nonce-not-a-number": "MalformedAuth",
    "unknown-crypto": "MalformedAuth",
}


@pytest.mark.parametrize(("scenario", "bittensor_says"), sorted(SCENARIOS.items()))
def test_both_refuse_for_the_same_reason(bt: BtAuth, scenario: str, bittensor_says: str) -> None:
    headers, request, options = _scenario(scenario, bt)
    verdict = bt.verify(headers, own=MINER.ss58_address, store=fresh_store(), **request, **options)
    assert not verdict["ok"] and verdict["error"] == bittensor_says, verdict
    assert (
        ours(headers, verifier=BtAuthVerifier(MINER.ss58_address, **options), **request)
        == (STATUS_OF[bittensor_says])
    )


@pytest.mark.parametrize("signer", ["bittensor", "ours"])
def test_both_refuse_a_replay(bt: BtAuth, signer: str) -> None:
    if signer == "bittensor":
        headers = bt.sign(receiver=MINER.ss58_address)
    else:
        headers = sign_request(
            VALIDATOR, method=METHOD, target=TARGET, body=BODY, receiver=MINER.ss58_address
        )
    store = fresh_store()
    assert bt.verify(headers, own=MINER.ss58_address, store=store)["ok"]
    replayed = bt.verify(headers, own=MINER.ss58_address, store=store)
    assert not replayed["ok"] and replayed["error"] == "ReplayedRequest"
    verifier = BtAuthVerifier(MINER.ss58_address)
    assert isinstance(ours(headers, verifier=verifier), Claim)
    assert ours(headers, verifier=verifier) == STATUS_OF["ReplayedRequest"]


def test_a_forgery_does_not_block_the_real_request_on_either_side(bt: BtAuth) -> None:
    """Both write the replay record only after the signature verified."""
    headers = bt.sign(receiver=MINER.ss58_address)
    forged = {**headers, HEADER_SIGNATURE: "0x" + OTHER.sign(b"x").hex()}
    store, verifier = fresh_store(), BtAuthVerifier(MINER.ss58_address)
    assert bt.verify(forged, own=MINER.ss58_address, store=store)["error"] == "BadSignature"
    assert ours(forged, verifier=verifier) == 401
    assert bt.verify(headers, own=MINER.ss58_address, store=store)["ok"]
    assert isinstance(ours(headers, verifier=verifier), Claim)


# ------------------------------------------------------------ where we are stricter, on purpose


def _respelled(headers: dict[str, str], change: str) -> dict[str, str]:
    nonce = headers[HEADER_NONCE]
    respelled = {
        "nonce-leading-zero": {HEADER_NONCE: "0" + nonce},
        "nonce-plus-sign": {HEADER_NONCE: "+" + nonce},
        "nonce-spaces": {HEADER_NONCE: f" {nonce} "},
        "signature-without-0x": {HEADER_SIGNATURE: headers[HEADER_SIGNATURE][2:]},
        "crypto-in-capitals": {HEADER_CRYPTO: "SR25519"},
        "crypto-as-number": {HEADER_CRYPTO: "1"},
    }[change]
    return {**headers, **respelled}


@pytest.mark.parametrize(
    "change",
    [
        "nonce-leading-zero",
        "nonce-plus-sign",
        "nonce-spaces",
        "signature-without-0x",
        "crypto-in-capitals",
        "crypto-as-number",
    ],
)
def test_other_spellings_bittensor_accepts_and_we_refuse(bt: BtAuth, change: str) -> None:
    """bittensor parses with int() and bytes.fromhex and normalizes the crypto name; its own
    signer never sends these. Each is one more identity of the same request: we answer 400."""
    headers = _respelled(bt.sign(receiver=MINER.ss58_address), change)
    assert bt.verify(headers, own=MINER.ss58_address, store=fresh_store())["ok"]
    assert ours(headers, verifier=BtAuthVerifier(MINER.ss58_address)) == 400


def test_a_hotkey_under_another_ss58_prefix(bt: BtAuth) -> None:
    """The validator's key spelled with Polkadot's prefix (0): bittensor verifies it under that
    new name, which a blacklist of bittensor addresses would not catch; we refuse it (400)."""
    polkadot_name = ss58_encode(VALIDATOR, 0)
    nonce = time.time_ns()
    payload = signed_payload(
        method=METHOD,
        target=TARGET,
        body=BODY,
        nonce_ns=nonce,
        sender=polkadot_name,
        receiver=MINER.ss58_address,
    )
    headers = {
        HEADER_VERSION: "1",
        HEADER_HOTKEY: polkadot_name,
        HEADER_NONCE: str(nonce),
        HEADER_RECEIVER: MINER.ss58_address,
        HEADER_SIGNATURE: "0x" + VALIDATOR.sign(payload).hex(),
    }
    verdict = bt.verify(headers, own=MINER.ss58_address, store=fresh_store())
    assert verdict["ok"] and verdict["caller"]["hotkey"] == polkadot_name, verdict
    assert ours(headers, verifier=BtAuthVerifier(MINER.ss58_address)) == 400


def test_a_scheme_other_than_the_pinned_one(bt: BtAuth) -> None:
    """bittensor 11.3.0 verifies under whatever scheme the request declares; we pin sr25519
    (401 for an ed25519 request), as 11.3.2's expected_crypto_type does."""
    headers = bt.sign(crypto="ed25519", receiver=MINER.ss58_address)
    assert bt.verify(headers, own=MINER.ss58_address, store=fresh_store())["ok"]
    assert ours(headers, verifier=BtAuthVerifier(MINER.ss58_address)) == 401


def test_polkadot_js_wrapped_signatures_pass_on_both_sides(bt: BtAuth) -> None:
    """Not a difference: bittensor_core, like bittensor_wallet, also accepts a signature over
    <Bytes> + payload + </Bytes> (only the key's owner can make one)."""
    nonce = time.time_ns()
    payload = signed_payload(
        method=METHOD,
        target=TARGET,
        body=BODY,
        nonce_ns=nonce,
        sender=VALIDATOR.ss58_address,
        receiver=MINER.ss58_address,
    )
    headers = {
        HEADER_VERSION: "1",
        HEADER_HOTKEY: VALIDATOR.ss58_address,
        HEADER_NONCE: str(nonce),
        HEADER_RECEIVER: MINER.ss58_address,
        HEADER_SIGNATURE: "0x" + VALIDATOR.sign(b"<Bytes>" + payload + b"</Bytes>").hex(),
    }
    assert bt.verify(headers, own=MINER.ss58_address, store=fresh_store())["ok"]
    assert isinstance(ours(headers, verifier=BtAuthVerifier(MINER.ss58_address)), Claim)
