"""The HTTP wire: how a synapse travels under btauth/1 or Epistula v2, on both sides.

bittensor 10 sends the whole synapse (every field, plus terminal infos) as the body and its
status in ``bt_header_*`` headers. The HTTP-era transports speak plain HTTP instead, which any
client (or an OpenAPI generator) can call:

- request: ``POST /<ClassName>``, ``Content-Type: application/json``, the body a JSON object of
  the class's *request* fields (those with defaults may be left out; unknown keys are refused);
- answer 200: a plain synapse's *response* fields as a JSON object; a streaming synapse's body in
  its schema's framing, with the content type of its ``stream_media`` (``text/event-stream``,
  ``application/jsonl``, ``application/json-seq``, ``text/plain; charset=utf-8``);
- any other status: ``{"message": "..."}``.

The request fields are the class's ``request_fields`` (generated classes declare them); a class
without that declaration sends every field it adds to ``Synapse``, and answers with them too.
This module is the one place that knows the format: the Axon (``_axon_http_wire``) and the
Dendrite both use it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import ValidationError

from ._axon_http import is_json_content_type, json_bytes
from .accumulate import commit_fields
from .errors import Rejected
from .synapse import StreamingSynapse, Synapse

__all__ = [
    "decode_request",
    "encode_answer",
    "encode_request",
    "error_message",
    "merge_answer",
    "request_fields",
    "response_fields",
    "stream_media_type",
]

_BASE_FIELDS = frozenset(StreamingSynapse.model_fields) | frozenset(Synapse.model_fields)
_QUOTED_MAX = 80  # characters of a peer's value quoted back in a message


@cache
def _own_fields(cls: type[Synapse]) -> tuple[str, ...]:
    return tuple(
        name
        for name, field in cls.model_fields.items()
        if name not in _BASE_FIELDS and not field.exclude
    )


@cache
def request_fields(cls: type[Synapse]) -> tuple[str, ...]:
    """The fields a request carries: ``cls.request_fields``, else every field ``cls`` adds."""
    declared = getattr(cls, "request_fields", None)
    if declared is None:
        return _own_fields(cls)
    return tuple(declared)


@cache
def response_fields(cls: type[Synapse]) -> tuple[str, ...]:
    """The fields an answer carries: those ``cls`` adds that are not request fields (all of them
    when the class declares no ``request_fields``)."""
    if getattr(cls, "request_fields", None) is None:
        return _own_fields(cls)
    sent = frozenset(request_fields(cls))
    return tuple(name for name in _own_fields(cls) if name not in sent)


def stream_media_type(cls: type[Synapse]) -> str:
    """The content type of a streaming class's body (its ``stream_media``), as sent."""
    media = getattr(cls, "stream_media", None)
    media_type = getattr(media, "media_type", None)
    return media_type if isinstance(media_type, str) else "text/event-stream"


def encode_request(synapse: Synapse) -> bytes:
    """The request body: compact UTF-8 JSON of the request fields. These exact bytes are signed
    and sent (never re-serialized in between)."""
    names = request_fields(type(synapse))
    return json_bytes(synapse.model_dump(mode="json", include=set(names)))


def _quoted(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTED_MAX else text[: _QUOTED_MAX - 3] + "..."


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    more = exc.error_count() - 1
    suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"request field {where}: {error['msg']}{suffix}"


def decode_request(cls: type[Synapse], body: bytes, content_type: str | None) -> Synapse:
    """Build ``cls`` from a request body; ``Rejected`` (415, 400 or 422) says what is wrong."""
    if not is_json_content_type(content_type):
        raise Rejected(415, f"Content-Type must be application/json, got {_quoted(content_type)}")
    try:
        data = json.loads(body) if body else {}
    except RecursionError:
        raise Rejected(400, "the request body is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or bytes that are no UTF-8/16/32
        raise Rejected(400, f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Rejected(422, f"the request body must be a JSON object, not {type(data).__name__}")
    allowed = request_fields(cls)
    unknown = [key for key in data if key not in allowed]
    if unknown:
        raise Rejected(
            422,
            f"unknown request field {_quoted(unknown[0])} (the request fields of {cls.__name__}"
            f" are {', '.join(allowed) or 'none'})",
        )
    try:
        # Strict, as the JSON Schema of the request reads: true or "7" is no integer here
        # (pydantic's lax mode took them). Strict JSON mode still takes objects for models.
        return cls.model_validate_json(body or b"{}", strict=True)
    except ValidationError as exc:
        if not all(_whole_float(error) for error in exc.errors(include_url=False)):
            raise Rejected(422, _first_error(exc)) from None
    except RecursionError:
        raise Rejected(400, "the request body is nested too deeply") from None
    # Only whole-number floats (59.0) for integers, which JSON Schema counts as integers.
    try:
        return cls(**data)
    except ValidationError as exc:
        raise Rejected(422, _first_error(exc)) from None


def _whole_float(error: Any) -> bool:
    """A strict-mode error that JSON Schema would not raise: a float like 59.0 for an integer."""
    value = error.get("input")
    return (
        error.get("type") in ("int_type", "int_from_float")
        and isinstance(value, float)
        and value.is_integer()
    )


def encode_answer(synapse: Synapse) -> bytes:
    """A plain synapse's answer body: compact UTF-8 JSON of its response fields."""
    names = response_fields(type(synapse))
    return json_bytes(synapse.model_dump(mode="json", include=set(names)))


def merge_answer(synapse: Synapse, data: Any) -> None:
    """Fill ``synapse``'s response fields from an answer body, all at once: every value is
    validated first, so a rejected one leaves none set (``ValidationError`` names it). Keys that
    are not response fields are ignored."""
    if not isinstance(data, dict):
        raise ValueError(f"the answer is not a JSON object: {type(data).__name__}")
    names = response_fields(type(synapse))
    commit_fields(synapse, {name: data[name] for name in names if name in data})


def error_message(data: Any, status: int) -> str:
    """The message of an error answer ``{"message": ...}`` (a stand-in when there is none)."""
    if isinstance(data, Mapping):
        message = data.get("message")
        if isinstance(message, str):
            return message
    return f"HTTP {status}"
