"""Plain HTTP requests from the bittensor venv (run there), e.g. for an Axon's manifest.

Reads one JSON request per line on stdin and answers one JSON line on stdout:

    {"url": URL, "method": "GET", "client": "bt_session" | "urllib",
     "module": optional module of generated classes, "classes": [class names]}
    ->  {"status": int, "content_type": str, "body": text,
         "hashes": {class name: its schema_hash, or null}}

``bt_session`` is the aiohttp session of a real ``bittensor.Dendrite`` (``await
dendrite.session``: what a bittensor validator has at hand); ``urllib`` is the standard
library's client. ``hashes`` reads ``schema_hash`` off classes imported here (e.g. generated
with ``--runtime bittensor``). The first line it prints is {"ready": true}. It exits when stdin
closes.
"""

import asyncio
import importlib
import urllib.error
import urllib.request
from typing import Any

from bootstrap import answer_json_lines, bt, keypair

_dendrite: "bt.Dendrite | None" = None


async def _with_bt_session(method: str, url: str) -> dict[str, Any]:
    global _dendrite
    if _dendrite is None:
        _dendrite = bt.Dendrite(wallet=keypair("validator"))
    session = await _dendrite.session
    async with session.request(method, url) as response:
        body = await response.read()
        return {
            "status": response.status,
            "content_type": response.headers.get("Content-Type", ""),
            "body": body.decode("utf-8"),
        }


def _with_urllib(method: str, url: str) -> dict[str, Any]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read()
    return {
        "status": status,
        "content_type": headers.get("Content-Type", ""),
        "body": body.decode("utf-8"),
    }


async def handle(request: dict[str, Any]) -> dict[str, Any]:
    method, url = request.get("method", "GET"), request["url"]
    if request.get("client") == "urllib":
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, _with_urllib, method, url)
    else:
        answer = await _with_bt_session(method, url)
    hashes: dict[str, Any] = {}
    if request.get("module"):
        module = importlib.import_module(request["module"])
        for name in request.get("classes", []):
            hashes[name] = getattr(getattr(module, name), "schema_hash", None)
    answer["hashes"] = hashes
    answer["bittensor"] = bt.__version__
    return answer


if __name__ == "__main__":
    asyncio.run(answer_json_lines({"ready": True}, handle))
