"""Recorded streams, one per token format, cut into realistic network chunks.

The streams are synthesised deterministically (a fixed seed) with the exact bytes each subnet
style puts on the wire, so every implementation sees the same chunks and the expected result is
known. Text mixes ASCII with 2-, 3- and 4-byte UTF-8 characters, so chunk boundaries fall inside
characters. ``FakeResponse`` stands in for an aiohttp ``ClientResponse``: status 200, the headers a
bittensor axon sends, and ``.content.iter_any()`` yielding the pre-split chunks.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy

# Word pieces the way a BPE tokenizer emits them: mostly ASCII with a leading space, some
# punctuation and newlines, and multi-byte characters (Latin-1 range, Greek, CJK, emoji).
_VOCAB = (
    " the",
    " of",
    " and",
    " to",
    " a",
    " in",
    " is",
    " that",
    " for",
    " it",
    " as",
    " with",
    " stream",
    " token",
    " miner",
    " validator",
    " subnet",
    " synapse",
    " response",
    "ing",
    "ed",
    "s",
    ",",
    ".",
    ":",
    " (",
    ")",
    "\n",
    "\n\n",
    " café",
    " naïve",
    " déjà",
    " vu",
    " Ελλη",
    "νικά",
    " 日本",
    "語",
    " 中文",
    "字",
    " 🚀",
    "🙂",
    " ünïcödé",
    " ß",
    " →",
    " €5",
    ' "quoted"',
    " back\\slash",
    "\t",
    " 42",
    " 3.14",
)


def make_tokens(count: int, seed: int = 1) -> list[str]:
    """``count`` text tokens drawn from a realistic vocabulary."""
    rng = random.Random(seed)
    return [rng.choice(_VOCAB) for _ in range(count)]


@dataclass
class Recording:
    """One format's stream: its bytes, its token count, and what a correct parser must produce."""

    format: str
    schema: str  # schema file stem under schemas/
    synapse: str  # class name in the generated module
    request: dict[str, Any]
    data: bytes
    tokens: int
    expected: dict[str, Any]
    chunks: list[bytes] = field(default_factory=list)


