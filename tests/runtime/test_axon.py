"""Axon tests on a real uvicorn server (127.0.0.1, port 0) with real aiohttp and sr25519 keys.

This module uses ``from __future__ import annotations`` on purpose: every forward function below
has a *string* annotation, which bittensor's ``attach`` cannot resolve and ours must.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import pytest
from bittensor_wallet import Keypair
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Send

from synapsegen.runtime._axon_guards import NonceStore, PriorityGate
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.signing import VERSION_AS_INT, request_message, sign
from synapsegen.runtime.synapse import StreamingSynapse, Synapse, TerminalInfo

from ._wire import axon_signature_verifies

DENDRITE_UUID = "5f0b6a2e-8a4d-11ef-8c1e-0242ac110002"


# ---- synapse classes ----------------------------------------------------------------------------


class TextPrompt(Synapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    n_tokens: int = 3
    completion: str = ""


class TokenStream(StreamingSynapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)
    prompt: str
    n_tokens: int = 3
    fail_after: int = -1
    hang_after: int = -1
    completion: str = ""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        async for chunk in response.content.iter_any():
            yield chunk

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {"prompt": self.prompt, "n_tokens": self.n_tokens}


def reverse(synapse: TextPrompt) -> TextPrompt:
    synapse.completion = synapse.prompt[::-1]
    return synapse


def token_bytes(synapse: TokenStream, index: int) -> bytes:
    return f"{synapse.prompt}:{index} ".encode()


def stream_tokens(synapse: TokenStream) -> Any:
    """Stream ``n_tokens`` tokens; raise after ``fail_after`` sends, hang after ``hang_after``."""

    async def streamer(send: Send) -> None:
        for index in range(synapse.n_tokens):
            if index == synapse.fail_after:
                raise RuntimeError("streamer failed on purpose")
            if index == synapse.hang_after:
                await asyncio.sleep(3600)
            body = token_bytes(synapse, index)
            await send({"type": "http.response.body", "body": body, "more_body": True})
            await asyncio.sleep(0)  # let concurrent streams interleave

    return synapse.create_streaming_response(streamer)


# ---- keys, requests, responses ------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    miner: Keypair
    validator: Keypair
    other: Keypair


@pytest.fixture(scope="session")
def keys(vectors_dir: Path) -> Keys:
    """The fixed test keypairs of signatures.json (checked against their recorded addresses)."""
    recorded = json.loads((vectors_dir / "signatures.json").read_text())["keypairs"]
    pairs = {}
    for entry in recorded:
        keypair = Keypair.create_from_seed(entry["seed_hex"])
        assert keypair.ss58_address == entry["ss58_address"]
        pairs[entry["name"]] = keypair
    return Keys(miner=pairs["miner"], validator=pairs["validator"], other=pairs["other"])


@dataclass
class Reply:
    status: int
    raw_headers: list[tuple[str, str]]
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        return dict(self.raw_headers)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> Any:
        return self.json()["message"]


class Client:
    """Builds signed requests the way a bittensor 10 dendrite does and posts them with aiohttp."""

    def __init__(self, session: aiohttp.ClientSession, axon: Axon, keypair: Keypair) -> None:
        self.session = session
        self.axon = axon
        self.keypair = keypair

    def build(
        self,
        synapse: Synapse,
        *,
        nonce: int | None = None,
        uuid: str = DENDRITE_UUID,
        version: int | None = VERSION_AS_INT,
        timeout: float = 12.0,
        signer: Keypair | None = None,
        axon_hotkey: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """Headers and JSON body of a signed request for ``synapse``."""
        synapse.timeout = timeout
        synapse.dendrite = TerminalInfo(
            ip="203.0.113.7",
            version=version,
            nonce=time.time_ns() if nonce is None else nonce,
            uuid=uuid,
            hotkey=self.keypair.ss58_address,
        )
        target = axon_hotkey or self.axon.hotkey
        synapse.axon = TerminalInfo(ip="127.0.0.1", port=self.axon.port, hotkey=target)
        assert synapse.dendrite.nonce is not None
        message = request_message(
            synapse.dendrite.nonce, self.keypair.ss58_address, target, uuid, synapse.body_hash
        )
        synapse.dendrite.signature = sign(signer or self.keypair, message)
        headers = synapse.to_headers()
        return headers, json.dumps(synapse.model_dump()).encode()

    async def post(
        self,
        route: str,
        headers: dict[str, str],
        body: bytes,
        *,
        content_type: str = "application/json",
        method: str = "POST",
    ) -> Reply:
        url = f"http://127.0.0.1:{self.axon.port}/{route}"
        sent = {**headers, "Content-Type": content_type}
        async with self.session.request(method, url, data=body, headers=sent) as response:
            raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers]
            return Reply(response.status, raw, await response.read())

    async def call(self, synapse: Synapse, **build_kwargs: Any) -> Reply:
        headers, body = self.build(synapse, **build_kwargs)
        return await self.post(type(synapse).__name__, headers, body)


@pytest.fixture
def make_axon(keys: Keys) -> Iterator[Callable[..., Axon]]:
    """Build Axons with the miner key; every Axon built here is stopped after the test."""
    built: list[Axon] = []

    def factory(**kwargs: Any) -> Axon:
        axon = Axon(keys.miner, **kwargs)
        built.append(axon)
        return axon

    yield factory
    for axon in built:
        axon.stop(5.0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture(scope="module")
def axon(keys: Keys) -> Iterator[Axon]:
    """A running Axon (background thread) serving TextPrompt and TokenStream, shared by the
    module's tests (each test uses fresh nonces, so they do not interfere)."""
    shared = Axon(keys.miner).attach(reverse).attach(stream_tokens).start()
    yield shared
    shared.stop(5.0)


