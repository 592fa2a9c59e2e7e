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
  a multi-byte UTF-8 character) raises ``TruncatedStream``; nothing is silently dropped.
- Limits: ``max_frame_bytes`` bounds the bytes buffered for one incomplete frame (``FrameTooLarge``
  is raised as soon as the buffer would exceed it, without buffering the excess);
  ``max_total_bytes`` (None = unbounded) bounds the whole body (``StreamTooLarge``).
- Invalid UTF-8, invalid JSON, or a framing violation raises ``MalformedFrame``.
- All errors derive from ``StreamError`` and carry the byte offset in the stream where it happened.

Decoders (T is what ``feed``/``close`` return items of):
- ``TextDecoder``: raw UTF-8 text, no framing; T = str (the text decoded so far from this chunk;
  empty strings are not returned). Only ``max_total_bytes`` applies.
- ``LineDecoder(delimiter=b"\n")``: delimiter-terminated frames; T = bytes (frame without the
  delimiter; a trailing b"\r" is stripped when the delimiter is b"\n"). Empty frames are skipped.
  ``close()`` raises TruncatedStream if unterminated bytes remain.
- ``SSEDecoder(sentinel="[DONE]" | None)``: Server-Sent Events; T = str, the event's data (``data:``
  lines joined by "\n"), emitted at the blank line that ends the event. Comments and other fields are
  ignored; "\r\n", "\r" and "\n" line ends are all accepted. An event whose data equals the sentinel
  is not returned; it sets ``decoder.done = True``. Any event after the sentinel raises
  MalformedFrame. ``close()`` raises TruncatedStream if an event was started but not ended.
- ``JSONSeqDecoder``: JSON values back to back, optionally separated by whitespace; T = Any (the
  parsed value, as ``json.loads`` gives). Whitespace alone never stalls it.

Payload helpers for framed decoders:
- ``decode_text_frame(frame: bytes) -> str``  (strict UTF-8; MalformedFrame on error)
- ``decode_json_frame(frame: bytes | str) -> Any``  (json.loads; MalformedFrame on error)

Encoders (server side), each returns the exact bytes of one frame:
- ``encode_text(text: str) -> bytes``
- ``encode_line(payload: str | bytes, delimiter: bytes = b"\n") -> bytes`` (ValueError if the payload
  contains the delimiter)
- ``encode_json_line(value: Any) -> bytes``  (compact JSON + b"\n"; JSON never contains a raw newline)
- ``encode_json_value(value: Any) -> bytes`` (compact JSON, for back-to-back framing)
- ``encode_sse(data: str) -> bytes``  (one event: each line of data as ``data: ...``, then a blank
  line; multi-line data round-trips)
- ``encode_sse_json(value: Any) -> bytes``  (encode_sse of compact JSON)
"""
