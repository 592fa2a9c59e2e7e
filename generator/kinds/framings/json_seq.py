"""``framing: json-seq``: JSON values back to back (whitespace between them optional).

A top-level number can only end at the end of the body, so the decoder's ``close()`` may return
one last value: the generated loop runs it through the rules like the others.
Template: ``templates/framings/json_seq.py.jinja``.
"""

from __future__ import annotations

from ..base import Framing


class JSONSeq(Framing, name="json-seq", flushes_at_close=True):
    """Concatenated JSON values."""

    summary = "JSON values back to back"
    frames = {"json": "event"}
    media_types = {"json": "application/json-seq"}
    refusal = "framing 'json-seq' carries JSON values; `payload: text` contradicts it"


JSON_SEQ = JSONSeq()