@pytest.fixture
def client(session: aiohttp.ClientSession, axon: Axon, keys: Keys) -> Client:
    return Client(session, axon, keys.validator)


FreshCall = Callable[..., Awaitable[tuple[Axon, Reply]]]


@pytest.fixture
def fresh_call(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> FreshCall:
    """``await fresh_call(forward_fn, **hooks)``: a new Axon serving that one route, and its reply
    to the validator's ``TextPrompt(prompt="hi")``."""

    async def call(forward_fn: Callable[..., Any], **hooks: Any) -> tuple[Axon, Reply]:
        axon = make_axon().attach(forward_fn, **hooks).start()
        return axon, await Client(session, axon, keys.validator).call(TextPrompt(prompt="hi"))

    return call


def check_error_headers(reply: Reply, keys: Keys, axon: Axon, *, name: str) -> None:
    """The error shape: header-side synapse headers, stamped and signed by the axon."""
    headers = reply.headers
    assert headers["name"] == name
    assert headers["bt_header_axon_status_code"] == str(reply.status)
    assert headers["bt_header_axon_status_message"] == reply.message
    assert headers["bt_header_axon_version"] == str(VERSION_AS_INT)
    assert headers["bt_header_axon_uuid"] == axon.uuid
    assert headers["bt_header_dendrite_ip"] == "127.0.0.1"  # the TCP peer, not the claimed IP
    assert int(headers["bt_header_dendrite_port"]) > 0
    assert axon_signature_verifies(headers, keys.miner)
    names = [k for k, _ in reply.raw_headers]
    assert names[-2:] == ["content-length", "content-type"]
    assert all(k == k.lower() for k in names)


# ---- successes ----------------------------------------------------------------------------------


async def test_json_success(client: Client, axon: Axon) -> None:
    reply = await client.call(TextPrompt(prompt="héllo 🙂"))
    assert reply.status == 200
    body = reply.json()
    assert body["completion"] == "🙂 olléh"
    assert body["axon"]["status_code"] == 200
    assert body["axon"]["status_message"] == "Success"
    assert reply.body.decode().startswith('{"name":"TextPrompt","timeout":12.0,')
    headers = reply.headers
    names = [k for k, _ in reply.raw_headers]
    assert names[:4] == ["date", "server", "content-length", "content-type"]
    assert names[4:6] == ["name", "timeout"]
    assert headers["content-type"] == "application/json"
    assert headers["bt_header_axon_status_code"] == "200"
    assert headers["bt_header_axon_status_message"] == "Success"
    assert headers["bt_header_axon_hotkey"] == axon.hotkey
    assert headers["bt_header_dendrite_ip"] == "203.0.113.7"  # echoed from the body
    for absent in ("version", "nonce", "uuid", "signature"):
        assert f"bt_header_axon_{absent}" not in headers
    assert headers["computed_body_hash"] == TextPrompt(prompt="héllo 🙂").body_hash


async def test_streaming_success(client: Client) -> None:
    synapse = TokenStream(prompt="p", n_tokens=5)
    reply = await client.call(synapse)
    assert reply.status == 200
    assert reply.body == b"".join(token_bytes(synapse, i) for i in range(5))
    names = [k for k, _ in reply.raw_headers]
    assert names[:4] == ["date", "server", "content-type", "name"]
    assert names[-1].lower() == "transfer-encoding"
    headers = reply.headers
    assert headers["content-type"] == "text/event-stream"
    assert headers["bt_header_axon_status_code"] == "200"
    assert headers["bt_header_axon_status_message"] == "Success"
    assert "content-length" not in headers


async def test_streaming_with_the_runtime_token_streamer(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    from synapsegen.runtime import streaming

    if not hasattr(streaming, "token_streamer"):
        pytest.skip("runtime/streaming.py has no token_streamer yet")

    async def words(text: str) -> AsyncIterator[str]:
        for word in text.split():
            yield word + " "

    def forward(synapse: TokenStream) -> Any:
        return synapse.create_streaming_response(
            streaming.token_streamer(words(synapse.prompt), str.encode, timeout=synapse.timeout)
        )

    axon = make_axon().attach(forward).start()
    reply = await Client(session, axon, keys.validator).call(TokenStream(prompt="a b c"))
    assert reply.status == 200
    assert reply.body == b"a b c "


async def test_raising_streamer_ends_the_body_incomplete(client: Client) -> None:
    # No final chunk: without an end marker a clean end would pass a truncated answer as whole.
    with pytest.raises(aiohttp.ClientPayloadError):
        await client.call(TokenStream(prompt="p", n_tokens=5, fail_after=2))
    again = await client.call(TokenStream(prompt="q", n_tokens=1))
    assert (again.status, again.body) == (200, b"q:0 ")


async def test_concurrent_streams_do_not_mix(client: Client) -> None:
    synapses = [TokenStream(prompt=f"s{i}", n_tokens=40) for i in range(20)]
    replies = await asyncio.gather(
        *(client.call(s, uuid=f"{DENDRITE_UUID}-{i}") for i, s in enumerate(synapses))
    )
    for synapse, reply in zip(synapses, replies, strict=True):
        assert reply.status == 200
        assert reply.body == b"".join(token_bytes(synapse, i) for i in range(40))


async def test_ping_route(client: Client) -> None:
    reply = await client.call(Synapse())
    assert reply.status == 200
    assert reply.json()["name"] == "Synapse"
    assert reply.headers["bt_header_axon_status_message"] == "Success"


async def test_get_is_served_like_post(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="ab"))
    reply = await client.post("TextPrompt", headers, body, method="GET")
    assert (reply.status, reply.json()["completion"]) == (200, "ba")


async def test_other_methods_get_405(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="ab"))
    reply = await client.post("TextPrompt", headers, body, method="PUT")
    assert reply.status == 405
    assert reply.json() == {"detail": "Method Not Allowed"}


