"""Stream codecs: round trips under any chunking, typed errors, bounded buffers."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synapsegen.runtime.codecs import (
    FrameTooLarge,
    JSONSeqDecoder,
    LineDecoder,
    MalformedFrame,
    SSEDecoder,
    StreamError,
    StreamTooLarge,
    TextDecoder,
    TruncatedStream,
    decode_json_frame,
    decode_text_frame,
    encode_json_line,
    encode_json_value,
    encode_line,
    encode_sse,
    encode_sse_json,
    encode_text,
)

Decoder = TextDecoder | LineDecoder | SSEDecoder | JSONSeqDecoder

settings.register_profile(
    "codecs", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
CODEC_SETTINGS = settings(settings.get_profile("codecs"))


# ------------------------------------------------------------------------------------- helpers


def run(decoder: Decoder, chunks: Sequence[bytes]) -> list[Any]:
    """Feed every chunk, then close; return everything the decoder produced."""
    out: list[Any] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    last = decoder.close()
    # Generated code calls close() without reading its result for these decoders.
    assert isinstance(decoder, JSONSeqDecoder) or last == [], "close() returned frames"
    out.extend(last)
    return out


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def outcome(make: Callable[[], Decoder], chunks: Sequence[bytes]) -> tuple[str, Any]:
    """("ok", frames) or ("error", exception type); any non-StreamError escapes the test."""
    try:
        return "ok", run(make(), chunks)
    except StreamError as exc:
        return "error", type(exc)


cuts_strategy = st.lists(st.integers(min_value=0, max_value=4000), max_size=12)
# Text that stresses UTF-8 splits: ASCII, 2-, 3- and 4-byte characters.
text_alphabet = st.sampled_from(["a", "b", " ", "é", "ß", "€", "中", "😀", "🎉", '"', "\\", "\t"])
token_text = st.text(alphabet=text_alphabet, max_size=12) | st.text(max_size=12)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=True)
    | token_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(token_text, inner, max_size=4),
    max_leaves=12,
)


# ---------------------------------------------------------------------------------------- text


@CODEC_SETTINGS
@given(texts=st.lists(token_text, max_size=8), cuts=cuts_strategy)
def test_text_round_trip_any_split(texts: list[str], cuts: list[int]) -> None:
    data = b"".join(encode_text(t) for t in texts)
    expected = "".join(texts)
    assert "".join(run(TextDecoder(), split_at(data, cuts))) == expected
    assert "".join(run(TextDecoder(), bytewise(data))) == expected
    assert all(run(TextDecoder(), bytewise(data)))  # never an empty string


@CODEC_SETTINGS
@given(data=st.binary(max_size=64), cuts=cuts_strategy)
def test_text_random_bytes_typed_and_split_invariant(data: bytes, cuts: list[int]) -> None:
    whole = outcome(TextDecoder, [data])
    split = outcome(TextDecoder, split_at(data, cuts))
    if whole[0] == "ok":
        assert split[0] == "ok" and "".join(split[1]) == "".join(whole[1])
    else:
        assert split == whole
        assert whole[1] in (MalformedFrame, TruncatedStream)


def test_text_emoji_split_across_chunks() -> None:
    emoji = "😀".encode()
    decoder = TextDecoder()
    assert decoder.feed(b"hi " + emoji[:1]) == ["hi "]
    assert decoder.feed(emoji[1:3]) == []
    assert decoder.buffered_bytes == 3
    assert decoder.feed(emoji[3:] + b"!") == ["😀!"]
    assert decoder.close() == []


def test_text_invalid_utf8_reports_offset() -> None:
    decoder = TextDecoder()
    decoder.feed(b"abc")
    with pytest.raises(MalformedFrame) as info:
        decoder.feed(b"de\xffg")
    assert info.value.offset == 5
    assert "byte 5" in str(info.value)
    with pytest.raises(MalformedFrame):  # a failed decoder stays failed
        decoder.feed(b"ok")


def test_text_truncated_inside_character() -> None:
    decoder = TextDecoder()
    decoder.feed(b"ok" + "€".encode()[:2])
    with pytest.raises(TruncatedStream) as info:
        decoder.close()
    assert info.value.offset == 2


def test_feed_after_close_is_an_error() -> None:
    decoder = TextDecoder()
    decoder.close()
    with pytest.raises(RuntimeError, match="closed"):
        decoder.feed(b"x")


# --------------------------------------------------------------------------------------- lines

line_text = st.text(max_size=10).filter(lambda s: "\n" not in s and not s.endswith("\r"))


@CODEC_SETTINGS
@given(
    frames=st.lists(line_text, max_size=8),
    crlf=st.lists(st.booleans(), min_size=8, max_size=8),
    cuts=cuts_strategy,
)
def test_lines_round_trip_any_split(frames: list[str], crlf: list[bool], cuts: list[int]) -> None:
    data = b"".join(
        encode_line(f)[:-1] + (b"\r\n" if use_crlf else b"\n")
        for f, use_crlf in zip(frames, crlf, strict=False)
    )
    expected = [f.encode() for f in frames if f]
    assert run(LineDecoder(), split_at(data, cuts)) == expected
    assert run(LineDecoder(), bytewise(data)) == expected
    assert [decode_text_frame(f) for f in expected] == [f for f in frames if f]


@CODEC_SETTINGS
@given(values=st.lists(json_values, max_size=6), cuts=cuts_strategy)
def test_json_lines_round_trip_any_split(values: list[Any], cuts: list[int]) -> None:
    data = b"".join(encode_json_line(v) for v in values)
    for chunks in (split_at(data, cuts), bytewise(data)):
        assert [decode_json_frame(f) for f in run(LineDecoder(), chunks)] == values


@CODEC_SETTINGS
@given(
    delimiter=st.sampled_from([b"\r\n", b"ab", b"aa", b"\x00\x00\x00", b"|"]),
    data=st.binary(max_size=40) | st.text(alphabet="ab\r\n\x00|x", max_size=40).map(str.encode),
    cuts=cuts_strategy,
)
def test_lines_any_delimiter_split_invariant(
    delimiter: bytes, data: bytes, cuts: list[int]
) -> None:
    def make() -> LineDecoder:
        return LineDecoder(delimiter)

    whole = outcome(make, [data])
    assert outcome(make, split_at(data, cuts)) == whole
    assert outcome(make, bytewise(data)) == whole
    if whole[0] == "ok":  # the reference: leftmost non-overlapping split
        pieces = data.split(delimiter)
        assert pieces[-1] == b""
        assert whole[1] == [p for p in pieces[:-1] if p]


@CODEC_SETTINGS
@given(
    frames=st.lists(st.binary(min_size=1, max_size=12), max_size=6),
    limit=st.integers(min_value=1, max_value=10),
    cuts=cuts_strategy,
)
def test_lines_frame_limit_any_split(frames: list[bytes], limit: int, cuts: list[int]) -> None:
    frames = [f.replace(b"\n", b"") or b"x" for f in frames]
    data = b"".join(f + b"\n" for f in frames)

    def make() -> LineDecoder:
        return LineDecoder(max_frame_bytes=limit)

    too_large = any(len(f) > limit for f in frames)
    for chunks in ([data], split_at(data, cuts), bytewise(data)):
        result = outcome(make, chunks)
        if too_large:
            assert result == ("error", FrameTooLarge)
        else:
            # A line ends at "\n" or "\r\n": one "\r" goes with the delimiter, others are data.
            lines = [f[:-1] if f.endswith(b"\r") else f for f in frames]
            assert result == ("ok", [line for line in lines if line])


def test_lines_crlf_split_between_chunks() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"one\r") == []
    assert decoder.feed(b"\ntwo\r") == [b"one"]
    assert decoder.feed(b"\n") == [b"two"]
    assert decoder.close() == []


def test_lines_keep_inner_cr_and_skip_empty_frames() -> None:
    assert run(LineDecoder(), [b"a\rb\n\n\r\n", b"c\n"]) == [b"a\rb", b"c"]


def test_lines_truncated() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b'{"a":1}\n{"b"') == [b'{"a":1}']
    with pytest.raises(TruncatedStream) as info:
        decoder.close()
    assert info.value.offset == 8


def test_lines_10mb_frame_with_64kb_limit_never_buffers_it() -> None:
    limit = 64 * 1024
    decoder = LineDecoder(max_frame_bytes=limit)
    piece = b"x" * limit
    decoder.feed(piece)
    with pytest.raises(FrameTooLarge) as info:
        for _ in range(10 * 1024 * 1024 // limit):
            decoder.feed(piece)
            assert decoder.buffered_bytes <= limit
    assert decoder.buffered_bytes <= limit
    assert info.value.offset == 0
    # One huge chunk: refused before anything is kept.
    decoder = LineDecoder(max_frame_bytes=limit)
    with pytest.raises(FrameTooLarge):
        decoder.feed(b"y" * (10 * 1024 * 1024))
    assert decoder.buffered_bytes == 0


def test_lines_complete_oversized_frame_in_one_chunk() -> None:
    decoder = LineDecoder(max_frame_bytes=4)
    with pytest.raises(FrameTooLarge) as info:
        decoder.feed(b"ok\ntoolong\nok\n")
    assert info.value.offset == 3


def test_stream_too_large() -> None:
    decoder = LineDecoder(max_total_bytes=10)
    assert decoder.feed(b"12345\n") == [b"12345"]
    with pytest.raises(StreamTooLarge) as info:
        decoder.feed(b"67890\n")
    assert info.value.offset == 10
    with pytest.raises(StreamTooLarge):
        decoder.feed(b"")


@CODEC_SETTINGS
@given(
    data=st.binary(max_size=30), limit=st.integers(min_value=1, max_value=30), cuts=cuts_strategy
)
def test_total_limit_any_decoder(data: bytes, limit: int, cuts: list[int]) -> None:
    for make in (
        lambda: TextDecoder(max_total_bytes=limit),
        lambda: LineDecoder(max_total_bytes=limit),
        lambda: SSEDecoder(max_total_bytes=limit),
        lambda: JSONSeqDecoder(max_total_bytes=limit),
    ):
        result = outcome(make, split_at(data, cuts))
        if len(data) > limit:
            # Another error may come first, but never success.
            assert result[0] == "error"
            if outcome(make, [data])[0] == "error":
                assert outcome(make, [data]) == ("error", StreamTooLarge)


def test_line_encoder_refuses_what_would_not_round_trip() -> None:
    assert encode_line("a") == b"a\n"
    assert encode_line(b"a", b"\r\n") == b"a\r\n"
    with pytest.raises(ValueError):
        encode_line("a\nb")
    with pytest.raises(ValueError):
        encode_line("a\r")
    with pytest.raises(ValueError):
        encode_line(b"xa", b"aa")  # b"xaaa" would split after b"x"


def test_decode_text_frame_error() -> None:
    with pytest.raises(MalformedFrame) as info:
        decode_text_frame(b"ab\xc3")
    assert info.value.offset == 2


# ----------------------------------------------------------------------------------------- SSE

sse_data = st.text(max_size=12).filter(lambda s: "\r" not in s)


@st.composite
def sse_streams(draw: st.DrawFn) -> tuple[bytes, list[str], bool]:
    """An SSE stream with mixed line ends, comments and other fields; (bytes, data, sentinel)."""
    events = draw(st.lists(sse_data.filter(lambda s: s != "[DONE]"), max_size=6))
    with_sentinel = draw(st.booleans())
    lines: list[str] = []
    for data in [*events, *(["[DONE]"] if with_sentinel else [])]:
        if draw(st.booleans()):
            lines.append(": keep-alive")
        if draw(st.booleans()):
            lines.append("event: token")
        for part in data.split("\n"):
            lines.append(
                "data: " + part if draw(st.booleans()) or part[:1] == " " else "data:" + part
            )
        if draw(st.booleans()):
            lines.append("id: 7")
        lines.append("")
    ends = draw(
        st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines))
    )
    for i in range(1, len(lines)):
        if ends[i - 1] == "\r" and not lines[i] and ends[i] == "\n":
            ends[i] = "\r"  # b"\r" + b"\n" would be one line end, not two
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    return text.encode(), events, with_sentinel


@CODEC_SETTINGS
@given(stream=sse_streams(), cuts=cuts_strategy)
def test_sse_round_trip_any_split(stream: tuple[bytes, list[str], bool], cuts: list[int]) -> None:
    data, events, with_sentinel = stream
    for chunks in (split_at(data, cuts), bytewise(data), [data]):
        decoder = SSEDecoder()
        assert run(decoder, chunks) == events
        assert decoder.done is with_sentinel


@CODEC_SETTINGS
@given(events=st.lists(sse_data, max_size=6), cuts=cuts_strategy)
def test_sse_encoder_round_trip_without_sentinel(events: list[str], cuts: list[int]) -> None:
    data = b"".join(encode_sse(e) for e in events)
    assert run(SSEDecoder(sentinel=None), split_at(data, cuts)) == events


@CODEC_SETTINGS
@given(values=st.lists(json_values, max_size=5), cuts=cuts_strategy)
def test_sse_json_round_trip(values: list[Any], cuts: list[int]) -> None:
    data = b"".join(encode_sse_json(v) for v in values) + encode_sse("[DONE]")
    decoder = SSEDecoder()
    assert [decode_json_frame(d) for d in run(decoder, split_at(data, cuts))] == values
    assert decoder.done


@CODEC_SETTINGS
@given(
    data=st.binary(max_size=40)
    | st.text(alphabet="data: \r\n[DONE]x", max_size=40).map(str.encode),
    cuts=cuts_strategy,
)
def test_sse_garbage_typed_and_split_invariant(data: bytes, cuts: list[int]) -> None:
    whole = outcome(SSEDecoder, [data])
    assert outcome(SSEDecoder, split_at(data, cuts)) == whole
    assert outcome(SSEDecoder, bytewise(data)) == whole


@CODEC_SETTINGS
@given(
    events=st.lists(st.text(alphabet="ab\n", min_size=0, max_size=10), max_size=5),
    limit=st.integers(min_value=1, max_value=24),
    cuts=cuts_strategy,
)
def test_sse_event_limit_any_split(events: list[str], limit: int, cuts: list[int]) -> None:
    encoded = [encode_sse(e) for e in events]
    data = b"".join(encoded)
    too_large = any(len(e) - 2 > limit for e in encoded)  # the event without its blank line

    def make() -> SSEDecoder:
        return SSEDecoder(None, max_frame_bytes=limit)

    for chunks in ([data], split_at(data, cuts), bytewise(data)):
        assert outcome(make, chunks) == (("error", FrameTooLarge) if too_large else ("ok", events))


def test_sse_multi_line_data_and_fields() -> None:
    data = b"event: x\ndata: line one\ndata:line two\ndata\nid: 3\n: comment\n\n"
    assert run(SSEDecoder(), [data]) == ["line one\nline two\n"]
    assert encode_sse("a\nb") == b"data: a\ndata: b\n\n"
    assert run(SSEDecoder(), [encode_sse("a\n\nb")]) == ["a\n\nb"]


def test_sse_crlf_split_between_chunks() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == ["a"]
    assert decoder.feed(b"\ndata: b\r\n\r\n") == ["b"]
    assert decoder.close() == []


def test_sse_sentinel_then_more_data_is_malformed() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: [DONE]\n\n") == ["a"]
    assert decoder.done
    decoder.feed(b": comments are fine after the sentinel\n\n")
    with pytest.raises(MalformedFrame, match="after the sentinel") as info:
        decoder.feed(b"data: late\n\n")
    assert info.value.offset == 63


def delivered(make: Callable[[], Decoder], chunks: Sequence[bytes]) -> tuple[list[Any], Any]:
    """The frames a consumer got before the stream failed, and the failure's type (None)."""
    decoder, frames = make(), []
    try:
        for chunk in chunks:
            frames.extend(decoder.feed(chunk))
        frames.extend(decoder.close())
    except StreamError as exc:
        return frames, type(exc)
    return frames, None


