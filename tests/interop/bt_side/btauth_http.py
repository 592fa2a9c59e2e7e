"""bittensor 11's ``http_auth`` over real HTTP, both roles, in one process (bittensor 11.3.0 venv).

bittensor 11 ships no server and no client, and its venv has no aiohttp, httpx, fastapi or
uvicorn: this script uses the standard library only. The loopback guard is installed before
bittensor is imported.

Arguments: ``--seed 0x...`` (the server's hotkey), ``--stream-tokens N``, ``--send-interval S``.

**Server.** A ``ThreadingHTTPServer`` on 127.0.0.1 (free port, HTTP/1.1 keep-alive). Every
request is checked by ``http_auth.verify(headers, raw body, method=<as received>, path=<the
request target as received, query included>, self_hotkey_ss58=<the seed's ss58>,
require_receiver=True, nonce_store=<its own InMemoryNonceStore>)``. A refusal is
``{"message": "btauth/1: <ExceptionClass>: <its message>"}`` with 400 for ``MalformedAuth``,
421 for ``WrongReceiver``, 401 for the other ``AuthError``s. A verified request is then served
on the HTTP wire of synapsegen's ``http_wire`` (``POST /<ClassName>``, path without the query):

- ``/AvailabilitySynapse``: request fields ``{"tasks"}``, answer ``common.availability_answer``
  as ``application/json``;
- ``/PromptingSynapse``: request fields ``{"messages", "seed", "model"}``, answer
  ``common.token_bytes(<last message>, N)`` as ``text/plain; charset=utf-8``, chunked, one piece
  (cut inside a character) per chunk.

A body that is no JSON object of those fields gets 422, a Content-Type other than
``application/json`` 415, another path 404.

**Client.** ``http_auth.sign`` and ``urllib.request`` (as a bittensor 11 user would write it;
no proxies).

Protocol (JSON lines): a ready line ``{"version", "port", "hotkey", "keys": {name: ss58}}``, then
one answer per request line:

- ``{"op": "take_log"}`` -> ``{"log": [...]}``: the server's requests since the last take, each
  ``{"method", "target", "header_names", "status" (or "cut"), "refused": <exception class or null>,
  "served": <route or null>}``;
- ``{"op": "post", "port", "target", "body_hex", "key", "receiver", "nonce_ns", "sign_target",
  "claim", "send_body_hex", "content_type", "times"}`` -> ``{"sent_headers": [[name, value]],
  "answers": [{"status", "headers", "body_hex"}]}``: the request signed with ``key`` for
  ``sign_target`` (default ``target``) and ``body_hex``, then (optionally) the hotkey header
  changed to the key ``claim`` and the body changed to ``send_body_hex``, sent ``times`` times
  (the same bytes each time) to ``target``.
"""

import os
import sys

import guard

guard.install()

# The JSON channel is a private copy of stdout; fd 1 goes to stderr (anything bittensor prints).
_json_channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
sys.stdout.flush()
os.dup2(2, 1)

import argparse  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import bittensor  # noqa: E402
from bittensor import http_auth  # noqa: E402
from bittensor.sp_core import Keypair  # noqa: E402
from common import KEY_SEEDS, availability_answer, token_bytes  # noqa: E402

LOOPBACK = "127.0.0.1"
KEYS = {name: Keypair.create_from_seed(bytes.fromhex(seed[2:])) for name, seed in KEY_SEEDS.items()}
STATUS_OF = {http_auth.MalformedAuth: 400, http_auth.WrongReceiver: 421}
REQUEST_FIELDS = {
    "AvailabilitySynapse": frozenset({"tasks"}),
    "PromptingSynapse": frozenset({"messages", "seed", "model"}),
}
MAX_BODY_BYTES = 1 << 20


def emit(message: dict[str, Any]) -> None:
    _json_channel.write(json.dumps(message) + "\n")
    _json_channel.flush()