async def test_forward_status_code_becomes_http_status(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    def busy(synapse: TextPrompt) -> TextPrompt:
        assert synapse.axon is not None
        synapse.axon.status_code = 429
        synapse.axon.status_message = "busy"
        return synapse

    axon = make_axon().attach(busy).start()
    reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="x"))
    assert reply.status == 429
    assert reply.json()["prompt"] == "x"
    assert reply.headers["bt_header_axon_status_message"] == "busy"


# ---- hooks see the header-side synapse, forward the body-side one --------------------------------


async def test_hooks_get_header_synapse_forward_gets_body_synapse(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    seen: dict[str, tuple[str, int, str | None]] = {}

    def record(role: str, synapse: TextPrompt) -> None:
        assert synapse.dendrite is not None
        seen[role] = (synapse.prompt, synapse.n_tokens, synapse.dendrite.ip)

    async def blacklist(synapse: TextPrompt) -> typing.Tuple[bool, str]:  # noqa: UP006
        record("blacklist", synapse)
        return False, ""

    def priority(synapse: TextPrompt) -> float:
        record("priority", synapse)
        return 1.0

    async def verify(synapse: TextPrompt) -> None:
        record("verify", synapse)

    async def forward(synapse: TextPrompt) -> TextPrompt:
        record("forward", synapse)
        return synapse

    axon = make_axon().attach(forward, blacklist, priority, verify).start()
    reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="real", n_tokens=9))
    assert reply.status == 200
    assert seen["blacklist"] == seen["verify"] == seen["priority"] == ("", 3, "127.0.0.1")
    assert seen["forward"] == ("real", 9, "203.0.113.7")


# ---- error rows ---------------------------------------------------------------------------------


