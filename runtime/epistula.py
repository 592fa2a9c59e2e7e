"""Epistula v2 request signing (epistula.sybil.com/protocol): Targon's, SN1's, BitMind's scheme.

Six headers (names case-insensitive on the wire; these are the spellings the spec uses):

- ``Epistula-Version: 2``;
- ``Epistula-Timestamp``: the signing time in Unix milliseconds, decimal;
- ``Epistula-Uuid``: a fresh uuid per request (uuid4, canonical text form);
- ``Epistula-Signed-By``: the sender's ss58 address;
- ``Epistula-Signed-For``: the receiver's ss58 address (optional when signing; required by the
  verifier unless ``require_receiver=False``);
- ``Epistula-Request-Signature``: ``0x`` + hex of the sr25519 signature of ``signed_message``,
  ``f"{sha256(body).hexdigest()}.{uuid}.{timestamp}.{signed_for or ''}"`` in UTF-8.

Unlike ``btauth/1`` the message binds neither the method nor the path: a signed body may be
sent to any route of the receiver. Other headers (Targon's ``Epistula-Secret-Signature-*``) are
ignored.

The freshness window is explicit because implementations disagree: the spec says 5 s, Targon
allows 8 s, others 15 s; ``EpistulaVerifier`` defaults to 8 s back and, unlike them, bounds the
future too (2 s). And unlike them it stops replays inside the window: the (hotkey, uuid) pair of
each verified request goes into a ``SeenStore`` (written only after the signature verified).

Strictness as in ``_auth.py``; the uuid must be in canonical text form (8-4-4-4-12 hex digits,
any letter case; the replay key uses it in lowercase), any version, so clients that send uuid7
still work. The timestamp must be a plain decimal: the message holds it exactly as sent, and
implementations that parse it with ``int()`` would otherwise disagree with the signer.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid as uuid_module
from collections.abc import Mapping

from ._auth import (
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
    "HEADER_SIGNATURE",
    "HEADER_SIGNED_BY",
    "HEADER_SIGNED_FOR",
    "HEADER_TIMESTAMP",
    "HEADER_UUID",
    "HEADER_VERSION",
    "SCHEME",
    "VERSION",
    "EpistulaVerifier",
    "sign_request",
    "signed_message",
]

SCHEME = "epistula/2"
VERSION = "2"

HEADER_VERSION = "Epistula-Version"
HEADER_TIMESTAMP = "Epistula-Timestamp"
HEADER_UUID = "Epistula-Uuid"
HEADER_SIGNED_BY = "Epistula-Signed-By"
HEADER_SIGNED_FOR = "Epistula-Signed-For"
HEADER_SIGNATURE = "Epistula-Request-Signature"

_NAMES = tuple(
    name.lower()
    for name in (
        HEADER_VERSION,
        HEADER_TIMESTAMP,
        HEADER_UUID,
        HEADER_SIGNED_BY,
        HEADER_SIGNED_FOR,
        HEADER_SIGNATURE,
    )
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Milliseconds: 13 digits today; 16 keep the nanosecond value far inside 64 bits.
_TIMESTAMP_MAX_DIGITS = 16
_NS_PER_MS = 1_000_000


def signed_message(*, body: bytes, uuid: str, timestamp_ms: int, signed_for: str | None) -> bytes:
    """The exact bytes an Epistula v2 request signs (module docstring)."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{digest}.{uuid}.{timestamp_ms}.{signed_for or ''}".encode()


