"""Connection-level limits of the Axon's uvicorn server, and rate-limited logging.

uvicorn leaves a silent or trickling connection open forever (its keep-alive timer only runs after
a response and every received byte resets it), caps neither connections nor header size with
httptools, and logs once per bad event. A flood of idle sockets therefore used up the file
descriptors and wrote hundreds of thousands of log lines. ``guarded_protocol`` wraps uvicorn's
HTTP protocol (h11 or httptools, unchanged otherwise) with:

- a **head deadline**: a connection must deliver a complete request head within
  ``header_timeout`` seconds of being opened or of its previous request; otherwise it is closed;
- **connection caps**: at most ``max_connections`` open connections and ``max_connections_per_ip``
  per peer address; a connection beyond either is closed at once (no file descriptor kept);
- a **head size limit**: a request head over ``max_header_bytes`` gets 431 and is closed (h11
  has its own limit too, httptools none);
- a **connection control** in the ASGI scope (``CONTROL_SCOPE_KEY``): the application ends a
  response it cannot complete (a failed stream, a reader that stopped reading) by closing the
  connection without the terminating chunk, so the client sees an incomplete transfer.

The wrapper only reads uvicorn's ``cycle`` (the current request/response cycle: ``scope``,
``response_complete``, ``disconnected``); everything else goes through the asyncio protocol
interface. ``RateLimitedLogger`` and ``rate_limited_loop_errors`` log a repeated message at most
once per interval, with the number of repeats left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar, cast

__all__ = [
    "CONTROL_SCOPE_KEY",
    "ConnectionControl",
    "ConnectionGuard",
    "ConnectionLimits",
    "RateLimitedLogger",
    "connection_control",
    "default_max_connections",
    "guarded_protocol",
    "rate_limited_loop_errors",
    "uvicorn_protocol",
]

CONTROL_SCOPE_KEY = "synapsegen.connection"
LOG_INTERVAL = 10.0

_HEAD_END = b"\r\n\r\n"
_HEAD_TOO_LARGE = b"Request header fields too large"


class _Throttle:
    """Lets each key through at most once per interval and counts what it held back."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[object, float] = {}
        self._held: Counter[object] = Counter()

    def allow(self, key: object) -> int | None:
        """None if ``key`` passed less than an interval ago; else how many were held back."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] += 1
            return None
        if len(self._last) > 1024:  # message kinds are few; this only bounds the worst case
            self._last.clear()
        self._last[key] = now
        return self._held.pop(key, 0)


class RateLimitedLogger(logging.Logger):
    """A logger that emits each message (by level and format string) at most once per interval.

    Repeats inside the interval are counted; the next emitted one says how many were left out.
    Levels, handlers and propagation are the wrapped logger's.
    """

    def __init__(self, target: logging.Logger, interval: float = LOG_INTERVAL) -> None:
        super().__init__(target.name)
        self._target = target
        self._throttle = _Throttle(interval)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's name
        return self._target.isEnabledFor(level)

    def _log(
        self,
        level: int,
        msg: object,
        args: Any,
        exc_info: Any = None,
        extra: Any = None,
        stack_info: bool = False,
        stacklevel: int = 1,
    ) -> None:
        held_back = self._throttle.allow((level, str(msg)))
        if held_back is None:
            return
        if held_back:
            interval = self._throttle.interval
            msg = f"{msg} [{held_back} more like this in the last {interval:g} s not logged]"
        self._target._log(level, msg, args, exc_info, extra, stack_info, stacklevel + 1)


@contextlib.contextmanager
def rate_limited_loop_errors(interval: float = LOG_INTERVAL) -> Iterator[None]:
    """Within the block, the running loop reports each kind of error at most once per interval.

    asyncio reports a failed ``accept()`` (e.g. out of file descriptors) through the loop's
    exception handler, once per retry and listener. The previous handler is restored on exit
    and still gets the reports that pass.
    """
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    throttle = _Throttle(interval)

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        held_back = throttle.allow(str(context.get("message")))
        if held_back is None:
            return
        if held_back:
            note = f" [{held_back} more like this in the last {interval:g} s not logged]"
            context = {**context, "message": f"{context.get('message')}{note}"}
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    try:
        yield
    finally:
        if loop.get_exception_handler() is handler:
            loop.set_exception_handler(previous)


@dataclass(frozen=True)
class ConnectionLimits:
    """The limits ``guarded_protocol`` enforces (None: no limit)."""

    header_timeout: float | None = 10.0
    max_connections: int | None = None
    max_connections_per_ip: int | None = 128
    max_header_bytes: int | None = 64 * 1024

    def __post_init__(self) -> None:
        for name in ("max_connections", "max_connections_per_ip", "max_header_bytes"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")
        if self.header_timeout is not None and not self.header_timeout > 0:
            raise ValueError(f"header_timeout must be > 0 or None, got {self.header_timeout}")


class ConnectionGuard:
    """Open connections per server and per peer address; admits or refuses new ones."""

    def __init__(self, limits: ConnectionLimits, log: logging.Logger) -> None:
        self.limits = limits
        self.log = log
        # uvicorn's per-event messages (invalid request, ...), once per interval per message.
        self.uvicorn_log = RateLimitedLogger(logging.getLogger("uvicorn.error"))
        self._per_ip: Counter[str] = Counter()
        self._total = 0

    @property
    def open_connections(self) -> int:
        """Connections currently admitted."""
        return self._total

    def admit(self, ip: str) -> bool:
        """Count a new connection from ``ip``; False (nothing counted) when over a cap."""
        limits = self.limits
        if limits.max_connections is not None and self._total >= limits.max_connections:
            self.log.warning("connection refused: %d connections open", self._total)
            return False
        per_ip = limits.max_connections_per_ip
        if per_ip is not None and self._per_ip[ip] >= per_ip:
            self.log.warning("connection refused: %d connections open from one address", per_ip)
            return False
        self._total += 1
        self._per_ip[ip] += 1
        return True

    def release(self, ip: str) -> None:
        """Forget a connection ``admit`` counted."""
        self._total -= 1
        self._per_ip[ip] -= 1
        if self._per_ip[ip] <= 0:
            del self._per_ip[ip]


class ConnectionControl:
    """Lets the application end a response it cannot complete: close without the last chunk."""

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        # Weak: the control lives in the cycle's own scope, and a strong reference back made
        # every request's cycle, scope and headers (~5 KiB) a reference cycle that only the
        # garbage collector's rare full collections freed. The request task keeps the cycle
        # alive for as long as the application can call close_incomplete.
        self._cycle: Callable[[], Any] = weakref.ref(cycle)

    def close_incomplete(self, *, flush_within: float) -> None:
        """Close the connection mid-response; the client sees an incomplete transfer.

        What was already sent still reaches a reading client; after ``flush_within`` seconds
        anything unsent is dropped (a client that stopped reading would otherwise keep the
        socket open for as long as it likes).
        """
        # uvicorn drops later sends on a disconnected cycle and does not log the unfinished
        # response as an application error.
        cycle = self._cycle()
        if cycle is not None:
            cycle.disconnected = True
        transport = self._transport
        transport.close()
        if transport.get_write_buffer_size():
            asyncio.get_running_loop().call_later(flush_within, transport.abort)


def connection_control(scope: MutableMapping[str, Any]) -> ConnectionControl | None:
    """This request's ``ConnectionControl``; None when not served through ``guarded_protocol``."""
    control = scope.get(CONTROL_SCOPE_KEY)
    return control if isinstance(control, ConnectionControl) else None


