"""The registry: every framing, rule op and runtime target synapsegen knows, each one module.

Adding a kind is one module here (its options, checks and IR), one template macro under
``templates/``, and one line below (docs/architecture.md walks through adding a framing). The
front end and the back end look kinds up here and ask them; nothing else compares kind names.
"""

from __future__ import annotations

from .base import Framing, Op, Target
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
from .targets.bittensor import BITTENSOR
from .targets.synapsegen import SYNAPSEGEN

FRAMINGS: dict[str, Framing] = {kind.name: kind for kind in (RAW, LINES, SSE_FRAMING, JSON_SEQ)}
OPS: dict[str, Op] = {kind.name: kind for kind in (CONCAT, APPEND, EXTEND, REPLACE, SET, PUT)}
TARGETS: dict[str, Target] = {kind.name: kind for kind in (SYNAPSEGEN, BITTENSOR)}


def option_owners(kinds: dict[str, Framing] | dict[str, Op]) -> dict[str, str]:
    """Each option key a kind owns -> the name of the kind that owns it."""
    return {key: name for name, kind in kinds.items() for key in kind.Options.model_fields}


__all__ = ["FRAMINGS", "OPS", "TARGETS", "Framing", "Op", "Target", "option_owners"]
