"""Interop with real bittensor 10.5.0 and 9.0.0, each side in its own process, on 127.0.0.1 only.

- real bittensor Dendrite (bt_side/dendrite_client.py) -> synapsegen runtime Axon (this process);
- synapsegen runtime Dendrite (this process) -> real bittensor Axon (bt_side/axon_server.py).

Every test runs once per release of ``harness.BT_MATRIX`` (the ``bt_version`` fixture below); the
few places where a 9.x peer legitimately differs are spelled out where they are checked
(docs/runtime.md, "bittensor 9.x").

Both sides use the same synapse definitions (bt_side/bt_synapses.py and our_side.py). Every
stream is cut inside multi-byte UTF-8 characters at every piece boundary (common.token_bytes).
Where a case can be produced against both axons, the answers of the real one are the reference.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime import AxonTarget, Dendrite

from .bt_side.common import (
    BLACKLIST_REASON,
    MIDSTREAM_FAIL_PROMPT,
    MIDSTREAM_SENT_PIECES,
    MINER_SS58,
    OTHER_SS58,
    PING_SYNAPSE,
    PLAIN_SYNAPSE,
    RAISE_PROMPT,
    STREAM_SYNAPSE,
    UNSERVED_SYNAPSE,
    VALIDATOR_SS58,
    count_tokens,
    expected_text,
    token_bytes,
)
from .harness import (
    BT_MATRIX,
    BT_VERSION,
    LOOPBACK,
    BtAxonServer,
    BtDendriteClient,
    version_as_int,
)
from .our_side import InteropEcho, InteropStream, InteropUnserved
from .recorder import RecordedRequest, RequestRecorder

# What synapsegen's runtime announces (bt_header_dendrite_version / axon version): bittensor 10.5.
OUR_VERSION_AS_INT = version_as_int(BT_VERSION)
BLACKLIST_MESSAGE = f"Forbidden. Key is blacklisted: {BLACKLIST_REASON}."
INTERNAL_ERROR = re.compile(r"Internal Server Error #[0-9a-f-]{36}")
SIGNATURE_MISMATCH = re.compile(
    r"Not Verified with error: Signature mismatch with "
    r"(\d+)\.(\w+)\.(\w+)\.([0-9a-f-]+)\.([0-9a-f]{64}) and 0x[0-9a-f]{128}"
)
NOT_FOUND = re.compile(rf"Synapse name '{UNSERVED_SYNAPSE}' not found\. Available synapses \[.*\]")
CALL_TIMEOUT_S = 10.0


@pytest.fixture(scope="module", params=BT_MATRIX, ids=lambda version: f"bt{version}")
def bt_version(request: pytest.FixtureRequest) -> str:
    """The bittensor release of the real Axon and Dendrite (every test runs once per release)."""
    return str(request.param)


@pytest.fixture(scope="module")
def bt_version_int(bt_version: str) -> int:
    """``version_as_int`` of the real side: what its Dendrite signs with and its Axon announces."""
    return version_as_int(bt_version)


def _aborts_failed_streams(bt_version: str) -> bool:
    """Whether a real axon of ``bt_version`` ends a stream whose token streamer raised *without*
    the terminating chunk, as ours does: bittensor 9.x does (fastapi 0.110 / starlette 0.37 let
    the exception reach uvicorn after the head was sent), 10.x ends the body cleanly."""
    return int(bt_version.split(".")[0]) < 10


def _same_announced_versions(
    headers: dict[str, list[tuple[str, str]]], name: str, expected: dict[str, int]
) -> None:
    """Check that each side's header ``name`` (if sent) is its own ``version_as_int``, then
    replace the value by a placeholder: the one value that differs between releases by design."""
    for side, pairs in headers.items():
        values = [value for key, value in pairs if key == name]
        assert values in ([], [str(expected[side])]), (side, name, values)
        pairs[:] = [(key, "<version>" if key == name else value) for key, value in pairs]


def _bt_call(client: BtDendriteClient, axon_port: int, **call: Any) -> dict[str, Any]:
    """One call through the real bittensor Dendrite; fails the test if the call itself raised."""
    call.setdefault("hotkey", MINER_SS58)
    call.setdefault("timeout", CALL_TIMEOUT_S)
    result = client.call(port=axon_port, **call)
    assert "error" not in result, result["error"]
    return result


def _assert_success_terminals(
    axon: dict[str, Any], dendrite: dict[str, Any], dendrite_version: int
) -> None:
    """What a successful call leaves in the caller's TerminalInfos (wire_protocol.md §11.4);
    ``dendrite_version`` is the caller's ``version_as_int``."""
    assert axon["status_code"] == 200
    assert axon["status_message"] == "Success"
    assert axon["process_time"] is not None and axon["process_time"] >= 0
    assert axon["hotkey"] == MINER_SS58
    assert axon["ip"] == LOOPBACK
    assert dendrite["status_code"] == 200
    assert dendrite["status_message"] == "Success"
    assert dendrite["hotkey"] == VALIDATOR_SS58
    assert dendrite["version"] == dendrite_version
    assert dendrite["nonce"] is not None and dendrite["uuid"]
    assert re.fullmatch(r"0x[0-9a-f]{128}", dendrite["signature"] or "")
    assert dendrite["process_time"] is not None


