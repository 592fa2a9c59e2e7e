"""Unit tests of synapsegen.runtime.synapse beyond the recorded vectors."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from enum import Enum
from typing import Any, ClassVar

import aiohttp
import pytest
import uvicorn
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from synapsegen.runtime.synapse import (
    BTStreamingResponse,
    BTStreamingResponseModel,
    StreamingSynapse,
    Synapse,
    TerminalInfo,
    get_hash,
    get_size,
    split_terminal_headers,
)

from ._vectors import load as load_vectors


class Prompt(Synapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "n")
    prompt: str
    n: int = 1
    completion: str = ""


class Stream(StreamingSynapse):
    prompt: str = ""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[str]:
        yield "x"

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {}


# ---- TerminalInfo ----------------------------------------------------------------------------


def _bittensor_dump() -> dict[str, Any]:
    """A TextPrompt as bittensor 10.5's ``model_dump_json()`` wrote it (tests/vectors/headers.json):
    its keys, and its TerminalInfo's, are in bittensor's field order, which is the wire order."""
    cases = load_vectors("headers.json")["cases"]
    dump: dict[str, Any] = next(c for c in cases if c["id"] == "text_prompt_request")[
        "model_dump_json"
    ]
    return dump


def test_terminal_info_fields_in_wire_order() -> None:
    recorded = list(_bittensor_dump()["dendrite"])
    assert len(recorded) == 10
    assert list(TerminalInfo.model_fields) == recorded
    assert TerminalInfo().model_dump() == dict.fromkeys(TerminalInfo.model_fields)


def test_terminal_info_numeric_strings_validate() -> None:
    info = TerminalInfo(
        status_code="200", process_time="0.0001", port="8091", version="10005000", nonce="17"
    )
    assert (info.status_code, info.process_time, info.port, info.version, info.nonce) == (
        200,
        0.0001,
        8091,
        10005000,
        17,
    )
    info.port = "80"  # validate_assignment
    assert info.port == 80
    info.process_time = "2"
    assert info.process_time == 2.0


@pytest.mark.parametrize("field", ["status_code", "port", "version", "nonce", "process_time"])
@pytest.mark.parametrize("bad", ["abc", "", [1], {"a": 1}])
def test_terminal_info_bad_numbers_raise_validation_error(field: str, bad: Any) -> None:
    with pytest.raises(ValidationError):
        TerminalInfo(**{field: bad})
    info = TerminalInfo()
    with pytest.raises(ValidationError):
        setattr(info, field, bad)


def test_terminal_info_ignores_extra_keys_and_strings_stay_strings() -> None:
    info = TerminalInfo(ip="not an ip", hotkey="h", unknown="x")
    assert info.ip == "not an ip"
    assert not hasattr(info, "unknown")


# ---- Synapse basics --------------------------------------------------------------------------


def test_synapse_field_order_and_defaults() -> None:
    recorded = list(_bittensor_dump())  # the base fields, then TextPrompt's prompt, completion
    base = recorded[: recorded.index("computed_body_hash") + 1]
    assert len(base) == 7
    assert list(Prompt.model_fields) == [*base, "prompt", "n", "completion"]
    synapse = Synapse()
    assert (synapse.name, synapse.timeout, synapse.total_size, synapse.header_size) == (
        "Synapse",
        12.0,
        0,
        0,
    )
    assert synapse.computed_body_hash == ""
    assert Synapse.required_hash_fields == ()


def test_name_is_forced_to_class_name() -> None:
    assert Prompt(prompt="p", name="Other").name == "Prompt"
    assert Prompt.model_validate({"prompt": "p", "name": None}).name == "Prompt"
    data = {"prompt": "p", "name": "x"}
    Prompt.model_validate(data)
    assert data == {"prompt": "p", "name": "x"}  # the caller's dict is not mutated


def test_default_terminal_infos_are_not_shared() -> None:
    a, b = Synapse(), Synapse()
    assert a.dendrite is not b.dendrite and a.axon is not b.axon
    assert a.dendrite is not None
    a.dendrite.status_code = 200
    assert b.dendrite is not None and b.dendrite.status_code is None


def test_base_numeric_validators() -> None:
    synapse = Synapse(timeout="5", total_size="10", header_size="3")
    assert (synapse.timeout, synapse.total_size, synapse.header_size) == (5.0, 10, 3)
    with pytest.raises(ValidationError, match="could not convert string to float"):
        Synapse(timeout="None")
    synapse.timeout = None
    assert synapse.timeout is None


def test_validate_assignment_on_subclass_fields() -> None:
    synapse = Prompt(prompt="p")
    with pytest.raises(ValidationError):
        synapse.n = "many"  # type: ignore[assignment]


def test_computed_body_hash_is_frozen_but_settable_at_construction() -> None:
    synapse = Prompt(prompt="p", computed_body_hash="abc")
    assert synapse.computed_body_hash == "abc"
    with pytest.raises(ValidationError, match="frozen"):
        synapse.computed_body_hash = "other"
    assert synapse.computed_body_hash == "abc"


def test_body_hash_cannot_be_assigned() -> None:
    synapse = Prompt(prompt="p")
    with pytest.raises(AttributeError, match="read-only"):
        synapse.body_hash = "x"  # type: ignore[misc]


def test_deserialize_returns_self() -> None:
    synapse = Prompt(prompt="p")
    assert synapse.deserialize() is synapse


@pytest.mark.parametrize(
    ("code", "flags"),
    [
        (200, (True, False, False, False, False)),
        (None, (False, True, False, False, False)),
        (408, (False, True, True, False, False)),
        (403, (False, True, False, True, False)),
        (401, (False, True, False, False, True)),
        (500, (False, True, False, False, False)),
    ],
)
def test_status_helpers_read_dendrite_status(code: int | None, flags: tuple[bool, ...]) -> None:
    synapse = Synapse(dendrite=TerminalInfo(status_code=code), axon=TerminalInfo(status_code=200))
    got = (
        synapse.is_success,
        synapse.is_failure,
        synapse.is_timeout,
        synapse.is_blacklist,
        synapse.failed_verification,
    )
    assert got == flags


def test_status_helpers_without_dendrite() -> None:
    synapse = Synapse(dendrite=None)
    assert not any(
        (synapse.is_success, synapse.is_failure, synapse.is_timeout, synapse.is_blacklist)
    )


# ---- hashing -------------------------------------------------------------------------------


@given(prompt=st.text(), n=st.integers())
def test_body_hash_formula(prompt: str, n: int) -> None:
    synapse = Prompt(prompt=prompt, n=n)
    assert synapse.body_hash == get_hash(get_hash(prompt) + get_hash(str(n)))


def test_body_hash_ignores_unhashed_fields() -> None:
    a, b = Prompt(prompt="p", completion="x"), Prompt(prompt="p", completion="y")
    assert a.body_hash == b.body_hash
    assert Prompt(prompt="q").body_hash != a.body_hash


@pytest.mark.filterwarnings("ignore:Field name .required_hash_fields.:UserWarning")  # pydantic's
def test_legacy_hash_field_form_warns_once_and_is_reordered() -> None:
    with pytest.warns(DeprecationWarning, match="required_hash_fields"):

        class Legacy(Synapse):
            required_hash_fields: list[str] = ["c", "a", "missing"]  # type: ignore[assignment]
            a: str = "x"
            c: int = 2

    assert Legacy.required_hash_fields == ("a", "c")
    synapse = Legacy()
    assert synapse.body_hash == get_hash(get_hash("x") + get_hash("2"))
    assert "required_hash_fields" in synapse.model_dump()


# ---- required fields cache -----------------------------------------------------------------


def test_required_fields_computed_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class Req(Synapse):
        a: str
        b: list[int]
        c: int = 0

    class ReqChild(Req):
        d: dict[str, int]

    calls: list[type] = []
    original = Synapse.model_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(cls)
        result: dict[str, Any] = original(cls, *args, **kwargs)
        return result

    monkeypatch.setattr(Synapse, "model_json_schema", classmethod(counting))
    for _ in range(3):
        Req(a="x", b=[1]).to_headers()
        assert Req.get_required_fields() == ["a", "b"]
        ReqChild(a="x", b=[], d={}).to_headers()
        assert ReqChild(a="x", b=[], d={}).get_required_fields() == ["a", "b", "d"]
    assert calls == [Req, ReqChild]
    # The returned list is a copy: mutating it does not poison the cache.
    Req.get_required_fields().append("zzz")
    assert Req.get_required_fields() == ["a", "b"]


def test_required_fields_without_json_schema_fall_back_to_model_fields() -> None:
    class WithCallable(Synapse):
        prompt: str
        hook: Callable[[], None] | None = None

    with pytest.raises(Exception):  # noqa: B017 - pydantic's own error type
        WithCallable.model_json_schema()
    synapse = WithCallable(prompt="p", hook=lambda: None)
    assert WithCallable.get_required_fields() == ["prompt"]
    assert synapse.to_headers()["bt_header_input_obj_prompt"] == "IiI="


# ---- to_headers / from_headers --------------------------------------------------------------


def test_to_headers_placeholders_and_sizes() -> None:
    class Many(Synapse):
        s: str
        i: int
        f: float
        b: bool
        xs: list[str]
        d: dict[str, int]
        t: tuple[int, int]
        opt: int | None
        defaulted: str = "x"

    synapse = Many(s="v", i=1, f=1.5, b=True, xs=["a"], d={"k": 1}, t=(1, 2), opt=None)
    headers = synapse.to_headers()
    placeholders = {k: v for k, v in headers.items() if k.startswith("bt_header_input_obj_")}
    assert placeholders == {
        "bt_header_input_obj_s": "IiI=",
        "bt_header_input_obj_i": "MA==",
        "bt_header_input_obj_f": "MC4w",
        "bt_header_input_obj_b": "ZmFsc2U=",
        "bt_header_input_obj_xs": "W10=",
        "bt_header_input_obj_d": "e30=",
        "bt_header_input_obj_t": "W10=",
    }
    assert list(headers)[-3:] == ["header_size", "total_size", "computed_body_hash"]
    assert headers["total_size"] == str(synapse.total_size) and synapse.total_size > 0
    assert int(headers["header_size"]) > 0
    assert synapse.header_size == 0  # only the header carries it


def test_to_headers_enum_placeholder_raises_value_error() -> None:
    class Mode(str, Enum):
        A = "a"

    class WithEnum(Synapse):
        mode: Mode

    # The message formats the value as bittensor's f-string does: format() of a mixed-in enum
    # member is str() ("Mode.A") from Python 3.11 on, the value ("a") before.
    shown = "Mode.A" if sys.version_info >= (3, 11) else "a"
    with pytest.raises(ValueError, match=f"Error serializing mode with value {shown}") as info:
        WithEnum(mode="a").to_headers()
    assert isinstance(info.value.__cause__, TypeError)


def test_to_headers_without_terminals_and_timeout_none() -> None:
    synapse = Synapse(axon=None, dendrite=None)
    synapse.timeout = None
    headers = synapse.to_headers()
    assert list(headers) == ["name", "timeout", "header_size", "total_size", "computed_body_hash"]
    assert headers["timeout"] == "None"


def test_parse_headers_to_inputs_follows_bittensor() -> None:
    encoded = base64.b64encode(json.dumps(["a"]).encode()).decode()
    inputs = Prompt.parse_headers_to_inputs(
        {
            "x-bt_header_axon_port": "1",  # substring match, like bittensor
            "bt_header_dendrite_nonce": "5",
            "bt_header_input_obj_prompt": encoded,
            "bt_header_input_obj_axon": encoded,  # never overrides the terminal dicts
            "bt_header_input_obj_completion": "not base64 json",
            "other": "ignored",
            "timeout": "3.5",
        }
    )
    assert inputs == {
        "axon": {"port": "1"},
        "dendrite": {"nonce": "5"},
        "prompt": ["a"],
        "timeout": "3.5",
        "name": None,
        "header_size": None,
        "total_size": None,
        "computed_body_hash": None,
    }


def test_parse_headers_logs_bad_placeholders(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        Prompt.parse_headers_to_inputs({"bt_header_input_obj_prompt": "%%%"})
    assert "bt_header_input_obj_prompt" in caplog.text


def test_from_headers_roundtrip_of_terminals() -> None:
    synapse = Prompt(
        prompt="hello",
        timeout=3.0,
        dendrite=TerminalInfo(nonce=1, uuid="u", hotkey="h", version=10005000, signature="0x00"),
        axon=TerminalInfo(status_code=200, status_message="Success", process_time=0.5, port=1),
    )
    headers = synapse.to_headers()
    parsed = Prompt.from_headers(headers)
    assert parsed.dendrite == synapse.dendrite and parsed.axon == synapse.axon
    assert parsed.prompt == ""  # real values never travel in headers
    assert parsed.computed_body_hash == synapse.body_hash
    assert parsed.timeout == 3.0 and parsed.name == "Prompt"
    assert isinstance(Synapse.from_headers(headers), Synapse)
    with pytest.raises(ValidationError):
        Prompt.from_headers({**headers, "bt_header_dendrite_nonce": "abc"})


terminal_values = st.fixed_dictionaries(
    {},
    optional={
        "status_code": st.integers(100, 599),
        "status_message": st.text(
            st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
            max_size=20,
        ),
        "process_time": st.floats(allow_nan=False, allow_infinity=False),
        "port": st.integers(0, 65535),
        "nonce": st.integers(0, 2**64),
        "uuid": st.uuids().map(str),
    },
)


@given(axon=terminal_values, dendrite=terminal_values)
def test_split_terminal_headers_inverts_to_headers(
    axon: dict[str, Any], dendrite: dict[str, Any]
) -> None:
    synapse = Synapse(axon=TerminalInfo(**axon), dendrite=TerminalInfo(**dendrite))
    assert split_terminal_headers(synapse.to_headers()) == {"axon": axon, "dendrite": dendrite}


def test_split_terminal_headers_is_strict_on_names_and_tolerant_on_values() -> None:
    raw = CIMultiDict(
        [
            ("BT_HEADER_AXON_STATUS_CODE", "200"),  # case-insensitive prefix and name
            ("bt_header_axon_status_message", "Success"),
            ("bt_header_axon_process_time", "0.25"),
            ("bt_header_axon_port", "abc"),  # invalid: dropped
            ("bt_header_axon_code", "1"),  # not a TerminalInfo field
            ("x-bt_header_axon_ip", "1.2.3.4"),  # prefix must start the name
            ("bt_header_dendrite_nonce", "1"),
            ("bt_header_dendrite_nonce", "2"),  # repeated: last wins
            ("bt_header_dendrite_status_code", "2.5"),  # int("2.5") fails: dropped
            ("bt_header_input_obj_prompt", "IiI="),
            ("name", "X"),
        ]
    )
    assert split_terminal_headers(CIMultiDictProxy(raw)) == {
        "axon": {"status_code": 200, "status_message": "Success", "process_time": 0.25},
        "dendrite": {"nonce": 2},
    }
    assert split_terminal_headers({}) == {"axon": {}, "dendrite": {}}


def test_get_size_counts_shared_objects_once() -> None:
    shared = ["x" * 100]
    assert get_size([shared, shared]) == get_size([shared]) + sys.getsizeof([shared, shared]) - (
        sys.getsizeof([shared])
    )
    deep: list[Any] = []
    for _ in range(5000):  # deeper than the recursion limit
        deep = [deep]
    assert get_size(deep) > 0


def test_get_total_size_stores_value() -> None:
    synapse = Prompt(prompt="p" * 1000)
    size = synapse.get_total_size()
    assert size == synapse.total_size > 1000


# ---- streaming ---------------------------------------------------------------------------------


def test_streaming_synapse_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        StreamingSynapse()  # type: ignore[abstract]
    assert inspect.isasyncgenfunction(StreamingSynapse.process_streaming_response)
    assert StreamingSynapse.BTStreamingResponse is BTStreamingResponse
    assert Stream().name == "Stream"


def test_streaming_response_model_requires_a_callable() -> None:
    with pytest.raises(ValidationError):
        BTStreamingResponseModel(token_streamer="nope")  # type: ignore[arg-type]


async def _run(response: BTStreamingResponse) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await response({"type": "http"}, receive, send)
    return sent


async def test_bt_streaming_response_asgi_messages() -> None:
    async def streamer(send: Any) -> None:
        for chunk in (b"a", "é".encode(), b"c"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

    synapse = Stream()
    response = synapse.create_streaming_response(streamer)
    assert isinstance(response, BTStreamingResponse)
    assert response.synapse is synapse and response.token_streamer is streamer
    response.headers.update({"name": "Stream", "bt_header_axon_status_code": "200"})
    sent = await _run(response)
    assert sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"text/event-stream"),
            (b"name", b"Stream"),
            (b"bt_header_axon_status_code", b"200"),
        ],
    }
    assert [m["body"] for m in sent[1:]] == [b"a", "é".encode(), b"c", b""]
    assert [m["more_body"] for m in sent[1:]] == [True, True, True, False]


async def test_bt_streaming_response_ends_cleanly_when_streamer_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def streamer(send: Any) -> None:
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        sent = await _run(Stream().create_streaming_response(streamer))
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert "boom" in caplog.text


def test_synapse_module_does_not_import_aiohttp() -> None:
    code = (
        "import sys, synapsegen.runtime.synapse; "
        "assert 'aiohttp' not in sys.modules, 'aiohttp imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_bt_streaming_response_over_real_uvicorn_and_aiohttp() -> None:
    """Real uvicorn on loopback, real aiohttp: headers up front, raw chunks, clean end."""
    chunks = [b"h\xc3", b"\xa9llo", b" world"]  # a UTF-8 character split across chunks

    async def endpoint(request: Request) -> BTStreamingResponse:
        synapse = Stream(prompt="p", axon=TerminalInfo(status_code=200, status_message="Success"))

        async def streamer(send: Any) -> None:
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        response = synapse.create_streaming_response(streamer)
        response.headers.update(synapse.to_headers())
        return response

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = Starlette(routes=[Route("/Stream", endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"http://127.0.0.1:{port}/Stream", json={}) as response,
        ):
            assert response.status == 200
            assert response.headers["content-type"] == "text/event-stream"
            assert response.headers["bt_header_axon_status_code"] == "200"
            assert split_terminal_headers(response.headers)["axon"] == {
                "status_code": 200,
                "status_message": "Success",
            }
            body = await response.read()
        assert body == b"".join(chunks)
    finally:
        server.should_exit = True
        await serving
        sock.close()


def test_to_headers_honours_an_overridden_get_required_fields() -> None:
    """Bug: to_headers read the cached default, ignoring a subclass's get_required_fields()
    (bittensor 10.5 calls it, so such a subclass sent placeholders ours did not)."""

    class Tagged(Synapse):
        tag: str = "x"

        @classmethod
        def get_required_fields(cls) -> list[str]:
            return ["tag"]

    headers = Tagged().to_headers()
    assert "bt_header_input_obj_tag" in headers
    assert "bt_header_input_obj_tag" not in Synapse().to_headers()