class _GuardedProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol (``_inner_class``) behind the limits of ``_guard``."""

    _inner_class: ClassVar[type[asyncio.Protocol]]
    _guard: ClassVar[ConnectionGuard]

    def __init__(self, **uvicorn_kwargs: Any) -> None:
        # Any: uvicorn's h11 and httptools protocols share these attributes but no base class.
        self._inner: Any = cast(Any, self._inner_class(**uvicorn_kwargs))
        self._inner.logger = self._guard.uvicorn_log
        self._transport: asyncio.Transport | None = None
        self._ip: str | None = None  # set once admitted
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes of a request head received so far
        self._tail = b""  # last bytes received, to find a head end split across reads
        self._cycle: Any = None  # the uvicorn cycle last seen (new one: a request started)
        self._cycle_at_timer: Any = None

    # ---- asyncio protocol interface ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        ip = str(peer[0]) if isinstance(peer, tuple) and peer else "?"
        if not self._guard.admit(ip):
            transport.abort()  # before uvicorn sees it: no state, no file descriptor kept
            return
        self._ip = ip
        self._inner.connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._ip is None:
            return
        self._guard.release(self._ip)
        self._ip = None
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._ip is None or self._transport is None or self._transport.is_closing():
            return
        if self._awaiting_head() and self._head_over_limit(data):
            self._refuse_head()
            return
        self._inner.data_received(data)
        self._notice_new_request()

    def eof_received(self) -> bool | None:
        result: bool | None = self._inner.eof_received() if self._ip is not None else None
        return result

    def pause_writing(self) -> None:
        if self._ip is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._ip is not None:
            self._inner.resume_writing()

    # ---- request heads ----------------------------------------------------------------------

    def _awaiting_head(self) -> bool:
        cycle = self._inner.cycle
        return cycle is None or bool(cycle.response_complete)

    def _head_over_limit(self, data: bytes) -> bool:
        """Count ``data`` as head bytes; True if the head passes ``max_header_bytes``."""
        limit = self._guard.limits.max_header_bytes
        if limit is None:
            return False
        window = self._tail + data
        end = window.find(_HEAD_END)
        head_part = len(data) if end < 0 else max(end + len(_HEAD_END) - len(self._tail), 0)
        self._tail = window[-(len(_HEAD_END) - 1) :]
        self._head_bytes += head_part
        return self._head_bytes > limit

    def _refuse_head(self) -> None:
        assert self._transport is not None
        self._guard.log.warning("request head over %d bytes refused", self._head_bytes)
        self._transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (len(_HEAD_TOO_LARGE), _HEAD_TOO_LARGE)
        )
        self._transport.close()

    def _notice_new_request(self) -> None:
        """After uvicorn parsed data: a new cycle is a request whose head is complete."""
        cycle = self._inner.cycle
        if cycle is None or cycle is self._cycle:
            return
        self._cycle = cycle
        self._head_bytes = 0
        self._tail = b""
        # The ASGI task is created but has not run yet: it will find the control in its scope.
        assert self._transport is not None
        cycle.scope[CONTROL_SCOPE_KEY] = ConnectionControl(self._transport, cycle)

    # ---- head deadline ----------------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        timeout = self._guard.limits.header_timeout
        if timeout is None:
            return
        self._cycle_at_timer = self._cycle
        loop = asyncio.get_running_loop()
        self._head_timer = loop.call_later(timeout, self._head_deadline)

    def _head_deadline(self) -> None:
        """Close a connection that started no request in a whole period and is not serving one.

        A period in which a request started (or one still running) renews the deadline, so a
        busy keep-alive connection stays; a silent or trickling one is closed after one to two
        periods.
        """
        self._head_timer = None
        transport = self._transport
        if self._ip is None or transport is None or transport.is_closing():
            return
        if self._cycle is not self._cycle_at_timer or not self._awaiting_head():
            self._arm_head_timer()
            return
        self._guard.log.info("connection closed: no request within the head deadline")
        if transport.get_write_buffer_size():
            transport.abort()  # the peer is not reading either: do not wait for it
        else:
            transport.close()


def guarded_protocol(inner: type[asyncio.Protocol], guard: ConnectionGuard) -> type[Any]:
    """A protocol class for ``uvicorn.Config(http=...)``: ``inner`` behind ``guard``'s limits."""
    return type(
        f"Guarded{inner.__name__}",
        (_GuardedProtocol,),
        {"_inner_class": inner, "_guard": guard},
    )


def uvicorn_protocol(http: str) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class for ``"h11"`` or ``"httptools"``."""
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


def default_max_connections() -> int:
    """Three quarters of the process's open-file limit (the rest for everything else)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no such limit on this platform
        return 1024
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return 65536
    return max(soft * 3 // 4, 1)
