"""A real ``redis-server`` for the tests (never a mock): one per session, loopback only.

Started on a free 127.0.0.1 port in a temporary folder, without persistence. Without the binary
the tests that need it are skipped, unless ``CI`` is set: there they fail, since ``.ci/run``
installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_START_TIMEOUT_S = 10.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServerError(RuntimeError):
    """redis-server is not installed, or did not start."""


@contextlib.contextmanager
def running_redis_server(folder: Path) -> Iterator[str]:
    """Start ``redis-server`` on a free 127.0.0.1 port, its files and log in ``folder``; yield its
    URL and stop it on exit. Raises ``RedisServerError`` without the binary or if it does not
    answer within 10 s. (Also used by ``bench/scaleout.py``.)"""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerError("redis-server not installed (Debian: apt-get install redis-server)")
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
               "--save", "", "--appendonly", "no", "--daemonize", "no"]  # fmt: skip
    log = open(folder / "redis.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _answers_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RedisServerError(
                    f"redis-server did not start:\n{(folder / 'redis.log').read_text()}"
                )
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5.0)
        log.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a redis-server started for this session (stopped at its end)."""
    if shutil.which("redis-server") is None:
        message = "redis-server not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI is set, so the Redis tests must run", pytrace=False)
        pytest.skip(message)
    try:
        with running_redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except RedisServerError as exc:
        pytest.fail(str(exc), pytrace=False)
