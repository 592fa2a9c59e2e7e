"""sr25519 request signing as bittensor 10.x does it, over ``bittensor_wallet.Keypair``.

bittensor signs two messages (``shared/wire_protocol.md`` §7):

- the dendrite signs every request:
  ``f"{dendrite.nonce}.{dendrite.hotkey}.{axon.hotkey}.{dendrite.uuid}.{body_hash}"``
  (``request_message``), sent as ``bt_header_dendrite_signature``;
- the axon stamps its own signature on the synapse it answers errors with:
  ``f"{axon.nonce}.{dendrite.hotkey}.{axon.hotkey}.{axon.uuid}"`` (``axon_message``).

Signatures are ``"0x"`` + 128 hex characters. sr25519 signing is randomized: compare signatures by
verifying them, never by equality.

bittensor_wallet quirks kept on purpose (a peer running bittensor behaves the same way):

- a message *string* starting with ``0x`` is hex-decoded before signing/verifying (protocol messages
  start with a decimal nonce, so this never triggers for them);
- ``verify`` also accepts a signature over ``<Bytes>`` + message + ``</Bytes>`` (polkadot-js).

bittensor_wallet is imported at module load: measured at about 4 ms (``python -X importtime``), so
there is nothing to gain from a lazy import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bittensor_wallet import Keypair

from .errors import SignatureError

__all__ = [
    "VERSION_AS_INT",
    "Keypair",
    "MessageSigner",
    "SignatureError",
    "VerificationResult",
    "axon_message",
    "check_signature",
    "request_message",
    "sign",
    "verify",
    "verify_or_raise",
]

#: ``version_as_int`` we send as ``bt_header_dendrite_version`` / ``axon.version``: bittensor
#: 10.5.0, the newest release that still ships axon/dendrite and the one the wire vectors were
#: recorded from (X*1_000_000 + Y*1_000 + Z). Real axons only compare it with 7002000 (at or above,
#: the nonce freshness window applies), so any 10.x value is accepted; we claim the release whose
#: behaviour we emulate.
VERSION_AS_INT = 10005000


def request_message(
    nonce: int, dendrite_hotkey: str, axon_hotkey: str, uuid: str, body_hash: str
) -> str:
    """The text a dendrite signs for one request (checked by the axon)."""
    return f"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"


def axon_message(nonce: int, dendrite_hotkey: str, axon_hotkey: str, uuid: str) -> str:
    """The text an axon signs on the synapse of its (error) response; nobody verifies it."""
    return f"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}"


class MessageSigner(Protocol):
    """Anything that signs like ``bittensor_wallet.Keypair`` (a wallet's hotkey, a test double)."""

    def sign(self, data: str) -> bytes: ...


def sign(keypair: MessageSigner, message: str) -> str:
    """sr25519 signature of ``message`` (UTF-8) as ``"0x"`` + lowercase hex.

    ``keypair`` is normally a ``bittensor_wallet.Keypair`` with a private key; bittensor_wallet
    raises its ConfigurationError when the private key is missing.
    """
    return "0x" + keypair.sign(message).hex()


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of ``check_signature``.

    ``ok`` is True when the signature verified. Otherwise ``error`` says why: bittensor_wallet's own
    text for malformed input (bad SS58 address, bad hex, wrong length, e.g.
    ``"Invalid SR25519 signature."``) or ``"Signature mismatch with {message} and {signature}"``
    for a well-formed signature that does not match (the text of bittensor's axon). A real axon
    answers 401 ``"Not Verified with error: " + error``.
    """

    ok: bool
    error: str | None = None

    def __bool__(self) -> bool:
        return self.ok


def check_signature(ss58_address: str, message: str, signature: str) -> VerificationResult:
    """Verify ``signature`` over ``message`` for the hotkey ``ss58_address``; never raises."""
    try:
        keypair = Keypair(ss58_address=ss58_address)
        ok = keypair.verify(message, signature)
    except Exception as exc:  # bittensor_wallet raises ValueError (and others) on malformed input
        return VerificationResult(False, str(exc))
    if ok:
        return VerificationResult(True)
    return VerificationResult(False, f"Signature mismatch with {message} and {signature}")


def verify(ss58_address: str, message: str, signature: str) -> bool:
    """True if ``signature`` is a valid signature of ``message`` by ``ss58_address``.

    Malformed input (bad address, bad hex, wrong length) gives False, not an exception; use
    ``check_signature`` or ``verify_or_raise`` to get the reason.
    """
    return check_signature(ss58_address, message, signature).ok


def verify_or_raise(ss58_address: str, message: str, signature: str) -> None:
    """Like ``verify``, but raise ``SignatureError`` with the reason (see VerificationResult)."""
    result = check_signature(ss58_address, message, signature)
    if not result.ok:
        raise SignatureError(result.error)
