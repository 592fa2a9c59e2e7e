"""synapsegen.runtime: a bittensor-10-compatible StreamingSynapse stack, without bittensor.

Everything a generated synapse module needs at run time: the models (``Synapse``,
``StreamingSynapse``, ...), the stream codecs, the token streamer used on the server side, a
small server (``Axon``) and client (``Dendrite``), bittensor 11's and Epistula's signed requests
(``BtAuthVerifier``, ``EpistulaVerifier`` and the ``sign_request`` of ``btauth``/``epistula``),
and their exceptions (all in ``errors``, whose docstring draws the tree). It imports nothing from
the generator side.

Names are loaded lazily so that ``from synapsegen.runtime import Synapse`` does not pay for the
server and client modules.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# For type checkers: ``__all__`` below is computed, so each name is re-exported explicitly
# (``import X as X``). tests/runtime/test_runtime_imports.py checks these match _EXPORTS.
if TYPE_CHECKING:
    from ._auth import Claim as Claim
    from ._auth import RequestVerifier as RequestVerifier
    from ._schema_check import SchemaCheck as SchemaCheck
    from .accumulate import UNSET as UNSET
    from .accumulate import TextParts as TextParts
    from .accumulate import Unset as Unset
    from .accumulate import commit_fields as commit_fields
    from .accumulate import response_json as response_json
    from .axon import Axon as Axon
    from .axon import AxonInfo as AxonInfo
    from .btauth import BtAuthVerifier as BtAuthVerifier
    from .codecs import JSONSeqDecoder as JSONSeqDecoder
    from .codecs import LineDecoder as LineDecoder
    from .codecs import SSEDecoder as SSEDecoder
    from .codecs import TextDecoder as TextDecoder
    from .codecs import as_model as as_model
    from .codecs import decode_json_frame as decode_json_frame
    from .codecs import decode_text_frame as decode_text_frame
    from .codecs import encode_json_line as encode_json_line
    from .codecs import encode_json_value as encode_json_value
    from .codecs import encode_line as encode_line
    from .codecs import encode_sse as encode_sse
    from .codecs import encode_sse_json as encode_sse_json
    from .codecs import encode_text as encode_text
    from .dendrite import AxonTarget as AxonTarget
    from .dendrite import Deadline as Deadline
    from .dendrite import Dendrite as Dendrite
    from .dendrite import FanOutPolicy as FanOutPolicy
    from .dendrite import FirstK as FirstK
    from .dendrite import Quorum as Quorum
    from .dendrite import WaitAll as WaitAll
    from .epistula import EpistulaVerifier as EpistulaVerifier
    from .errors import FirstByteTimeout as FirstByteTimeout
    from .errors import FrameTooLarge as FrameTooLarge
    from .errors import MalformedFrame as MalformedFrame
    from .errors import MinerError as MinerError
    from .errors import Rejected as Rejected
    from .errors import SignatureError as SignatureError
    from .errors import StreamError as StreamError
    from .errors import StreamTooLarge as StreamTooLarge
    from .errors import TruncatedStream as TruncatedStream
    from .manifest import schema_hash_of as schema_hash_of
    from .media import StreamMedia as StreamMedia
    from .replay import NonceStore as NonceStore
    from .replay import RedisReplayStore as RedisReplayStore
    from .replay import RedisSeenStore as RedisSeenStore
    from .replay import ReplayStore as ReplayStore
    from .replay import SeenSet as SeenSet
    from .replay import SeenStore as SeenStore
    from .streaming import token_streamer as token_streamer
    from .synapse import BTStreamingResponse as BTStreamingResponse
    from .synapse import BTStreamingResponseModel as BTStreamingResponseModel
    from .synapse import StreamingSynapse as StreamingSynapse
    from .synapse import Synapse as Synapse
    from .synapse import TerminalInfo as TerminalInfo
    from .synapse import split_terminal_headers as split_terminal_headers
    from .synapse import with_header_values as with_header_values

_EXPORTS: dict[str, str] = {
    "TextParts": "accumulate",
    "as_model": "codecs",
    "UNSET": "accumulate",
    "Unset": "accumulate",
    "response_json": "accumulate",
    "commit_fields": "accumulate",
    "Axon": "axon",
    "AxonInfo": "axon",
    "AxonTarget": "dendrite",
    "BTStreamingResponse": "synapse",
    "BTStreamingResponseModel": "synapse",
    "BtAuthVerifier": "btauth",
    "Claim": "_auth",
    "Deadline": "dendrite",
    "Dendrite": "dendrite",
    "EpistulaVerifier": "epistula",
    "FanOutPolicy": "dendrite",
    "FirstK": "dendrite",
    "FirstByteTimeout": "errors",
    "FrameTooLarge": "errors",
    "JSONSeqDecoder": "codecs",
    "LineDecoder": "codecs",
    "MalformedFrame": "errors",
    "MinerError": "errors",
    "NonceStore": "replay",
    "Quorum": "dendrite",
    "RedisReplayStore": "replay",
    "RedisSeenStore": "replay",
    "Rejected": "errors",
    "ReplayStore": "replay",
    "RequestVerifier": "_auth",
    "SSEDecoder": "codecs",
    "SeenSet": "replay",
    "SeenStore": "replay",
    "SignatureError": "errors",
    "StreamError": "errors",
    "StreamTooLarge": "errors",
    "StreamMedia": "media",
    "StreamingSynapse": "synapse",
    "Synapse": "synapse",
    "TerminalInfo": "synapse",
    "TextDecoder": "codecs",
    "TruncatedStream": "errors",
    "WaitAll": "dendrite",
    "decode_json_frame": "codecs",
    "decode_text_frame": "codecs",
    "encode_json_line": "codecs",
    "encode_json_value": "codecs",
    "encode_line": "codecs",
    "encode_sse": "codecs",
    "encode_sse_json": "codecs",
    "encode_text": "codecs",
    "split_terminal_headers": "synapse",
    "with_header_values": "synapse",
    "token_streamer": "streaming",
    "schema_hash_of": "manifest",
    "SchemaCheck": "_schema_check",
}

__all__ = sorted(_EXPORTS)  # what ``synapsegen.runtime`` exports: one list, _EXPORTS


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module_name}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__