def test_sse_frames_before_a_bad_event_in_one_chunk_are_delivered() -> None:
    """The events before a bad one in the same chunk come out first, and the error with the
    next call: raised at once, they were lost when the bad event shared their chunk and kept
    when it came in a later one, so a stream's decoded prefix (and a keep_partial field, or the
    complete flag of a sentinel seen before the junk) depended on the network's chunking."""
    body = b"data: a\n\ndata: [DONE]\n\ndata: late\n\n"
    decoder = SSEDecoder()
    assert decoder.feed(body) == ["a"]
    assert decoder.done
    with pytest.raises(MalformedFrame, match="after the sentinel") as info:
        decoder.close()
    assert info.value.offset == len(b"data: a\n\ndata: [DONE]\n\n")
    for cut in range(len(body) + 1):
        assert delivered(SSEDecoder, [body[:cut], body[cut:]]) == (["a"], MalformedFrame), cut
    bad_utf8 = b"data: a\n\ndata: \xff\n\n"
    for cut in range(len(bad_utf8) + 1):
        chunks = [bad_utf8[:cut], bad_utf8[cut:]]
        assert delivered(SSEDecoder, chunks) == (["a"], MalformedFrame), cut


def test_json_seq_values_before_a_bad_one_in_one_chunk_are_delivered() -> None:
    for body in (b'{"a": 1} ["b"] }', b'{"a": 1} ["b"] \xff'):  # bad JSON, bad UTF-8
        for cut in range(len(body) + 1):
            chunks = [body[:cut], body[cut:]]
            assert delivered(JSONSeqDecoder, chunks) == ([{"a": 1}, ["b"]], MalformedFrame), cut


