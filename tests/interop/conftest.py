"""Fixtures for the interop tests: one bittensor venv per release, one server process per module.

If bittensor cannot be installed the tests FAIL (with the installer's output), unless
``SYNAPSEGEN_SKIP_INTEROP=1`` is set, which skips them explicitly.

Which bittensor release a module talks to is its ``bt_version`` fixture: 10.5.0 unless the module
overrides it. The interop matrix modules override it with ``params=harness.BT_MATRIX``, so each of
their tests runs against every release in the matrix (10.5.0 and the 9.x of ``BT9_VERSION``), the
venvs built on demand the same way.
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
    BT_VERSION,
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


@pytest.fixture(scope="module")
def bt_version() -> str:
    """The bittensor release this module's tests talk to (override it to run a matrix)."""
    return BT_VERSION


@pytest.fixture(scope="module")
def bt_python(bt_version: str) -> Path:
    """The python of the cached venv of ``bt_version`` (created on first use)."""
    if os.environ.get(SKIP_ENV_VAR) == "1":
        pytest.skip(f"{SKIP_ENV_VAR}=1: interop tests with real bittensor skipped on request")
    return _venv_or_fail(
        lambda: ensure_bt_venv(bt_version),
        f"set up bittensor {bt_version} for the interop tests",
    )


@pytest.fixture(scope="module")
def bt_with_synapsegen(bt_version: str, bt_python: Path) -> Path:
    """The bittensor venv with this repository installed in it (editable, no dependencies)."""
    return _venv_or_fail(
        lambda: ensure_synapsegen_in_bt_venv(bt_version),
        f"install synapsegen into the bittensor {bt_version} venv",
    )


@pytest.fixture(scope="session")
def keypairs() -> dict[str, Keypair]:
    """The fixed test keypairs by role: validator, miner, other (blacklisted)."""
    return {name: Keypair.create_from_seed(seed) for name, seed in KEY_SEEDS.items()}


@pytest.fixture(scope="module")
def bt_axon(bt_version: str, bt_python: Path) -> Iterator[BtAxonServer]:
    """A real bittensor Axon (own process) streaming 2 pieces per send."""
    server = start_bt_axon(batch_count=2, send_interval=SEND_INTERVAL_S, version=bt_version)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bt_dendrite(bt_version: str, bt_python: Path) -> Iterator[BtDendriteClient]:
    """A process holding real bittensor Dendrites."""
    client = BtDendriteClient(version=bt_version)
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
