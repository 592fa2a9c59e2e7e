"""``framing: lines``: frames end with a delimiter (JSON Lines when the payload is JSON).

Owns the ``delimiter`` key. The encoder refuses a text token that contains the delimiter, so a
line never splits a token. Template: ``templates/framings/lines.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field

from ...codegen.ir import FramingIR
from ..base import Framing
from ..base import Options as BaseOptions

if TYPE_CHECKING:
    from ...language.spec import StreamSpec


class LinesOptions(BaseOptions):
    """The keys ``framing: lines`` owns."""

    delimiter: Annotated[
        str, Field(min_length=1, description="`lines` only: the frame delimiter (default \\n).")
    ] = "\n"


@dataclass(frozen=True)
class LinesIR(FramingIR):
    """Delimited frames; ``delimiter`` is the UTF-8 encoding of the schema's delimiter."""

    delimiter: bytes = b"\n"

    @property
    def newline(self) -> bool:
        """Whether the delimiter is ``\\n`` (JSON Lines: the runtime's own line encoders)."""
        return self.delimiter == b"\n"


class Lines(Framing):
    """Frames separated by a delimiter."""

    name: ClassVar[str] = "lines"
    summary: ClassVar[str] = "frames ending with a delimiter (JSON Lines for JSON)"
    payloads: ClassVar[tuple[str, ...]] = ("text", "json")
    Options: ClassVar[type[BaseOptions]] = LinesOptions

    def build(self, stream: StreamSpec) -> LinesIR:
        return LinesIR(
            template=self.template,
            payload=_payload(stream),
            frame="frame",
            max_frame_bytes=stream.limits.max_frame_bytes,
            max_total_bytes=stream.limits.max_total_bytes,
            delimiter=stream.delimiter.encode(),
        )


def _payload(stream: StreamSpec) -> str:
    assert stream.payload is not None  # filled in by the presets stage
    return stream.payload


LINES = Lines()