@CODEC_SETTINGS
@given(
    data=st.binary(max_size=40)
    | st.text(alphabet="data: \r\n[DONE]x", max_size=40).map(str.encode),
    cuts=cuts_strategy,
)
def test_sse_garbage_delivers_the_same_prefix_any_split(data: bytes, cuts: list[int]) -> None:
    whole = delivered(SSEDecoder, [data])
    assert delivered(SSEDecoder, split_at(data, cuts)) == whole
    assert delivered(SSEDecoder, bytewise(data)) == whole


def test_sse_truncated_event() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\ndata: b\n")
    with pytest.raises(TruncatedStream) as info:
        decoder.close()
    assert info.value.offset == 9
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n: ping\n")
    assert decoder.close() == []  # a complete comment line starts no event


@pytest.mark.parametrize(
    "events",
    [
        [b"data: a", b"data: ", b"data:  two spaces", b"data: \xe4\xb8\x96 \xf0\x9f\x8c\x8d"],
        [b"data: a", b"data: [DONE]"],  # the sentinel ends the stream
        [b"data: a", b"data: [DONE]", b"data: late"],  # malformed: after the sentinel
        [b"data: a", b"data: b\ndata: c"],  # a two-line event
        [b"data: a", b": comment", b"data: b"],
        [b"data: a", b"data:b", b"event: x\ndata: c"],
        [b"data: a", b"data: \xff"],  # invalid UTF-8
        [b"data: a", b"data: b\n", b"data: c"],  # three newlines between events
        [b"data: a", b"data: data: b"],
    ],
)
def test_sse_chunks_of_whole_events_decode_as_bytewise(events: list[bytes]) -> None:
    # A chunk of whole events takes the one-pass path; bytewise feeding never does.
    chunks = [event + b"\n\n" for event in events]
    whole = [chunks[0], *(b"".join(chunks[i : i + 2]) for i in range(1, len(chunks), 2))]

    def result(chunks: list[bytes]) -> tuple[Any, ...]:
        decoder = SSEDecoder(max_frame_bytes=64)
        try:
            return ("ok", run(decoder, chunks), decoder.done)
        except StreamError as exc:
            return ("error", type(exc), exc.offset, str(exc))

    assert result(whole) == result(bytewise(b"".join(chunks)))


