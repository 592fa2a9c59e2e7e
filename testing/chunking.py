"""How a body is cut into the pieces a client receives: the chunkings of the test kit.

A real network delivers a body in pieces that no side chooses; a decoder must give the same
result however the body is cut. ``split_body(body, chunking)`` cuts it on purpose:

- ``"natural"``: as it was produced (the token streamer's own sends, or the pieces a recording
  saw arrive); the whole body when there is no such record;
- ``"whole"``: one piece;
- ``"bytewise"``: one byte per piece;
- ``"characters"``: inside every multi-byte UTF-8 character, after each of its bytes but the last;
- ``"frames"``: on both sides of every line feed and carriage return (so ``\\r\\n`` and ``\\n\\n``
  are split too), between JSON values sent back to back (``}{``, ``][``), and in the middle of
  every piece those cuts leave;
- ``RandomCuts(seed)``: cuts at random places, the same ones for the same seed and body;
- a sequence of ints: the sizes of the pieces, cycled (``(1, 3)``: 1, 3, 1, 3, ...);
- a function of the body returning its pieces (they must join to the body).

Pieces are never empty; an empty body has no pieces.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, cast

__all__ = ["NAMED_CHUNKINGS", "Chunking", "RandomCuts", "hostile_chunkings", "split_body"]

ChunkingName: TypeAlias = Literal["natural", "whole", "bytewise", "characters", "frames"]
NAMED_CHUNKINGS: tuple[ChunkingName, ...] = ("natural", "whole", "bytewise", "characters", "frames")


@dataclass(frozen=True)
class RandomCuts:
    """Cut a body at random places: between 0 and ``max_cuts`` cuts (never more than the body has
    places), chosen by ``random.Random(seed)``, so the same seed cuts the same body the same way."""

    seed: int
    max_cuts: int = 64

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"RandomCuts.seed must be an int, got {self.seed!r}")
        if isinstance(self.max_cuts, bool) or not isinstance(self.max_cuts, int):
            raise TypeError(f"RandomCuts.max_cuts must be an int, got {self.max_cuts!r}")
        if self.max_cuts < 1:
            raise ValueError(f"RandomCuts.max_cuts must be at least 1, got {self.max_cuts}")

    def cuts(self, size: int) -> list[int]:
        """The cut positions (sorted, each in 1..size-1) for a body of ``size`` bytes."""
        places = size - 1
        if places < 1:
            return []
        rng = random.Random(self.seed)
        count = rng.randint(0, min(self.max_cuts, places))
        return sorted(rng.sample(range(1, size), count))


Chunking: TypeAlias = ChunkingName | RandomCuts | Sequence[int] | Callable[[bytes], Iterable[bytes]]
"""A way of cutting a body: a name, ``RandomCuts``, piece sizes or a function (see above)."""


def _at(body: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``body`` cut at the given positions (out-of-range and repeated ones are ignored)."""
    edges = sorted({cut for cut in cuts if 0 < cut < len(body)})
    pieces, start = [], 0
    for edge in edges:
        pieces.append(body[start:edge])
        start = edge
    if start < len(body):
        pieces.append(body[start:])
    return pieces


def _inside_characters(body: bytes) -> Iterator[int]:
    """Positions inside multi-byte UTF-8 sequences (after a lead byte or a continuation byte
    that another continuation byte follows)."""
    for index in range(1, len(body)):
        if body[index] & 0xC0 == 0x80:  # a continuation byte: the cut before it splits a character
            yield index


_BREAKS = frozenset(b"\r\n")
_BACK_TO_BACK = (b"}{", b"][", b'""', b"}[", b"]{")


def _frame_cuts(body: bytes) -> list[int]:
    cuts: set[int] = set()
    for index, byte in enumerate(body):
        if byte in _BREAKS:
            cuts.update((index, index + 1))
    for pair in _BACK_TO_BACK:
        start = body.find(pair)
        while start != -1:
            cuts.add(start + 1)
            start = body.find(pair, start + 1)
    edges = sorted(cut for cut in cuts if 0 < cut < len(body))
    middles = []
    for left, right in zip([0, *edges], [*edges, len(body)], strict=True):
        if right - left > 1:
            middles.append((left + right) // 2)
    return [*edges, *middles]


def _sized(body: bytes, sizes: Sequence[int]) -> list[bytes]:
    if not sizes:
        raise ValueError("a chunking of piece sizes needs at least one size")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"piece sizes must be ints >= 1, got {size!r}")
    pieces, start, turn = [], 0, 0
    while start < len(body):
        size = sizes[turn % len(sizes)]
        pieces.append(body[start : start + size])
        start += size
        turn += 1
    return pieces


def split_body(
    body: bytes, chunking: Chunking, natural: Sequence[int] | None = None
) -> list[bytes]:
    """``body`` cut into non-empty pieces by ``chunking`` (see the module docstring).

    ``natural``: the sizes of the pieces the body was produced or received in, for
    ``"natural"`` (the whole body without them). Raises ``ValueError`` for an unknown chunking
    or a function whose pieces do not join to the body.
    """
    if isinstance(chunking, str):
        if chunking == "natural":
            return _sized(body, natural) if natural else _at(body, ())
        if chunking == "whole":
            return _at(body, ())
        if chunking == "bytewise":
            return [body[i : i + 1] for i in range(len(body))]
        if chunking == "characters":
            return _at(body, _inside_characters(body))
        if chunking == "frames":
            return _at(body, _frame_cuts(body))
        raise ValueError(f"unknown chunking {chunking!r}; the names are {NAMED_CHUNKINGS}")
    if isinstance(chunking, RandomCuts):
        return _at(body, chunking.cuts(len(body)))
    if callable(chunking):
        pieces = [bytes(piece) for piece in chunking(body)]
        if b"".join(pieces) != body:
            raise ValueError("the chunking function's pieces do not join to the body")
        return [piece for piece in pieces if piece]
    if isinstance(chunking, Sequence):
        return _sized(body, cast(Sequence[int], chunking))
    raise ValueError(f"not a chunking: {chunking!r}")


def check_chunking(chunking: object) -> None:
    """Raise ``ValueError`` now for a chunking ``split_body`` would refuse later."""
    if isinstance(chunking, str) and chunking not in NAMED_CHUNKINGS:
        raise ValueError(f"unknown chunking {chunking!r}; the names are {NAMED_CHUNKINGS}")
    if not isinstance(chunking, (str, RandomCuts)) and not callable(chunking):
        if not isinstance(chunking, Sequence):
            raise ValueError(f"not a chunking: {chunking!r}")
        _sized(b"", chunking)


def hostile_chunkings(
    size: int, count: int, seed: int = 0, bytewise_limit: int = 16384
) -> list[tuple[str, Chunking]]:
    """The chunkings a replay tries, by label: ``natural``, ``whole``, ``bytewise`` (for bodies
    up to ``bytewise_limit`` bytes), ``characters``, ``frames``, then ``count`` ``RandomCuts``
    with seeds ``seed``, ``seed + 1``, ..."""
    named: list[tuple[str, Chunking]] = [("natural", "natural"), ("whole", "whole")]
    if size <= bytewise_limit:
        named.append(("bytewise", "bytewise"))
    named += [("characters", "characters"), ("frames", "frames")]
    randoms: list[tuple[str, Chunking]] = [
        (f"RandomCuts(seed={seed + i})", RandomCuts(seed + i)) for i in range(count)
    ]
    return named + randoms