class Server:
    """What the handler needs: the own hotkey, the nonce store, the settings and the log."""

    def __init__(self, keypair: Keypair, stream_tokens: int, send_interval: float) -> None:
        self.hotkey = keypair.ss58_address
        self.nonce_store = http_auth.InMemoryNonceStore()
        self.stream_tokens = stream_tokens
        self.send_interval = send_interval
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)

    def take_log(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.log = self.log, []
        return taken


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def handler_class(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        _entry: dict[str, Any]
        _recorded = False
        _streaming = False

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib's name)
            sys.stderr.write("btauth_http: " + (format % args) + "\n")

        def _record(self) -> None:
            """Log this request, once: before the last byte of the answer is written, so a
            client that has its answer finds the request in the log."""
            if not self._recorded:
                self._recorded = True
                server.record(self._entry)

        def _json(self, status: int, data: dict[str, Any]) -> None:
            body = json.dumps(data).encode()
            self._entry["status"] = status
            self._record()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                raise Refusal(411, "send the body with a Content-Length")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise Refusal(413, "body too large")
            return self.rfile.read(length)

        def _request_fields(self, route: str, body: bytes) -> dict[str, Any]:
            content_type = self.headers.get_content_type()
            if content_type != "application/json":
                raise Refusal(415, f"Content-Type must be application/json, got {content_type}")
            try:
                data = json.loads(body) if body else {}
            except ValueError as exc:
                raise Refusal(400, f"the request body is not valid JSON: {exc}") from None
            if not isinstance(data, dict) or not set(data) <= REQUEST_FIELDS[route]:
                raise Refusal(422, f"not a JSON object of request fields of {route}")
            return data

        def _stream(self, pieces: list[bytes]) -> None:
            self._streaming = True
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for index, piece in enumerate(pieces):
                if index and server.send_interval > 0:
                    time.sleep(server.send_interval)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self._record()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _serve(self) -> None:
            entry = self._entry
            body = self._read_body()
            try:
                http_auth.verify(
                    self.headers,
                    body,
                    method=self.command,
                    path=self.path,
                    self_hotkey_ss58=server.hotkey,
                    require_receiver=True,
                    nonce_store=server.nonce_store,
                )
            except http_auth.AuthError as exc:
                entry["refused"] = type(exc).__name__
                status = STATUS_OF.get(type(exc), 401)
                raise Refusal(status, f"btauth/1: {type(exc).__name__}: {exc}") from None
            route = urlsplit(self.path).path.lstrip("/")
            if self.command != "POST" or route not in REQUEST_FIELDS:
                raise Refusal(404, f"no route {self.command} {self.path}")
            fields = self._request_fields(route, body)
            entry["served"] = route
            if route == "AvailabilitySynapse":
                self._json(200, availability_answer(list(fields.get("tasks", []))))
            else:
                messages = fields.get("messages") or [""]
                entry["status"] = 200
                self._stream(token_bytes(str(messages[-1]), server.stream_tokens))

        def _handle(self) -> None:
            self._recorded = self._streaming = False
            self._entry = {
                "method": self.command,
                "target": self.path,
                "header_names": list(self.headers.keys()),
                "status": None,
                "refused": None,
                "served": None,
            }
            try:
                self._serve()
            except Refusal as refusal:
                self._json(refusal.status, {"message": str(refusal)})
            except Exception as exc:  # noqa: BLE001 - answered and logged, the server keeps going
                traceback.print_exc()
                if self._streaming:  # the answer has begun: cut it (no final chunk)
                    self._entry["status"] = "cut"
                    self.close_connection = True
                else:
                    self._json(500, {"message": f"{type(exc).__name__}: {exc}"})
            finally:
                self._record()

        do_POST = _handle
        do_GET = _handle
        do_PUT = _handle

    return Handler


def post(request: dict[str, Any]) -> dict[str, Any]:
    body = bytes.fromhex(request["body_hex"])
    target = request["target"]
    headers = http_auth.sign(
        KEYS[request.get("key", "validator")],
        method="POST",
        path=request.get("sign_target") or target,
        body=body,
        receiver_ss58=request.get("receiver"),
        nonce_ns=request.get("nonce_ns"),
    )
    if request.get("claim"):
        headers[http_auth.HEADER_HOTKEY] = KEYS[request["claim"]].ss58_address
    if request.get("content_type", "application/json") is not None:
        headers["Content-Type"] = request.get("content_type", "application/json")
    sent = bytes.fromhex(request.get("send_body_hex") or request["body_hex"])
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://{LOOPBACK}:{int(request['port'])}{target}"
    answers = []
    sent_headers: list[list[str]] = []
    for _ in range(int(request.get("times", 1))):
        outgoing = urllib.request.Request(url, data=sent, headers=headers, method="POST")
        try:
            with opener.open(outgoing, timeout=30) as response:
                status, answer_headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer_headers, data = error.code, error.headers, error.read()
        # What urllib put on the wire (it spells names as str.capitalize() does).
        sent_headers = [[name, value] for name, value in outgoing.header_items()]
        answers.append(
            {
                "status": status,
                "headers": [[name, value] for name, value in answer_headers.items()],
                "body_hex": data.hex(),
            }
        )
    return {"sent_headers": sent_headers, "answers": answers}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", required=True)
    parser.add_argument("--stream-tokens", type=int, default=5)
    parser.add_argument("--send-interval", type=float, default=0.0)
    args = parser.parse_args()
    keypair = Keypair.create_from_seed(bytes.fromhex(args.seed.removeprefix("0x")))
    server = Server(keypair, args.stream_tokens, args.send_interval)
    httpd = ThreadingHTTPServer((LOOPBACK, 0), handler_class(server))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    emit(
        {
            "version": bittensor.__version__,
            "port": httpd.server_address[1],
            "hotkey": server.hotkey,
            "keys": {name: key.ss58_address for name, key in KEYS.items()},
        }
    )
    ops = {"take_log": lambda _request: {"log": server.take_log()}, "post": post}
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                request = json.loads(line)
                reply = ops[request["op"]](request)
            except Exception:
                reply = {"error": traceback.format_exc()}
            emit(reply)
    finally:
        httpd.shutdown()
        httpd.server_close()


main()
