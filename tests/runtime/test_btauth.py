"""btauth/1 (bittensor 11's signed requests): signing, the two-step verifier, every refusal.

Status codes (``_auth.py``): 400 malformed, 421 wrong or missing receiver, 401 stale, future,
unaccepted crypto scheme, bad signature, replay. tests/interop/test_btauth_interop.py checks the
same verdicts against real bittensor 11.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers

from synapsegen.runtime import BtAuthVerifier, Claim, Rejected, RequestVerifier, SeenSet, btauth
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

from ._auth_helpers import (
    ED25519_SENDER,
    HOSTILE_TEXT,
    OTHER,
    SECOND,
    SENDER,
    SERVER,
    assert_one_line,
    run,
    ss58_encode,
)

SCHEME = "btauth/1"
METHOD, TARGET, BODY = "POST", "/generate?stream=1", b'{"prompt": "hello"}'


def signed(**overrides: Any) -> dict[str, str]:
    """Headers of a request from SENDER to SERVER (``overrides`` change sign_request's inputs)."""
    arguments: dict[str, Any] = {
        "method": METHOD,
        "target": TARGET,
        "body": BODY,
        "receiver": SERVER.ss58_address,
    }
    arguments.update(overrides)
    keypair = arguments.pop("keypair", SENDER)
    headers: dict[str, str] = sign_request(keypair, **arguments)
    return headers


def verifier(**options: Any) -> BtAuthVerifier:
    return BtAuthVerifier(SERVER.ss58_address, **options)


async def check(
    auth: BtAuthVerifier,
    headers: Any,
    *,
    method: str = METHOD,
    target: str = TARGET,
    body: bytes = BODY,
) -> Claim:
    """Both steps, as a server runs them."""
    return await auth.verify(auth.claim(headers), method=method, target=target, body=body)


async def rejected(auth: BtAuthVerifier, headers: Any, **request: Any) -> Rejected:
    with pytest.raises(Rejected) as caught:
        await check(auth, headers, **request)
    assert_one_line(str(caught.value), SCHEME)
    return caught.value


# ------------------------------------------------------------------------------------ signing


def test_signed_payload_is_the_eight_lines_of_the_spec() -> None:
    payload = signed_payload(
        method="post",
        target="/a?b=c",
        body=b"hi",
        nonce_ns=1_700_000_000_123_456_789,
        sender=SENDER.ss58_address,
        receiver=None,
    )
    expected = "\n".join(
        [
            "btauth/1",
            "sr25519",
            "POST",
            "/a?b=c",
            hashlib.sha256(b"hi").hexdigest(),
            "1700000000123456789",
            SENDER.ss58_address,
            "-",
        ]
    ).encode()
    assert payload == expected


def test_sign_request_headers() -> None:
    headers = signed(nonce_ns=1234)
    assert set(headers) == {
        HEADER_VERSION,
        HEADER_HOTKEY,
        HEADER_NONCE,
        HEADER_SIGNATURE,
        HEADER_RECEIVER,
    }  # no X-Bittensor-Crypto for sr25519
    assert headers[HEADER_VERSION] == "1"
    assert headers[HEADER_HOTKEY] == SENDER.ss58_address
    assert headers[HEADER_NONCE] == "1234"
    assert headers[HEADER_RECEIVER] == SERVER.ss58_address
    signature = headers[HEADER_SIGNATURE]
    assert signature.startswith("0x") and len(signature) == 130
    payload = signed_payload(
        method=METHOD,
        target=TARGET,
        body=BODY,
        nonce_ns=1234,
        sender=SENDER.ss58_address,
        receiver=SERVER.ss58_address,
    )
    assert SENDER.verify(payload, bytes.fromhex(signature[2:]))
    assert HEADER_RECEIVER not in signed(receiver=None)


def test_ed25519_keys_sign_with_their_scheme() -> None:
    headers = signed(keypair=ED25519_SENDER)
    assert headers[HEADER_CRYPTO] == "ed25519"


def test_nonces_strictly_increase_even_if_the_clock_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = [int(signed()[HEADER_NONCE]) for _ in range(50)]
    frozen = time.time_ns()
    monkeypatch.setattr(btauth.time, "time_ns", lambda: frozen)
    repeated = [int(signed()[HEADER_NONCE]) for _ in range(50)]
    nonces = first + repeated
    assert all(a < b for a, b in zip(nonces, nonces[1:], strict=False))


# ----------------------------------------------------------------------------------- accepted


async def test_round_trip() -> None:
    auth = verifier()
    headers = signed()
    claim = await check(auth, headers)
    assert isinstance(auth, RequestVerifier) and auth.scheme == SCHEME
    assert claim.scheme == SCHEME and claim.hotkey == SENDER.ss58_address
    assert claim.receiver == SERVER.ss58_address and claim.crypto == "sr25519"
    assert claim.nonce_ns == claim.timestamp_ns == int(headers[HEADER_NONCE])
    assert claim.replay_key == f"btauth/1:{SENDER.ss58_address}:{claim.nonce_ns}"
    assert "signature" not in repr(claim)


async def test_header_names_are_case_insensitive() -> None:
    auth = verifier()
    lowered = {name.lower(): value for name, value in signed().items()}
    await check(auth, lowered)
    shouted = {name.upper(): value for name, value in signed().items()}
    await check(auth, shouted)
    raw = [(name.lower().encode(), value.encode()) for name, value in signed().items()]
    await check(auth, Headers(raw=raw))  # what a starlette server hands over


async def test_empty_body_and_methods_in_any_case() -> None:
    auth = verifier()
    await check(
        auth, signed(method="get", target="/", body=b""), method="GET", target="/", body=b""
    )


async def test_unbound_request_when_receiver_is_optional() -> None:
    claim = await check(verifier(require_receiver=False), signed(receiver=None))
    assert claim.receiver is None


async def test_ed25519_when_expected() -> None:
    claim = await check(verifier(expected_crypto="ed25519"), signed(keypair=ED25519_SENDER))
    assert claim.crypto == "ed25519"


async def test_explicit_default_crypto_header_is_accepted() -> None:
    headers = signed()
    headers[HEADER_CRYPTO] = "sr25519"
    await check(verifier(), headers)


async def test_freshness_bounds_are_inclusive() -> None:
    auth = verifier()
    now = time.time_ns()
    old = signed(nonce_ns=now - 10 * SECOND)
    assert auth.claim(old, now_ns=now).nonce_ns == now - 10 * SECOND
    ahead = signed(nonce_ns=now + 2 * SECOND)
    assert auth.claim(ahead, now_ns=now).nonce_ns == now + 2 * SECOND


async def test_polkadot_js_wrapped_signature_is_accepted_like_bittensor() -> None:
    """bittensor_wallet (and bittensor 11's own verifier) accept a signature over <Bytes>payload
    </Bytes>: only the key's owner can make one, so it proves the same thing."""
    headers = signed()
    payload = signed_payload(
        method=METHOD,
        target=TARGET,
        body=BODY,
        nonce_ns=int(headers[HEADER_NONCE]),
        sender=SENDER.ss58_address,
        receiver=SERVER.ss58_address,
    )
    headers[HEADER_SIGNATURE] = "0x" + SENDER.sign(b"<Bytes>" + payload + b"</Bytes>").hex()
    await check(verifier(), headers)


def test_present() -> None:
    auth = verifier()
    assert auth.present(signed())
    assert auth.present({"x-bittensor-hotkey": "anything"})
    assert auth.present(Headers(raw=[(b"x-bittensor-nonce", b"1")]))
    assert not auth.present({})
    assert not auth.present({"Epistula-Version": "2", "bt_header_dendrite_hotkey": "x"})


# -------------------------------------------------------------------------------- 400: shape


@pytest.mark.parametrize("name", [HEADER_VERSION, HEADER_HOTKEY, HEADER_NONCE, HEADER_SIGNATURE])
async def test_missing_header(name: str) -> None:
    headers = signed()
    del headers[name]
    refusal = await rejected(verifier(), headers)
    assert refusal.status == 400
    assert str(refusal) == f"btauth/1: missing {name} header"


@pytest.mark.parametrize("version", ["2", "", "1.0", " 1", "01"])
async def test_wrong_version(version: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_VERSION: version})
    assert refusal.status == 400 and "X-Bittensor-Version" in str(refusal)


