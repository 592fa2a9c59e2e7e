"""Replay a recorded answer (a ``Vector``) under many chunkings; the result must never change.

``await replay(vector, ChatCompletion)`` decodes the recorded body with the generated class as a
real ``Dendrite`` call would, once per chunking (``chunking.hostile_chunkings``: as recorded,
whole, byte by byte, inside every character, around every frame boundary, then ``splits``
seeded random cuts), and checks that every run decoded the same thing: the class's own fields,
the items the stream yielded, the status the dendrite recorded and whether the stream ended
cleanly. Then it checks the expectation (``expected`` or the vector's own). It returns the
``Decoded`` answer (``.synapse`` is the filled-in synapse) for the test's own assertions, such
as the subnet's score.

``through``:

- ``"parser"`` (the default): no network. The runtime's ``Dendrite`` runs its whole pipeline
  (``call_stream`` or ``call``: status handling, the class's ``process_streaming_response``,
  the header merge, failures recorded as statuses) on a ``FakeResponse`` that delivers exactly
  the chosen pieces;
- ``"axon"``: a ``ScriptedMiner`` serves the recorded body (or status) from a real ``Axon``,
  sent in the chosen pieces, and a real ``Dendrite`` calls it over the vector's transport. The
  pieces may merge on the way (TCP); the Axon's own headers replace the recorded ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, cast

import aiohttp
from pydantic import BaseModel

from synapsegen.runtime import AxonTarget, Dendrite, StreamingSynapse, Synapse

from .chunking import Chunking, hostile_chunkings, split_body
from .fake import FakeResponse, FakeSession
from .keys import miner_keypair, validator_keypair
from .miner import Script, ScriptedMiner
from .vectors import Vector

__all__ = ["Decoded", "ReplayMismatch", "decode_once", "replay"]

S = TypeVar("S", bound=Synapse)

_BASE_FIELDS = frozenset(StreamingSynapse.model_fields) | frozenset(Synapse.model_fields)


class ReplayMismatch(AssertionError):
    """Two chunkings of the same body decoded differently, or the result is not the expected
    one. The message names the chunkings (and their pieces' sizes) and what differed."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


def _comparable_items(items: Sequence[Any]) -> Any:
    """Items as two runs must agree on them: text deltas joined (where one ends is the
    network's doing), anything else (frames, models) one by one."""
    if items and all(isinstance(item, str) for item in items):
        return "".join(items)
    return _jsonable(list(items))


def own_fields(synapse: Synapse) -> dict[str, Any]:
    """The fields the class adds to ``Synapse`` (request and response fields), as JSON values."""
    names = {name for name in type(synapse).model_fields if name not in _BASE_FIELDS}
    return synapse.model_dump(mode="json", include=names)


@dataclass(frozen=True)
class Decoded(Generic[S]):
    """What a replay decoded (the same under every chunking it tried).

    ``synapse``: the filled-in synapse, as a ``Dendrite`` call leaves it (``is_success``,
    ``deserialize()``, the subnet's score...). ``items``: what the stream yielded (empty for a
    plain synapse). ``status_code``/``status_message``: what ``synapse.dendrite`` recorded.
    ``complete``: ``stream_complete`` for a generated streaming class, else None. ``chunkings``:
    the labels of the chunkings that were tried.
    """

    synapse: S
    items: tuple[Any, ...]
    status_code: int | None
    status_message: str | None
    complete: bool | None
    chunkings: tuple[str, ...] = ()

    @property
    def fields(self) -> dict[str, Any]:
        """The class's own fields, as JSON values."""
        return own_fields(self.synapse)

    def summary(self) -> dict[str, Any]:
        """What two runs must agree on."""
        return {
            "fields": self.fields,
            "items": _comparable_items(self.items),
            "status_code": self.status_code,
            "status_message": self.status_message,
            "complete": self.complete,
        }


class _OfflineDendrite(Dendrite):
    """A ``Dendrite`` whose session is a ``FakeSession``: its whole pipeline, no network."""

    def __init__(self, transport: str, response: FakeResponse) -> None:
        super().__init__(validator_keypair(), transport=transport)
        self._fake = FakeSession(response)

    def _get_session(self) -> aiohttp.ClientSession:
        return cast(aiohttp.ClientSession, self._fake)


def _target() -> AxonTarget:
    return AxonTarget(ip="127.0.0.1", port=9, hotkey=miner_keypair().ss58_address)


async def _call(dendrite: Dendrite, target: AxonTarget, synapse: S, timeout: float) -> Decoded[S]:
    items: list[Any] = []
    if isinstance(synapse, StreamingSynapse):
        async for item in dendrite.call_stream(target, synapse, timeout, deserialize=False):
            items.append(item)
        if not items or items[-1] is not synapse:
            raise AssertionError("call_stream did not end with the synapse")
        items.pop()
    else:
        await dendrite.call(target, synapse, timeout, deserialize=False)
    info = synapse.dendrite
    complete = getattr(synapse, "stream_complete", None)
    return Decoded(
        synapse=synapse,
        items=tuple(items),
        status_code=info.status_code if info is not None else None,
        status_message=info.status_message if info is not None else None,
        complete=complete if isinstance(complete, bool) else None,
    )


async def decode_once(
    vector: Vector, synapse: S, pieces: Sequence[bytes], timeout: float | None = None
) -> Decoded[S]:
    """Decode ``vector``'s answer into ``synapse`` (in place) as a ``Dendrite`` call would, the
    body delivered in exactly ``pieces`` (which must join to the recorded body)."""
    if b"".join(pieces) != vector.response.body:
        raise ValueError("the pieces do not join to the recorded body")
    response = FakeResponse(
        pieces,
        vector.response.status,
        vector.response.headers,
        complete=vector.response.complete,
    )
    dendrite = _OfflineDendrite(vector.transport, response)
    seconds = timeout if timeout is not None else float(synapse.timeout or 12.0)
    return await _call(dendrite, _target(), synapse, seconds)


def _script(vector: Vector, chunking: Chunking) -> Script:
    """The script that makes a ``ScriptedMiner`` send the recorded answer."""
    answer = vector.response
    if answer.status != 200:
        message = None
        try:
            data = json.loads(answer.body)
            if isinstance(data, dict) and isinstance(data.get("message"), str):
                message = data["message"]
        except ValueError:
            pass
        if message is None:
            message = answer.header("bt_header_axon_status_message")
        return Script(status=answer.status, message=message)
    return Script(
        body=answer.body,
        chunking=chunking,
        truncate_at=None if answer.complete else len(answer.body),
    )


def _differences(first: Mapping[str, Any], other: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in first:
        if first[key] != other.get(key):
            lines.append(f"  {key}: {first[key]!r}\n   vs {other.get(key)!r}")
    return lines


def _check_expected(
    decoded: Decoded[Any], fields: Mapping[str, Any] | None, status: int | None, where: str
) -> None:
    problems = []
    if fields is not None:
        got = decoded.fields
        for name, value in fields.items():
            if name not in got:
                problems.append(f"  {name}: not a field of {type(decoded.synapse).__name__}")
            elif got[name] != _jsonable(value):
                problems.append(f"  {name}: expected {value!r}\n   decoded {got[name]!r}")
    if status is not None and decoded.status_code != status:
        problems.append(
            f"  status_code: expected {status}, decoded {decoded.status_code} "
            f"({decoded.status_message})"
        )
    if problems:
        raise ReplayMismatch(f"{where}: not the expected answer\n" + "\n".join(problems))


async def replay(
    vector: Vector | str | Path,
    synapse_class: type[S],
    *,
    splits: int = 32,
    seed: int = 0,
    expected: Mapping[str, Any] | None = None,
    expected_status: int | None = None,
    through: Literal["parser", "axon"] = "parser",
    synapse: S | None = None,
) -> Decoded[S]:
    """Decode ``vector`` (a ``Vector`` or a vector file) with ``synapse_class`` under every
    chunking of ``hostile_chunkings(size, splits, seed)``; raise ``ReplayMismatch`` if two runs
    differ or the result is not ``expected`` (field values, a subset, as JSON values) /
    ``expected_status`` (the dendrite's status code), or else the vector's own ``expected``.

    ``synapse``: the request synapse to decode into (copied for each run); by default the one
    the recorded request carried. Returns the decoded answer of the first run (the recorded
    chunking).
    """
    loaded = vector if isinstance(vector, Vector) else Vector.load(vector)
    where = str(loaded.source) if loaded.source is not None else f"vector for {loaded.synapse}"
    base = synapse if synapse is not None else loaded.request_synapse(synapse_class)
    timeout = float(base.timeout or 12.0)
    body = loaded.response.body
    chunkings = hostile_chunkings(len(body), splits, seed)
    results: list[tuple[str, Decoded[S], list[int]]] = []
    if through == "parser":
        for label, chunking in chunkings:
            pieces = split_body(body, chunking, loaded.response.chunks)
            decoded = await decode_once(loaded, base.model_copy(deep=True), pieces, timeout)
            results.append((label, decoded, [len(piece) for piece in pieces]))
    elif through == "axon":
        results = await _through_axon(loaded, synapse_class, base, chunkings, timeout)
    else:
        raise ValueError(f"through must be 'parser' or 'axon', got {through!r}")

    first_label, first, first_sizes = results[0]
    reference = first.summary()
    for label, decoded, sizes in results[1:]:
        differences = _differences(reference, decoded.summary())
        if differences:
            raise ReplayMismatch(
                f"{where}: decoded differently ({through}) when cut {label} "
                f"(piece sizes {_sizes(sizes)}) than {first_label} "
                f"(piece sizes {_sizes(first_sizes)}):\n" + "\n".join(differences)
            )
    fields = expected if expected is not None else loaded.expected_fields
    status = expected_status if expected_status is not None else loaded.expected_status
    _check_expected(first, fields, status, where)
    return Decoded(
        synapse=first.synapse,
        items=first.items,
        status_code=first.status_code,
        status_message=first.status_message,
        complete=first.complete,
        chunkings=tuple(label for label, _, _ in results),
    )


def _sizes(sizes: list[int]) -> str:
    shown = ", ".join(str(size) for size in sizes[:12])
    return f"[{shown}{', ...' if len(sizes) > 12 else ''}] ({len(sizes)} pieces)"


async def _through_axon(
    vector: Vector,
    synapse_class: type[S],
    base: S,
    chunkings: list[tuple[str, Chunking]],
    timeout: float,
) -> list[tuple[str, Decoded[S], list[int]]]:
    """One call of a ``ScriptedMiner`` serving the recorded answer per chunking."""
    answer = vector.response
    plan: list[tuple[str, Chunking]] = []
    for label, chunking in chunkings:
        if chunking == "natural":
            chunking = answer.chunks if answer.chunks else "whole"
        plan.append((label, chunking))
    scripts = [_script(vector, chunking) for _, chunking in plan]
    results = []
    async with (
        ScriptedMiner(synapse_class, scripts, transports=(vector.transport,)) as miner,
        Dendrite(validator_keypair(), transport=vector.transport) as dendrite,
    ):
        for label, chunking in plan:
            decoded = await _call(dendrite, miner.target, base.model_copy(deep=True), timeout)
            sizes = [len(piece) for piece in split_body(answer.body, chunking)]
            results.append((label, decoded, sizes))
    return results
