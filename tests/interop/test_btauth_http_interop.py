"""btauth/1 over real HTTP between synapsegen and bittensor 11.3.0, each in its own process.

``bt_side/btauth_http.py`` runs in the bittensor 11.3.0 venv (one process for the module): an
HTTP server on 127.0.0.1 whose only check is bittensor's own ``http_auth.verify`` (its own nonce
store, ``require_receiver=True``), serving the HTTP wire of schemas/prompting.yaml's
``AvailabilitySynapse`` (JSON) and ``PromptingSynapse`` (``text/plain; charset=utf-8``, chunked),
and a client signing with ``http_auth.sign`` and sending with ``urllib.request``. Here, a runtime
Axon on 127.0.0.1 serves the same two classes, generated from the schema.

1. Our ``Dendrite(transport="btauth/1")`` against bittensor's check: plain and streaming calls
   decode and are served; replayed, stale, forged, misdirected and tampered requests are refused
   by bittensor with the status of its exception class, and nothing is served.
2. Requests signed by bittensor's ``http_auth.sign`` against our Axon: served and decoded; the
   same refusals, made on the bittensor side, are ours (401/421, our message), and the handler is
   never called.
3. Agreements and differences seen only over HTTP: both sign and verify the target as sent (query
   and percent-escapes included) and read header names in any case (urllib sends
   ``X-bittensor-signature``); of a header sent twice bittensor takes the last value, we refuse
   (400); a body sent without ``Content-Type`` (urllib then says form-urlencoded) is 415 here.

The test process never imports bittensor. The forward functions' parameter
annotations name the generated classes (the Axon routes by them).
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from bittensor_wallet import Keypair
from multidict import CIMultiDict
from yarl import URL

from synapsegen.runtime import Axon, AxonTarget, Dendrite
from synapsegen.runtime.btauth import HEADER_HOTKEY, HEADER_RECEIVER, sign_request

from ..generator._generated import generate_package, on_sys_path
from .bt_side.common import KEY_SEEDS, MINER_SEED, availability_answer, expected_text, token_text
from .harness import LOOPBACK, REPO_ROOT, BtScript

BT11_VERSION = "11.3.0"
PACKAGE = "sg_btauth_http"
SECOND = 1_000_000_000
STREAM_TOKENS = 6
SEND_INTERVAL_S = 0.002
CALL_TIMEOUT_S = 10.0
TASKS = ["chat", "translate", "grüße"]
PROMPT = "héllo😀"
EXPECTED_TEXT = expected_text(PROMPT, STREAM_TOKENS)

# bittensor's exception class -> the status its server maps it to (and ours answers with).
STATUS_OF = {
    "MalformedAuth": 400,
    "WrongReceiver": 421,
    "StaleRequest": 401,
    "BadSignature": 401,
    "ReplayedRequest": 401,
}

VALIDATOR, MINER, OTHER = (
    Keypair.create_from_seed(KEY_SEEDS[name]) for name in ("validator", "miner", "other")
)
AVAILABILITY_BODY = json.dumps({"tasks": TASKS}).encode()
PROMPTING_BODY = json.dumps({"messages": ["hi", PROMPT], "seed": 3, "model": "m-1"}).encode()


@pytest.fixture(scope="module")
def bt_version() -> str:
    """This module talks to bittensor 11 (the conftest's bt_python builds its venv)."""
    return BT11_VERSION


@pytest.fixture(scope="module")
def prompting(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """schemas/prompting.yaml generated for synapsegen's runtime (AvailabilitySynapse, plain;
    PromptingSynapse, streamed text)."""
    base = tmp_path_factory.mktemp("btauth-http")
    generate_package([REPO_ROOT / "schemas" / "prompting.yaml"], REPO_ROOT, base / PACKAGE)
    with on_sys_path(base):
        return importlib.import_module(f"{PACKAGE}.prompting")


# ------------------------------------------------------------------------ the bittensor side


@dataclass
class Answer:
    """One HTTP answer the bittensor-side client received."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


class BtHttp:
    """``bt_side/btauth_http.py``: bittensor's verify behind an HTTP server, and its signer
    behind urllib."""

    def __init__(self, script: BtScript) -> None:
        self.script = script
        ready = script.receive()
        self.version = str(ready["version"])
        self.port = int(ready["port"])
        self.target = AxonTarget(ip=LOOPBACK, port=self.port, hotkey=str(ready["hotkey"]))

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = self.script.request(request)
        assert "error" not in reply, reply["error"]
        return reply

    def take_log(self) -> list[dict[str, Any]]:
        """The requests the server saw since the last take (see the script's docstring)."""
        log: list[dict[str, Any]] = self._ask({"op": "take_log"})["log"]
        return log

    def served(self) -> list[str]:
        """The routes served (a verified, handled request) since the last take of the log."""
        return [entry["served"] for entry in self.take_log() if entry["served"]]

    def post(
        self,
        port: int,
        target: str,
        body: bytes,
        *,
        key: str = "validator",
        receiver: str | None = MINER.ss58_address,
        nonce_ns: int | None = None,
        sign_target: str | None = None,
        claim: str | None = None,
        send_body: bytes | None = None,
        content_type: str | None = "application/json",
        times: int = 1,
    ) -> tuple[list[tuple[str, str]], list[Answer]]:
        """Sign with ``http_auth.sign`` and POST with urllib (see the script's docstring): the
        headers urllib sent and the answers."""
        reply = self._ask(
            {
                "op": "post",
                "port": port,
                "target": target,
                "body_hex": body.hex(),
                "key": key,
                "receiver": receiver,
                "nonce_ns": nonce_ns,
                "sign_target": sign_target,
                "claim": claim,
                "send_body_hex": None if send_body is None else send_body.hex(),
                "content_type": content_type,
                "times": times,
            }
        )
        answers = [
            Answer(
                status=int(answer["status"]),
                headers=[(str(k), str(v)) for k, v in answer["headers"]],
                body=bytes.fromhex(answer["body_hex"]),
            )
            for answer in reply["answers"]
        ]
        return [(str(k), str(v)) for k, v in reply["sent_headers"]], answers


@pytest.fixture(scope="module")
def bt(bt_python: Path, bt_version: str) -> Iterator[BtHttp]:
    args = ["--seed", MINER_SEED, "--stream-tokens", str(STREAM_TOKENS)]
    with BtScript(
        "btauth_http.py", [*args, "--send-interval", repr(SEND_INTERVAL_S)], version=bt_version
    ) as script:
        side = BtHttp(script)
        assert side.version == bt_version
        assert side.target.hotkey == MINER.ss58_address
        yield side


# ------------------------------------------------------------------------------ our side

handled: list[tuple[str, str | None]] = []  # (class, verified signer) per forward_fn call


@pytest.fixture(scope="module")
def our_axon(prompting: ModuleType) -> Iterator[Axon]:
    """A runtime Axon (background thread) serving the generated classes on btauth/1 only."""

    def availability(synapse: Any) -> Any:
        handled.append(("AvailabilitySynapse", synapse.dendrite.hotkey))
        return synapse.respond(**availability_answer(list(synapse.tasks)))

    async def answer(synapse: Any) -> AsyncIterator[str]:
        handled.append(("PromptingSynapse", synapse.dendrite.hotkey))
        for index in range(STREAM_TOKENS):
            yield token_text(synapse.messages[-1], index)

    # The Axon routes by the first parameter's annotation: the generated classes.
    availability.__annotations__["synapse"] = prompting.AvailabilitySynapse
    answer.__annotations__["synapse"] = prompting.PromptingSynapse
    axon = Axon(MINER, ip=LOOPBACK, port=0)
    axon.attach(availability, transports=("btauth/1",))
    axon.attach(answer, transports=("btauth/1",))
    axon.start()
    try:
        yield axon
    finally:
        axon.stop()


@pytest.fixture(autouse=True)
def fresh_counts(bt: BtHttp) -> None:
    """Each test counts from zero: the handler calls here, the bittensor server's log there."""
    handled.clear()
    bt.take_log()


def our_dendrite() -> Dendrite:
    """A btauth/1 Dendrite calling 127.0.0.1 itself (external_ip=None: not the same-machine
    shortcut to 0.0.0.0)."""
    return Dendrite(VALIDATOR, transport="btauth/1", external_ip=None)


def refusal(entry: dict[str, Any]) -> tuple[int, str | None, str | None]:
    return entry["status"], entry["refused"], entry["served"]


# ============================================ 1. our Dendrite against bittensor's http_auth.verify


async def test_our_dendrite_plain_call_is_verified_by_bittensor(
    bt: BtHttp, prompting: ModuleType
) -> None:
    synapse = prompting.AvailabilitySynapse(tasks=TASKS)
    async with our_dendrite() as dendrite:
        result = await dendrite.call(bt.target, synapse, timeout=CALL_TIMEOUT_S)
    assert synapse.dendrite.status_code == 200, synapse.dendrite.status_message
    expected = availability_answer(TASKS)
    assert result == expected["available"] and synapse.load == expected["load"]
    [entry] = bt.take_log()
    assert refusal(entry) == (200, None, "AvailabilitySynapse")
    assert entry["target"] == "/AvailabilitySynapse"
    # aiohttp sends bittensor's own spelling of the header names.
    assert {"X-Bittensor-Signature", "X-Bittensor-Receiver"} <= set(entry["header_names"])


async def test_our_dendrite_streaming_call_is_verified_by_bittensor(
    bt: BtHttp, prompting: ModuleType
) -> None:
    synapse = prompting.PromptingSynapse(messages=["hi", PROMPT], model="m-1")
    async with our_dendrite() as dendrite:
        stream = dendrite.call_stream(bt.target, synapse, timeout=CALL_TIMEOUT_S)
        items = [item async for item in stream]
    assert synapse.dendrite.status_code == 200, synapse.dendrite.status_message
    assert items[-1] == EXPECTED_TEXT == "".join(items[:-1]) == synapse.completion
    assert synapse.stream_complete
    assert bt.served() == ["PromptingSynapse"]


async def test_our_dendrite_fan_out_is_verified_by_bittensor(
    bt: BtHttp, prompting: ModuleType
) -> None:
    """``forward`` signs each request with its own nonce: bittensor's nonce store takes all."""
    async with our_dendrite() as dendrite:
        results = await dendrite.forward(
            [bt.target] * 3, prompting.AvailabilitySynapse(tasks=TASKS), timeout=CALL_TIMEOUT_S
        )
    assert results == [availability_answer(TASKS)["available"]] * 3
    assert bt.served() == ["AvailabilitySynapse"] * 3


async def test_bittensors_refusal_reaches_our_dendrite(bt: BtHttp, prompting: ModuleType) -> None:
    """Signed for another receiver: bittensor's WrongReceiver (421) and its message, recorded in
    ``synapse.dendrite`` (plain and streaming calls alike)."""
    elsewhere = AxonTarget(ip=LOOPBACK, port=bt.port, hotkey=OTHER.ss58_address)
    plain = prompting.AvailabilitySynapse(tasks=TASKS)
    streamed = prompting.PromptingSynapse(messages=[PROMPT])
    async with our_dendrite() as dendrite:
        assert await dendrite.call(elsewhere, plain, timeout=CALL_TIMEOUT_S) == {}
        items = [item async for item in dendrite.call_stream(elsewhere, streamed)]
    for synapse in (plain, streamed):
        assert synapse.dendrite.status_code == 421
        assert synapse.dendrite.status_message.startswith("btauth/1: WrongReceiver: ")
    assert items == [""] and streamed.completion == ""
    assert [refusal(entry) for entry in bt.take_log()] == [(421, "WrongReceiver", None)] * 2


async def raw_post(
    port: int, target: str, headers: Mapping[str, str], body: bytes
) -> tuple[int, dict[str, Any]]:
    """POST exactly these bytes to ``target`` as written (no re-encoding of the URL)."""
    url = URL(f"http://{LOOPBACK}:{port}{target}", encoded=True)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, headers=headers, data=body) as response,
    ):
        return response.status, json.loads(await response.read())


def signed(
    body: bytes = AVAILABILITY_BODY,
    *,
    signer: Keypair = VALIDATOR,
    target: str = "/AvailabilitySynapse",
    receiver: str = MINER.ss58_address,
    nonce_ns: int | None = None,
) -> dict[str, str]:
    """The headers our Dendrite sends: ``sign_request`` over the exact body, and its type."""
    headers = sign_request(
        signer, method="POST", target=target, body=body, receiver=receiver, nonce_ns=nonce_ns
    )
    return {"Content-Type": "application/json", **headers}


async def test_a_replay_of_our_signed_bytes_is_refused_by_bittensor(bt: BtHttp) -> None:
    headers = signed()
    first = await raw_post(bt.port, "/AvailabilitySynapse", headers, AVAILABILITY_BODY)
    assert first == (200, availability_answer(TASKS))
    status, answer = await raw_post(bt.port, "/AvailabilitySynapse", headers, AVAILABILITY_BODY)
    assert status == 401 and answer["message"].startswith("btauth/1: ReplayedRequest: "), answer
    entries = [refusal(entry) for entry in bt.take_log()]
    assert entries == [(200, None, "AvailabilitySynapse"), (401, "ReplayedRequest", None)]


def _forged() -> dict[str, str]:
    headers = signed(signer=OTHER)
    headers[HEADER_HOTKEY] = VALIDATOR.ss58_address
    return headers


# name -> (headers, the body sent, bittensor's exception class)
OUR_BAD_REQUESTS: dict[str, Callable[[], tuple[dict[str, str], bytes, str]]] = {
    "stale": lambda: (
        signed(nonce_ns=time.time_ns() - 12 * SECOND),
        AVAILABILITY_BODY,
        "StaleRequest",
    ),
    "future": lambda: (
        signed(nonce_ns=time.time_ns() + 5 * SECOND),
        AVAILABILITY_BODY,
        "StaleRequest",
    ),
    "forged": lambda: (_forged(), AVAILABILITY_BODY, "BadSignature"),
    "wrong-receiver": lambda: (
        signed(receiver=OTHER.ss58_address),
        AVAILABILITY_BODY,
        "WrongReceiver",
    ),
    "tampered-body": lambda: (
        signed(),
        AVAILABILITY_BODY.replace(b"chat", b"chit"),
        "BadSignature",
    ),
    "version-2": lambda: (
        {**signed(), "X-Bittensor-Version": "2"},
        AVAILABILITY_BODY,
        "MalformedAuth",
    ),
}


@pytest.mark.parametrize("case", sorted(OUR_BAD_REQUESTS))
async def test_our_bad_requests_are_refused_by_bittensor(bt: BtHttp, case: str) -> None:
    headers, body, bittensor_says = OUR_BAD_REQUESTS[case]()
    status, answer = await raw_post(bt.port, "/AvailabilitySynapse", headers, body)
    assert status == STATUS_OF[bittensor_says], answer
    assert answer["message"].startswith(f"btauth/1: {bittensor_says}: "), answer
    assert [refusal(entry) for entry in bt.take_log()] == [(status, bittensor_says, None)]


async def test_a_query_and_lowercase_header_names_verify_in_bittensor(bt: BtHttp) -> None:
    """bittensor signs the target as sent (path and query, percent-escapes kept) and reads header
    names in any case: a request signed by us for such a target verifies there."""
    target = "/AvailabilitySynapse?trace=1&q=a%20b%2Fc"
    headers = {name.lower(): value for name, value in signed(target=target).items()}
    assert await raw_post(bt.port, target, headers, AVAILABILITY_BODY) == (
        200,
        availability_answer(TASKS),
    )
    [entry] = bt.take_log()
    assert entry["target"] == target and refusal(entry) == (200, None, "AvailabilitySynapse")
    assert "x-bittensor-signature" in entry["header_names"]


# ====================================== 2. requests signed by bittensor's http_auth.sign, our Axon


def test_bittensor_signed_plain_request_is_served_by_our_axon(bt: BtHttp, our_axon: Axon) -> None:
    sent, [answer] = bt.post(our_axon.port, "/AvailabilitySynapse", AVAILABILITY_BODY)
    assert answer.status == 200, answer.body
    assert answer.header("Content-Type") == "application/json"
    assert answer.json() == availability_answer(TASKS)
    assert handled == [("AvailabilitySynapse", VALIDATOR.ss58_address)]  # the verified signer
    # urllib spells header names as str.capitalize() does: case-insensitive on both sides.
    assert "X-bittensor-signature" in dict(sent)


def test_bittensor_signed_streaming_request_is_served_by_our_axon(
    bt: BtHttp, our_axon: Axon
) -> None:
    _, [answer] = bt.post(our_axon.port, "/PromptingSynapse", PROMPTING_BODY)
    assert answer.status == 200, answer.body
    assert answer.header("Content-Type") == "text/plain; charset=utf-8"
    assert answer.header("Transfer-Encoding") == "chunked"
    assert answer.body.decode("utf-8") == EXPECTED_TEXT
    assert handled == [("PromptingSynapse", VALIDATOR.ss58_address)]


def test_a_target_with_a_query_signed_by_bittensor(bt: BtHttp, our_axon: Axon) -> None:
    """Our Axon verifies against the target as sent, query and percent-escapes included."""
    target = "/AvailabilitySynapse?trace=1&q=a%20b%2Fc"
    _, [answer] = bt.post(our_axon.port, target, AVAILABILITY_BODY)
    assert answer.status == 200 and answer.json() == availability_answer(TASKS), answer.body
    # Signed without the query, sent with it: not the request that was signed.
    _, [answer] = bt.post(
        our_axon.port, target, AVAILABILITY_BODY, sign_target="/AvailabilitySynapse"
    )
    assert answer.status == 401 and "signature" in answer.json()["message"], answer.body
    assert len(handled) == 1


def test_a_bittensor_replay_is_refused_by_our_axon(bt: BtHttp, our_axon: Axon) -> None:
    _, answers = bt.post(our_axon.port, "/AvailabilitySynapse", AVAILABILITY_BODY, times=2)
    assert [answer.status for answer in answers] == [200, 401]
    message = answers[1].json()["message"]
    assert message.startswith("btauth/1: ") and "replayed" in message, message
    assert len(handled) == 1


# name -> (keyword arguments of BtHttp.post for a request with this body, our status, a word of
# our message)
BT_BAD_REQUESTS: dict[str, Callable[[bytes], tuple[dict[str, Any], int, str]]] = {
    "stale": lambda _: ({"nonce_ns": time.time_ns() - 12 * SECOND}, 401, "old"),
    "future": lambda _: ({"nonce_ns": time.time_ns() + 5 * SECOND}, 401, "future"),
    "forged": lambda _: ({"key": "other", "claim": "validator"}, 401, "signature"),
    "wrong-receiver": lambda _: ({"receiver": OTHER.ss58_address}, 421, "receiver"),
    "no-receiver": lambda _: ({"receiver": None}, 421, "receiver"),
    "tampered-body": lambda body: ({"send_body": body.replace(b"[", b"[ ", 1)}, 401, "signature"),
}


@pytest.mark.parametrize("route", ["/AvailabilitySynapse", "/PromptingSynapse"])
@pytest.mark.parametrize("case", sorted(BT_BAD_REQUESTS))
def test_bittensor_bad_requests_are_refused_by_our_axon(
    bt: BtHttp, our_axon: Axon, case: str, route: str
) -> None:
    body = AVAILABILITY_BODY if route == "/AvailabilitySynapse" else PROMPTING_BODY
    changes, status, word = BT_BAD_REQUESTS[case](body)
    _, [answer] = bt.post(our_axon.port, route, body, **changes)
    assert answer.status == status, answer.body
    assert answer.header("Content-Type") == "application/json"
    message = answer.json()["message"]
    assert message.startswith("btauth/1: ") and word in message.lower(), message
    assert handled == []


def test_a_body_sent_without_content_type_is_refused_by_our_axon(
    bt: BtHttp, our_axon: Axon
) -> None:
    """``http_auth``'s docstring says "send ``body`` with ``headers`` using any HTTP client";
    urllib then labels a JSON body application/x-www-form-urlencoded. Our wire wants
    application/json: 415 (after the signature verified), the handler is not called."""
    sent, [answer] = bt.post(
        our_axon.port, "/AvailabilitySynapse", AVAILABILITY_BODY, content_type=None
    )
    assert dict(sent)["Content-type"] == "application/x-www-form-urlencoded"
    assert answer.status == 415, answer.body
    assert "application/json" in answer.json()["message"]
    assert handled == []


# ============================================================== where the two differ over HTTP


async def test_a_header_sent_twice(bt: BtHttp, our_axon: Axon) -> None:
    """Pinned difference. bittensor's ``verify`` reads the headers into a dict, so of a name sent
    twice the last value counts (http.server's, starlette's and aiohttp's ``items()`` all list
    repeats): a decoy receiver before the signed one passes. We refuse the request (400) rather
    than pick one of the two."""
    for port, expected in ((bt.port, 200), (our_axon.port, 400)):
        headers = CIMultiDict(signed())  # a fresh nonce for each server
        receiver = headers.popone(HEADER_RECEIVER)
        headers.add(HEADER_RECEIVER, OTHER.ss58_address)
        headers.add(HEADER_RECEIVER, receiver)
        status, answer = await raw_post(port, "/AvailabilitySynapse", headers, AVAILABILITY_BODY)
        assert status == expected, (port, answer)
    assert answer["message"].lower() == "btauth/1: header x-bittensor-receiver sent more than once"
    assert bt.served() == ["AvailabilitySynapse"] and handled == []