@pytest.mark.parametrize(
    "nonce",
    [
        "",
        "abc",
        "12a",
        "-5",
        "+5",
        " 5",
        "5 ",
        "05",
        "1_000",
        "1e9",
        "1.5",
        "\u0661\u0662\u0663",
        "9" * 21,
        "9" * 100_000,
    ],
)
async def test_malformed_nonce(nonce: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_NONCE: nonce})
    assert refusal.status == 400 and "X-Bittensor-Nonce" in str(refusal)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "0x",
        "ab" * 64,
        "0x" + "ab" * 63,
        "0x" + "ab" * 65,
        "0x" + "zz" * 64,
        "0x" + "ab" * 50_000,
    ],
)
async def test_malformed_signature(signature: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_SIGNATURE: signature})
    assert refusal.status == 400 and "X-Bittensor-Signature" in str(refusal)


@pytest.mark.parametrize(
    "hotkey",
    [
        "",
        "alice",
        SENDER.ss58_address[:-1],
        SENDER.ss58_address + "x",
        ss58_encode(SENDER, 0),  # the same key under Polkadot's prefix
        "5" * 48,
        "x" * 100_000,
    ],
)
async def test_hotkey_that_is_no_bittensor_address(hotkey: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_HOTKEY: hotkey})
    assert refusal.status == 400 and "X-Bittensor-Hotkey" in str(refusal)


