"""The Dendrite on the HTTP wire (btauth/1, Epistula v2), against a scripted raw server.

The server sees exactly the bytes sent, so these tests check what the client signs and sends:
the body is the request fields, the signature covers those bytes, and a retry is signed afresh.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from synapsegen.runtime import btauth, epistula
from synapsegen.runtime.dendrite import Dendrite

from ._dendrite_helpers import RawRequest, ScriptedServer, TextPrompt, http_response, keypair

VALIDATOR = keypair("validator")
FRESH_HEADER = {"btauth/1": "x-bittensor-nonce", "epistula/2": "epistula-uuid"}


async def answer_upper(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
    """An HTTP-wire miner: the response fields as JSON."""
    prompt = request.json()["prompt"]
    writer.write(http_response(200, json.dumps({"completion": prompt.upper()}).encode()))
    await writer.drain()
    return True


def verifies(request: RawRequest, transport: str, receiver: str) -> bool:
    """The request's signature verifies over the bytes that arrived, for ``receiver``."""
    headers = {name.lower(): value for name, value in request.headers}
    body = request.body
    target = request.request_line.split(" ")[1]
    if transport == "btauth/1":
        payload = btauth.signed_payload(
            method="POST",
            target=target,
            body=body,
            nonce_ns=int(headers["x-bittensor-nonce"]),
            sender=headers["x-bittensor-hotkey"],
            receiver=receiver,
        )
        signature = headers["x-bittensor-signature"]
    else:
        payload = epistula.signed_message(
            body=body,
            uuid=headers["epistula-uuid"],
            timestamp_ms=int(headers["epistula-timestamp"]),
            signed_for=receiver,
        )
        signature = headers["epistula-request-signature"]
    return bool(VALIDATOR.verify(payload, bytes.fromhex(signature[2:])))


@pytest.mark.parametrize("transport", ["btauth/1", "epistula/2"])
async def test_request_is_the_request_fields_signed_as_sent(transport: str) -> None:
    async with (
        ScriptedServer(answer_upper) as server,
        Dendrite(VALIDATOR, transport=transport) as client,
    ):
        synapse = await client.call(server.target, TextPrompt(prompt="grüß"), deserialize=False)
    assert synapse.is_success and synapse.completion == "GRÜSS"
    (request,) = server.requests
    # TextPrompt declares no request_fields: every field it adds is sent.
    assert json.loads(request.body) == {"prompt": "grüß", "completion": ""}
    assert verifies(request, transport, server.target.hotkey)


@pytest.mark.parametrize("transport", ["btauth/1", "epistula/2"])
async def test_stale_pooled_connection_retry_is_signed_afresh(transport: str) -> None:
    async def once_per_connection(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if request.connection == 0 and len(server.requests) > 1:
            return False  # the server had closed this keep-alive connection: hang up
        return await answer_upper(request, writer)

    async with (
        ScriptedServer(once_per_connection) as server,
        Dendrite(VALIDATOR, transport=transport) as client,
    ):
        first = await client.call(server.target, TextPrompt(prompt="1"), deserialize=False)
        second = await client.call(server.target, TextPrompt(prompt="2"), deserialize=False)
    assert first.is_success and second.is_success
    assert [r.connection for r in server.requests] == [0, 0, 1]
    fresh = [r.header(FRESH_HEADER[transport]) for r in server.requests]
    assert fresh[2] != fresh[1]  # a replay store would have refused the same nonce/uuid
    assert all(verifies(r, transport, server.target.hotkey) for r in server.requests)
