"""``--runtime bittensor``: classes subclass bittensor 10.x's own ``StreamingSynapse``.

Stream codecs still come from ``synapsegen.runtime``. Template:
``templates/targets/bittensor.py.jinja``.
"""

from __future__ import annotations

from . import Target


class BittensorRuntime(Target):
    """bittensor 10.x's StreamingSynapse."""

    name = "bittensor"
    summary = "bittensor 10.x's StreamingSynapse"


BITTENSOR = BittensorRuntime()
