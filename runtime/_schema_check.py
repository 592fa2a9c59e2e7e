"""The Dendrite's schema check: compare a miner's schema hash with ours before calling it.

``Dendrite(keypair, check_schema=True)`` (or a :class:`SchemaCheck` with other limits) fetches
an axon's manifest (``GET /synapsegen/manifest``, :mod:`.manifest`) before its first request to
that axon, and caches it. When the miner serves the synapse's class name with another schema
hash than the local class's (:func:`.manifest.schema_hash_of`), the request is not sent: the
synapse records 409 ``schema mismatch: the miner serves ChatCompletion sha256:... but this
validator has sha256:...``. In every other case the request is sent as without the check:

- the local class has no schema hash (written by hand): nothing to compare, nothing fetched;
- the axon has no manifest: a bittensor axon answers 404, any other answer that is not a
  manifest (a 4xx, a body that is not one) counts the same; cached for ``ttl``;
- the manifest does not list the class (the axon answers the request 404 itself) or lists it
  without a hash (a hand-written class), or it names another hotkey than the one called;
- the manifest could not be fetched (timeout, connection refused, a 5xx): the request is sent
  and will say what is wrong itself; the axon is asked again after ``retry_after`` seconds.

One fetch per axon serves every class (concurrent first requests share it) and lasts ``ttl``
seconds, so a miner that upgrades is seen within ``ttl``. The fetch comes before the request's
own timing starts (``dendrite.process_time``) and takes at most ``timeout`` seconds (never more
than the call's own timeout). The manifest is not signed: whoever can answer for the miner's
address can make the check refuse (as they could make the request fail).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from .errors import SchemaMismatch
from .manifest import MANIFEST_PATH, schema_hash_of, served_hashes

__all__ = ["SCHEMA_MISMATCH", "ManifestCache", "SchemaCheck", "SchemaMismatch", "manifest_cache"]

SCHEMA_MISMATCH = SchemaMismatch.status
"""The status a refused request records (HTTP's Conflict)."""

_MAX_MANIFEST_BYTES = 1 << 20
_MAX_AXONS = 4096


@dataclass(frozen=True)
class SchemaCheck:
    """How a ``Dendrite`` checks schema hashes (``Dendrite(..., check_schema=SchemaCheck())``).

    ``timeout``: seconds the manifest request may take (capped by the call's timeout);
    ``ttl``: seconds a fetched manifest, or an axon's lack of one, is trusted;
    ``retry_after``: seconds before an axon whose manifest could not be fetched is asked again.
    """

    timeout: float = 2.0
    ttl: float = 600.0
    retry_after: float = 30.0

    def __post_init__(self) -> None:
        for name in ("timeout", "ttl", "retry_after"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"SchemaCheck.{name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"SchemaCheck.{name} must be a finite number > 0, got {value!r}")


def manifest_cache(check_schema: bool | SchemaCheck) -> ManifestCache | None:
    """The cache of a ``Dendrite(check_schema=...)``: None when the check is off."""
    if check_schema is True:
        return ManifestCache(SchemaCheck())
    if check_schema is False:
        return None
    if isinstance(check_schema, SchemaCheck):
        return ManifestCache(check_schema)
    raise TypeError(f"check_schema must be a bool or a SchemaCheck, got {check_schema!r}")


@dataclass(frozen=True)
class _Entry:
    hashes: dict[str, str | None] | None  # None: no manifest (or none we could read)
    expires: float


_Pending = tuple[asyncio.AbstractEventLoop, "asyncio.Future[_Entry]"]
"""A fetch under way: its loop, and the future those asking meanwhile wait on."""


class ManifestCache:
    """The manifests a Dendrite fetched, by axon (host and hotkey), with their expiry.

    ``clock`` (monotonic seconds) is replaceable for tests.
    """

    def __init__(self, check: SchemaCheck, clock: Callable[[], float] = time.monotonic) -> None:
        self.check = check
        self.clock = clock
        self.fetches = 0  # manifest requests made (for tests and curiosity)
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._pending: dict[tuple[str, str], _Pending] = {}

    async def verify(
        self,
        session: aiohttp.ClientSession,
        host: str,
        hotkey: str,
        synapse_class: type,
        call_timeout: float,
    ) -> None:
        """Raise :class:`SchemaMismatch` when the axon at ``host`` (``ip:port``, as in its URLs)
        serves ``synapse_class``'s name with another schema hash; return otherwise."""
        local = schema_hash_of(synapse_class)
        if local is None:
            return
        entry = await self._entry(session, host, hotkey, call_timeout)
        if entry.hashes is None:
            return
        name = synapse_class.__name__
        served = entry.hashes.get(name)
        if served is not None and served != local:
            raise SchemaMismatch(
                f"schema mismatch: the miner serves {name} {served} but this validator has {local}"
            )

    async def _entry(
        self, session: aiohttp.ClientSession, host: str, hotkey: str, call_timeout: float
    ) -> _Entry:
        key = (host, hotkey)
        entry = self._entries.get(key)
        if entry is not None and entry.expires > self.clock():
            return entry
        loop = asyncio.get_running_loop()
        pending = self._pending.get(key)
        if pending is not None and pending[0] is loop:
            return await asyncio.shield(pending[1])
        future: asyncio.Future[_Entry] = loop.create_future()
        self._pending[key] = (loop, future)
        try:
            entry = await self._fetch(session, host, hotkey, call_timeout)
        except BaseException:  # cancelled: those waiting on it call without a check this time
            future.set_result(_Entry(None, 0.0))
            raise
        finally:
            if self._pending.get(key, (None,))[0] is loop:
                del self._pending[key]
        future.set_result(entry)
        self._store(key, entry)
        return entry

    async def _fetch(
        self, session: aiohttp.ClientSession, host: str, hotkey: str, call_timeout: float
    ) -> _Entry:
        """GET the manifest; what it says, with how long to trust that."""
        self.fetches += 1
        seconds = min(self.check.timeout, call_timeout)
        try:
            async with session.get(
                f"http://{host}{MANIFEST_PATH}", timeout=aiohttp.ClientTimeout(total=seconds)
            ) as response:
                status = response.status
                body = await _read_bounded(response) if status == 200 else b""
        except Exception:  # noqa: BLE001 - timeouts, refusals, a closed session: ask again later
            return self._until(None, self.check.retry_after)
        if status >= 500:
            return self._until(None, self.check.retry_after)
        if status != 200 or len(body) > _MAX_MANIFEST_BYTES:
            return self._until(None, self.check.ttl)
        try:
            document: Any = json.loads(body)
        except ValueError:
            return self._until(None, self.check.ttl)
        hashes = served_hashes(document)
        if hashes is not None and document.get("hotkey") not in (None, hotkey):
            hashes = None  # another axon's manifest: it says nothing about this one
        return self._until(hashes, self.check.ttl)

    def _until(self, hashes: dict[str, str | None] | None, seconds: float) -> _Entry:
        return _Entry(hashes, self.clock() + seconds)

    def _store(self, key: tuple[str, str], entry: _Entry) -> None:
        self._entries.pop(key, None)  # re-inserted last: the oldest entries come first
        if len(self._entries) >= _MAX_AXONS:
            now = self.clock()
            for stale in [k for k, e in self._entries.items() if e.expires <= now]:
                del self._entries[stale]
            while len(self._entries) >= _MAX_AXONS:
                del self._entries[next(iter(self._entries))]
        self._entries[key] = entry


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    """The body, or its first ``_MAX_MANIFEST_BYTES + 1`` bytes when it is longer."""
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > _MAX_MANIFEST_BYTES:
            break
    return bytes(body)