def sign_request(
    keypair: RequestSigner,
    *,
    body: bytes,
    receiver: str | None,
    uuid: str | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """The headers that sign ``body`` from ``keypair``'s hotkey (send ``body`` unchanged).

    A new uuid4 and the current time unless ``uuid`` / ``timestamp_ms`` are given (tests).
    """
    request_uuid = str(uuid_module.uuid4()) if uuid is None else uuid
    timestamp = time.time_ns() // _NS_PER_MS if timestamp_ms is None else timestamp_ms
    message = signed_message(
        body=body, uuid=request_uuid, timestamp_ms=timestamp, signed_for=receiver
    )
    headers = {
        HEADER_VERSION: VERSION,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_UUID: request_uuid,
        HEADER_SIGNED_BY: keypair.ss58_address,
        HEADER_SIGNATURE: "0x" + bytes(keypair.sign(message)).hex(),
    }
    if receiver is not None:
        headers[HEADER_SIGNED_FOR] = receiver
    return headers


class EpistulaVerifier:
    """The server side of Epistula v2 for the hotkey ``own_hotkey`` (a ``RequestVerifier``).

    Args:
        own_hotkey: this server's ss58 address; requests must be signed for it.
        max_age: seconds a request may be old (by its timestamp).
        max_future: seconds a timestamp may be ahead of this server's clock.
        require_receiver: refuse requests without ``Epistula-Signed-For`` (421).
        seen: where replays are caught; a ``SeenSet`` of its own by default. Share a
            ``RedisSeenStore`` between the workers of one hotkey.
    """

    scheme: str = SCHEME

    def __init__(
        self,
        own_hotkey: str,
        *,
        max_age: float = 8.0,
        max_future: float = 2.0,
        require_receiver: bool = True,
        seen: SeenStore | None = None,
    ) -> None:
        if not is_hotkey(own_hotkey):
            raise ValueError(f"own_hotkey is not a bittensor ss58 address: {own_hotkey!r}")
        self.own_hotkey = own_hotkey
        self.max_age = max_age
        self.max_future = max_future
        self.require_receiver = require_receiver
        self.seen: SeenStore = SeenSet() if seen is None else seen
        self._max_age_ns, self._max_future_ns = window_ns(SCHEME, max_age, max_future)
        self._retain_s = max_age + max_future

    def present(self, headers: Mapping[str, str]) -> bool:
        """True if any ``Epistula-*`` header of this protocol is there (any letter case)."""
        return has_any(headers, _NAMES)

    def claim(self, headers: Mapping[str, str], *, now_ns: int | None = None) -> Claim:
        """Shape, version, receiver, freshness; raises ``Rejected``."""
        found = read_headers(SCHEME, headers, _NAMES)
        version = require(SCHEME, found, HEADER_VERSION)
        if version != VERSION:
            raise Rejected(
                400, f"{SCHEME}: unsupported {HEADER_VERSION} {quote(version)} (expected 2)"
            )
        raw_timestamp = require(SCHEME, found, HEADER_TIMESTAMP)
        timestamp_ms = parse_decimal(SCHEME, HEADER_TIMESTAMP, raw_timestamp, _TIMESTAMP_MAX_DIGITS)
        request_uuid = require(SCHEME, found, HEADER_UUID)
        if _UUID.fullmatch(request_uuid) is None:
            raise Rejected(400, f"{SCHEME}: {HEADER_UUID} is not a uuid: {quote(request_uuid)}")
        hotkey = check_hotkey(SCHEME, HEADER_SIGNED_BY, require(SCHEME, found, HEADER_SIGNED_BY))
        signature = parse_signature(
            SCHEME, HEADER_SIGNATURE, require(SCHEME, found, HEADER_SIGNATURE)
        )
        # An empty Signed-For signs the same message as none: it is none.
        receiver = found.get(HEADER_SIGNED_FOR.lower()) or None
        check_receiver(SCHEME, HEADER_SIGNED_FOR, receiver, self.own_hotkey, self.require_receiver)
        timestamp_ns = timestamp_ms * _NS_PER_MS
        now = time.time_ns() if now_ns is None else now_ns
        check_fresh(SCHEME, timestamp_ns, now, self._max_age_ns, self._max_future_ns)
        return Claim(
            scheme=SCHEME,
            hotkey=hotkey,
            receiver=receiver,
            timestamp_ns=timestamp_ns,
            replay_key=f"{SCHEME}:{hotkey}:{request_uuid.lower()}",
            signature=signature,
            crypto="sr25519",
            uuid=request_uuid,
        )

    async def verify(self, claim: Claim, *, method: str, target: str, body: bytes) -> Claim:
        """The signature over the raw ``body`` (``method`` and ``target`` are not signed in
        Epistula), then the replay record; returns ``claim`` or raises ``Rejected`` (401).

        Freshness is checked again first: a body that took longer than the window to arrive
        makes the request stale.
        """
        if claim.scheme != SCHEME or claim.uuid is None:
            raise ValueError(f"not an {SCHEME} claim: {claim!r}")
        now = time.time_ns()
        check_fresh(SCHEME, claim.timestamp_ns, now, self._max_age_ns, self._max_future_ns)
        message = signed_message(
            body=body,
            uuid=claim.uuid,
            timestamp_ms=claim.timestamp_ns // _NS_PER_MS,
            signed_for=claim.receiver,
        )
        if not signature_ok(claim.hotkey, message, claim.signature, claim.crypto):
            what = "not the hotkey's signature of this body, uuid, timestamp and receiver"
            raise Rejected(401, f"{SCHEME}: bad signature ({what})")
        if not await self.seen.first_sight(claim.replay_key, claim.timestamp_ns, self._retain_s):
            raise Rejected(401, f"{SCHEME}: replayed request (uuid already seen)")
        return claim
