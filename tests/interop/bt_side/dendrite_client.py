"""A real bittensor 10 Dendrite driven by JSON lines (run in the bittensor venv).

Reads one JSON request per line on stdin and answers one JSON line on stdout:

    {"calls": [CALL, ...], "concurrent": false}  ->  {"results": [RESULT, ...]}

CALL: {"target": {"ip", "port", "hotkey"}, "synapse": class name, "prompt", "n_tokens",
       "timeout": seconds, "key": "validator" | "other", "fresh_dendrite": bool,
       "keep_chunks": bool, "module": optional module holding the class (e.g. a generated one),
       "fields": optional constructor fields (instead of prompt/n_tokens),
       "capture_raw": bool (use a fresh Dendrite whose session records the raw response)}
RESULT: statuses, completion, the chunks (or only their count), time to first chunk and total
duration, the final TerminalInfos, or {"error": traceback} if the call itself raised.
The first line it prints is {"ready": true}. It exits when stdin closes.
"""

import asyncio
import importlib
import time
import traceback
from typing import Any

import aiohttp
from bootstrap import LOOPBACK, answer_json_lines, bt, keypair, log
from bt_synapses import SYNAPSE_CLASSES

_dendrites: dict[str, "bt.Dendrite"] = {}


def _dendrite(key: str, fresh: bool) -> "bt.Dendrite":
    if fresh:
        return bt.Dendrite(wallet=keypair(key))
    if key not in _dendrites:
        _dendrites[key] = bt.Dendrite(wallet=keypair(key))
    return _dendrites[key]


def _capturing_dendrite(key: str, raw: dict[str, Any]) -> "bt.Dendrite":
    """A fresh Dendrite whose aiohttp session records status, ordered headers and JSON body.

    bittensor creates its session lazily when ``_session`` is None; giving it one with a trace
    hook beforehand changes nothing else about how it sends or reads.
    """

    async def on_request_end(session: Any, context: Any, params: Any) -> None:
        response = params.response
        raw["status"] = response.status
        raw["headers"] = [
            [k.decode("latin-1"), v.decode("latin-1")] for k, v in response.raw_headers
        ]
        if response.content_type == "application/json":
            raw["body"] = (await response.read()).decode("utf-8")  # aiohttp keeps it for json()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    dendrite = bt.Dendrite(wallet=keypair(key))
    dendrite._session = aiohttp.ClientSession(trace_configs=[trace])
    return dendrite


def _axon_info(target: dict[str, Any]) -> "bt.AxonInfo":
    return bt.AxonInfo(
        version=0,
        ip=target.get("ip", LOOPBACK),
        port=int(target["port"]),
        ip_type=4,
        hotkey=target["hotkey"],
        coldkey=target["hotkey"],
    )


def _terminal(info: Any) -> dict[str, Any] | None:
    return None if info is None else info.model_dump()


async def run_call(call: dict[str, Any]) -> dict[str, Any]:
    """Make one call the way a validator does (``Dendrite.forward`` with one axon)."""
    if call.get("module"):
        cls = getattr(importlib.import_module(call["module"]), call["synapse"])
        synapse = cls(**call.get("fields", {}))
    else:
        cls = SYNAPSE_CLASSES[call["synapse"]]
        fields = {}
        if "prompt" in cls.model_fields:
            fields["prompt"] = call.get("prompt", "")
        if "n_tokens" in cls.model_fields:
            fields["n_tokens"] = int(call.get("n_tokens", 1))
        synapse = cls(**fields)
    streaming = isinstance(synapse, bt.StreamingSynapse)
    raw: dict[str, Any] = {}
    capture_raw = bool(call.get("capture_raw", False))
    fresh = capture_raw or bool(call.get("fresh_dendrite", False))
    key = call.get("key", "validator")
    dendrite = _capturing_dendrite(key, raw) if capture_raw else _dendrite(key, fresh)
    keep_chunks = bool(call.get("keep_chunks", True))
    chunks: list[Any] = []
    n_chunks = 0
    chunk_chars = 0
    first_chunk_s: float | None = None
    final: Any = None
    start = time.perf_counter()
    try:
        if streaming:
            stream = await dendrite.forward(
                axons=_axon_info(call["target"]),
                synapse=synapse,
                timeout=float(call.get("timeout", 12.0)),
                deserialize=False,
                streaming=True,
            )
            async for item in stream:
                if isinstance(item, bt.Synapse):
                    final = item
                    continue
                if first_chunk_s is None:
                    first_chunk_s = time.perf_counter() - start
                n_chunks += 1
                chunk_chars += len(item) if isinstance(item, str) else 0
                if keep_chunks:
                    chunks.append(item)
        else:
            final = await dendrite.forward(
                axons=_axon_info(call["target"]),
                synapse=synapse,
                timeout=float(call.get("timeout", 12.0)),
                deserialize=False,
            )
        duration_s = time.perf_counter() - start
    finally:
        if fresh:
            await dendrite.aclose_session()
    if not isinstance(final, bt.Synapse):
        return {"error": f"no final synapse, got {type(final).__name__}: {final!r}"}
    return {
        "class": type(final).__name__,
        "status_code": final.dendrite.status_code,
        "status_message": final.dendrite.status_message,
        "axon_status_code": final.axon.status_code,
        "axon_status_message": final.axon.status_message,
        "completion": getattr(final, "completion", None),
        "final_fields": final.model_dump(mode="json", exclude={"axon", "dendrite"}),
        "chunks": chunks if keep_chunks else None,
        "n_chunks": n_chunks,
        "chunk_chars": chunk_chars,
        "first_chunk_s": first_chunk_s,
        "duration_s": duration_s,
        "axon": _terminal(final.axon),
        "dendrite": _terminal(final.dendrite),
        "raw": raw if capture_raw else None,
    }


async def _safe_call(call: dict[str, Any]) -> dict[str, Any]:
    try:
        return await run_call(call)
    except Exception:  # report, keep serving the next request
        return {"error": traceback.format_exc()}


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    calls = request["calls"]
    if request.get("concurrent"):
        results = await asyncio.gather(*(_safe_call(call) for call in calls))
    else:
        results = [await _safe_call(call) for call in calls]
    return {"results": list(results)}


async def main() -> None:
    await answer_json_lines({"ready": True, "version": bt.__version__}, handle)
    for dendrite in _dendrites.values():
        await dendrite.aclose_session()
    log("dendrite client: stdin closed, exiting")


if __name__ == "__main__":
    asyncio.run(main())