@pytest.mark.parametrize("crypto", ["foo", "SR25519", "1", "0", " sr25519", "", "ecdsa"])
async def test_unknown_crypto(crypto: str) -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_CRYPTO: crypto})
    assert refusal.status == 400 and "X-Bittensor-Crypto" in str(refusal)


async def test_duplicate_header_is_refused() -> None:
    headers = signed()
    both_spellings = {**headers, HEADER_NONCE.lower(): headers[HEADER_NONCE]}
    assert (await rejected(verifier(), both_spellings)).status == 400
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw.append((b"x-bittensor-hotkey", OTHER.ss58_address.encode()))
    refusal = await rejected(verifier(), Headers(raw=raw))
    assert refusal.status == 400 and "more than once" in str(refusal)


async def test_huge_values_are_not_echoed() -> None:
    for name in (HEADER_VERSION, HEADER_HOTKEY, HEADER_NONCE, HEADER_CRYPTO, HEADER_RECEIVER):
        refusal = await rejected(verifier(), {**signed(), name: "7" * 1_000_000})
        assert len(str(refusal)) < 300


# ----------------------------------------------------------------------------- 421: receiver


async def test_wrong_receiver() -> None:
    refusal = await rejected(verifier(), signed(receiver=OTHER.ss58_address))
    assert refusal.status == 421
    assert OTHER.ss58_address in str(refusal) and "receiver" in str(refusal)


async def test_missing_receiver() -> None:
    refusal = await rejected(verifier(), signed(receiver=None))
    assert refusal.status == 421 and "X-Bittensor-Receiver" in str(refusal)


@pytest.mark.parametrize("receiver", ["", "-"])
async def test_empty_or_placeholder_receiver(receiver: str) -> None:
    refusal = await rejected(verifier(require_receiver=False), signed(receiver=receiver))
    assert refusal.status == 421


# ---------------------------------------------------------------------------- 401: freshness


async def test_stale() -> None:
    now = time.time_ns()
    with pytest.raises(Rejected) as caught:
        verifier().claim(signed(nonce_ns=now - 12_400_000_000), now_ns=now)
    assert caught.value.status == 401
    assert str(caught.value) == "btauth/1: request is 12.4 s old, the window is 10 s"