# --------------------------------------------------------------------------------------------
# real bittensor Dendrite -> synapsegen Axon
# --------------------------------------------------------------------------------------------


def test_bt_dendrite_streams_split_utf8_from_our_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_version_int: int
) -> None:
    # A non-ASCII prompt: it is hashed (required_hash_fields) and must hash alike on both sides.
    result = _bt_call(bt_dendrite, our_axon.port, synapse=STREAM_SYNAPSE, prompt="ü😀", n_tokens=9)
    expected = expected_text("ü😀", 9)
    assert result["status_code"] == 200, result
    assert result["class"] == STREAM_SYNAPSE
    assert result["completion"] == expected
    assert "".join(result["chunks"]) == expected  # nothing lost or garbled between chunks
    _assert_success_terminals(result["axon"], result["dendrite"], bt_version_int)


def test_bt_dendrite_plain_call_to_our_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_version_int: int
) -> None:
    result = _bt_call(bt_dendrite, our_axon.port, synapse=PLAIN_SYNAPSE, prompt="pl", n_tokens=4)
    assert result["status_code"] == 200, result
    assert result["completion"] == expected_text("pl", 4)
    _assert_success_terminals(result["axon"], result["dendrite"], bt_version_int)


_VOLATILE = {
    "axon": ("process_time", "port", "nonce", "signature", "uuid"),
    "dendrite": ("process_time", "nonce", "signature"),
}


def _stable_view(result: dict[str, Any]) -> dict[str, Any]:
    """A call result without the values that differ from call to call or axon to axon."""
    view: dict[str, Any] = {
        key: result[key]
        for key in ("class", "status_code", "status_message", "axon_status_code", "completion")
    }
    for side, volatile in _VOLATILE.items():
        view[side] = {k: v for k, v in result[side].items() if k not in volatile}
    return view


def test_bt_dendrite_sees_the_same_result_from_our_axon_as_from_real_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    for synapse in (STREAM_SYNAPSE, PLAIN_SYNAPSE):
        ours = _bt_call(bt_dendrite, our_axon.port, synapse=synapse, prompt="eq", n_tokens=5)
        real = _bt_call(bt_dendrite, bt_axon.port, synapse=synapse, prompt="eq", n_tokens=5)
        assert _stable_view(ours) == _stable_view(real)
        assert ours["axon"]["port"] == our_axon.port and real["axon"]["port"] == bt_axon.port


# Values that legitimately differ between two exchanges (time, randomness, ports, object sizes).
_VOLATILE_HEADERS = frozenset(
    {
        "date",
        "content-length",
        "header_size",
        "total_size",
        "bt_header_axon_process_time",
        "bt_header_axon_port",
        "bt_header_axon_nonce",
        "bt_header_axon_uuid",
        "bt_header_axon_signature",
        "bt_header_dendrite_port",
        "bt_header_dendrite_nonce",
        "bt_header_dendrite_uuid",
        "bt_header_dendrite_signature",
    }
)
_VOLATILE_TEXT = (
    (re.compile(r"#[0-9a-f-]{36}"), "#<uuid>"),
    (re.compile(r"\b\d{19}\."), "<nonce>."),
    (re.compile(r"\.[0-9a-f]{8}-[0-9a-f-]{27}\."), ".<uuid>."),
    (re.compile(r"0x[0-9a-f]{128}"), "<signature>"),
)
_VOLATILE_BODY_KEYS = frozenset(
    {"process_time", "port", "nonce", "uuid", "signature", "total_size"}
)


