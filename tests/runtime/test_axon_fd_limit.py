"""A flood of idle sockets at a low open-file limit does not deny service (issue 10, item 2).

Before the per-address cap, 2,000 idle sockets from one client under a 1,024 descriptor limit
took every descriptor of the axon: nobody else was served. Here the Axon runs in a subprocess
whose ``RLIMIT_NOFILE`` is lowered to 256 (its ``max_connections="auto"`` is then 192, its
``max_connections_per_ip`` the default 128), one address opens more idle sockets than the whole
limit, and a client from another address is still answered. Real sockets on 127.0.0.1; every
wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import AxonTarget, Dendrite

from ._fd_limited_axon import Echo

REPO_ROOT = Path(__file__).resolve().parents[2]
NOFILE = 256
FLOOD = 300  # more sockets than the axon has descriptors
VALIDATOR = Keypair.create_from_seed("0x" + "44" * 32)


@pytest.fixture
def fd_limited_axon() -> Iterator[dict[str, Any]]:
    """The subprocess Axon's ``{"port", "hotkey"}``; stopped (stdin closed) after the test."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime._fd_limited_axon", str(NOFILE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        readable, _, _ = select.select([proc.stdout], [], [], 60.0)
        line = proc.stdout.readline() if readable else ""
        assert line, f"the axon process did not start (exit status {proc.poll()})"
        yield {**json.loads(line), "process": proc}
    finally:
        proc.stdin.close()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def _closed_by_server(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), seconds) == b""
    except asyncio.TimeoutError:  # a distinct class before Python 3.11
        return False
    except ConnectionResetError:
        return True


async def test_a_good_client_is_served_while_idle_sockets_exhaust_the_per_address_cap(
    fd_limited_axon: dict[str, Any],
) -> None:
    port = fd_limited_axon["port"]
    flood = []
    try:
        for _ in range(FLOOD):
            flood.append(
                await asyncio.open_connection("127.0.0.1", port, local_addr=("127.0.0.2", 0))
            )
        # The cap is exhausted: the newest idle socket is closed at once, the oldest is kept.
        assert await _closed_by_server(flood[-1][0], 5.0)
        assert not await _closed_by_server(flood[0][0], 0.2)
        target = AxonTarget(ip="127.0.0.1", port=port, hotkey=fd_limited_axon["hotkey"])
        async with Dendrite(VALIDATOR) as dendrite:
            for index in range(3):  # each on a new connection
                answer = await dendrite.call(target, Echo(text=f"ok {index}"), timeout=10.0)
                assert answer.dendrite.status_code == 200, answer.dendrite.status_message
                assert answer.text == f"{index} ko"
                await dendrite.aclose_session()
        assert fd_limited_axon["process"].poll() is None
    finally:
        for _, writer in flood:
            writer.close()
