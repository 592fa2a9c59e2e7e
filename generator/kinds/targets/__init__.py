"""Runtime targets: the base classes generated code stands on. One module each.

Imports nothing heavy (no pydantic): the command line checks ``--runtime`` against
:data:`TARGETS` before it loads the generator.
"""

from __future__ import annotations

# typing costs the cold ``--check`` ~8 ms; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


class Target:
    """The runtime the generated classes stand on (their base classes and response type)."""

    name: ClassVar[str]
    summary: ClassVar[str]

    @property
    def template(self) -> str:
        """The template holding this target's macros (imports, response class)."""
        return f"targets/{self.name}.py.jinja"


from .bittensor import BITTENSOR  # noqa: E402  (the targets subclass Target above)
from .synapsegen import SYNAPSEGEN  # noqa: E402

TARGETS: dict[str, Target] = {kind.name: kind for kind in (SYNAPSEGEN, BITTENSOR)}

__all__ = ["TARGETS", "Target"]
