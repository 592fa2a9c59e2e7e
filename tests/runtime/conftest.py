"""Shared fixtures of the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._redis_server import redis_url  # noqa: F401 (a session fixture: one redis-server)
from ._vectors import VECTORS_DIR


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """Directory of the recorded bittensor 10.5.0 wire vectors (copied into ``tests/vectors``)."""
    if not VECTORS_DIR.is_dir():
        pytest.fail(f"wire vectors not found at {VECTORS_DIR}")
    return VECTORS_DIR
