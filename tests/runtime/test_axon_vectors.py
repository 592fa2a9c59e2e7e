"""Replay the 18 recorded exchanges of ``responses.json`` against our Axon, byte for byte.

Each recorded request is sent over a raw TCP socket exactly as recorded (same header names, case
and order), after substituting its placeholders: ``<axon_port>`` by our port, ``<nonce>`` by a
fresh ``time.time_ns()`` (17 s old for the stale-nonce case) and ``<signature>`` by a real sr25519
signature of the validator key of ``signatures.json`` (the recorded dendrite hotkey
``5DfhGy...``, so no header had to change). The Axon runs with the recorded miner key
(``5HB7kp...``) and the recorded axon uuid, with the recorded routes attached in the recorded
order.

The response must match the recording: status, header names and order, every header value
(volatile ones by shape: axon nonce, process time, date, error uuid, stale age; the axon signature
by verifying it; the client port exactly), and the body (chunk by chunk for streams).

Compared loosely, on purpose:

- ``header_size`` / ``total_size`` values: CPython-specific and informational (vectors README);
- the *case* of ``Transfer-Encoding``: uvicorn's h11 writes ``Transfer-Encoding``, its httptools
  implementation (our default) ``transfer-encoding``; peers compare it case-insensitively. Every
  other name must match exactly, ``bt_header_*`` included.

Deliberate difference: ``missing_signature`` follows 10.5.0 (401 ``Missing Signature``); the
recorded 10.2.0 behaviour (serving the unsigned request with 200) is not reproduced.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from bittensor_wallet import Keypair
from starlette.types import Send

from synapsegen.runtime.axon import Axon
from synapsegen.runtime.signing import request_message, sign
from synapsegen.runtime.synapse import Synapse

from ._vectors import RawStream
from ._wire import axon_signature_verifies, recorded_message, status_line_here

CASE_IDS = [
    "stream_success",
    "stream_fails_mid_stream",
    "json_success",
    "unknown_route_404",
    "missing_nonce_401",
    "bad_signature_401",
    "malformed_signature_401",
    "missing_signature",
    "missing_hotkey_401",
    "stale_nonce_401",
    "replayed_nonce_401",
    "blacklisted_403",
    "body_hash_mismatch_500",
    "forward_raises_500",
    "unparseable_header_500",
    "non_json_content_type_500",
    "body_missing_required_field_500",
    "malformed_json_422",
]

ATTACH_ORDER = [
    "Synapse",
    "TextPrompt",
    "TokenStream",
    "JsonTokenStream",
    "BlockedStream",
    "BoomStream",
    "Blocked",
    "Boom",
]
NONCE_AGE_SECONDS = {"stale_nonce_401": 17}
INFORMATIONAL = {"header_size", "total_size"}

# Shapes of the volatile values we cannot know in advance.
VOLATILE_PATTERNS = {
    "<axon_nonce>": r"\d{19}",
    "<axon_signature>": r"0x[0-9a-f]{128}",
    "<process_time>": r"\d+(?:\.\d+)?(?:e-?\d+)?",
    "<date>": r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT",
    "<error_uuid>": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
    "<age_seconds>": r"\d+\.\d{2}",
    "<content_length>": r"\d+",
}
PLACEHOLDER = re.compile(r"<[a-z_]+>")


# ---- the recorded axon's routes -----------------------------------------------------------------


class TextPrompt(Synapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    completion: str = ""


class TokenStream(RawStream):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    fail_after: int = -1
    completion: str = ""


class JsonTokenStream(RawStream):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    completion: str = ""


class BlockedStream(JsonTokenStream):
    pass


class BoomStream(JsonTokenStream):
    pass


class Blocked(TextPrompt):
    pass


class Boom(TextPrompt):
    pass


def _decode(item: dict[str, str]) -> bytes:
    if item["encoding"] == "base64":
        return base64.b64decode(item["data"])
    return item["data"].encode("utf-8")


@dataclass(frozen=True)
class Vectors:
    cases: dict[str, dict[str, Any]]
    recorded_axon: dict[str, Any]
    miner: Keypair
    validator: Keypair


@pytest.fixture(scope="module")
def vectors(vectors_dir: Path) -> Vectors:
    responses = json.loads((vectors_dir / "responses.json").read_text(encoding="utf-8"))
    keypairs = json.loads((vectors_dir / "signatures.json").read_text(encoding="utf-8"))
    by_address = {
        entry["ss58_address"]: Keypair.create_from_seed(entry["seed_hex"])
        for entry in keypairs["keypairs"]
    }
    return Vectors(
        cases={case["id"]: case for case in responses["cases"]},
        recorded_axon=responses["axon"],
        miner=by_address[responses["axon"]["hotkey"]],
        validator=by_address[responses["dendrite"]["hotkey"]],
    )


@pytest.fixture(scope="module")
def axon(vectors: Vectors) -> Iterator[Axon]:
    """Our Axon dressed as the recorded one: same key, uuid and routes in the same order."""
    sends = [_decode(s) for s in vectors.cases["stream_success"]["token_streamer_sends"]]

    def text_prompt(synapse: TextPrompt) -> TextPrompt:
        synapse.completion = synapse.prompt[::-1]
        return synapse

    def token_stream(synapse: TokenStream) -> Any:
        async def streamer(send: Send) -> None:
            for index, body in enumerate(sends):
                if index == synapse.fail_after:
                    raise RuntimeError("fails mid-stream on purpose")
                await send({"type": "http.response.body", "body": body, "more_body": True})

        return synapse.create_streaming_response(streamer)

    def echo_stream(synapse: JsonTokenStream) -> Any:
        async def streamer(send: Send) -> None:
            await send({"type": "http.response.body", "body": b"{}", "more_body": True})

        return synapse.create_streaming_response(streamer)

    def blacklist_all(synapse: Synapse) -> tuple[bool, str]:
        return True, "always"

    def boom(synapse: Boom) -> Boom:
        raise RuntimeError("boom")

    async def boom_stream(synapse: BoomStream) -> Any:
        raise RuntimeError("boom")

    def blocked(synapse: Blocked) -> Blocked:
        return synapse

    def blocked_stream(synapse: BlockedStream) -> Any:
        return echo_stream(synapse)

    served = Axon(vectors.miner)
    served.uuid = vectors.recorded_axon["uuid"]
    served.attach(text_prompt).attach(token_stream).attach(echo_stream)
    served.attach(blocked_stream, blacklist_fn=blacklist_all).attach(boom_stream)
    served.attach(blocked, blacklist_fn=blacklist_all).attach(boom)
    # The recorded 404 message lists the routes in attach order; "attached" is sorted.
    assert served.synapse_names == ATTACH_ORDER
    assert sorted(ATTACH_ORDER) == vectors.recorded_axon["attached"]
    served.start()
    yield served
    served.stop(5.0)


# ---- a raw HTTP/1.1 exchange --------------------------------------------------------------------


@dataclass
class RawResponse:
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes
    chunks: list[bytes] | None
    client_port: int
    complete: bool = True  # a chunked body ended by its zero-length chunk


async def exchange(port: int, request: bytes) -> RawResponse:
    """Send ``request`` on a fresh connection and read one response (chunked or sized)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        client_port = writer.get_extra_info("sockname")[1]
        writer.write(request)
        await writer.drain()
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")[:-2]
        headers = [(k, v.lstrip()) for k, v in (line.split(":", 1) for line in head[1:])]
        lowered = {k.lower(): v for k, v in headers}
        chunks: list[bytes] | None = None
        complete = True
        if lowered.get("transfer-encoding") == "chunked":
            chunks = []
            while True:
                try:
                    size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
                except asyncio.IncompleteReadError:  # the server closed mid-body
                    complete = False
                    break
                data = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(data[:-2])
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(lowered["content-length"]))
        return RawResponse(head[0], headers, body, chunks, client_port, complete)
    finally:
        writer.close()