async def test_from_the_future() -> None:
    now = time.time_ns()
    with pytest.raises(Rejected) as caught:
        verifier().claim(signed(nonce_ns=now + 3_100_000_000), now_ns=now)
    assert caught.value.status == 401
    assert str(caught.value) == ("btauth/1: request is 3.1 s in the future, at most 2 s is allowed")


async def test_nonce_zero_and_far_future_are_stale() -> None:
    for nonce in (0, 1, 10**19, 10**20 - 1):
        refusal = await rejected(verifier(), signed(nonce_ns=nonce))
        assert refusal.status == 401


async def test_window_is_configurable() -> None:
    now = time.time_ns()
    auth = verifier(max_age=30.0, max_future=0.0)
    auth.claim(signed(nonce_ns=now - 25 * SECOND), now_ns=now)
    with pytest.raises(Rejected):
        auth.claim(signed(nonce_ns=now + 1), now_ns=now)


async def test_a_body_slower_than_the_window_makes_the_request_stale() -> None:
    auth = verifier(max_age=0.05)
    claim = auth.claim(signed())
    await asyncio.sleep(0.1)
    with pytest.raises(Rejected) as caught:
        await auth.verify(claim, method=METHOD, target=TARGET, body=BODY)
    assert caught.value.status == 401 and "old" in str(caught.value)


# ---------------------------------------------------------------------------- 401: signature


async def test_forged_by_another_key() -> None:
    forged = signed(keypair=OTHER)
    forged[HEADER_HOTKEY] = SENDER.ss58_address
    refusal = await rejected(verifier(), forged)
    assert refusal.status == 401 and "bad signature" in str(refusal)


async def test_random_signature_bytes() -> None:
    refusal = await rejected(verifier(), {**signed(), HEADER_SIGNATURE: "0x" + "00" * 64})
    assert refusal.status == 401


@pytest.mark.parametrize(
    "request_",
    [
        {"body": BODY + b" "},
        {"body": b""},
        {"target": "/generate?stream=0"},
        {"target": "/generate"},
        {"target": "/generate?stream=1&x=1"},
        {"target": "/other?stream=1"},
        {"method": "PUT"},
    ],
    ids=["body", "empty-body", "query", "no-query", "more-query", "path", "method"],
)
async def test_tampered_request(request_: dict[str, Any]) -> None:
    refusal = await rejected(verifier(), signed(), **request_)
    assert refusal.status == 401 and "bad signature" in str(refusal)


async def test_tampered_nonce() -> None:
    headers = signed()
    headers[HEADER_NONCE] = str(int(headers[HEADER_NONCE]) + 1)
    assert (await rejected(verifier(), headers)).status == 401


async def test_receiver_stripped_from_a_bound_request() -> None:
    headers = signed()
    del headers[HEADER_RECEIVER]
    assert (await rejected(verifier(require_receiver=False), headers)).status == 401


async def test_ed25519_declared_where_sr25519_is_pinned() -> None:
    """The scheme is pinned: an ed25519 signature is not even tried for an sr25519 server."""
    refusal = await rejected(verifier(), signed(keypair=ED25519_SENDER))
    assert refusal.status == 401 and "ed25519" in str(refusal)


async def test_sr25519_signature_where_ed25519_is_pinned() -> None:
    refusal = await rejected(verifier(expected_crypto="ed25519"), signed())
    assert refusal.status == 401


async def test_crypto_header_swapped_on_a_good_signature() -> None:
    """Declaring ed25519 for an sr25519 signature (ed25519 accepted) fails the signature."""
    headers = {**signed(), HEADER_CRYPTO: "ed25519"}
    refusal = await rejected(verifier(expected_crypto="ed25519"), headers)
    assert refusal.status == 401 and "bad signature" in str(refusal)


# ------------------------------------------------------------------------------- 401: replay


async def test_replay() -> None:
    auth = verifier()
    headers = signed()
    await check(auth, headers)
    refusal = await rejected(auth, headers)
    assert refusal.status == 401
    assert str(refusal) == "btauth/1: replayed request (nonce already seen from this hotkey)"


