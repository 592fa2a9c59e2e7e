"""The transports a synapse can travel over, by the names ``Axon.attach(transports=...)`` and
``Dendrite(transport=...)`` take.

- ``bittensor10``: bittensor 9/10's wire (``bt_header_*`` headers signed per ``signing``, the
  whole synapse as the body, its status in the response headers);
- ``btauth/1``: bittensor 11's signed requests (``btauth``) over the HTTP wire (``http_wire``);
- ``epistula/2``: Epistula v2's signed requests (``epistula``) over the same HTTP wire.

An Axon serves all that a route accepts on the same ``/<ClassName>`` path, telling them apart by
their headers; one ``forward_fn`` answers each.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BITTENSOR10", "BTAUTH", "DEFAULT_SERVED", "EPISTULA", "TRANSPORTS"]

BITTENSOR10: Final = "bittensor10"
BTAUTH: Final = "btauth/1"
EPISTULA: Final = "epistula/2"
TRANSPORTS: Final = (BITTENSOR10, BTAUTH, EPISTULA)
DEFAULT_SERVED: Final = frozenset({BITTENSOR10, BTAUTH})
"""What a route accepts unless ``attach(transports=...)`` says otherwise: Epistula is opt-in."""
