"""What generated classes fill their fields with: a stream's parts, or a miner's answer.

:class:`TextParts` holds the text of a string field received in parts, one per token, and joins
it once at the end; :func:`commit_fields` stores what a stream filled (client side) or what a
plain synapse's ``respond()`` was given (server side), all fields or none, skipping
:data:`UNSET` keywords; :func:`response_json` is the body of every generated
``extract_response_json``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from .synapse import split_terminal_headers

JOIN_PARTS = 4096
"""``TextParts.compact`` joins the parts into one block once there are more than this."""

_NOT_REBUILT = frozenset({"dendrite", "axon", "computed_body_hash"})


class Unset(enum.Enum):
    """The type of :data:`UNSET`: a keyword not given, where ``None`` is a value of its own."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""The default of ``respond()``'s keywords: the field keeps its value."""


class TextParts(list[str]):
    """Text received in parts: ``append`` per token (a plain list append), ``text()`` at the end.

    A part costs a list slot and a str header (~57 bytes) however short it is, so a long stream
    of short tokens would cost many times its text. ``compact()``, called after each network
    chunk, joins the parts into one block once there are more than :data:`JOIN_PARTS`: memory
    stays near twice the text (``bench/memory.py`` measures it), and the order is kept.
    """

    __slots__ = ("blocks",)

    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self.blocks: list[str] = [initial] if initial else []

    def compact(self) -> None:
        """Join the parts into a block if there are many (call once per network chunk)."""
        if len(self) > JOIN_PARTS:
            self.blocks.append("".join(self))
            self.clear()

    def replace(self, text: str) -> None:
        """Make ``text`` the whole text so far (a ``replace`` rule)."""
        self.blocks = [text]
        self.clear()

    def text(self) -> str:
        """Everything received, in order."""
        return "".join([*self.blocks, *self])  # one join: no second copy of the text


def commit_fields(synapse: BaseModel, values: Mapping[str, Any]) -> None:
    """Assign ``values`` to the synapse's fields all at once, or not at all.

    Each value is validated first, on a shallow copy (pydantic's assignment validation), so a
    value the declared type rejects raises ``ValidationError`` naming its field and leaves the
    synapse as it was: never half filled. Then every validated value is stored. Values that
    are :data:`UNSET` are skipped.
    """
    values = {name: value for name, value in values.items() if value is not UNSET}
    if len(values) == 1:  # one assignment is all or nothing by itself: no copy needed
        for name, value in values.items():
            setattr(synapse, name, value)
        return
    probe = synapse.model_copy()
    for name, value in values.items():
        setattr(probe, name, value)
    validated = {name: probe.__dict__[name] for name in values}
    synapse.__dict__.update(validated)
    synapse.__pydantic_fields_set__.update(validated)


def response_json(synapse: BaseModel, headers: Mapping[str, str]) -> dict[str, Any]:
    """What a generated ``extract_response_json`` returns, for the dendrite's rebuild.

    Every field of the synapse but ``dendrite``, ``axon`` and the frozen ``computed_body_hash``
    (a field missing here would be reset to its default), subclass fields included, plus the
    axon and dendrite values carried in the response ``headers``.
    """
    fields = {
        name: getattr(synapse, name)
        for name in type(synapse).model_fields
        if name not in _NOT_REBUILT
    }
    return {**fields, **split_terminal_headers(headers)}