def _mask_text(text: str) -> str:
    for pattern, replacement in _VOLATILE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _mask_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<volatile>" if k in _VOLATILE_BODY_KEYS else _mask_json(v) for k, v in value.items()
        }
    return _mask_text(value) if isinstance(value, str) else value


def _comparable_exchange(raw: dict[str, Any]) -> dict[str, Any]:
    """Status, ordered header names and values, and JSON body, with volatile values masked.

    Header names are compared case-insensitively: uvicorn's h11 (bittensor's venv) writes
    ``Transfer-Encoding``, its httptools implementation ``transfer-encoding``.
    """
    headers = [
        (name.lower(), "<volatile>" if name.lower() in _VOLATILE_HEADERS else _mask_text(value))
        for name, value in raw["headers"]
    ]
    body = raw.get("body")
    return {
        "status": raw["status"],
        "headers": headers,
        "body": _mask_json(json.loads(body)) if body is not None else None,
    }


@pytest.mark.parametrize(
    ("synapse", "prompt", "key", "axon_hotkey"),
    [
        (STREAM_SYNAPSE, "ok", "validator", MINER_SS58),
        (PLAIN_SYNAPSE, "ok", "validator", MINER_SS58),
        (PLAIN_SYNAPSE, "bl", "other", MINER_SS58),
        (PLAIN_SYNAPSE, "sig", "validator", OTHER_SS58),
        (STREAM_SYNAPSE, RAISE_PROMPT, "validator", MINER_SS58),
        (UNSERVED_SYNAPSE, "x", "validator", MINER_SS58),
        (PING_SYNAPSE, "", "validator", MINER_SS58),
        (PING_SYNAPSE, "", "other", MINER_SS58),
    ],
    ids=[
        "stream-200",
        "plain-200",
        "blacklist-403",
        "bad-signature-401",
        "raise-500",
        "404",
        "ping-200",
        "ping-other-key-200",
    ],
)
def test_our_axon_answers_bt_dendrite_with_the_real_axons_bytes(
    bt_dendrite: BtDendriteClient,
    our_axon: Any,
    bt_axon: BtAxonServer,
    synapse: str,
    prompt: str,
    key: str,
    axon_hotkey: str,
    bt_version_int: int,
) -> None:
    exchanges = {}
    for side, port in (("ours", our_axon.port), ("real", bt_axon.port)):
        result = _bt_call(
            bt_dendrite,
            port,
            synapse=synapse,
            prompt=prompt,
            n_tokens=3,
            key=key,
            hotkey=axon_hotkey,
            capture_raw=True,
        )
        exchanges[side] = _comparable_exchange(result["raw"])
    # Each axon announces its own release on its error answers (a 9.x one its 9.x number).
    _same_announced_versions(
        {side: exchange["headers"] for side, exchange in exchanges.items()},
        "bt_header_axon_version",
        {"ours": OUR_VERSION_AS_INT, "real": bt_version_int},
    )
    assert exchanges["ours"]["status"] == exchanges["real"]["status"]
    assert [n for n, _ in exchanges["ours"]["headers"]] == [
        n for n, _ in exchanges["real"]["headers"]
    ]
    assert exchanges["ours"] == exchanges["real"]


def test_bt_dendrite_blacklisted_by_our_axon_sees_403_like_real_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    for synapse in (STREAM_SYNAPSE, PLAIN_SYNAPSE):
        ours = _bt_call(
            bt_dendrite, our_axon.port, synapse=synapse, prompt="bl", n_tokens=2, key="other"
        )
        real = _bt_call(
            bt_dendrite, bt_axon.port, synapse=synapse, prompt="bl", n_tokens=2, key="other"
        )
        assert real["status_code"] == 403 and real["status_message"] == BLACKLIST_MESSAGE, real
        for result in (ours, real):
            assert result["status_code"] == 403, (synapse, result)
            assert result["axon_status_code"] == 403
            assert result["status_message"] == BLACKLIST_MESSAGE
            assert result["axon_status_message"] == BLACKLIST_MESSAGE
            assert not result["completion"]
            assert result["axon"]["hotkey"] == MINER_SS58


