"""Synapse models, wire-compatible with bittensor 10.x (``bittensor.core.synapse`` / ``stream``).

What travels on the wire is fixed by bittensor (see ``shared/wire_protocol.md`` §2-§6):

- ``TerminalInfo``: metadata of one end of a call (``synapse.dendrite`` / ``synapse.axon``).
- ``Synapse``: the request/response model. ``to_headers()`` gives the exact HTTP headers a real
  bittensor peer sends, ``from_headers()`` parses them back, ``body_hash`` is the SHA3-256 digest
  the dendrite signs.
- ``StreamingSynapse``: abstract base of streaming synapses; ``create_streaming_response()`` wraps
  a token streamer into a ``BTStreamingResponse`` (a starlette response that streams raw bytes);
  ``stream_media`` says what the body is on the HTTP-era transports (:mod:`.media`).

Deliberate differences from bittensor, none of them visible on the wire:

- ``get_required_fields()`` is computed once per class (bittensor rebuilds the JSON schema on every
  call, i.e. several times per ``to_headers()``); if the class has no JSON schema (e.g. a Callable
  field), the required fields are taken from ``model_fields`` instead of raising.
- A legacy ``required_hash_fields`` *field* is resolved (and its DeprecationWarning emitted) once,
  when the class is defined, instead of on every ``body_hash``.
- The numeric before-validators turn a ``TypeError`` (e.g. ``int([])``) into a ``ValueError``, so
  bad input always surfaces as a pydantic ``ValidationError``.
- ``BTStreamingResponse`` ends the body cleanly (and logs) when the token streamer raises.
- ``to_headers()`` sends the class name if ``name`` was set to None (bittensor would put None in
  the header dict and fail later); ``get_size`` walks iteratively (no recursion limit).
- Models are validated, never mutated in place: the name validator copies the input dict.

This module imports aiohttp only for type checking: a server needs pydantic and starlette only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import sys
import warnings
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .media import StreamMedia

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "BTStreamingResponse",
    "BTStreamingResponseModel",
    "StreamingSynapse",
    "Synapse",
    "TerminalInfo",
    "get_hash",
    "get_size",
    "split_terminal_headers",
    "with_header_values",
]

logger = logging.getLogger(__name__)

_SynapseT = TypeVar("_SynapseT", bound="Synapse")

AXON_HEADER_PREFIX = "bt_header_axon_"
DENDRITE_HEADER_PREFIX = "bt_header_dendrite_"
INPUT_OBJ_HEADER_PREFIX = "bt_header_input_obj_"


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def get_hash(content: str) -> str:
    """Lowercase hex SHA3-256 (FIPS-202, not Keccak) of ``content`` encoded as UTF-8."""
    return hashlib.sha3_256(content.encode("utf-8")).hexdigest()


_EMPTY_HASH = get_hash("")


_LEAF_TYPES = frozenset({str, bytes, bytearray, int, float, bool, type(None)})


def get_size(obj: Any) -> int:
    """Recursive ``sys.getsizeof`` total of ``obj``, counting every reachable object once.

    Same walk as bittensor's ``get_size``: dicts contribute keys and values, objects with a
    ``__dict__`` contribute that dict, other iterables (except str/bytes/bytearray) their items.
    The result is CPython-specific and informational only (nobody checks it). Iterative, so deep
    structures cannot hit the recursion limit.
    """
    seen: set[int] = set()
    mark_seen = seen.add
    sizeof = sys.getsizeof
    total = 0
    stack: list[Any] = [obj]
    pop, push, extend = stack.pop, stack.append, stack.extend
    while stack:
        item = pop()
        key = id(item)
        if key in seen:
            continue
        mark_seen(key)
        total += sizeof(item)
        if isinstance(item, dict):
            extend(item.values())
            extend(item.keys())
        elif type(item) in _LEAF_TYPES:
            continue  # fast path; exact types only (enum members of int/str have a __dict__)
        elif hasattr(item, "__dict__"):
            push(item.__dict__)
        elif hasattr(item, "__iter__"):
            extend(item)
    return total


def _to_int(raw: Any) -> Any:
    """Before-validator: ``int(raw)`` unless None (header strings such as "200" validate)."""
    if raw is None:
        return None
    try:
        return int(raw)
    except TypeError as exc:  # pydantic reports ValueError, not TypeError, as a validation error
        raise ValueError(f"expected an integer, got {type(raw).__name__}") from exc


def _to_float(raw: Any) -> Any:
    """Before-validator: ``float(raw)`` unless None (header strings such as "0.5" validate)."""
    if raw is None:
        return None
    try:
        return float(raw)
    except TypeError as exc:
        raise ValueError(f"expected a number, got {type(raw).__name__}") from exc


def _placeholder_header(value_type: type[Any]) -> str:
    """base64 of the JSON of ``value_type()``: the ``bt_header_input_obj_*`` value (§5.4)."""
    empty = value_type()
    return base64.b64encode(json.dumps(empty).encode()).decode("utf-8")


def with_header_values(
    headers: dict[str, str], synapse: BaseModel, names: Iterable[str]
) -> dict[str, str]:
    """``headers`` with the real values of fields ``names`` (base64 JSON, as bittensor decodes
    ``bt_header_input_obj_*``) where ``to_headers`` put empty placeholders; None values are
    left out. What a generated class with ``header: true`` fields sends, so the axon's
    blacklist and priority hooks see those values before the body is read."""
    values = synapse.model_dump(mode="json", include=set(names))
    for name in names:
        value = values.get(name)
        if value is not None:
            encoded = json.dumps(value, separators=(",", ":")).encode()
            headers[INPUT_OBJ_HEADER_PREFIX + name] = base64.b64encode(encoded).decode()
    return headers


# Placeholders of the common types, precomputed (the cache cannot grow).
_BUILTIN_PLACEHOLDERS: dict[type[Any], str] = {
    t: _placeholder_header(t) for t in (str, int, float, bool, list, dict, tuple)
}


# --------------------------------------------------------------------------------------------
# TerminalInfo
# --------------------------------------------------------------------------------------------


def _info_field(name: str, description: str, example: Any) -> Any:
    """A TerminalInfo field: None by default, titled with its own name, one example."""
    return Field(default=None, title=name, description=description, examples=[example])


class TerminalInfo(BaseModel):
    """Metadata of one end of a call: ``synapse.dendrite`` (client) or ``synapse.axon`` (server).

    Every field is optional. The numeric fields accept strings (as they arrive in headers) through
    ``int()`` / ``float()`` before-validators; extra keys are ignored.
    """

    model_config = ConfigDict(validate_assignment=True)

    status_code: int | None = _info_field("status_code", "HTTP-like status of the call.", 200)
    status_message: str | None = _info_field(
        "status_message", "Text describing the status.", "Success"
    )
    process_time: float | None = _info_field(
        "process_time", "Seconds spent on this side of the call.", 0.1
    )
    ip: str | None = _info_field("ip", "IP address of the terminal.", "198.51.100.20")
    port: int | None = _info_field("port", "Port of the terminal.", 8091)
    version: int | None = _info_field(
        "version", "version_as_int of the sender's bittensor, e.g. 10005000.", 10005000
    )
    nonce: int | None = _info_field(
        "nonce", "time.time_ns() when the call was signed.", 1700000000123456789
    )
    uuid: str | None = _info_field(
        "uuid", "uuid1 of the terminal object.", "5f0b6a2e-8a4d-11ef-8c1e-0242ac110002"
    )
    hotkey: str | None = _info_field(
        "hotkey",
        "SS58 address of the terminal's hotkey.",
        "5HB7kpn92RS7uF9uWn8bXSvPVKFPg8kPUFDd5sbveGjX6Dbi",
    )
    signature: str | None = _info_field(
        "signature", "'0x' + hex sr25519 signature.", "0x" + "00" * 64
    )

    _cast_ints = field_validator("status_code", "port", "version", "nonce", mode="before")(_to_int)
    _cast_floats = field_validator("process_time", mode="before")(_to_float)


def _terminal_headers(terminal: TerminalInfo, prefix: str) -> dict[str, str]:
    """``{prefix + field: str(value)}`` for the terminal's non-None fields, in field order."""
    values = terminal.__dict__
    return {
        prefix + name: str(value)
        for name in type(terminal).model_fields
        if (value := values.get(name)) is not None
    }


