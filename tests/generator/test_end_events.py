"""A final event that carries data (schemas/scored.yaml), over a real Axon and Dendrite.

The miner may end its stream with its own final event (a confidence, the usage): the generated
``stream_response`` then sends no second one, and the client's rules read it like any other
event. Without it, ``stream_response`` sends the bare final event after the last token.
"""

from __future__ import annotations

import asyncio
import json
from types import ModuleType
from typing import Any

import pytest

from ._generated import FakeResponse, bytewise, example_module, stream_items, stream_through_axon

WORDS = ["Grüß ", "dich, ", "世界 🌍"]
USAGE = {"prompt_tokens": 3, "completion_tokens": 9}
FINAL = {"type": "done", "confidence": 0.75, "usage": USAGE}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return example_module(tmp_path_factory.mktemp("scored"), "scored")


def events(
    final: dict[str, Any] | None, after: tuple[dict[str, Any], ...] = ()
) -> list[dict[str, Any]]:
    """The miner's tokens: one text event per word, then its own final event (if any)."""
    tokens: list[dict[str, Any]] = [{"type": "text", "text": word} for word in WORDS]
    return tokens + ([final] if final is not None else []) + list(after)


async def call(cls: type, tokens: list[dict[str, Any]]) -> tuple[list[str], Any]:
    """What the client yields for ``tokens`` served by a real Axon, and the filled synapse."""
    items = await stream_through_axon(cls, tokens, question="hi")
    return items[:-1], items[-1]


async def test_the_miners_own_final_event_is_read_and_not_doubled(scored: ModuleType) -> None:
    texts, synapse = await call(scored.ScoredAnswer, events(FINAL))
    assert synapse.is_success, synapse.dendrite
    assert synapse.stream_complete  # no "data after the final event"
    assert "".join(texts) == "".join(WORDS) == synapse.answer
    assert synapse.confidence == 0.75
    assert synapse.usage == scored.Usage(**USAGE)


async def test_tokens_after_the_miners_final_event_are_not_sent(scored: ModuleType) -> None:
    late = ({"type": "text", "text": "too late"},)
    _, synapse = await call(scored.ScoredAnswer, events(FINAL, after=late))
    assert synapse.is_success and synapse.stream_complete
    assert synapse.answer == "".join(WORDS)


async def test_without_its_own_final_event_the_helper_sends_one(scored: ModuleType) -> None:
    _, synapse = await call(scored.ScoredAnswer, events(None))
    assert synapse.is_success and synapse.stream_complete
    assert synapse.answer == "".join(WORDS)
    assert synapse.confidence is None and synapse.usage is None


def _body(tokens: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(token, ensure_ascii=False).encode() + b"\n" for token in tokens)


@pytest.mark.parametrize("cut", ["bytewise", "inside_frames"])
def test_hostile_chunkings_of_a_final_event_with_data(scored: ModuleType, cut: str) -> None:
    body = _body(events(FINAL))
    if cut == "bytewise":
        chunks = bytewise(body)  # also splits every multi-byte character
    else:
        chunks = [body[i : i + 7] for i in range(0, len(body), 7)]
    synapse = scored.ScoredAnswer(question="hi")
    headers = {"bt_header_axon_status_code": "200"}
    items = asyncio.run(stream_items(synapse, FakeResponse(chunks, 200, headers)))
    assert "".join(items) == "".join(WORDS) == synapse.answer
    assert synapse.stream_complete
    assert (synapse.confidence, synapse.usage) == (0.75, scored.Usage(**USAGE))


def test_a_second_final_event_is_still_refused(scored: ModuleType) -> None:
    """The client's guard stays: data after the final event means a broken stream."""
    body = _body(events(FINAL)) + _body([{"type": "done"}])
    synapse = scored.ScoredAnswer(question="hi")
    with pytest.raises(Exception, match="data after the final event"):
        asyncio.run(stream_items(synapse, FakeResponse([body], 200, {})))
