"""What the two request-signing schemes share: the claim, the verifier interface, the checks.

A signed request proves "sent by hotkey X, to hotkey Y, with exactly this body, recently" in a
few HTTP headers, whatever the HTTP stack: bittensor 11's ``btauth/1`` (``btauth.py``) and
Epistula v2 (``epistula.py``, used by Targon, SN1, BitMind). Both are checked in two steps, so a
server can refuse most bad requests before it reads a body:

1. ``claim(headers)``: cheap checks on the headers alone (shape, version, crypto scheme,
   receiver binding, freshness). The result, a ``Claim``, is who the request *says* it is from;
   nothing is verified yet.
2. ``verify(claim, method=..., target=..., body=...)``: the signature over the raw body, then the
   claim's replay key recorded in a ``SeenStore`` (``replay.py``), atomically. The store is
   written only after the signature verifies, so forged traffic cannot fill it or lock a real
   sender out.

Every refusal is a ``Rejected(status, message)`` (``errors.py``), one line naming the scheme and
the reason, with any header value it quotes cut to 64 characters:

- 400: an auth header missing, duplicated or malformed, an unknown version or crypto scheme;
- 421 (Misdirected Request): signed for another receiver, or for none when one is required;
- 401: stale or from the future, a crypto scheme this server does not accept for the sender, a
  signature that does not verify (forged, or body/target/method/nonce changed), a replay.

Strictness, on purpose: numbers must be plain ASCII decimals without sign or leading zero,
signatures ``0x`` + 128 hex digits, hotkeys ss58 addresses in bittensor's format (42). A peer's
own signer never sends anything else, and each alternative spelling accepted would be another
identity for the same request (a blacklisted hotkey re-encoded with another ss58 prefix, say).

Signatures are checked with ``bittensor_wallet.Keypair.verify`` over the exact bytes, as
``signing.py`` does; like bittensor's own verifier it also accepts a signature over
``<Bytes>`` + message + ``</Bytes>`` (polkadot-js), which only the key's owner can make.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bittensor_wallet import Keypair
from bittensor_wallet.utils import SS58_FORMAT, get_ss58_format

from .errors import Rejected

__all__ = ["Claim", "RequestSigner", "RequestVerifier"]

NANOSECONDS_IN_SECOND = 1_000_000_000

#: Header values quoted in a message are cut to this many characters.
QUOTE_LIMIT = 64

#: bittensor_wallet's crypto type numbers, by the scheme names the protocols use.
CRYPTO_TYPES: dict[str, int] = {"ed25519": 0, "sr25519": 1}

_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{128}")
#: base58 text of 1 prefix byte (42) + 32 key bytes + 2 checksum bytes.
_SS58_TEXT = re.compile(r"[1-9A-HJ-NP-Za-km-z]{47,48}")


@dataclass(frozen=True)
class Claim:
    """The shape-checked, not yet verified, identity of a request (``RequestVerifier.claim``).

    ``timestamp_ns`` is when the sender says it signed (btauth: the nonce; Epistula: the
    millisecond timestamp in nanoseconds). ``replay_key`` names the request in the seen-store:
    ``"<scheme>:<hotkey>:<nonce or uuid>"``. The rest is what ``verify`` needs: the signature,
    the declared crypto scheme, and btauth's nonce or Epistula's uuid.
    """

    scheme: str
    hotkey: str
    receiver: str | None
    timestamp_ns: int
    replay_key: str
    signature: bytes = field(repr=False)
    crypto: str = "sr25519"
    nonce_ns: int | None = None
    uuid: str | None = None


class RequestSigner(Protocol):
    """Anything that signs bytes like ``bittensor_wallet.Keypair`` (a wallet's hotkey)."""

    @property
    def ss58_address(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


@runtime_checkable
class RequestVerifier(Protocol):
    """One signing scheme's server side: ``BtAuthVerifier``, ``EpistulaVerifier``."""

    scheme: str

    def present(self, headers: Mapping[str, str]) -> bool:
        """True if the request carries any of this scheme's headers (names case-insensitive)."""
        ...

    def claim(self, headers: Mapping[str, str], *, now_ns: int | None = None) -> Claim:
        """The checks that need no body; raises ``Rejected``."""
        ...

    async def verify(self, claim: Claim, *, method: str, target: str, body: bytes) -> Claim:
        """Signature, then the replay record; returns ``claim``, or raises ``Rejected``."""
        ...


# ------------------------------------------------------------- helpers of btauth.py, epistula.py


def quote(value: str) -> str:
    """``value`` for a message: repr'd (one line), cut to ``QUOTE_LIMIT`` characters."""
    if len(value) <= QUOTE_LIMIT:
        return repr(value)
    return f"{value[:QUOTE_LIMIT]!r}... ({len(value)} characters)"


def has_any(headers: Mapping[str, str], names: tuple[str, ...]) -> bool:
    """True if ``headers`` has one of ``names`` (lowercase), in any letter case."""
    if any(name in headers for name in names):  # starlette Headers: case-insensitive already
        return True
    return any(key.lower() in names for key in headers)


def read_headers(scheme: str, headers: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The values of ``names`` (lowercase) in ``headers``, by lowercase name.

    Letter case is ignored; a name sent twice (starlette ``Headers.items()`` lists repeats, a
    plain dict can hold two spellings) is refused with 400 rather than guessed at.
    """
    found: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        if name not in names:
            continue
        if name in found:
            raise Rejected(400, f"{scheme}: header {key} sent more than once")
        found[name] = value
    return found


def require(scheme: str, found: Mapping[str, str], name: str) -> str:
    """The value of header ``name`` (display spelling); 400 if it is missing."""
    value = found.get(name.lower())
    if value is None:
        raise Rejected(400, f"{scheme}: missing {name} header")
    return value


def parse_decimal(scheme: str, name: str, value: str, max_digits: int) -> int:
    """A plain decimal (ASCII digits, no sign, no leading zero, at most ``max_digits``)."""
    if not (
        0 < len(value) <= max_digits
        and value.isascii()
        and value.isdigit()
        and (value == "0" or value[0] != "0")
    ):
        what = f"a decimal integer of at most {max_digits} digits"
        raise Rejected(400, f"{scheme}: {name} is not {what}: {quote(value)}")
    return int(value)


def parse_signature(scheme: str, name: str, value: str) -> bytes:
    """``0x`` + 128 hex digits, as bytes (the signature itself is never quoted back)."""
    if _SIGNATURE.fullmatch(value) is None:
        raise Rejected(400, f"{scheme}: {name} is not 0x followed by 128 hex digits")
    return bytes.fromhex(value[2:])


def is_hotkey(value: str) -> bool:
    """True if ``value`` is the ss58 address of a public key in bittensor's format (42).

    The text is bounded before it is decoded: bittensor_wallet's base58 decoding takes time
    quadratic in the length (a 50 kB header costs seconds; so it does in bittensor 11's own
    verifier, before any other check).
    """
    if _SS58_TEXT.fullmatch(value) is None:
        return False
    try:
        Keypair(ss58_address=value)
        return get_ss58_format(value) == SS58_FORMAT
    except ValueError:
        return False


def check_hotkey(scheme: str, name: str, value: str) -> str:
    """``value`` if it is a bittensor ss58 address (``is_hotkey``); 400 otherwise."""
    if not is_hotkey(value):
        raise Rejected(400, f"{scheme}: {name} is not a bittensor ss58 address: {quote(value)}")
    return value


def check_receiver(
    scheme: str, name: str, receiver: str | None, own_hotkey: str, required: bool
) -> None:
    """421 unless the request is bound to ``own_hotkey`` (or unbound, when that is allowed)."""
    if receiver is None:
        if required:
            why = "this server requires requests bound to its hotkey"
            raise Rejected(421, f"{scheme}: missing {name} header ({why})")
        return
    if receiver != own_hotkey:
        what = f"signed for receiver {quote(receiver)}, not for this server's hotkey"
        raise Rejected(421, f"{scheme}: request is {what} {own_hotkey}")


def window_ns(scheme: str, max_age: float, max_future: float) -> tuple[int, int]:
    """The freshness window in nanoseconds; ValueError for a window that is none."""
    if not 0 < max_age < float("inf"):
        raise ValueError(f"{scheme}: max_age must be a positive number of seconds, got {max_age}")
    if not 0 <= max_future < float("inf"):
        raise ValueError(f"{scheme}: max_future must be >= 0 seconds, got {max_future}")
    return int(max_age * NANOSECONDS_IN_SECOND), int(max_future * NANOSECONDS_IN_SECOND)


def check_fresh(
    scheme: str, timestamp_ns: int, now_ns: int, max_age_ns: int, max_future_ns: int
) -> None:
    """401 if ``timestamp_ns`` is over ``max_age_ns`` before ``now_ns`` or ``max_future_ns``
    after it (both bounds inclusive, as bittensor's)."""
    age_ns = now_ns - timestamp_ns
    if age_ns > max_age_ns:
        age, window = age_ns / NANOSECONDS_IN_SECOND, max_age_ns / NANOSECONDS_IN_SECOND
        raise Rejected(401, f"{scheme}: request is {age:.1f} s old, the window is {window:g} s")
    if -age_ns > max_future_ns:
        ahead, limit = -age_ns / NANOSECONDS_IN_SECOND, max_future_ns / NANOSECONDS_IN_SECOND
        what = f"{ahead:.1f} s in the future, at most {limit:g} s is allowed"
        raise Rejected(401, f"{scheme}: request is {what}")


def signature_ok(hotkey: str, message: bytes, signature: bytes, crypto: str) -> bool:
    """True if ``signature`` is ``hotkey``'s signature of ``message`` under ``crypto`` only."""
    try:
        keypair = Keypair(ss58_address=hotkey, crypto_type=CRYPTO_TYPES[crypto])
        return bool(keypair.verify(message, signature))
    except ValueError:  # e.g. 64 bytes that are no sr25519 signature at all
        return False
