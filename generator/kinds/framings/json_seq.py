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
    from ...language.spec import StreamSpec


@dataclass(frozen=True)
class JSONSeqIR(FramingIR):
    """Concatenated JSON values."""


class JSONSeq(Framing):
    """Concatenated JSON values."""

    name: ClassVar[str] = "json-seq"
    summary: ClassVar[str] = "JSON values back to back"
    payloads: ClassVar[tuple[str, ...]] = ("json",)

    def payload_problem(self, payload: str) -> str | None:
        if payload == "text":
            return "framing 'json-seq' carries JSON values; `payload: text` contradicts it"
        return None

    def build(self, stream: StreamSpec) -> JSONSeqIR:
        return JSONSeqIR(
            template=self.template,
            payload="json",
            frame="event",
            max_frame_bytes=stream.limits.max_frame_bytes,
            max_total_bytes=stream.limits.max_total_bytes,
            flushes_at_close=True,
        )


JSON_SEQ = JSONSeq()
