"""Unit-level behaviour of the Dendrite, against scripted raw servers on 127.0.0.1."""

import asyncio
import dataclasses
import enum
import json
import socket
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import aiohttp
import pytest
from pydantic import BaseModel, Field, computed_field, field_serializer, model_serializer

from synapsegen.runtime.codecs import MalformedFrame, TruncatedStream
from synapsegen.runtime.dendrite import (
    _MAX_CACHED_URLS,
    AxonTarget,
    Dendrite,
    _shared_body_hash,
)
from synapsegen.runtime.signing import VERSION_AS_INT, request_message, verify
from synapsegen.runtime.streaming import MinerError
from synapsegen.runtime.synapse import StreamingSynapse, Synapse

from ._dendrite_helpers import (
    RawRequest,
    ScriptedServer,
    TextPrompt,
    TokenStream,
    chunked_response,
    drain,
    echo_json_script,
    http_response,
    keypair,
    runtime_text,
    send_bytes,
)

VALIDATOR = keypair("validator")
MINER_HOTKEY = keypair("miner").ss58_address


def dendrite(**kwargs: Any) -> Dendrite:
    kwargs.setdefault("external_ip", "203.0.113.7")
    return Dendrite(VALIDATOR, **kwargs)


def stream_ok(chunks: list[bytes]) -> bytes:
    headers = [("bt_header_axon_status_code", "200"), ("bt_header_axon_status_message", "Success")]
    return chunked_response(chunks, headers=headers)


# ------------------------------------------------------------------------------ AxonTarget


