"""Epistula v2: signing, the two-step verifier, every refusal, and requests built from the spec.

``spec_headers`` below builds a request the way the published protocol (and Targon's
``generate_header``) does, with hashlib and ``Keypair.sign`` only, so the verifier is checked
against the spec rather than against our own signer.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid as uuid_module
from math import ceil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from synapsegen.runtime import Claim, EpistulaVerifier, Rejected, RequestVerifier, SeenSet
from synapsegen.runtime.epistula import (
    HEADER_SIGNATURE,
    HEADER_SIGNED_BY,
    HEADER_SIGNED_FOR,
    HEADER_TIMESTAMP,
    HEADER_UUID,
    HEADER_VERSION,
    sign_request,
    signed_message,
)

from ._auth_helpers import (
    HOSTILE_TEXT,
    OTHER,
    SENDER,
    SERVER,
    assert_one_line,
    run,
    ss58_encode,
)

SCHEME = "epistula/2"
BODY = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
MS = 1_000_000


def spec_headers(
    keypair: Any,
    body: bytes,
    signed_for: str | None,
    *,
    request_uuid: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Epistula v2 headers as the protocol page writes them (Targon's generate_header)."""
    timestamp = round(time.time() * 1000) if timestamp is None else timestamp
    request_uuid = str(uuid_module.uuid4()) if request_uuid is None else request_uuid
    message = f"{hashlib.sha256(body).hexdigest()}.{request_uuid}.{timestamp}.{signed_for or ''}"
    headers = {
        "Epistula-Version": str(2),
        "Epistula-Timestamp": str(timestamp),
        "Epistula-Uuid": request_uuid,
        "Epistula-Signed-By": keypair.ss58_address,
        "Epistula-Request-Signature": "0x" + keypair.sign(message).hex(),
    }
    if signed_for:
        headers["Epistula-Signed-For"] = signed_for
        # Targon also sends rotating "secret" signatures; a verifier ignores them.
        interval = ceil(timestamp / 1e4) * 1e4
        for index, shift in enumerate((-1, 0, 1)):
            text = f"{interval + shift}.{signed_for}"
            headers[f"Epistula-Secret-Signature-{index}"] = "0x" + keypair.sign(text).hex()
    return headers


def signed(**overrides: Any) -> dict[str, str]:
    """Our signer's headers for BODY from SENDER to SERVER."""
    arguments: dict[str, Any] = {"body": BODY, "receiver": SERVER.ss58_address}
    arguments.update(overrides)
    keypair = arguments.pop("keypair", SENDER)
    headers: dict[str, str] = sign_request(keypair, **arguments)
    return headers


def verifier(**options: Any) -> EpistulaVerifier:
    return EpistulaVerifier(SERVER.ss58_address, **options)


async def check(
    auth: EpistulaVerifier,
    headers: Any,
    *,
    body: bytes = BODY,
    method: str = "POST",
    target: str = "/v1/chat/completions",
) -> Claim:
    return await auth.verify(auth.claim(headers), method=method, target=target, body=body)


async def rejected(auth: EpistulaVerifier, headers: Any, **request: Any) -> Rejected:
    with pytest.raises(Rejected) as caught:
        await check(auth, headers, **request)
    assert_one_line(str(caught.value), SCHEME)
    return caught.value


# ------------------------------------------------------------------------------ the spec itself


def test_signed_message_is_the_spec_text() -> None:
    message = signed_message(body=b"hi", uuid="u", timestamp_ms=1700000000123, signed_for=None)
    assert message == f"{hashlib.sha256(b'hi').hexdigest()}.u.1700000000123.".encode()
    bound = signed_message(body=b"", uuid="u", timestamp_ms=5, signed_for=SERVER.ss58_address)
    assert bound.endswith(f".u.5.{SERVER.ss58_address}".encode())


@pytest.mark.parametrize("bound", [True, False])
async def test_requests_built_from_the_spec_verify(bound: bool) -> None:
    receiver = SERVER.ss58_address if bound else None
    headers = spec_headers(SENDER, BODY, receiver)
    claim = await check(verifier(require_receiver=bound), headers)
    assert claim.hotkey == SENDER.ss58_address and claim.receiver == receiver


