"""Stream codecs: incremental decoders for the token framings subnets use, and their encoders.

CONTRACT (generated code calls exactly this API; keep it stable):

Every decoder is incremental and push-based:

    decoder = LineDecoder(max_frame_bytes=65536, max_total_bytes=None)
    for chunk in network_chunks:          # bytes, split anywhere
        for frame in decoder.feed(chunk):  # frames completed by this chunk
            ...
    for frame in decoder.close():          # end of stream: flush, or raise TruncatedStream
        ...

- ``feed(chunk: bytes) -> list[T]`` never blocks and never buffers more than its limits allow;
  any split of the same byte stream yields the same frames in the same order.
- ``close() -> list[T]`` is called once at end of body. A stream that ends inside a frame (or inside
  a multi-byte UTF-8 character) raises ``TruncatedStream``; nothing is silently dropped. Only
  ``JSONSeqDecoder.close()`` can return a value (a top-level number at the very end); the other
  decoders' ``close()`` always returns ``[]`` (generated code relies on it).
- Limits (keyword-only): ``max_frame_bytes`` bounds the bytes buffered for one incomplete frame
  (``FrameTooLarge`` is raised as soon as the buffer would exceed it, without buffering the excess;
  a complete frame longer than the limit raises too, however the stream was split). None means
  unbounded; the default is ``DEFAULT_MAX_FRAME_BYTES`` (1 MiB). ``max_total_bytes`` (None =
  unbounded) bounds the whole body (``StreamTooLarge``).
- Invalid UTF-8, invalid JSON, or a framing violation raises ``MalformedFrame``. ``feed`` first
  returns the frames before the bad one (the next ``feed``/``close`` raises), so the frames a
  consumer gets before an error do not depend on the split either.
- All errors derive from ``StreamError`` and carry the byte offset in the stream where it happened.
- A decoder that raised is spent: later ``feed``/``close`` calls raise the same error again (and
  ``RuntimeError`` after ``close()``). ``buffered_bytes`` tells how many bytes it holds right now.

Decoders (T is what ``feed``/``close`` return items of):
- ``TextDecoder``: raw UTF-8 text, no framing; T = str (the text decoded so far from this chunk;
  empty strings are not returned). Only ``max_total_bytes`` applies (``max_frame_bytes`` is
  accepted for a uniform constructor and ignored: at most 3 bytes are ever buffered).
- ``LineDecoder(delimiter=b"\\n")``: delimiter-terminated frames; T = bytes (frame without the
  delimiter; a trailing b"\\r" is stripped when the delimiter is b"\\n"). Empty frames are skipped.
  A delimiter of several bytes splits at its leftmost non-overlapping occurrences.
  ``close()`` raises TruncatedStream if unterminated bytes remain.
- ``SSEDecoder(sentinel="[DONE]" | None)``: Server-Sent Events; T = str, the event's data
  (``data:`` lines joined by "\\n"), emitted at the blank line that ends the event. Comments and
  other fields are ignored, and so is a UTF-8 BOM at the stream start; "\\r\\n", "\\r" and "\\n"
  line ends are all accepted (sizes and offsets count each line end as one byte). An event
  without any ``data`` line is not returned. An event whose data equals the sentinel is not
  returned; it sets ``decoder.done = True``. Any event after the sentinel raises MalformedFrame.
  ``close()`` raises TruncatedStream if an event was started but not ended (complete comment
  lines do not start an event); it does not require the sentinel: check ``done``.
- ``JSONSeqDecoder``: JSON values back to back, optionally separated by whitespace; T = Any (the
  parsed value, as ``json.loads`` gives). Whitespace alone never stalls it. Boundaries are found by
  a scanner that visits each byte once, so a value split over many chunks costs linear time.
  A top-level number is ambiguous at the end of a chunk ("12" may continue as "123"): it is
  returned once a byte that cannot continue it arrives, or by ``close()``. ``encode_json_value``
  therefore puts a space after a top-level number.

Payload helpers for framed decoders (their offsets count from the start of the frame):
- ``decode_text_frame(frame: bytes) -> str``  (strict UTF-8; MalformedFrame on error)
- ``decode_json_frame(frame: bytes | str) -> Any``  (json.loads; bytes must be UTF-8; MalformedFrame
  on error)

Encoders (server side), each returns the exact bytes of one frame:
- ``encode_text(text: str) -> bytes``
- ``encode_line(payload: str | bytes, delimiter: bytes = b"\\n") -> bytes`` (ValueError if the
  payload contains the delimiter, or would not decode back: a payload ending in b"\\r" with the
  b"\\n" delimiter; an empty payload encodes, but decoders skip empty frames)
- ``encode_json_line(value: Any) -> bytes``  (compact JSON + b"\\n"; JSON never holds a raw newline)
- ``encode_json_value(value: Any) -> bytes`` (compact JSON, for back-to-back framing; a top-level
  number gets a trailing space so that two numbers never merge)
- ``encode_sse(data: str) -> bytes``  (one event: each line of data as ``data: ...``, then a blank
  line; multi-line data round-trips; ValueError if data contains "\\r", which SSE cannot carry)
- ``encode_sse_json(value: Any) -> bytes``  (encode_sse of compact JSON)

JSON is written compact and UTF-8 (``ensure_ascii=False``), NaN and infinities as Python's json
module writes them (and reads them back).
"""

