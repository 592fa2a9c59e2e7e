"""The registry: every framing, rule op and runtime target synapsegen knows, each one module.

Adding a kind is one module here (its options, checks and IR), one template macro under
``templates/``, and one line in its registry (docs/architecture.md walks through adding a
framing). The front end and the back end look kinds up here and ask them; nothing else compares
kind names. Loaded lazily: ``synapsegen.kinds.targets`` alone does not import pydantic.
"""

from __future__ import annotations

import importlib

# typing costs the cold ``--check`` (which loads ``kinds.targets``) ~5 ms; mypy reads this as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .base import Framing, Op
    from .registry import FRAMINGS, OPS, option_owners
    from .targets import TARGETS, Target

_EXPORTS = {
    "FRAMINGS": "registry",
    "OPS": "registry",
    "option_owners": "registry",
    "Framing": "base",
    "Op": "base",
    "TARGETS": "targets",
    "Target": "targets",
}

__all__ = ["FRAMINGS", "OPS", "TARGETS", "Framing", "Op", "Target", "option_owners"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
