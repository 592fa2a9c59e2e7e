"""Grouped accumulation (schemas/grouped.yaml): text and links kept apart per role.

Desearch's ``text_chunks[role]``: a rule with ``group: role`` adds each value to the target
dict's entry for the role the event names. Checked over a real Axon and Dendrite with the
generated ``stream_response``, and under hostile chunkings of the same bytes.
"""

from __future__ import annotations

import asyncio
import json
from types import ModuleType
from typing import Any

import pytest

from synapsegen.runtime import MalformedFrame

from ._generated import FakeResponse, bytewise, example_module, stream_items, stream_through_axon

EVENTS: list[dict[str, Any]] = [
    {"type": "text", "role": "summary", "content": "Grüß "},
    {"type": "text", "role": "web", "content": "世界"},
    {"type": "links", "role": "web", "links": ["https://a.example"]},
    {"type": "text", "role": "summary", "content": "dich 🌍"},
    {"type": "links", "role": "web", "links": ["https://b.example", "https://c.example"]},
    {"type": "text", "role": "twitter", "content": ""},
]
TEXT_CHUNKS = {"summary": "Grüß dich 🌍", "web": "世界", "twitter": ""}
SOURCES = {"web": ["https://a.example", "https://b.example", "https://c.example"]}


@pytest.fixture(scope="module")
def grouped(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return example_module(tmp_path_factory.mktemp("grouped"), "grouped")


async def test_text_and_links_are_kept_apart_per_role(grouped: ModuleType) -> None:
    items = await stream_through_axon(grouped.ResearchSynapse, EVENTS, question="q")
    synapse = items[-1]
    assert synapse.is_success and synapse.stream_complete, synapse.dendrite
    assert items[:-1] == ["Grüß ", "世界", "dich 🌍", ""]  # every text delta, in order
    assert synapse.text_chunks == TEXT_CHUNKS
    assert synapse.sources == SOURCES


def _body(events: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(event, ensure_ascii=False).encode() for event in events)


@pytest.mark.parametrize("cut", ["bytewise", "every_5_bytes"])
def test_hostile_chunkings(grouped: ModuleType, cut: str) -> None:
    body = _body([*EVENTS, {"type": "done"}])
    chunks = (
        bytewise(body) if cut == "bytewise" else [body[i : i + 5] for i in range(0, len(body), 5)]
    )
    synapse = grouped.ResearchSynapse()
    asyncio.run(stream_items(synapse, FakeResponse(chunks, 200, {})))
    assert synapse.text_chunks == TEXT_CHUNKS and synapse.sources == SOURCES
    assert synapse.stream_complete


def test_a_stream_without_links_leaves_sources_null(grouped: ModuleType) -> None:
    synapse = grouped.ResearchSynapse()
    asyncio.run(stream_items(synapse, FakeResponse([_body(EVENTS[:1])], 200, {})))
    assert synapse.text_chunks == {"summary": "Grüß "} and synapse.sources is None


@pytest.mark.parametrize("role", [None, 7, ["summary"]])
def test_an_event_without_a_string_group_key_is_a_stream_error(
    grouped: ModuleType, role: Any
) -> None:
    event: dict[str, Any] = {"type": "text", "content": "x"}
    if role is not None:
        event["role"] = role
    synapse = grouped.ResearchSynapse()
    with pytest.raises(MalformedFrame, match="role: expected a string group key"):
        asyncio.run(stream_items(synapse, FakeResponse([_body([event])], 200, {})))
