"""Generated synapses behave as language.md says, on real streams.

Every schema in schemas/ is generated into a temporary package and imported. Two levels, both
with the test kit (``synapsegen.testing``) validators use:

- ``FakeResponse`` feeds ``process_streaming_response`` chosen chunks, so splits land exactly at
  hostile places (inside a UTF-8 character, inside a frame, one byte per chunk);
- the runtime's real ``Axon`` and ``Dendrite`` on 127.0.0.1: a ``ScriptedMiner`` sends
  pre-encoded bytes in chosen pieces (``Script(body=..., chunking=...)``), or streams tokens with
  the generated ``stream_response`` server helper (``Script(tokens=...)``).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import (
    FrameTooLarge,
    MalformedFrame,
    MinerError,
    TruncatedStream,
)
from synapsegen.runtime.dendrite import AxonTarget, Dendrite
from synapsegen.testing import Chunking, Script, ScriptedMiner

from ._generated import FakeResponse, bytewise, generate_package, on_sys_path, stream_items
from ._paths import ROOT, SCHEMAS

TEXT = "Grüße, wörld 🙂 — ok\nzwei"


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """Every schema's generated module, imported from a temporary package."""
    base = tmp_path_factory.mktemp("generated")
    generate_package(SCHEMAS, ROOT, base / "sg_behaviour_pkg")
    with on_sys_path(base):
        return {
            schema.stem: importlib.import_module(f"sg_behaviour_pkg.{schema.stem}")
            for schema in SCHEMAS
        }


# ---------------------------------------------------------------------------------------------
# Chosen chunks, no network


AXON_OK = {"bt_header_axon_status_code": "200"}


async def run(synapse: Any, chunks: Iterable[bytes], status: int = 200) -> list[Any]:
    return await stream_items(synapse, FakeResponse(chunks, status, AXON_OK))


def chat(gen: dict[str, ModuleType], **values: Any) -> Any:
    return gen["chat"].ChatCompletion(messages=[{"role": "user", "content": "hi"}], **values)


async def test_text_split_inside_characters(gen: dict[str, ModuleType]) -> None:
    synapse = chat(gen)
    items = await run(synapse, bytewise(TEXT.encode()))
    assert "".join(items) == TEXT and all(isinstance(item, str) for item in items)
    assert synapse.completion == TEXT == synapse.deserialize()
    assert synapse.stream_complete


async def test_text_cut_inside_a_character_keeps_partial(gen: dict[str, ModuleType]) -> None:
    synapse = chat(gen)
    data = "abc🙂".encode()
    with pytest.raises(TruncatedStream):
        await run(synapse, [data[:4], data[4:5]])
    assert synapse.completion == "abc"  # keep_partial: what arrived is kept
    assert not synapse.stream_complete


async def test_error_status_body_is_never_decoded(gen: dict[str, ModuleType]) -> None:
    synapse = chat(gen)
    assert await run(synapse, [b'{"message": "Forbidden"}'], status=403) == []
    assert synapse.completion == "" and not synapse.stream_complete


async def test_lines_keep_text_and_framing(gen: dict[str, ModuleType]) -> None:
    synapse = gen["lines"].LineCompletion(prompt="p")
    data = "zwei wörter\r\nund 🙂\n".encode()
    items = await run(synapse, bytewise(data))
    assert items == ["zwei wörter", "und 🙂"]
    assert synapse.completion == "zwei wörterund 🙂" and synapse.stream_complete
    with pytest.raises(TruncatedStream):
        await run(gen["lines"].LineCompletion(prompt="p"), [b"a\nunterminated"])


def sse(value: Any) -> bytes:
    return b"data: " + json.dumps(value).encode() + b"\n\n"


def openai_chunks() -> bytes:
    deltas = [{"choices": [{"delta": {"content": part}}]} for part in ("Hé", "llo ", "🙂")]
    final = {"choices": [{"delta": {}, "finish_reason": "stop"}]}
    counts = {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}
    usage = {"choices": [], "usage": counts}
    return b"".join(sse(v) for v in (*deltas, final, usage)) + b"data: [DONE]\n\n"


def openai_synapse(gen: dict[str, ModuleType]) -> Any:
    return gen["openai"].OpenAIChat(messages=[{"role": "user", "content": "hi"}])


async def test_openai_sse_bytewise(gen: dict[str, ModuleType]) -> None:
    synapse = openai_synapse(gen)
    items = await run(synapse, bytewise(openai_chunks()))
    assert items == ["Hé", "llo ", "🙂"]
    assert synapse.completion == "Hé🙂"[:2] + "llo 🙂"
    assert synapse.finish_reason == "stop"
    assert synapse.usage is not None and synapse.usage.total_tokens == 6
    assert synapse.stream_complete and synapse.deserialize() == "Héllo 🙂"


async def test_openai_without_sentinel_commits_nothing(gen: dict[str, ModuleType]) -> None:
    synapse = openai_synapse(gen)
    data = openai_chunks()
    items = await run(synapse, [data[: data.index(b"data: [DONE]")]])
    assert items == ["Hé", "llo ", "🙂"]  # the caller saw the deltas ...
    assert synapse.completion == "" and synapse.finish_reason is None  # ... nothing committed
    assert not synapse.stream_complete