def _openai_chunk(content: str | None, finish: str | None = None, usage: Any = None) -> bytes:
    delta = {} if content is None else {"content": content}
    value: dict[str, Any] = {
        "id": "chatcmpl-9xKq2bench",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        value["usage"] = usage
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return b"data: " + text.encode() + b"\n\n"


def record(fmt: str, token_count: int, seed: int = 1) -> Recording:
    """Build the recorded stream of ``token_count`` tokens for one format."""
    tokens = make_tokens(token_count, seed)
    if fmt == "text":
        data = "".join(tokens).encode()
        return Recording(
            fmt,
            "chat",
            "ChatCompletion",
            {"messages": [{"role": "user", "content": "Tell me a story."}]},
            data,
            len(tokens),
            {"completion": "".join(tokens)},
        )
    if fmt == "lines":
        # A line-framed token cannot carry the delimiter.
        tokens = [t.replace("\n", " ") for t in tokens]
        data = b"".join(t.encode() + b"\n" for t in tokens)
        return Recording(
            fmt,
            "lines",
            "LineCompletion",
            {"prompt": "Once upon a time"},
            data,
            len(tokens),
            {"completion": "".join(tokens)},
        )
    if fmt == "sse":
        usage = {
            "prompt_tokens": 12,
            "completion_tokens": len(tokens),
            "total_tokens": 12 + len(tokens),
        }
        parts = [_openai_chunk(t) for t in tokens]
        parts.append(_openai_chunk(None, "stop", usage))
        parts.append(b"data: [DONE]\n\n")
        return Recording(
            fmt,
            "openai",
            "OpenAIChat",
            {"messages": [{"role": "user", "content": "Tell me a story."}]},
            b"".join(parts),
            len(tokens),
            {"completion": "".join(tokens), "finish_reason": "stop", "usage": usage},
        )
    if fmt == "ndjson":
        sources = [f"node-{i}" for i in range(8)]
        parts = [
            json.dumps(
                {"type": "text", "text": t}, separators=(",", ":"), ensure_ascii=False
            ).encode()
            + b"\n"
            for t in tokens
        ]
        meta = {"type": "meta", "sources": sources, "latency_ms": 812.5}
        parts.append(json.dumps(meta, separators=(",", ":")).encode() + b"\n")
        return Recording(
            fmt,
            "hermes",
            "HermesQuery",
            {"query": "Who wrote it?"},
            b"".join(parts),
            len(tokens),
            {"completion": "".join(tokens), "sources": sources, "latency_ms": 812.5},
        )
    if fmt == "json-seq":
        return _record_json_seq(tokens)
    raise ValueError(f"unknown format {fmt!r}")


def _record_json_seq(tokens: list[str]) -> Recording:
    """Desearch style: summary text events, with results, snippets, links and status mixed in."""
    events: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    snippets: list[str] = []
    links: dict[str, dict[str, Any]] = {}
    status = None
    for i, token in enumerate(tokens):
        events.append({"type": "summary", "content": token})
        if i % 50 == 25:
            result = {"title": f"Result {i}", "url": f"https://example.org/{i}", "score": 0.5}
            results.append(result)
            events.append({"type": "result", "content": result})
            url = f"https://example.org/{i}"
            links[url] = {"url": url, "title": f"Link {i}"}
            events.append({"type": "link", "content": links[url]})
        if i % 100 == 50:
            batch = [f"snippet {i}.{k}" for k in range(3)]
            snippets.extend(batch)
            events.append({"type": "snippets", "content": batch})
            status = f"searched {i} pages"
            events.append({"type": "status", "content": status})
    events.append({"type": "done"})
    data = b"".join(
        json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() for e in events
    )
    return Recording(
        "json-seq",
        "search",
        "SearchSynapse",
        {"query": "bittensor streaming"},
        data,
        len(tokens),
        {
            "summary": "".join(tokens),
            "results": results,
            "snippets": snippets,
            "links": links,
            "status": status,
        },
    )


FORMATS = ("text", "lines", "sse", "ndjson", "json-seq")


def split_chunks(data: bytes, seed: int = 7, low: int = 1, high: int = 4096) -> list[bytes]:
    """Cut ``data`` into chunks whose sizes are log-uniform between ``low`` and ``high`` bytes.

    That mixes the tiny reads a client sees while keeping up with a token-per-send server with
    the multi-kilobyte reads it sees when it falls behind; many boundaries land inside frames and
    inside multi-byte UTF-8 characters.
    """
    rng = random.Random(seed)
    log_low, log_high = math.log(low), math.log(high + 1)
    chunks = []
    pos = 0
    while pos < len(data):
        size = int(math.exp(rng.uniform(log_low, log_high)))
        chunks.append(data[pos : pos + max(1, size)])
        pos += max(1, size)
    return chunks


def splits_inside_characters(chunks: Iterable[bytes]) -> int:
    """How many chunk boundaries fall inside a multi-byte UTF-8 character."""
    return sum(1 for c in chunks if c and (c[0] & 0xC0) == 0x80)


# Headers a bittensor 10 axon sends on a streaming response (wire protocol §9.7).
_AXON_HEADERS = (
    ("content-type", "text/event-stream"),
    ("name", "ChatCompletion"),
    ("timeout", "12.0"),
    ("bt_header_axon_status_code", "200"),
    ("bt_header_axon_status_message", "Success"),
    ("bt_header_axon_process_time", "0.00014901161193847656"),
    ("bt_header_axon_ip", "127.0.0.1"),
    ("bt_header_axon_port", "8091"),
    ("bt_header_dendrite_ip", "127.0.0.1"),
    ("bt_header_dendrite_version", "10005000"),
    ("bt_header_dendrite_nonce", "1795476471630113637"),
    ("header_size", "464"),
    ("total_size", "3713"),
)


class FakeContent:
    """Stands in for ``aiohttp.StreamReader``: yields pre-split chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    async def iter_any(self) -> AsyncIterator[bytes]:
        """Yield each chunk as it 'arrived'."""
        for chunk in self._chunks:
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_any()

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Yield chunks re-cut to at most ``n`` bytes."""
        for chunk in self._chunks:
            for i in range(0, len(chunk), n):
                yield chunk[i : i + n]

    async def readany(self) -> bytes:
        """Not used by streaming parsers; present so a misuse fails loudly."""
        raise NotImplementedError("FakeContent supports iteration only")

    async def read(self, n: int = -1) -> bytes:
        """The whole remaining body (for error paths)."""
        return b"".join(self._chunks)


class FakeResponse:
    """Stands in for ``aiohttp.ClientResponse`` of a successful streaming call."""

    def __init__(self, chunks: Iterable[bytes], status: int = 200) -> None:
        self.status = status
        self.reason = "OK" if status == 200 else "Error"
        self.headers = CIMultiDictProxy(CIMultiDict(_AXON_HEADERS))
        self.content = FakeContent(chunks)
        self.closed = False

    async def read(self) -> bytes:
        """The whole body."""
        return await self.content.read()

    async def text(self, encoding: str = "utf-8") -> str:
        """The whole body as text."""
        return (await self.read()).decode(encoding)

    async def json(self, **_: Any) -> Any:
        """The whole body as JSON."""
        return json.loads(await self.read())

    def release(self) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Nothing to close."""
        self.closed = True


def repeated_chunks(total_bytes: int, block: bytes, sizes: Iterable[int]) -> Iterator[bytes]:
    """Chunks of a long stream made by repeating ``block``, without materialising the stream.

    The chunk objects are slices of one buffer reused round-robin, so the input itself costs a
    constant amount of memory however long the stream is.
    """
    size_cycle = list(sizes)
    pool = block * (max(size_cycle) // len(block) + 2)
    sent = 0
    offset = 0
    i = 0
    while sent < total_bytes:
        size = min(size_cycle[i % len(size_cycle)], total_bytes - sent)
        start = offset % len(block)
        yield pool[start : start + size]
        offset += size
        sent += size
        i += 1
