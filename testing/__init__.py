"""synapsegen.testing: a test kit for validators (and miners) built on synapsegen.runtime.

- ``ScriptedMiner`` and ``Script``: a real ``Axon`` on 127.0.0.1 whose answers are scripted
  (tokens framed by the class's own ``stream_response``, response values, delays, errors, error
  statuses, hostile chunkings of the real body bytes, truncation, oversized frames); ``Received``
  is what arrived;
- ``record`` and ``Vector``: a miner's raw answer to one request, kept in a JSON file
  (``synapsegen-vector/1``, see ``vectors``);
- ``replay`` and ``Decoded``: a recorded answer decoded as a ``Dendrite`` would, under many
  chunkings, checked to decode the same every time (``ReplayMismatch`` otherwise);
- ``split_body``, ``RandomCuts``, ``hostile_chunkings``: the chunkings; ``FakeResponse``: an
  aiohttp-like response delivering chosen pieces, for code that reads one;
- ``keypair_for``, ``miner_keypair``, ``validator_keypair``: fixed test hotkeys.

pytest fixtures (``scripted_miner``, ``validator_dendrite``) are in
``synapsegen.testing.pytest_plugin``: opt in with ``pytest_plugins =
["synapsegen.testing.pytest_plugin"]`` in your root ``conftest.py``. This package imports the
runtime, never the generator, and pytest only in that plugin.
"""

from __future__ import annotations

from .chunking import NAMED_CHUNKINGS, Chunking, RandomCuts, hostile_chunkings, split_body
from .fake import FakeContent, FakeResponse, FakeSession
from .keys import keypair_for, miner_keypair, validator_keypair
from .miner import Received, Script, ScriptedMiner, ScriptSource, oversized_frame
from .replay import Decoded, ReplayMismatch, decode_once, replay
from .vectors import VECTOR_FORMAT, RecordedRequest, RecordedResponse, Vector, record

__all__ = [
    "NAMED_CHUNKINGS",
    "VECTOR_FORMAT",
    "Chunking",
    "Decoded",
    "FakeContent",
    "FakeResponse",
    "FakeSession",
    "RandomCuts",
    "Received",
    "RecordedRequest",
    "RecordedResponse",
    "ReplayMismatch",
    "Script",
    "ScriptSource",
    "ScriptedMiner",
    "Vector",
    "decode_once",
    "hostile_chunkings",
    "keypair_for",
    "miner_keypair",
    "oversized_frame",
    "record",
    "replay",
    "split_body",
    "validator_keypair",
]