async def test_our_requests_verify_by_the_spec() -> None:
    headers = signed()
    message = (
        f"{hashlib.sha256(BODY).hexdigest()}.{headers['Epistula-Uuid']}."
        f"{headers['Epistula-Timestamp']}.{SERVER.ss58_address}"
    )
    assert SENDER.verify(message, headers["Epistula-Request-Signature"])
    assert headers["Epistula-Version"] == "2"
    assert headers["Epistula-Signed-By"] == SENDER.ss58_address
    assert headers["Epistula-Signed-For"] == SERVER.ss58_address
    assert uuid_module.UUID(headers["Epistula-Uuid"]).version == 4
    assert abs(int(headers["Epistula-Timestamp"]) - time.time() * 1000) < 5_000
    assert HEADER_SIGNED_FOR not in signed(receiver=None)


def test_each_request_gets_a_new_uuid() -> None:
    assert len({signed()[HEADER_UUID] for _ in range(50)}) == 50


# ----------------------------------------------------------------------------------- accepted


async def test_round_trip() -> None:
    auth = verifier()
    headers = signed()
    claim = await check(auth, headers)
    assert isinstance(auth, RequestVerifier) and auth.scheme == SCHEME
    assert claim.scheme == SCHEME and claim.hotkey == SENDER.ss58_address
    assert claim.receiver == SERVER.ss58_address and claim.uuid == headers[HEADER_UUID]
    assert claim.timestamp_ns == int(headers[HEADER_TIMESTAMP]) * MS
    assert claim.replay_key == f"epistula/2:{SENDER.ss58_address}:{headers[HEADER_UUID]}"


async def test_method_and_target_are_not_signed() -> None:
    """Epistula signs the body only: the same request is good on any route (documented)."""
    await check(verifier(), signed(), method="GET", target="/anything?else")


async def test_header_names_are_case_insensitive() -> None:
    auth = verifier()
    await check(auth, {name.lower(): value for name, value in signed().items()})
    raw = [(name.lower().encode(), value.encode()) for name, value in signed().items()]
    await check(auth, Headers(raw=raw))


async def test_uppercase_uuid_is_accepted_and_replays_by_its_lowercase() -> None:
    auth = verifier()
    request_uuid = str(uuid_module.uuid4())
    now_ms = time.time_ns() // MS
    await check(auth, signed(uuid=request_uuid.upper(), timestamp_ms=now_ms))
    assert (await rejected(auth, signed(uuid=request_uuid, timestamp_ms=now_ms))).status == 401


async def test_the_same_uuid_from_another_hotkey_is_no_replay() -> None:
    auth = verifier()
    request_uuid = str(uuid_module.uuid4())
    await check(auth, signed(uuid=request_uuid))
    await check(auth, signed(uuid=request_uuid, keypair=OTHER))


async def test_freshness_bounds_are_inclusive() -> None:
    auth = verifier()
    now_ms = time.time_ns() // MS
    auth.claim(signed(timestamp_ms=now_ms - 8_000), now_ns=now_ms * MS)
    auth.claim(signed(timestamp_ms=now_ms + 2_000), now_ns=now_ms * MS)


def test_present() -> None:
    auth = verifier()
    assert auth.present(signed())
    assert auth.present({"epistula-uuid": "x"})
    assert not auth.present({})
    assert not auth.present({"Epistula-Secret-Signature-0": "0x00", "X-Bittensor-Version": "1"})


# -------------------------------------------------------------------------------- 400: shape


@pytest.mark.parametrize(
    "name", [HEADER_VERSION, HEADER_TIMESTAMP, HEADER_UUID, HEADER_SIGNED_BY, HEADER_SIGNATURE]
)
async def test_missing_header(name: str) -> None:
    headers = signed()
    del headers[name]
    refusal = await rejected(verifier(), headers)
    assert refusal.status == 400 and str(refusal) == f"epistula/2: missing {name} header"


@pytest.mark.parametrize("version", ["1", "3", "", "2.0", " 2", "v2"])
async def test_wrong_version(version: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_VERSION: version})
    assert refusal.status == 400 and HEADER_VERSION in str(refusal)


@pytest.mark.parametrize(
    "timestamp",
    ["", "abc", "-1", "+1", " 1", "01", "1.5", "1e12", "1_000", "\u0661", "9" * 17, "9" * 10**5],
)
async def test_malformed_timestamp(timestamp: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_TIMESTAMP: timestamp})
    assert refusal.status == 400 and HEADER_TIMESTAMP in str(refusal)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-a-uuid",
        uuid_module.uuid4().hex,  # no hyphens
        "{" + str(uuid_module.uuid4()) + "}",
        str(uuid_module.uuid4()) + " ",
        "urn:uuid:" + str(uuid_module.uuid4()),
        "g" * 8 + "-0000-0000-0000-" + "0" * 12,
        "u" * 100_000,
    ],
)
async def test_malformed_uuid(value: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_UUID: value})
    assert refusal.status == 400 and HEADER_UUID in str(refusal)


