"""The validator's tests: its scoring against scripted miners, and against a recorded answer
replayed under many random splits.

Run from this folder (README.md): the miners are ``ScriptedMiner``s on 127.0.0.1 and the
validator a real ``Dendrite``, from the ``scripted_miner`` and ``validator_dendrite`` fixtures.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from synapsegen.runtime import Dendrite
from synapsegen.testing import RandomCuts, Script, ScriptedMiner, Vector, replay
from synapsegen.testing.pytest_plugin import MinerFactory

from scoring import score
from synapses.chat import ChatCompletion, Message

VECTOR = Path(__file__).parent / "vectors" / "chat_echo.json"
QUESTION = "Grüß dich, 世界 🌍"
REFERENCE = f"You said: {QUESTION}"
WORDS = [word + " " for word in REFERENCE.split(" ")]  # how the miner streams it


async def ask(dendrite: Dendrite, miner: ScriptedMiner[Any], timeout: float = 2.0) -> Any:
    """One streamed call; the filled-in synapse."""
    synapse = ChatCompletion(messages=[Message(role="user", content=QUESTION)])
    async for _ in dendrite.call_stream(miner.target, synapse, timeout, deserialize=False):
        pass
    return synapse


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param(Script(tokens=WORDS), 1.0, id="good"),
        pytest.param(Script(tokens=WORDS, chunking="bytewise"), 1.0, id="good, byte by byte"),
        pytest.param(
            Script(tokens=WORDS, chunking=RandomCuts(7), token_delay=0.01),
            1.0,
            id="good, cut at random",
        ),
        pytest.param(Script(tokens=["You ", "said: ", "hello"]), 0.333, id="wrong words"),
        pytest.param(Script(tokens=WORDS, truncate_at=-3), 0.0, id="cut mid-stream"),
        pytest.param(
            Script(tokens=WORDS, error="CUDA out of memory", error_after=3), 0.0, id="crashed"
        ),
        pytest.param(Script(status=503, message="busy"), 0.0, id="busy"),
        pytest.param(Script(tokens=WORDS, first_byte_delay=1.5), 0.0, id="too slow"),
        # Plain text has no end marker: a body cut between characters and ended cleanly (as a
        # bittensor 10 axon ends a failed stream) is indistinguishable from a short answer.
        pytest.param(
            Script(tokens=WORDS, truncate_at=-5, clean_cut=True), 0.833, id="cut, ended cleanly"
        ),
    ],
)
async def test_scores(
    scripted_miner: MinerFactory, validator_dendrite: Dendrite, script: Script, expected: float
) -> None:
    miner = scripted_miner(ChatCompletion, script)
    synapse = await ask(validator_dendrite, miner, timeout=1.0)
    assert score(synapse, REFERENCE) == expected, synapse.dendrite
    [request] = miner.requests  # the miner got the question as the validator sent it
    assert request.synapse.messages[-1].content == QUESTION


async def test_the_recorded_answer_scores_full_under_any_split() -> None:
    decoded = await replay(VECTOR, ChatCompletion, splits=100, seed=20240501)
    assert score(decoded.synapse, REFERENCE) == 1.0
    assert decoded.synapse.completion == REFERENCE + " "  # also the vector's own "expected"
    through_a_real_axon = await replay(VECTOR, ChatCompletion, splits=3, through="axon")
    assert score(through_a_real_axon.synapse, REFERENCE) == 1.0


async def test_the_recorded_answer_cut_anywhere_scores_nothing() -> None:
    vector = Vector.load(VECTOR)
    body = vector.response.body
    for end in range(len(body)):
        answer = dataclasses.replace(vector.response, body=body[:end], complete=False, chunks=())
        cut = dataclasses.replace(vector, response=answer, expected_fields=None)
        decoded = await replay(cut, ChatCompletion, splits=2, expected_status=400)
        assert score(decoded.synapse, REFERENCE) == 0.0, end