def test_sse_invalid_utf8_is_malformed() -> None:
    with pytest.raises(MalformedFrame, match="UTF-8"):
        run(SSEDecoder(), [b"data: \xff\n\n"])


def test_sse_encoder_refuses_cr() -> None:
    with pytest.raises(ValueError):
        encode_sse("a\rb")


def test_sse_10mb_event_with_64kb_limit() -> None:
    limit = 64 * 1024
    decoder = SSEDecoder(max_frame_bytes=limit)
    decoder.feed(b"data: ")
    with pytest.raises(FrameTooLarge):
        for _ in range(160):
            decoder.feed(b"x" * limit)
    assert decoder.buffered_bytes <= limit + 1


# ------------------------------------------------------------------------------------ JSON seq

whitespace = st.sampled_from(["", "", " ", "\n", "\r\n", "\t ", "  \n  "])


@CODEC_SETTINGS
@given(
    values=st.lists(json_values, max_size=6),
    gaps=st.lists(whitespace, min_size=7, max_size=7),
    cuts=cuts_strategy,
)
def test_json_seq_round_trip_any_split(values: list[Any], gaps: list[str], cuts: list[int]) -> None:
    data = b"".join(
        gap.encode() + encode_json_value(v) for v, gap in zip(values, gaps, strict=False)
    )
    data += gaps[-1].encode()
    assert run(JSONSeqDecoder(), split_at(data, cuts)) == values
    assert run(JSONSeqDecoder(), bytewise(data)) == values
    assert run(JSONSeqDecoder(), [data]) == values


