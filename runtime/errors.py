"""Every exception the runtime defines, in one module (the model is httpx's ``_exceptions.py``).

The tree (``builtins`` in plain names; each line: who raises it, and what a caller should do):

Exception
├── StreamError             a body could not be decoded; catch this one around a decoder
│   ├── FrameTooLarge       decoders: one frame over max_frame_bytes; raise the limit or give up
│   ├── StreamTooLarge      decoders: the body over max_total_bytes; raise the limit or give up
│   ├── TruncatedStream     decoders' close(): body ended mid-frame; treat the answer as incomplete
│   ├── MalformedFrame      decoders, decode_*_frame: bad UTF-8/JSON/framing; the bytes are bad
│   └── MinerError          generated clients: the miner's declared error event; str(exc) is it
├── ValueError
│   └── SignatureError      signing.verify_or_raise: bad signature; str(exc) says why (axon: 401)
├── asyncio.TimeoutError    (the builtin TimeoutError from Python 3.11 on)
│   └── FirstByteTimeout    Dendrite: no byte within first_byte_timeout; recorded as 408, not raised
├── Rejected                BtAuthVerifier/EpistulaVerifier, Axon checks: answer .status, str(exc)
│
│   internal: raised and caught inside the runtime, never seen by a caller, not exported
├── BodyTooLarge            Axon body read: over max_body_bytes; answered with 413
├── ClientDisconnected      Axon body read: the client left mid-body; nothing is answered
├── _ClientGone             token_streamer: send() hit a disconnect; the stream stops quietly
├── StreamAborted           token_streamer: failed/timed out, no event to say so; Axon: cut body
└── SchemaMismatch          Dendrite(check_schema): another schema hash; 409, request not sent

The Dendrite raises neither ``StreamError`` nor ``FirstByteTimeout`` at its caller: a
``StreamError`` from a generated client's ``process_streaming_response`` is recorded as 422
"Failed to parse response: {message}" and a ``FirstByteTimeout`` as 408, in ``synapse.dendrite``
(check ``synapse.is_success`` / ``synapse.is_timeout``). A ``StreamError`` reaches code that runs
a decoder itself; a ``SignatureError`` code that calls ``verify_or_raise``; a ``Rejected`` code
that checks signed requests itself with a ``BtAuthVerifier`` or ``EpistulaVerifier`` (``status``:
400 malformed, 401 not authenticated, 421 signed for another receiver; ``_auth.py``). Inside the
Axon it is raised and answered, never seen.

Every ``StreamError`` has ``message`` and ``offset`` (the byte position in the stream, or None);
``str(exc)`` is ``"{message} (at byte {offset})"``, or just the message without an offset.

Where they are importable: the public classes (``__all__`` here) from ``synapsegen.runtime`` and
from the module they used to live in (``codecs``: the StreamError family; ``streaming``:
``MinerError``; ``dendrite``: ``FirstByteTimeout``; ``signing``: ``SignatureError``;
``_axon_app``: ``Rejected``), which re-export them. The internal ones are here too, so that "every
runtime exception is in this module" has no exceptions (``tests/runtime/test_errors.py`` checks
it); they are not exported from the package, and their old homes (``_axon_http``:
``BodyTooLarge``, ``ClientDisconnected``; ``streaming``: ``_ClientGone``) import them from here.
``_ClientGone`` keeps its underscore; the other two never had one (their modules are private).

This module imports nothing but ``asyncio``, so any runtime module can import it.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "FirstByteTimeout",
    "FrameTooLarge",
    "MalformedFrame",
    "MinerError",
    "Rejected",
    "SignatureError",
    "StreamError",
    "StreamTooLarge",
    "TruncatedStream",
]


# ---------------------------------------------------------------------- stream decoding (codecs)


class StreamError(Exception):
    """Base of every stream decoding error.

    ``offset`` is the byte position in the stream where the problem was found (None when there is
    no stream position, e.g. for an error event reported by the miner).
    """

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte {self.offset})"


class FrameTooLarge(StreamError):
    """One frame (or the incomplete frame being buffered) exceeds ``max_frame_bytes``."""


class StreamTooLarge(StreamError):
    """The whole body exceeds ``max_total_bytes``."""


class TruncatedStream(StreamError):
    """The stream ended inside a frame or inside a UTF-8 character."""


class MalformedFrame(StreamError):
    """Invalid UTF-8, invalid JSON, or a framing violation."""


class MinerError(StreamError):
    """The miner reported an error through the schema's declared error event."""


# ------------------------------------------------------------------------------ signing, dendrite


class SignatureError(ValueError):
    """A signature did not verify; ``str(exc)`` is the reason, as a real axon words it."""


class FirstByteTimeout(asyncio.TimeoutError):
    """No response byte (headers and first body byte) arrived within ``first_byte_timeout``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no response byte within {seconds} seconds")
        self.seconds = seconds


# ------------------------------------------------------------ request checks (verifiers, Axon)


class Rejected(Exception):
    """A check refused the request: answer ``status`` with ``str(self)`` as the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------- internal: never reach the caller


class BodyTooLarge(Exception):
    """The request body exceeds the configured limit."""


class ClientDisconnected(Exception):
    """The client went away before the request body was complete."""


class _ClientGone(Exception):
    """``send`` failed because the client disconnected."""


class SchemaMismatch(Exception):
    """A request not sent: the miner serves its class with another schema hash.

    Raised by the Dendrite's schema check (``_schema_check``) and recorded as ``status`` (409) in
    ``synapse.dendrite``, with ``str(exc)`` as the message.
    """

    status = 409


class StreamAborted(Exception):
    """A stream cannot end well and has no in-band event to say so: end it incomplete.

    Raised out of a token streamer; the Axon then closes the connection without the terminating
    chunk, so the client sees an incomplete transfer instead of a truncated success.
    """
