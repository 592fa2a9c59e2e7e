"""Checks, inside the bittensor venv, that the loopback guard and the IP patch are in force.

Prints one JSON line: the bittensor version, what ``get_external_ip()`` returns, and whether a
connection to a documentation-range address (192.0.2.1, refused by the audit hook before any
packet is sent), a name lookup, and a loopback connection were refused or allowed.
"""

import socket

from bootstrap import bt, bt_networking, emit
from guard import NetworkGuardError


def refused(action) -> bool:  # noqa: ANN001
    try:
        action()
    except NetworkGuardError:
        return True
    return False


def connect_outside() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect(("192.0.2.1", 80))


def lookup_name() -> None:
    socket.getaddrinfo("example.com", 443)


def connect_loopback() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


emit(
    {
        "version": bt.__version__,
        "external_ip": bt_networking.get_external_ip(),
        "outside_refused": refused(connect_outside),
        "lookup_refused": refused(lookup_name),
        "loopback_refused": refused(connect_loopback),
    }
)
