"""Client wire fixes of the Dendrite (issue 10, item 4), against raw servers on 127.0.0.1.

- status messages in latin-1 header bytes arrive as latin-1 text, a JSON ``message`` wins;
- ``call``/``call_stream`` never raise, even when ``deserialize()`` does;
- the ``total_size`` header is the value bittensor 10.5 sends for the same synapse;
- a first-byte timeout is reported as one on every Python (3.10: ``asyncio.TimeoutError`` is
  not the builtin ``TimeoutError``).

Self-contained on purpose (no conftest, no ``_vectors`` helpers, which need Python 3.11), so it
also runs on Python 3.10: ``pytest --noconftest tests/runtime/test_dendrite_wire.py``.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import platform
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bittensor_wallet import Keypair
from pydantic import BaseModel

from synapsegen.runtime.dendrite import Dendrite
from synapsegen.runtime.synapse import StreamingSynapse, Synapse, split_terminal_headers

from ._local_server import LocalServer

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
SIGNATURES = json.loads((VECTORS / "signatures.json").read_text())
SIGNED_REQUESTS = {request["id"]: request for request in SIGNATURES["signed_requests"]}
RECORDED_ON = SIGNATURES["environment"]["python"]
VALIDATOR = Keypair.create_from_seed("0x" + "11" * 32)
MINER_HOTKEY = Keypair.create_from_seed("0x" + "22" * 32).ss58_address


# ------------------------------------------------------------------------------ a raw server

Answer = Callable[[dict[str, str], bytes], bytes]
"""Builds the raw response to one request (its headers, its body)."""


class RawServer(LocalServer):
    """``async with RawServer(answer)``: one HTTP/1.1 response per request, then close; records
    the request headers. An ``answer`` of None never answers (the request stalls)."""

    def __init__(self, answer: Answer | None) -> None:
        super().__init__(MINER_HOTKEY)
        self.answer = answer
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {
            name.strip(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        body = await reader.readexactly(int(headers.get("Content-Length", "0")))
        self.requests.append((headers, body))
        if self.answer is None:
            await asyncio.sleep(3600)  # cancelled at exit
        writer.write(self.answer(headers, body))
        await writer.drain()


def raw_response(
    status: int, body: bytes, headers: list[tuple[str, bytes]], *, chunked: bool = False
) -> bytes:
    """A complete response; header values are given as the exact bytes to send."""
    content_type = b"text/event-stream" if chunked else b"application/json"
    lines = [f"HTTP/1.1 {status} X".encode(), b"content-type: " + content_type]
    lines += [name.encode() + b": " + value for name, value in headers]
    lines += [b"connection: close"]
    if chunked:
        lines.append(b"transfer-encoding: chunked")
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    else:
        lines.append(b"content-length: %d" % len(body))
        payload = body
    return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def echo(status_message: bytes = b"Success") -> Answer:
    """Answer 200 with the request body, as an axon would; the status header as given."""

    def answer(headers: dict[str, str], body: bytes) -> bytes:
        status = [
            ("bt_header_axon_status_code", b"200"),
            ("bt_header_axon_status_message", status_message),
        ]
        return raw_response(200, body, status)

    return answer


def stream(text: bytes) -> Answer:
    """Answer 200 with ``text`` as a chunked stream."""

    def answer(headers: dict[str, str], body: bytes) -> bytes:
        status = [("bt_header_axon_status_code", b"200"), ("bt_header_axon_status_message", b"OK")]
        return raw_response(200, text, status, chunked=True)

    return answer


# ------------------------------------------------------------------------------ synapses


class TextPrompt(Synapse):
    """As in the vectors: one required hashed str, a response field."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    completion: str = ""


class Listed(TextPrompt):
    """With a list field, whose copies forward() must not share (nor count differently)."""

    items: list[Any] = []


class Reply(BaseModel):
    answer: int


