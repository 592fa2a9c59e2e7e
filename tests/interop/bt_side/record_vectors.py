"""Record the wire vectors of tests/vectors/ against the bittensor installed in this venv.

Usage: python record_vectors.py --spec DIR --out DIR   (tests/interop/record_vectors.py runs it)

The recorded files of ``--spec`` (bittensor 10.5.0's) are read as the list of cases: each case's
inputs (class, field values, fixed nonces and uuids, the trigger that alters a request, the
scripted server's bytes) are replayed on this bittensor, and every output is recorded anew in the
same format: header encoding, body hashes, signature checks, requests captured from a real
Dendrite, raw exchanges with a real Axon and what a real Dendrite records for client-side
failures. Each file gets ``version_comparison`` against its spec file (version_as_int and sr25519
signatures normalized, as the spec files compare 10.5.0 with 10.2.0).

Everything runs on 127.0.0.1 (bootstrap installs the loopback guard). sr25519 signing is
randomized: a signature the spec files hold for the same key and message is reused, so reruns
stay byte-identical.
"""

import argparse
import asyncio
import base64
import contextlib
import copy
import hashlib
import importlib.metadata
import json
import platform
import re
import socket
import sys
import threading
import time
import types
import warnings
from pathlib import Path
from typing import Any

import aiohttp
import bittensor.core.dendrite as bt_dendrite_module
from bittensor.core.settings import version_as_int as VERSION_INT  # noqa: E402, N811
from bittensor_wallet import Keypair
from bootstrap import LOOPBACK, bt, keypair, log, wallet_for
from pydantic import ValidationError
from vector_classes import ClassBuilder, attach_vector_handlers, header_classes

DENDRITE_UUID = "5f0b6a2e-8a4d-11ef-8c1e-0242ac110002"
AXON_UUID = "6a1c7b3f-8a4d-11ef-8c1e-0242ac110003"
STALE_UUID = "7b2d8c40-8a4d-11ef-8c1e-0242ac110004"
EXTERNAL_IP = "203.0.113.7"
FIXED_NONCE = 1700000000123456789
SIGNATURE_RE = re.compile(r"0x[0-9a-fA-F]{128}")
ERROR_UUID_RE = re.compile(r"Internal Server Error #([0-9a-f-]{36})")
AGE_RE = re.compile(r"request was (\d+\.\d+) seconds old")
SOCKET_TIMEOUT_S = 10.0
SPEC_LISTENER_PORT = 47812  # where signatures.json's signed requests were captured

warnings.simplefilter("ignore")  # the legacy hash-field form warns by design


# --------------------------------------------------------------------------------------------
# Environment, signatures, small helpers
# --------------------------------------------------------------------------------------------


def _version(package: str) -> str:
    return importlib.metadata.version(package)


def environment() -> dict[str, Any]:
    """The exact package versions of this recording (same keys as the spec files)."""
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "bittensor": bt.__version__,
        "bittensor-wallet": _version("bittensor-wallet"),
        "pydantic": _version("pydantic"),
        "pydantic-core": _version("pydantic-core"),
        "aiohttp": _version("aiohttp"),
        "fastapi": _version("fastapi"),
        "starlette": _version("starlette"),
        "uvicorn": _version("uvicorn"),
        "version_as_int": VERSION_INT,
    }


def environment_text(env: dict[str, Any]) -> str:
    return (
        f"bittensor {env['bittensor']} package (bittensor-wallet {env['bittensor-wallet']}, "
        f"pydantic {env['pydantic']}, aiohttp {env['aiohttp']}, fastapi {env['fastapi']}, "
        f"starlette {env['starlette']}, uvicorn {env['uvicorn']}, "
        f"{env['python_implementation']} {env['python']})"
    )


KEYS = {name: keypair(name) for name in ("validator", "miner", "other")}
KEYS["alice"] = Keypair.create_from_uri("//Alice")
KEY_BY_SS58 = {pair.ss58_address: pair for pair in KEYS.values()}


class SignatureCache:
    """Signatures found in the spec files, reused when they verify for the same key and message."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str], list[str]] = {}

    def learn(self, ss58: str | None, message: str | None, signature: str | None) -> None:
        if ss58 and message and signature and SIGNATURE_RE.fullmatch(signature):
            self._known.setdefault((ss58, message), []).append(signature)

    def sign(self, pair: Any, message: str) -> str:
        for signature in self._known.get((pair.ss58_address, message), []):
            with contextlib.suppress(Exception):
                if pair.verify(message, signature):
                    return signature
        signature = "0x" + pair.sign(message).hex()
        self.learn(pair.ss58_address, message, signature)
        return signature


SIGNATURES = SignatureCache()


class CachedSigner:
    """A keypair whose ``sign`` reuses a known signature for the same message (for Dendrites)."""

    def __init__(self, pair: Any) -> None:
        self._pair = pair
        self.ss58_address = pair.ss58_address

    def sign(self, message: Any) -> bytes:
        return bytes.fromhex(SIGNATURES.sign(self._pair, message)[2:])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pair, name)


def error_dict(exc: BaseException) -> dict[str, Any]:
    """How the spec files describe an exception."""
    if isinstance(exc, ValidationError):
        return {
            "type": "ValidationError",
            "message": str(exc).splitlines()[0],
            "errors": [
                {"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()
            ],
        }
    found: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc)}
    if exc.__cause__ is not None:
        found["cause"] = {"type": type(exc.__cause__).__name__, "message": str(exc.__cause__)}
    return found


def encoded(data: bytes) -> dict[str, str]:
    """``{'encoding': 'utf-8', 'data': text}``, or base64 for bytes that are not valid UTF-8."""
    try:
        return {"encoding": "utf-8", "data": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"encoding": "base64", "data": base64.b64encode(data).decode("ascii")}


def in_spec_order(spec: dict[str, Any], recorded: dict[str, Any]) -> dict[str, Any]:
    """``recorded`` with the spec's key order (keys only one side has: theirs, then ours)."""
    ordered = {key: recorded[key] for key in spec if key in recorded}
    ordered.update({key: value for key, value in recorded.items() if key not in ordered})
    return ordered