async def test_wrong_value_type_is_malformed_frame(gen: dict[str, ModuleType]) -> None:
    synapse = openai_synapse(gen)
    with pytest.raises(MalformedFrame, match=r"choices\[0\]\.delta\.content"):
        await run(synapse, [sse({"choices": [{"delta": {"content": 5}}]})])


async def test_logprobs_yields_tokens_and_limits(gen: dict[str, ModuleType]) -> None:
    synapse = gen["logprobs"].TokenLogprobs(prompt="p")
    events = [{"text": "a", "logprob": -0.5}, {"text": "ü", "logprob": -1.25}]
    data = b"".join(sse(e) for e in events) + b"data: [DONE]\n\n"
    items = await run(synapse, bytewise(data))
    assert items == events
    assert synapse.completion == "aü"
    assert (synapse.tokens, synapse.logprobs) == (["a", "ü"], [-0.5, -1.25])
    too_big = b"data: " + b"x" * (1 << 20) + b"\n"  # one event larger than max_frame_bytes
    with pytest.raises(FrameTooLarge):
        await run(gen["logprobs"].TokenLogprobs(prompt="p"), [too_big])


async def test_hermes_events_trailer_and_error(gen: dict[str, ModuleType]) -> None:
    module = gen["hermes"]
    lines = [
        {"type": "text", "text": "Ans"},
        {"type": "text", "text": "wer"},
        {"type": "meta", "sources": ["n1", "n2"], "latency_ms": 12.5},
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    synapse = module.HermesQuery(query="q")
    assert await run(synapse, bytewise(data)) == ["Ans", "wer"]
    assert synapse.completion == "Answer"
    assert (synapse.sources, synapse.latency_ms) == (["n1", "n2"], 12.5)
    failing = module.HermesQuery(query="q")
    error = json.dumps({"type": "error", "message": "model crashed"}).encode() + b"\n"
    with pytest.raises(MinerError, match="model crashed"):
        await run(failing, [data[:20], data[20:] + error[:5], error[5:]])
    assert not failing.stream_complete


def search_events() -> list[dict[str, Any]]:
    return [
        {"type": "status", "content": "searching"},
        {"type": "summary", "content": "Zusammen"},
        {"type": "result", "content": {"title": "T", "url": "https://a", "score": 0.5}},
        {"type": "snippets", "content": ["s1", "s2"]},
        {"type": "link", "content": {"url": "https://a", "title": "A"}},
        {"type": "summary", "content": "fassung"},
        {"type": "done"},
    ]


async def test_search_json_seq_back_to_back(gen: dict[str, ModuleType]) -> None:
    module = gen["search"]
    data = b"".join(json.dumps(e, separators=(",", ":")).encode() for e in search_events())
    synapse = module.SearchSynapse(query="q")
    items = await run(synapse, bytewise(data))
    assert items == search_events()
    assert synapse.summary == "Zusammenfassung" and synapse.status == "searching"
    assert synapse.results == [module.SearchResult(title="T", url="https://a", score=0.5)]
    assert synapse.snippets == ["s1", "s2"]
    assert synapse.links == {"https://a": module.Link(url="https://a", title="A")}
    assert synapse.stream_complete and synapse.deserialize() is synapse
    late = module.SearchSynapse(query="q")
    with pytest.raises(MalformedFrame, match="after the final event"):
        await run(late, [data, b'{"type":"status","content":"late"}'])
    assert late.summary == "Zusammenfassung"  # keep_partial: kept even though it then failed


async def test_shallow_copies_never_share_lists(gen: dict[str, ModuleType]) -> None:
    module = gen["search"]
    template = module.SearchSynapse(query="q")
    first, second = template.model_copy(), template.model_copy()  # what the dendrite does
    one = json.dumps({"type": "snippets", "content": ["one"]}).encode()
    two = json.dumps({"type": "snippets", "content": ["two"]}).encode()
    await run(first, [one])
    await run(second, [two])
    assert (first.snippets, second.snippets, template.snippets) == (["one"], ["two"], [])


async def test_webpage_deserializes_nested_model(gen: dict[str, ModuleType]) -> None:
    module = gen["webpage"]
    page = {"html": "<p>ü</p>", "assets": [{"path": "a", "children": [{"path": "a/b"}]}]}
    synapse = module.WebPageTask(brief="b")
    await run(synapse, bytewise(json.dumps(page, ensure_ascii=False).encode()))
    parsed = synapse.deserialize()
    assert isinstance(parsed, module.WebPage)
    assert parsed.assets[0].children[0].path == "a/b" and parsed.css == ""


# ---------------------------------------------------------------------------------------------
# Real Axon and Dendrite on 127.0.0.1

MINER = Keypair.create_from_seed("0x" + "11" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "22" * 32)
PIECE_PAUSE = 0.001  # between pieces: gives each its own TCP segment where possible


def pieces_miner(cls: type, body: bytes, chunking: Chunking) -> ScriptedMiner[Any]:
    """A miner that sends exactly ``body``, pre-encoded, in these pieces (one ASGI send each),
    then ends the body cleanly."""
    script = Script(body=body, chunking=chunking, token_delay=PIECE_PAUSE)
    return ScriptedMiner(cls, script, keypair=MINER)


def tokens_miner(cls: type, script: Script) -> ScriptedMiner[Any]:
    """A miner whose tokens go through the generated ``stream_response`` server helper."""
    return ScriptedMiner(cls, script, keypair=MINER)


async def call(target: AxonTarget, synapse: Any) -> tuple[list[Any], Any]:
    async with Dendrite(VALIDATOR) as client:
        stream = client.call_stream(target, synapse, timeout=10, deserialize=False)
        items = [i async for i in stream]
    assert items[-1] is synapse
    return items[:-1], synapse


async def test_real_stream_bytewise_keeps_every_field(gen: dict[str, ModuleType]) -> None:
    cls = gen["chat"].ChatCompletion
    async with pieces_miner(cls, TEXT.encode(), "bytewise") as miner:
        synapse = chat(gen, model="big", temperature=1.5, max_tokens=7)
        tokens, synapse = await call(miner.target, synapse)
    assert synapse.is_success, synapse.dendrite
    assert "".join(tokens) == TEXT == synapse.completion and synapse.stream_complete
    # Nothing was reset by the dendrite's rebuild.
    assert (synapse.model, synapse.temperature, synapse.max_tokens) == ("big", 1.5, 7)
    assert synapse.timeout == 10.0  # the call's timeout, not reset to the default 12
    assert synapse.messages[0].content == "hi"


async def test_real_openai_stream_cut_before_sentinel(gen: dict[str, ModuleType]) -> None:
    cls = gen["openai"].OpenAIChat
    data = openai_chunks()
    async with pieces_miner(cls, data[: data.index(b"data: [DONE]")], (7,)) as miner:
        tokens, synapse = await call(miner.target, openai_synapse(gen))
    assert tokens == ["Hé", "llo ", "🙂"]
    assert synapse.completion == "" and not synapse.stream_complete


def _token_streamer_has_trailer() -> bool:
    import inspect

    try:
        from synapsegen.runtime import token_streamer
    except (ImportError, AttributeError):
        return False
    return "trailer" in inspect.signature(token_streamer).parameters


needs_trailer = pytest.mark.skipif(
    not _token_streamer_has_trailer(),
    reason="runtime token_streamer(trailer=...) not implemented yet",
)


@needs_trailer
async def test_generated_server_helper_round_trip(gen: dict[str, ModuleType]) -> None:
    module = gen["search"]
    events = Script(tokens=search_events()[:-1])  # the helper sends the final event itself
    async with tokens_miner(module.SearchSynapse, events) as miner, Dendrite(VALIDATOR) as client:
        template = module.SearchSynapse(query="q")
        targets = [miner.target, miner.target]
        streams = await client.forward(targets, template, deserialize=False)
        results = []
        for stream in streams:
            results.append([item async for item in stream][-1])
    assert template.snippets == [] and template.links == {}
    first, second = results
    for synapse in results:
        assert synapse.is_success, synapse.dendrite
        assert synapse.summary == "Zusammenfassung" and synapse.stream_complete
    assert first.snippets == second.snippets == ["s1", "s2"]
    assert first.snippets is not second.snippets


@needs_trailer
async def test_generated_server_helper_error_event(gen: dict[str, ModuleType]) -> None:
    module = gen["search"]
    # The miner's token iterator yields one event, then raises RuntimeError("backend down").
    events = Script(tokens=[{"type": "summary", "content": "partial"}], error="backend down")
    async with tokens_miner(module.SearchSynapse, events) as miner:
        tokens, synapse = await call(miner.target, module.SearchSynapse(query="q"))
    assert tokens == [{"type": "summary", "content": "partial"}]
    assert not synapse.is_success and "backend down" in (synapse.dendrite.status_message or "")
    assert synapse.summary == "partial" and not synapse.stream_complete


@needs_trailer
async def test_generated_server_helpers_frame_every_format(gen: dict[str, ModuleType]) -> None:
    openai = gen["openai"].OpenAIChat
    lines = gen["lines"].LineCompletion
    chunks = Script(
        tokens=[
            {"choices": [{"delta": {"content": "Grüße"}}]},
            {"choices": [{"delta": {}, "finish_reason": "length"}]},
        ]
    )
    words = Script(tokens=["eins ", "zwei"])
    async with tokens_miner(openai, chunks) as sse, tokens_miner(lines, words) as text_miner:
        _, done = await call(sse.target, openai_synapse(gen))
        _, text = await call(text_miner.target, lines(prompt="p"))
    assert done.completion == "Grüße" and done.finish_reason == "length" and done.stream_complete
    assert text.completion == "eins zwei" and text.stream_complete
