"""``framing: json-seq``: JSON values back to back (whitespace between them optional).

A top-level number can only end at the end of the body, so the decoder's ``close()`` may return
one last value: the generated loop runs it through the rules like the others.
Template: ``templates/framings/json_seq.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ...codegen.ir import FramingIR
from ..base import Framing

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class JSONSeqIR(FramingIR):
    """Concatenated JSON values."""


class JSONSeq(Framing):
    """Concatenated JSON values."""

    name: ClassVar[str] = "json-seq"
    summary: ClassVar[str] = "JSON values back to back"
    payloads: ClassVar[tuple[str, ...]] = ("json",)
    IR: ClassVar[type[FramingIR]] = JSONSeqIR
    frames: ClassVar[dict[str, str]] = {"json": "event"}
    flushes_at_close: ClassVar[bool] = True

    def payload_problem(self, payload: str) -> str | None:
        if payload == "text":
            return "framing 'json-seq' carries JSON values; `payload: text` contradicts it"
        return None


JSON_SEQ = JSONSeq()
