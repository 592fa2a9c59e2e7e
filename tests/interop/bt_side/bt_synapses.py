"""The interop synapses written by hand on bittensor 10's own classes (runs in the bittensor venv).

Written the way a careful subnet author would: the stream is decoded incrementally (a multi-byte
character split across chunks is neither an error nor lost), error bodies are not taken for
tokens, and ``extract_response_json`` returns every field plus the metadata headers.

No ``from __future__ import annotations`` here: bittensor's ``Axon.attach`` reads the parameter
annotations of the handlers as real classes.
"""

import codecs
import json
from typing import Any, ClassVar

from bootstrap import bt  # bittensor, imported after the loopback guard is installed
from common import PLAIN_SYNAPSE, STREAM_SYNAPSE, UNSERVED_SYNAPSE, plain_synapses
from pydantic import PrivateAttr

_AXON_PREFIX = "bt_header_axon_"
_DENDRITE_PREFIX = "bt_header_dendrite_"


def _terminal_headers(headers: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Split response headers into axon and dendrite TerminalInfo dicts (exact prefix strip)."""
    axon: dict[str, str] = {}
    dendrite: dict[str, str] = {}
    for key, value in headers.items():
        name = key.lower()
        if name.startswith(_AXON_PREFIX):
            axon[name[len(_AXON_PREFIX) :]] = value
        elif name.startswith(_DENDRITE_PREFIX):
            dendrite[name[len(_DENDRITE_PREFIX) :]] = value
    return axon, dendrite


class InteropStream(bt.StreamingSynapse):
    """Streams raw UTF-8 text into ``completion``."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)

    prompt: str
    n_tokens: int
    completion: str = ""

    _error_body: dict[str, Any] | None = PrivateAttr(default=None)

    async def process_streaming_response(self, response: Any) -> Any:
        if response.status != 200:
            # An axon error is a JSON {"message": ...}, not a token: keep it for the status merge.
            try:
                self._error_body = json.loads(await response.read())
            except ValueError:
                self._error_body = {}
            return
        decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            text = decoder.decode(chunk)
            if text:
                parts.append(text)
                yield text
        tail = decoder.decode(b"", final=True)  # raises on a stream cut inside a character
        if tail:
            parts.append(tail)
            yield tail
        self.completion = "".join(parts)

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        if response.status != 200:
            return self._error_body or {}
        data = self.model_dump()
        axon, dendrite = _terminal_headers(response.headers)
        data["axon"] = {**data["axon"], **axon}
        data["dendrite"] = {**data["dendrite"], **dendrite}
        return data

    def deserialize(self) -> str:
        return self.completion


# The class name is the route: keep it in step with common.STREAM_SYNAPSE.
assert InteropStream.__name__ == STREAM_SYNAPSE


InteropEcho, InteropUnserved = plain_synapses(bt.Synapse)
assert (InteropEcho.__name__, InteropUnserved.__name__) == (PLAIN_SYNAPSE, UNSERVED_SYNAPSE)

# bittensor's base class too: every axon serves it at /Synapse (the ping route).
SYNAPSE_CLASSES: dict[str, type[bt.Synapse]] = {
    cls.__name__: cls for cls in (InteropStream, InteropEcho, InteropUnserved, bt.Synapse)
}