def render_request(case: dict[str, Any], values: dict[str, str]) -> bytes:
    """The recorded request bytes with placeholders substituted and Content-Length recomputed."""

    def fill(text: str) -> str:
        return PLACEHOLDER.sub(lambda m: values[m.group(0)], text)

    request = case["request"]
    body = fill(_decode(request["body"]).decode("utf-8")).encode("utf-8")
    return recorded_message(request["request_line"], request["headers"], body, fill)


def signed_values(case: dict[str, Any], vectors: Vectors, port: int) -> dict[str, str]:
    """Placeholder values for one case: our port, a fresh nonce and a real signature."""
    headers = dict(case["request"]["headers"])
    nonce = time.time_ns() - NONCE_AGE_SECONDS.get(case["id"], 0) * 1_000_000_000
    dendrite_hotkey = headers.get("bt_header_dendrite_hotkey", vectors.validator.ss58_address)
    assert dendrite_hotkey == vectors.validator.ss58_address
    message = request_message(
        nonce,
        dendrite_hotkey,
        headers["bt_header_axon_hotkey"],
        headers["bt_header_dendrite_uuid"],
        headers["computed_body_hash"],
    )
    return {
        "<axon_port>": str(port),
        "<nonce>": str(nonce),
        "<signature>": sign(vectors.validator, message),
    }


