"""Helpers of the Dendrite tests: a scripted raw HTTP server on 127.0.0.1, keys, synapse classes.

The scripted server speaks just enough HTTP/1.1 to read requests (head plus Content-Length body);
what it answers is up to a script, so tests can send exact recorded bytes, stall, or hang up.
"""

import asyncio
import codecs
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from bittensor_wallet import Keypair
from pydantic import PrivateAttr

from synapsegen.runtime.codecs import TextDecoder
from synapsegen.runtime.synapse import StreamingSynapse, Synapse, split_terminal_headers

from ._local_server import LocalServer
from ._vectors import load as load_vectors


def keypair(name: str) -> Keypair:
    """One of the fixed test keypairs of signatures.json (validator, miner, alice, other)."""
    for entry in load_vectors("signatures.json")["keypairs"]:
        if entry["name"] == name:
            kp = Keypair.create_from_seed(entry["seed_hex"])
            assert kp.ss58_address == entry["ss58_address"]
            return kp
    raise KeyError(name)


# ------------------------------------------------------------------------------ scripted server


@dataclass
class RawRequest:
    """One request as the scripted server read it."""

    connection: int  # index of the TCP connection it arrived on (0, 1, ...)
    request_line: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body)


Script = Callable[[RawRequest, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request; returns True to keep the connection open for another request."""


class ScriptedServer(LocalServer):
    """``async with ScriptedServer(script) as server:`` listens on 127.0.0.1:server.port."""

    def __init__(self, script: Script) -> None:
        super().__init__(keypair("miner").ss58_address)
        self.script = script
        self.requests: list[RawRequest] = []
        self.connections = 0

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        index = self.connections
        self.connections += 1
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.decode("latin-1").split("\r\n")
            headers = [
                (k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
            ]
            request = RawRequest(index, lines[0], headers, b"")
            length = int(request.header("content-length") or 0)
            request.body = await reader.readexactly(length)
            self.requests.append(request)
            if not await self.script(request, writer):
                return


def send_bytes(data: bytes, *, keep_open: bool = False, then_hang: bool = False) -> Script:
    """Script: write ``data``; then hang forever, keep the connection, or close it."""

    async def script(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if data:
            writer.write(data)
            await writer.drain()
        if then_hang:
            await asyncio.sleep(3600)
        return keep_open

    return script


def http_response(
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: list[tuple[str, str]] | None = None,
    reason: str = "X",
) -> bytes:
    """A complete Content-Length response."""
    head = [f"HTTP/1.1 {status} {reason}", f"content-type: {content_type}"]
    head += [f"{k}: {v}" for k, v in headers or []]
    head.append(f"content-length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def chunked_response(
    chunks: list[bytes], *, headers: list[tuple[str, str]] | None = None, end: bool = True
) -> bytes:
    """A 200 text/event-stream chunked response (``end=False`` omits the 0-chunk)."""
    head = ["HTTP/1.1 200 OK", "content-type: text/event-stream"]
    head += [f"{k}: {v}" for k, v in headers or []]
    head.append("transfer-encoding: chunked")
    out = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
    for chunk in chunks:
        out += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    return out + (b"0\r\n\r\n" if end else b"")


def echo_json_script(
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    *,
    extra_headers: list[tuple[str, str]] | None = None,
) -> Script:
    """Script: answer 200 with the request body (after ``transform``) like an axon would."""

    async def script(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        body = request.json()
        body["axon"] = {**body["axon"], "status_code": 200, "status_message": "Success"}
        if transform is not None:
            body = transform(body)
        headers = [
            ("bt_header_axon_status_code", "200"),
            ("bt_header_axon_status_message", "Success"),
        ]
        writer.write(
            http_response(200, json.dumps(body).encode(), headers=headers + (extra_headers or []))
        )
        await writer.drain()
        return True

    return script


# ------------------------------------------------------------------------------ synapse classes


def _terminal_json(synapse: Synapse, response: Any) -> dict[str, Any]:
    """extract_response_json done right: every field, terminals from the public headers."""
    data = synapse.model_dump()
    parts = split_terminal_headers(response.headers)
    data["axon"], data["dendrite"] = parts["axon"], parts["dendrite"]
    return data


async def runtime_text(synapse: Any, response: Any) -> AsyncIterator[str]:
    """A ``process_streaming_response`` the way generated code does it: raw UTF-8 text decoded
    incrementally with the runtime's ``TextDecoder`` (a character cut at the end of the stream is
    a TruncatedStream), accumulated locally and assigned to ``completion`` even when the stream
    fails, so what came survives a timeout or a cut."""
    decoder = TextDecoder()
    parts: list[str] = []
    try:
        async for chunk in response.content.iter_any():
            for text in decoder.feed(chunk):
                parts.append(text)
                yield text
        decoder.close()  # returns no text: TextDecoder buffers at most an incomplete character
    finally:
        synapse.completion = "".join(parts)


class TextPrompt(Synapse):
    """The vectors' TextPrompt: one required hashed str, a response field."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    completion: str = ""

    def deserialize(self) -> str:
        return self.completion


class TokenStream(StreamingSynapse):
    """Like the recorder's TokenStream: strict incremental UTF-8, completion assigned at the end.

    ``received`` keeps the raw bytes the subclass read, for comparison with the vectors.
    """

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    fail_after: int = -1
    completion: str = ""
    _received: bytearray = PrivateAttr(default_factory=bytearray)

    @property
    def received(self) -> bytes:
        return bytes(self._received)

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            self._received += chunk
            text = decoder.decode(chunk)
            if text:
                parts.append(text)
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            parts.append(tail)
            yield tail
        self.completion = "".join(parts)

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return _terminal_json(self, response)

    def deserialize(self) -> str:
        return self.completion


class BlockedStream(TokenStream):
    pass


class BoomStream(TokenStream):
    pass


class JsonTokenStream(TokenStream):
    """Lines of JSON ``{"token": ...}``; a non-JSON line raises JSONDecodeError (recorded 422)."""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        buffer = b""
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            self._received += chunk
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                token = json.loads(line)["token"]
                parts.append(token)
                yield token
        self.completion = "".join(parts)


class Blocked(TextPrompt):
    pass


class Boom(TextPrompt):
    pass


class Nope(TextPrompt):
    pass


SYNAPSE_CLASSES: dict[str, type[Synapse]] = {
    cls.__name__: cls
    for cls in (
        TextPrompt,
        TokenStream,
        BlockedStream,
        BoomStream,
        JsonTokenStream,
        Blocked,
        Boom,
        Nope,
    )
}


def make_synapse(class_name: str, prompt: str = "hi") -> Synapse:
    return SYNAPSE_CLASSES[class_name](prompt=prompt)


async def drain(stream: AsyncIterator[Any]) -> tuple[list[Any], Any]:
    """All items of a call_stream generator: (items before the last, the last)."""
    items = [item async for item in stream]
    assert items, "call_stream must yield at least the final synapse"
    return items[:-1], items[-1]