async def test_concurrent_verifies_accept_one() -> None:
    auth = verifier()
    headers = signed()
    claims = [auth.claim(headers) for _ in range(8)]
    results = await asyncio.gather(
        *(auth.verify(claim, method=METHOD, target=TARGET, body=BODY) for claim in claims),
        return_exceptions=True,
    )
    assert sum(isinstance(result, Claim) for result in results) == 1
    assert all(isinstance(result, (Claim, Rejected)) for result in results)


async def test_forgeries_do_not_poison_the_store() -> None:
    """A forged request carrying a real request's nonce is refused without being recorded."""
    auth = verifier()
    headers = signed()
    forged = {**headers, HEADER_SIGNATURE: "0x" + OTHER.sign(b"x").hex()}
    assert (await rejected(auth, forged)).status == 401
    await check(auth, headers)


async def test_store_is_shared_by_verifiers_of_one_hotkey() -> None:
    seen = SeenSet()
    first, second = verifier(seen=seen), verifier(seen=seen)
    headers = signed()
    await check(first, headers)
    assert (await rejected(second, headers)).status == 401


# ------------------------------------------------------------------------------- misuse, API


def test_constructor_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError):
        BtAuthVerifier("not-an-address")
    with pytest.raises(ValueError):
        BtAuthVerifier(ss58_encode(SERVER, 0))
    with pytest.raises(ValueError):
        verifier(expected_crypto="ecdsa")
    for max_age, max_future in ((0.0, 2.0), (-1.0, 2.0), (float("inf"), 2.0), (10.0, -1.0)):
        with pytest.raises(ValueError):
            verifier(max_age=max_age, max_future=max_future)


async def test_verify_refuses_a_claim_of_another_scheme() -> None:
    claim = Claim(
        scheme="epistula/2",
        hotkey=SENDER.ss58_address,
        receiver=None,
        timestamp_ns=time.time_ns(),
        replay_key="k",
        signature=b"\0" * 64,
        uuid="u",
    )
    with pytest.raises(ValueError):
        await verifier().verify(claim, method=METHOD, target=TARGET, body=BODY)


# ----------------------------------------------------------------------------- hostile input

_NAMES = [
    HEADER_VERSION,
    HEADER_HOTKEY,
    HEADER_RECEIVER,
    HEADER_NONCE,
    HEADER_CRYPTO,
    HEADER_SIGNATURE,
]
_AUTH = verifier(require_receiver=False)


_RECEIVERS = st.sampled_from([None, SERVER.ss58_address])
_ACTIONS = st.sampled_from(["replace", "delete", "case"])
_CHANGED = st.lists(st.sampled_from(_NAMES), unique=True)
_SPELLINGS = {
    name: st.sampled_from([name.lower(), name.upper(), name.swapcase()]) for name in _NAMES
}


@st.composite
def hostile_headers(draw: st.DrawFn) -> dict[str, str]:
    """A valid request's headers with some values replaced, removed or added in odd case."""
    headers = signed(receiver=draw(_RECEIVERS))
    for name in draw(_CHANGED):
        action = draw(_ACTIONS)
        if action == "delete":
            headers.pop(name, None)
        elif action == "case":
            value = headers.pop(name, None)
            headers[draw(_SPELLINGS[name])] = draw(HOSTILE_TEXT) if value is None else value
        else:
            headers[name] = draw(HOSTILE_TEXT)
    return headers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers=hostile_headers(),
    method=st.sampled_from([METHOD, "GET", "post", "\u00df"]),
    target=st.sampled_from([TARGET, "/", "", "/a\nb", "/\u00e9"]),
    body=st.sampled_from([BODY, b"", b"\xff" * 3]),
)
def test_hostile_headers_only_ever_raise_rejected(
    headers: dict[str, str], method: str, target: str, body: bytes
) -> None:
    try:
        claim = _AUTH.claim(headers)
        run(_AUTH.verify(claim, method=method, target=target, body=body))
    except Rejected as refusal:
        assert refusal.status in (400, 401, 421)
        assert_one_line(str(refusal), SCHEME)