from __future__ import annotations

import json
import re
from codecs import utf_8_decode
from collections.abc import Callable
from typing import Any, Final, NoReturn, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import FrameTooLarge, MalformedFrame, StreamError, StreamTooLarge, TruncatedStream

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "DEFAULT_MAX_FRAME_BYTES",
    "FrameTooLarge",
    "JSONSeqDecoder",
    "LineDecoder",
    "MalformedFrame",
    "SSEDecoder",
    "StreamError",
    "StreamTooLarge",
    "TextDecoder",
    "TruncatedStream",
    "as_model",
    "decode_json_frame",
    "decode_text_frame",
    "encode_json_line",
    "encode_json_value",
    "encode_line",
    "encode_sse",
    "encode_sse_json",
    "encode_text",
]

DEFAULT_MAX_FRAME_BYTES: Final = 1 << 20
_UNBOUNDED: Final = 1 << 62  # "no limit" as an int, so that the hot path makes a single comparison
# Membership tests on bytes use int needles (13 in chunk): a bytes needle first fails an int
# conversion inside bytes.__contains__, which costs about 100 ns per test.


# ------------------------------------------------------------------------------ shared machinery


def _check_limit(name: str, value: int | None) -> int:
    if value is None:
        return _UNBOUNDED
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int or None, not {value!r}")
    return value


