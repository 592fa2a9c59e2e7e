"""What a streaming synapse's body is on the HTTP wire: its media type and one item's schema.

bittensor labels every stream ``text/event-stream``, whatever it carries. On the HTTP-era
transports (btauth/1, Epistula v2) a streaming synapse answers with an honest content type, and
its OpenAPI document (:mod:`synapsegen.runtime.openapi`) describes each streamed item. Both read
the class's ``stream_media``: :class:`StreamingSynapse` defaults it to bittensor's
``StreamMedia("text/event-stream")``, and every generated streaming class sets its own from its
schema (its framing's media type, the token's JSON Schema, the SSE sentinel, the error event).

This module needs pydantic only.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

__all__ = ["JSON_ITEM_MEDIA_TYPES", "StreamMedia", "media_essence"]

JSON_ITEM_MEDIA_TYPES = frozenset({"application/jsonl", "application/json-seq"})
"""Media types whose items are JSON values by definition (JSON Lines, JSON text sequences)."""


def media_essence(media_type: str) -> str:
    """``type/subtype`` of a media type, lowercased, without parameters (``; charset=...``)."""
    return media_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class StreamMedia:
    """How a streaming synapse's body is labelled and what each of its items is.

    - ``media_type``: the ``Content-Type`` of the body (``text/event-stream``,
      ``application/jsonl``, ``application/json-seq``, ``text/plain; charset=utf-8``).
    - ``item_schema``: the JSON Schema (2020-12) of one item, self-contained: a ``$ref`` points
      into its own ``$defs`` (``#/$defs/Name``).
    - ``item_model``: a pydantic model each item is (a typed token); it takes precedence over
      ``item_schema``.
    - ``sentinel``: the SSE data that ends the stream and is no item (``[DONE]``).
    - ``payload``: ``"json"`` when each item is a JSON value (for SSE: each event's data),
      ``"text"`` when it is text; None: JSON for JSON Lines, JSON text sequences and typed
      items, text otherwise.
    - ``error_schema``: the JSON Schema of the event the server sends in place of the next item
      when the miner fails (a stream's declared error event), or None.

    Instances are shared by every instance of a class (a ``ClassVar``): treat the mappings as
    read-only; :meth:`item_json_schema` returns a copy.
    """

    media_type: str
    item_schema: Mapping[str, Any] | None = None
    item_model: type[BaseModel] | None = None
    sentinel: str | None = None
    payload: Literal["text", "json"] | None = None
    error_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.payload not in (None, "text", "json"):
            raise ValueError(f"payload must be 'text', 'json' or None, not {self.payload!r}")
        if "/" not in media_essence(self.media_type):
            raise ValueError(f"not a media type: {self.media_type!r}")

    @property
    def json_items(self) -> bool:
        """Whether each item is a JSON value (else text)."""
        if self.payload is not None:
            return self.payload == "json"
        return self.item_model is not None or media_essence(self.media_type) in (
            JSON_ITEM_MEDIA_TYPES
        )

    def token_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of one token, self-contained (its references in its own ``$defs``).

        ``item_model``'s ``model_json_schema()`` when set, else ``item_schema``, else what the
        payload allows: ``{"type": "string"}`` for text, ``{}`` (any JSON value) for JSON.
        """
        if self.item_model is not None:
            return self.item_model.model_json_schema()
        if self.item_schema is not None:
            return copy.deepcopy(dict(self.item_schema))
        return {} if self.json_items else {"type": "string"}

    def item_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of one streamed item: a token, or the error event if there is one
        (``anyOf`` of both), self-contained (references in its own top-level ``$defs``)."""
        schema = self.token_json_schema()
        if self.error_schema is None:
            return schema
        defs = schema.pop("$defs", None)
        combined: dict[str, Any] = {"anyOf": [schema, copy.deepcopy(dict(self.error_schema))]}
        if defs:
            combined["$defs"] = defs
        return combined
