"""``Axon``: a bittensor-10-wire-compatible server for synapses, on uvicorn without FastAPI.

Usage::

    axon = Axon(wallet_or_keypair, port=8091)
    axon.attach(forward, blacklist_fn=blacklist, priority_fn=priority)
    axon.start()           # uvicorn in a background thread, like bittensor
    ...
    axon.stop()

    # or, inside an asyncio program:
    async with Axon(keypair).attach(forward) as axon:
        ...                # axon.port is the bound port

On the wire it behaves like a bittensor 10.5 axon (``shared/wire_protocol.md`` §9-§10, verified
against recorded exchanges): same routes, statuses, messages, headers and header order. The request
pipeline lives in ``_axon_app.AxonApp``; its docstring lists the order of the checks.

Which synapse the hooks see, as in bittensor: ``blacklist_fn``, ``verify_fn`` and ``priority_fn``
receive the synapse built from the request *headers* (required fields hold empty placeholders,
``dendrite.ip``/``port`` are the TCP peer); ``forward_fn`` receives a separate synapse parsed from
the JSON *body*.

Deliberate differences from bittensor 10.2-10.5:

- binds ``127.0.0.1`` unless told otherwise (bittensor always binds ``0.0.0.0``), never looks up
  an external IP (``external_ip`` defaults to ``ip``), does not touch signal handlers or the
  logging configuration, and does not honour ``X-Forwarded-For`` (the peer is the TCP peer);
- unsigned requests are refused (401 ``Missing Signature``, as 10.5; 10.2 served them);
- the nonce store is bounded (``max_nonce_entries``, LRU) and stays replay-safe (see
  ``NonceStore``); bittensor's grows forever. It can live in Redis (``replay_store=``), shared
  by several worker processes (``workers=``) or hosts and kept across restarts;
- ``max_workers`` really bounds concurrent forwards (streams included) and admits waiters by
  ``priority_fn`` (higher first); a request that waits longer than its ``timeout`` gets 408
  ``Response timeout after: {timeout}s``. bittensor's thread pool never limited anything;
- a stream still running ``synapse.timeout + stream_timeout_grace`` seconds after ``forward_fn``
  was called is cancelled and ended cleanly (bittensor never stops a stream; its dendrite gives up
  at ``timeout`` anyway). A client disconnect also cancels the token streamer. ``None`` disables
  the time limit;
- a token streamer that raises, is cut at its deadline or sends a ``str`` body ends the body
  without its final chunk (the client sees an incomplete transfer; bittensor ends it cleanly,
  so a truncated answer looked complete); every stream send is bounded by that deadline;
- the nonce freshness window is capped by ``max_request_age``, applies whatever the version
  header says, needs a finite ``timeout``, and ``forward_fn`` sees the verified dendrite
  ``hotkey``/``nonce``/``uuid``/``signature`` (bittensor passes the body's claims); connections
  are limited (head deadline, caps per server and per address, head size): see
  ``docs/runtime.md``, "Hardening";
- the request body is read before a ``max_workers`` slot is taken and within the request's
  ``timeout`` (capped by ``body_timeout``): a stalled upload gets 408 ``Request body not received
  within {t}s`` and never holds a slot (bittensor reads it with no time limit);
- request bodies over ``max_body_bytes`` get 413; failing to build the success headers gives 500
  (bittensor's PostProcessException path ends in a plain-text 500 too);
- header values are made latin-1 safe (``?`` for other characters, control characters become
  spaces) instead of crashing the response; a status message the *client* put in its
  ``bt_header_axon_status_message`` header is ignored (bittensor would echo it as the error text);
- ``attach`` resolves string annotations (``from __future__ import annotations`` works), accepts
  ``tuple[bool, str]`` as well as ``typing.Tuple[bool, str]``, and accepts unannotated hooks;
  annotations that are present must fit (clear ``TypeError`` otherwise);
- methods other than GET/POST on an attached route get 405 before the pipeline runs.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import importlib.util
import inspect
import ipaddress
import logging
import math
import socket
import threading
import time
import typing
import uuid as uuid_module
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import uvicorn
from bittensor_wallet import Keypair

from ._auth import RequestVerifier
from ._axon_app import AxonApp, Route
from ._axon_guards import PriorityGate
from ._axon_limits import (
    ConnectionGuard,
    ConnectionLimits,
    RateLimitedLogger,
    default_max_connections,
    guarded_protocol,
    rate_limited_loop_errors,
    uvicorn_protocol,
)
from ._axon_workers import WorkerPool, bind_reuseport_sockets
from ._closing import AsyncClosing
from .btauth import BtAuthVerifier
from .epistula import EpistulaVerifier
from .replay import NonceStore, RedisReplayStore, RedisSeenStore, ReplayStore, SeenSet, SeenStore
from .signing import VERSION_AS_INT
from .synapse import Synapse, is_bittensor_class, mixed_runtimes_error
from .transports import BITTENSOR10, DEFAULT_SERVED, TRANSPORTS

__all__ = ["Axon", "AxonInfo"]

logger = logging.getLogger("synapsegen.runtime.axon")

HttpImplementation = Literal["auto", "h11", "httptools"]

_START_TIMEOUT = 10.0


class WalletLike(Protocol):
    """Anything with a ``hotkey`` keypair, e.g. ``bittensor_wallet.Wallet``."""

    @property
    def hotkey(self) -> Keypair: ...


@dataclass(frozen=True)
class AxonInfo:
    """What a dendrite needs to call an axon, with the fields of bittensor's ``AxonInfo``.

    ``coldkey`` is empty when the Axon was built from a bare ``Keypair``; ``protocol`` 4 and the
    placeholders 0 are what bittensor 10's ``serve_axon`` publishes.
    """

    ip: str
    port: int
    hotkey: str
    version: int = VERSION_AS_INT
    ip_type: int = 4
    coldkey: str = ""
    protocol: int = 4
    placeholder1: int = 0
    placeholder2: int = 0


class _EmbeddedServer(uvicorn.Server):
    """uvicorn server that leaves the application's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        # asyncio reports each failed accept() (out of file descriptors) through the loop;
        # under a connection flood that was a log line with a traceback per retry.
        with rate_limited_loop_errors():
            await super().serve(sockets)


