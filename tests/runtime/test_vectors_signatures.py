"""signatures.json (and the signatures inside headers.json) against synapsegen.runtime.signing."""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime.signing import (
    VERSION_AS_INT,
    SignatureError,
    axon_message,
    check_signature,
    request_message,
    sign,
    verify,
    verify_or_raise,
)

from ._vectors import headers_classes, load

DATA = load("signatures.json")
HEADERS = load("headers.json")
SIGN_VERIFY = DATA["sign_verify"]
SIGNED_REQUESTS = DATA["signed_requests"]
SIZE_HEADERS = {"header_size", "total_size"}
SIGNATURE_FORMAT = re.compile(r"0x[0-9a-f]{128}")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the legacy-form class warns by design
    _, CLASSES = headers_classes()


def keypair(name: str) -> Keypair:
    """The named test keypair, rebuilt from its recorded source."""
    desc = next(k for k in DATA["keypairs"] if k["name"] == name)
    if desc["source"] == "mnemonic":
        return Keypair.create_from_mnemonic(desc["mnemonic"])
    if desc["source"] == "uri":
        return Keypair.create_from_uri(desc["uri"])
    return Keypair.create_from_seed(desc["seed_hex"])


def test_version_as_int_is_the_recorded_release() -> None:
    assert VERSION_AS_INT == DATA["environment"]["version_as_int"] == 10005000


@pytest.mark.parametrize("desc", DATA["keypairs"], ids=lambda k: k["name"])
def test_keypairs(desc: dict[str, Any]) -> None:
    kp = keypair(desc["name"])
    assert kp.ss58_address == desc["ss58_address"]
    assert kp.public_key is not None
    assert "0x" + kp.public_key.hex() == desc["public_key_hex"]
    # a verify-only keypair built from the address has the same public key
    assert Keypair(ss58_address=desc["ss58_address"]).public_key == kp.public_key


@pytest.mark.parametrize("vector", SIGN_VERIFY, ids=[v["id"] for v in SIGN_VERIFY])
def test_verify_vector(vector: dict[str, Any]) -> None:
    args = (vector["verify_ss58"], vector["verify_message"], vector["signature"])
    result = check_signature(*args)
    expected = vector["expected"]
    assert verify(*args) is (expected is True)
    assert result.ok is (expected is True)
    assert bool(result) is result.ok
    if expected is True:
        assert result.error is None
        verify_or_raise(*args)
        return
    if expected == "error":  # malformed: bittensor-wallet's own text, as a real axon reports it
        reason = vector["error"]["message"]
    else:
        reason = f"Signature mismatch with {vector['verify_message']} and {vector['signature']}"
    assert result.error == reason
    with pytest.raises(SignatureError) as info:
        verify_or_raise(*args)
    assert str(info.value) == reason
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "vector", [v for v in SIGN_VERIFY if v["expected"] is True], ids=lambda v: v["id"]
)
def test_sign_then_verify(vector: dict[str, Any]) -> None:
    """Our signatures verify where bittensor's did (signing is randomized: never compare bytes)."""
    signature = sign(keypair(vector["signer"]), vector["message"])
    assert SIGNATURE_FORMAT.fullmatch(signature)
    assert verify(vector["verify_ss58"], vector["verify_message"], signature)
    assert not verify(vector["verify_ss58"], vector["verify_message"] + "x", signature)


def test_request_and_axon_messages() -> None:
    request_ok = next(v for v in SIGN_VERIFY if v["id"] == "request_ok")
    nonce, dendrite_hotkey, axon_hotkey, uuid, body_hash = request_ok["message"].split(".")
    assert (
        request_message(int(nonce), dendrite_hotkey, axon_hotkey, uuid, body_hash)
        == (request_ok["message"])
    )
    axon_ok = next(v for v in SIGN_VERIFY if v["id"] == "axon_ok")
    nonce, dendrite_hotkey, axon_hotkey, uuid = axon_ok["message"].split(".")
    assert axon_message(int(nonce), dendrite_hotkey, axon_hotkey, uuid) == axon_ok["message"]