class _Decoder:
    """Byte accounting, the total-size limit and the spent state shared by every decoder."""

    __slots__ = ("_consumed", "_limit", "_max_total", "_failure")

    def __init__(self, max_total_bytes: int | None) -> None:
        self._max_total = _check_limit("max_total_bytes", max_total_bytes)
        # feed() compares the running total with _limit only; a spent decoder sets it to -1 so
        # that the same comparison also rejects every later call.
        self._limit = self._max_total
        self._consumed = 0
        self._failure: BaseException | None = None

    def _refuse(self) -> NoReturn:
        """Called by feed() when the running total passed ``_limit``."""
        if self._failure is not None:
            raise self._failure
        self._fail(
            StreamTooLarge(f"stream exceeds max_total_bytes={self._max_total}", self._max_total)
        )

    def _fail(self, error: StreamError) -> NoReturn:
        self._failure = error
        self._limit = -1
        raise error

    def _fail_after(self, error: StreamError, delivered: list[Any]) -> None:
        """Fail once the frames ``delivered`` (those before the bad one in this feed) are
        returned: the next feed() or close() raises ``error``. Raising now would drop them, and a
        consumer would then see them or not depending on where the network cut the stream."""
        if not delivered:
            self._fail(error)
        self._failure = error
        self._limit = -1

    def _check_open(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _closed(self) -> None:
        self._failure = RuntimeError(f"{type(self).__name__} is closed")
        self._limit = -1


# ---------------------------------------------------------------------------------------- text


class TextDecoder(_Decoder):
    """Raw UTF-8 text: each chunk gives the text it completes (a split character waits)."""

    __slots__ = ("_pending",)

    def __init__(
        self, *, max_frame_bytes: int | None = None, max_total_bytes: int | None = None
    ) -> None:
        super().__init__(max_total_bytes)
        _check_limit("max_frame_bytes", max_frame_bytes)  # accepted for uniformity, not used
        self._pending = b""  # the start of a character split by the chunk boundary (<= 3 bytes)

    @property
    def buffered_bytes(self) -> int:
        """Bytes held back (the start of a split UTF-8 character)."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> list[str]:
        """Decode ``chunk``; return ``[text]``, or ``[]`` if it completes no character."""
        consumed = self._consumed + len(chunk)
        if consumed > self._limit:
            self._refuse()
        pending = self._pending
        if pending:
            chunk = pending + chunk
        try:
            text, used = utf_8_decode(chunk, "strict", False)
        except UnicodeDecodeError as exc:
            offset = self._consumed - len(pending) + exc.start
            self._fail(MalformedFrame(f"invalid UTF-8: {exc.reason}", offset))
        self._consumed = consumed
        self._pending = chunk[used:] if used != len(chunk) else b""
        return [text] if text else []

    def close(self) -> list[str]:
        """End of stream: TruncatedStream if it ends inside a character."""
        self._check_open()
        if self._pending:
            offset = self._consumed - len(self._pending)
            self._fail(TruncatedStream("stream ends inside a UTF-8 character", offset))
        self._closed()
        return []


# --------------------------------------------------------------------------------------- lines


def _without_empty(frames: list[bytes]) -> list[bytes]:
    """``frames`` without the empty ones (the list itself when there are none)."""
    return [f for f in frames if f] if b"" in frames else frames


class LineDecoder(_Decoder):
    """Delimiter-terminated frames (JSON Lines, newline-separated text, ...)."""

    __slots__ = ("_delimiter", "_strip_cr", "_max_frame", "_max_tail", "_pieces", "_buffered")

    def __init__(
        self,
        delimiter: bytes = b"\n",
        *,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
        max_total_bytes: int | None = None,
    ) -> None:
        super().__init__(max_total_bytes)
        if not isinstance(delimiter, bytes) or not delimiter:
            raise ValueError(f"delimiter must be non-empty bytes, not {delimiter!r}")
        self._delimiter = delimiter
        self._strip_cr = delimiter == b"\n"
        self._max_frame = _check_limit("max_frame_bytes", max_frame_bytes)
        # The unterminated tail may hold the first bytes of a multi-byte delimiter as well.
        self._max_tail = self._max_frame + len(delimiter) - 1
        # The unterminated frame, as the non-empty pieces that brought it: joined once, when its
        # delimiter arrives (a long frame is never copied per chunk).
        self._pieces: list[bytes] = []
        self._buffered = 0  # their total length

    @property
    def buffered_bytes(self) -> int:
        """Bytes of the unterminated frame held so far."""
        return self._buffered

    def feed(self, chunk: bytes) -> list[bytes]:
        """Return the frames that ``chunk`` terminates (without delimiters, empty ones skipped)."""
        start = self._consumed
        consumed = start + len(chunk)
        if consumed > self._limit:
            self._refuse()
        self._consumed = consumed
        buffered = self._buffered
        max_frame = self._max_frame
        last = self._pieces[-1][-1:] if self._pieces else b""  # the byte before this chunk
        frames = self._split(chunk, start)
        if frames is None:
            return []
        tail = frames.pop()
        if len(tail) > self._max_tail:
            self._too_large(consumed - len(tail))
        self._pieces = [tail] if tail else []
        self._buffered = len(tail)
        if len(chunk) > max_frame and frames and max(map(len, frames)) > max_frame:
            self._too_large(self._frame_offset(frames, start - buffered))
        if self._strip_cr and (13 in chunk or last == b"\r"):
            frames = [f[:-1] if f[-1:] == b"\r" else f for f in frames]
        return _without_empty(frames)

    def _split(self, chunk: bytes, start: int) -> list[bytes] | None:
        """The frames of the unterminated frame + ``chunk``, the new unterminated tail last; None
        when ``chunk`` holds no delimiter and only extends the unterminated frame (kept)."""
        pieces = self._pieces
        delimiter = self._delimiter
        if not pieces:
            return chunk.split(delimiter)
        if len(delimiter) > 1:
            straddling = self._straddle(chunk)
            if straddling is not None:
                return straddling
        buffered = self._buffered
        frames = chunk.split(delimiter)
        head = frames[0]
        if len(frames) == 1:  # no delimiter: the frame goes on
            if buffered + len(head) > self._max_tail:
                self._too_large(start - buffered)
            if head:
                pieces.append(head)
                self._buffered = buffered + len(head)
            return None
        if buffered + len(head) > self._max_frame:
            self._too_large(start - buffered)
        pieces.append(head)
        frames[0] = b"".join(pieces)
        return frames

    def _straddle(self, chunk: bytes) -> list[bytes] | None:
        """Frames when a multi-byte delimiter starts in the buffer and ends in ``chunk``, else
        None."""
        reach = len(self._delimiter) - 1
        pieces = self._pieces
        kept = b"".join(pieces[-reach:])[-reach:]  # pieces are never empty
        at = (kept + chunk[:reach]).find(self._delimiter)
        if at < 0:
            return None
        first_size = self._buffered - len(kept) + at
        if first_size > self._max_frame:
            self._too_large(self._consumed - len(chunk) - self._buffered)
        first = b"".join(pieces)[:first_size]
        frames = chunk[at + len(self._delimiter) - len(kept) :].split(self._delimiter)
        frames.insert(0, first)
        return frames

    def _frame_offset(self, frames: list[bytes], first_offset: int) -> int:
        """Stream offset of the first frame longer than the limit (error path only)."""
        offset = first_offset
        for frame in frames:
            if len(frame) > self._max_frame:
                break
            offset += len(frame) + len(self._delimiter)
        return offset

    def _too_large(self, offset: int) -> NoReturn:
        self._fail(FrameTooLarge(f"frame exceeds max_frame_bytes={self._max_frame}", offset))

    def close(self) -> list[bytes]:
        """End of stream: TruncatedStream if an unterminated frame remains."""
        self._check_open()
        if self._buffered:
            self._fail(
                TruncatedStream(
                    f"stream ends inside a frame (no final {self._delimiter!r})",
                    self._consumed - self._buffered,
                )
            )
        self._closed()
        return []


# ----------------------------------------------------------------------------------------- SSE


_UTF8_BOM: Final = b"\xef\xbb\xbf"


def _sse_event_data(block: bytes) -> bytes | None:
    """The data of one event block (lines without their ends), or None if it has no data line."""
    data: list[bytes] | None = None
    for line in block.split(b"\n"):
        if not line or line[0] == 58:  # blank, or a ":" comment
            continue
        name, _, value = line.partition(b":")
        if name == b"data":
            if value[:1] == b" ":
                value = value[1:]
            if data is None:
                data = [value]
            else:
                data.append(value)
    return None if data is None else b"\n".join(data)


class SSEDecoder(_Decoder):
    """Server-Sent Events: the data of each event, optionally ended by a sentinel event."""

    __slots__ = (
        "_sentinel", "_sentinel_text", "_max_frame", "_max_tail", "_pieces", "_buffered",
        "_removed", "_cr", "_at_start", "done",
    )  # fmt: skip

    def __init__(
        self,
        sentinel: str | None = "[DONE]",
        *,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
        max_total_bytes: int | None = None,
    ) -> None:
        super().__init__(max_total_bytes)
        if sentinel is not None and not isinstance(sentinel, str):
            raise ValueError(f"sentinel must be a str or None, not {sentinel!r}")
        self._sentinel = None if sentinel is None else sentinel.encode()
        self._sentinel_text = sentinel
        self._max_frame = _check_limit("max_frame_bytes", max_frame_bytes)
        self._max_tail = self._max_frame + 1  # the unfinished event may end with b"\n"
        # Line ends are normalized to b"\n" on arrival, so events end at b"\n\n". Offsets are
        # counted in the normalized stream: consumed bytes minus the b"\r" bytes removed.
        # The unfinished event (normalized), as the non-empty pieces that brought it: joined once,
        # when the event ends (a long event is never copied per chunk).
        self._pieces: list[bytes] = []
        self._buffered = 0  # their total length
        self._removed = 0
        self._cr = False  # the last byte fed was b"\r": a b"\n" right after it is the same line end
        self._at_start = True  # no event ended yet: the first block may begin with a BOM
        self.done = False  # the sentinel event arrived

    @property
    def buffered_bytes(self) -> int:
        """Bytes of the unfinished event held so far."""
        return self._buffered

    def feed(self, chunk: bytes) -> list[str]:
        """Return the data of the events that ``chunk`` completes."""
        consumed = self._consumed + len(chunk)
        if consumed > self._limit:
            self._refuse()
        self._consumed = consumed
        if self._cr or 13 in chunk:
            chunk = self._normalize(chunk)
        if (
            not self._pieces
            and chunk.endswith(b"\n\n")
            and len(chunk) <= self._max_frame
            and not self._at_start
            and not self.done
        ):
            # The chunk is whole events, as a server sends them: one pass in C if every event
            # is a single "data: " line (see _whole_simple_events), else the general path.
            events = self._whole_simple_events(chunk)
            if events is not None:
                return events
        if self._pieces:
            joined = self._join(chunk)
            if joined is None:
                return []
            blocks = joined
        else:
            blocks = chunk.split(b"\n\n")
        tail = blocks.pop()
        if len(tail) > self._max_tail:
            self._too_large(self._offset() - len(tail))
        self._pieces = [tail] if tail else []
        self._buffered = len(tail)
        if len(chunk) > self._max_frame and blocks:
            self._check_blocks(blocks, tail)
        if self._at_start and blocks:
            # The SSE spec strips one UTF-8 BOM at the stream start; left in, it would make the
            # first field name "\ufeffdata" and the first event would vanish.
            self._at_start = False
            blocks[0] = blocks[0].removeprefix(_UTF8_BOM)
        return self._events(blocks, tail)

    def _whole_simple_events(self, chunk: bytes) -> list[str] | None:
        """The data of ``chunk`` (complete events, nothing buffered before it) when each of its
        events is one ``data: `` line and none is the sentinel; None for anything else.

        Equal to what ``_events`` gives for such a chunk, without a loop over the events: the
        chunk is decoded once (invalid UTF-8: None, so ``_events`` names the bad event) and
        split on the event separator. The newline count proves the split exact: every newline
        is one of the two that end an event, so no event has a second line or lacks ``data: ``.
        """
        try:
            text = chunk.decode()
        except UnicodeDecodeError:
            return None
        if not text.startswith("data: "):
            return None
        events = text[6:-2].split("\n\ndata: ")
        if text.count("\n") != 2 * len(events):
            return None
        sentinel = self._sentinel_text
        if sentinel is not None and sentinel in events:
            return None
        return events

    def _events(self, blocks: list[bytes], tail: bytes) -> list[str]:
        """The data of the complete event ``blocks`` (``tail``: what follows them, for offsets)."""
        sentinel = self._sentinel
        done = self.done
        events: list[str] = []
        for block in blocks:
            if block.startswith(b"data: ") and 10 not in block:  # the common event
                data = block[6:]
            else:
                parsed = _sse_event_data(block)
                if parsed is None:
                    continue
                data = parsed
            if done:
                self._malformed(blocks, block, tail, "event after the sentinel", events)
                break
            if data == sentinel:
                done = self.done = True
                continue
            try:
                events.append(data.decode())
            except UnicodeDecodeError as exc:
                message = f"invalid UTF-8 in event data: {exc.reason}"
                self._malformed(blocks, block, tail, message, events)
                break
        return events

    def _normalize(self, chunk: bytes) -> bytes:
        """Turn b"\\r\\n" and b"\\r" line ends into b"\\n" (a b"\\r\\n" may straddle chunks)."""
        size = len(chunk)
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if 13 in chunk:
            self._cr = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._removed += size - len(chunk)
        return chunk

    def _join(self, chunk: bytes) -> list[bytes] | None:
        """The event blocks of the buffer + ``chunk`` (tail last), or None if no event ends yet."""
        if not chunk:
            return None
        pieces = self._pieces
        buffered = self._buffered
        if pieces[-1][-1] == 10 and chunk[0] == 10:  # the blank line straddles the boundary
            blocks = chunk[1:].split(b"\n\n")
            blocks.insert(0, b"".join(pieces)[:-1])
            return blocks
        blocks = chunk.split(b"\n\n")
        head = blocks[0]
        if len(blocks) == 1:
            if buffered + len(head) > self._max_tail:
                self._too_large(self._offset() - len(chunk) - buffered)
            pieces.append(head)  # the whole (non-empty) chunk
            self._buffered = buffered + len(head)
            return None
        if buffered + len(head) > self._max_frame:
            self._too_large(self._offset() - len(chunk) - buffered)
        pieces.append(head)
        blocks[0] = b"".join(pieces)
        return blocks

    def _offset(self) -> int:
        """Offset of the end of the (normalized) stream so far."""
        return self._consumed - self._removed

    def _block_offset(self, blocks: list[bytes], index: int, tail: bytes) -> int:
        """Offset of ``blocks[index]``: the blocks and ``tail`` end where the stream does."""
        after = sum(len(block) + 2 for block in blocks[index:])
        return self._offset() - len(tail) - after

    def _check_blocks(self, blocks: list[bytes], tail: bytes) -> None:
        if max(map(len, blocks)) > self._max_frame:
            index = next(i for i, block in enumerate(blocks) if len(block) > self._max_frame)
            self._too_large(self._block_offset(blocks, index, tail))

    def _malformed(
        self, blocks: list[bytes], block: bytes, tail: bytes, message: str, delivered: list[str]
    ) -> None:
        """``block`` is malformed: fail after the events ``delivered`` before it."""
        index = next(i for i, candidate in enumerate(blocks) if candidate is block)
        self._fail_after(
            MalformedFrame(message, self._block_offset(blocks, index, tail)), delivered
        )

    def _too_large(self, offset: int) -> NoReturn:
        self._fail(FrameTooLarge(f"event exceeds max_frame_bytes={self._max_frame}", offset))

    def close(self) -> list[str]:
        """End of stream: TruncatedStream if an event was started but not ended."""
        self._check_open()
        buf = b"".join(self._pieces)
        if self._at_start:
            buf = buf.removeprefix(_UTF8_BOM)
        if buf and (buf[-1] != 10 or any(line and line[0] != 58 for line in buf.split(b"\n"))):
            self._fail(TruncatedStream("stream ends inside an event", self._offset() - len(buf)))
        self._closed()
        return []


# ----------------------------------------------------------------------------------- JSON seq

# The C scanner behind json.loads, without its wrappers: (text, index) -> (value, end index).
_scan_once: Callable[[str, int], tuple[Any, int]]
_scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_JSON_WHITESPACE: Final = " \t\n\r"
_NUMBER_CHARS: Final = "-+.0123456789eE"
_NUMBER_START: Final = "-0123456789"
# After a value: whitespace to skip, or a character that might continue a number.
_AFTER_VALUE_SPECIAL: Final = _JSON_WHITESPACE + _NUMBER_CHARS
_LITERALS: Final = {"t": "true", "f": "false", "n": "null", "N": "NaN", "I": "Infinity"}
_WHITESPACE_RUN = re.compile(r"[ \t\n\r]*")
_NUMBER_RUN = re.compile(r"[-+.0-9eE]*")
# Inside a container, outside strings: skip everything but brackets, complete strings included.
_OUTSIDE_STRINGS = re.compile(r'[^"\[\]{}]*(?:"[^"\\]*(?:\\.[^"\\]*)*"[^"\[\]{}]*)*', re.DOTALL)
# Inside a string: skip to its closing quote, or to a backslash that ends the text.
_STRING_BODY = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*', re.DOTALL)

_IDLE, _NESTED, _NUMBER, _LITERAL = 0, 1, 2, 3  # what the scanner is in the middle of


def _byte_length(text: str, ascii_text: bool) -> int:
    return len(text) if ascii_text else len(text.encode())


class JSONSeqDecoder(_Decoder):
    """JSON values back to back, optionally separated by whitespace.

    Complete values are parsed straight from each chunk by the C scanner of ``json``. A value cut
    by a chunk boundary is kept as a list of text pieces while a small scanner (string, escape and
    bracket depth state, regex skips over everything else) follows only the new text, until it
    sees the value end; the pieces are then joined and parsed once.
    """

    __slots__ = (
        "_max_frame",
        "_pending",
        "_parts",
        "_parts_bytes",
        "_value_start",
        "_mode",
        "_depth",
        "_in_string",
        "_escape",
        "_literal_rest",
    )

    def __init__(
        self,
        *,
        max_frame_bytes: int | None = DEFAULT_MAX_FRAME_BYTES,
        max_total_bytes: int | None = None,
    ) -> None:
        super().__init__(max_total_bytes)
        self._max_frame = _check_limit("max_frame_bytes", max_frame_bytes)
        self._pending = b""  # the start of a UTF-8 character split by the chunk boundary
        self._parts: list[str] = []  # text of the unfinished value
        self._parts_bytes = 0
        self._value_start = 0  # stream offset of the unfinished value
        self._mode = _IDLE
        self._depth = 0
        self._in_string = False
        self._escape = False  # the text so far ends with the backslash of an escape
        self._literal_rest = ""  # letters still missing from a split literal

    @property
    def buffered_bytes(self) -> int:
        """Bytes of the unfinished value (and of a split character) held so far."""
        return self._parts_bytes + len(self._pending)

    def feed(self, chunk: bytes) -> list[Any]:
        """Return the values that ``chunk`` completes."""
        start = self._consumed
        consumed = start + len(chunk)
        if consumed > self._limit:
            self._refuse()
        pending = self._pending
        data = pending + chunk if pending else chunk
        try:
            text, used = utf_8_decode(data, "strict", False)
        except UnicodeDecodeError as exc:
            error = MalformedFrame(f"invalid UTF-8: {exc.reason}", start - len(pending) + exc.start)
            if exc.start <= len(pending):
                self._fail(error)
            # The values before the bad bytes first, as a split just before them would give.
            values = self.feed(chunk[: exc.start - len(pending)])
            if self._failure is None:  # else the text before them failed first
                self._fail_after(error, values)
            return values
        self._consumed = consumed
        self._pending = pending = data[used:] if used != len(data) else b""
        text_end = consumed - len(pending)  # stream offset just after `text`
        if not self._mode:
            return self._parse(text, text_end, len(pending), False)
        # A value is cut by chunk boundaries: follow only the new text until the value ends.
        if text:
            end = self._scan(text)
            if end >= 0:
                self._parts.append(text)
                text = "".join(self._parts)
                self._reset()
                return self._parse(text, text_end, len(pending), False)
        if self._parts_bytes + used + len(pending) > self._max_frame:
            self._too_large(self._value_start)
        if text:
            self._parts.append(text)
            self._parts_bytes += used
        return []

    def close(self) -> list[Any]:
        """End of stream: the last value, or TruncatedStream if it is incomplete."""
        self._check_open()
        if self._pending:
            self._fail(
                TruncatedStream(
                    "stream ends inside a UTF-8 character", self._consumed - len(self._pending)
                )
            )
        values: list[Any] = []
        if self._mode:
            text = "".join(self._parts)
            self._reset()
            values = self._parse(text, self._consumed, 0, True)
        self._closed()
        return values

    # -- parsing complete text

    def _parse(self, text: str, text_end: int, pending: int, final: bool) -> list[Any]:
        """Parse the values in ``text`` (which ends at stream offset ``text_end``); keep a cut one.

        ``pending`` is the number of bytes of a split character that follow ``text``; ``final``
        means no more text follows (close()).
        """
        values: list[Any] = []
        n = len(text)
        ascii_text = text.isascii()
        # A value of at most this many characters cannot exceed the byte limit.
        max_chars = self._max_frame if ascii_text else self._max_frame // 4
        scan = _scan_once
        special = _AFTER_VALUE_SPECIAL
        pos = 0
        if n and text[0] in _JSON_WHITESPACE:
            pos = _WHITESPACE_RUN.match(text).end()  # type: ignore[union-attr]
        while pos < n:
            try:
                value, end = scan(text, pos)
            except (StopIteration, json.JSONDecodeError) as exc:
                # At close() nothing would raise a deferred error: fail with nothing delivered.
                delivered = [] if final else values
                self._cut_or_malformed(
                    text, pos, text_end, pending, final, ascii_text, exc, delivered
                )
                break
            if end - pos > max_chars:
                self._check_size(text, pos, end, text_end, ascii_text)
            # One test of the next character covers the common case (another value follows).
            if end == n or text[end] in special:
                if (
                    not final
                    and text[pos] in _NUMBER_START
                    and _NUMBER_RUN.match(text, end).end() == n  # type: ignore[union-attr]
                ):
                    # A number at the end of the text may go on in the next chunk: keep it.
                    self._keep(text, pos, text_end, pending, ascii_text, _NUMBER)
                    break
                values.append(value)
                pos = _WHITESPACE_RUN.match(text, end).end()  # type: ignore[union-attr]
                continue
            values.append(value)
            pos = end
        return values

    def _cut_or_malformed(
        self,
        text: str,
        pos: int,
        text_end: int,
        pending: int,
        final: bool,
        ascii_text: bool,
        exc: Exception,
        delivered: list[Any],
    ) -> None:
        """The value at ``pos`` did not parse: keep it if it is cut off, else fail after the
        values ``delivered`` before it."""
        self._reset()
        end, mode = self._resume_state(text, pos)
        if end < 0 and not final:
            self._keep(text, pos, text_end, pending, ascii_text, mode)
            return
        self._reset()
        where = pos
        if isinstance(exc, json.JSONDecodeError):
            where = exc.pos
        elif isinstance(exc, StopIteration) and isinstance(exc.value, int):
            where = exc.value  # the C scanner's "expecting a value here"
        offset = text_end - _byte_length(text[where:], ascii_text)
        if end < 0:
            self._fail(TruncatedStream("stream ends inside a JSON value", offset))
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "Expecting value"
        self._fail_after(MalformedFrame(f"invalid JSON: {reason}", offset), delivered)

    def _resume_state(self, text: str, pos: int) -> tuple[int, int]:
        """Where the value starting at ``pos`` ends (-1: the end of ``text`` cuts it off), and
        the mode to keep it in; sets what a kept nested value or literal resumes with."""
        n = len(text)
        first = text[pos]
        if first == "{" or first == "[" or first == '"':
            self._mode = _NESTED
            self._depth = 0 if first == '"' else 1
            self._in_string = first == '"'
            return self._scan_nested(text, pos + 1), _NESTED
        if first in _NUMBER_START and text[pos + 1 : pos + 2] != "I":
            end = _NUMBER_RUN.match(text, pos).end()  # type: ignore[union-attr]
            return (-1 if end == n else end), _NUMBER
        if first in _LITERALS or first == "-":
            literal = _LITERALS.get(first, "-Infinity")
            fragment = text[pos : pos + len(literal)]
            cut = pos + len(fragment) == n and literal.startswith(fragment)
            self._literal_rest = literal[len(fragment) :]
            return (-1 if cut else pos), _LITERAL
        return pos, _IDLE

    def _keep(
        self, text: str, pos: int, text_end: int, pending: int, ascii_text: bool, mode: int
    ) -> None:
        """Hold ``text[pos:]``, the start of a value cut by the chunk boundary."""
        rest = text[pos:]
        size = _byte_length(rest, ascii_text)
        offset = text_end - size
        if size + pending > self._max_frame:
            self._reset()
            self._too_large(offset)
        self._mode = mode
        self._parts = [rest]
        self._parts_bytes = size
        self._value_start = offset

    def _check_size(self, text: str, pos: int, end: int, text_end: int, ascii_text: bool) -> None:
        if _byte_length(text[pos:end], ascii_text) > self._max_frame:
            self._too_large(text_end - _byte_length(text[pos:], ascii_text))

    def _too_large(self, offset: int) -> NoReturn:
        self._fail(FrameTooLarge(f"JSON value exceeds max_frame_bytes={self._max_frame}", offset))

    def _reset(self) -> None:
        self._mode = _IDLE
        self._parts = []
        self._parts_bytes = 0
        self._depth = 0
        self._in_string = False
        self._escape = False

    # -- following a cut value over new text

    def _scan(self, text: str) -> int:
        """Index in ``text`` just past the end of the cut value, or -1 if it goes on.

        For numbers and literals "the end" is where the value can no longer continue; a mismatch
        also returns an index, and the parse that follows reports it.
        """
        mode = self._mode
        if mode == _NESTED:
            return self._scan_nested(text, 0)
        if mode == _NUMBER:
            end = _NUMBER_RUN.match(text).end()  # type: ignore[union-attr]
            return end if end < len(text) else -1
        rest = self._literal_rest
        if text.startswith(rest):
            return len(rest)
        if rest.startswith(text):
            self._literal_rest = rest[len(text) :]
            return -1
        return 0

    def _scan_nested(self, text: str, i: int) -> int:
        """Follow strings and brackets from ``text[i]``; state carries over between calls."""
        n = len(text)
        depth = self._depth
        in_string = self._in_string
        if self._escape:  # text[0] is the escaped character
            self._escape = False
            i += 1
        while i < n:
            if in_string:
                i = _STRING_BODY.match(text, i).end()  # type: ignore[union-attr]
                if i >= n:
                    break
                if text[i] == "\\":  # the last character: its escaped character comes later
                    self._escape = True
                    break
                in_string = False
                i += 1
                if depth == 0:
                    return i
            else:
                i = _OUTSIDE_STRINGS.match(text, i).end()  # type: ignore[union-attr]
                if i >= n:
                    break
                bracket = text[i]
                i += 1
                if bracket == '"':
                    in_string = True
                elif bracket == "{" or bracket == "[":
                    depth += 1
                else:
                    depth -= 1
                    if depth == 0:
                        return i
        self._depth = depth
        self._in_string = in_string
        return -1


# ------------------------------------------------------------------------------ payload helpers


def decode_text_frame(frame: bytes) -> str:
    """Strict UTF-8 decoding of one frame; MalformedFrame (offset within the frame) on error."""
    try:
        return frame.decode()
    except UnicodeDecodeError as exc:
        raise MalformedFrame(f"invalid UTF-8 in frame: {exc.reason}", exc.start) from exc


def decode_json_frame(frame: bytes | str) -> Any:
    """Parse one frame holding exactly one JSON value, as ``json.loads`` does.

    Bytes must be UTF-8 (json.loads would also guess UTF-16/32). MalformedFrame on error, with the
    offset within the frame (in characters for JSON errors in non-ASCII text).
    """
    if isinstance(frame, str):
        text = frame
    else:
        try:
            text = frame.decode()
        except UnicodeDecodeError as exc:
            raise MalformedFrame(f"invalid UTF-8 in frame: {exc.reason}", exc.start) from exc
    try:
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value
    except (StopIteration, json.JSONDecodeError):
        pass
    # Leading or trailing whitespace, extra data, or an error: json.loads says which.
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFrame(f"invalid JSON: {exc.msg}", exc.pos) from exc


# ------------------------------------------------------------------------------------ encoders


def _model_json(value: object) -> object:
    """A pydantic model (a typed token, or one inside a dict) as JSON data: its fields under
    their wire names, those the miner never set left out (the receiving model gives them their
    defaults). A field set to None stays: a required nullable one must be sent. Only called for
    what ``json`` cannot encode itself, so plain data pays nothing."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_json_dumps = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), default=_model_json
).encode


