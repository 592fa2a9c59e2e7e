"""``framing: lines``: frames end with a delimiter (JSON Lines when the payload is JSON).

Owns the ``delimiter`` key. The encoder refuses a text token that contains the delimiter, so a
line never splits a token. Template: ``templates/framings/lines.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from ...codegen.ir import FramingIR
from ..base import FRAMING_OPTION, Framing, Report
from ..base import Options as BaseOptions

if TYPE_CHECKING:
    from ...diagnostics import NodePath
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


class Lines(Framing, name="lines", Options=LinesOptions, IR=LinesIR):
    """Frames separated by a delimiter."""

    summary = "frames ending with a delimiter (JSON Lines for JSON)"
    frames = {"text": "frame", "json": "frame"}
    media_types = {"text": "text/plain; charset=utf-8", "json": "application/jsonl"}

    def check(self, stream: StreamSpec, path: NodePath, report: Report) -> None:
        # Compact JSON escapes every control character inside strings and has no whitespace
        # outside them: only a delimiter of control characters never occurs inside a token.
        if stream.payload == "json" and any(ord(char) >= 0x20 for char in stream.delimiter):
            report(
                (*path, "delimiter"),
                FRAMING_OPTION,
                f"delimiter {stream.delimiter!r} can occur inside JSON tokens; with "
                "`payload: json` use control characters only (\\n, \\x1e, ...)",
            )

    def media_type(self, stream: StreamSpec) -> str:
        # JSON Lines are JSON values ended by \n; JSON cut by another delimiter is still UTF-8
        # text, but no JSON Lines.
        if stream.payload == "json" and stream.delimiter != "\n":
            return self.media_types["text"]
        return super().media_type(stream)

    def options_ir(self, stream: StreamSpec) -> dict[str, Any]:
        return {"delimiter": stream.delimiter.encode()}


LINES = Lines()
