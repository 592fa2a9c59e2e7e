"""What both wires of the Axon do around ``forward_fn``: call hooks, read its result, and fill in
the success status. Used by ``_axon_app`` (bittensor 10's wire) and ``_axon_http_wire``."""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from .synapse import Synapse, TerminalInfo

__all__ = [
    "Hook",
    "call_hook",
    "fill_success",
    "finite_or_none",
    "tokens_as_response",
    "valid_response_status",
]

Hook = Callable[[Any], Any]


async def call_hook(fn: Hook, synapse: Synapse) -> Any:
    """Call a sync or async hook."""
    result = fn(synapse)
    if inspect.isawaitable(result):
        result = await result
    return result


def tokens_as_response(result: Any, synapse: Synapse) -> Any:
    """A ``forward_fn`` may return its tokens (an async iterable) instead of a response: they
    are streamed with the synapse's own ``stream_response`` (generated classes have one), so the
    same handler serves every transport. Anything else is returned unchanged."""
    if isinstance(result, (Synapse, Response)) or not hasattr(result, "__aiter__"):
        return result
    stream_response = getattr(synapse, "stream_response", None)
    if not callable(stream_response):
        raise TypeError(
            f"forward_fn returned tokens, but {type(synapse).__name__} has no stream_response() "
            "to stream them (return a Synapse or a response)"
        )
    return stream_response(result)


def fill_success(synapse: Synapse, forward_start: float) -> None:
    """bittensor's ``synapse_to_response`` fill-in: status 200 / "Success" / process time."""
    if synapse.axon is None:
        synapse.axon = TerminalInfo()
    axon = synapse.axon
    if axon.status_code is None:
        axon.status_code = 200
    if axon.status_code == 200 and not axon.status_message:
        axon.status_message = "Success"
    axon.process_time = time.time() - forward_start


def valid_response_status(status: int | None) -> bool:
    # 1xx, 204 and 304 cannot carry the JSON body; other values are not HTTP statuses at all.
    return status is not None and 200 <= status <= 599 and status not in (204, 304)


def finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