def split_terminal_headers(headers: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Collect the TerminalInfo values carried in response (or request) headers.

    Returns ``{"axon": {...}, "dendrite": {...}}`` built from the ``bt_header_axon_<field>`` and
    ``bt_header_dendrite_<field>`` headers. Unlike bittensor's ``parse_headers_to_inputs`` it is
    strict about names and tolerant about values:

    - a header counts only if its name *starts with* the prefix, compared case-insensitively
      (aiohttp keeps the case the server sent; starlette lowercases), and the rest of the name is a
      ``TerminalInfo`` field (``status_code`` stays ``status_code``; unknown names are ignored);
    - values are validated as ``TerminalInfo`` would (``"200"`` becomes ``200``); a value that fails
      (e.g. ``status_code: abc``) is dropped instead of raising, so a bad header can never turn a
      good response into a parse failure;
    - when a name repeats, the last value wins;
    - a value holding lone surrogates (what aiohttp makes of header bytes that are not UTF-8,
      e.g. a latin-1 ``ü`` from a starlette axon) is decoded again as latin-1 from those bytes,
      so ``Grüß`` arrives as ``Grüß`` and ``model_dump_json()`` still works.

    Generated ``extract_response_json`` methods return these dicts as the ``axon`` and ``dendrite``
    entries, so the rebuilt synapse keeps the server's status, message and process time.
    """
    raw: dict[str, dict[str, Any]] = {"axon": {}, "dendrite": {}}
    for key, value in headers.items():
        name = key.lower()
        if name.startswith(AXON_HEADER_PREFIX):
            side, field = "axon", name[len(AXON_HEADER_PREFIX) :]
        elif name.startswith(DENDRITE_HEADER_PREFIX):
            side, field = "dendrite", name[len(DENDRITE_HEADER_PREFIX) :]
        else:
            continue
        if field in TerminalInfo.model_fields:
            raw[side][field] = _latin1_repaired(value)
    return {side: _validated_terminal_values(values) for side, values in raw.items()}


# What surrogateescape decoding makes of the bytes 0x80-0xFF that are not part of valid UTF-8.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _latin1_repaired(value: Any) -> Any:
    """``value`` decoded as latin-1 if it is a str that was decoded as UTF-8 with
    ``surrogateescape`` and held bytes that are not UTF-8; anything else unchanged."""
    if isinstance(value, str) and _ESCAPED_BYTE.search(value):
        return value.encode("utf-8", "surrogateescape").decode("latin-1")
    return value


def _validated_terminal_values(values: dict[str, Any]) -> dict[str, Any]:
    """Validate ``values`` as TerminalInfo fields, dropping each field that fails."""
    while values:
        try:
            info = TerminalInfo.model_validate(values)
        except ValidationError as exc:
            bad = {err["loc"][0] for err in exc.errors() if err["loc"]}
            if not bad & values.keys():  # cannot attribute the error to a field: give up on all
                return {}
            values = {k: v for k, v in values.items() if k not in bad}
            continue
        return {name: getattr(info, name) for name in values}
    return {}


# --------------------------------------------------------------------------------------------
# Synapse
# --------------------------------------------------------------------------------------------

# Per-class cache of get_required_fields(); weak keys so classes built at run time can be freed.
_REQUIRED_FIELDS: weakref.WeakKeyDictionary[type[Synapse], tuple[str, ...]] = (
    weakref.WeakKeyDictionary()
)


def _compute_required_fields(cls: type[Synapse]) -> tuple[str, ...]:
    try:
        schema = cls.model_json_schema()
    except Exception as exc:  # e.g. a Callable field: pydantic cannot build a JSON schema
        logger.debug("no JSON schema for %s (%s); using model_fields", cls.__name__, exc)
        return tuple(
            (info.alias or name) for name, info in cls.model_fields.items() if info.is_required()
        )
    return tuple(schema.get("required", ()))


def _base_field(
    name: str, default: Any, description: str, factory: Any = None, **more: Any
) -> Any:
    """A Synapse base field: titled with its own name, left out of repr(); ``factory`` makes
    each default afresh instead of ``default``."""
    if factory is not None:
        return Field(default_factory=factory, title=name, repr=False, description=description)
    return Field(default=default, title=name, repr=False, description=description, **more)


def is_bittensor_class(cls: type) -> bool:
    """Whether ``cls`` derives from a bittensor class (e.g. ``bittensor.Synapse``)."""
    return any(base.__module__.split(".")[0] == "bittensor" for base in cls.__mro__)


def mixed_runtimes_error(synapse_class: type, foreign: type, where: str) -> TypeError:
    """The ``TypeError`` for a class of one runtime used with the other runtime's objects.

    ``synapsegen.runtime`` classes go with its ``Dendrite`` and ``Axon``; bittensor's go with
    bittensor's. Naming both classes and the two ways out beats pydantic's bare complaint.
    """
    return TypeError(
        f"{synapse_class.__module__}.{synapse_class.__qualname__} was given a "
        f"{foreign.__module__}.{foreign.__qualname__} (in {where}): synapsegen.runtime and "
        "bittensor classes do not mix. Use synapsegen.runtime's Dendrite and Axon with "
        "synapsegen.runtime synapses, and bittensor's with bittensor synapses (generate those "
        "with `synapsegen SCHEMA --runtime bittensor`)."
    )


class Synapse(BaseModel):
    """Base class of every synapse: the request/response model of one axon route.

    Subclass it and declare fields; the route is ``/<ClassName>``. Set
    ``required_hash_fields: ClassVar[tuple[str, ...]] = ("field", ...)`` to bind those fields to the
    dendrite's signature through ``body_hash``.
    """

    model_config = ConfigDict(validate_assignment=True)

    name: str | None = _base_field(
        "name", None, "Route name; always forced to the class name.", examples=["Forward"]
    )
    timeout: float | None = _base_field(
        "timeout", 12.0, "Total call timeout in seconds, set by the dendrite.", examples=[12.0]
    )
    total_size: int | None = _base_field(
        "total_size",
        0,
        "Informational size of the synapse (written by to_headers()).",
        examples=[1000],
    )
    header_size: int | None = _base_field(
        "header_size", 0, "Informational size of the header dict.", examples=[1000]
    )
    # A factory, not bittensor's shared TerminalInfo() default: pydantic deep-copies a model
    # default on every construction, which cost ~80 us per synapse (measured; the same values).
    dendrite: TerminalInfo | None = _base_field(
        "dendrite", None, "Client-side terminal information.", factory=TerminalInfo
    )
    axon: TerminalInfo | None = _base_field(
        "axon", None, "Server-side terminal information.", factory=TerminalInfo
    )
    computed_body_hash: str | None = _base_field(
        "computed_body_hash",
        "",
        "Body hash received in the computed_body_hash header (frozen).",
        frozen=True,
    )

    required_hash_fields: ClassVar[tuple[str, ...]] = ()

    _cast_ints = field_validator("total_size", "header_size", mode="before")(_to_int)
    _cast_floats = field_validator("timeout", mode="before")(_to_float)

    @field_validator("dendrite", "axon", mode="before")
    @classmethod
    def _refuse_foreign_terminal(cls, value: Any, info: ValidationInfo) -> Any:
        """A bittensor ``TerminalInfo`` here means this class was handed to bittensor's Dendrite
        or Axon: refuse it with the fix (pydantic's "valid dictionary" error named none)."""
        if isinstance(value, BaseModel) and not isinstance(value, TerminalInfo):
            raise mixed_runtimes_error(cls, type(value), f".{info.field_name}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _force_name(cls, data: Any) -> Any:
        """``name`` is always the class name, whatever the input says."""
        if isinstance(data, dict):
            return {**data, "name": cls.__name__}
        return data

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        legacy = cls.model_fields.get("required_hash_fields")
        if legacy is None:
            return
        warnings.warn(
            f"{cls.__name__}: 'required_hash_fields' declared as a field is deprecated; declare "
            "it as `required_hash_fields: ClassVar[tuple[str, ...]] = (...)` instead.",
            DeprecationWarning,
            stacklevel=3,  # the class statement (via pydantic's metaclass)
        )
        # bittensor hashes the legacy names in model_dump() order and drops unknown ones.
        named = set(legacy.default or ())
        dump_order = [*cls.model_fields, *cls.model_computed_fields]
        cls.required_hash_fields = tuple(f for f in dump_order if f in named)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "body_hash":
            raise AttributeError("body_hash property is read-only and cannot be overridden.")
        super().__setattr__(name, value)

    # ---- behaviour hooks ------------------------------------------------------------------

    def deserialize(self) -> Any:
        """What a dendrite returns (or yields last) with ``deserialize=True``; ``self`` here."""
        return self

    # ---- status helpers (read the dendrite side, as bittensor does) -------------------------

    @property
    def is_success(self) -> bool:
        """True when ``dendrite.status_code`` is 200."""
        return self.dendrite is not None and self.dendrite.status_code == 200

    @property
    def is_failure(self) -> bool:
        """True when ``dendrite.status_code`` is anything but 200, including None (unsent)."""
        return self.dendrite is not None and self.dendrite.status_code != 200

    @property
    def is_timeout(self) -> bool:
        """True when ``dendrite.status_code`` is 408."""
        return self.dendrite is not None and self.dendrite.status_code == 408

    @property
    def is_blacklist(self) -> bool:
        """True when ``dendrite.status_code`` is 403."""
        return self.dendrite is not None and self.dendrite.status_code == 403

    @property
    def failed_verification(self) -> bool:
        """True when ``dendrite.status_code`` is 401."""
        return self.dendrite is not None and self.dendrite.status_code == 401

    # ---- sizes, required fields, hash --------------------------------------------------------

    def get_total_size(self) -> int:
        """Compute the informational ``total_size``, store it on ``self`` and return it."""
        self.total_size = get_size(self)
        return self.total_size

    @classmethod
    def get_required_fields(cls) -> list[str]:
        """Names in the JSON schema's ``required`` list (fields without a default).

        Computed once per class and cached; bittensor recomputes the schema on every call.
        """
        return list(cls._required_fields())

    @classmethod
    def _required_fields(cls) -> tuple[str, ...]:
        cached = _REQUIRED_FIELDS.get(cls)
        if cached is None:
            cached = _REQUIRED_FIELDS[cls] = _compute_required_fields(cls)
        return cached

    @property
    def body_hash(self) -> str:
        """SHA3-256 hex of the concatenated SHA3-256 hex digests of ``str()`` of each hashed field.

        The fields are ``required_hash_fields`` in the order given (repeats count twice), read from
        ``model_dump()`` (python mode: nested models are dicts, enum members stay members), so the
        digest depends on CPython's ``str()``/``repr()`` exactly as in bittensor. A name that is not
        a field raises KeyError.
        """
        fields = type(self).required_hash_fields
        if not fields:
            return _EMPTY_HASH
        dumped = self.model_dump(include=set(fields))
        return get_hash("".join(get_hash(str(dumped[field])) for field in fields))

    # ---- headers -----------------------------------------------------------------------------

    def to_headers(self) -> dict[str, str]:
        """The HTTP headers bittensor sends for this synapse, in wire order (§5).

        ``name``, ``timeout``, the non-None axon then dendrite ``TerminalInfo`` fields, a base64
        JSON placeholder of an *empty* value of each required field's type (real values never
        travel in headers), ``header_size``, ``total_size`` (also stored on ``self``) and
        ``computed_body_hash``. Raises ValueError when a required field's type has no
        argument-free, JSON-serializable empty value (e.g. an Enum).
        """
        name = self.name if self.name is not None else type(self).__name__
        headers: dict[str, str] = {"name": name, "timeout": str(self.timeout)}
        # Built with update() like bittensor, so that sys.getsizeof(headers) matches too.
        if self.axon is not None:
            headers.update(_terminal_headers(self.axon, AXON_HEADER_PREFIX))
        if self.dendrite is not None:
            headers.update(_terminal_headers(self.dendrite, DENDRITE_HEADER_PREFIX))

        # Through get_required_fields(), as bittensor does, so that a subclass overriding it is
        # honoured (the default is cached per class).
        required = self.get_required_fields()
        if required:
            for field, value in self.model_dump(include=set(required)).items():
                if field in headers or value is None:
                    continue
                headers[INPUT_OBJ_HEADER_PREFIX + field] = self._placeholder(field, value)

        headers["header_size"] = str(sys.getsizeof(headers))
        headers["total_size"] = str(self.get_total_size())
        headers["computed_body_hash"] = self.body_hash
        return headers

    @staticmethod
    def _placeholder(field: str, value: Any) -> str:
        value_type = type(value)
        cached = _BUILTIN_PLACEHOLDERS.get(value_type)
        if cached is not None:
            return cached
        try:
            return _placeholder_header(value_type)
        except TypeError as exc:
            raise ValueError(
                f"Error serializing {field} with value {value}. Objects must be json serializable."
            ) from exc

    @classmethod
    def parse_headers_to_inputs(cls, headers: Mapping[str, str]) -> dict[str, Any]:
        """Turn received headers into constructor inputs, exactly as bittensor does (§6).

        Names are matched by *substring*, case-sensitively; ``bt_header_input_obj_*`` values are
        base64 JSON (undecodable ones are logged and skipped); ``timeout``, ``name``,
        ``header_size``, ``total_size`` and ``computed_body_hash`` are copied (None if absent).
        Values stay strings: the validators coerce them.
        """
        axon: dict[str, str] = {}
        dendrite: dict[str, str] = {}
        inputs: dict[str, Any] = {"axon": axon, "dendrite": dendrite}
        for key, value in headers.items():
            if AXON_HEADER_PREFIX in key:
                axon[key.split(AXON_HEADER_PREFIX)[1]] = value
            elif DENDRITE_HEADER_PREFIX in key:
                dendrite[key.split(DENDRITE_HEADER_PREFIX)[1]] = value
            elif "bt_header_input_obj" in key:
                parts = key.split(INPUT_OBJ_HEADER_PREFIX)
                if len(parts) < 2:
                    logger.error("Error while parsing 'input_obj' header %s: no field name", key)
                    continue
                field = parts[1]
                if field in inputs:
                    continue
                try:
                    inputs[field] = json.loads(base64.b64decode(value.encode()).decode("utf-8"))
                except Exception as exc:  # a bad placeholder must not break the whole request
                    logger.error("Error while parsing 'input_obj' header %s: %s", key, exc)
        for name in ("timeout", "name", "header_size", "total_size", "computed_body_hash"):
            inputs[name] = headers.get(name)
        return inputs

    @classmethod
    def from_headers(cls: type[_SynapseT], headers: Mapping[str, str]) -> _SynapseT:
        """Build an instance from headers (``cls(**parse_headers_to_inputs(headers))``).

        Raises pydantic ``ValidationError`` when a value does not validate (e.g. ``nonce: abc`` or
        ``timeout: None``) or when a required field has no placeholder header.
        """
        return cls(**cls.parse_headers_to_inputs(headers))


# --------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------


class BTStreamingResponseModel(BaseModel):
    """Carries the token streamer: a coroutine function that sends body chunks through ``send``."""

    token_streamer: Callable[[Send], Awaitable[None]]


class BTStreamingResponse(StreamingResponse):
    """Starlette response that streams whatever the token streamer sends, as bittensor does.

    On the wire: status 200, ``content-type: text/event-stream``, then ``self.raw_headers`` (the
    axon adds the synapse's ``to_headers()`` there before the response starts), then the streamer's
    ``http.response.body`` messages unchanged, then one empty final body message. The streamer must
    only send ``more_body: True`` messages; this class ends the body. If the streamer raises, the
    exception is logged and the body still ends cleanly (what a real axon's client sees).
    """

    def __init__(
        self,
        model: BTStreamingResponseModel,
        *,
        synapse: StreamingSynapse | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(content=iter(()), **kwargs)
        self.token_streamer = model.token_streamer
        self.synapse = synapse

    async def stream_response(self, send: Send) -> None:
        """Send the start message, run the token streamer, and end the body."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), *self.raw_headers],
            }
        )
        try:
            await self.token_streamer(send)
        except Exception:
            logger.exception(
                "token streamer of %s failed; ending the stream",
                type(self.synapse).__name__ if self.synapse is not None else "a synapse",
            )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)
        if self.background is not None:
            await self.background()


_BTStreamingResponseClass = BTStreamingResponse  # un-shadowed name for annotations below


class StreamingSynapse(Synapse, ABC):
    """Base class of streaming synapses.

    Server side: the forward function returns ``synapse.create_streaming_response(token_streamer)``.
    Client side: the dendrite iterates ``process_streaming_response(response)`` (an async generator
    over the aiohttp response), then calls ``extract_response_json(response)`` and rebuilds the
    synapse from that dict.
    """

    # bittensor nests the response class here; keep the attribute for code that uses it.
    BTStreamingResponse: ClassVar[type[_BTStreamingResponseClass]] = _BTStreamingResponseClass

    stream_media: ClassVar[StreamMedia] = StreamMedia("text/event-stream")
    """The body's content type on the HTTP-era transports and the schema of one streamed item
    (bittensor's label by default; generated classes set their own from the schema)."""

    @abstractmethod
    async def process_streaming_response(
        self, response: aiohttp.ClientResponse
    ) -> AsyncIterator[Any]:
        """Yield items decoded from the streamed body (implement as an async generator)."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator function, like the overrides

    @abstractmethod
    def extract_response_json(self, response: aiohttp.ClientResponse) -> dict[str, Any]:
        """Return the dict the dendrite rebuilds the synapse from (every field, plus terminals)."""

    def create_streaming_response(
        self, token_streamer: Callable[[Send], Awaitable[None]]
    ) -> _BTStreamingResponseClass:
        """Wrap ``token_streamer`` in a ``BTStreamingResponse`` bound to this synapse."""
        return _BTStreamingResponseClass(
            BTStreamingResponseModel(token_streamer=token_streamer), synapse=self
        )