def with_version(info: dict[str, Any] | None) -> dict[str, Any] | None:
    """A spec's TerminalInfo values with the version set to this release's version_as_int."""
    if info is None:
        return None
    info = dict(info)
    if info.get("version") is not None:
        info["version"] = VERSION_INT
    return info


def sha3(text: str) -> str:
    return hashlib.sha3_256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# headers.json
# --------------------------------------------------------------------------------------------


def dump_or_error(build: Any) -> dict[str, Any]:
    try:
        synapse = build()
    except Exception as exc:
        return {"ok": False, "error": error_dict(exc)}
    return {"ok": True, "model_dump_json": synapse.model_dump(mode="json")}


def record_header_case(case: dict[str, Any], classes: dict[str, type]) -> dict[str, Any]:
    cls = classes[case["class"]]
    synapse = cls(**case["values"])
    synapse.timeout = case["timeout"]
    dendrite, axon = with_version(case.get("dendrite")), with_version(case.get("axon"))
    if dendrite is not None:
        synapse.dendrite = bt.TerminalInfo(**dendrite)
    if axon is not None:
        synapse.axon = bt.TerminalInfo(**axon)
    out: dict[str, Any] = {key: case[key] for key in ("id", "class", "note", "values", "timeout")}
    body_hash = synapse.body_hash
    d, a = synapse.dendrite, synapse.axon
    if "signature_message" in case:
        message = f"{d.nonce}.{d.hotkey}.{a.hotkey}.{d.uuid}.{body_hash}"
        synapse.dendrite.signature = dendrite["signature"] = SIGNATURES.sign(
            KEY_BY_SS58[d.hotkey], message
        )
        out["signature_message"] = message
    if "axon_signature_message" in case:
        message = f"{a.nonce}.{d.hotkey}.{a.hotkey}.{a.uuid}"
        synapse.axon.signature = axon["signature"] = SIGNATURES.sign(KEY_BY_SS58[a.hotkey], message)
        out["axon_signature_message"] = message
    if dendrite is not None:
        out["dendrite"] = dendrite
    if axon is not None:
        out["axon"] = axon
    out["body_hash"] = body_hash
    synapse.get_total_size()  # as every real flow does before to_headers()
    try:
        headers = synapse.to_headers()
    except Exception as exc:
        out["to_headers_error"] = error_dict(exc)
        out["model_dump_json"] = synapse.model_dump(mode="json")
        return in_spec_order(case, out)
    out["headers"] = [[name, value] for name, value in headers.items()]
    out["model_dump_json"] = synapse.model_dump(mode="json")
    out["post_body"] = json.dumps(synapse.model_dump())
    out["from_headers"] = dump_or_error(lambda: cls.from_headers(dict(headers)))
    out["base_synapse_from_headers"] = dump_or_error(lambda: bt.Synapse.from_headers(dict(headers)))
    return in_spec_order(case, out)


def record_headers(spec: dict[str, Any], classes: dict[str, type]) -> dict[str, Any]:
    data = copy.deepcopy(spec)
    data["conventions"]["version"] = (
        f"TerminalInfo.version is set to the recording release's version_as_int ({VERSION_INT})"
    )
    data["cases"] = [record_header_case(case, classes) for case in spec["cases"]]
    return data


# --------------------------------------------------------------------------------------------
# body_hash.json
# --------------------------------------------------------------------------------------------


def record_hash_vector(vector: dict[str, Any], builder: ClassBuilder) -> dict[str, Any]:
    cls = builder.synapse_class(
        vector["class_name"],
        [{**f, "required": True} for f in vector["fields"]],
        hash_fields=vector["required_hash_fields"],
        hash_fields_form=vector["hash_fields_form"],
    )
    python_strs = {h["field"]: h["python_str"] for h in vector.get("hash_inputs", [])}
    values = {
        f["name"]: builder.value_for(f["type"], f["value"], python_strs.get(f["name"]))
        for f in vector["fields"]
    }
    synapse = cls(**values)
    keys = ("id", "note", "class_name", "hash_fields_form", "required_hash_fields", "fields")
    out: dict[str, Any] = {key: vector[key] for key in keys}
    try:
        body_hash = synapse.body_hash
    except Exception as exc:
        out["expected_error"] = {"type": type(exc).__name__, "message": str(exc)}
        return in_spec_order(vector, out)
    dumped = synapse.model_dump()
    cached = type(synapse).required_hash_fields  # bittensor caches the legacy form's order here
    if isinstance(cached, (tuple, list)):
        effective = list(cached)
    else:
        effective = [name for name in dumped if name in vector["required_hash_fields"]]
    out["effective_hash_fields"] = effective
    out["hash_inputs"] = [
        {"field": name, "python_str": str(dumped[name]), "sha3_256": sha3(str(dumped[name]))}
        for name in effective
    ]
    out["expected_body_hash"] = body_hash
    try:
        received = cls(**json.loads(json.dumps(synapse.model_dump())))
        out["survives_json_roundtrip"] = received.body_hash == body_hash
    except Exception:
        out["survives_json_roundtrip"] = False
    return in_spec_order(vector, out)