def test_bt_dendrite_request_rejected_by_our_verify_fn_gets_401(
    bt_dendrite: BtDendriteClient, keypairs: dict[str, Keypair]
) -> None:
    from .our_side import start_our_axon

    def refuse(synapse: InteropEcho) -> None:
        raise ValueError("refused by the test's verify_fn")

    axon = start_our_axon(keypairs["miner"], echo_verify=refuse)
    try:
        result = _bt_call(bt_dendrite, axon.port, synapse=PLAIN_SYNAPSE, prompt="v", n_tokens=1)
    finally:
        axon.stop()
    assert result["status_code"] == 401, result
    assert result["status_message"] == "Not Verified with error: refused by the test's verify_fn"
    assert result["completion"] == ""


def test_bt_dendrite_signing_for_another_axon_gets_401_like_real_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    # A genuine bittensor signature, but over a message naming another axon's hotkey: both axons
    # must rebuild the message with their own hotkey and reject it.
    results = {
        "ours": _bt_call(
            bt_dendrite,
            our_axon.port,
            synapse=PLAIN_SYNAPSE,
            prompt="s",
            n_tokens=1,
            hotkey=OTHER_SS58,
        ),
        "real": _bt_call(
            bt_dendrite,
            bt_axon.port,
            synapse=PLAIN_SYNAPSE,
            prompt="s",
            n_tokens=1,
            hotkey=OTHER_SS58,
        ),
    }
    for side, result in results.items():
        assert result["status_code"] == 401, (side, result)
        match = SIGNATURE_MISMATCH.fullmatch(result["status_message"] or "")
        assert match, (side, result["status_message"])
        # The message the axon checked names its own hotkey, not the one that was signed.
        assert match.group(2) == VALIDATOR_SS58 and match.group(3) == MINER_SS58, side


def test_bt_dendrite_unknown_synapse_gets_404_from_our_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    for side, port in (("ours", our_axon.port), ("real", bt_axon.port)):
        result = _bt_call(bt_dendrite, port, synapse=UNSERVED_SYNAPSE, prompt="x")
        assert result["status_code"] == 404, (side, result)
        assert NOT_FOUND.fullmatch(result["status_message"] or ""), (side, result)