class TokenStream(StreamingSynapse):
    """As in the vectors; ``deserialize()`` parses the text as JSON like generated code does
    for a model response (so it raises ValidationError when the miner sent something else)."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    fail_after: int = -1
    completion: str = ""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            parts.append(chunk.decode())
            yield parts[-1]
        self.completion = "".join(parts)

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        data = self.model_dump(exclude={"axon", "dendrite", "computed_body_hash"})
        return {**data, **split_terminal_headers(response.headers)}

    def deserialize(self) -> Reply:  # type: ignore[override]
        return Reply.model_validate_json(self.completion)


class ParsedPrompt(TextPrompt):
    """Non-streaming, with the same kind of deserialize()."""

    def deserialize(self) -> Reply:  # type: ignore[override]
        return Reply.model_validate_json(self.completion)


def dendrite() -> Dendrite:
    return Dendrite(VALIDATOR, external_ip="203.0.113.7")


# ------------------------------------------------------------------------------ (a) latin-1


async def test_latin1_status_header_arrives_as_latin1_text() -> None:
    async with RawServer(echo("Grüß dich".encode("latin-1"))) as server, dendrite() as client:
        synapse = await client.call(server.target, TextPrompt(prompt="hi"), deserialize=False)
    assert synapse.is_success
    assert synapse.axon.status_message == "Grüß dich"
    assert synapse.dendrite.status_message == "Grüß dich"
    assert "Grüß dich" in synapse.model_dump_json()  # raised on lone surrogates


async def test_json_message_wins_over_the_status_header() -> None:
    def forbidden(headers: dict[str, str], body: bytes) -> bytes:
        status = [
            ("bt_header_axon_status_code", b"403"),
            ("bt_header_axon_status_message", "Grüß".encode("latin-1")),
        ]
        return raw_response(403, json.dumps({"message": "Forbidden: Grüß 🙂"}).encode(), status)

    async with RawServer(forbidden) as server, dendrite() as client:
        synapse = await client.call(server.target, TextPrompt(prompt="hi"), deserialize=False)
    assert synapse.is_blacklist
    assert synapse.axon.status_message == synapse.dendrite.status_message == "Forbidden: Grüß 🙂"
    synapse.model_dump_json()


def test_split_terminal_headers_repairs_surrogate_escaped_values() -> None:
    # What aiohttp's parser makes of the latin-1 bytes of "Grüß": UTF-8 with surrogateescape.
    as_aiohttp_decodes = "Grüß".encode("latin-1").decode("utf-8", "surrogateescape")
    parts = split_terminal_headers({"bt_header_axon_status_message": as_aiohttp_decodes})
    assert parts["axon"] == {"status_message": "Grüß"}
    ascii_and_utf8 = {"bt_header_axon_status_message": "ok ü"}  # no surrogates: left alone
    assert split_terminal_headers(ascii_and_utf8)["axon"] == {"status_message": "ok ü"}


async def test_streamed_latin1_status_header_survives_extract_response_json() -> None:
    def answer(headers: dict[str, str], body: bytes) -> bytes:
        status = [("bt_header_axon_status_code", b"200")]
        status.append(("bt_header_axon_status_message", "Grüß".encode("latin-1")))
        return raw_response(200, b'{"answer": 1}', status, chunked=True)

    async with RawServer(answer) as server, dendrite() as client:
        synapse = TokenStream(prompt="hi")
        items = [i async for i in client.call_stream(server.target, synapse, deserialize=False)]
    assert items[-1] is synapse and synapse.is_success
    assert synapse.axon.status_message == "Grüß"
    synapse.model_dump_json()


# ------------------------------------------------------------------------------ (b) never raise


async def test_call_stream_does_not_raise_when_deserialize_does() -> None:
    async with RawServer(stream(b"not json")) as server, dendrite() as client:
        synapse = TokenStream(prompt="hi")
        items = [item async for item in client.call_stream(server.target, synapse)]
    assert items == ["not json", None]  # the tokens, then None for the failed deserialize()
    assert synapse.completion == "not json"
    assert synapse.dendrite.status_code == 422
    assert synapse.dendrite.status_message.startswith(
        "Failed to parse response: deserialize() failed: 1 validation error for Reply"
    )
    assert synapse.axon.status_code == 200  # what the miner said is kept


async def test_call_and_forward_do_not_raise_when_deserialize_does() -> None:
    def answer(headers: dict[str, str], body: bytes) -> bytes:
        reply = {**json.loads(body), "completion": "{}"}
        return echo()(headers, json.dumps(reply).encode())

    async with RawServer(answer) as server, dendrite() as client:
        synapse = ParsedPrompt(prompt="hi")
        assert await client.call(server.target, synapse) is None
        assert synapse.dendrite.status_code == 422
        assert await client.forward([server.target], ParsedPrompt(prompt="hi")) == [None]


async def test_a_transport_failure_is_not_overwritten_by_deserialize() -> None:
    async with RawServer(None) as server, dendrite() as client:
        synapse = TokenStream(prompt="hi")
        items = [item async for item in client.call_stream(server.target, synapse, timeout=0.3)]
    assert items == [None]
    assert synapse.is_timeout
    assert synapse.dendrite.status_message == "Request timeout after 0.3 seconds"


# ------------------------------------------------------------------------------ (c) total_size


def with_utf8_cached(text: str) -> str:
    """``text`` with CPython's cached UTF-8 copy made, as the recorder's non-ASCII prompt had.

    ``total_size`` is ``sys.getsizeof`` summed, and the size of a non-ASCII str includes that
    copy once some C API made it; the recorded value counts it (12 bytes for "héllo 🙂").
    """
    as_utf8 = ctypes.pythonapi.PyUnicode_AsUTF8
    as_utf8.restype, as_utf8.argtypes = ctypes.c_char_p, [ctypes.py_object]
    as_utf8(text)
    return text


def recorded_total_size(request_id: str) -> tuple[Synapse, int]:
    """The synapse of a request captured from a real bittensor 10.5 Dendrite.call, and the
    ``total_size`` header it sent (informational, CPython-specific, but equal for equal input)."""
    request = SIGNED_REQUESTS[request_id]
    body = json.loads(request["body"])
    cls: type[Synapse] = {"TextPrompt": TextPrompt, "TokenStream": TokenStream}[request["class"]]
    fields = {name: body[name] for name in cls.model_fields if name not in Synapse.model_fields}
    fields["prompt"] = with_utf8_cached(fields["prompt"])
    return cls(**fields), int(dict(request["headers"])["total_size"])


def sent_total_size(server: RawServer, index: int = -1) -> int:
    headers, body = server.requests[index]
    assert json.loads(body)["total_size"] == int(headers["total_size"])
    return int(headers["total_size"])


@pytest.mark.skipif(
    platform.python_version_tuple()[:2] != tuple(RECORDED_ON.split(".")[:2])
    or platform.python_implementation() != "CPython",
    reason=f"object sizes are those of CPython {RECORDED_ON}, where the vectors were recorded",
)
@pytest.mark.parametrize("request_id", ["text_prompt_call", "token_stream_call_stream"])
async def test_total_size_is_what_bittensor_sends(request_id: str) -> None:
    synapse, expected = recorded_total_size(request_id)
    timeout = SIGNED_REQUESTS[request_id]["timeout"]
    # The recorded request went to 127.0.0.1 from external_ip 203.0.113.7, as here.
    async with RawServer(echo()) as server, dendrite() as client:
        if isinstance(synapse, StreamingSynapse):
            async for _ in client.call_stream(server.target, synapse, timeout, False):
                pass
        else:
            await client.call(server.target, synapse, timeout, deserialize=False)
        assert sent_total_size(server) == expected


async def test_forward_sends_the_total_size_call_sends() -> None:
    # bittensor's forward sends shallow model_copy()s, so its total_size equals its call's for
    # the same synapse; our copies share nothing, yet must measure the same.
    template = Listed(prompt="hi", items=[1, 2, "a", {"k": [3]}])
    async with RawServer(echo()) as server, dendrite() as client:
        await client.call(server.target, template.model_copy(), deserialize=False)
        results = await client.forward([server.target], template, deserialize=False)
        assert sent_total_size(server, 1) == sent_total_size(server, 0)
    assert results[0].items == template.items and results[0].items is not template.items
    assert results[0].items[3] is not template.items[3]


# ------------------------------------------------------------------------------ (d) Python 3.10


@pytest.mark.parametrize("streaming", [False, True], ids=["call", "call_stream"])
async def test_first_byte_timeout_is_reported_as_such(streaming: bool) -> None:
    async with RawServer(None) as server, dendrite() as client:
        synapse: Synapse
        if streaming:
            synapse = TokenStream(prompt="hi")
            calls = client.call_stream(server.target, synapse, 5.0, False, first_byte_timeout=0.2)
            async for _ in calls:
                pass
        else:
            synapse = TextPrompt(prompt="hi")
            await client.call(server.target, synapse, 5.0, False, first_byte_timeout=0.2)
    assert synapse.is_timeout
    assert synapse.dendrite.status_message == (
        "Request timeout after 0.2 seconds waiting for the first response byte (first_byte_timeout)"
    )
