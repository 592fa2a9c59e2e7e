"""What the btauth and Epistula tests share: fixed keys, an ss58 encoder, hostile header values.

The ss58 encoder is written from the format (base58 of prefix + public key + the first two bytes
of blake2b-512 over ``b"SS58PRE"`` + prefix + key), so the tests can make addresses bittensor_wallet
would never print: the same key under another network prefix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from bittensor_wallet import Keypair
from hypothesis import strategies as st


def from_seed(byte: int, crypto_type: int = 1) -> Keypair:
    """The keypair whose 32-byte seed repeats ``byte`` (bittensor_wallet's stub says the seed is
    bytes; the binding takes only its ``0x`` hex text)."""
    seed = "0x" + f"{byte:02x}" * 32
    return Keypair.create_from_seed(seed, crypto_type)  # type: ignore[arg-type]


SENDER = from_seed(0x11)
SERVER = from_seed(0x00)
OTHER = from_seed(0x22)
ED25519_SENDER = from_seed(0x33, crypto_type=0)

SECOND = 1_000_000_000

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

T = TypeVar("T")


def ss58_encode(keypair: Keypair, prefix: int) -> str:
    """The ss58 address of ``keypair``'s public key under a one-byte network ``prefix``."""
    assert keypair.public_key is not None and 0 <= prefix < 64
    data = bytes([prefix]) + keypair.public_key
    data += hashlib.blake2b(b"SS58PRE" + data, digest_size=64).digest()[:2]
    number, text = int.from_bytes(data, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        text = _BASE58[digit] + text
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + text


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (a verifier over a ``SeenSet``) to its end, without
    an event loop: hypothesis tests run it hundreds of times, and ``asyncio.run`` costs more
    than the verification."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise AssertionError("the coroutine suspended: run it on an event loop")


def assert_one_line(message: str, scheme: str) -> None:
    """A rejection's message: one line, naming the scheme, short whatever the request sent."""
    assert message.startswith(f"{scheme}: "), message
    assert "\n" not in message and "\r" not in message, message
    assert len(message) < 400, message


#: Strings a hostile client may put in any header: empty, spaces, signs, non-ASCII digits and
#: letters, control characters, huge values, near-misses of valid ones.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdefxABCDEF-+_ .", max_size=140),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "00",
            "-1",
            "+1",
            "1e9",
            "1_000",
            "\u0661\u0662\u0663",  # Arabic-Indic digits: int() takes them
            "\uff11\uff12",  # fullwidth digits
            "9" * 20,
            "9" * 25,
            "1" * 5000,
            "0x",
            "0x" + "00" * 64,
            "0x" + "zz" * 64,
            "0X" + "ab" * 64,
            "ab" * 64,
            "0x" + "ab" * 65,
            "\x00",
            "\r\nX-Injected: 1",
            "sr25519",
            "ed25519",
            "SR25519",
            "1",
            "2",
            SENDER.ss58_address,
            SERVER.ss58_address,
            SENDER.ss58_address + " ",
            ss58_encode(SENDER, 0),
            "x" * 100_000,
        ]
    ),
)