def test_bt_dendrite_sees_500_when_our_forward_raises(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    for synapse in (STREAM_SYNAPSE, PLAIN_SYNAPSE):
        for side, port in (("ours", our_axon.port), ("real", bt_axon.port)):
            result = _bt_call(bt_dendrite, port, synapse=synapse, prompt=RAISE_PROMPT, n_tokens=3)
            assert result["status_code"] == 500, (side, synapse, result)
            assert INTERNAL_ERROR.fullmatch(result["status_message"] or ""), (side, result)
            assert not result["completion"]


# A stream whose token source fails two pieces in, i.e. inside a character; the text before the
# cut is what every client keeps.
MIDSTREAM_TEXT = b"".join(token_bytes(MIDSTREAM_FAIL_PROMPT, 6)[:MIDSTREAM_SENT_PIECES]).decode(
    "utf-8", "ignore"
)
# A stream far longer than the client's timeout (400 pieces, 2 ms apart, against 0.3 s).
SLOW_TOKENS, SHORT_TIMEOUT_S = 400, 0.3


def test_bt_dendrite_sees_a_midstream_failure_of_our_axon_as_a_failure(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer, bt_version: str
) -> None:
    """The token source raises two pieces in. Our axon aborts the chunked body (no terminating
    chunk: docs/runtime.md, "Failed streams look failed"), and a real bittensor dendrite (10.5 and
    9.0) reports 400 "Payload error: Response payload is not completed ..." after yielding the
    pieces that came. A real 10.x axon ends the body cleanly instead; here its client fails only
    because the cut falls inside a character (422 from the subclass), at a character boundary it
    sees 200. A real 9.x axon aborts the body like ours (the same 400)."""
    ours = _bt_call(
        bt_dendrite, our_axon.port, synapse=STREAM_SYNAPSE, prompt=MIDSTREAM_FAIL_PROMPT, n_tokens=6
    )
    assert ours["status_code"] == 400, ours
    assert ours["status_message"].startswith("Payload error: Response payload is not completed"), (
        ours
    )
    assert "".join(ours["chunks"]) == MIDSTREAM_TEXT
    real = _bt_call(
        bt_dendrite, bt_axon.port, synapse=STREAM_SYNAPSE, prompt=MIDSTREAM_FAIL_PROMPT, n_tokens=6
    )
    if _aborts_failed_streams(bt_version):
        assert (real["status_code"], real["status_message"]) == (
            ours["status_code"],
            ours["status_message"],
        ), real
    else:
        assert real["status_code"] == 422, real
        assert real["status_message"].startswith("Failed to parse response: "), real
    assert "".join(real["chunks"]) == MIDSTREAM_TEXT
    # The aborted connection is closed; the next call from the same Dendrite is served.
    after = _bt_call(bt_dendrite, our_axon.port, synapse=STREAM_SYNAPSE, prompt="af", n_tokens=3)
    assert after["status_code"] == 200, after
    assert after["completion"] == expected_text("af", 3)


def test_bt_dendrite_times_out_on_our_slow_stream_like_real_axon(
    bt_dendrite: BtDendriteClient, our_axon: Any, bt_axon: BtAxonServer
) -> None:
    for side, port in (("ours", our_axon.port), ("real", bt_axon.port)):
        result = _bt_call(
            bt_dendrite,
            port,
            synapse=STREAM_SYNAPSE,
            prompt="sl",
            n_tokens=SLOW_TOKENS,
            timeout=SHORT_TIMEOUT_S,
        )
        assert result["status_code"] == 408, (side, result)
        assert result["status_message"] == f"Request timeout after {SHORT_TIMEOUT_S} seconds"
        assert expected_text("sl", SLOW_TOKENS).startswith("".join(result["chunks"])), side
    after = _bt_call(bt_dendrite, our_axon.port, synapse=PLAIN_SYNAPSE, prompt="ok", n_tokens=2)
    assert after["status_code"] == 200, after


def test_bt_dendrites_concurrent_streams_from_our_axon_do_not_mix(
    bt_dendrite: BtDendriteClient, our_axon: Any
) -> None:
    # One Dendrite per call: a single bittensor Dendrite racing its own nonces is bittensor's
    # known limitation (wire_protocol.md §8.6), not what this test is about.
    calls = [
        {
            "target": {"ip": LOOPBACK, "port": our_axon.port, "hotkey": MINER_SS58},
            "synapse": STREAM_SYNAPSE,
            "prompt": f"c{index}",
            "n_tokens": 12 + index,
            "timeout": CALL_TIMEOUT_S,
            "fresh_dendrite": True,
        }
        for index in range(5)
    ]
    results = bt_dendrite.calls(calls, concurrent=True)
    for index, result in enumerate(results):
        assert "error" not in result, result["error"]
        assert result["status_code"] == 200, result
        assert result["completion"] == expected_text(f"c{index}", 12 + index)
        assert "".join(result["chunks"]) == result["completion"]


# --------------------------------------------------------------------------------------------
# synapsegen Dendrite -> real bittensor Axon
# --------------------------------------------------------------------------------------------


@pytest.fixture
async def dendrite(keypairs: dict[str, Keypair]) -> AsyncIterator[Dendrite]:
    """Our Dendrite with the validator key."""
    async with Dendrite(keypairs["validator"]) as client:
        yield client


def _target(server: BtAxonServer) -> AxonTarget:
    return AxonTarget(ip=server.ip, port=server.port, hotkey=server.hotkey)


async def _our_call(
    dendrite: Dendrite, server: BtAxonServer, synapse: Any, timeout: float = CALL_TIMEOUT_S
) -> Any:
    """Call with our Dendrite; return the filled-in synapse (a stream's generator if streaming)."""
    return await dendrite.forward(_target(server), synapse, timeout=timeout, deserialize=False)


async def _our_stream(
    dendrite: Dendrite, server: BtAxonServer, synapse: Any
) -> tuple[list[Any], Any]:
    """Stream with our Dendrite; return (the items before the last, the last item)."""
    stream = await dendrite.forward(
        _target(server), synapse, timeout=CALL_TIMEOUT_S, deserialize=False, streaming=True
    )
    items = [item async for item in stream]
    assert items, "call_stream yielded nothing"
    return items[:-1], items[-1]


async def test_our_dendrite_streams_split_utf8_from_bt_axon(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    chunks, final = await _our_stream(dendrite, bt_axon, InteropStream(prompt="ß€", n_tokens=11))
    expected = expected_text("ß€", 11)
    assert isinstance(final, InteropStream)
    assert final.dendrite.status_code == 200, final.dendrite
    assert all(isinstance(chunk, str) for chunk in chunks)
    assert "".join(chunks) == expected
    assert final.completion == expected
    assert count_tokens(final.completion) == 11
    _assert_success_terminals(
        final.axon.model_dump(), final.dendrite.model_dump(), OUR_VERSION_AS_INT
    )


async def test_our_dendrite_plain_call_to_bt_axon(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    result = await _our_call(dendrite, bt_axon, InteropEcho(prompt="pc", n_tokens=3))
    assert isinstance(result, InteropEcho)
    assert result.dendrite.status_code == 200, result.dendrite
    assert result.completion == expected_text("pc", 3)
    assert result.prompt == "pc" and result.n_tokens == 3
    _assert_success_terminals(
        result.axon.model_dump(), result.dendrite.model_dump(), OUR_VERSION_AS_INT
    )


async def test_our_dendrite_records_bt_blacklist_403(
    bt_axon: BtAxonServer, keypairs: dict[str, Keypair]
) -> None:
    async with Dendrite(keypairs["other"]) as dendrite:
        chunks, streamed = await _our_stream(
            dendrite, bt_axon, InteropStream(prompt="bl", n_tokens=3)
        )
        plain = await _our_call(dendrite, bt_axon, InteropEcho(prompt="bl", n_tokens=3))
    assert chunks == []  # the error body is not taken for tokens
    for synapse in (streamed, plain):
        assert synapse.dendrite.status_code == 403, synapse.dendrite
        assert synapse.dendrite.status_message == BLACKLIST_MESSAGE
        assert synapse.axon.status_code == 403
        assert synapse.axon.status_message == BLACKLIST_MESSAGE
        assert synapse.is_blacklist and not synapse.is_success
        assert synapse.completion == ""


async def test_our_dendrite_records_bt_forward_exception_500(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    chunks, streamed = await _our_stream(
        dendrite, bt_axon, InteropStream(prompt=RAISE_PROMPT, n_tokens=3)
    )
    plain = await _our_call(dendrite, bt_axon, InteropEcho(prompt=RAISE_PROMPT, n_tokens=3))
    assert chunks == []
    for synapse in (streamed, plain):
        assert synapse.dendrite.status_code == 500, synapse.dendrite
        assert INTERNAL_ERROR.fullmatch(synapse.dendrite.status_message or "")
        assert synapse.axon.status_code == 500
        assert synapse.completion == ""


async def test_our_dendrite_unknown_synapse_gets_404_from_bt_axon(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    result = await _our_call(dendrite, bt_axon, InteropUnserved(prompt="x"))
    assert result.dendrite.status_code == 404, result.dendrite
    assert NOT_FOUND.fullmatch(result.dendrite.status_message or "")


async def test_our_dendrite_concurrent_streams_from_bt_axon_do_not_mix(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    # One Dendrite for all five: its uuid lanes must keep the real axon's nonce check happy.
    outcomes = await asyncio.gather(
        *(
            _our_stream(dendrite, bt_axon, InteropStream(prompt=f"k{i}", n_tokens=10 + i))
            for i in range(5)
        )
    )
    for index, (chunks, final) in enumerate(outcomes):
        expected = expected_text(f"k{index}", 10 + index)
        assert final.dendrite.status_code == 200, (index, final.dendrite)
        assert final.completion == expected
        assert "".join(chunks) == expected


async def test_our_dendrite_reports_bt_midstream_failure_and_recovers(
    bt_axon: BtAxonServer, dendrite: Dendrite, bt_version: str
) -> None:
    chunks, failed = await _our_stream(
        dendrite, bt_axon, InteropStream(prompt=MIDSTREAM_FAIL_PROMPT, n_tokens=6)
    )
    # The next call may reuse the connection the failed stream ran on.
    chunks_after, after = await _our_stream(
        dendrite, bt_axon, InteropStream(prompt="af", n_tokens=3)
    )
    if _aborts_failed_streams(bt_version):
        # A 9.x axon aborts the body: our Dendrite reports the incomplete payload.
        assert failed.dendrite.status_code == 400, failed.dendrite
        assert (failed.dendrite.status_message or "").startswith(
            "Payload error: Response payload is not completed"
        )
    else:
        assert failed.dendrite.status_code == 422, failed.dendrite
        assert (failed.dendrite.status_message or "").startswith("Failed to parse response: ")
    assert "".join(chunks) == MIDSTREAM_TEXT
    assert after.dendrite.status_code == 200, after.dendrite
    assert after.completion == "".join(chunks_after) == expected_text("af", 3)


async def test_our_dendrite_times_out_on_bt_slow_stream(
    bt_axon: BtAxonServer, dendrite: Dendrite
) -> None:
    stream = await _our_call(
        dendrite,
        bt_axon,
        InteropStream(prompt="sl", n_tokens=SLOW_TOKENS),
        timeout=SHORT_TIMEOUT_S,
    )
    items = [item async for item in stream]
    chunks, final = items[:-1], items[-1]
    after = await _our_call(dendrite, bt_axon, InteropEcho(prompt="ok", n_tokens=2))
    assert final.dendrite.status_code == 408, final.dendrite
    assert final.dendrite.status_message == f"Request timeout after {SHORT_TIMEOUT_S} seconds"
    assert final.is_timeout
    assert expected_text("sl", SLOW_TOKENS).startswith("".join(chunks))
    assert after.dendrite.status_code == 200, after.dendrite


_VOLATILE_REQUEST_HEADERS = frozenset(
    {
        "content-length",
        "user-agent",
        "total_size",
        "bt_header_dendrite_nonce",
        "bt_header_dendrite_uuid",
        "bt_header_dendrite_signature",
    }
)


def _comparable_request(request: RecordedRequest) -> dict[str, Any]:
    """Request line, ordered headers and JSON body, with per-request values masked."""
    headers = [
        (name, "<volatile>" if name.lower() in _VOLATILE_REQUEST_HEADERS else value)
        for name, value in request.headers
    ]
    return {
        "request_line": request.request_line,
        "headers": headers,
        "body": _mask_json(json.loads(request.body)),
    }


async def test_our_dendrite_sends_what_the_real_dendrite_sends(
    bt_dendrite: BtDendriteClient, keypairs: dict[str, Keypair], bt_version_int: int
) -> None:
    """Both clients' requests, captured raw: same line, header names/order/values, same body."""
    with RequestRecorder() as recorder:
        target = AxonTarget(ip=LOOPBACK, port=recorder.port, hotkey=MINER_SS58)
        async with Dendrite(keypairs["validator"]) as dendrite:
            for ours in (
                InteropStream(prompt="rq", n_tokens=3),
                InteropEcho(prompt="rq", n_tokens=3),
            ):
                name = type(ours).__name__
                real = _bt_call(bt_dendrite, recorder.port, synapse=name, prompt="rq", n_tokens=3)
                assert real["status_code"] == 404, real
                reply = await dendrite.forward(
                    target, ours, timeout=CALL_TIMEOUT_S, deserialize=False
                )
                if isinstance(ours, InteropStream):
                    items = [item async for item in reply]
                    reply = items[-1]
                assert reply.dendrite.status_code == 404, reply.dendrite
    assert not recorder.errors, recorder.errors
    assert len(recorder.requests) == 4
    for real_request, our_request in zip(
        recorder.requests[::2], recorder.requests[1::2], strict=True
    ):
        real_view, our_view = _comparable_request(real_request), _comparable_request(our_request)
        # Each signs with its own release's number (a 9.x dendrite with its 9.x one), in the
        # version header and in the body's dendrite block; nothing else may differ.
        versions = {"ours": OUR_VERSION_AS_INT, "real": bt_version_int}
        views = {"ours": our_view, "real": real_view}
        _same_announced_versions(
            {side: view["headers"] for side, view in views.items()},
            "bt_header_dendrite_version",
            versions,
        )
        for side, view in views.items():
            assert view["body"]["dendrite"]["version"] == versions[side], side
            view["body"]["dendrite"]["version"] = "<version>"
        assert [n for n, _ in our_view["headers"]] == [n for n, _ in real_view["headers"]]
        assert our_view == real_view