def _ping(synapse: Synapse) -> Synapse:
    """Default ``/Synapse`` route: echo the synapse (bittensor's ping)."""
    return synapse


def _resolve_keypair(keypair_or_wallet: Keypair | WalletLike | None) -> Keypair:
    if keypair_or_wallet is None:
        keypair = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
        logger.warning(
            "Axon built without a keypair: using a throwaway hotkey %s", keypair.ss58_address
        )
        return keypair
    hotkey = (
        keypair_or_wallet
        if isinstance(keypair_or_wallet, Keypair)
        else getattr(keypair_or_wallet, "hotkey", None)
    )
    if not isinstance(hotkey, Keypair):
        raise TypeError(
            "Axon needs a bittensor_wallet.Keypair or a wallet whose .hotkey is one, got "
            f"{type(keypair_or_wallet).__name__}"
        )
    keypair = hotkey
    try:
        keypair.sign(b"synapsegen axon key check")
    except Exception as exc:
        raise ValueError(
            f"the Axon's hotkey {keypair.ss58_address} cannot sign (no private key?): {exc}"
        ) from exc
    return keypair


def _pick_wallet(
    keypair_or_wallet: Keypair | WalletLike | None, wallet: WalletLike | None
) -> tuple[Keypair | WalletLike | None, WalletLike | None]:
    """(what signs, the wallet if any): ``wallet=`` and a positional wallet mean the same."""
    if wallet is not None:
        if keypair_or_wallet is not None:
            raise TypeError("give the Axon a keypair_or_wallet or wallet=, not both")
        return wallet, wallet
    if keypair_or_wallet is None or isinstance(keypair_or_wallet, Keypair):
        return keypair_or_wallet, None
    return keypair_or_wallet, keypair_or_wallet


