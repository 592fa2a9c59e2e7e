"""ScriptedMiner: each scripted behaviour reaches a real Dendrite as a real miner's would, on
every transport."""

from __future__ import annotations

import json
import threading
from types import ModuleType
from typing import Any

import pytest

from synapsegen.runtime import Dendrite
from synapsegen.testing import (
    RandomCuts,
    Script,
    ScriptedMiner,
    keypair_for,
    oversized_frame,
    validator_keypair,
)

TRANSPORTS = ("bittensor10", "btauth/1", "epistula/2")
TEXT = ["Grü", "ße, ", "wörld ", "🙂"]


def chat(gen: dict[str, ModuleType]) -> Any:
    return gen["chat"].ChatCompletion(messages=[{"role": "user", "content": "hi"}])


async def stream(miner: ScriptedMiner[Any], synapse: Any, transport: str = "bittensor10",
                 **call: Any) -> tuple[list[Any], Any]:  # fmt: skip
    """``call_stream``'s items and the filled-in synapse."""
    async with Dendrite(validator_keypair(), transport=transport) as dendrite:
        items = [
            item
            async for item in dendrite.call_stream(
                miner.target, synapse, deserialize=False, **{"timeout": 5.0, **call}
            )
        ]
    assert items[-1] is synapse
    return items[:-1], synapse


@pytest.mark.parametrize(
    ("chunking", "transport"),
    [("natural", "bittensor10"), ("bytewise", "btauth/1"), ("characters", "epistula/2"),
     (RandomCuts(4), "bittensor10")],
)  # fmt: skip
async def test_tokens_arrive_in_the_class_framing_however_cut(
    gen: dict[str, ModuleType], transport: str, chunking: Any
) -> None:
    async with ScriptedMiner(gen["chat"].ChatCompletion, tokens=TEXT, chunking=chunking) as miner:
        items, synapse = await stream(miner, chat(gen), transport)
    assert synapse.is_success, synapse.dendrite
    assert "".join(items) == "".join(TEXT) == synapse.completion and synapse.stream_complete
    [received] = miner.requests
    assert received.transport == transport and received.index == 0
    assert received.hotkey == validator_keypair().ss58_address
    assert received.synapse.messages[0].content == "hi"


async def test_framed_tokens_use_the_real_encoder(gen: dict[str, ModuleType]) -> None:
    openai = gen["openai"]
    chunks = [{"choices": [{"delta": {"content": "Hé"}}]},
              {"choices": [{"delta": {}, "finish_reason": "stop"}]}]  # fmt: skip
    async with ScriptedMiner(openai.OpenAIChat, tokens=chunks, chunking="frames") as miner:
        items, synapse = await stream(miner, openai.OpenAIChat(messages=[]))
    assert items == ["Hé"] and synapse.completion == "Hé"
    assert synapse.finish_reason == "stop" and synapse.stream_complete  # the [DONE] sentinel came


async def test_a_failing_miner_ends_the_stream_incomplete(gen: dict[str, ModuleType]) -> None:
    async with ScriptedMiner(gen["chat"].ChatCompletion, tokens=TEXT, error="model crashed",
                             error_after=2) as miner:  # fmt: skip
        items, synapse = await stream(miner, chat(gen))
    assert "".join(items) == "Grüße, " == synapse.completion
    assert synapse.dendrite.status_code == 400 and not synapse.stream_complete
    assert "Payload error" in synapse.dendrite.status_message


async def test_a_declared_error_event_is_sent_by_the_real_stream_response(
    gen: dict[str, ModuleType],
) -> None:
    hermes = gen["hermes"]
    tokens = [{"type": "text", "text": "Ans"}, {"type": "text", "text": "wer"}]
    async with ScriptedMiner(hermes.HermesQuery, tokens=tokens, error="backend down",
                             error_after=1, chunking="bytewise") as miner:  # fmt: skip
        items, synapse = await stream(miner, hermes.HermesQuery(query="q"))
    assert items == ["Ans"] and synapse.completion == "Ans"
    assert synapse.dendrite.status_code == 422 and "backend down" in synapse.dendrite.status_message


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_error_status(gen: dict[str, ModuleType], transport: str) -> None:
    async with ScriptedMiner(gen["chat"].ChatCompletion, status=503, message="busy") as miner:
        items, synapse = await stream(miner, chat(gen), transport)
    assert items == [] and synapse.completion == ""
    assert (synapse.dendrite.status_code, synapse.dendrite.status_message) == (503, "busy")


async def test_truncation_ends_incomplete_or_cleanly(gen: dict[str, ModuleType]) -> None:
    cls = gen["chat"].ChatCompletion
    async with ScriptedMiner(cls, [Script(tokens=["abc🙂"], truncate_at=-2),
                                   Script(tokens=["abc🙂"], truncate_at=-2, clean_cut=True)]
                             ) as miner:  # fmt: skip
        _, cut = await stream(miner, chat(gen))
        _, clean = await stream(miner, chat(gen))
    assert cut.completion == "abc" and cut.dendrite.status_code == 400  # incomplete transfer
    assert clean.completion == "abc" and clean.dendrite.status_code == 422  # ends mid-character
    assert "inside a UTF-8 character" in clean.dendrite.status_message


