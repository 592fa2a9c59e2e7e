"""``--runtime synapsegen`` (the default): classes stand on ``synapsegen.runtime``.

Production miners then install only synapsegen's runtime, not bittensor.
Template: ``templates/targets/synapsegen.py.jinja``.
"""

from __future__ import annotations

from typing import ClassVar

from . import Target


class SynapsegenRuntime(Target):
    """``synapsegen.runtime``'s StreamingSynapse, Axon and Dendrite."""

    name: ClassVar[str] = "synapsegen"
    summary: ClassVar[str] = "synapsegen.runtime (no bittensor needed)"


SYNAPSEGEN = SynapsegenRuntime()
