"""Recorded exchanges (vectors): a miner's answer to one request, kept in a JSON file.

``await record(target, synapse)`` signs and sends ``synapse`` to a miner as the runtime's
``Dendrite`` would, reads the answer raw (status, headers, the body's bytes as they arrived,
whether it ended cleanly) and returns a ``Vector``; ``vector.save(path)`` writes it and
``Vector.load(path)`` reads it back. ``replay`` (``synapsegen.testing.replay``) feeds it to a
generated class under many chunkings.

The file (``format: "synapsegen-vector/1"``) is JSON in UTF-8 (``Vector.save`` writes the keys in
this order, indented by one space, a header pair on one line):

``format``
    ``"synapsegen-vector/1"``. A reader refuses other formats; a later version gets a new number.
``synapse``
    The class name the request was for (the route ``/<synapse>``).
``transport``
    ``"bittensor10"``, ``"btauth/1"`` or ``"epistula/2"``: the wire of the request and answer.
``note``
    Free text: where and how it was recorded.
``request``
    ``{"method", "path", "headers", "body"}``: what was sent. ``headers`` is a list of
    ``[name, value]`` pairs in the order sent (the signing headers and ``Content-Type``; the
    HTTP client's own ``Host``, ``User-Agent``... are not kept).
``response``
    ``{"status", "headers", "body", "complete", "chunks"}``: ``headers`` as received (pairs, in
    order, latin-1 text, repeats kept); ``complete`` is false when the body ended as an
    incomplete transfer (or the read timed out); ``chunks`` the sizes of the pieces the body
    arrived in (informational: a replay cuts it many other ways too).
``expected`` (optional)
    What a replay must decode: ``{"fields": {name: JSON value}, "status_code": int}``, either
    key optional. ``replay`` checks it when given no expectation of its own.

A body is ``{"text": "..."}`` when its bytes are valid UTF-8 (the text is those bytes decoded),
else ``{"base64": "..."}`` (standard alphabet, padded).

The request carries signatures and nonces: a vector is a fixture for decoding, not a request to
send again (a miner refuses a replayed nonce).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from synapsegen.runtime import AxonTarget, Dendrite, Synapse, btauth, epistula
from synapsegen.runtime.http_wire import encode_request
from synapsegen.runtime.transports import BITTENSOR10, BTAUTH, TRANSPORTS

from .keys import validator_keypair

__all__ = [
    "VECTOR_FORMAT",
    "RecordedRequest",
    "RecordedResponse",
    "Vector",
    "record",
]

VECTOR_FORMAT = "synapsegen-vector/1"

S = TypeVar("S", bound=Synapse)
Pairs = tuple[tuple[str, str], ...]


def encode_body(body: bytes) -> dict[str, str]:
    """``{"text": ...}`` for UTF-8 bytes, else ``{"base64": ...}``."""
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(body).decode("ascii")}


def decode_body(data: Any, where: str) -> bytes:
    if isinstance(data, dict) and set(data) == {"text"} and isinstance(data["text"], str):
        return str(data["text"]).encode("utf-8")
    if isinstance(data, dict) and set(data) == {"base64"} and isinstance(data["base64"], str):
        return base64.b64decode(data["base64"], validate=True)
    raise ValueError(f'{where}: a body is {{"text": str}} or {{"base64": str}}, got {data!r}')


def _pairs(data: Any, where: str) -> Pairs:
    if not isinstance(data, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        for pair in data
    ):
        raise ValueError(f"{where}: headers are a list of [name, value] string pairs")
    return tuple((name, value) for name, value in data)


def _header(pairs: Pairs, name: str) -> str | None:
    """The last value of ``name`` (any case), or None."""
    found = None
    for key, value in pairs:
        if key.lower() == name.lower():
            found = value
    return found


@dataclass(frozen=True)
class RecordedRequest:
    """What was sent: method, path, the headers that matter (in order) and the body bytes."""

    method: str
    path: str
    headers: Pairs
    body: bytes

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True)
class RecordedResponse:
    """What came back: status, headers (in order, latin-1), the body bytes, whether the body
    ended cleanly, and the sizes of the pieces it arrived in."""

    status: int
    headers: Pairs
    body: bytes
    complete: bool = True
    chunks: tuple[int, ...] = ()

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)


@dataclass(frozen=True)
class Vector:
    """One recorded exchange (the module docstring gives the file format)."""

    synapse: str
    transport: str
    request: RecordedRequest
    response: RecordedResponse
    note: str = ""
    expected_fields: Mapping[str, Any] | None = None
    expected_status: int | None = None
    source: Path | None = field(default=None, compare=False)
    """The file it was loaded from, if any (for messages)."""

    def __post_init__(self) -> None:
        if self.transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, got {self.transport!r}")

    def request_synapse(self, synapse_class: type[S]) -> S:
        """The synapse the request carried, rebuilt as ``synapse_class`` (bittensor 10's body is
        the whole synapse; the HTTP wire's its request fields)."""
        if synapse_class.__name__ != self.synapse:
            raise ValueError(
                f"the vector answers /{self.synapse}, not a {synapse_class.__name__} request"
            )
        data = json.loads(self.request.body) if self.request.body else {}
        if not isinstance(data, dict):
            raise ValueError("the recorded request body is not a JSON object")
        return synapse_class.model_validate(data)

    def with_expected(
        self, fields: Mapping[str, Any] | None = None, status_code: int | None = None
    ) -> Vector:
        """A copy carrying this expectation (``None`` keeps what it had)."""
        return replace(
            self,
            expected_fields=dict(fields) if fields is not None else self.expected_fields,
            expected_status=status_code if status_code is not None else self.expected_status,
        )

    # ---- the file -----------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": VECTOR_FORMAT,
            "synapse": self.synapse,
            "transport": self.transport,
            "note": self.note,
            "request": {
                "method": self.request.method,
                "path": self.request.path,
                "headers": [list(pair) for pair in self.request.headers],
                "body": encode_body(self.request.body),
            },
            "response": {
                "status": self.response.status,
                "headers": [list(pair) for pair in self.response.headers],
                "body": encode_body(self.response.body),
                "complete": self.response.complete,
                "chunks": list(self.response.chunks),
            },
        }
        expected: dict[str, Any] = {}
        if self.expected_fields is not None:
            expected["fields"] = dict(self.expected_fields)
        if self.expected_status is not None:
            expected["status_code"] = self.expected_status
        if expected:
            data["expected"] = expected
        return data

    @classmethod
    def from_json(cls, data: Any, source: Path | None = None) -> Vector:
        where = str(source) if source is not None else "vector"
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a vector is a JSON object")
        if data.get("format") != VECTOR_FORMAT:
            raise ValueError(f"{where}: format {data.get('format')!r}, expected {VECTOR_FORMAT!r}")
        try:
            request, response = data["request"], data["response"]
            expected = data.get("expected") or {}
            chunks = response.get("chunks", [])
            if not all(isinstance(size, int) and size > 0 for size in chunks):
                raise ValueError(f"{where}: response.chunks are sizes (ints > 0)")
            return cls(
                synapse=str(data["synapse"]),
                transport=str(data["transport"]),
                note=str(data.get("note", "")),
                request=RecordedRequest(
                    method=str(request["method"]),
                    path=str(request["path"]),
                    headers=_pairs(request["headers"], f"{where}: request"),
                    body=decode_body(request["body"], f"{where}: request"),
                ),
                response=RecordedResponse(
                    status=int(response["status"]),
                    headers=_pairs(response["headers"], f"{where}: response"),
                    body=decode_body(response["body"], f"{where}: response"),
                    complete=bool(response.get("complete", True)),
                    chunks=tuple(chunks),
                ),
                expected_fields=expected.get("fields"),
                expected_status=expected.get("status_code"),
                source=source,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{where}: not a {VECTOR_FORMAT} vector ({exc!r})") from exc

    def dumps(self) -> str:
        """The file's text (ends with a newline)."""
        return _dumps(self.to_json(), 0) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the vector to ``path`` (UTF-8); returns the path."""
        target = Path(path)
        target.write_text(self.dumps(), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> Vector:
        """Read a vector file; ``ValueError`` names what is wrong with it."""
        source = Path(path)
        return cls.from_json(json.loads(source.read_text(encoding="utf-8")), source)


def _dumps(value: Any, depth: int) -> str:
    """JSON indented by one space per level, with lists of scalars (a header pair, the chunk
    sizes) on one line."""
    scalar = (str, int, float, bool, type(None))
    if isinstance(value, list) and all(isinstance(item, scalar) for item in value):
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False)
    inner = " " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {_dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    lines = [inner + _dumps(item, depth + 1) for item in value]
    return "[\n" + ",\n".join(lines) + "\n" + " " * depth + "]"


# ---- recording -----------------------------------------------------------------------------------


def _signed(
    dendrite: Dendrite, target: AxonTarget, synapse: Synapse, timeout: float
) -> tuple[dict[str, str], bytes]:
    """The request ``dendrite`` would send: bittensor 10's headers and the whole synapse, or the
    HTTP wire's request fields signed per its transport."""
    if dendrite.transport == BITTENSOR10:
        dendrite.preprocess_synapse_for_request(target, synapse, timeout)
        headers = synapse.to_headers()
        body = json.dumps(synapse.model_dump()).encode("utf-8")  # what aiohttp's json= sends
        return {**headers, "Content-Type": "application/json"}, body
    synapse.timeout = timeout
    body = encode_request(synapse)
    path = f"/{type(synapse).__name__}"
    signer: Any = dendrite.keypair
    if dendrite.transport == BTAUTH:
        auth = btauth.sign_request(
            signer, method="POST", target=path, body=body, receiver=target.hotkey
        )
    else:
        auth = epistula.sign_request(signer, body=body, receiver=target.hotkey)
    return {"Content-Type": "application/json", **auth}, body


async def record(
    target: Any,
    synapse: Synapse,
    *,
    wallet: Any = None,
    transport: str = BITTENSOR10,
    timeout: float | None = None,
    note: str = "",
) -> Vector:
    """Send ``synapse`` to the miner at ``target`` and record its answer as a ``Vector``.

    ``target``: anything a ``Dendrite`` accepts (an ``AxonTarget``, an ``AxonInfo``, an Axon, a
    ``ScriptedMiner.target``). ``wallet``: the validator's keypair or wallet
    (``keys.validator_keypair()`` by default). ``transport``: the wire, as ``Dendrite`` takes it.
    ``timeout``: seconds for the whole exchange (the synapse's own by default); a body still
    arriving then is recorded as incomplete. ``synapse`` is stamped and signed in place, as a
    ``Dendrite`` call would. Raises aiohttp's errors when nothing was answered (a refused
    connection, no headers in time).
    """
    dendrite = Dendrite(wallet if wallet is not None else validator_keypair(), transport=transport)
    axon = AxonTarget.from_axon_info(target)
    seconds = float(timeout if timeout is not None else synapse.timeout or 12.0)
    headers, body = _signed(dendrite, axon, synapse, seconds)
    path = f"/{type(synapse).__name__}"
    url = f"http://{axon.url_host(dendrite.external_ip)}{path}"
    chunks: list[bytes] = []
    complete = True
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        client_timeout = aiohttp.ClientTimeout(total=seconds)
        async with session.post(url, headers=headers, data=body, timeout=client_timeout) as answer:
            status = answer.status
            raw = tuple(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in answer.raw_headers
            )
            try:
                async for chunk in answer.content.iter_any():
                    chunks.append(chunk)
            except (aiohttp.ClientPayloadError, asyncio.TimeoutError):
                complete = False
    elapsed = time.monotonic() - started
    return Vector(
        synapse=type(synapse).__name__,
        transport=transport,
        note=note or f"recorded from {axon.ip}:{axon.port} in {elapsed:.3f} s",
        request=RecordedRequest("POST", path, tuple(headers.items()), body),
        response=RecordedResponse(
            status=status,
            headers=raw,
            body=b"".join(chunks),
            complete=complete,
            chunks=tuple(len(chunk) for chunk in chunks),
        ),
    )
