"""Baseline stream parsers the generated code is measured against.

Two kinds, one of each per format, all written as ``process_streaming_response``-style async
generators over ``response.content.iter_any()`` so they pay the same per-chunk async overhead:

* FLOOR: the least work any correct parser must do on the same chunks and yield what the
  contract says (text deltas or decoded tokens). Incremental UTF-8 decoding for text; split on the
  frame delimiter plus one JSON parse per frame for JSON payloads (the C scanner behind
  ``json.loads`` called directly, with the end-of-value check, i.e. ``json.loads`` minus its
  Python wrapper); the rules applied with plain indexing. Floors skip what only a production
  parser needs (limits, type checks of token values, "\\r\\n" SSE line ends, error events),
  which makes them a lower bound, not a competitor.
* HAND-WRITTEN: the style found in subnets (field notes): each network chunk decoded on its own
  with ``chunk.decode("utf-8")`` then split, fields mutated in place on the synapse. They are not
  correct on realistic chunks; ``errors`` lets the benchmark time them with ``errors="ignore"``
  once the strict version has been shown to raise.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

# The C scanner behind json.loads: (text, index) -> (value, end index).
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _parse_frame(frame: bytes) -> Any:
    """One frame holding exactly one JSON value (what json.loads accepts, minus whitespace)."""
    text = frame.decode("utf-8")
    value, end = _scan_once(text, 0)
    if end != len(text):
        raise ValueError("extra data after a JSON value")
    return value


Floor = Callable[[Any, dict[str, Any]], AsyncIterator[Any]]
HandWritten = Callable[[Any, Any, str], AsyncIterator[Any]]


# ---------------------------------------------------------------- floors


async def floor_text(response: Any, out: dict[str, Any]) -> AsyncIterator[str]:
    """Raw UTF-8 text: incremental decode, concatenate."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parts: list[str] = []
    async for chunk in response.content.iter_any():
        text = decoder.decode(chunk)
        if text:
            parts.append(text)
            yield text
    decoder.decode(b"", final=True)  # a stream cut inside a character raises
    out["completion"] = "".join(parts)


async def floor_lines(
    response: Any, out: dict[str, Any], events: bool = False
) -> AsyncIterator[str]:
    """Newline-framed text: split on b"\\n" keeping the unfinished tail, decode each frame.

    With ``events``, JSON Lines events instead (``floor_ndjson``): parse each line, dispatch on
    type. The split is the same; the branch is taken once per chunk, not per frame.
    """
    tail = b""
    parts: list[str] = []
    async for chunk in response.content.iter_any():
        if b"\n" not in chunk:
            tail += chunk
            continue
        frames = (tail + chunk).split(b"\n")
        tail = frames.pop()
        if not events:
            for frame in frames:
                if frame:
                    text = frame.decode("utf-8")
                    parts.append(text)
                    yield text
            continue
        for frame in frames:
            if not frame:
                continue
            event = _parse_frame(frame)
            kind = event["type"]
            if kind == "text":
                parts.append(event["text"])
                yield event["text"]
            elif kind == "meta":
                out["sources"] = event["sources"]
                out["latency_ms"] = event["latency_ms"]
    if tail:
        raise ValueError("stream ended inside a line")
    out["completion"] = "".join(parts)


def floor_ndjson(response: Any, out: dict[str, Any]) -> AsyncIterator[str]:
    """JSON Lines events: ``floor_lines`` parsing each line and dispatching on its type."""
    return floor_lines(response, out, events=True)


async def floor_sse(response: Any, out: dict[str, Any]) -> AsyncIterator[str]:
    """OpenAI chunks over SSE: split events on the blank line, parse the data, apply rules."""
    tail = b""
    parts: list[str] = []
    done = False
    async for chunk in response.content.iter_any():
        if b"\n\n" not in chunk and not (tail.endswith(b"\n") and chunk.startswith(b"\n")):
            tail += chunk
            continue
        events = (tail + chunk).split(b"\n\n")
        tail = events.pop()
        for event in events:
            data = event[6:] if event.startswith(b"data: ") else event[5:]
            if data == b"[DONE]":
                done = True
                continue
            value = _parse_frame(data)
            choice = value["choices"][0]
            content = choice["delta"].get("content")
            if content is not None:
                parts.append(content)
                yield content
            if choice.get("finish_reason") is not None:
                out["finish_reason"] = choice["finish_reason"]
            if value.get("usage") is not None:
                out["usage"] = value["usage"]
    if tail or not done:
        raise ValueError("stream ended before [DONE]")
    out["completion"] = "".join(parts)


_WHITESPACE = " \t\n\r"