def test_axon_target_validates_and_is_frozen() -> None:
    target = AxonTarget("127.0.0.1", 8091, MINER_HOTKEY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.port = 1  # type: ignore[misc]
    for bad in (("", 1, "h"), ("1.2.3.4", 0, "h"), ("1.2.3.4", True, "h"), ("1.2.3.4", "80", "h")):
        with pytest.raises(ValueError):
            AxonTarget(*bad)  # type: ignore[arg-type]


def test_axon_target_from_axon_info_like_objects() -> None:
    info = SimpleNamespace(ip="198.51.100.20", port=8091, hotkey=MINER_HOTKEY, coldkey="x")
    target = AxonTarget.from_axon_info(info)
    assert target == AxonTarget("198.51.100.20", 8091, MINER_HOTKEY)
    assert AxonTarget.from_axon_info(target) is target
    axon_like = SimpleNamespace(info=lambda: info)  # bittensor.Axon exposes .info()
    assert AxonTarget.from_axon_info(axon_like) == target
    with pytest.raises(TypeError, match="ip, port and hotkey"):
        AxonTarget.from_axon_info(object())


def test_url_host_rule() -> None:
    target = AxonTarget("198.51.100.20", 8091, MINER_HOTKEY)
    assert target.url_host("203.0.113.7") == "198.51.100.20:8091"
    assert target.url_host("198.51.100.20") == "0.0.0.0:8091"  # bittensor's same-machine rule
    assert target.url_host(None) == "198.51.100.20:8091"
    assert AxonTarget("2001:db8::1", 8091, MINER_HOTKEY).url_host(None) == "[2001:db8::1]:8091"


async def test_same_machine_rule_on_the_wire() -> None:
    async with (
        ScriptedServer(echo_json_script()) as server,
        dendrite(external_ip="198.51.100.20") as client,
    ):
        target = AxonTarget("198.51.100.20", server.port, MINER_HOTKEY)
        result = await client.call(target, TextPrompt(prompt="hi"), deserialize=False)
    assert result.is_success
    assert server.requests[0].header("host") == f"0.0.0.0:{server.port}"


def test_constructor_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        Dendrite(object())
    with pytest.raises(ValueError):
        Dendrite(VALIDATOR, first_byte_timeout=0)
    wallet = SimpleNamespace(hotkey=VALIDATOR)
    assert Dendrite(wallet).keypair is VALIDATOR


# ------------------------------------------------------------------------------ request building


async def test_request_matches_the_bittensor_wire_format() -> None:
    async with ScriptedServer(echo_json_script()) as server, dendrite() as client:
        target = server.target
        synapse = TextPrompt(prompt="hi")
        result = await client.call(target, synapse, timeout=5.0, deserialize=False)
    assert result is synapse and result.is_success
    request = server.requests[0]
    assert request.request_line == "POST /TextPrompt HTTP/1.1"
    names = [name for name, _ in request.headers]
    bt_names = [n for n in names if n[0].islower()]  # ours; aiohttp's own are capitalised
    assert bt_names[:2] == ["name", "timeout"] and bt_names[-3:] == [
        "header_size",
        "total_size",
        "computed_body_hash",
    ]
    headers = dict(request.headers)
    assert headers["name"] == "TextPrompt" and headers["timeout"] == "5.0"
    assert headers["Content-Type"] == "application/json"
    assert headers["bt_header_input_obj_prompt"] == "IiI="
    assert headers["bt_header_axon_hotkey"] == MINER_HOTKEY
    assert headers["bt_header_axon_port"] == str(server.port)
    assert headers["bt_header_dendrite_ip"] == "203.0.113.7"
    assert headers["bt_header_dendrite_version"] == str(VERSION_AS_INT)
    assert headers["bt_header_dendrite_uuid"] == client.uuid
    assert headers["bt_header_dendrite_hotkey"] == VALIDATOR.ss58_address
    # §4 test vector for prompt="hi".
    assert headers["computed_body_hash"] == (
        "559e924cbd7f360d46dc25df104d0b374cee3afc726eb655d78a1d2e3723e476"
    )
    message = request_message(
        int(headers["bt_header_dendrite_nonce"]),
        VALIDATOR.ss58_address,
        MINER_HOTKEY,
        client.uuid,
        headers["computed_body_hash"],
    )
    assert verify(VALIDATOR.ss58_address, message, headers["bt_header_dendrite_signature"])
    body = request.json()
    assert request.body.startswith(b'{"name": "TextPrompt", "timeout": 5.0, ')  # json.dumps style
    assert body["computed_body_hash"] == "" and body["header_size"] == 0
    assert str(body["total_size"]) == headers["total_size"]
    assert body["prompt"] == "hi" and body["dendrite"]["signature"].startswith("0x")


def test_nonces_strictly_increase_even_when_the_clock_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import synapsegen.runtime.dendrite as module

    monkeypatch.setattr(module.time, "time_ns", lambda: 1_700_000_000_000_000_000)
    client = dendrite()
    target = AxonTarget("198.51.100.20", 8091, MINER_HOTKEY)
    nonces = [
        client.preprocess_synapse_for_request(target, TextPrompt(prompt="p")).dendrite.nonce
        for _ in range(5)
    ]
    assert nonces == [1_700_000_000_000_000_000 + i for i in range(5)]


async def test_overlapping_requests_to_one_axon_use_distinct_uuids() -> None:
    release = asyncio.Event()

    async def slow_echo(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        return await echo_json_script()(request, writer)

    async with ScriptedServer(slow_echo) as server, dendrite() as client:
        calls = [
            asyncio.ensure_future(client.call(server.target, TextPrompt(prompt=str(i))))
            for i in range(3)
        ]
        while len(server.requests) < 3:
            await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*calls)
        uuids = [r.header("bt_header_dendrite_uuid") for r in server.requests]
        assert len(set(uuids)) == 3 and client.uuid in uuids
        # Sequential requests (nothing else in flight) always carry the Dendrite's own uuid.
        for _ in range(2):
            await client.call(server.target, TextPrompt(prompt="again"))
        assert [r.header("bt_header_dendrite_uuid") for r in server.requests[3:]] == [
            client.uuid
        ] * 2


# ------------------------------------------------------------------------------ response merge


class Frozen(Synapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    model_name: str = Field(default="local-model", frozen=True)
    completion: str = ""
    score: float = 0.5


async def test_merge_keeps_frozen_fields_overlays_headers_and_mirrors_status() -> None:
    def server_side(body: dict[str, Any]) -> dict[str, Any]:
        body.update(model_name="server-model", completion="done", computed_body_hash="evil")
        del body["score"]  # absent from the JSON: reset to its default (bittensor semantics)
        body["axon"]["status_message"] = "from body"
        return body

    extra = [
        ("bt_header_axon_process_time", "0.25"),
        ("bt_header_axon_version", "10005000"),
        ("bt_header_dendrite_port", "51234"),
        ("bt_header_axon_nonce", "not-a-number"),  # malformed: ignored, not a parse failure
    ]
    script = echo_json_script(server_side, extra_headers=extra)
    async with ScriptedServer(script) as server, dendrite() as client:
        synapse = Frozen(prompt="q", score=0.9)
        await client.call(server.target, synapse, deserialize=False)
    assert synapse.model_name == "local-model"  # frozen: kept
    assert synapse.computed_body_hash == ""  # frozen: kept
    assert synapse.completion == "done" and synapse.score == 0.5
    assert synapse.axon.process_time == 0.25 and synapse.axon.version == 10005000
    assert synapse.axon.status_message == "Success"  # the header wins over the body
    assert synapse.axon.nonce is None
    assert synapse.dendrite.port == 51234
    assert (synapse.dendrite.status_code, synapse.dendrite.status_message) == (200, "Success")
    assert synapse.dendrite.hotkey == VALIDATOR.ss58_address  # local values not in headers stay
    assert synapse.dendrite.process_time is not None and synapse.dendrite.process_time > 0


async def test_non_200_call_tolerates_a_non_json_body() -> None:
    wire = http_response(502, b"<html>Bad Gateway</html>", content_type="text/html")
    async with ScriptedServer(send_bytes(wire)) as server, dendrite() as client:
        synapse = await client.call(server.target, TextPrompt(prompt="q"), deserialize=False)
    assert (synapse.axon.status_code, synapse.axon.status_message) == (
        502,
        "<html>Bad Gateway</html>",
    )
    assert (synapse.dendrite.status_code, synapse.dendrite.status_message) == (
        502,
        "<html>Bad Gateway</html>",
    )


async def test_non_200_stream_is_not_fed_to_the_subclass_nor_yielded() -> None:
    body = json.dumps({"message": "Forbidden. Key is blacklisted: no."}).encode()
    headers = [("bt_header_axon_status_code", "403")]
    wire = http_response(403, body, headers=headers)
    async with ScriptedServer(send_bytes(wire)) as server, dendrite() as client:
        synapse = TokenStream(prompt="q")
        tokens, final = await drain(client.call_stream(server.target, synapse, deserialize=False))
    assert tokens == [] and final is synapse and synapse.received == b""
    assert synapse.is_blacklist
    assert synapse.dendrite.status_message == "Forbidden. Key is blacklisted: no."
    assert synapse.completion == ""


async def test_huge_error_body_is_bounded() -> None:
    wire = http_response(500, b"x" * 1_000_000, content_type="text/plain")
    async with ScriptedServer(send_bytes(wire)) as server, dendrite() as client:
        tokens, final = await drain(client.call_stream(server.target, TokenStream(prompt="q")))
    assert tokens == [] and final == ""  # deserialize() of the synapse: its completion
    # The synapse itself: the message is cut, the connection was not pooled half-read.
    synapse = TokenStream(prompt="q")
    async with ScriptedServer(send_bytes(wire)) as server, dendrite() as client:
        await drain(client.call_stream(server.target, synapse))
    assert synapse.dendrite.status_code == 500
    assert synapse.dendrite.status_message == "x" * 1024


# ------------------------------------------------------------------------------ errors, timeouts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_is_503() -> None:
    port = closed_port()
    async with dendrite() as client:
        synapse = await client.call(
            AxonTarget("127.0.0.1", port, MINER_HOTKEY), TextPrompt(prompt="q"), deserialize=False
        )
    assert synapse.dendrite.status_code == 503
    assert synapse.dendrite.status_message == f"Service unavailable at 127.0.0.1:{port}/TextPrompt"
    assert synapse.is_failure and synapse.dendrite.process_time is not None


async def test_total_timeout_is_408_and_keeps_earlier_tokens() -> None:
    wire = chunked_response([b"t0 "], end=False)
    async with ScriptedServer(send_bytes(wire, then_hang=True)) as server, dendrite() as client:
        synapse = TokenStream(prompt="q")
        tokens, _ = await drain(client.call_stream(server.target, synapse, timeout=0.3))
    assert tokens == ["t0 "]
    assert synapse.is_timeout
    assert synapse.dendrite.status_message == "Request timeout after 0.3 seconds"


@pytest.mark.parametrize(
    "wire",
    [
        b"",  # nothing at all: not even the response headers
        chunked_response([], end=False),  # headers of a stream, no body byte
        http_response(200, b"{}")[:-2],  # a JSON response whose body never arrives
    ],
    ids=["no-headers", "headers-no-body", "json-no-body"],
)
@pytest.mark.parametrize("streaming", [True, False], ids=["call_stream", "call"])
async def test_first_byte_timeout_is_408(wire: bytes, streaming: bool) -> None:
    async with ScriptedServer(send_bytes(wire, then_hang=True)) as server, dendrite() as client:
        if streaming:
            synapse: Synapse = TokenStream(prompt="q")
            tokens, _ = await drain(
                client.call_stream(server.target, synapse, timeout=30.0, first_byte_timeout=0.2)
            )
            assert tokens == []
        else:
            synapse = TextPrompt(prompt="q")
            await client.call(server.target, synapse, timeout=30.0, first_byte_timeout=0.2)
    assert synapse.is_timeout
    assert synapse.dendrite.status_message == (
        "Request timeout after 0.2 seconds waiting for the first response byte (first_byte_timeout)"
    )


async def test_first_byte_timeout_does_not_cut_a_stream_that_started() -> None:
    async def slow_stream(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(stream_ok([b"a"])[: -len(b"0\r\n\r\n")])
        await writer.drain()
        for token in (b"b", b"c"):
            await asyncio.sleep(0.15)  # each gap is shorter than the first-byte limit, the sum not
            writer.write(b"1\r\n" + token + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    async with ScriptedServer(slow_stream) as server, dendrite(first_byte_timeout=0.2) as client:
        synapse = TokenStream(prompt="q")
        tokens, _ = await drain(client.call_stream(server.target, synapse, timeout=5.0))
    assert "".join(tokens) == "abc" and synapse.is_success


def test_error_mapping_uses_exact_types() -> None:
    client = dendrite()
    cases: list[tuple[BaseException, int, str]] = [
        # What asyncio.wait_for raises: before Python 3.11 not the builtin TimeoutError, which
        # falls to the default bucket there (as in bittensor, whose table names asyncio's).
        (asyncio.TimeoutError(), 408, "Request timeout after 3.0 seconds"),
        (aiohttp.ServerDisconnectedError(), 503, "Service disconnected: Server disconnected"),
        (aiohttp.ClientPayloadError("cut"), 400, "Payload error: cut"),
        (aiohttp.ClientError("boom"), 500, "Client error: boom"),
        # Subclasses fall through to bittensor's default bucket.
        (
            aiohttp.ClientOSError(32, "Can not write request body"),
            422,
            "Failed to parse response: ",
        ),
        (ValueError("bad"), 422, "Failed to parse response: bad"),
        (
            TruncatedStream("stream ends inside a UTF-8 character", 8),
            422,
            "Failed to parse response: stream ends inside a UTF-8 character (at byte 8)",
        ),
        (MalformedFrame("invalid JSON"), 422, "Failed to parse response: invalid JSON"),
        (MinerError("model overloaded"), 422, "Failed to parse response: model overloaded"),
    ]
    for exc, code, message in cases:
        synapse = TextPrompt(prompt="q", timeout=3.0)
        client.process_error_message(synapse, "TextPrompt", exc)
        assert synapse.dendrite.status_code == code, exc
        assert synapse.dendrite.status_message.startswith(message), exc


class Text(TokenStream):
    """Decodes with the runtime's TextDecoder: a truncated character is a TruncatedStream."""

    process_streaming_response = runtime_text


async def test_stream_errors_are_recorded_as_422_not_swallowed() -> None:
    wire = stream_ok([b"Hello", b", w\xc3"])  # the server stopped inside 'ö', ending cleanly
    async with ScriptedServer(send_bytes(wire)) as server, dendrite() as client:
        synapse = Text(prompt="q")
        tokens, _ = await drain(client.call_stream(server.target, synapse))
    assert "".join(tokens) == "Hello, w" == synapse.completion  # what came stays
    assert synapse.dendrite.status_code == 422 and synapse.is_failure
    assert synapse.dendrite.status_message == (
        "Failed to parse response: stream ends inside a UTF-8 character (at byte 8)"
    )


# ------------------------------------------------------------------------------ copies, forward


class Collecting(StreamingSynapse):
    """The classic bug: appends to a list field in place while streaming."""

    items: list[str] = Field(default_factory=list)
    meta: dict[str, int] = Field(default_factory=dict)

    async def process_streaming_response(self, response: Any) -> Any:
        async for chunk in response.content.iter_any():
            self.items.append(chunk.decode())
            self.meta["chunks"] = self.meta.get("chunks", 0) + 1
            yield chunk.decode()

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {**self.model_dump(), "axon": {"status_code": 200, "status_message": "Success"}}


async def test_forward_gives_every_axon_a_deep_copy() -> None:
    servers = [ScriptedServer(send_bytes(stream_ok([f"m{i}".encode()]))) for i in range(3)]
    for server in servers:
        await server.__aenter__()
    try:
        template = Collecting(items=["shared"], meta={"seed": 1})
        async with dendrite() as client:
            streams = await client.forward([s.target for s in servers], template, deserialize=False)
            results = [(await drain(stream))[1] for stream in streams]
    finally:
        for server in servers:
            await server.__aexit__(None, None, None)
    assert [r.items for r in results] == [["shared", f"m{i}"] for i in range(3)]
    assert [r.meta for r in results] == [{"seed": 1, "chunks": 1}] * 3
    assert template.items == ["shared"] and template.meta == {"seed": 1}
    assert template.dendrite.nonce is None  # the template itself was never sent


async def test_forward_single_and_list_shapes() -> None:
    async with ScriptedServer(echo_json_script()) as server, dendrite() as client:
        template = TextPrompt(prompt="q")
        single = await client.forward(server.target, template)
        many = await client(  # __call__ is forward
            [server.target, server.target], template, deserialize=False, run_async=False
        )
    assert single == ""  # deserialize() -> completion
    assert isinstance(many, list) and len(many) == 2 and all(s.is_success for s in many)
    assert many[0] is not many[1] and template.dendrite.status_code is None


def _a_bittensor_synapse() -> Any:
    """An instance of a class that derives from one of bittensor's, as ``bittensor.Synapse``
    subclasses do (bittensor itself is not installed here; tests/interop uses the real one)."""
    base = type("Synapse", (BaseModel,), {"__module__": "bittensor.core.synapse"})
    echo = type("BtEcho", (base,), {"__module__": "validator", "__annotations__": {"text": str}})
    return echo(text="abc")


@pytest.mark.parametrize("method", ["call", "call_stream", "forward"])
@pytest.mark.parametrize(
    ("make", "says"),
    [
        pytest.param(_a_bittensor_synapse, "do not mix", id="bittensor-synapse"),
        pytest.param(lambda: {"text": "abc"}, "needs a synapsegen.runtime Synapse", id="dict"),
    ],
)
async def test_a_synapse_of_another_runtime_is_refused_before_any_request(
    method: str, make: Callable[[], Any], says: str
) -> None:
    async with ScriptedServer(echo_json_script()) as server, dendrite() as client:
        with pytest.raises(TypeError, match=says) as refused:
            if method == "call_stream":
                await drain(client.call_stream(server.target, make()))
            else:
                await getattr(client, method)(server.target, make())
    assert server.requests == []
    assert f"Dendrite.{method}" in str(refused.value)
    if says == "do not mix":
        assert "--runtime bittensor" in str(refused.value)


class Nested(BaseModel):
    tags: list[str] = Field(default_factory=list)


class Shapes(TextPrompt):
    """Mutable values in every shape a shallow copy shares: in a tuple, a nested model, a dict."""

    pair: tuple[int, list[int]] = (0, [])
    nested: Nested = Field(default_factory=Nested)
    table: dict[str, list[int]] = Field(default_factory=dict)


async def test_forward_copies_share_nothing_mutable_in_any_shape() -> None:
    template = Shapes(prompt="q", pair=(1, [2]), nested=Nested(tags=["t"]), table={"k": [3]})
    target = AxonTarget("127.0.0.1", closed_port(), MINER_HOTKEY)  # 503: nothing overwrites
    async with dendrite() as client:
        results = await client.forward([target, target], template, deserialize=False)
    for result in results:
        assert result.dendrite.status_code == 503
        assert (result.pair, result.nested, result.table) == (
            template.pair,
            template.nested,
            template.table,
        )
        assert result.pair[1] is not template.pair[1]
        assert result.nested is not template.nested
        assert result.nested.tags is not template.nested.tags
        assert result.table["k"] is not template.table["k"]
        assert result.prompt == "q" and result.dendrite is not template.dendrite
    assert results[0].pair[1] is not results[1].pair[1]
    assert results[0].nested.tags is not results[1].nested.tags


class Color(enum.Enum):
    RED = "red"


class ColoredShapes(Shapes):
    color: Color  # required, and no empty placeholder can be built: to_headers() raises


async def test_a_copy_whose_signing_failed_shares_nothing_either() -> None:
    template = ColoredShapes(prompt="q", color=Color.RED, table={"k": [3]})
    target = AxonTarget("127.0.0.1", closed_port(), MINER_HOTKEY)
    async with dendrite() as client:
        (result,) = await client.forward([target], template, deserialize=False)
    assert result.dendrite.status_code == 422  # never sent
    assert result.table == {"k": [3]} and result.table["k"] is not template.table["k"]


def test_the_body_hash_is_computed_once_per_forward_only_where_every_copy_has_it() -> None:
    plain = TextPrompt(prompt="q")
    assert _shared_body_hash(plain, "bittensor10") == plain.body_hash
    # The HTTP wires sign no body hash.
    assert _shared_body_hash(plain, "btauth/1") is None

    class HashesTimeout(TextPrompt):  # signing stamps the timeout: the copies' hash differs
        required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "timeout")

    class OwnHash(TextPrompt):
        @property
        def body_hash(self) -> str:
            return f"{self.axon.hotkey if self.axon else None}"

    class SerializedByModel(TextPrompt):
        @model_serializer(mode="wrap")
        def _with_axon(self, handler: Any) -> Any:
            return {**handler(self), "prompt": f"{self.prompt}@{self.axon}"}

    class SerializedField(TextPrompt):
        @field_serializer("prompt")
        def _prompt(self, value: str) -> str:
            return f"{value}@{self.dendrite}"

    class HashesComputed(TextPrompt):
        required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "shout")

        @computed_field  # type: ignore[prop-decorator]
        @property
        def shout(self) -> str:
            return self.prompt.upper()

    for cls in (HashesTimeout, OwnHash, SerializedByModel, SerializedField, HashesComputed):
        assert _shared_body_hash(cls(prompt="q"), "bittensor10") is None, cls.__name__


def test_request_urls_are_parsed_once_per_axon_and_follow_external_ip() -> None:
    client = dendrite()
    target = AxonTarget("198.51.100.20", 8091, MINER_HOTKEY)
    url = client._endpoint_url(target, "TextPrompt")
    assert str(url) == "http://198.51.100.20:8091/TextPrompt"
    assert client._endpoint_url(target, "TextPrompt") is url
    assert str(client._endpoint_url(target, "Other")) == "http://198.51.100.20:8091/Other"
    client.external_ip = "198.51.100.20"  # bittensor's same-machine rule applies from now on
    assert str(client._endpoint_url(target, "TextPrompt")) == "http://0.0.0.0:8091/TextPrompt"
    for port in range(1, _MAX_CACHED_URLS + 10):  # bounded
        client._endpoint_url(AxonTarget("198.51.100.20", port, MINER_HOTKEY), "TextPrompt")
    assert len(client._urls) <= _MAX_CACHED_URLS


# ------------------------------------------------------------------------------ connections


async def test_stale_pooled_connection_is_retried_once_on_a_fresh_one() -> None:
    async def once_per_connection(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if request.connection == 0 and len(server.requests) > 1:
            return False  # the server had closed this keep-alive connection: hang up
        return await echo_json_script()(request, writer)

    async with ScriptedServer(once_per_connection) as server, dendrite() as client:
        first = await client.call(server.target, TextPrompt(prompt="1"), deserialize=False)
        second = await client.call(server.target, TextPrompt(prompt="2"), deserialize=False)
    assert first.is_success and second.is_success
    assert [r.connection for r in server.requests] == [0, 0, 1]
    nonces = [int(r.header("bt_header_dendrite_nonce") or 0) for r in server.requests]
    assert nonces[2] > nonces[1]  # the retry is signed afresh


async def test_connection_of_a_failed_stream_is_not_reused() -> None:
    async def script(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if request.connection == 0:  # invalid UTF-8, more data later: the subclass fails early
            whole = stream_ok([b"\xff", b"rest"])
            split = whole.index(b"\xff") + 3
            writer.write(whole[:split])
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.write(whole[split:])  # a pooled connection would now hold stale bytes
        else:
            writer.write(stream_ok([b"fine"]))
        await writer.drain()
        return True

    async with ScriptedServer(script) as server, dendrite() as client:
        bad = TokenStream(prompt="q")
        await drain(client.call_stream(server.target, bad))
        good = TokenStream(prompt="q")
        tokens, _ = await drain(client.call_stream(server.target, good))
    assert bad.dendrite.status_code == 422
    assert tokens == ["fine"] and good.is_success
    assert [r.connection for r in server.requests] == [0, 1]


async def test_abandoned_stream_frees_its_lane_and_connection() -> None:
    wire = stream_ok([b"a", b"b"])
    async with ScriptedServer(send_bytes(wire, keep_open=True)) as server, dendrite() as client:
        stream = client.call_stream(server.target, TokenStream(prompt="q"))
        assert await stream.__anext__() in ("a", "ab")  # chunking is the network's choice
        await stream.aclose()
        await client.call_stream(server.target, TokenStream(prompt="q")).aclose()
        tokens, _ = await drain(client.call_stream(server.target, TokenStream(prompt="q")))
    assert "".join(tokens) == "ab"
    assert all(r.header("bt_header_dendrite_uuid") == client.uuid for r in server.requests)


# ------------------------------------------------------------------------------ lifecycle


async def test_history_is_bounded_and_off_by_default() -> None:
    async with (
        ScriptedServer(echo_json_script()) as server,
        dendrite() as client,
        dendrite(history_size=2) as recording,
    ):
        for _ in range(3):
            await client.call(server.target, TextPrompt(prompt="q"))
            await recording.call(server.target, TextPrompt(prompt="q"))
    assert len(client.synapse_history) == 0
    assert len(recording.synapse_history) == 2
    assert all(s.dendrite.status_code == 200 for s in recording.synapse_history)


async def test_session_lifecycle() -> None:
    client = dendrite()
    session = await client.session
    assert session is await client.session and not session.closed
    async with client:
        pass
    assert session.closed
    assert not (await client.session).closed  # a later call opens a new one
    await client.aclose()


def test_close_session_without_a_loop() -> None:
    client = dendrite()

    async def open_session() -> None:
        await client.session

    asyncio.run(open_session())
    client.close_session()
    assert client._session is None
    assert str(client) == f"dendrite({VALIDATOR.ss58_address})"


def test_sync_query_runs_forward_and_closes_the_session() -> None:
    client = dendrite()
    port = closed_port()
    result = client.query(
        [AxonTarget("127.0.0.1", port, MINER_HOTKEY)], TextPrompt(prompt="q"), deserialize=False
    )
    assert [r.dendrite.status_code for r in result] == [503]
    assert client._session is None
