"""``framing: sse``: server-sent events; each event's ``data`` is one token.

Owns the ``sentinel`` key (e.g. ``[DONE]``): a data line equal to it ends the stream, and
``end.signal: sentinel`` needs it. Template: ``templates/framings/sse.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from ...codegen.ir import FramingIR
from ..base import FRAMING_OPTION, Framing, Report
from ..base import Options as BaseOptions

if TYPE_CHECKING:
    from ...diagnostics import NodePath
    from ...language.spec import StreamSpec


class SSEOptions(BaseOptions):
    """The keys ``framing: sse`` owns."""

    sentinel: Annotated[str | None, Field(description="`sse` only, e.g. [DONE].")] = None


@dataclass(frozen=True)
class SSEIR(FramingIR):
    """SSE events; ``sentinel`` ends the stream when set."""

    sentinel: str | None = None


class SSE(Framing, name="sse", Options=SSEOptions, IR=SSEIR):
    """Server-sent events."""

    summary = "server-sent events, one token per event's data"
    frames = {"text": "text", "json": "data"}
    media_types = {"text": "text/event-stream", "json": "text/event-stream"}

    def sentinel(self, stream: StreamSpec) -> str | None:
        return stream.sentinel  # type: ignore[no-any-return]

    def check(self, stream: StreamSpec, path: NodePath, report: Report) -> None:
        if stream.sentinel is not None and ("\r" in stream.sentinel or "\n" in stream.sentinel):
            report(
                (*path, "sentinel"),
                FRAMING_OPTION,
                "an SSE data line cannot hold a line break; the sentinel must not contain "
                "\\r or \\n",
            )


SSE_FRAMING = SSE()
