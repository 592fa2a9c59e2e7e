"""``token_streamer(final=...)``: the miner's own final event ends the stream, with no trailer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from synapsegen.runtime import encode_json_line, token_streamer
from synapsegen.runtime.streaming import is_tagged


@pytest.mark.parametrize(
    ("token", "tags", "expected"),
    [
        ({"type": "done", "score": 1}, {"type": "done"}, True),
        ({"type": "text"}, {"type": "done"}, False),
        ({"final": 1}, {"final": True}, False),  # JSON: a boolean is not a number
        ({"final": True}, {"final": 1}, False),
        ({"n": 1.0}, {"n": 1}, True),  # 1 and 1.0 are the same JSON number
        ({"x": None}, {"x": None}, True),
        ({}, {"x": None}, False),  # a null tag needs the key
        (["type", "done"], {"type": "done"}, False),
        ("done", {"type": "done"}, False),
    ],
)
def test_is_tagged_compares_as_json(token: Any, tags: dict[str, Any], expected: bool) -> None:
    assert is_tagged(token, tags) is expected


async def _sent(tokens: list[Any], **options: Any) -> list[bytes]:
    async def produce() -> AsyncIterator[Any]:
        for token in tokens:
            yield token

    bodies: list[bytes] = []

    async def send(message: Any) -> None:
        bodies.append(message["body"])

    await token_streamer(produce(), encode_json_line, **options)(send)
    return bodies


async def test_the_miners_final_event_replaces_the_trailer_and_ends_the_stream() -> None:
    tokens = [{"type": "text"}, {"type": "done", "score": 0.5}, {"type": "text"}]
    bodies = await _sent(tokens, trailer=b'{"type":"done"}\n', final={"type": "done"})
    assert b"".join(bodies) == b'{"type":"text"}\n{"type":"done","score":0.5}\n'


async def test_without_the_miners_final_event_the_trailer_follows() -> None:
    bodies = await _sent([{"type": "text"}], trailer=b'{"type":"done"}\n', final={"type": "done"})
    assert b"".join(bodies) == b'{"type":"text"}\n{"type":"done"}\n'