async def floor_json_seq(response: Any, out: dict[str, Any]) -> AsyncIterator[Any]:
    """Back-to-back JSON: incremental decode, then parse values until the buffer runs dry.

    A value cut by the chunk boundary fails to parse and is retried when more bytes arrive.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = ""
    summary: list[str] = []
    results: list[Any] = []
    snippets: list[str] = []
    links: dict[str, Any] = {}
    status = None
    async for chunk in response.content.iter_any():
        buffer += decoder.decode(chunk)
        pos = 0
        end = len(buffer)
        while pos < end:
            if buffer[pos] in _WHITESPACE:
                pos += 1
                continue
            try:
                event, pos_after = _scan_once(buffer, pos)
            except (json.JSONDecodeError, StopIteration):
                break  # incomplete: wait for more bytes
            pos = pos_after
            kind = event["type"]
            if kind == "summary":
                summary.append(event["content"])
            elif kind == "result":
                results.append(event["content"])
            elif kind == "snippets":
                snippets.extend(event["content"])
            elif kind == "link":
                links[event["content"]["url"]] = event["content"]
            elif kind == "status":
                status = event["content"]
            yield event
        buffer = buffer[pos:]
    decoder.decode(b"", final=True)
    if buffer.strip():
        raise ValueError("stream ended inside a JSON value")
    out.update(
        summary="".join(summary), results=results, snippets=snippets, links=links, status=status
    )


FLOORS: dict[str, Floor] = {
    "text": floor_text,
    "lines": floor_lines,
    "sse": floor_sse,
    "ndjson": floor_ndjson,
    "json-seq": floor_json_seq,
}


# ---------------------------------------------------------------- hand-written (subnet style)


def handwritten_text(self: Any, response: Any, errors: str = "strict") -> AsyncIterator[Any]:
    """The subnet template's streaming tutorial, verbatim apart from logging: after setting a
    missing ``completion`` to "", the loop of ``handwritten_lines`` (the same code).

    Wrong twice: a character split across chunks raises (or vanishes with errors="ignore"), and
    splitting on "\\n" deletes the newlines of the text.
    """
    if self.completion is None:
        self.completion = ""
    return handwritten_lines(self, response, errors)


async def handwritten_lines(self: Any, response: Any, errors: str = "strict") -> AsyncIterator[Any]:
    """Early SN1 / Targon (and the tutorial's loop): per-chunk decode and split, for line-framed
    tokens."""
    async for chunk in response.content.iter_any():
        tokens = chunk.decode("utf-8", errors).split("\n")
        for token in tokens:
            if token:
                self.completion += token
        yield tokens


async def handwritten_sse(self: Any, response: Any, errors: str = "strict") -> AsyncIterator[Any]:
    """cortex.t / Vision style: per-chunk decode, split lines, json.loads each ``data:`` line.

    An event cut by a chunk boundary fails to parse and is skipped, so tokens go missing.
    """
    async for chunk in response.content.iter_any():
        for line in chunk.decode("utf-8", errors).split("\n"):
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            try:
                value = json.loads(data)
            except json.JSONDecodeError:
                continue
            choice = value["choices"][0]
            content = choice["delta"].get("content")
            if content:
                self.completion += content
                yield content
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            if value.get("usage"):
                self.usage = value["usage"]


async def handwritten_ndjson(
    self: Any, response: Any, errors: str = "strict"
) -> AsyncIterator[Any]:
    """Per-chunk decode, split lines, json.loads each; a line cut by a boundary is lost."""
    async for chunk in response.content.iter_any():
        for line in chunk.decode("utf-8", errors).split("\n"):
            if not line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(event, dict):  # a cut line can parse as a bare string or number
                continue
            if event.get("type") == "text":
                self.completion += event["text"]
                yield event["text"]
            elif event.get("type") == "meta":
                self.sources = event["sources"]
                self.latency_ms = event["latency_ms"]


async def handwritten_json_seq(
    self: Any, response: Any, errors: str = "strict"
) -> AsyncIterator[Any]:
    """Desearch style: per-chunk decode, parse the values found in that chunk, mutate in place.

    A value cut by a chunk boundary is dropped.
    """
    raw_decode = json.JSONDecoder().raw_decode
    async for chunk in response.content.iter_any():
        text = chunk.decode("utf-8", errors)
        pos = 0
        while pos < len(text):
            try:
                event, pos = raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            kind = event.get("type") if isinstance(event, dict) else None
            if kind == "summary":
                self.summary += event["content"]
            elif kind == "result":
                self.results.append(event["content"])
            elif kind == "snippets":
                self.snippets.extend(event["content"])
            elif kind == "link":
                self.links[event["content"]["url"]] = event["content"]
            elif kind == "status":
                self.status = event["content"]
            yield event


HANDWRITTEN: dict[str, HandWritten] = {
    "text": handwritten_text,
    "lines": handwritten_lines,
    "sse": handwritten_sse,
    "ndjson": handwritten_ndjson,
    "json-seq": handwritten_json_seq,
}