@pytest.mark.parametrize(
    "hotkey", ["", "bob", SENDER.ss58_address[:-1], ss58_encode(SENDER, 0), "5" * 100_000]
)
async def test_signed_by_that_is_no_bittensor_address(hotkey: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_SIGNED_BY: hotkey})
    assert refusal.status == 400 and HEADER_SIGNED_BY in str(refusal)


@pytest.mark.parametrize("signature", ["", "0x", "ab" * 64, "0x" + "ab" * 63, "0x" + "q" * 128])
async def test_malformed_signature(signature: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_SIGNATURE: signature})
    assert refusal.status == 400 and HEADER_SIGNATURE in str(refusal)


async def test_duplicate_header_is_refused() -> None:
    headers = signed()
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw.append((b"epistula-uuid", str(uuid_module.uuid4()).encode()))
    refusal = await rejected(verifier(), Headers(raw=raw))
    assert refusal.status == 400 and "more than once" in str(refusal)


async def test_huge_values_are_not_echoed() -> None:
    for name in (HEADER_VERSION, HEADER_TIMESTAMP, HEADER_UUID, HEADER_SIGNED_FOR):
        refusal = await rejected(verifier(), {**signed(), name: "7" * 1_000_000})
        assert len(str(refusal)) < 300


# ----------------------------------------------------------------------------- 421: receiver


async def test_wrong_receiver() -> None:
    refusal = await rejected(verifier(), signed(receiver=OTHER.ss58_address))
    assert refusal.status == 421 and OTHER.ss58_address in str(refusal)


async def test_missing_receiver() -> None:
    refusal = await rejected(verifier(), signed(receiver=None))
    assert refusal.status == 421 and HEADER_SIGNED_FOR in str(refusal)


async def test_empty_receiver_counts_as_none() -> None:
    headers = signed(receiver=None)
    headers[HEADER_SIGNED_FOR] = ""
    assert (await rejected(verifier(), headers)).status == 421
    await check(verifier(require_receiver=False), headers)


# ---------------------------------------------------------------------------- 401: freshness


async def test_stale() -> None:
    now_ms = time.time_ns() // MS
    with pytest.raises(Rejected) as caught:
        verifier().claim(signed(timestamp_ms=now_ms - 12_400), now_ns=now_ms * MS)
    assert caught.value.status == 401
    assert str(caught.value) == "epistula/2: request is 12.4 s old, the window is 8 s"


async def test_from_the_future() -> None:
    now_ms = time.time_ns() // MS
    with pytest.raises(Rejected) as caught:
        verifier().claim(signed(timestamp_ms=now_ms + 2_500), now_ns=now_ms * MS)
    assert caught.value.status == 401
    assert str(caught.value) == "epistula/2: request is 2.5 s in the future, at most 2 s is allowed"


async def test_window_is_configurable() -> None:
    now_ms = time.time_ns() // MS
    auth = verifier(max_age=15.0)
    auth.claim(signed(timestamp_ms=now_ms - 14_000), now_ns=now_ms * MS)
    with pytest.raises(Rejected):
        verifier(max_age=5.0).claim(signed(timestamp_ms=now_ms - 6_000), now_ns=now_ms * MS)


async def test_a_body_slower_than_the_window_makes_the_request_stale() -> None:
    auth = verifier(max_age=0.05)
    claim = auth.claim(signed())
    await asyncio.sleep(0.1)
    with pytest.raises(Rejected) as caught:
        await auth.verify(claim, method="POST", target="/", body=BODY)
    assert caught.value.status == 401


# ---------------------------------------------------------------------------- 401: signature


async def test_forged_by_another_key() -> None:
    forged = signed(keypair=OTHER)
    forged[HEADER_SIGNED_BY] = SENDER.ss58_address
    refusal = await rejected(verifier(), forged)
    assert refusal.status == 401 and "bad signature" in str(refusal)


@pytest.mark.parametrize("body", [BODY + b" ", b"", BODY.replace(b"hi", b"ho")])
async def test_tampered_body(body: bytes) -> None:
    assert (await rejected(verifier(), signed(), body=body)).status == 401


