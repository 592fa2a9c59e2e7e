"""Codec edge cases found in review that the property tests do not generate."""

from __future__ import annotations

import pytest

from synapsegen.runtime.codecs import SSEDecoder

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("split", [0, 1, 2, 3, 4, 9])
def test_sse_leading_bom_is_skipped_not_the_first_event(split: int) -> None:
    """Bug: a UTF-8 BOM at the start of the stream (which the SSE spec says to strip) made the
    first line's field name ``\\ufeffdata``, so the first event was silently dropped."""
    stream = BOM + b"data: first\n\ndata:second\nid: 7\nretry: 10\n\n"
    decoder = SSEDecoder(sentinel=None)
    events = decoder.feed(stream[:split]) + decoder.feed(stream[split:]) + decoder.close()
    assert events == ["first", "second"]


def test_sse_bom_is_only_stripped_at_the_stream_start() -> None:
    decoder = SSEDecoder(sentinel=None)
    events = decoder.feed(b"data: a\n\n" + BOM + b"data: b\n\n") + decoder.close()
    assert events == ["a"]  # a BOM later is part of the field name: the event has no data line
