"""Axon hardening (issue 10, items 1-3): freshness never decided by unsigned values, the verified
signer reaches ``forward_fn``, bounded sends and connections, and failed streams that look failed.

Real uvicorn on 127.0.0.1, real aiohttp and raw sockets; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from synapsegen.runtime import streaming
from synapsegen.runtime.axon import Axon

from . import test_axon as _base
from .test_axon import Client, Keys, TextPrompt, TokenStream, reverse

# The fixtures of test_axon, shared (keys, an Axon factory stopping what it built, a session).
keys = _base.keys
make_axon = _base.make_axon
session = _base.session

HOUR_NS = 3600 * 10**9


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


# ---- 1. freshness and the verified signer ------------------------------------------------------


@pytest.fixture
def served(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> Callable[..., Client]:
    """``served(**axon_options)``: a started Axon serving ``reverse``, and a validator client."""

    def build(**options: Any) -> Client:
        axon = make_axon(**options).attach(reverse).start()
        return Client(session, axon, keys.validator)

    return build


async def test_an_old_request_without_a_version_header_is_refused(
    served: Callable[..., Client],
) -> None:
    """Bug: the window only applied to dendrite versions >= 7.2.0, read from an unsigned
    header: dropping ``bt_header_dendrite_version`` let a request of any age through."""
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    reply = await client.post("TextPrompt", _without(headers, "bt_header_dendrite_version"), body)
    assert reply.status == 401
    assert "Nonce is too old: acceptable delta is 16.00 seconds" in reply.message
    legacy = await client.call(
        TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS, version=7_000_000, uuid="legacy"
    )
    assert legacy.status == 401


async def test_a_huge_timeout_does_not_widen_the_window_past_max_request_age(
    served: Callable[..., Client],
) -> None:
    """Bug: the window was 4 s + the unsigned ``timeout``: ``timeout: 1e9`` accepted a captured
    request of any age. The window is capped by the server's ``max_request_age``."""
    client = served()
    old = time.time_ns() - HOUR_NS
    reply = await client.call(TextPrompt(prompt="hi"), nonce=old, timeout=1e9)
    assert reply.status == 401
    assert reply.message.startswith(
        "Not Verified with error: Nonce is too old: acceptable delta is 64.00 seconds"
    )
    capped = served(max_request_age=2.0)
    late = await capped.call(TextPrompt(prompt="hi"), nonce=time.time_ns() - 3 * 10**9)
    assert late.status == 401
    assert "acceptable delta is 2.00 seconds" in late.message


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "NaN"])
async def test_a_non_finite_timeout_is_refused_with_401(
    served: Callable[..., Client], value: str
) -> None:
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    headers["timeout"] = value
    reply = await client.post("TextPrompt", headers, body)
    assert reply.status == 401
    assert reply.message.startswith("Not Verified with error: Invalid timeout ")
    assert "must be a finite number of seconds" in reply.message


async def test_a_missing_timeout_is_refused_with_401(served: Callable[..., Client]) -> None:
    client = served()
    headers, body = client.build(TextPrompt(prompt="hi"), nonce=time.time_ns() - HOUR_NS)
    reply = await client.post("TextPrompt", _without(headers, "timeout"), body)
    assert reply.status == 401
    assert reply.message == (
        "Not Verified with error: Missing timeout: the request's age cannot be checked"
    )


async def test_bittensor_callers_within_the_bound_keep_bittensors_window(
    served: Callable[..., Client],
) -> None:
    """A bittensor 10 caller (timeout 12 s) 10 s late is inside 4 s + 12 s: still served."""
    client = served()
    late = await client.call(TextPrompt(prompt="hi"), nonce=time.time_ns() - 10 * 10**9)
    assert late.status == 200
    long_call = await client.call(
        TextPrompt(prompt="hi"), nonce=time.time_ns() - 50 * 10**9, timeout=60.0, uuid="long"
    )
    assert long_call.status == 200


async def test_a_held_back_request_is_refused_once_stale_even_with_a_stored_nonce(
    served: Callable[..., Client],
) -> None:
    """Bug (also bittensor's): with a nonce stored for the key the window was skipped, so a
    request an attacker held back (newer nonce, never delivered) was accepted hours later."""
    client = served(max_request_age=0.5)
    first_headers, first_body = client.build(TextPrompt(prompt="first"), timeout=0.1)
    held_headers, held_body = client.build(TextPrompt(prompt="held"), timeout=0.1)
    assert (await client.post("TextPrompt", first_headers, first_body)).status == 200
    await asyncio.sleep(0.7)
    reply = await client.post("TextPrompt", held_headers, held_body)
    assert reply.status == 401
    assert "Nonce is too old: acceptable delta is 0.50 seconds" in reply.message


async def test_forward_fn_sees_the_verified_signer_not_the_body_claim(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug (also bittensor's): ``forward_fn`` got ``dendrite.hotkey``/``nonce``/``uuid``/
    ``signature`` from the JSON body, which the signature does not cover: any signer could
    claim to be another validator there."""
    seen: list[tuple[Any, ...]] = []

    def forward(synapse: TextPrompt) -> TextPrompt:
        assert synapse.dendrite is not None
        dendrite = synapse.dendrite
        seen.append((dendrite.hotkey, dendrite.nonce, dendrite.uuid, dendrite.signature))
        return synapse

    axon = make_axon().attach(forward).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TextPrompt(prompt="hi"), uuid="real-uuid")
    claimed = json.loads(body)
    claimed["dendrite"].update(
        hotkey=keys.other.ss58_address, nonce=1, uuid="claimed", signature="0x00"
    )
    reply = await client.post("TextPrompt", headers, json.dumps(claimed).encode())
    assert reply.status == 200
    assert seen == [
        (
            keys.validator.ss58_address,
            int(headers["bt_header_dendrite_nonce"]),
            "real-uuid",
            headers["bt_header_dendrite_signature"],
        )
    ]


async def test_a_nan_timeout_in_the_body_does_not_break_stream_response(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, keys: Keys
) -> None:
    """Bug: the body's ``timeout`` (unsigned, JSON allows ``NaN``) reached ``forward_fn``; a
    streamer built with ``timeout=synapse.timeout`` raised ValueError (500). The checked header
    timeout replaces it."""
    seen: list[float | None] = []

    async def words() -> AsyncIterator[str]:
        yield "ok"

    def forward(synapse: TokenStream) -> Any:
        seen.append(synapse.timeout)
        streamer = streaming.token_streamer(words(), str.encode, timeout=synapse.timeout)
        return synapse.create_streaming_response(streamer)

    axon = make_axon().attach(forward).start()
    client = Client(session, axon, keys.validator)
    headers, body = client.build(TokenStream(prompt="p"), timeout=3.0)
    data = json.loads(body)
    data["timeout"] = float("nan")
    reply = await client.post("TokenStream", headers, json.dumps(data).encode())
    assert (reply.status, reply.body) == (200, b"ok")
    assert seen == [3.0]


def test_max_request_age_must_be_finite_and_positive(keys: Keys) -> None:
    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="max_request_age"):
            Axon(keys.miner, max_request_age=bad)
