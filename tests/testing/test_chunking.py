"""The kit's chunkings cut where they say, never lose a byte, and repeat for a seed; the fake
response delivers exactly the pieces it was given."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from synapsegen.testing import (
    NAMED_CHUNKINGS,
    FakeResponse,
    RandomCuts,
    hostile_chunkings,
    split_body,
)

BODY = 'data: {"t": "Grüße 🙂"}\r\n\r\ndata: [DONE]\n\n{"a":1}{"b":[2]}'.encode()


@pytest.mark.parametrize(
    "chunking", [*NAMED_CHUNKINGS, RandomCuts(3), (1, 4), lambda b: [b[:2], b[2:]]]
)
def test_every_chunking_joins_to_the_body_without_empty_pieces(chunking: object) -> None:
    pieces = split_body(BODY, chunking)  # type: ignore[arg-type]
    assert b"".join(pieces) == BODY and all(pieces)
    assert split_body(b"", chunking) == []  # type: ignore[arg-type]


def test_named_chunkings_cut_where_they_say() -> None:
    assert split_body(BODY, "whole") == [BODY]
    assert split_body(BODY, "natural") == [BODY]
    assert split_body(BODY, "natural", natural=[5, 100]) == [BODY[:5], BODY[5:]]
    assert split_body(BODY, "bytewise") == [bytes([b]) for b in BODY]
    characters = split_body(BODY, "characters")
    # Every multi-byte character is cut after each of its bytes but the last.
    for char in "üß🙂":
        encoded = char.encode()
        start = BODY.index(encoded)
        ends, position = set(), 0
        for piece in characters:
            position += len(piece)
            ends.add(position)
        assert {start + i for i in range(1, len(encoded))} <= ends, char
    frames = split_body(BODY, "frames")
    ends, position = set(), 0
    for piece in frames:
        position += len(piece)
        ends.add(position)
    crlf = BODY.index(b"\r\n")
    assert {crlf, crlf + 1, crlf + 2} <= ends  # before, inside and after \r\n
    assert BODY.index(b"}{") + 1 in ends  # between JSON values sent back to back
    assert len(frames) > BODY.count(b"\n") * 2  # and the middle of each frame


def test_random_cuts_repeat_for_a_seed_and_vary_across_seeds() -> None:
    assert split_body(BODY, RandomCuts(7)) == split_body(BODY, RandomCuts(7))
    assert len({tuple(map(len, split_body(BODY, RandomCuts(s)))) for s in range(20)}) > 10
    assert all(len(split_body(BODY, RandomCuts(s, max_cuts=2))) <= 3 for s in range(20))
    assert split_body(b"x", RandomCuts(1)) == [b"x"]


def test_bad_chunkings_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown chunking"):
        split_body(BODY, "sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sizes"):
        split_body(BODY, (0,))
    with pytest.raises(ValueError, match="do not join"):
        split_body(BODY, lambda b: [b[:3]])
    with pytest.raises(ValueError):
        RandomCuts(1, max_cuts=0)


def test_hostile_chunkings_name_each_way() -> None:
    labels = [label for label, _ in hostile_chunkings(100, 3, seed=5)]
    assert labels == ["natural", "whole", "bytewise", "characters", "frames",
                      "RandomCuts(seed=5)", "RandomCuts(seed=6)", "RandomCuts(seed=7)"]  # fmt: skip
    assert "bytewise" not in [label for label, _ in hostile_chunkings(20000, 0)]


async def test_fake_response_delivers_exactly_the_pieces() -> None:
    pieces = [b"ab", b"c", b"def"]
    response = FakeResponse(pieces, 200, [("X-A", "1"), ("x-a", "2")])
    assert [p async for p in response.content.iter_any()] == pieces
    assert response.headers.getall("x-a") == ["1", "2"]
    assert response.raw_headers == ((b"X-A", b"1"), (b"x-a", b"2"))
    sized = FakeResponse(pieces)
    assert [await sized.content.read(2) for _ in range(4)] == [b"ab", b"c", b"de", b"f"]


async def test_fake_response_ends_incomplete_like_aiohttp() -> None:
    response = FakeResponse([b"abc"], complete=False)
    got = []
    with pytest.raises(aiohttp.ClientPayloadError, match="not completed"):
        async for piece in response.content.iter_any():
            got.append(piece)
    assert got == [b"abc"]


async def test_fake_response_json_checks_the_content_type() -> None:
    body = json.dumps({"a": "ü"}).encode()
    assert await FakeResponse([body], headers={"Content-Type": "application/json"}).json() == {
        "a": "ü"
    }
    with pytest.raises(aiohttp.ContentTypeError):
        await FakeResponse([body], headers={"Content-Type": "text/plain"}).json()
    assert await FakeResponse([], headers={"Content-Type": "application/json"}).json() is None


def test_fake_response_gives_the_loop_a_turn_before_each_piece() -> None:
    order: list[str] = []

    async def reader() -> None:
        async for _ in FakeResponse([b"a", b"b"]).content.iter_any():
            order.append("piece")

    async def other() -> None:
        for _ in range(3):
            order.append("other")
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(reader(), other())

    asyncio.run(main())
    assert order == ["other", "piece", "other", "piece", "other"]  # interleaved