@CODEC_SETTINGS
@given(values=st.lists(json_values, max_size=6), cuts=cuts_strategy)
def test_json_seq_reads_ascii_json_with_newlines(values: list[Any], cuts: list[int]) -> None:
    data = "\n".join(json.dumps(v) for v in values).encode()  # ensure_ascii, \uXXXX escapes
    assert run(JSONSeqDecoder(), split_at(data, cuts)) == values


@CODEC_SETTINGS
@given(
    data=st.text(alphabet='{}[]",:0123456789.-+eE tfalsenuIiNy\\\n', max_size=30).map(str.encode)
    | st.binary(max_size=30),
    cuts=cuts_strategy,
)
def test_json_seq_garbage_typed_and_split_invariant(data: bytes, cuts: list[int]) -> None:
    whole = outcome(JSONSeqDecoder, [data])
    split = outcome(JSONSeqDecoder, split_at(data, cuts))
    one_by_one = outcome(JSONSeqDecoder, bytewise(data))
    if whole[0] == "ok":
        assert split == whole and one_by_one == whole
    else:
        assert split[0] == "error" and one_by_one[0] == "error"


@CODEC_SETTINGS
@given(
    data=st.text(alphabet='{}[]",:0123456789.-+eE tfalsenuIiNy\\\n', max_size=30).map(str.encode)
    | st.binary(max_size=30),
    cuts=cuts_strategy,
)
def test_json_seq_garbage_delivers_the_same_values_any_split(data: bytes, cuts: list[int]) -> None:
    whole_values, _ = delivered(JSONSeqDecoder, [data])
    assert delivered(JSONSeqDecoder, split_at(data, cuts))[0] == whole_values
    assert delivered(JSONSeqDecoder, bytewise(data))[0] == whole_values


