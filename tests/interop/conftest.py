"""Fixtures for the interop tests: one bittensor venv per session, one server process per module.

If bittensor cannot be installed the tests FAIL (with the installer's output), unless
``SYNAPSEGEN_SKIP_INTEROP=1`` is set, which skips them explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from .bt_side.common import KEY_SEEDS
from .harness import (
    SKIP_ENV_VAR,
    BtAxonServer,
    BtDendriteClient,
    BtVenvError,
    ensure_bt_venv,
    ensure_synapsegen_in_bt_venv,
    start_bt_axon,
)
from .our_side import start_our_axon

# Sends are spaced a little so that clients read several chunks, each cut inside a character.
SEND_INTERVAL_S = 0.002


def _venv_or_fail(setup: Callable[[], Path], cannot: str) -> Path:
    """``setup()``'s python, or the test fails with "cannot <cannot>" and the installer's output."""
    try:
        return setup()
    except BtVenvError as exc:
        problem = str(exc)
    # Outside the except block, so the report shows only the installer's output.
    pytest.fail(f"cannot {cannot}:\n{problem}", pytrace=False)


@pytest.fixture(scope="session")
def bt_python() -> Path:
    """The python of the cached bittensor 10.5.0 venv (created on first use)."""
    if os.environ.get(SKIP_ENV_VAR) == "1":
        pytest.skip(f"{SKIP_ENV_VAR}=1: interop tests with real bittensor skipped on request")
    return _venv_or_fail(ensure_bt_venv, "set up bittensor for the interop tests")


@pytest.fixture(scope="module")
def bt_with_synapsegen(bt_python: Path) -> Path:
    """The bittensor venv with this repository installed in it (editable, no dependencies)."""
    return _venv_or_fail(ensure_synapsegen_in_bt_venv, "install synapsegen into the bittensor venv")


@pytest.fixture(scope="session")
def keypairs() -> dict[str, Keypair]:
    """The fixed test keypairs by role: validator, miner, other (blacklisted)."""
    return {name: Keypair.create_from_seed(seed) for name, seed in KEY_SEEDS.items()}


@pytest.fixture(scope="module")
def bt_axon(bt_python: Path) -> Iterator[BtAxonServer]:
    """A real bittensor Axon (own process) streaming 2 pieces per send."""
    server = start_bt_axon(batch_count=2, send_interval=SEND_INTERVAL_S)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bt_dendrite(bt_python: Path) -> Iterator[BtDendriteClient]:
    """A process holding real bittensor Dendrites."""
    client = BtDendriteClient()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def our_axon(keypairs: dict[str, Keypair]) -> Iterator[Any]:
    """synapsegen's runtime Axon in this process, streaming 3 pieces per send."""
    axon = start_our_axon(keypairs["miner"], batch_count=3, send_interval=SEND_INTERVAL_S)
    try:
        yield axon
    finally:
        axon.stop()
