"""Fixed hotkeys for tests: the same keys on every run, so recordings and logs stay comparable.

They are derived from public names: never use them for anything real.
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any, cast

from bittensor_wallet import Keypair

__all__ = ["keypair_for", "miner_keypair", "validator_keypair"]


@cache
def keypair_for(name: str) -> Keypair:
    """The sr25519 keypair whose seed is the SHA-256 of ``"synapsegen.testing:" + name``."""
    seed = "0x" + hashlib.sha256(f"synapsegen.testing:{name}".encode()).hexdigest()
    # The stub says bytes; bittensor_wallet takes the seed as 0x-hex text (and refuses bytes).
    return Keypair.create_from_seed(cast(Any, seed))


def miner_keypair() -> Keypair:
    """The hotkey a ``ScriptedMiner`` serves with unless given another."""
    return keypair_for("miner")


def validator_keypair() -> Keypair:
    """The hotkey the kit's validator side (``record``, ``replay``, the ``validator_dendrite``
    fixture) signs with unless given another."""
    return keypair_for("validator")