async def test_unknown_route_404(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("Nope", headers, body)
    assert reply.status == 404
    assert reply.message == (
        "Synapse name 'Nope' not found. Available synapses ['Synapse', 'TextPrompt', 'TokenStream']"
    )
    headers = reply.headers
    assert headers["name"] == "Synapse"  # a bare Synapse: no dendrite headers at all
    assert not any(k.startswith("bt_header_dendrite_") for k in headers)


async def test_unparseable_header_500(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    headers["bt_header_dendrite_nonce"] = "abc"
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 500
    assert reply.message.startswith("Internal Server Error #")
    assert reply.headers["name"] == "Synapse"


async def test_blacklist_403(fresh_call: FreshCall, keys: Keys) -> None:
    def blacklist(synapse: TextPrompt) -> tuple[bool, str]:
        return True, "always"

    axon, reply = await fresh_call(reverse, blacklist_fn=blacklist)
    assert reply.status == 403
    assert reply.message == "Forbidden. Key is blacklisted: always."
    check_error_headers(reply, keys, axon, name="TextPrompt")
    # The header-side synapse: the prompt placeholder, hence the hash of "".
    assert reply.headers["computed_body_hash"] == TextPrompt(prompt="").body_hash


async def test_blacklist_reason_is_made_header_safe(fresh_call: FreshCall) -> None:
    def blacklist(synapse: TextPrompt) -> tuple[bool, str]:
        return True, "no 🙂\r\nX-Injected: 1"

    _, reply = await fresh_call(reverse, blacklist_fn=blacklist)
    assert reply.status == 403
    assert reply.message == "Forbidden. Key is blacklisted: no 🙂\r\nX-Injected: 1."
    assert reply.headers["bt_header_axon_status_message"] == (
        "Forbidden. Key is blacklisted: no ?  X-Injected: 1."
    )
    assert "x-injected" not in reply.headers


async def test_blacklist_raising_is_500(fresh_call: FreshCall) -> None:
    def blacklist(synapse: TextPrompt) -> tuple[bool, str]:
        raise ValueError("broken blacklist")

    _, reply = await fresh_call(reverse, blacklist_fn=blacklist)
    assert reply.status == 500
    assert reply.message.startswith("Internal Server Error #")


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("bt_header_dendrite_nonce", None, "Missing Nonce"),
        ("bt_header_dendrite_hotkey", None, "No SS58 formatted address or public key provided."),
        ("bt_header_dendrite_hotkey", "5abc", "Invalid SS58 address: Length is bad"),
        ("bt_header_dendrite_signature", None, "Missing Signature"),
        ("bt_header_dendrite_signature", "0x1234", "Invalid SR25519 signature."),
    ],
)
async def test_verify_401_header_defects(
    client: Client, keys: Keys, axon: Axon, header: str, value: str | None, message: str
) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 401
    assert reply.message == f"Not Verified with error: {message}"
    check_error_headers(reply, keys, axon, name="TextPrompt")


async def test_bad_signature_401(client: Client, keys: Keys, axon: Axon) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    zero = "0x" + "00" * 64
    headers["bt_header_dendrite_signature"] = zero
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 401
    expected = request_message(
        int(headers["bt_header_dendrite_nonce"]),
        keys.validator.ss58_address,
        axon.hotkey,
        DENDRITE_UUID,
        TextPrompt(prompt="hi").body_hash,
    )
    assert (
        reply.message == f"Not Verified with error: Signature mismatch with {expected} and {zero}"
    )


async def test_signed_for_another_axon_401(client: Client, keys: Keys) -> None:
    reply = await client.call(TextPrompt(prompt="hi"), axon_hotkey=keys.other.ss58_address)
    assert reply.status == 401
    assert "Signature mismatch" in reply.message


async def test_signed_by_another_key_401(client: Client, keys: Keys) -> None:
    reply = await client.call(TextPrompt(prompt="hi"), signer=keys.other)
    assert reply.status == 401
    assert "Signature mismatch" in reply.message


async def test_stale_nonce_401_whatever_the_version(client: Client) -> None:
    old = time.time_ns() - 17_000_000_000
    reply = await client.call(TextPrompt(prompt="hi"), nonce=old, uuid="fresh-1")
    assert reply.status == 401
    assert reply.message.startswith(
        "Not Verified with error: Nonce is too old: acceptable delta is 16.00 seconds but "
        "request was 17."
    )
    # bittensor skips the window below version 7.2.0; the version header is not signed.
    legacy = await client.call(TextPrompt(prompt="hi"), nonce=old, uuid="fresh-2", version=7000000)
    assert legacy.status == 401


