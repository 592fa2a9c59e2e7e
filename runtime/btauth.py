"""bittensor 11's request signing, ``btauth/1``: sign and verify as ``bittensor.http_auth`` does.

bittensor 11 dropped the Axon and Dendrite and kept only this: any HTTP request proves who sent
it, to whom, with which body, and when, in six headers (names are case-insensitive on the wire;
these are the spellings bittensor sends):

- ``X-Bittensor-Version: 1``;
- ``X-Bittensor-Hotkey``: the sender's ss58 address;
- ``X-Bittensor-Receiver``: the receiver's ss58 address (optional when signing; required by the
  verifier unless ``require_receiver=False``);
- ``X-Bittensor-Nonce``: the signing time in Unix nanoseconds, decimal;
- ``X-Bittensor-Crypto``: the signature scheme, sent only when it is not sr25519;
- ``X-Bittensor-Signature``: ``0x`` + hex of the signature of ``signed_payload``.

The signed payload is eight lines joined by ``\\n`` (no final newline), UTF-8: ``btauth/1``, the
scheme name, the uppercase method, the request target (path and ``?query`` exactly as sent), the
lowercase hex sha256 of the raw body, the nonce, the sender, the receiver or ``-``.

``BtAuthVerifier`` checks in bittensor's order (``_auth.py`` for the two steps and the status
codes): shape, receiver, freshness (10 s back, 2 s ahead by default), the signature under the
declared scheme only (which must be the one expected of senders: sr25519 unless configured), and
last the replay record, keyed by (hotkey, nonce), written only once the signature verified.

Where it differs from bittensor 11.3.0's ``http_auth.verify`` (``tests/interop`` pins both):

- it refuses spellings bittensor lets through because it parses with ``int()`` and
  ``bytes.fromhex``: a nonce with a sign, spaces, leading zeros or non-ASCII digits, a
  signature without ``0x``, a crypto name in capitals or as a number ("0", "1");
- it pins the crypto scheme (bittensor 11.3.0 verifies under whichever scheme the request
  declares; 11.3.2 adds ``expected_crypto_type`` for this) and refuses a hotkey that is not a
  bittensor ss58 address (bittensor takes the same key under any network prefix, a new name);
- it bounds a hotkey's length before decoding it: base58 decoding is quadratic, and bittensor
  spends seconds on a 50 kB ``X-Bittensor-Hotkey`` before refusing it;
- its replay store is bounded in entries (bittensor's ``InMemoryNonceStore`` only expires them
  by time) and belongs to the verifier (bittensor's default is one store per process).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping

from ._auth import (
    CRYPTO_TYPES,
    Claim,
    RequestSigner,
    check_fresh,
    check_hotkey,
    check_receiver,
    has_any,
    is_hotkey,
    parse_decimal,
    parse_signature,
    quote,
    read_headers,
    require,
    signature_ok,
    window_ns,
)
from .errors import Rejected
from .replay import SeenSet, SeenStore

__all__ = [
    "DEFAULT_SCHEME",
    "HEADER_CRYPTO",
    "HEADER_HOTKEY",
    "HEADER_NONCE",
    "HEADER_RECEIVER",
    "HEADER_SIGNATURE",
    "HEADER_VERSION",
    "PROTOCOL",
    "VERSION",
    "BtAuthVerifier",
    "sign_request",
    "signed_payload",
]

PROTOCOL = "btauth/1"
VERSION = "1"
DEFAULT_SCHEME = "sr25519"

HEADER_VERSION = "X-Bittensor-Version"
HEADER_HOTKEY = "X-Bittensor-Hotkey"
HEADER_RECEIVER = "X-Bittensor-Receiver"
HEADER_NONCE = "X-Bittensor-Nonce"
HEADER_CRYPTO = "X-Bittensor-Crypto"
HEADER_SIGNATURE = "X-Bittensor-Signature"

_NAMES = tuple(
    name.lower()
    for name in (
        HEADER_VERSION,
        HEADER_HOTKEY,
        HEADER_RECEIVER,
        HEADER_NONCE,
        HEADER_CRYPTO,
        HEADER_SIGNATURE,
    )
)
_NO_RECEIVER = "-"
_SCHEME_NAMES = {number: name for name, number in CRYPTO_TYPES.items()}
#: 2**64 has 20 digits; a nanosecond clock needs 19 until the year 2286.
_NONCE_MAX_DIGITS = 20


def signed_payload(
    *,
    method: str,
    target: str,
    body: bytes,
    nonce_ns: int,
    sender: str,
    receiver: str | None,
    scheme: str = DEFAULT_SCHEME,
) -> bytes:
    """The exact bytes a ``btauth/1`` request signs (module docstring)."""
    lines = (
        PROTOCOL,
        scheme,
        method.upper(),
        target,
        hashlib.sha256(body).hexdigest(),
        str(nonce_ns),
        sender,
        receiver or _NO_RECEIVER,
    )
    return "\n".join(lines).encode("utf-8")


_nonce_lock = threading.Lock()
_last_nonce = 0


def _next_nonce() -> int:
    """``time.time_ns()``, but above every nonce this process handed out before (a clock that
    repeats a value, or steps back, must not make two requests share a nonce)."""
    global _last_nonce
    with _nonce_lock:
        _last_nonce = max(time.time_ns(), _last_nonce + 1)
        return _last_nonce


def sign_request(
    keypair: RequestSigner,
    *,
    method: str,
    target: str,
    body: bytes,
    receiver: str | None,
    nonce_ns: int | None = None,
) -> dict[str, str]:
    """The headers that sign one request from ``keypair``'s hotkey (send ``body`` unchanged).

    ``target`` is the path with its ``?query``, exactly as the client sends it. Each call takes
    a new nonce unless ``nonce_ns`` is given (tests); a retried request must be signed again.
    The scheme is the keypair's ``crypto_type`` (sr25519 when it has none).
    """
    scheme = _SCHEME_NAMES.get(getattr(keypair, "crypto_type", CRYPTO_TYPES[DEFAULT_SCHEME]))
    if scheme is None:
        raise ValueError(f"cannot sign {PROTOCOL} requests with this keypair's crypto type")
    nonce = _next_nonce() if nonce_ns is None else nonce_ns
    sender = keypair.ss58_address
    payload = signed_payload(
        method=method,
        target=target,
        body=body,
        nonce_ns=nonce,
        sender=sender,
        receiver=receiver,
        scheme=scheme,
    )
    headers = {
        HEADER_VERSION: VERSION,
        HEADER_HOTKEY: sender,
        HEADER_NONCE: str(nonce),
        HEADER_SIGNATURE: "0x" + bytes(keypair.sign(payload)).hex(),
    }
    if scheme != DEFAULT_SCHEME:
        headers[HEADER_CRYPTO] = scheme
    if receiver is not None:
        headers[HEADER_RECEIVER] = receiver
    return headers


class BtAuthVerifier:
    """The server side of ``btauth/1`` for the hotkey ``own_hotkey`` (a ``RequestVerifier``).

    Args:
        own_hotkey: this server's ss58 address; requests must be signed for it.
        max_age: seconds a request may be old (by its nonce).
        max_future: seconds a nonce may be ahead of this server's clock.
        require_receiver: refuse requests signed for no receiver (421); bittensor's default.
        expected_crypto: the scheme senders must sign with, ``"sr25519"`` or ``"ed25519"``.
        seen: where replays are caught; a ``SeenSet`` of its own by default. Share a
            ``RedisSeenStore`` between the workers of one hotkey.
    """

    scheme: str = PROTOCOL

    def __init__(
        self,
        own_hotkey: str,
        *,
        max_age: float = 10.0,
        max_future: float = 2.0,
        require_receiver: bool = True,
        expected_crypto: str = DEFAULT_SCHEME,
        seen: SeenStore | None = None,
    ) -> None:
        if not is_hotkey(own_hotkey):
            raise ValueError(f"own_hotkey is not a bittensor ss58 address: {own_hotkey!r}")
        if expected_crypto not in CRYPTO_TYPES:
            known = ", ".join(sorted(CRYPTO_TYPES))
            raise ValueError(f"expected_crypto must be one of {known}, got {expected_crypto!r}")
        self.own_hotkey = own_hotkey
        self.max_age = max_age
        self.max_future = max_future
        self.require_receiver = require_receiver
        self.expected_crypto = expected_crypto
        self.seen: SeenStore = SeenSet() if seen is None else seen
        self._max_age_ns, self._max_future_ns = window_ns(PROTOCOL, max_age, max_future)
        self._retain_s = max_age + max_future

    def present(self, headers: Mapping[str, str]) -> bool:
        """True if any ``X-Bittensor-*`` header of this protocol is there (any letter case)."""
        return has_any(headers, _NAMES)

    def claim(self, headers: Mapping[str, str], *, now_ns: int | None = None) -> Claim:
        """Shape, version, crypto scheme, receiver, freshness; raises ``Rejected``."""
        found = read_headers(PROTOCOL, headers, _NAMES)
        version = require(PROTOCOL, found, HEADER_VERSION)
        if version != VERSION:
            raise Rejected(
                400, f"{PROTOCOL}: unsupported {HEADER_VERSION} {quote(version)} (expected 1)"
            )
        hotkey = check_hotkey(PROTOCOL, HEADER_HOTKEY, require(PROTOCOL, found, HEADER_HOTKEY))
        raw_nonce = require(PROTOCOL, found, HEADER_NONCE)
        nonce = parse_decimal(PROTOCOL, HEADER_NONCE, raw_nonce, _NONCE_MAX_DIGITS)
        crypto = found.get(HEADER_CRYPTO.lower(), DEFAULT_SCHEME)
        if crypto not in CRYPTO_TYPES:
            known = ", ".join(sorted(CRYPTO_TYPES))
            raise Rejected(
                400, f"{PROTOCOL}: unknown {HEADER_CRYPTO} {quote(crypto)} (known: {known})"
            )
        signature = parse_signature(
            PROTOCOL, HEADER_SIGNATURE, require(PROTOCOL, found, HEADER_SIGNATURE)
        )
        if crypto != self.expected_crypto:
            why = f"senders must sign with {self.expected_crypto}"
            raise Rejected(401, f"{PROTOCOL}: crypto scheme {crypto} is not accepted ({why})")
        receiver = found.get(HEADER_RECEIVER.lower())
        check_receiver(PROTOCOL, HEADER_RECEIVER, receiver, self.own_hotkey, self.require_receiver)
        now = time.time_ns() if now_ns is None else now_ns
        check_fresh(PROTOCOL, nonce, now, self._max_age_ns, self._max_future_ns)
        return Claim(
            scheme=PROTOCOL,
            hotkey=hotkey,
            receiver=receiver,
            timestamp_ns=nonce,
            replay_key=f"{PROTOCOL}:{hotkey}:{nonce}",
            signature=signature,
            crypto=crypto,
            nonce_ns=nonce,
        )

    async def verify(self, claim: Claim, *, method: str, target: str, body: bytes) -> Claim:
        """The signature over ``method``, ``target`` and the raw ``body``, then the replay
        record; returns ``claim`` or raises ``Rejected`` (401).

        ``target`` is the path and ``?query`` exactly as received. Freshness is checked again
        first: a body that took longer than the window to arrive makes the request stale.
        """
        if claim.scheme != PROTOCOL or claim.nonce_ns is None:
            raise ValueError(f"not a {PROTOCOL} claim: {claim!r}")
        check_fresh(PROTOCOL, claim.nonce_ns, time.time_ns(), self._max_age_ns, self._max_future_ns)
        payload = signed_payload(
            method=method,
            target=target,
            body=body,
            nonce_ns=claim.nonce_ns,
            sender=claim.hotkey,
            receiver=claim.receiver,
            scheme=claim.crypto,
        )
        if not signature_ok(claim.hotkey, payload, claim.signature, claim.crypto):
            what = "not the hotkey's signature of this method, target, body, nonce and receiver"
            raise Rejected(401, f"{PROTOCOL}: bad signature ({what})")
        if not await self.seen.first_sight(claim.replay_key, claim.timestamp_ns, self._retain_s):
            why = "nonce already seen from this hotkey"
            raise Rejected(401, f"{PROTOCOL}: replayed request ({why})")
        return claim
