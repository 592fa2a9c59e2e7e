"""``--runtime synapsegen`` (the default): classes stand on ``synapsegen.runtime``.

Production miners then install only synapsegen's runtime, not bittensor.
Template: ``templates/targets/synapsegen.py.jinja``.
"""

from __future__ import annotations

from . import Target


class SynapsegenRuntime(Target):
    """``synapsegen.runtime``'s StreamingSynapse, Axon and Dendrite."""

    name = "synapsegen"
    summary = "synapsegen.runtime (no bittensor needed)"


SYNAPSEGEN = SynapsegenRuntime()
