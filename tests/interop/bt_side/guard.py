"""Loopback-only guard for scripts running inside the bittensor venv.

Import this module and call :func:`install` *before* importing anything from bittensor. It adds a
``sys.addaudithook`` that refuses any socket connection, datagram or name lookup that could leave
the machine, so an interop run cannot talk to a chain, an IP-lookup service or a package index.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Any

# Names that resolve locally without a DNS query.
_LOCAL_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


class NetworkGuardError(PermissionError):
    """Raised (inside the audited call) when a script tries to reach a non-loopback address."""


def is_local_host(host: object) -> bool:
    """True for loopback addresses and for the unspecified address.

    bittensor's Dendrite rewrites the URL host to ``0.0.0.0`` when the target's IP equals its own
    external IP (its "same machine" shortcut). On Linux a connect() to the unspecified address is
    delivered to the loopback interface, so it never leaves the machine either.
    """
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _check_address(event: str, address: Any) -> None:
    if isinstance(address, (str, bytes)):  # AF_UNIX path: local by construction
        return
    if isinstance(address, tuple) and address and is_local_host(address[0]):
        return
    message = f"interop network guard: refused {event} to {address!r} (loopback only)"
    print(message, file=sys.stderr, flush=True)
    raise NetworkGuardError(message)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        if len(args) >= 2 and args[1] is not None:
            _check_address(event, args[1])
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host is not None and not is_local_host(host):
            _check_address(event, (host,))


_installed = False


def install() -> None:
    """Install the audit hook once per process (audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_audit)
        _installed = True
