"""pytest fixtures of the test kit. Opt in from your root ``conftest.py``::

    pytest_plugins = ["synapsegen.testing.pytest_plugin"]

- ``scripted_miner``: a factory, ``scripted_miner(Cls, script=None, **options)``, returning a
  ``ScriptedMiner`` already serving in a background thread (so sync and async tests can call
  it); every miner it made is stopped after the test.
- ``validator_dendrite``: a ``Dendrite`` signing with ``validator_keypair()`` on bittensor 10's
  wire; parametrize it indirectly for another (``@pytest.mark.parametrize("validator_dendrite",
  ["btauth/1"], indirect=True)``). Its session is closed after the test.

Neither needs an async fixture plugin; async tests still need one to run (pytest-asyncio, or
anyio's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, TypeVar

import pytest

from synapsegen.runtime import Dendrite, Synapse

from .keys import validator_keypair
from .miner import ScriptedMiner, ScriptSource

__all__ = ["MinerFactory", "scripted_miner", "validator_dendrite"]

S = TypeVar("S", bound=Synapse)


class MinerFactory(Protocol):
    """``scripted_miner``'s type: ``(Cls, script=None, /, **options) -> ScriptedMiner[Cls]``."""

    def __call__(
        self, synapse_class: type[S], script: ScriptSource | None = None, /, **options: Any
    ) -> ScriptedMiner[S]: ...


@pytest.fixture
def scripted_miner() -> Iterator[MinerFactory]:
    """Start ``ScriptedMiner``s (in background threads); all are stopped after the test."""
    started: list[ScriptedMiner[Any]] = []

    def factory(
        synapse_class: type[S], script: ScriptSource | None = None, /, **options: Any
    ) -> ScriptedMiner[S]:
        miner = ScriptedMiner(synapse_class, script, **options)
        started.append(miner)
        return miner.start()

    yield factory
    for miner in started:
        miner.stop()


@pytest.fixture
def validator_dendrite(request: pytest.FixtureRequest) -> Iterator[Dendrite]:
    """A ``Dendrite`` with the kit's validator hotkey (transport: the indirect parameter, else
    ``bittensor10``)."""
    transport = getattr(request, "param", "bittensor10")
    dendrite = Dendrite(validator_keypair(), transport=transport)
    yield dendrite
    dendrite.close_session()
