"""Start-up shared by the bittensor-side scripts: network guard, bittensor, keys, JSON output.

Only :func:`emit` writes to the test process's JSON channel (the original stdout).

Importing this module installs the loopback-only audit hook *before* bittensor is imported, and
replaces ``bittensor.utils.networking.get_external_ip`` (which queries public IP services) with a
function returning 127.0.0.1.
"""

import os
import sys

import guard

guard.install()

# The JSON channel is a private copy of the original stdout; fd 1 itself is pointed at stderr,
# because bittensor's logging (and anything else) prints to stdout.
_json_channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
sys.stdout.flush()
os.dup2(2, 1)

import asyncio  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from typing import Any  # noqa: E402

import bittensor as bt  # noqa: E402
import bittensor.utils.networking as bt_networking  # noqa: E402
from bittensor_wallet import Keypair, Wallet  # noqa: E402
from common import KEY_SEEDS  # noqa: E402

LOOPBACK = "127.0.0.1"


def _loopback_external_ip() -> str:
    return LOOPBACK


bt_networking.get_external_ip = _loopback_external_ip


def keypair(name: str) -> Keypair:
    """One of the fixed test keypairs (see common.KEY_SEEDS)."""
    return Keypair.create_from_seed(KEY_SEEDS[name])


def wallet_for(name: str) -> Wallet:
    """A Wallet in a new folder under HOME; its hotkey and coldkeypub are the fixed key ``name``."""
    home = os.environ.get("HOME") or tempfile.mkdtemp()
    path = tempfile.mkdtemp(prefix="wallets-", dir=home)
    wallet = Wallet(name="interop", hotkey=name, path=path)
    pair = keypair(name)
    wallet.set_hotkey(pair, encrypt=False, overwrite=True)
    wallet.set_coldkeypub(pair, encrypt=False, overwrite=True)
    return wallet


def emit(message: dict[str, Any]) -> None:
    """Write one JSON line to stdout (the protocol with the test process)."""
    _json_channel.write(json.dumps(message) + "\n")
    _json_channel.flush()


def log(text: str) -> None:
    """Diagnostics go to stderr, never to the JSON channel."""
    print(text, file=sys.stderr, flush=True)


async def answer_json_lines(
    ready: dict[str, Any], handle: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
) -> None:
    """Emit ``ready``, then answer every JSON line on stdin with ``await handle(request)`` (or
    ``{"error": traceback}`` if it raised) until stdin closes."""
    loop = asyncio.get_running_loop()
    emit(ready)
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if not line.strip():
            continue
        try:
            reply = await handle(json.loads(line))
        except Exception:
            reply = {"error": traceback.format_exc()}
        emit(reply)


__all__ = [
    "LOOPBACK",
    "answer_json_lines",
    "bt",
    "bt_networking",
    "emit",
    "keypair",
    "log",
    "wallet_for",
]