async def test_replayed_and_older_nonces_401(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    assert (await client.post("TextPrompt", headers, body)).status == 200
    replay = await client.post("TextPrompt", headers, body)
    assert replay.status == 401
    assert replay.message == (
        "Not Verified with error: Nonce is too old, a newer one was last processed"
    )
    nonce = int(headers["bt_header_dendrite_nonce"])
    older = await client.call(TextPrompt(prompt="hi"), nonce=nonce - 1)
    assert older.status == 401
    newer = await client.call(TextPrompt(prompt="hi"))
    assert newer.status == 200


async def test_custom_verify_raising_401(fresh_call: FreshCall) -> None:
    def verify(synapse: TextPrompt) -> None:
        raise PermissionError("not on my list")

    _, reply = await fresh_call(reverse, verify_fn=verify)
    assert reply.status == 401
    assert reply.message == "Not Verified with error: not on my list"


async def test_body_hash_mismatch_500(client: Client) -> None:
    headers, _ = client.build(TextPrompt(prompt="hi"))
    tampered = TextPrompt(prompt="tampered")
    reply = await client.post("TextPrompt", headers, json.dumps(tampered.model_dump()).encode())
    assert reply.status == 500
    assert reply.message.startswith("Internal Server Error #")


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "TextPrompt", "completion": ""}',  # required field missing
        b'{"prompt": ["not", "a", "string"]}',  # wrong type
        b"[1, 2]",  # not an object
        b"",  # empty
    ],
)
async def test_bad_bodies_500(client: Client, body: bytes) -> None:
    headers, _ = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 500
    assert reply.message.startswith("Internal Server Error #")
    assert reply.headers["name"] == "TextPrompt"


async def test_non_json_content_type_500(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("TextPrompt", headers, body, content_type="text/plain")
    assert reply.status == 500


async def test_json_subtype_content_type_is_accepted(client: Client) -> None:
    headers, body = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("TextPrompt", headers, body, content_type="application/x+json")
    assert reply.status == 200


async def test_malformed_json_422(client: Client) -> None:
    headers, _ = client.build(TextPrompt(prompt="hi"))
    reply = await client.post("TextPrompt", headers, b"{not json")
    assert reply.status == 422
    assert reply.body == (
        b'{"detail":[{"type":"json_invalid","loc":["body",1],"msg":"JSON decode error",'
        b'"input":{},"ctx":{"error":"Expecting property name enclosed in double quotes"}}]}'
    )
    assert not any(k.startswith("bt_header") or k == "name" for k, _ in reply.raw_headers)


async def test_forward_raising_500(fresh_call: FreshCall, keys: Keys) -> None:
    def boom(synapse: TextPrompt) -> TextPrompt:
        raise RuntimeError("boom")

    axon, reply = await fresh_call(boom)
    assert reply.status == 500
    assert reply.message.startswith("Internal Server Error #")
    check_error_headers(reply, keys, axon, name="TextPrompt")


async def test_forward_returning_garbage_500(fresh_call: FreshCall) -> None:
    def garbage(synapse: TextPrompt) -> Any:
        return {"not": "a synapse"}

    _, reply = await fresh_call(garbage)
    assert reply.status == 500


async def test_body_too_large_413(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    axon = make_axon(max_body_bytes=1000).attach(reverse).start()
    reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="x" * 2000))
    assert reply.status == 413
    assert reply.message == "request body larger than 1000 bytes"


# ---- priority, concurrency limit, timeouts ------------------------------------------------------


