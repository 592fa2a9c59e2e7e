"""synapsegen.runtime: a bittensor-10-compatible StreamingSynapse stack, without bittensor.

Everything a generated synapse module needs at run time: the models (``Synapse``,
``StreamingSynapse``, ...), the stream codecs, the token streamer used on the server side, a
small server (``Axon``) and client (``Dendrite``), and their exceptions (all in ``errors``, whose
docstring draws the tree). It imports nothing from the generator side.

Names are loaded lazily so that ``from synapsegen.runtime import Synapse`` does not pay for the
server and client modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accumulate import TextParts, response_json
    from .axon import Axon, AxonInfo
    from .codecs import (
        JSONSeqDecoder,
        LineDecoder,
        SSEDecoder,
        TextDecoder,
        decode_json_frame,
        decode_text_frame,
        encode_json_line,
        encode_json_value,
        encode_line,
        encode_sse,
        encode_sse_json,
        encode_text,
    )
    from .dendrite import AxonTarget, Dendrite
    from .errors import (
        FirstByteTimeout,
        FrameTooLarge,
        MalformedFrame,
        MinerError,
        SignatureError,
        StreamError,
        StreamTooLarge,
        TruncatedStream,
    )
    from .streaming import token_streamer
    from .synapse import (
        BTStreamingResponse,
        BTStreamingResponseModel,
        StreamingSynapse,
        Synapse,
        TerminalInfo,
        split_terminal_headers,
    )

_EXPORTS: dict[str, str] = {
    "TextParts": "accumulate",
    "response_json": "accumulate",
    "Axon": "axon",
    "AxonInfo": "axon",
    "AxonTarget": "dendrite",
    "BTStreamingResponse": "synapse",
    "BTStreamingResponseModel": "synapse",
    "Dendrite": "dendrite",
    "FirstByteTimeout": "errors",
    "FrameTooLarge": "errors",
    "JSONSeqDecoder": "codecs",
    "LineDecoder": "codecs",
    "MalformedFrame": "errors",
    "MinerError": "errors",
    "SSEDecoder": "codecs",
    "SignatureError": "errors",
    "StreamError": "errors",
    "StreamTooLarge": "errors",
    "StreamingSynapse": "synapse",
    "Synapse": "synapse",
    "TerminalInfo": "synapse",
    "TextDecoder": "codecs",
    "TruncatedStream": "errors",
    "decode_json_frame": "codecs",
    "decode_text_frame": "codecs",
    "encode_json_line": "codecs",
    "encode_json_value": "codecs",
    "encode_line": "codecs",
    "encode_sse": "codecs",
    "encode_sse_json": "codecs",
    "encode_text": "codecs",
    "split_terminal_headers": "synapse",
    "token_streamer": "streaming",
}

__all__ = [
    "Axon",
    "AxonInfo",
    "AxonTarget",
    "BTStreamingResponse",
    "BTStreamingResponseModel",
    "Dendrite",
    "FirstByteTimeout",
    "FrameTooLarge",
    "JSONSeqDecoder",
    "LineDecoder",
    "MalformedFrame",
    "MinerError",
    "SSEDecoder",
    "SignatureError",
    "StreamError",
    "StreamTooLarge",
    "StreamingSynapse",
    "Synapse",
    "TerminalInfo",
    "TextDecoder",
    "TextParts",
    "TruncatedStream",
    "decode_json_frame",
    "decode_text_frame",
    "encode_json_line",
    "encode_json_value",
    "encode_line",
    "encode_sse",
    "encode_sse_json",
    "encode_text",
    "response_json",
    "split_terminal_headers",
    "token_streamer",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
