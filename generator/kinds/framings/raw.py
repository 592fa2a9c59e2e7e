"""``framing: raw``: the body is UTF-8 text with no token boundaries.

Every network chunk decodes (incrementally, so a character split across chunks is whole) to one
text token. Template: ``templates/framings/raw.py.jinja``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ...codegen.ir import FramingIR
from ..base import FRAMING_PAYLOAD, Framing, Report

if TYPE_CHECKING:
    from ...diagnostics import NodePath
    from ...language.spec import StreamSpec


class Raw(Framing, name="raw"):
    """Raw UTF-8 text concatenated as it arrives."""

    summary = "raw UTF-8 text, no token boundaries"
    frames = {"text": "text"}
    media_types = {"text": "text/plain; charset=utf-8"}
    refusal = (
        "framing 'raw' has no token boundaries, so it cannot carry JSON tokens; "
        "use json-seq, lines or sse for JSON, or raw text parsed in `deserialize`"
    )

    def check(self, stream: StreamSpec, path: NodePath, report: Report) -> None:
        # Each network chunk is a token here, so only a result that does not depend on how the
        # body was split is well defined: concat, once per field.
        from ..registry import OPS

        seen: set[str] = set()
        for index, rule in enumerate(stream.rules or []):
            op = OPS[rule.op]
            targets = op.targets(rule)
            if not op.chunk_independent or seen & set(targets):
                report(
                    (*path, "rules", index),
                    FRAMING_PAYLOAD,
                    "framing 'raw' has no token boundaries (each network chunk is a token), so "
                    "only one `concat` per field gives a result that does not depend on how the "
                    "body was split; use lines, sse or json-seq for tokens",
                )
            seen.update(targets)

    def build(self, stream: StreamSpec) -> FramingIR:
        # Raw text has no frames: only the total size is bounded.
        return replace(super().build(stream), max_frame_bytes=None)


RAW = Raw()
