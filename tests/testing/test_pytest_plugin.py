"""The pytest plugin's fixtures, used as a validator's test suite would (opted in per module)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from synapsegen.runtime import Dendrite
from synapsegen.testing import Script, validator_keypair

if TYPE_CHECKING:  # imported by pytest_plugins below, so that pytest can rewrite its asserts
    from synapsegen.testing.pytest_plugin import MinerFactory

pytest_plugins = ["synapsegen.testing.pytest_plugin"]

started: list[Any] = []


async def test_scripted_miner_and_validator_dendrite(
    gen: dict[str, ModuleType], scripted_miner: MinerFactory, validator_dendrite: Dendrite
) -> None:
    cls = gen["chat"].ChatCompletion
    good = scripted_miner(cls, tokens=["4", "2"])
    bad = scripted_miner(cls, Script(tokens=["4"], error="oom"))
    started.extend([good, bad])
    synapse = cls(messages=[{"role": "user", "content": "6*7?"}])
    streams = await validator_dendrite.forward([good.target, bad.target], synapse)
    results = []
    for stream in streams:
        results.append([item async for item in stream][-1])
    assert results == ["42", "4"]  # deserialize(): the completion, kept even when cut
    assert validator_dendrite.transport == "bittensor10"
    assert validator_dendrite.keypair.ss58_address == validator_keypair().ss58_address


def test_the_miners_were_stopped_after_the_test() -> None:
    assert len(started) == 2 and not any(miner.axon.is_running for miner in started)


@pytest.mark.parametrize("validator_dendrite", ["btauth/1", "epistula/2"], indirect=True)
async def test_validator_dendrite_takes_its_transport_indirectly(
    gen: dict[str, ModuleType], scripted_miner: MinerFactory, validator_dendrite: Dendrite
) -> None:
    cls = gen["prompting"].AvailabilitySynapse
    miner = scripted_miner(cls, response={"available": {"chat": True}})
    answer = await validator_dendrite.call(miner.target, cls(tasks=["chat"]))
    assert answer == {"chat": True}
    assert miner.requests[0].transport == validator_dendrite.transport
