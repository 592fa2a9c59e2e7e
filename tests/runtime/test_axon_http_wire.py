"""The Axon's HTTP wire (btauth/1, Epistula v2) on a real server, request by request.

A real ``Axon`` on 127.0.0.1 and raw aiohttp requests signed with the runtime's signers, so each
test controls exactly what is sent: replayed, stale, forged, wrong-receiver and tampered requests
are refused with their status and message, and the handler never runs for them.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import btauth, epistula
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import Dendrite
from synapsegen.runtime.synapse import Synapse

MINER = Keypair.create_from_seed("0x" + "a1" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "a2" * 32)
STRANGER = Keypair.create_from_seed("0x" + "a3" * 32)


class Echo(Synapse):
    """A plain synapse: ``text`` in, ``reply`` out."""

    request_fields: ClassVar[tuple[str, ...]] = ("text",)  # as generated classes declare them
    text: str = ""
    reply: str = ""


served: list[tuple[str, str | None]] = []


def forward(synapse: Echo) -> Echo:
    assert synapse.dendrite is not None
    served.append((synapse.text, synapse.dendrite.hotkey))
    synapse.reply = synapse.text.upper()
    return synapse


def blacklist(synapse: Echo) -> tuple[bool, str]:
    assert synapse.dendrite is not None
    return synapse.dendrite.hotkey == STRANGER.ss58_address, "stranger"


@pytest.fixture
async def axon() -> AsyncIterator[Axon]:
    served.clear()
    async with Axon(MINER).attach(forward, blacklist, transports=("btauth/1",)) as running:
        yield running


def btauth_request(
    body: bytes, *, signer: Keypair = VALIDATOR, receiver: str | None = None, **sign: Any
) -> dict[str, str]:
    headers = btauth.sign_request(
        signer,
        method="POST",
        target="/Echo",
        body=body,
        receiver=MINER.ss58_address if receiver is None else receiver,
        **sign,
    )
    return {"Content-Type": "application/json", **headers}


async def post(
    axon: Axon, headers: dict[str, str], body: bytes, path: str = "/Echo", method: str = "POST"
) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{axon.port}{path}"
        async with session.request(method, url, headers=headers, data=body) as response:
            return response.status, json.loads(await response.read() or b"null")


BODY = json.dumps({"text": "grüß"}).encode()


async def test_signed_request_is_served_with_response_fields(axon: Axon) -> None:
    status, answer = await post(axon, btauth_request(BODY), BODY)
    assert (status, answer) == (200, {"reply": "GRÜSS"})
    assert served == [("grüß", VALIDATOR.ss58_address)]  # the verified signer


async def test_replay_is_refused_and_not_served(axon: Axon) -> None:
    headers = btauth_request(BODY)
    assert (await post(axon, headers, BODY))[0] == 200
    status, answer = await post(axon, headers, BODY)
    assert status == 401 and "replayed" in answer["message"]
    assert len(served) == 1


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("stale", 401, "old"),
        ("future", 401, "future"),
        ("forged", 401, "signature"),
        ("wrong receiver", 421, "receiver"),
        ("tampered body", 401, "signature"),
        ("tampered target", 401, "signature"),
        ("unsigned hotkey swap", 401, "signature"),
    ],
)
async def test_bad_requests_are_refused_before_the_handler(
    axon: Axon, case: str, status: int, words: str
) -> None:
    body = BODY
    path = "/Echo"
    if case == "stale":
        headers = btauth_request(body, nonce_ns=time.time_ns() - 11 * 10**9)
    elif case == "future":
        headers = btauth_request(body, nonce_ns=time.time_ns() + 5 * 10**9)
    elif case == "forged":
        headers = btauth_request(body, signer=STRANGER)
        headers["X-Bittensor-Hotkey"] = VALIDATOR.ss58_address
    elif case == "wrong receiver":
        headers = btauth_request(body, receiver=STRANGER.ss58_address)
    elif case == "tampered body":
        headers = btauth_request(body)
        body = json.dumps({"text": "grüß!"}).encode()
    elif case == "tampered target":
        headers = btauth_request(body)
        path = "/Echo?x=1"
    else:
        headers = btauth_request(body)
        headers["X-Bittensor-Hotkey"] = STRANGER.ss58_address
    got, answer = await post(axon, headers, body, path=path)
    assert got == status, answer
    assert answer["message"].startswith("btauth/1: ") and words in answer["message"], answer
    assert served == []


async def test_blacklist_sees_the_verified_signer(axon: Axon) -> None:
    status, answer = await post(axon, btauth_request(BODY, signer=STRANGER), BODY)
    assert status == 403 and "stranger" in answer["message"]
    assert served == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"{", 400, "not valid JSON"),
        (b"[1]", 422, "JSON object"),
        (b'{"text": "a", "reply": "forged"}', 422, "unknown request field 'reply'"),
        (b'{"text": 5}', 422, "request field text"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nested too deeply"),
    ],
)
async def test_bad_bodies_get_a_clear_status(
    axon: Axon, body: bytes, status: int, words: str
) -> None:
    got, answer = await post(axon, btauth_request(body), body)
    assert got == status and words in answer["message"], answer
    assert served == []


async def test_scheme_not_accepted_on_the_route(axon: Axon) -> None:
    headers = epistula.sign_request(VALIDATOR, body=BODY, receiver=MINER.ss58_address)
    status, answer = await post(axon, {"Content-Type": "application/json", **headers}, BODY)
    assert status == 401 and "epistula/2 is not accepted on /Echo" in answer["message"]
    assert served == []


async def test_bittensor10_not_accepted_when_not_listed(axon: Axon) -> None:
    async with Dendrite(VALIDATOR) as dendrite:
        synapse = await dendrite.call(axon, Echo(text="x"), timeout=5, deserialize=False)
    assert synapse.dendrite.status_code == 401
    assert "needs a signed request of btauth/1" in synapse.dendrite.status_message
    assert served == []


async def test_only_post(axon: Axon) -> None:
    status, answer = await post(axon, btauth_request(b""), b"", method="GET")
    assert status == 405


async def test_a_handler_error_status_reaches_the_client() -> None:
    def refuse(synapse: Echo) -> Echo:
        assert synapse.axon is not None
        synapse.axon.status_code = 429
        synapse.axon.status_message = "busy, try later"
        return synapse

    async with Axon(MINER).attach(refuse) as axon, Dendrite(VALIDATOR, transport="btauth/1") as d:
        synapse = await d.call(axon, Echo(text="x"), timeout=5, deserialize=False)
    assert (synapse.dendrite.status_code, synapse.dendrite.status_message) == (
        429,
        "busy, try later",
    )


async def test_forward_may_return_tokens_on_every_transport() -> None:
    from synapsegen.runtime.accumulate import response_json
    from synapsegen.runtime.codecs import TextDecoder, encode_text
    from synapsegen.runtime.streaming import token_streamer
    from synapsegen.runtime.synapse import BTStreamingResponse, StreamingSynapse

    class Words(StreamingSynapse):
        request_fields: ClassVar[tuple[str, ...]] = ("prompt",)
        prompt: str = ""
        completion: str = ""

        async def process_streaming_response(self, response: Any) -> AsyncIterator[str]:
            decoder = TextDecoder()
            async for chunk in response.content.iter_any():
                for text in decoder.feed(chunk):
                    self.completion += text
                    yield text

        def extract_response_json(self, response: Any) -> dict[str, Any]:
            return response_json(self, response.headers)

        def stream_response(self, tokens: Any) -> BTStreamingResponse:
            return self.create_streaming_response(token_streamer(tokens, encode_text))

    async def words(synapse: Words) -> AsyncIterator[str]:
        for word in synapse.prompt.split():
            yield word + " "

    words.__annotations__ = {"synapse": Words}  # a local class: no string annotation to resolve
    transports = ("bittensor10", "btauth/1", "epistula/2")
    async with Axon(MINER).attach(words, transports=transports) as axon:
        for transport in transports:
            async with Dendrite(VALIDATOR, transport=transport) as dendrite:
                synapse = Words(prompt="eins zwei drei")
                stream = dendrite.call_stream(axon, synapse, timeout=5, deserialize=False)
                items = [item async for item in stream]
            assert synapse.completion == "eins zwei drei ", transport
            assert synapse.dendrite.status_code == 200, transport
            assert items[-1] is synapse


async def test_openapi_document_is_served(axon: Axon) -> None:
    status, document = await post(axon, {}, b"", path="/openapi.json", method="GET")
    assert status == 200 and document["openapi"].startswith("3.1")
    assert "/Echo" in document["paths"]
    # Only the schemes the routes accept (this one: btauth/1, not Epistula).
    assert set(document["components"]["securitySchemes"]) == {"btauth-v1"}