async def test_a_cut_before_the_sentinel_looks_complete_on_the_wire_only(
    gen: dict[str, ModuleType],
) -> None:
    openai = gen["openai"]
    tokens = [{"choices": [{"delta": {"content": "Hi"}}]}]
    script = Script(tokens=tokens, truncate_at=-len(b"data: [DONE]\n\n"), clean_cut=True)
    async with ScriptedMiner(openai.OpenAIChat, script) as miner:
        items, synapse = await stream(miner, openai.OpenAIChat(messages=[]))
    assert items == ["Hi"] and synapse.is_success  # the body ended cleanly ...
    assert not synapse.stream_complete and synapse.completion == ""  # ... but not the stream


async def test_an_oversized_frame_is_refused_by_the_client(gen: dict[str, ModuleType]) -> None:
    openai = gen["openai"]
    async with ScriptedMiner(openai.OpenAIChat, oversized_frame=(1 << 20) + 64) as miner:
        _, synapse = await stream(miner, openai.OpenAIChat(messages=[]))
    assert synapse.dendrite.status_code == 422 and "frame" in synapse.dendrite.status_message
    for media in ("text/event-stream", "application/jsonl", "application/json-seq", "text/plain"):
        assert len(oversized_frame(media, 100)) == 100


async def test_delays(gen: dict[str, ModuleType]) -> None:
    cls = gen["chat"].ChatCompletion
    scripts = [Script(tokens=["a"], first_byte_delay=0.5), Script(tokens=["a", "b", "c"],
               token_delay=0.6)]  # fmt: skip
    async with ScriptedMiner(cls, scripts) as miner:
        _, late = await stream(miner, chat(gen), first_byte_timeout=0.1)
        _, slow = await stream(miner, chat(gen), timeout=1.0)
    assert late.dendrite.status_code == 408 and "first_byte_timeout" in late.dendrite.status_message
    assert slow.completion == "ab" and not slow.is_success  # cut at its timeout (1 s)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_plain_synapse_answers(gen: dict[str, ModuleType], transport: str) -> None:
    cls = gen["prompting"].AvailabilitySynapse
    values = {"available": {"chat": True}, "load": 0.25}
    scripts = [
        Script(response=values),
        Script(response=values, chunking="bytewise"),
        Script(response=lambda s: {"available": {t: True for t in s.tasks}}),
        Script(error="no GPU"),
        Script(response=values, truncate_at=10),
        Script(body=json.dumps({"available": {"x": True}, "load": 2.0}).encode()),
    ]
    async with (
        ScriptedMiner(cls, scripts) as miner,
        Dendrite(validator_keypair(), transport=transport) as dendrite,
    ):
        answers = [
            await dendrite.call(miner.target, cls(tasks=["chat", "img"]), deserialize=False)
            for _ in scripts
        ]
        beyond = await dendrite.call(miner.target, cls(), deserialize=False)
    plain, bytewise, computed, failed, truncated, bad = answers
    for answer in (plain, bytewise):
        assert answer.is_success and (answer.available, answer.load) == ({"chat": True}, 0.25)
    assert computed.available == {"chat": True, "img": True}
    assert failed.dendrite.status_code == 500
    assert truncated.dendrite.status_code == 400 and truncated.available == {}
    assert not bad.is_success  # load 2.0 is out of range: the client refuses the answer
    assert beyond.dendrite.status_code == 500  # no script left for a seventh call
    assert miner.calls == 7


async def test_a_script_function_sees_the_request(gen: dict[str, ModuleType]) -> None:
    cls = gen["chat"].ChatCompletion

    def script(synapse: Any) -> Script:
        return Script(tokens=[f"echo: {synapse.messages[-1].content}"])

    async with ScriptedMiner(cls, script) as miner:
        _, synapse = await stream(miner, chat(gen))
    assert synapse.completion == "echo: hi"


def test_threaded_miner_serves_any_event_loop(gen: dict[str, ModuleType]) -> None:
    import asyncio

    cls = gen["chat"].ChatCompletion
    other = keypair_for("another miner")
    with ScriptedMiner(cls, tokens=["x"], keypair=other) as miner:
        assert miner.hotkey == other.ss58_address
        _, synapse = asyncio.run(stream(miner, chat(gen)))
        assert threading.active_count() >= 2
    assert synapse.completion == "x"
    with pytest.raises(RuntimeError, match="not serving"):
        miner.target  # noqa: B018


def test_scripts_are_checked_up_front(gen: dict[str, ModuleType]) -> None:
    chat_cls, plain = gen["chat"].ChatCompletion, gen["prompting"].AvailabilitySynapse
    with pytest.raises(ValueError, match="plain synapse"):
        ScriptedMiner(plain, tokens=["a"])
    with pytest.raises(ValueError, match="streams"):
        ScriptedMiner(chat_cls, response={"completion": "a"})
    with pytest.raises(TypeError, match="not both"):
        ScriptedMiner(chat_cls, Script(), tokens=["a"])
    with pytest.raises(ValueError, match="status"):
        Script(status=204)
    with pytest.raises(ValueError, match="token_delay"):
        Script(token_delay=-1)
    with pytest.raises(ValueError, match="chunking"):
        Script(chunking="sideways")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one str"):
        Script(tokens="abc")