async def test_tampered_uuid_and_timestamp() -> None:
    headers = signed()
    assert (
        await rejected(verifier(), {**headers, HEADER_UUID: str(uuid_module.uuid4())})
    ).status == 401
    moved = str(int(headers[HEADER_TIMESTAMP]) - 1)
    assert (await rejected(verifier(), {**headers, HEADER_TIMESTAMP: moved})).status == 401


async def test_receiver_stripped_from_a_bound_request() -> None:
    headers = signed()
    del headers[HEADER_SIGNED_FOR]
    assert (await rejected(verifier(require_receiver=False), headers)).status == 401


# ------------------------------------------------------------------------------- 401: replay


async def test_replay() -> None:
    auth = verifier()
    headers = spec_headers(SENDER, BODY, SERVER.ss58_address)
    await check(auth, headers)
    refusal = await rejected(auth, headers)
    assert refusal.status == 401
    assert str(refusal) == "epistula/2: replayed request (uuid already seen)"


async def test_concurrent_verifies_accept_one() -> None:
    auth = verifier()
    headers = signed()
    claims = [auth.claim(headers) for _ in range(8)]
    results = await asyncio.gather(
        *(auth.verify(claim, method="POST", target="/", body=BODY) for claim in claims),
        return_exceptions=True,
    )
    assert sum(isinstance(result, Claim) for result in results) == 1
    assert all(isinstance(result, (Claim, Rejected)) for result in results)


async def test_forgeries_do_not_poison_the_store() -> None:
    auth = verifier()
    headers = signed()
    forged = {**headers, HEADER_SIGNATURE: "0x" + OTHER.sign(b"x").hex()}
    assert (await rejected(auth, forged)).status == 401
    await check(auth, headers)


async def test_store_is_shared_by_verifiers_of_one_hotkey() -> None:
    seen = SeenSet()
    headers = signed()
    await check(verifier(seen=seen), headers)
    assert (await rejected(verifier(seen=seen), headers)).status == 401


# ------------------------------------------------------------------------------- misuse, API


def test_constructor_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError):
        EpistulaVerifier("nope")
    for max_age, max_future in ((0.0, 2.0), (float("nan"), 2.0), (8.0, -0.1)):
        with pytest.raises(ValueError):
            verifier(max_age=max_age, max_future=max_future)


async def test_verify_refuses_a_claim_of_another_scheme() -> None:
    claim = Claim(
        scheme="btauth/1",
        hotkey=SENDER.ss58_address,
        receiver=None,
        timestamp_ns=time.time_ns(),
        replay_key="k",
        signature=b"\0" * 64,
        nonce_ns=1,
    )
    with pytest.raises(ValueError):
        await verifier().verify(claim, method="POST", target="/", body=BODY)


# ----------------------------------------------------------------------------- hostile input

_NAMES = [
    HEADER_VERSION,
    HEADER_TIMESTAMP,
    HEADER_UUID,
    HEADER_SIGNED_BY,
    HEADER_SIGNED_FOR,
    HEADER_SIGNATURE,
]
_AUTH = verifier(require_receiver=False)
_RECEIVERS = st.sampled_from([None, SERVER.ss58_address])
_ACTIONS = st.sampled_from(["replace", "delete", "case"])
_CHANGED = st.lists(st.sampled_from(_NAMES), unique=True)
_UUIDS = st.one_of(HOSTILE_TEXT, st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()))


@st.composite
def hostile_headers(draw: st.DrawFn) -> dict[str, str]:
    """A valid request's headers with some values replaced, removed or sent in odd case."""
    headers = signed(receiver=draw(_RECEIVERS))
    for name in draw(_CHANGED):
        action = draw(_ACTIONS)
        if action == "delete":
            headers.pop(name, None)
        elif action == "case":
            value = headers.pop(name, None)
            headers[name.upper()] = draw(HOSTILE_TEXT) if value is None else value
        else:
            headers[name] = draw(_UUIDS if name == HEADER_UUID else HOSTILE_TEXT)
    return headers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=hostile_headers(), body=st.sampled_from([BODY, b"", b"\xff"]))
def test_hostile_headers_only_ever_raise_rejected(headers: dict[str, str], body: bytes) -> None:
    try:
        run(_AUTH.verify(_AUTH.claim(headers), method="POST", target="/", body=body))
    except Rejected as refusal:
        assert refusal.status in (400, 401, 421)
        assert_one_line(str(refusal), SCHEME)
