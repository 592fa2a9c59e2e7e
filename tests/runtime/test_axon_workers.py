"""``Axon(workers=N)``: several processes on one port, the nonces shared through a real Redis.

Requests are signed like a bittensor 10 dendrite's and sent over fresh connections, which the
kernel spreads over the workers' ``SO_REUSEPORT`` sockets.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import Axon, NonceStore
from synapsegen.runtime.signing import VERSION_AS_INT, request_message, sign
from synapsegen.runtime.synapse import Synapse, TerminalInfo

MINER = Keypair.create_from_seed("0x" + "11" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "22" * 32)
# Enough fresh connections that all landing on one of two workers (2**-31) does not happen.
SPREAD_REQUESTS = 32


class WhoServes(Synapse):
    """Answers with the process id of the worker that served it."""

    pid: int = 0


def serve_with_pid(synapse: WhoServes) -> WhoServes:
    synapse.pid = os.getpid()
    return synapse


Signed = tuple[dict[str, str], bytes]


def signed_request(axon: Axon, *, uuid: str = "dendrite-uuid") -> Signed:
    """Headers and body of a request signed by VALIDATOR for ``axon``, nonce = now."""
    synapse = WhoServes(timeout=12.0)
    nonce = time.time_ns()
    synapse.dendrite = TerminalInfo(
        ip="127.0.0.1", version=VERSION_AS_INT, nonce=nonce, uuid=uuid,
        hotkey=VALIDATOR.ss58_address,
    )  # fmt: skip
    synapse.axon = TerminalInfo(ip="127.0.0.1", port=axon.port, hotkey=axon.hotkey)
    message = request_message(nonce, VALIDATOR.ss58_address, axon.hotkey, uuid, synapse.body_hash)
    synapse.dendrite.signature = sign(VALIDATOR, message)
    return synapse.to_headers(), json.dumps(synapse.model_dump()).encode()


async def post(session: aiohttp.ClientSession, axon: Axon, request: Signed) -> tuple[int, Any]:
    """POST on a fresh connection; (status, JSON body)."""
    headers, body = request
    url = f"http://127.0.0.1:{axon.port}/WhoServes"
    sent = {**headers, "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=sent) as response:
        return response.status, await response.json()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client opening a new connection per request (each may reach another worker)."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as client_session:
        yield client_session


@pytest.fixture
def make_axon() -> Iterator[Callable[..., Axon]]:
    """Axons with the MINER key serving WhoServes; all stopped after the test."""
    built: list[Axon] = []

    def factory(**kwargs: Any) -> Axon:
        axon = Axon(MINER, **kwargs).attach(serve_with_pid)
        built.append(axon)
        return axon

    yield factory
    for axon in built:
        axon.stop(5.0)


def _reaped(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_workers_share_one_port_and_stop_cleanly(
    make_axon: Callable[..., Axon], session: aiohttp.ClientSession, redis_url: str
) -> None:
    axon = make_axon(workers=2, replay_store=redis_url).start()
    pids = axon.worker_pids
    assert len(pids) == 2 and os.getpid() not in pids and axon.is_running
    served = set()
    for index in range(SPREAD_REQUESTS):
        status, body = await post(session, axon, signed_request(axon, uuid=f"u-{index}"))
        assert status == 200
        served.add(body["pid"])
    assert served == set(pids)  # both workers took connections
    axon.stop()
    assert not axon.is_running and axon.worker_pids == []
    assert all(_reaped(pid) for pid in pids)
    with pytest.raises(aiohttp.ClientConnectionError):
        await post(session, axon, signed_request(axon))


async def test_a_replay_sent_to_another_worker_is_refused(
    make_axon: Callable[..., Axon],
    session: aiohttp.ClientSession,
    redis_url: str,
    tmp_path: Path,
) -> None:
    """The blacklist hook (it runs before the nonce check) logs which worker saw each request."""
    seen_by = tmp_path / "seen_by"

    def log_worker(synapse: WhoServes) -> tuple[bool, str]:
        with open(seen_by, "a") as log:
            log.write(f"{os.getpid()}\n")
        return False, ""

    axon = make_axon(workers=2, replay_store=redis_url)
    axon.attach(serve_with_pid, blacklist_fn=log_worker).start()
    captured = signed_request(axon)
    status, body = await post(session, axon, captured)
    assert status == 200
    first_worker = body["pid"]
    replay_workers = set()
    for _ in range(SPREAD_REQUESTS):  # until a replay reaches the other worker
        status, body = await post(session, axon, captured)
        assert status == 401, body
        assert body["message"].endswith("a newer one was last processed")
        replay_workers.add(int(seen_by.read_text().split()[-1]))
        if replay_workers - {first_worker}:
            break
    assert replay_workers - {first_worker}, "no replay reached the other worker"


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_replay_after_a_restart(
    make_axon: Callable[..., Axon],
    session: aiohttp.ClientSession,
    store: str,
    request: pytest.FixtureRequest,
) -> None:
    """The in-memory store forgets on restart (the replay is served again); Redis does not."""
    replay_store = request.getfixturevalue("redis_url") if store == "redis" else None
    first = make_axon(replay_store=replay_store).start()
    captured = signed_request(first)
    assert (await post(session, first, captured))[0] == 200
    first.stop(5.0)
    restarted = make_axon(port=first.port, replay_store=replay_store).start()
    status, _ = await post(session, restarted, captured)
    assert status == (200 if store == "memory" else 401)


def test_several_workers_need_a_shared_replay_store() -> None:
    for store in (None, NonceStore()):
        with pytest.raises(ValueError, match="replay_store='redis://"):
            Axon(MINER, workers=2, replay_store=store)
    with pytest.raises(ValueError, match="workers must be"):
        Axon(MINER, workers=0)


async def test_workers_are_started_and_stopped_only_as_processes(redis_url: str) -> None:
    axon = Axon(MINER, workers=2, replay_store=redis_url)
    with pytest.raises(RuntimeError, match="use start"):
        async with axon:
            pass


def test_default_max_workers_suits_async_handlers() -> None:
    assert Axon(MINER).gate.limit == 256
