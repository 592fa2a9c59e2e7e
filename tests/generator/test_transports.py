"""Every example schema, served by one handler over every transport, decodes the same.

One real ``Axon`` on 127.0.0.1 serves every example class on all three transports
(``bittensor10``, ``btauth/1``, ``epistula/2``) with a single ``forward_fn`` per class. A real
``Dendrite`` per transport calls it. For a streaming class the handler sends the bytes its own
``stream_response`` makes for fixed tokens, cut in hostile pieces (whole; one byte at a time;
pieces of 3 bytes, which split multi-byte characters and frames); for a plain class it answers
with ``respond``. The results (yielded items, response fields, status) must be identical across
transports and chunkings (text deltas compared joined: how raw text is cut into deltas follows
the reads), and equal to decoding the same bytes without a network.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from synapsegen.runtime import StreamingSynapse
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import Dendrite
from synapsegen.runtime.transports import TRANSPORTS

from ._generated import MINER, VALIDATOR, FakeResponse, bytewise, example_module, stream_items

TEXT = ["Grüß", " dich, ", "世界", " 🌍", "\n", "zwei"]
SSE_EVENTS = [{"text": "Hé", "logprob": -0.5}, {"text": "🙂", "logprob": -1.25}]

# Per class: (module stem, request values, tokens for stream_response; or response values).
STREAMS: dict[str, tuple[str, dict[str, Any], list[Any]]] = {
    "ChatCompletion": ("chat", {"messages": [{"role": "user", "content": "hi"}]}, TEXT),
    "ChunkedCompletion": ("chunks", {"prompt": "p"}, SSE_EVENTS),
    "ResearchSynapse": (
        "grouped",
        {"question": "q"},
        [
            {"type": "text", "role": "a", "content": "Grü"},
            {"type": "text", "role": "b", "content": "世"},
            {"type": "text", "role": "a", "content": "ße"},
            {"type": "links", "role": "b", "links": ["https://x"]},
        ],
    ),
    "HermesQuery": (
        "hermes",
        {"query": "q"},
        [
            {"type": "text", "text": "Ans"},
            {"type": "text", "text": "wér"},
            {"type": "meta", "sources": ["n1"], "latency_ms": 12.5},
        ],
    ),
    "LineCompletion": ("lines", {"prompt": "p"}, ["eins ", "zwéi ", "🌍"]),
    "TokenLogprobs": ("logprobs", {"prompt": "p"}, SSE_EVENTS),
    "OpenAIChat": (
        "openai",
        {"messages": [{"role": "user", "content": "hi"}]},
        [
            {"choices": [{"delta": {"content": "Hé"}}]},
            {"choices": [{"delta": {"content": "🙂"}}]},
            {"choices": [{"delta": {}, "finish_reason": "stop"}]},
        ],
    ),
    "PromptingSynapse": ("prompting", {"messages": ["hi"], "model": "m1"}, TEXT),
    "ScoredAnswer": (
        "scored",
        {"question": "q"},
        [
            {"type": "text", "text": "Grüß "},
            {"type": "text", "text": "🌍"},
            {"type": "done", "confidence": 0.75},
        ],
    ),
    "SearchSynapse": (
        "search",
        {"query": "q", "max_results": 3},
        [
            {"type": "status", "content": "searching"},
            {"type": "summary", "content": "Zusammen"},
            {"type": "result", "content": {"title": "T", "url": "https://a", "score": 0.5}},
            {"type": "snippets", "content": ["s1", "s2"]},
            {"type": "link", "content": {"url": "https://a", "title": "Ä"}},
            {"type": "summary", "content": "fassung"},
        ],
    ),
    "WebPageTask": (
        "webpage",
        {"brief": "b"},
        ['{"title": "Grüße", ', '"sections": []}'],
    ),
}
PLAIN: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "AvailabilitySynapse": (
        "prompting",
        {"tasks": ["chat", "grüß"]},
        {"available": {"chat": True, "grüß": False}, "load": 0.25},
    ),
}
CHUNKINGS: dict[str, Callable[[bytes], list[bytes]]] = {
    "whole": lambda data: [data],
    "bytewise": bytewise,
    "threes": lambda data: [data[i : i + 3] for i in range(0, len(data), 3)],
}


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    base = tmp_path_factory.mktemp("transports")
    chat = example_module(base, "chat")
    package = chat.__name__.rpartition(".")[0]
    stems = {stem for stem, _, _ in (*STREAMS.values(), *PLAIN.values())}
    return {stem: importlib.import_module(f"{package}.{stem}") for stem in stems}


def test_every_example_class_is_covered(modules: dict[str, ModuleType]) -> None:
    from synapsegen.runtime import Synapse

    classes = {
        name
        for module in modules.values()
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, Synapse)
        and value.__module__ == module.__name__
    }
    assert classes == set(STREAMS) | set(PLAIN)


async def _body_of(synapse: Any, tokens: list[Any]) -> bytes:
    """The bytes ``stream_response(tokens)`` sends, drained in-process."""

    async def produce() -> AsyncIterator[Any]:
        for token in tokens:
            yield token

    response = synapse.stream_response(produce())
    parts: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        parts.append(message.get("body", b""))

    await response.token_streamer(send)
    return b"".join(parts)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _outcome(synapse: Any, items: list[Any]) -> dict[str, Any]:
    from synapsegen.runtime.http_wire import response_fields

    fields = {name: _plain(getattr(synapse, name)) for name in response_fields(type(synapse))}
    complete = getattr(synapse, "stream_complete", None)
    if items and all(isinstance(item, str) for item in items):
        # Raw text yields what each read decoded: the deltas depend on the cuts, their text not.
        items = ["".join(items)]
    return {"items": _plain(items), "fields": fields, "complete": complete}


def _pieces_streamer(pieces: list[bytes]) -> Callable[[Any], Any]:
    async def stream(send: Any) -> None:
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})

    return stream


async def test_one_handler_every_transport_same_results(modules: dict[str, ModuleType]) -> None:
    bodies: dict[str, bytes] = {}
    expected: dict[str, dict[str, Any]] = {}
    classes: dict[str, type] = {}
    for name, (stem, request, tokens) in STREAMS.items():
        cls = classes[name] = getattr(modules[stem], name)
        bodies[name] = await _body_of(cls(**request), tokens)
        local = cls(**request)
        items = await stream_items(local, FakeResponse([bodies[name]], 200, {}))
        expected[name] = _outcome(local, items)
        assert expected[name]["complete"], name
    for name, (stem, _, values) in PLAIN.items():
        classes[name] = getattr(modules[stem], name)
        expected[name] = {"items": [], "fields": values, "complete": None}

    chunking = {"name": "whole"}  # which cut the handlers use, set per round below

    def handler(cls: type) -> Callable[[Any], Any]:
        async def forward(synapse: Any) -> Any:
            name = type(synapse).__name__
            if name in PLAIN:
                return synapse.respond(**PLAIN[name][2])
            pieces = CHUNKINGS[chunking["name"]](bodies[name])
            return synapse.create_streaming_response(_pieces_streamer(pieces))

        forward.__annotations__ = {"synapse": cls, "return": Any}
        return forward

    axon = Axon(MINER, port=0)
    for cls in classes.values():
        axon.attach(handler(cls), transports=TRANSPORTS)
    async with axon:
        for cut in CHUNKINGS:
            chunking["name"] = cut
            for transport in TRANSPORTS:
                async with Dendrite(VALIDATOR, transport=transport) as dendrite:
                    calls = [_call(dendrite, axon, classes[name], name) for name in expected]
                    outcomes = await asyncio.gather(*calls)
                for name, (outcome, status) in zip(expected, outcomes, strict=True):
                    where = f"{name} over {transport}, {cut}"
                    assert status == (200, "Success"), where
                    assert outcome == expected[name], where


async def _call(
    dendrite: Dendrite, axon: Axon, cls: type, name: str
) -> tuple[dict[str, Any], tuple[int | None, str | None]]:
    request = (STREAMS.get(name) or PLAIN[name])[1]
    synapse = cls(**request)
    if isinstance(synapse, StreamingSynapse):
        items = [
            item
            async for item in dendrite.call_stream(axon, synapse, timeout=10, deserialize=False)
        ]
        assert items[-1] is synapse
        items = items[:-1]
    else:
        assert await dendrite.call(axon, synapse, timeout=10, deserialize=False) is synapse
        items = []
    status = (synapse.dendrite.status_code, synapse.dendrite.status_message)
    return _outcome(synapse, items), status
