"""Wire-level helpers shared by the Axon and Dendrite tests: raw HTTP/1.1 messages as recorded,
and the check of the signature an axon puts on its error responses."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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


def axon_signature_verifies(headers: Mapping[str, str], miner: Keypair) -> bool:
    """Whether ``bt_header_axon_signature`` is ``miner``'s signature of the axon message."""
    message = axon_message(
        int(headers["bt_header_axon_nonce"]),
        headers.get("bt_header_dendrite_hotkey", "None"),
        headers["bt_header_axon_hotkey"],
        headers["bt_header_axon_uuid"],
    )
    return miner.verify(message, headers["bt_header_axon_signature"])
