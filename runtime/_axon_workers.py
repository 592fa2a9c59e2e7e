"""Several Axon processes on one port: forked workers, one ``SO_REUSEPORT`` listening socket each.

Why these choices (Linux):

- **fork**, not spawn: the handlers were attached to the ``Axon`` object as plain functions and
  closures, which a spawned process could not rebuild. Each worker is a fork of the process that
  called ``start()`` and serves with its own event loop.
- **one ``SO_REUSEPORT`` socket per worker**, made in the parent before forking: the kernel spreads
  new connections over the sockets evenly (one shared socket lets whichever worker wakes first
  take a whole burst of connections).
- **a pipe as the parent's heartbeat**: every worker watches the read end; ``stop()`` closes the
  write end, and so does the parent's death, so the workers stop gracefully in both cases and
  never outlive their parent.
- **inherited sockets neutralized** in the worker: a fork copies every descriptor of the parent,
  including other servers' listening sockets and client connections, which would then stay open
  (a stopped server's port still accepting, a closed connection never seeing its FIN) while the
  worker lives. Each such descriptor is pointed at ``/dev/null`` instead of closed, so that no
  stale Python object of the parent can later close a descriptor number the worker reuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import socket
import stat
import time
import traceback
from collections.abc import Callable
from typing import NoReturn

import uvicorn

__all__ = ["WorkerPool", "bind_reuseport_sockets"]

logger = logging.getLogger("synapsegen.runtime.axon")

# A worker still running this long after stop() gave it shutdown_timeout is killed.
_KILL_GRACE = 2.0


def bind_reuseport_sockets(ip: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one address with ``SO_REUSEPORT`` (port 0: the first picks
    a free port, the others join it). Raises ``OSError`` if the address cannot be bound."""
    family, kind, proto, _, address = socket.getaddrinfo(
        ip, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            address = (address[0], sock.getsockname()[1], *address[2:])
            sock.listen(2048)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _neutralize_inherited_sockets(keep: set[int]) -> None:
    """Point every inherited socket descriptor not in ``keep`` at ``/dev/null`` (module doc)."""
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # not Linux: leave them (the worker then holds copies, as any fork does)
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in descriptors:
            if fd <= 2 or fd in keep or fd == devnull:
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)


async def _serve_in_worker(
    make_server: Callable[[], uvicorn.Server], sock: socket.socket, ready_w: int, alive_r: int
) -> None:
    """Serve ``sock`` until the parent's heartbeat pipe closes (or SIGTERM); report readiness."""
    server = make_server()
    loop = asyncio.get_running_loop()

    def request_exit() -> None:
        server.should_exit = True

    loop.add_reader(alive_r, request_exit)  # readable only at EOF: the parent stopped or died
    loop.add_signal_handler(signal.SIGTERM, request_exit)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:  # bounded by the parent, which kills a worker that is not ready
        if task.done():
            task.result()
            raise RuntimeError("the worker's server stopped during startup")
        await asyncio.sleep(0.002)
    os.write(ready_w, b"1")
    await task


def _worker_main(
    make_server: Callable[[], uvicorn.Server],
    sock: socket.socket,
    ready_w: int,
    alive_r: int,
) -> NoReturn:
    """The body of a forked worker; never returns (``os._exit``: no parent cleanup code runs)."""
    code = 1
    try:
        # Ctrl-C reaches the whole process group: the parent decides when workers stop.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _neutralize_inherited_sockets({sock.fileno(), ready_w, alive_r})
        # Forked from inside a running event loop, Python 3.11 still records it as running.
        asyncio.events._set_running_loop(None)
        asyncio.run(_serve_in_worker(make_server, sock, ready_w, alive_r))
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


class WorkerPool:
    """``count`` forked workers serving one port; ``start`` returns once every one listens."""

    def __init__(self, make_server: Callable[[], uvicorn.Server], count: int) -> None:
        if count < 1:
            raise ValueError(f"workers must be >= 1, got {count}")
        self._make_server = make_server
        self._count = count
        self._pids: list[int] = []
        self._alive_w: int | None = None

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers."""
        return list(self._pids)

    def is_running(self) -> bool:
        """Whether every worker is still alive (a worker that died is reaped here)."""
        if not self._pids:
            return False
        for pid in self._pids:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    return False
        return True

    def start(self, sockets: list[socket.socket], timeout: float) -> None:
        """Fork one worker per socket and wait (at most ``timeout`` s) until all listen.

        The parent closes its copies of the sockets. Raises ``RuntimeError`` (after stopping the
        workers that did start) if a worker fails or is not ready in time.
        """
        alive_r, self._alive_w = os.pipe()
        ready_fds: list[int] = []
        try:
            for sock in sockets:
                ready_r, ready_w = os.pipe()
                pid = os.fork()
                if pid == 0:
                    os.close(self._alive_w)
                    _worker_main(self._make_server, sock, ready_w, alive_r)
                os.close(ready_w)
                ready_fds.append(ready_r)
                self._pids.append(pid)
            self._wait_ready(ready_fds, timeout)
        except BaseException:
            self.stop(0.0)
            raise
        finally:
            os.close(alive_r)
            for fd in ready_fds:
                os.close(fd)
            for sock in sockets:
                sock.close()

    @staticmethod
    def _wait_ready(ready_fds: list[int], timeout: float) -> None:
        """Wait for one readiness byte per worker; EOF first means the worker died."""
        waiting = set(ready_fds)
        deadline = time.monotonic() + timeout
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"axon workers not listening after {timeout} s")
            readable, _, _ = select.select(list(waiting), [], [], remaining)
            for fd in readable:
                if os.read(fd, 1) != b"1":
                    raise RuntimeError("an axon worker exited during startup (see its stderr)")
                waiting.discard(fd)

    def stop(self, timeout: float) -> None:
        """Close the heartbeat pipe (workers finish their requests, at most ``timeout`` s), then
        reap them; a worker still running ``_KILL_GRACE`` s later is killed."""
        if self._alive_w is not None:
            os.close(self._alive_w)
            self._alive_w = None
        deadline = time.monotonic() + max(timeout, 0.0) + _KILL_GRACE
        pending = list(self._pids)
        while pending:
            pending = [pid for pid in pending if not self._reaped(pid)]
            if pending and time.monotonic() > deadline:
                for pid in pending:
                    logger.warning("axon worker %d did not stop in time: killed", pid)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(pid, 0)
                pending = []
            elif pending:
                time.sleep(0.01)
        self._pids = []

    @staticmethod
    def _reaped(pid: int) -> bool:
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == pid
        except ChildProcessError:  # already reaped
            return True