def expected_pattern(text: str, known: dict[str, str]) -> re.Pattern[str]:
    """``text`` as a regex: known placeholders exact, volatile ones by shape."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[position : match.start()]))
        name = match.group(0)
        parts.append(re.escape(known[name]) if name in known else VOLATILE_PATTERNS[name])
        position = match.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts), re.DOTALL)


# ---- the tests ----------------------------------------------------------------------------------


def test_case_list_matches_the_recording(vectors: Vectors) -> None:
    assert sorted(vectors.cases) == sorted(CASE_IDS)


@pytest.mark.parametrize("case_id", CASE_IDS)
async def test_recorded_exchange(case_id: str, vectors: Vectors, axon: Axon) -> None:
    case = vectors.cases[case_id]
    values = signed_values(case, vectors, axon.port)
    request = render_request(case, values)
    if case_id == "replayed_nonce_401":
        first = await exchange(axon.port, request)  # the original, served
        assert first.status_line == "HTTP/1.1 200 OK"
    reply = await exchange(axon.port, request)

    recorded = case["response"]
    assert reply.status_line == status_line_here(recorded["status_line"])
    known = {**values, "<client_port>": str(reply.client_port)}

    # Header names, order and values.
    expected_headers: list[tuple[str, str]] = [tuple(h) for h in recorded["headers"]]
    assert [k.lower() for k, _ in reply.headers] == [k.lower() for k, _ in expected_headers]
    for (name, value), (expected_name, expected_value) in zip(
        reply.headers, expected_headers, strict=True
    ):
        if expected_name.lower() != "transfer-encoding":
            assert name == expected_name
        if name in INFORMATIONAL:
            assert value.isdigit(), (name, value)
        elif name == "content-length":
            assert value == str(len(reply.body))
            if expected_value != "<content_length>":
                assert value == expected_value
        else:
            assert expected_pattern(expected_value, known).fullmatch(value), (name, value)

    # The axon's own signature on error responses verifies with the miner key.
    headers = dict(reply.headers)
    if "bt_header_axon_signature" in headers:
        assert axon_signature_verifies(headers, vectors.miner)

    # Body: chunk by chunk for streams, by pattern otherwise.
    if recorded.get("chunked"):
        assert reply.chunks == [_decode(chunk) for chunk in recorded["chunks"]]
        # Deliberate difference (docs/runtime.md, Hardening): bittensor ends a failed stream with
        # its final chunk, so a truncated answer looks complete; ours ends without it.
        assert reply.complete is (case_id != "stream_fails_mid_stream")
    else:
        expected_body = _decode(recorded["body"]).decode("utf-8")
        body = reply.body.decode("utf-8")
        assert expected_pattern(expected_body, known).fullmatch(body), body


async def test_missing_signature_follows_10_5_not_10_2(vectors: Vectors, axon: Axon) -> None:
    """bittensor 10.2.0 served an unsigned request (recorded: 200); we refuse it like 10.5.0."""
    case = vectors.cases["missing_signature"]
    assert case["bittensor_10_2_0"]["response"]["status"] == 200
    reply = await exchange(axon.port, render_request(case, signed_values(case, vectors, axon.port)))
    assert reply.status_line == "HTTP/1.1 401 Unauthorized"
    assert json.loads(reply.body) == {"message": "Not Verified with error: Missing Signature"}