def _ip_type(ip: str) -> int:
    """4 or 6 for an IP address (4 for a host name, which the chain cannot store anyway)."""
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return 4


def _coldkey_of(wallet: WalletLike | None) -> str:
    """SS58 address of the wallet's public coldkey, "" without one (as bittensor reads it)."""
    coldkeypub = getattr(wallet, "coldkeypub", None)
    address = getattr(coldkeypub, "ss58_address", None)
    return address if isinstance(address, str) else ""


def _pick_http(http: HttpImplementation) -> Literal["h11", "httptools"]:
    if http != "auto":
        return http
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


# ---- attach() signature checks ------------------------------------------------------------------


def _signature(fn: Callable[..., Any], role: str) -> inspect.Signature:
    if not callable(fn):
        raise TypeError(f"{role} must be callable, got {type(fn).__name__}")
    try:
        return inspect.signature(fn, eval_str=True)
    except (NameError, SyntaxError) as exc:
        raise TypeError(f"cannot resolve the annotations of {role} {fn!r}: {exc}") from exc
    except ValueError as exc:
        raise TypeError(f"cannot read the signature of {role} {fn!r}: {exc}") from exc


def _first_parameter(sig: inspect.Signature, role: str) -> inspect.Parameter | None:
    try:
        sig.bind(None)
    except TypeError as exc:
        raise TypeError(f"{role} must take exactly one argument, the synapse ({exc})") from exc
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    for parameter in sig.parameters.values():
        if parameter.kind in positional:
            return parameter
    return None


def _synapse_class_of(forward_fn: Callable[..., Any]) -> type[Synapse]:
    """The Synapse subclass named by the annotation of ``forward_fn``'s first parameter."""
    parameter = _first_parameter(_signature(forward_fn, "forward_fn"), "forward_fn")
    annotation = parameter.annotation if parameter is not None else inspect.Parameter.empty
    if isinstance(annotation, type) and is_bittensor_class(annotation):
        raise mixed_runtimes_error(annotation, Axon, "an annotation of forward_fn")
    if not (isinstance(annotation, type) and issubclass(annotation, Synapse)):
        raise TypeError(
            "the first parameter of forward_fn must be annotated with a Synapse subclass "
            f"(it names the route), got {annotation!r}"
        )
    return annotation