def test_sign_without_private_key_raises() -> None:
    public_only = Keypair(ss58_address=DATA["keypairs"][0]["ss58_address"])
    with pytest.raises(Exception, match="private key"):
        sign(public_only, "1.a.b.c.d")


def test_verify_bad_address_is_false_with_reason() -> None:
    result = check_signature("not-an-address", "m", "0x" + "00" * 64)
    assert not result.ok and result.error and "SS58" in result.error
    assert verify("not-an-address", "m", "0x" + "00" * 64) is False


@pytest.mark.parametrize(
    "case", [c for c in HEADERS["cases"] if "signature_message" in c], ids=lambda c: c["id"]
)
def test_header_case_signatures(case: dict[str, Any]) -> None:
    """The signature headers in headers.json are over request_message(...) of the case."""
    dendrite, axon = case["dendrite"], case["axon"]
    message = request_message(
        dendrite["nonce"], dendrite["hotkey"], axon["hotkey"], dendrite["uuid"], case["body_hash"]
    )
    assert message == case["signature_message"]
    verify_or_raise(dendrite["hotkey"], message, dendrite["signature"])


def test_axon_signature_in_error_response_headers() -> None:
    case = next(c for c in HEADERS["cases"] if "axon_signature_message" in c)
    headers = dict(case["headers"])
    message = axon_message(
        int(headers["bt_header_axon_nonce"]),
        headers["bt_header_dendrite_hotkey"],
        headers["bt_header_axon_hotkey"],
        headers["bt_header_axon_uuid"],
    )
    assert message == case["axon_signature_message"]
    assert verify(headers["bt_header_axon_hotkey"], message, headers["bt_header_axon_signature"])


@pytest.mark.parametrize("request_", SIGNED_REQUESTS, ids=[r["id"] for r in SIGNED_REQUESTS])
def test_signed_request(request_: dict[str, Any]) -> None:
    """A request captured from a real Dendrite: parse, check signature and body hash, rebuild."""
    cls = CLASSES[request_["class"]]
    expected = request_["expected"]
    assert request_["request_line"] == f"POST /{cls.__name__} HTTP/1.1"
    headers = dict(request_["headers"])

    parsed = cls.from_headers(headers)
    assert expected["from_headers"]["ok"]
    assert parsed.model_dump(mode="json") == expected["from_headers"]["model_dump_json"]

    assert parsed.dendrite is not None and parsed.axon is not None
    assert parsed.dendrite.nonce is not None and parsed.dendrite.hotkey is not None
    assert parsed.axon.hotkey is not None and parsed.dendrite.uuid is not None
    message = request_message(
        parsed.dendrite.nonce,
        parsed.dendrite.hotkey,
        parsed.axon.hotkey,
        parsed.dendrite.uuid,
        headers["computed_body_hash"],
    )
    assert message == expected["signature_message"]
    assert (
        verify(parsed.dendrite.hotkey, message, headers["bt_header_dendrite_signature"])
        is (expected["signature_valid"])
    )

    # What an axon recomputes from the body.
    from_body = cls(**json.loads(request_["body"]))
    assert from_body.body_hash == expected["body_hash_recomputed_from_body"]
    assert (from_body.body_hash == headers["computed_body_hash"]) is (
        expected["body_hash_matches_header"]
    )

    # Rebuilt from its body, our synapse re-emits the same body and the same bt headers.
    assert json.dumps(from_body.model_dump()) == request_["body"]
    ours = from_body.to_headers()
    theirs = [
        (k, v)
        for k, v in request_["headers"]
        if k in ("name", "timeout", "computed_body_hash") or k.startswith("bt_header_")
    ]
    theirs_names = [k for k, _ in theirs]
    assert [k for k in ours if k not in SIZE_HEADERS] == theirs_names
    assert {k: v for k, v in ours.items() if k not in SIZE_HEADERS} == dict(theirs)