def as_model(model: type[M], value: object) -> M:
    """``value`` (a decoded JSON token) validated into ``model``, for a stream whose token is a
    ``$defs`` model; MalformedFrame naming the first problem if it is not one."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(step) for step in first["loc"]) or "token"
        raise MalformedFrame(
            f"token: not a {model.__name__}: {where}: {first['msg']} ({exc.error_count()} "
            f"error{'s' if exc.error_count() != 1 else ''})"
        ) from None


def encode_text(text: str) -> bytes:
    """UTF-8 bytes of ``text`` (raw framing)."""
    return text.encode()


def encode_line(payload: str | bytes, delimiter: bytes = b"\n") -> bytes:
    """``payload`` plus ``delimiter``; ValueError if the decoder would not give ``payload`` back."""
    data = payload.encode() if isinstance(payload, str) else payload
    frame = data + delimiter
    if frame.find(delimiter) != len(data):
        raise ValueError(f"line payload contains the delimiter {delimiter!r}: {payload!r}")
    if delimiter == b"\n" and data[-1:] == b"\r":
        raise ValueError(f"line payload ends with b'\\r', which the decoder strips: {payload!r}")
    return frame


def encode_json_line(value: Any) -> bytes:
    """Compact JSON of ``value`` plus b"\\n" (JSON Lines)."""
    return (_json_dumps(value) + "\n").encode()


def encode_json_value(value: Any) -> bytes:
    """Compact JSON of ``value`` for back-to-back framing (a top-level number gets a space)."""
    text = _json_dumps(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text += " "
    return text.encode()


def encode_sse(data: str) -> bytes:
    """One SSE event carrying ``data`` (one ``data:`` line per line of it)."""
    if "\r" in data:
        raise ValueError(f"SSE data cannot contain '\\r': {data!r}")
    if "\n" in data:
        data = data.replace("\n", "\ndata: ")
    return ("data: " + data + "\n\n").encode()


def encode_sse_json(value: Any) -> bytes:
    """One SSE event carrying the compact JSON of ``value`` (always a single line)."""
    return ("data: " + _json_dumps(value) + "\n\n").encode()