@CODEC_SETTINGS
@given(
    values=st.lists(json_values, min_size=1, max_size=4),
    limit=st.integers(min_value=1, max_value=40),
    cuts=cuts_strategy,
)
def test_json_seq_value_limit_any_split(values: list[Any], limit: int, cuts: list[int]) -> None:
    encoded = [encode_json_value(v) for v in values]
    data = b"".join(encoded)
    too_large = any(len(e.rstrip(b" ")) > limit for e in encoded)

    def make() -> JSONSeqDecoder:
        return JSONSeqDecoder(max_frame_bytes=limit)

    for chunks in ([data], split_at(data, cuts), bytewise(data)):
        assert outcome(make, chunks) == (("error", FrameTooLarge) if too_large else ("ok", values))


@CODEC_SETTINGS
@given(value=st.dictionaries(token_text, json_values, min_size=1, max_size=3), data=st.data())
def test_json_seq_cut_inside_value_is_truncated(value: dict[str, Any], data: st.DataObject) -> None:
    encoded = encode_json_value({"before": 1}) + encode_json_value(value)
    cut = data.draw(
        st.integers(
            min_value=len(encoded) - len(encode_json_value(value)) + 1, max_value=len(encoded) - 1
        )
    )
    decoder = JSONSeqDecoder()
    with pytest.raises(TruncatedStream):
        run(decoder, split_at(encoded[:cut], data.draw(cuts_strategy)))


def test_json_seq_whitespace_only_chunks_never_stall() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"type": "a"}') == [{"type": "a"}]
    for _ in range(1000):
        assert decoder.feed(b" \n\t\r\n ") == []
    assert decoder.buffered_bytes == 0
    assert decoder.feed(b'{"type":') == []
    assert decoder.feed(b"  ") == []
    assert decoder.feed(b'"b"}  ') == [{"type": "b"}]
    assert decoder.close() == []


def test_json_seq_top_level_numbers_wait_for_a_delimiter() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b"1 2") == [1]
    assert decoder.feed(b"3") == []
    assert decoder.feed(b" ") == [23]
    assert decoder.feed(b"4") == []
    assert decoder.close() == [4]
    assert run(JSONSeqDecoder(), [b"1", b"-2", b"true"]) == [1, -2, True]
    assert run(JSONSeqDecoder(), [b"-", b"Inf", b"inity"]) == [-math.inf]


def test_json_seq_emoji_and_escapes_split() -> None:
    data = encode_json_value({"t": 'a"b\\😀'}) + encode_json_value(["x"])
    for i in range(len(data) + 1):
        assert run(JSONSeqDecoder(), [data[:i], data[i:]]) == [{"t": 'a"b\\😀'}, ["x"]]