def record_body_hash(spec: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(spec)
    builder = ClassBuilder(spec["definitions"])
    data["vectors"] = [record_hash_vector(vector, builder) for vector in spec["vectors"]]
    return data


# --------------------------------------------------------------------------------------------
# signatures.json
# --------------------------------------------------------------------------------------------


def record_keypair(entry: dict[str, Any]) -> dict[str, Any]:
    if entry["source"] == "mnemonic":
        pair = Keypair.create_from_mnemonic(entry["mnemonic"])
    elif entry["source"] == "uri":
        pair = Keypair.create_from_uri(entry["uri"])
    else:
        pair = Keypair.create_from_seed(entry["seed_hex"])
    out = dict(entry)  # seed and private key are inputs (the wallet does not expose them)
    out["public_key_hex"] = "0x" + bytes(pair.public_key).hex()
    out["ss58_address"] = pair.ss58_address
    out["ss58_format"] = pair.ss58_format
    out["crypto_type"] = {1: "sr25519"}.get(pair.crypto_type, str(pair.crypto_type))
    return out


def record_sign_verify(vector: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in vector.items() if key not in ("expected", "error")}
    verifier = Keypair(ss58_address=vector["verify_ss58"])
    try:
        out["expected"] = bool(verifier.verify(vector["verify_message"], vector["signature"]))
    except Exception as exc:
        out["expected"] = "error"
        out["error"] = {"type": type(exc).__name__, "message": str(exc)}
    return in_spec_order(vector, out)


class RawRequestListener:
    """127.0.0.1 listener that records each raw request and answers 404 (connection: close)."""

    ANSWER = (
        b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 23\r\n"
        b'connection: close\r\n\r\n{"message": "recorded"}'
    )

    def __init__(self) -> None:
        self.requests: list[tuple[str, list[list[str]], bytes]] = []
        try:  # the spec's port when it is free, so that reruns give the same bytes
            self._listener = socket.create_server((LOOPBACK, SPEC_LISTENER_PORT))
        except OSError:
            self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with connection:
                connection.settimeout(SOCKET_TIMEOUT_S)
                with contextlib.suppress(OSError, ValueError):
                    self.requests.append(read_request(connection))
                    connection.sendall(self.ANSWER)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


def read_request(connection: socket.socket) -> tuple[str, list[list[str]], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("closed before the end of the head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = [line.split(": ", 1) for line in lines[1:]]
    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return lines[0], headers, body[:length]


@contextlib.contextmanager
def fixed_clock(nonce: int) -> Any:
    """bittensor's dendrite module sees ``time.time_ns() == nonce`` (everything else is real)."""
    real = bt_dendrite_module.time
    fake = types.SimpleNamespace(
        **{n: getattr(time, n) for n in dir(time) if not n.startswith("_")}
    )
    fake.time_ns = lambda: nonce
    bt_dendrite_module.time = fake
    try:
        yield
    finally:
        bt_dendrite_module.time = real


def fixed_dendrite(key: str = "validator") -> Any:
    """A real Dendrite with the spec files' uuid and claimed external IP, signing via the cache."""
    dendrite = bt.Dendrite(wallet=keypair(key))
    dendrite.uuid = DENDRITE_UUID
    dendrite.external_ip = EXTERNAL_IP
    dendrite.keypair = CachedSigner(dendrite.keypair)
    return dendrite


def class_fields(cls: type, body: dict[str, Any]) -> dict[str, Any]:
    """The constructor values of ``cls`` found in a recorded JSON body (no base-class fields)."""
    own = set(cls.model_fields) - set(bt.Synapse.model_fields)
    return {name: value for name, value in body.items() if name in own}


async def record_signed_request(
    entry: dict[str, Any], classes: dict[str, type], listener: RawRequestListener
) -> dict[str, Any]:
    setup = entry["dendrite_setup"]
    cls = classes[entry["class"]]
    synapse = cls(**class_fields(cls, json.loads(entry["body"])))
    target = bt.AxonInfo(
        version=0, ip=LOOPBACK, port=listener.port, ip_type=4,
        hotkey=setup["target_axon"]["hotkey"], coldkey=setup["target_axon"]["hotkey"],
    )  # fmt: skip
    dendrite = fixed_dendrite(setup["keypair"])
    before = len(listener.requests)
    try:
        with fixed_clock(setup["nonce"]):
            if isinstance(synapse, bt.StreamingSynapse):
                async for _ in dendrite.call_stream(target, synapse, timeout=entry["timeout"]):
                    pass
            else:
                await dendrite.call(target, synapse, timeout=entry["timeout"], deserialize=False)
    finally:
        await dendrite.aclose_session()
    request_line, headers, body = listener.requests[before]
    setup = copy.deepcopy(setup)
    setup["target_axon"]["port"] = listener.port
    named = {name: value for name, value in headers}
    d = bt.TerminalInfo(
        nonce=int(named["bt_header_dendrite_nonce"]), hotkey=named["bt_header_dendrite_hotkey"],
        uuid=named["bt_header_dendrite_uuid"],
    )  # fmt: skip
    recomputed = cls(**json.loads(body)).body_hash
    message = f"{d.nonce}.{d.hotkey}.{named['bt_header_axon_hotkey']}.{d.uuid}.{recomputed}"
    signature = named["bt_header_dendrite_signature"]
    out = {
        "id": entry["id"],
        "description": entry["description"],
        "class": entry["class"],
        "timeout": entry["timeout"],
        "dendrite_setup": setup,
        "request_line": request_line,
        "headers": headers,
        "body": body.decode("utf-8"),
        "expected": {
            "signature_message": message,
            "signature_valid": bool(Keypair(ss58_address=d.hotkey).verify(message, signature)),
            "body_hash_recomputed_from_body": recomputed,
            "body_hash_matches_header": recomputed == named.get("computed_body_hash"),
            "from_headers": dump_or_error(lambda: cls.from_headers(named)),
        },
    }
    return in_spec_order(entry, out)


async def record_signed_requests(spec: dict[str, Any], classes: dict[str, type]) -> list[Any]:
    listener = RawRequestListener()
    try:
        return [await record_signed_request(e, classes, listener) for e in spec["signed_requests"]]
    finally:
        listener.close()


def record_signatures(spec: dict[str, Any], classes: dict[str, type]) -> dict[str, Any]:
    data = copy.deepcopy(spec)
    data["keypairs"] = [record_keypair(entry) for entry in spec["keypairs"]]
    data["sign_verify"] = [record_sign_verify(vector) for vector in spec["sign_verify"]]
    data["signed_requests"] = asyncio.run(record_signed_requests(spec, classes))
    return data


# --------------------------------------------------------------------------------------------
# A real Axon serving the vectors' classes
# --------------------------------------------------------------------------------------------


class VectorAxon:
    """bittensor's Axon (in this process, its own thread) serving the vectors' classes."""

    def __init__(self, classes: dict[str, type]) -> None:
        self.sends: list[list[bytes]] = []
        self.axon = bt.Axon(
            wallet=wallet_for("miner"), ip=LOOPBACK, external_ip=LOOPBACK, port=8091
        )
        self.axon.uuid = AXON_UUID
        attach_vector_handlers(self.axon, classes, self.sends)
        self.axon.fast_config.host = LOOPBACK
        self.axon.fast_config.port = 0
        self.axon.start()
        server = self.axon.fast_server
        deadline = time.monotonic() + 20
        while not (server.started and getattr(server, "servers", None)):
            if time.monotonic() > deadline:
                raise TimeoutError("bittensor axon did not start")
            time.sleep(0.01)
        self.port: int = server.servers[0].sockets[0].getsockname()[1]
        self.hotkey: str = self.axon.wallet.hotkey.ss58_address

    def info(self, hotkey: str | None = None) -> Any:
        return bt.AxonInfo(
            version=0, ip=LOOPBACK, port=self.port, ip_type=4,
            hotkey=hotkey or self.hotkey, coldkey=self.hotkey,
        )  # fmt: skip

    def stop(self) -> None:
        self.axon.stop()


# --------------------------------------------------------------------------------------------
# responses.json
# --------------------------------------------------------------------------------------------


def build_request(
    axon: VectorAxon, cls: type, values: dict[str, Any], timeout: float
) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """What a real Dendrite sends: (synapse, to_headers(), model_dump())."""
    dendrite = fixed_dendrite()
    synapse = dendrite.preprocess_synapse_for_request(axon.info(), cls(**values), timeout)
    synapse.get_total_size()  # as Dendrite.call's log line does
    return synapse, synapse.to_headers(), synapse.model_dump()


def wire_request(
    route: str, port: int, headers: list[list[str]], body: bytes, content_type: str
) -> tuple[str, list[list[str]], bytes]:
    """The request line and headers exactly as aiohttp writes them for ``post(json=...)``."""
    user_agent = f"Python/{sys.version_info[0]}.{sys.version_info[1]} aiohttp/{aiohttp.__version__}"
    all_headers = [
        ["Host", f"{LOOPBACK}:{port}"],
        *headers,
        ["Accept", "*/*"],
        ["Accept-Encoding", "gzip, deflate"],
        ["User-Agent", user_agent],
        ["Content-Length", str(len(body))],
        ["Content-Type", content_type],
    ]
    return f"POST /{route} HTTP/1.1", all_headers, body


def exchange(
    port: int, request: tuple[str, list[list[str]], bytes], repeat: int = 1
) -> dict[str, Any]:
    """Send the raw request ``repeat`` times (one connection each); return the last response."""
    line, headers, body = request
    raw = (line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode(
        "latin-1"
    ) + body
    response: dict[str, Any] = {}
    for _ in range(repeat):
        with socket.create_connection((LOOPBACK, port), timeout=SOCKET_TIMEOUT_S) as connection:
            connection.sendall(raw)
            response = read_response(connection)
            response["client_port"] = connection.getsockname()[1]
    return response


def read_response(connection: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            raise ValueError("closed before the end of the response head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = [line.split(": ", 1) for line in lines[1:]]
    named = {k.lower(): v for k, v in headers}
    out: dict[str, Any] = {
        "status_line": lines[0],
        "status": int(lines[0].split(" ")[1]),
        "headers": headers,
    }
    if named.get("transfer-encoding") == "chunked":
        while True:  # until the terminating chunk, or the peer closes (an aborted body)
            if rest.endswith(b"0\r\n\r\n") and _chunks(rest)[1]:
                break
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            rest += chunk
        chunks, complete = _chunks(rest)
        out["body"] = encoded(rest)
        out["chunked"] = True
        out["chunks"] = [encoded(chunk) for chunk in chunks]
        out["payload"] = encoded(b"".join(chunks))
        if not complete:
            out["complete"] = False
    else:
        length = int(named.get("content-length", "0"))
        while len(rest) < length:
            chunk = connection.recv(65536)
            if not chunk:
                break
            rest += chunk
        out["body"] = encoded(rest)
    return out


def _chunks(data: bytes) -> tuple[list[bytes], bool]:
    """The chunk payloads of a chunked body, and whether it ended with the zero-length chunk."""
    chunks: list[bytes] = []
    while True:
        line_end = data.find(b"\r\n")
        if line_end < 0:
            return chunks, False
        size = int(data[:line_end].split(b";")[0], 16)
        if size == 0:
            return chunks, data[line_end + 2 :] == b"\r\n"
        start = line_end + 2
        if len(data) < start + size + 2:
            return chunks, False
        chunks.append(data[start : start + size])
        data = data[start + size + 2 :]


def _header(pairs: list[list[str]], name: str) -> str | None:
    return next((value for key, value in pairs if key.lower() == name), None)


class Placeholders:
    """Replace a recorded exchange's volatile values by the spec files' placeholders."""

    ORDER = [
        "<nonce>", "<signature>", "<axon_nonce>", "<axon_signature>", "<process_time>", "<date>",
        "<axon_port>", "<client_port>", "<port>", "<error_uuid>", "<age_seconds>",
        "<content_length>",
    ]  # fmt: skip
    # Placeholders whose real values vary in length: a body holding one gets <content_length>.
    VARIABLE_LENGTH = frozenset(
        {"<process_time>", "<axon_port>", "<client_port>", "<port>", "<age_seconds>"}
    )

    def __init__(self) -> None:
        self.text: dict[str, str] = {}  # exact text -> placeholder (long, unique values)
        self.by_header: dict[str, str] = {}  # header name -> placeholder (whole value)
        self.json_numbers: dict[str, tuple[str, str]] = {}  # JSON key -> (number, placeholder)
        self.used: set[str] = set()

    def value(self, text: str | None, placeholder: str) -> None:
        if text:
            self.text[text] = placeholder

    def header(self, name: str, placeholder: str) -> None:
        self.by_header[name] = placeholder

    def number(self, key: str, number: Any, placeholder: str) -> None:
        if number is not None:
            self.json_numbers[key] = (str(number), placeholder)

    def apply(self, text: str) -> str:
        for value, placeholder in self.text.items():
            if value in text:
                text = text.replace(value, placeholder)
                self.used.add(placeholder)
        for match in ERROR_UUID_RE.finditer(text):
            text = text.replace(match.group(1), "<error_uuid>")
            self.used.add("<error_uuid>")
        if AGE_RE.search(text):
            text = AGE_RE.sub("request was <age_seconds> seconds old", text)
            self.used.add("<age_seconds>")
        for key, (number, placeholder) in self.json_numbers.items():
            pattern = re.compile(rf'("{key}":\s?){re.escape(number)}(?=[,}}])')
            if pattern.search(text):
                text = pattern.sub(lambda m, p=placeholder: m.group(1) + p, text)
                self.used.add(placeholder)
        return text

    def headers(self, pairs: list[list[str]]) -> list[list[str]]:
        out = []
        for name, value in pairs:
            placeholder = self.by_header.get(name.lower())
            if placeholder == "<axon_port>" and name.lower() == "host":
                value = value.rsplit(":", 1)[0] + ":<axon_port>"
                self.used.add(placeholder)
            elif placeholder is not None:
                value = placeholder
                self.used.add(placeholder)
            else:
                value = self.apply(value)
            out.append([name, value])
        return out

    def body(self, body: dict[str, str]) -> tuple[dict[str, str], bool]:
        """The body with placeholders, and whether a variable-length value was replaced."""
        if body["encoding"] != "utf-8":
            return body, False
        before = set(self.used)
        self.used = set()
        text = self.apply(body["data"])
        replaced, self.used = self.used, before | self.used
        return {"encoding": "utf-8", "data": text}, bool(replaced & self.VARIABLE_LENGTH)

    def volatile(self) -> list[str]:
        return [p for p in self.ORDER if p in self.used]


def _mutations(case_id: str) -> dict[str, Any]:
    """How each case of responses.json alters the request a Dendrite built (its 'trigger')."""
    return {
        "unknown_route_404": {"route": "Nope"},
        "missing_nonce_401": {"drop": "bt_header_dendrite_nonce"},
        "bad_signature_401": {"set": ("bt_header_dendrite_signature", "0x" + "0" * 128)},
        "malformed_signature_401": {"set": ("bt_header_dendrite_signature", "0x1234")},
        "missing_signature": {"drop": "bt_header_dendrite_signature"},
        "missing_hotkey_401": {"drop": "bt_header_dendrite_hotkey"},
        "stale_nonce_401": {"stale": 17},
        "replayed_nonce_401": {"repeat": 2},
        "body_hash_mismatch_500": {"body_set": ("prompt", "tampered")},
        "unparseable_header_500": {"set": ("bt_header_dendrite_nonce", "abc")},
        "non_json_content_type_500": {"content_type": "text/plain"},
        "body_missing_required_field_500": {"body_drop": "prompt"},
        "malformed_json_422": {"raw_body": b"{not json"},
    }.get(case_id, {})


def _spec_values(case: dict[str, Any], cls: type, examples: dict[str, Any]) -> dict[str, Any]:
    text = case["request"]["body"]["data"]
    for placeholder, example in examples.items():
        text = text.replace(placeholder, str(example["example"]))
    try:
        return class_fields(cls, json.loads(text))
    except ValueError:
        return {"prompt": "hi"}  # the malformed-JSON case: the Dendrite built TextPrompt('hi')


def record_response_case(
    case: dict[str, Any], axon: VectorAxon, classes: dict[str, type], spec: dict[str, Any]
) -> dict[str, Any]:
    route = case["request"]["request_line"].split(" ")[1].lstrip("/")
    cls = classes[route] if route in classes else classes["TextPrompt"]
    values = _spec_values(case, cls, spec["placeholders"])
    mutation = _mutations(case["id"])
    if "body_set" in mutation:  # the recorded body is the altered one; the Dendrite signed 'hi'
        values[mutation["body_set"][0]] = "hi"
    if "prompt" in cls.model_fields and "prompt" not in values:
        values["prompt"] = "hi"  # the body-missing-field case dropped it after building
    timeout = float(_header(case["request"]["headers"], "timeout") or 12.0)
    sends_before = len(axon.sends)
    synapse, headers, body = build_request(axon, cls, values, timeout)
    if "stale" in mutation:
        d = synapse.dendrite
        nonce = time.time_ns() - mutation["stale"] * 1_000_000_000
        message = f"{nonce}.{d.hotkey}.{synapse.axon.hotkey}.{STALE_UUID}.{synapse.body_hash}"
        headers.update(
            bt_header_dendrite_nonce=str(nonce),
            bt_header_dendrite_uuid=STALE_UUID,
            bt_header_dendrite_signature=SIGNATURES.sign(KEYS["validator"], message),
        )
    if "drop" in mutation:
        headers.pop(mutation["drop"])
    if "set" in mutation:
        name, value = mutation["set"]
        headers[name] = value
    if "body_set" in mutation:
        body[mutation["body_set"][0]] = mutation["body_set"][1]
    if "body_drop" in mutation:
        body.pop(mutation["body_drop"])
    raw_body = mutation.get("raw_body", json.dumps(body).encode("utf-8"))
    request = wire_request(
        mutation.get("route", route), axon.port, [[k, v] for k, v in headers.items()],
        raw_body, mutation.get("content_type", "application/json"),
    )  # fmt: skip
    response = exchange(axon.port, request, mutation.get("repeat", 1))
    response.pop("client_port")  # echoed as bt_header_dendrite_port: replaced by header name

    placeholders = Placeholders()
    sent_nonce = headers.get("bt_header_dendrite_nonce")
    if sent_nonce and sent_nonce.isdigit():
        placeholders.value(sent_nonce, "<nonce>")
        placeholders.header("bt_header_dendrite_nonce", "<nonce>")
    placeholders.value(str(synapse.dendrite.nonce), "<nonce>")
    placeholders.value(synapse.dendrite.signature, "<signature>")
    sent_signature = headers.get("bt_header_dendrite_signature")
    if sent_signature and sent_signature != "0x" + "0" * 128 and len(sent_signature) > 10:
        placeholders.value(sent_signature, "<signature>")
    resp_headers = response["headers"]
    placeholders.value(_header(resp_headers, "bt_header_axon_nonce"), "<axon_nonce>")
    placeholders.header("bt_header_axon_nonce", "<axon_nonce>")
    placeholders.value(_header(resp_headers, "bt_header_axon_signature"), "<axon_signature>")
    placeholders.header("bt_header_axon_signature", "<axon_signature>")
    process_time = _header(resp_headers, "bt_header_axon_process_time")
    placeholders.header("bt_header_axon_process_time", "<process_time>")
    placeholders.number("process_time", process_time, "<process_time>")
    placeholders.header("date", "<date>")
    placeholders.header("host", "<axon_port>")
    placeholders.header("bt_header_axon_port", "<axon_port>")
    placeholders.number("port", axon.port, "<axon_port>")
    placeholders.header("bt_header_dendrite_port", "<client_port>")

    request_body, _ = placeholders.body(encoded(raw_body))
    recorded_request = {
        "request_line": request[0],
        "headers": placeholders.headers(request[1]),
        "body": request_body,
    }
    response_body, variable = placeholders.body(response["body"])
    if variable:
        placeholders.header("content-length", "<content_length>")
    recorded_response = dict(response)
    recorded_response["headers"] = placeholders.headers(resp_headers)
    recorded_response["body"] = response_body
    if "chunks" in response:
        recorded_response["chunks"] = [placeholders.body(c)[0] for c in response["chunks"]]
        recorded_response["payload"] = placeholders.body(response["payload"])[0]

    named = {k.lower(): v for k, v in recorded_response["headers"]}
    json_message = None
    if response_body["encoding"] == "utf-8" and named.get("content-type") == "application/json":
        with contextlib.suppress(ValueError, AttributeError):
            json_message = json.loads(response_body["data"]).get("message")
    out: dict[str, Any] = {
        "id": case["id"],
        "description": case["description"],
        "trigger": case["trigger"],
        "request": recorded_request,
        "response": recorded_response,
    }
    if "token_streamer_sends" in case:
        sends = axon.sends[sends_before] if len(axon.sends) > sends_before else []
        out["token_streamer_sends"] = [encoded(send) for send in sends]
    out["summary"] = {
        "status": response["status"],
        "content_type": named.get("content-type"),
        "json_message": json_message,
        "bt_header_axon_status_code": named.get("bt_header_axon_status_code"),
        "bt_header_axon_status_message": named.get("bt_header_axon_status_message"),
    }
    out["volatile"] = placeholders.volatile()
    return in_spec_order({k: v for k, v in case.items() if not k.startswith("bittensor_")}, out)


def record_responses(
    spec: dict[str, Any], axon: VectorAxon, classes: dict[str, type]
) -> dict[str, Any]:
    data = copy.deepcopy(spec)
    data["axon"]["attached"] = sorted(axon.axon.forward_class_types)
    data["cases"] = [record_response_case(case, axon, classes, spec) for case in spec["cases"]]
    return data


# --------------------------------------------------------------------------------------------
# dendrite_errors.json
# --------------------------------------------------------------------------------------------


class ScriptedServer:
    """One-connection raw TCP server on 127.0.0.1: reads the request, then acts by ``mode``."""

    def __init__(self, mode: str, sent: bytes) -> None:
        self.mode, self.sent = mode, sent
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(10)
        self.port: int = self._listener.getsockname()[1]
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            connection, _ = self._listener.accept()
            with connection:
                connection.settimeout(SOCKET_TIMEOUT_S)
                read_request(connection)
                if self.sent:
                    connection.sendall(self.sent)
                if self.mode in ("silent", "stall_stream"):
                    self._done.wait(SOCKET_TIMEOUT_S)  # keep the connection open, say nothing

    def close(self) -> None:
        self._done.set()
        self._listener.close()
        self._thread.join(timeout=5)


def _closed_port() -> int:
    with socket.create_server((LOOPBACK, 0)) as probe:
        return int(probe.getsockname()[1])


async def record_dendrite_case(
    case: dict[str, Any], axon: VectorAxon, classes: dict[str, type]
) -> dict[str, Any]:
    cls = classes[case["class"]]
    values: dict[str, Any] = {"prompt": "hi"}
    fail_after = {"stream_server_fails_mid_stream": 1, "stream_server_fails_mid_character": 2}
    if case["id"] in fail_after:
        values["fail_after"] = fail_after[case["id"]]
    synapse = cls(**values)
    server = None
    port = axon.port
    hotkey = axon.hotkey
    if case["server"] == "closed_port":
        port = _closed_port()
    elif case["server"] == "scripted":
        sent = case["server_sent"]
        data = (
            sent["data"].encode() if sent["encoding"] == "utf-8" else base64.b64decode(sent["data"])
        )
        server = ScriptedServer(case["server_mode"], data)
        port = server.port
    if case["id"] == "call_wrong_axon_hotkey_401":
        hotkey = KEYS["other"].ss58_address
    target = bt.AxonInfo(
        version=0, ip=LOOPBACK, port=port, ip_type=4, hotkey=hotkey, coldkey=hotkey
    )
    dendrite = fixed_dendrite()
    seen: list[BaseException] = []
    original = dendrite.process_error_message

    def spy(synapse: Any, request_name: str, exception: BaseException) -> Any:
        seen.append(exception)
        return original(synapse, request_name, exception)

    dendrite.process_error_message = spy
    yielded: list[str] = []
    try:
        if case["call"] == "call_stream":
            final = None
            stream = dendrite.call_stream(
                target, synapse, timeout=case["timeout"], deserialize=False
            )
            async for item in stream:
                if isinstance(item, bt.Synapse):
                    final = item
                elif isinstance(item, str):
                    yielded.append(item)
            synapse = final if final is not None else synapse
        else:
            synapse = await dendrite.call(
                target, synapse, timeout=case["timeout"], deserialize=False
            )
    finally:
        await dendrite.aclose_session()
        if server is not None:
            server.close()

    placeholders = Placeholders()
    placeholders.value(str(synapse.dendrite.nonce), "<nonce>")
    placeholders.value(synapse.dendrite.signature, "<signature>")

    def text(value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(f"{LOOPBACK}:{port}", f"{LOOPBACK}:<port>").replace(
            f"'{LOOPBACK}', {port})", f"'{LOOPBACK}', <port>)"
        )
        if "<port>" in value:
            placeholders.used.add("<port>")
        return placeholders.apply(value)

    out: dict[str, Any] = {
        key: case[key] for key in ("id", "description", "call", "class", "timeout", "server")
    }
    if server is not None:
        out["server_mode"] = case["server_mode"]
        out["server_sent"] = case["server_sent"]
    exception = seen[0] if seen else None
    out["exception_seen"] = (
        None
        if exception is None
        else {
            "type": f"{type(exception).__module__}.{type(exception).__qualname__}",
            "message": text(str(exception)),
        }
    )
    out["dendrite_status_code"] = synapse.dendrite.status_code
    out["dendrite_status_message"] = text(synapse.dendrite.status_message)
    out["axon_status_code"] = synapse.axon.status_code
    out["axon_status_message"] = text(synapse.axon.status_message)
    out["status_helpers"] = {
        name: bool(getattr(synapse, name))
        for name in (
            "is_success",
            "is_failure",
            "is_timeout",
            "is_blacklist",
            "failed_verification",
        )
    }
    if case["call"] == "call_stream":
        out["yielded_text"] = text("".join(yielded))
        received = encoded(getattr(synapse, "_received", b""))
        if received["encoding"] == "utf-8":
            received["data"] = text(received["data"])
        out["subclass_received_body"] = received
    out["final_completion"] = text(getattr(synapse, "completion", None))
    out["volatile"] = placeholders.volatile()
    return in_spec_order(case, out)


async def record_dendrite_cases(
    spec: dict[str, Any], axon: VectorAxon, classes: dict[str, type]
) -> list[Any]:
    return [await record_dendrite_case(case, axon, classes) for case in spec["cases"]]


def record_dendrite_errors(
    spec: dict[str, Any], axon: VectorAxon, classes: dict[str, type]
) -> dict[str, Any]:
    data = copy.deepcopy(spec)
    data["cases"] = asyncio.run(record_dendrite_cases(spec, axon, classes))
    return data


# --------------------------------------------------------------------------------------------
# Comparison with the spec files, and the files themselves
# --------------------------------------------------------------------------------------------


SIZE_NAMES = ("total_size", "header_size")
SIZE_RE = re.compile(r'("(?:total_size|header_size)":\s?)\d+')


def _normalized(value: Any, version_ints: set[int]) -> Any:
    """``value`` with version_as_int, signatures and the informational sizes replaced."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in version_ints:
        return "<version_as_int>"
    if isinstance(value, str):
        for number in version_ints:
            value = value.replace(str(number), "<version_as_int>")
        value = SIZE_RE.sub(lambda m: m.group(1) + "<size>", value)
        return SIGNATURE_RE.sub("<sr25519 signature>", value)
    if isinstance(value, dict):
        return {
            k: "<size>" if k in SIZE_NAMES and isinstance(v, int) else _normalized(v, version_ints)
            for k, v in value.items()
        }
    if isinstance(value, list):
        if len(value) == 2 and value[0] in SIZE_NAMES and isinstance(value[1], str):
            return [value[0], "<size>"]
        return [_normalized(v, version_ints) for v in value]
    return value


def _differences(primary: Any, other: Any, path: str, found: list[dict[str, Any]]) -> None:
    if isinstance(primary, dict) and isinstance(other, dict):
        for key in list(primary) + [k for k in other if k not in primary]:
            _differences(primary.get(key), other.get(key), f"{path}.{key}", found)
    elif isinstance(primary, list) and isinstance(other, list) and len(primary) == len(other):
        for index, (a, b) in enumerate(zip(primary, other, strict=True)):
            _differences(a, b, f"{path}[{index}]", found)
    elif primary != other:
        shown = [f"<{len(v)} items>" if isinstance(v, list) else v for v in (primary, other)]
        found.append({"path": path.lstrip("."), "primary": shown[0], "other": shown[1]})


SKIPPED_SECTIONS = {"about", "environment", "version_comparison"}


def version_comparison(recorded: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    versions = {VERSION_INT, int(spec["environment"]["version_as_int"])}
    mine, theirs = _normalized(recorded, versions), _normalized(spec, versions)
    differences: list[dict[str, Any]] = []
    for section in recorded:
        if section in SKIPPED_SECTIONS:
            continue
        a, b = mine.get(section), theirs.get(section)
        if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, dict) for x in a + b):
            key = "name" if section == "keypairs" else "id"
            b_by_id = {item.get(key): item for item in b}
            for item in a:
                other = {k: v for k, v in b_by_id.get(item.get(key), {}).items()
                         if not k.startswith("bittensor_")}  # fmt: skip
                found: list[dict[str, Any]] = []
                _differences(item, other, str(item.get(key)), found)
                if found:
                    differences.append(
                        {"section": section, "id": item.get(key), "differences": found}
                    )
        else:
            found = []
            _differences(a, b, section, found)
            if found:
                differences.append({"section": section, "differences": found})
    env, spec_env = recorded["environment"], spec["environment"]
    return {
        "primary": {"bittensor": env["bittensor"], "bittensor-wallet": env["bittensor-wallet"]},
        "other": {
            "bittensor": spec_env["bittensor"],
            "bittensor-wallet": spec_env["bittensor-wallet"],
        },
        "method": (
            f"same cases replayed by tests/interop/bt_side/record_vectors.py; compared with the "
            f"{spec_env['bittensor']} file after normalizing version_as_int "
            f"({VERSION_INT} / {spec_env['version_as_int']}), every sr25519 signature "
            f"(randomized) and the informational total_size/header_size (CPython object sizes)"
        ),
        "identical": not differences,
        "differences": differences,
    }


def finish(
    name: str, recorded: dict[str, Any], spec: dict[str, Any], env: dict[str, Any]
) -> dict[str, Any]:
    recorded["environment"] = env
    recorded["about"] = re.sub(
        r"the real bittensor .*? by synapsegen's record_vectors\.py",
        f"the real {environment_text(env)} by synapsegen's tests/interop/bt_side/record_vectors.py",
        spec["about"],
    )
    recorded["version_comparison"] = version_comparison(recorded, spec)
    return in_spec_order(spec, recorded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", action="append", help="record only these files")
    args = parser.parse_args()
    spec = {
        name: json.loads((args.spec / name).read_text(encoding="utf-8"))
        for name in ("headers.json", "body_hash.json", "signatures.json", "responses.json",
                     "dendrite_errors.json")
    }  # fmt: skip
    for case in spec["headers.json"]["cases"]:
        for side, key in (("dendrite", "signature_message"), ("axon", "axon_signature_message")):
            info = case.get(side) or {}
            SIGNATURES.learn(info.get("hotkey"), case.get(key), info.get("signature"))
    for vector in spec["signatures.json"]["sign_verify"]:
        pair = next((p for n, p in KEYS.items() if n == vector["signer"]), None)
        if pair is not None and isinstance(vector["message"], str):
            SIGNATURES.learn(pair.ss58_address, vector["message"], vector["signature"])
    for entry in spec["signatures.json"]["signed_requests"]:
        expected = entry["expected"]
        named = dict(entry["headers"])
        SIGNATURES.learn(
            named.get("bt_header_dendrite_hotkey"), expected["signature_message"],
            named.get("bt_header_dendrite_signature"),
        )  # fmt: skip

    env = environment()
    _, classes = header_classes(spec["headers.json"])
    wanted = set(args.only or spec)
    recorded: dict[str, dict[str, Any]] = {}
    if "headers.json" in wanted:
        recorded["headers.json"] = record_headers(spec["headers.json"], classes)
    if "body_hash.json" in wanted:
        recorded["body_hash.json"] = record_body_hash(spec["body_hash.json"])
    if "signatures.json" in wanted:
        recorded["signatures.json"] = record_signatures(spec["signatures.json"], classes)
    if wanted & {"responses.json", "dendrite_errors.json"}:
        axon = VectorAxon(classes)
        try:
            if "responses.json" in wanted:
                recorded["responses.json"] = record_responses(spec["responses.json"], axon, classes)
            if "dendrite_errors.json" in wanted:
                recorded["dendrite_errors.json"] = record_dendrite_errors(
                    spec["dendrite_errors.json"], axon, classes
                )
        finally:
            axon.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in recorded.items():
        data = finish(name, data, spec[name], env)
        text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
        (args.out / name).write_text(text, encoding="utf-8")
        differing = len(data["version_comparison"]["differences"])
        log(f"{name}: {differing} differing entries vs {spec[name]['environment']['bittensor']}")
    print(json.dumps({"done": sorted(recorded)}), file=sys.stderr)


if __name__ == "__main__":
    main()