async def test_priority_orders_waiting_requests(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    holding, release = threading.Event(), threading.Event()
    served: list[str] = []

    def priority(synapse: TextPrompt) -> float:
        assert synapse.dendrite is not None and synapse.dendrite.uuid is not None
        return float(synapse.dendrite.uuid.rsplit("-", 1)[1])

    async def forward(synapse: TextPrompt) -> TextPrompt:
        if synapse.prompt == "holder":
            holding.set()
            while not release.is_set():
                await asyncio.sleep(0.005)
        served.append(synapse.prompt)
        return synapse

    axon = make_axon(max_workers=1).attach(forward, priority_fn=priority).start()
    client = Client(session, axon, keys.validator)
    holder = asyncio.ensure_future(client.call(TextPrompt(prompt="holder"), uuid="u-0"))
    while not holding.is_set():
        await asyncio.sleep(0.005)
    waiting = [
        asyncio.ensure_future(client.call(TextPrompt(prompt=f"p{p}"), uuid=f"u-{p}"))
        for p in (1, 3, 2)
    ]
    while axon.gate.waiting < 3:
        await asyncio.sleep(0.005)
    release.set()
    replies = await asyncio.gather(holder, *waiting)
    assert [r.status for r in replies] == [200] * 4
    assert served == ["holder", "p3", "p2", "p1"]


async def test_waiting_longer_than_timeout_408(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    holding, release = threading.Event(), threading.Event()

    async def forward(synapse: TextPrompt) -> TextPrompt:
        holding.set()
        while not release.is_set():
            await asyncio.sleep(0.005)
        return synapse

    axon = make_axon(max_workers=1).attach(forward).start()
    client = Client(session, axon, keys.validator)
    holder = asyncio.ensure_future(client.call(TextPrompt(prompt="holder"), uuid="u-0"))
    while not holding.is_set():
        await asyncio.sleep(0.005)
    try:
        late = await client.call(TextPrompt(prompt="late"), uuid="u-1", timeout=0.2)
    finally:
        release.set()
    assert late.status == 408
    assert late.message == "Response timeout after: 0.2s"
    assert (await holder).status == 200


async def test_stream_cancelled_after_its_timeout(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    axon = make_axon(stream_timeout_grace=0.1).attach(stream_tokens).start()
    client = Client(session, axon, keys.validator)
    synapse = TokenStream(prompt="p", n_tokens=5, hang_after=2)
    headers, body = client.build(synapse, timeout=0.3)
    url = f"http://127.0.0.1:{axon.port}/TokenStream"
    headers["Content-Type"] = "application/json"
    async with session.post(url, data=body, headers=headers) as response:
        assert response.status == 200
        assert await response.content.readexactly(8) == b"p:0 p:1 "
        with pytest.raises(aiohttp.ClientPayloadError):  # cut: no final chunk
            await asyncio.wait_for(response.read(), 10)


async def test_client_disconnect_cancels_the_streamer(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    cancelled = threading.Event()

    def forward(synapse: TokenStream) -> Any:
        async def streamer(send: Send) -> None:
            try:
                await send({"type": "http.response.body", "body": b"first", "more_body": True})
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        return synapse.create_streaming_response(streamer)

    axon = make_axon().attach(forward).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TokenStream(prompt="p"))
    url = f"http://127.0.0.1:{axon.port}/TokenStream"
    headers["Content-Type"] = "application/json"
    async with session.post(url, data=body, headers=headers) as response:
        assert await response.content.readexactly(5) == b"first"
        response.close()  # drop the connection mid-stream
    for _ in range(1000):
        if cancelled.is_set():
            break
        await asyncio.sleep(0.01)
    assert cancelled.is_set()


# ---- with the runtime's own Dendrite ---------------------------------------------------------


async def test_runtime_dendrite_round_trip(axon: Axon, keys: Keys) -> None:
    from synapsegen.runtime.dendrite import Dendrite

    async with Dendrite(keys.validator, external_ip="203.0.113.7") as dendrite:
        answered = await dendrite.call(axon.info(), TextPrompt(prompt="abc"), deserialize=False)
        assert answered.completion == "cba"
        assert answered.dendrite.status_code == 200
        assert answered.axon.status_message == "Success"

        synapse = TokenStream(prompt="s", n_tokens=4)
        items = [
            item async for item in dendrite.call_stream(axon.info(), synapse, deserialize=False)
        ]
        assert b"".join(items[:-1]) == b"s:0 s:1 s:2 s:3 "
        assert items[-1].dendrite.status_code == 200

        results = await dendrite.forward(
            [axon.info()] * 8, TextPrompt(prompt="xy"), deserialize=False
        )
        assert [r.completion for r in results] == ["yx"] * 8


# ---- attach -------------------------------------------------------------------------------------


def test_attach_resolves_string_annotations_and_both_tuple_spellings(keys: Keys) -> None:
    def blacklist_typing(synapse: TextPrompt) -> typing.Tuple[bool, str]:  # noqa: UP006
        return False, ""

    async def blacklist_builtin(synapse: Synapse) -> tuple[bool, str]:
        return False, ""

    axon = Axon(keys.miner)
    axon.attach(reverse, blacklist_fn=blacklist_typing)
    axon.attach(stream_tokens, blacklist_fn=blacklist_builtin, priority_fn=lambda s: 1.0)
    assert axon.synapse_names == ["Synapse", "TextPrompt", "TokenStream"]


def test_attach_refuses_functions_that_cannot_fit(keys: Keys) -> None:
    axon = Axon(keys.miner)

    def unannotated(synapse):  # type: ignore[no-untyped-def]
        return synapse

    def not_a_synapse(synapse: int) -> int:
        return synapse

    def two_arguments(synapse: TextPrompt, extra: int) -> TextPrompt:
        return synapse

    def wrong_blacklist(synapse: TextPrompt) -> bool:
        return False

    def wrong_synapse(synapse: TokenStream) -> tuple[bool, str]:
        return False, ""

    def wrong_priority(synapse: TextPrompt) -> str:
        return "high"

    with pytest.raises(TypeError, match="annotated with a Synapse subclass"):
        axon.attach(unannotated)
    with pytest.raises(TypeError, match="annotated with a Synapse subclass"):
        axon.attach(not_a_synapse)
    with pytest.raises(TypeError, match="exactly one argument"):
        axon.attach(two_arguments)
    with pytest.raises(TypeError, match=r"blacklist_fn must return tuple\[bool, str\]"):
        axon.attach(reverse, blacklist_fn=wrong_blacklist)
    with pytest.raises(TypeError, match="route's synapse is TextPrompt"):
        axon.attach(reverse, blacklist_fn=wrong_synapse)
    with pytest.raises(TypeError, match="priority_fn must return float"):
        axon.attach(reverse, priority_fn=wrong_priority)
    assert axon.synapse_names == ["Synapse"]


def test_keypair_sources(keys: Keys) -> None:
    class Wallet:
        hotkey = keys.miner

    assert Axon(Wallet()).hotkey == keys.miner.ss58_address
    assert Axon(keys.miner).keypair is keys.miner
    assert Axon().hotkey.startswith("5")  # throwaway key
    with pytest.raises(TypeError, match="Keypair"):
        Axon("not a key")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cannot sign"):
        Axon(Keypair(ss58_address=keys.miner.ss58_address))


# ---- lifecycle ----------------------------------------------------------------------------------


async def test_start_stop_binds_loopback_on_a_free_port(
    keys: Keys, session: aiohttp.ClientSession
) -> None:
    axon = Axon(keys.miner).attach(reverse)
    assert (axon.ip, axon.port, axon.is_running) == ("127.0.0.1", 0, False)
    axon.start()
    try:
        assert axon.is_running and axon.port > 0
        assert axon.full_address == f"127.0.0.1:{axon.port}"
        assert axon.external_port == axon.port
        reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="ab"))
        assert reply.status == 200
    finally:
        axon.stop(5.0)
    assert not axon.is_running
    with pytest.raises(aiohttp.ClientConnectionError):
        await Client(session, axon, keys.validator).call(TextPrompt(prompt="ab"))
    axon.start()  # restartable
    try:
        reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="cd"))
        assert reply.json()["completion"] == "dc"
    finally:
        axon.stop(5.0)
    with pytest.raises(ValueError, match="port"):
        Axon(keys.miner, port=70000)


