"""The interop harness itself: the loopback guard, the IP patch, the shared stream definition."""

from __future__ import annotations

from pathlib import Path

import pytest

from .bt_side import guard
from .bt_side.common import batch_sends, count_tokens, expected_text, token_bytes
from .harness import BT_MATRIX, BtScript, install_pins, version_as_int


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("socket.connect", (None, ("8.8.8.8", 53))),
        ("socket.connect", (None, ("10.0.0.1", 8091))),
        ("socket.connect", (None, ("2001:db8::1", 443, 0, 0))),
        ("socket.sendto", (None, ("192.0.2.1", 53))),
        ("socket.getaddrinfo", ("checkip.amazonaws.com", 443, 0, 0, 0)),
    ],
)
def test_guard_refuses_non_loopback(event: str, args: tuple[object, ...]) -> None:
    with pytest.raises(guard.NetworkGuardError):
        guard._audit(event, args)


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("socket.connect", (None, ("127.0.0.1", 8091))),
        ("socket.connect", (None, ("127.5.6.7", 1))),
        ("socket.connect", (None, ("::1", 443, 0, 0))),
        ("socket.connect", (None, ("0.0.0.0", 8091))),  # bittensor's same-machine URL
        ("socket.connect", (None, "/tmp/some.sock")),
        ("socket.getaddrinfo", ("localhost", 443, 0, 0, 0)),
        ("socket.getaddrinfo", ("127.0.0.1", 443, 0, 0, 0)),
        ("socket.bind", (None, ("8.8.8.8", 0))),  # not a connection: not the guard's business
    ],
)
def test_guard_allows_loopback(event: str, args: tuple[object, ...]) -> None:
    guard._audit(event, args)


@pytest.fixture(scope="module", params=BT_MATRIX, ids=lambda version: f"bt{version}")
def bt_version(request: pytest.FixtureRequest) -> str:
    """Every bittensor release of the interop matrix runs the guarded scripts."""
    return str(request.param)


def test_bittensor_scripts_run_guarded_and_offline(bt_python: Path, bt_version: str) -> None:
    with BtScript("selfcheck.py", version=bt_version) as script:
        report = script.receive()
    assert report == {
        "version": bt_version,
        "external_ip": "127.0.0.1",
        "outside_refused": True,
        "lookup_refused": True,
        "loopback_refused": False,
    }


@pytest.mark.parametrize("n_tokens", [1, 2, 7, 50])
def test_stream_pieces_cut_inside_characters_and_rejoin(n_tokens: int) -> None:
    pieces = token_bytes("ü😀", n_tokens)
    assert len(pieces) == n_tokens
    assert b"".join(pieces).decode("utf-8") == expected_text("ü😀", n_tokens)
    for piece in pieces[:-1]:  # every boundary falls inside the emoji of the next token
        with pytest.raises(UnicodeDecodeError):
            piece.decode("utf-8")
    assert count_tokens(expected_text("ü😀", n_tokens)) == n_tokens
    assert b"".join(batch_sends(pieces, 3)) == b"".join(pieces)
    assert len(batch_sends(pieces, 3)) == -(-n_tokens // 3)


def test_release_numbers_and_install_pins() -> None:
    assert version_as_int("10.5.0") == 10005000
    assert version_as_int("9.0.0") == 9000000
    assert version_as_int("9.12.2") == 9012002
    # Every 9.x needs async-substrate-interface 1.x beside its pinned scalecodec; 10.x needs none.
    assert install_pins("9.0.0") == ("async-substrate-interface<2",)
    assert install_pins("10.5.0") == ()
