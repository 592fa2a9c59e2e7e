"""The Axon keeps nothing of a finished request that only the garbage collector can free.

Bug: the connection control put in each request's scope (``_axon_limits.ConnectionControl``)
held uvicorn's request cycle strongly, and the cycle holds the scope: every request's cycle,
scope, headers and events (~5 KiB) became a reference cycle. Reference counting never freed
them; only the collector's full collections did, and those are rare while streams keep objects
alive for seconds, so under the load benchmark the server's RSS grew for minutes (a staircase
66 -> 70.5 MiB over 150 s at 46 streams/s, flat at 61.4 MiB with the fix).

The test turns the collector off, drives requests through a real uvicorn Axon on 127.0.0.1 over
one keep-alive connection and counts the request cycles still in memory afterwards: only the
connection's current one may remain. Object counts only, no timings; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from synapsegen.runtime._axon_limits import ConnectionControl
from synapsegen.runtime.axon import Axon

from . import test_axon as _base
from .test_axon import Client, TextPrompt, TokenStream, reverse, stream_tokens

keys = _base.keys
make_axon = _base.make_axon
session = _base.session

REQUESTS = 40
# What may stay in memory after the requests: the connection's last cycle (uvicorn keeps it until
# the next request), and a little slack for a request task that is still finishing.
ALLOWED_LEFT = 3


def _request_objects() -> int:
    """Request cycles (either uvicorn HTTP implementation) and connection controls in memory,
    unreachable ones included (the collector is off)."""
    return sum(
        1
        for obj in gc.get_objects()
        if isinstance(obj, ConnectionControl) or type(obj).__name__ == "RequestResponseCycle"
    )


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The cyclic garbage collector disabled during the test (what it would free stays)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


async def _count_settles(baseline: int, seconds: float = 5.0) -> int:
    """The request objects above ``baseline``, once the server's last request tasks finished
    (they end right after the response; polled at most ``seconds``)."""
    left = _request_objects() - baseline
    for _ in range(int(seconds / 0.05)):
        if left <= ALLOWED_LEFT:
            break
        await asyncio.sleep(0.05)
        left = _request_objects() - baseline
    return left


@pytest.mark.parametrize("http", ["h11", "httptools"])
@pytest.mark.parametrize("kind", ["plain", "stream"])
async def test_finished_requests_leave_no_garbage_cycles(
    make_axon: Callable[..., Axon],
    session: aiohttp.ClientSession,
    keys: Any,
    collector_off: None,
    http: str,
    kind: str,
) -> None:
    axon = make_axon(http=http).attach(reverse).attach(stream_tokens).start()
    client = Client(session, axon, keys.validator)
    baseline = _request_objects()
    for index in range(REQUESTS):
        synapse = (
            TextPrompt(prompt=f"p{index}")
            if kind == "plain"
            else TokenStream(prompt=f"p{index}", n_tokens=5)
        )
        reply = await client.call(synapse)
        assert reply.status == 200, reply.message
    left = await _count_settles(baseline)
    assert left <= ALLOWED_LEFT, (
        f"{left} request cycles/connection controls of {REQUESTS} finished {kind} requests are "
        "still in memory: something keeps a reference cycle per request"
    )