async def test_async_context_manager_and_serve(keys: Keys, session: aiohttp.ClientSession) -> None:
    async with Axon(keys.miner).attach(reverse) as axon:
        assert axon.is_running
        reply = await Client(session, axon, keys.validator).call(TextPrompt(prompt="ab"))
        assert reply.json()["completion"] == "ba"
    assert not axon.is_running

    other = Axon(keys.miner).attach(reverse)
    task = asyncio.ensure_future(other.serve())
    while not other.is_running:
        await asyncio.sleep(0.005)
    reply = await Client(session, other, keys.validator).call(TextPrompt(prompt="cd"))
    assert reply.json()["completion"] == "dc"
    other.stop()
    await asyncio.wait_for(task, 10)


def test_busy_port_raises_oserror(keys: Keys) -> None:
    first = Axon(keys.miner).start()
    try:
        with pytest.raises(OSError):
            Axon(keys.miner, port=first.port).start()
    finally:
        first.stop(5.0)


async def test_nonce_store_bound_keeps_replays_out(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    axon = make_axon(max_nonce_entries=2).attach(reverse).start()
    client = Client(session, axon, keys.validator)
    first_headers, first_body = client.build(TextPrompt(prompt="a"), uuid="u-1")
    assert (await client.post("TextPrompt", first_headers, first_body)).status == 200
    for uuid in ("u-2", "u-3"):
        assert (await client.call(TextPrompt(prompt="a"), uuid=uuid)).status == 200
    assert len(axon.nonces) == 2
    assert f"{keys.validator.ss58_address}:u-1" not in axon.nonces
    replay = await client.post("TextPrompt", first_headers, first_body)
    assert replay.status == 401
    assert replay.message.endswith("a newer one was last processed")


# ---- the guards on their own --------------------------------------------------------------------


def test_nonce_store_evicts_least_recently_used() -> None:
    store = NonceStore(max_entries=2)
    store.accept("a", 10)
    store.accept("b", 20)
    store.accept("a", 30)  # "a" is now the most recent
    store.accept("c", 40)  # evicts "b"
    assert (store.get("a"), store.get("b"), store.get("c")) == (30, None, 40)
    assert store.floor == 20
    with pytest.raises(ValueError):
        NonceStore(0)


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 10**6)), max_size=60))
def test_nonce_store_never_forgets_a_replay(events: list[tuple[str, int]]) -> None:
    """Whatever was accepted stays refusable: stored nonce or eviction floor covers it."""
    store = NonceStore(max_entries=3)
    accepted: list[tuple[str, int]] = []
    for key, nonce in events:
        stored = store.get(key)
        refused = nonce <= stored if stored is not None else nonce <= store.floor
        if not refused:
            store.accept(key, nonce)
            accepted.append((key, nonce))
        assert len(store) <= 3
    for key, nonce in accepted:
        stored = store.get(key)
        assert nonce <= (stored if stored is not None else store.floor)