def _unwrap_awaitable(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (collections.abc.Awaitable, collections.abc.Coroutine):
        args = typing.get_args(annotation)
        return args[-1] if args else inspect.Parameter.empty
    return annotation


def _returns_bool_str(annotation: Any) -> bool:
    return typing.get_origin(annotation) is tuple and typing.get_args(annotation) == (bool, str)


def _returns_number(annotation: Any) -> bool:
    return annotation in (float, int)


def _returns_none(annotation: Any) -> bool:
    return annotation is None or annotation is type(None)


def _check_hook(
    fn: Callable[..., Any],
    role: str,
    synapse_class: type[Synapse],
    returns_ok: Callable[[Any], bool],
    expected: str,
) -> None:
    """Refuse a hook whose (present) annotations cannot fit ``role(synapse) -> expected``."""
    sig = _signature(fn, role)
    parameter = _first_parameter(sig, role)
    annotation = parameter.annotation if parameter is not None else inspect.Parameter.empty
    if annotation not in (inspect.Parameter.empty, Any) and not (
        isinstance(annotation, type) and issubclass(synapse_class, annotation)
    ):
        raise TypeError(
            f"{role} takes {annotation!r}, but the route's synapse is {synapse_class.__name__}"
        )
    returned = _unwrap_awaitable(sig.return_annotation)
    if returned is not inspect.Parameter.empty and not returns_ok(returned):
        raise TypeError(f"{role} must return {expected}; it is annotated {returned!r}")


# ---- replay store and workers -------------------------------------------------------------------


def _make_replay_store(
    replay_store: ReplayStore | str | None, max_nonce_entries: int, keypair: Keypair
) -> ReplayStore:
    """The store behind ``replay_store=``: a Redis URL is namespaced by the axon's hotkey."""
    if replay_store is None:
        return NonceStore(max_nonce_entries)
    if isinstance(replay_store, str):
        return RedisReplayStore(replay_store, namespace=keypair.ss58_address)
    if not isinstance(replay_store, ReplayStore):
        raise TypeError(
            "replay_store must be None, a Redis URL or a ReplayStore (floor, last_nonce, "
            f"accept_if_newer), got {type(replay_store).__name__}"
        )
    return replay_store


def _make_verifiers(
    verifiers: Sequence[RequestVerifier] | None,
    replay_store: ReplayStore | str | None,
    keypair: Keypair,
    workers: int,
) -> tuple[RequestVerifier, ...]:
    """The HTTP-era schemes' verifiers: btauth/1 and Epistula v2 for this hotkey, sharing one
    seen-store (in Redis when the nonces are: workers must see each other's requests)."""
    if verifiers is not None:
        for verifier in verifiers:
            if not isinstance(verifier, RequestVerifier):
                raise TypeError(
                    f"verifiers must be RequestVerifiers, got {type(verifier).__name__}"
                )
        return tuple(verifiers)
    hotkey = keypair.ss58_address
    url = replay_store if isinstance(replay_store, str) else getattr(replay_store, "url", None)
    seen: SeenStore
    if isinstance(url, str):
        seen = RedisSeenStore(url, namespace=hotkey)
    elif workers > 1:  # refused earlier by _check_workers for the nonces; same reason here
        raise ValueError(
            f"workers={workers} with a custom replay_store needs verifiers= whose seen-stores "
            "the worker processes share (e.g. RedisSeenStore)"
        )
    else:
        seen = SeenSet()
    return (BtAuthVerifier(hotkey, seen=seen), EpistulaVerifier(hotkey, seen=seen))


def _check_transports(transports: Iterable[str]) -> frozenset[str]:
    chosen = frozenset([transports] if isinstance(transports, str) else transports)
    unknown = sorted(chosen - frozenset(TRANSPORTS))
    if unknown or not chosen:
        known = ", ".join(repr(name) for name in TRANSPORTS)
        raise ValueError(f"transports must be a non-empty set of {known}; got {sorted(chosen)}")
    return chosen


def _check_workers(workers: int, replay_store: ReplayStore | str | None) -> int:
    """``workers``, refused when not a positive int or above 1 with a per-process store."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    if workers > 1 and (replay_store is None or isinstance(replay_store, NonceStore)):
        raise ValueError(
            f"workers={workers} needs a replay store shared by the worker processes: each would "
            "keep its own in-memory nonces and accept a request replayed to another worker. "
            "Pass replay_store='redis://host:6379/0' (pip install 'synapsegen[redis]')"
        )
    return workers


# ---- the server ---------------------------------------------------------------------------------


class Axon(AsyncClosing):
    """A bittensor-10-compatible axon: attach synapse handlers, then serve them over HTTP.

    Args:
        keypair_or_wallet: the hotkey (``bittensor_wallet.Keypair``) or a wallet whose ``hotkey``
            is one. It signs the axon's error responses and is the axon hotkey requests must be
            signed for. None: a throwaway key (logged), for tests.
        wallet: the same as passing a wallet positionally (bittensor's ``Axon(wallet=...)``). A
            wallet (not a bare keypair) is needed to publish the axon with bittensor's
            ``subtensor.serve_axon``, which reads ``axon.wallet``.
        ip: address to bind; ``127.0.0.1`` by default (never all interfaces unless asked).
        port: port to bind; 0 picks a free one (read ``axon.port`` after ``start()``).
        external_ip / external_port: the address to advertise (default: ``ip`` / ``port``).
        max_workers: most forwards (streams included) running at once in each worker process;
            further requests wait, highest ``priority_fn`` value first, and get 408 if their
            ``timeout`` passes while waiting. None: unlimited. The default, 256, suits async
            handlers (a waiting coroutine costs little); lower it for handlers that use a scarce
            resource (a GPU, a thread pool).
        max_nonce_entries: capacity of the default in-memory nonce store (one entry per dendrite
            hotkey and uuid).
        replay_store: where the nonces of accepted requests are kept: None, the in-memory
            ``NonceStore`` (one process); a Redis URL (``"redis://host:6379/0"``), a
            ``RedisReplayStore`` namespaced by this axon's hotkey, shared by workers, hosts and
            restarts (needs ``synapsegen[redis]``); or any ``ReplayStore``.
        workers: processes serving the port (forked by ``start()``, one ``SO_REUSEPORT`` socket
            each). Above 1 needs a shared ``replay_store``: with one store per process a replay
            could land on another worker.
        max_body_bytes: largest request body accepted (413 beyond); None: unlimited.
        body_timeout: seconds a client may take to send its body (also bounded by the request's
            own ``timeout``); 408 beyond. The body is read before a ``max_workers`` slot is
            taken, so a stalled upload never blocks other requests. None: only ``timeout``.
        stream_timeout_grace: a stream is cancelled this many seconds after ``synapse.timeout``
            has passed since ``forward_fn`` was called; None: never.
        max_request_age: the oldest request (by its signed nonce) the default verification
            accepts, in seconds: the freshness window is bittensor's ``4 s + timeout`` capped by
            this, so that an unsigned ``timeout`` can never widen it.
        header_timeout: seconds a connection may take to send a complete request head, from
            when it opens or from its previous request; it is closed beyond. None: no limit.
        keep_alive_timeout: seconds an idle keep-alive connection is kept (uvicorn's).
        max_connections: most open connections; more are closed at once. "auto": three
            quarters of the open-file limit. None: no limit.
        max_connections_per_ip: most open connections from one peer address. None: no limit.
        max_header_bytes: largest request head (request line and headers); 431 beyond.
        http: uvicorn HTTP implementation; "auto" uses httptools when installed, else h11.
        shutdown_timeout: seconds ``stop()`` lets running requests finish before cancelling them.
        verifiers: the HTTP-era schemes' request checks (``RequestVerifier``s). None: a
            ``BtAuthVerifier`` (10 s back, 2 s ahead) and an ``EpistulaVerifier`` (8 s back, 2 s
            ahead) for this hotkey, receiver binding required, replays caught in one seen-store
            (in Redis when ``replay_store`` is). Pass your own to change a window.
    """

    def __init__(
        self,
        keypair_or_wallet: Keypair | WalletLike | None = None,
        *,
        ip: str = "127.0.0.1",
        port: int = 0,
        external_ip: str | None = None,
        external_port: int | None = None,
        wallet: WalletLike | None = None,
        max_workers: int | None = 256,
        max_nonce_entries: int = 65536,
        replay_store: ReplayStore | str | None = None,
        workers: int = 1,
        max_body_bytes: int | None = 32 * 1024 * 1024,
        body_timeout: float | None = 60.0,
        stream_timeout_grace: float | None = 1.0,
        max_request_age: float = 64.0,
        header_timeout: float | None = 10.0,
        keep_alive_timeout: float = 5.0,
        max_connections: int | Literal["auto"] | None = "auto",
        max_connections_per_ip: int | None = 128,
        max_header_bytes: int = 64 * 1024,
        http: HttpImplementation = "auto",
        shutdown_timeout: float = 5.0,
        verifiers: Sequence[RequestVerifier] | None = None,
    ) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {port}")
        if http not in ("auto", "h11", "httptools"):
            raise ValueError(f"http must be 'auto', 'h11' or 'httptools', got {http!r}")
        signer, self._wallet = _pick_wallet(keypair_or_wallet, wallet)
        self._keypair = _resolve_keypair(signer)
        self._workers = _check_workers(workers, replay_store)
        self._pool: WorkerPool | None = None
        self._ip = ip
        self._port = port
        self._bound_port: int | None = None
        self._external_ip = external_ip
        self._external_port = external_port
        self._http = _pick_http(http)
        self._shutdown_timeout = shutdown_timeout
        self._keep_alive_timeout = keep_alive_timeout
        self._limits = ConnectionLimits(
            header_timeout=header_timeout,
            max_connections=(
                default_max_connections() if max_connections == "auto" else max_connections
            ),
            max_connections_per_ip=max_connections_per_ip,
            max_header_bytes=max_header_bytes,
        )
        self._app = AxonApp(
            keypair=self._keypair,
            uuid=str(uuid_module.uuid1()),
            nonces=_make_replay_store(replay_store, max_nonce_entries, self._keypair),
            gate=PriorityGate(max_workers),
            max_body_bytes=max_body_bytes,
            body_timeout=body_timeout,
            stream_timeout_grace=stream_timeout_grace,
            max_request_age=max_request_age,
            verifiers=_make_verifiers(verifiers, replay_store, self._keypair, self._workers),
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._thread_error: BaseException | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        # bittensor's ping route: bittensor 10's wire only (a bare Synapse has nothing to say
        # over HTTP, and stays out of the OpenAPI document).
        self.attach(_ping, transports=(BITTENSOR10,))

    # ---- properties -------------------------------------------------------------------------

    @property
    def app(self) -> AxonApp:
        """The ASGI application (serve it with any ASGI server, or call it in tests)."""
        return self._app

    @property
    def keypair(self) -> Keypair:
        """The axon's hotkey keypair."""
        return self._keypair

    @property
    def wallet(self) -> WalletLike:
        """The wallet the Axon was built with (bittensor's ``subtensor.serve_axon`` reads it).

        Raises ``AttributeError`` naming the fix when it was built from a bare ``Keypair``.
        """
        if self._wallet is None:
            raise AttributeError(
                "this Axon was built from a bare Keypair and has no wallet; to publish it with "
                "subtensor.serve_axon, build it with Axon(wallet=bittensor_wallet.Wallet(...))"
            )
        return self._wallet

    @property
    def workers(self) -> int:
        """Number of processes serving the port."""
        return self._workers

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (empty with ``workers=1``: this process serves)."""
        return self._pool.pids if self._pool is not None else []

    @property
    def hotkey(self) -> str:
        """SS58 address of the axon's hotkey (what dendrites put in ``bt_header_axon_hotkey``)."""
        return self._keypair.ss58_address

    @property
    def uuid(self) -> str:
        """The axon's uuid1, sent as ``bt_header_axon_uuid`` on error responses."""
        return self._app.uuid

    @uuid.setter
    def uuid(self, value: str) -> None:
        self._app.uuid = value

    @property
    def ip(self) -> str:
        """The bind address."""
        return self._ip

    @property
    def port(self) -> int:
        """The bound port once started (the real one when 0 was asked), else the configured one."""
        return self._bound_port if self._bound_port is not None else self._port

    @property
    def external_ip(self) -> str:
        """Address to advertise (defaults to ``ip``)."""
        return self._external_ip if self._external_ip is not None else self._ip

    @property
    def external_port(self) -> int:
        """Port to advertise (defaults to ``port``)."""
        return self._external_port if self._external_port is not None else self.port

    @property
    def full_address(self) -> str:
        """``"ip:port"`` of the bound socket."""
        return f"{self._ip}:{self.port}"

    @property
    def is_running(self) -> bool:
        """Whether the server is accepting connections."""
        if self._pool is not None:
            return self._pool.is_running()
        server = self._server
        return server is not None and server.started and not server.should_exit

    @property
    def nonces(self) -> ReplayStore:
        """The replay store used by the default verification (``NonceStore`` by default)."""
        return self._app.nonces

    @property
    def gate(self) -> PriorityGate:
        """The priority gate bounding concurrent forwards."""
        return self._app.gate

    @property
    def synapse_names(self) -> list[str]:
        """Attached routes, in attach order (``Synapse`` first)."""
        return list(self._app.routes)

    def info(self) -> AxonInfo:
        """The advertised address and keys (``external_ip``/``external_port``), as bittensor's
        ``Axon.info()``; the runtime's ``Dendrite`` accepts it (or the Axon itself) as a target."""
        return AxonInfo(
            ip=self.external_ip,
            port=self.external_port,
            hotkey=self.hotkey,
            ip_type=_ip_type(self.external_ip),
            coldkey=_coldkey_of(self._wallet),
        )

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"Axon({self.hotkey}, {self.full_address}, {state}, routes={self.synapse_names})"

    # ---- routes -----------------------------------------------------------------------------

    def attach(
        self,
        forward_fn: Callable[..., Any],
        blacklist_fn: Callable[..., Any] | None = None,
        priority_fn: Callable[..., Any] | None = None,
        verify_fn: Callable[..., Any] | None = None,
        *,
        transports: Iterable[str] = DEFAULT_SERVED,
    ) -> Axon:
        """Route ``POST|GET /<ClassName>`` to ``forward_fn``; returns ``self`` for chaining.

        The class is the annotation of ``forward_fn``'s first parameter (string annotations are
        resolved). All four functions may be sync or async and take the synapse:

        - ``forward_fn(synapse) -> Synapse | BTStreamingResponse | tokens`` (body-parsed
          synapse); tokens (an async iterable) are streamed with ``synapse.stream_response``;
        - ``blacklist_fn(synapse) -> tuple[bool, str]``: ``(True, reason)`` answers 403;
        - ``priority_fn(synapse) -> float``: higher is served first when ``max_workers`` are busy;
        - ``verify_fn(synapse) -> None``: raise to answer 401; replaces the default nonce and
          signature check of bittensor 10's transport (the HTTP-era ones always verify).

        ``transports``: which signed requests the route serves (``transports.TRANSPORTS``):
        ``"bittensor10"`` and ``"btauth/1"`` by default; add ``"epistula/2"`` for Epistula v2
        callers. The same ``forward_fn`` answers each; the hooks see the verified signer in
        ``synapse.dendrite.hotkey``.

        Attaching a class name again replaces its handlers. Raises ``TypeError`` for a function
        whose signature cannot fit, ``ValueError`` for a class whose name is not an identifier.
        """
        synapse_class = _synapse_class_of(forward_fn)
        if not synapse_class.__name__.isidentifier():
            # Its name is its path: one that is no class statement's could be a document's
            # (GET /synapsegen/manifest, /openapi.json) or no single path segment at all.
            raise ValueError(
                f"synapse class name {synapse_class.__name__!r} is not a Python identifier, so "
                "it cannot be a route"
            )
        hooks = (
            (blacklist_fn, "blacklist_fn", _returns_bool_str, "tuple[bool, str]"),
            (priority_fn, "priority_fn", _returns_number, "float"),
            (verify_fn, "verify_fn", _returns_none, "None"),
        )
        for fn, role, returns_ok, expected in hooks:
            if fn is not None:
                _check_hook(fn, role, synapse_class, returns_ok, expected)
        self._app.routes[synapse_class.__name__] = Route(
            synapse_class=synapse_class,
            forward=forward_fn,
            blacklist=blacklist_fn,
            priority=priority_fn,
            verify=verify_fn,
            transports=_check_transports(transports),
        )
        return self

    # ---- lifecycle --------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        family, kind, proto, _, address = socket.getaddrinfo(
            self._ip, self._port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
        except OSError:
            sock.close()
            raise
        self._bound_port = int(sock.getsockname()[1])
        return sock

    def _make_server(self) -> uvicorn.Server:
        """The uvicorn server for the bound port (signal handlers left to the application)."""
        config = uvicorn.Config(
            self._app,
            host=self._ip,
            port=self.port,
            # Each server (each worker process) counts its own connections.
            http=guarded_protocol(
                uvicorn_protocol(self._http),
                # A flood is refused thousands of times a second: a line per interval says so.
                ConnectionGuard(self._limits, RateLimitedLogger(logger)),
            ),
            timeout_keep_alive=self._keep_alive_timeout,  # type: ignore[arg-type]  # a float works
            h11_max_incomplete_event_size=self._limits.max_header_bytes,
            ws="none",
            lifespan="off",
            interface="asgi3",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=math.ceil(self._shutdown_timeout),
        )
        return _EmbeddedServer(config)

    def _prepare(self) -> tuple[uvicorn.Server, socket.socket]:
        """Bind the socket and build the uvicorn server (raises OSError if the bind fails)."""
        if self._server is not None:
            raise RuntimeError(f"{self!r} is already running")
        if self._workers > 1:
            raise RuntimeError(
                f"workers={self._workers} run as processes: use start() and stop(), not "
                "serve() or async with"
            )
        sock = self._bind()
        server = self._make_server()
        self._server = server
        return server, sock

    def _start_workers(self) -> None:
        """Fork the worker processes; returns once each listens (raises ``RuntimeError``)."""
        sockets = bind_reuseport_sockets(self._ip, self._port, self._workers)
        self._bound_port = int(sockets[0].getsockname()[1])
        pool = WorkerPool(self._make_server, self._workers)
        pool.start(sockets, _START_TIMEOUT)
        self._pool = pool

    async def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            for listener in server.servers:
                listener.close()
            sock.close()
            if self._server is server:
                self._server = None

    def start(self) -> Axon:
        """Serve in a background thread (own event loop); returns once the port is listening.

        Returns ``self``. Raises ``OSError`` if the address cannot be bound.
        """
        with self._lock:
            if self.is_running:
                return self
            if self._workers > 1:
                self.stop()  # reaps workers left from a start whose worker died
                self._start_workers()
                return self
            server, sock = self._prepare()
            self._thread_error = None

            def run() -> None:
                try:
                    asyncio.run(self._run(server, sock))
                except BaseException as exc:  # reported by start() or logged
                    self._thread_error = exc
                    logger.error("axon server thread failed: %r", exc)

            thread = threading.Thread(target=run, name=f"axon-{self.port}", daemon=True)
            self._thread = thread
            thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    thread.join(1.0)
                    self._server = None
                    raise RuntimeError(f"axon server did not start: {self._thread_error!r}")
                time.sleep(0.001)
        return self

    def stop(self, timeout: float | None = None) -> Axon:
        """Stop serving; waits (at most ``timeout`` seconds) for the background thread.

        Under ``serve()`` / ``async with`` it only signals the server, which then finishes.
        With ``workers`` above 1 it waits for the workers (``shutdown_timeout`` each, then they
        are killed), whatever ``timeout`` says.
        """
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop(self._shutdown_timeout)
            return self
        server = self._server
        if server is not None:
            server.should_exit = True
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if not thread.is_alive():
                self._thread = None
        return self

    async def serve(self) -> None:
        """Serve in the running event loop until ``stop()`` is called or the task is cancelled."""
        server, sock = self._prepare()
        await self._run(server, sock)

    async def __aenter__(self) -> Axon:
        server, sock = self._prepare()
        task = asyncio.ensure_future(self._run(server, sock))
        self._serve_task = task
        while not server.started:
            if task.done():
                task.result()  # raises the startup error
                raise RuntimeError("axon server stopped during startup")
            await asyncio.sleep(0.001)
        return self

    async def aclose(self) -> None:
        """Stop serving; under ``async with``, also wait until the server has finished.

        ``async with`` calls it on the way out.
        """
        task, self._serve_task = self._serve_task, None
        self.stop()
        if task is not None:
            await task
