"""record() keeps a miner's exact answer; replay() decodes it the same under every chunking, as
a Dendrite would, and catches a decoder that depends on where the body was cut."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiohttp import ClientResponse

from synapsegen.runtime import StreamingSynapse
from synapsegen.testing import (
    VECTOR_FORMAT,
    ReplayMismatch,
    Script,
    ScriptedMiner,
    Vector,
    record,
    replay,
)

TEXT = ["Hel", "lo ", "wörld ", "🙂"]


def chat(gen: dict[str, ModuleType]) -> Any:
    return gen["chat"].ChatCompletion(messages=[{"role": "user", "content": "hi"}])


@pytest.mark.parametrize("transport", ["bittensor10", "btauth/1", "epistula/2"])
async def test_record_then_replay_a_stream(
    gen: dict[str, ModuleType], transport: str, tmp_path: Path
) -> None:
    cls = gen["chat"].ChatCompletion
    async with ScriptedMiner(cls, tokens=TEXT) as miner:
        vector = await record(miner.target, chat(gen), transport=transport, note="test")
    answer = vector.response
    assert answer.status == 200 and answer.complete and answer.body == "".join(TEXT).encode()
    assert sum(answer.chunks) == len(answer.body)
    assert vector.request.path == "/ChatCompletion" and vector.transport == transport
    path = vector.save(tmp_path / "chat.json")
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == VECTOR_FORMAT
    loaded = Vector.load(path)
    assert loaded == vector and loaded.source == path

    decoded = await replay(path, cls, splits=8, expected={"completion": "Hello wörld 🙂"},
                           expected_status=200)  # fmt: skip
    assert decoded.synapse.completion == "Hello wörld 🙂" and decoded.complete
    assert "bytewise" in decoded.chunkings and len(decoded.chunkings) == 13
    through_axon = await replay(vector, cls, splits=2, through="axon")
    assert through_axon.summary() == decoded.summary()


async def test_framed_failed_and_plain_answers_replay(gen: dict[str, ModuleType]) -> None:
    openai, prompting = gen["openai"], gen["prompting"]
    deltas = [{"choices": [{"delta": {"content": c}}]} for c in ("Grü", "ße")]
    async with (
        ScriptedMiner(openai.OpenAIChat, tokens=deltas) as good,
        ScriptedMiner(
            gen["chat"].ChatCompletion, tokens=TEXT, error="crash", error_after=2
        ) as failing,
        ScriptedMiner(
            prompting.AvailabilitySynapse, response={"available": {"chat": True}, "load": 0.5}
        ) as plain,
        ScriptedMiner(gen["chat"].ChatCompletion, status=429, message="slow down") as busy,
    ):
        framed = await record(good.target, openai.OpenAIChat(messages=[]))
        cut = await record(failing.target, chat(gen))
        answer = await record(plain.target, prompting.AvailabilitySynapse(tasks=["chat"]))
        refused = await record(busy.target, chat(gen), transport="btauth/1")

    decoded = await replay(framed, openai.OpenAIChat, splits=8)
    assert decoded.items == ("Grü", "ße") and decoded.synapse.completion == "Grüße"
    assert decoded.complete

    assert not cut.response.complete  # the recording saw the incomplete transfer
    failed = await replay(cut, gen["chat"].ChatCompletion, splits=8, expected_status=400)
    assert failed.synapse.completion == "Hello " and failed.complete is False

    filled = await replay(answer, prompting.AvailabilitySynapse, splits=4)
    assert filled.synapse.available == {"chat": True} and filled.synapse.load == 0.5
    assert filled.items == () and filled.complete is None
    assert (await replay(answer, prompting.AvailabilitySynapse, splits=1, through="axon")).fields \
        == filled.fields  # fmt: skip

    assert refused.response.status == 429
    status = await replay(refused, gen["chat"].ChatCompletion, splits=2, through="axon")
    assert (status.status_code, status.status_message) == (429, "slow down")
    assert (await replay(refused, gen["chat"].ChatCompletion, splits=2)).status_code == 429


async def test_a_wrong_expectation_is_reported(gen: dict[str, ModuleType], tmp_path: Path) -> None:
    cls = gen["chat"].ChatCompletion
    async with ScriptedMiner(cls, tokens=TEXT) as miner:
        vector = await record(miner.target, chat(gen))
    with pytest.raises(ReplayMismatch, match="completion: expected 'Hello'"):
        await replay(vector, cls, splits=1, expected={"completion": "Hello"})
    with pytest.raises(ReplayMismatch, match="status_code: expected 500"):
        await replay(vector, cls, splits=1, expected_status=500)
    # An expectation kept in the file is checked too.
    path = vector.with_expected({"completion": "nope"}).save(tmp_path / "v.json")
    assert json.loads(path.read_text())["expected"] == {"fields": {"completion": "nope"}}
    with pytest.raises(ReplayMismatch, match="nope"):
        await replay(path, cls, splits=1)


class ChunkCounter(StreamingSynapse):
    """A decoder that (wrongly) depends on where the network cut the body."""

    pieces: int = 0
    text: str = ""

    async def process_streaming_response(self, response: ClientResponse) -> AsyncIterator[str]:
        async for chunk in response.content.iter_any():
            self.pieces += 1
            self.text += chunk.decode("utf-8", errors="replace")
            yield chunk.decode("utf-8", errors="replace")

    def extract_response_json(self, response: ClientResponse) -> dict[str, Any]:
        return {"pieces": self.pieces, "text": self.text}


async def test_a_chunking_dependent_decoder_is_caught() -> None:
    body = "wörld".encode()
    script = Script(body=body, chunking=[2, 100])
    async with ScriptedMiner(ChunkCounter, script) as miner:
        vector = await record(miner.target, ChunkCounter())
    with pytest.raises(ReplayMismatch, match=r"when cut bytewise .*\n  fields"):
        await replay(vector, ChunkCounter, splits=0)


def test_vector_files_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "synapsegen-vector/0"}))
    with pytest.raises(ValueError, match="format"):
        Vector.load(bad)
    bad.write_text(json.dumps({"format": VECTOR_FORMAT, "synapse": "X"}))
    with pytest.raises(ValueError, match="not a synapsegen-vector/1 vector"):
        Vector.load(bad)


def test_binary_bodies_round_trip_as_base64(gen: dict[str, ModuleType]) -> None:
    from synapsegen.testing import RecordedRequest, RecordedResponse

    vector = Vector(
        synapse="ChatCompletion",
        transport="bittensor10",
        request=RecordedRequest("POST", "/ChatCompletion", (), b"{}"),
        response=RecordedResponse(200, (("content-type", "text/event-stream"),), b"ab\xf0\x9f"),
    )
    data = vector.to_json()
    assert data["response"]["body"] == {"base64": "YWLwnw=="}
    assert data["request"]["body"] == {"text": "{}"}
    assert Vector.from_json(json.loads(json.dumps(data))) == vector