async def test_priority_gate_orders_and_times_out() -> None:
    gate = PriorityGate(1)
    await gate.acquire(0.0)
    order: list[float] = []

    async def waiter(priority: float) -> None:
        await gate.acquire(priority)
        order.append(priority)
        gate.release()

    tasks = [asyncio.ensure_future(waiter(p)) for p in (1.0, 5.0, float("nan"), 3.0, 5.0)]
    await asyncio.sleep(0.01)
    with pytest.raises(TimeoutError):
        await gate.acquire(100.0, timeout=0.01)
    assert gate.waiting == 5
    gate.release()
    await asyncio.gather(*tasks)
    assert order[:4] == [5.0, 5.0, 3.0, 1.0]
    assert len(order) == 5 and order[4] != order[4]  # NaN last
    assert gate.active == 0


async def test_priority_gate_cancelled_waiter_leaves_no_slot_behind() -> None:
    gate = PriorityGate(1)
    await gate.acquire()
    waiter = asyncio.ensure_future(gate.acquire(1.0))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    gate.release()
    assert gate.active == 0
    await asyncio.wait_for(gate.acquire(), 1)
    assert gate.active == 1


# ---- robustness: the ASGI app never crashes, whatever arrives -----------------------------------

_HEADER_NAMES = [
    "name",
    "timeout",
    "computed_body_hash",
    "content-type",
    "bt_header_dendrite_nonce",
    "bt_header_dendrite_hotkey",
    "bt_header_dendrite_signature",
    "bt_header_dendrite_version",
    "bt_header_dendrite_uuid",
    "bt_header_axon_hotkey",
    "bt_header_axon_status_message",
    "bt_header_input_obj_prompt",
    "bt_header_input_obj_axon",
]
_header_values = st.one_of(
    st.sampled_from(["", "abc", "12.0", "IiI=", "-1", "1e309", "nan", "application/json", "5Df"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=30),
)


@given(
    path=st.sampled_from(["/TextPrompt", "/TokenStream", "/Synapse", "/", "/Nope", "/Text/Prompt"]),
    method=st.sampled_from(["POST", "GET", "PUT"]),
    headers=st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), _header_values), max_size=8),
    body=st.one_of(
        st.binary(max_size=64),
        st.sampled_from([b'{"prompt": "x"}', b"{}", b"null", b'{"prompt": 1}', b"\xff\xfe"]),
    ),
)
def test_app_answers_every_request(
    keys: Keys, path: str, method: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    axon = Axon(keys.miner).attach(reverse).attach(stream_tokens)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode(), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 50000),
    }
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # no disconnect during the exchange
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asyncio.wait_for(axon.app(scope, receive, send), 10))
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] in (200, 400, 401, 403, 404, 405, 408, 422, 500)
    assert sent[-1] == {"type": "http.response.body", "body": sent[-1]["body"], "more_body": False}
    for name, value in sent[0]["headers"]:
        assert name == name.lower()
        assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value)
