"""The framings and rule ops synapsegen knows (runtime targets: :mod:`.targets`)."""

from __future__ import annotations

from .base import Framing, Op
from .framings.json_seq import JSON_SEQ
from .framings.lines import LINES
from .framings.raw import RAW
from .framings.sse import SSE_FRAMING
from .ops.append import APPEND
from .ops.concat import CONCAT
from .ops.extend import EXTEND
from .ops.put import PUT
from .ops.replace import REPLACE
from .ops.set import SET

FRAMINGS: dict[str, Framing] = {kind.name: kind for kind in (RAW, LINES, SSE_FRAMING, JSON_SEQ)}
OPS: dict[str, Op] = {kind.name: kind for kind in (CONCAT, APPEND, EXTEND, REPLACE, SET, PUT)}


def option_owners(kinds: dict[str, Framing] | dict[str, Op]) -> dict[str, tuple[str, ...]]:
    """Each option key a kind owns -> the names of the kinds that own it (several kinds may
    share one options class: concat, append and extend share ``group``)."""
    owners: dict[str, tuple[str, ...]] = {}
    for name, kind in kinds.items():
        for key in kind.Options.model_fields:
            owners[key] = (*owners.get(key, ()), name)
    return owners