def test_json_seq_malformed_reports_offset() -> None:
    decoder = JSONSeqDecoder()
    assert decoder.feed(b'{"a":1} {"b":}') == [{"a": 1}]  # the value before the bad one first
    with pytest.raises(MalformedFrame) as info:
        decoder.close()
    assert info.value.offset == 13
    with pytest.raises(MalformedFrame):
        run(JSONSeqDecoder(), [b"}"])
    with pytest.raises(MalformedFrame):
        run(JSONSeqDecoder(), [b"tru", b"x"])


def test_json_seq_big_value_many_chunks_is_linear() -> None:
    # 2 MB value in 1 KB chunks: a decoder re-parsing its buffer per chunk would take minutes.
    value = {"items": [{"text": "token é " * 8, "n": i} for i in range(10_000)]}
    data = encode_json_value(value)
    decoder = JSONSeqDecoder(max_frame_bytes=len(data))
    out: list[Any] = []
    for i in range(0, len(data), 1024):
        out.extend(decoder.feed(data[i : i + 1024]))
    assert out == [value]


def test_json_seq_10mb_string_with_64kb_limit() -> None:
    limit = 64 * 1024
    decoder = JSONSeqDecoder(max_frame_bytes=limit)
    decoder.feed(b'{"t": "')
    with pytest.raises(FrameTooLarge) as info:
        for _ in range(160):
            decoder.feed(b"x" * limit)
            assert decoder.buffered_bytes <= limit
    assert info.value.offset == 0
    assert decoder.buffered_bytes <= limit


# ------------------------------------------------------------------------------ payload helpers


def test_decode_json_frame_matches_json_loads() -> None:
    for text in ['{"a": [1, 2.5, null]}', " 1 ", '"é"', "NaN"]:
        expected = json.loads(text)
        got = decode_json_frame(text)
        assert got == expected or (got != got and expected != expected)
        assert decode_json_frame(text.encode()) == got or got != got
    for bad in ["", "{", "1 2", "[1,]", b"\xff"]:
        with pytest.raises(MalformedFrame):
            decode_json_frame(bad)
    with pytest.raises(MalformedFrame) as info:
        decode_json_frame('{"a": x}')
    assert info.value.offset == 6


def test_json_encoders_are_compact_utf8() -> None:
    assert encode_json_line({"a": "é", "b": [1, 2]}) == '{"a":"é","b":[1,2]}\n'.encode()
    assert encode_json_value(3) == b"3 "
    assert encode_json_value(True) == b"true"
    assert encode_sse_json({"x": "a\nb"}) == b'data: {"x":"a\\nb"}\n\n'


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        LineDecoder(max_frame_bytes=0)
    with pytest.raises(ValueError):
        JSONSeqDecoder(max_total_bytes=-1)
    with pytest.raises(ValueError):
        LineDecoder(b"")
    unbounded = LineDecoder(max_frame_bytes=None)
    assert unbounded.feed(b"x" * 3_000_000 + b"\n") == [b"x" * 3_000_000]


@pytest.mark.parametrize(
    ("decoder", "opening", "ending", "frame"),
    [
        (LineDecoder(max_frame_bytes=4 << 20), b"", b"\n", lambda body: body),
        (LineDecoder(b"\r\n", max_frame_bytes=4 << 20), b"", b"\r\n", lambda body: body),
        (SSEDecoder(max_frame_bytes=4 << 20), b"data: ", b"\n\n", lambda body: body.decode()),
    ],
)
def test_a_long_frame_is_not_copied_per_chunk(
    decoder: Decoder, opening: bytes, ending: bytes, frame: Callable[[bytes], Any]
) -> None:
    """The unfinished frame is kept as pieces: holding it never needs a second copy of it."""
    import tracemalloc

    body = [bytes([65 + i % 26]) * 1024 for i in range(2048)]  # 2 MiB in 1 KiB chunks
    tracemalloc.start()
    try:
        for chunk in [opening, *body]:
            assert decoder.feed(chunk) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = decoder.buffered_bytes
    assert held == len(opening) + sum(map(len, body))
    assert peak < 1.25 * held  # joining the buffer with each chunk peaked at 2x
    assert decoder.feed(ending) == [frame(b"".join(body))]
