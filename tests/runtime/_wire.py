"""Wire-level helpers shared by the Axon and Dendrite tests: raw HTTP/1.1 messages as recorded,
and the check of the signature an axon puts on its error responses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus

from bittensor_wallet import Keypair

from synapsegen.runtime.signing import axon_message


def recorded_message(
    start_line: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    fill: Callable[[str], str],
) -> bytes:
    """A recorded request or response as bytes: the headers in their recorded order and case,
    each value passed through ``fill`` (placeholders), Content-Length recomputed for ``body``."""
    lines = [start_line]
    for name, value in headers:
        if name.lower() == "content-length":
            value = str(len(body))
        lines.append(f"{name}: {fill(value)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# The reason phrases of CPython's http.HTTPStatus (uvicorn's source for them) that Python 3.13
# renamed, as the recording interpreter (CPython 3.11) and 3.10-3.12 word them.
_PHRASES_BEFORE_3_13 = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}


def status_line_here(recorded: str) -> str:
    """A recorded status line as a server on this interpreter sends it: a reason phrase that
    Python 3.13 renamed (``422 Unprocessable Entity``, now ``Unprocessable Content``) is the one
    this interpreter's ``http.HTTPStatus`` gives; every other line is unchanged."""
    version, code, phrase = recorded.split(" ", 2)
    if _PHRASES_BEFORE_3_13.get(int(code)) == phrase:
        phrase = HTTPStatus(int(code)).phrase
    return f"{version} {code} {phrase}"


def axon_signature_verifies(headers: Mapping[str, str], miner: Keypair) -> bool:
    """Whether ``bt_header_axon_signature`` is ``miner``'s signature of the axon message."""
    message = axon_message(
        int(headers["bt_header_axon_nonce"]),
        headers.get("bt_header_dendrite_hotkey", "None"),
        headers["bt_header_axon_hotkey"],
        headers["bt_header_axon_uuid"],
    )
    return miner.verify(message, headers["bt_header_axon_signature"])
