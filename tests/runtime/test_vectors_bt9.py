"""The bittensor 9.0.0 recordings of ``tests/vectors/bt9/`` against the runtime.

The same cases as the 10.5.0 files were replayed on bittensor 9.0.0 by
``tests/interop/record_vectors.py``; each file's ``version_comparison`` lists what differs from
10.5.0. This module pins what that means for the runtime (docs/runtime.md, "bittensor 9.x"):

- the differences between the two releases are exactly the documented ones;
- header encoding, body hash, dumps and parsing: our ``Synapse`` reproduces the 9.0.0 recordings
  (with 9.0.0's ``version_as_int`` as the dendrite's version);
- requests captured from a real 9.0.0 Dendrite verify, parse and hash alike here;
- the 18 raw exchanges with a real 9.0.0 Axon, replayed against our Axon: same status, header
  names, order and values, and body, except that our Axon announces its own version and refuses an
  unsigned request with its own message (both 401).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime.axon import Axon
from synapsegen.runtime.signing import VERSION_AS_INT, request_message, verify
from synapsegen.runtime.synapse import Synapse, TerminalInfo

from ._vectors import VECTORS_DIR, headers_classes
from ._wire import axon_signature_verifies, status_line_here
from .test_axon_vectors import (
    CASE_IDS,
    INFORMATIONAL,
    Vectors,
    _decode,
    axon,  # noqa: F401 (the fixture: our Axon dressed as the recorded one)
    exchange,
    expected_pattern,
    render_request,
    signed_values,
)

BT9_DIR = VECTORS_DIR / "bt9"
BT9_VERSION_AS_INT = 9000000
SIZE_HEADERS = {"header_size", "total_size"}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((BT9_DIR / name).read_text(encoding="utf-8"))
    return data


HEADERS = _load("headers.json")
SIGNATURES = _load("signatures.json")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the legacy-form class warns by design
    _, CLASSES = headers_classes()

# What 9.0.0 does differently from 10.5.0, as (file, case id or section, path) of the recorded
# version_comparison, besides the aiohttp version in every request's User-Agent (and the
# Content-Length one digit shorter, for the 7-digit version_as_int).
KNOWN_DIFFERENCES = {
    ("headers.json", None, "conventions.version"),
    # 9.0.0's wallet check of a missing signature raises; 10.5.0 refuses it by name.
    ("responses.json", "missing_signature", "response.headers[5][1]"),
    ("responses.json", "missing_signature", "response.headers[24][1]"),
    ("responses.json", "missing_signature", "response.body.data"),
    ("responses.json", "missing_signature", "summary.json_message"),
    ("responses.json", "missing_signature", "summary.bt_header_axon_status_message"),
    # A failed stream: 9.x (starlette 0.37) ends the body without its terminating chunk.
    ("responses.json", "stream_fails_mid_stream", "response.body.data"),
    ("responses.json", "stream_fails_mid_stream", "response.complete"),
    # ... so a 9.x Dendrite reports it as a payload error, in aiohttp 3.10's words.
    ("dendrite_errors.json", "disconnect_mid_stream", "exception_seen.message"),
    ("dendrite_errors.json", "disconnect_mid_stream", "dendrite_status_message"),
    # A 9.x Axon's failed stream, seen by a 9.x Dendrite: 400 Payload error, not 200 with a
    # truncated text (10.5.0), nor the subclass's own 422 when the cut splits a character.
    *(
        ("dendrite_errors.json", "stream_server_fails_mid_stream", path)
        for path in (
            "exception_seen",
            "dendrite_status_code",
            "dendrite_status_message",
            "axon_status_code",
            "axon_status_message",
            "status_helpers.is_success",
            "status_helpers.is_failure",
            "final_completion",
        )
    ),
    *(
        ("dendrite_errors.json", "stream_server_fails_mid_character", path)
        for path in (
            "exception_seen.type",
            "exception_seen.message",
            "dendrite_status_code",
            "dendrite_status_message",
        )
    ),
}


def test_recorded_release_and_environment() -> None:
    for name in ("headers.json", "body_hash.json", "signatures.json", "responses.json",
                 "dendrite_errors.json"):  # fmt: skip
        data = _load(name)
        assert data["environment"]["bittensor"] == "9.0.0"
        assert data["environment"]["version_as_int"] == BT9_VERSION_AS_INT
        assert data["version_comparison"]["other"]["bittensor"] == "10.5.0"


def test_bt9_differs_from_10_5_only_where_documented() -> None:
    found = set()
    for name in ("headers.json", "body_hash.json", "signatures.json", "responses.json",
                 "dendrite_errors.json"):  # fmt: skip
        for entry in _load(name)["version_comparison"]["differences"]:
            for difference in entry["differences"]:
                path = difference["path"]
                if entry.get("id") is not None:
                    path = path.removeprefix(f"{entry['id']}.")
                primary, other = str(difference["primary"]), str(difference["other"])
                if primary.startswith("Python/3.11 aiohttp/"):
                    assert other.startswith("Python/3.11 aiohttp/")
                    continue
                if (
                    path.startswith(("request.headers[", "headers["))
                    and primary.isdigit()
                    and int(other) - int(primary) == 1
                ):
                    continue  # Content-Length: "9000000" is one digit shorter than "10005000"
                found.add((name, entry.get("id"), path))
    assert found == KNOWN_DIFFERENCES


# ---- headers.json, body hash, signed requests --------------------------------------------------


def _build(case: dict[str, Any]) -> Synapse:
    synapse = CLASSES[case["class"]](**case["values"])
    synapse.timeout = case["timeout"]
    synapse.dendrite = TerminalInfo(**case["dendrite"])
    synapse.axon = TerminalInfo(**case["axon"])
    synapse.get_total_size()
    return synapse


HEADER_CASES = [case for case in HEADERS["cases"] if "headers" in case]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda case: case["id"])
def test_our_synapse_writes_what_bittensor_9_writes(case: dict[str, Any]) -> None:
    synapse = _build(case)
    assert synapse.dendrite is not None and synapse.dendrite.version in (BT9_VERSION_AS_INT, None)
    assert synapse.body_hash == case["body_hash"]
    headers = synapse.to_headers()
    assert list(headers) == [name for name, _ in case["headers"]]
    for name, value in case["headers"]:
        assert headers[name].isdigit() if name in SIZE_HEADERS else headers[name] == value, name
    synapse.total_size = case["model_dump_json"]["total_size"]
    assert json.dumps(synapse.model_dump()) == case["post_body"]
    expected = case["from_headers"]
    if expected["ok"]:
        parsed = CLASSES[case["class"]].from_headers(dict(case["headers"]))
        assert parsed.model_dump(mode="json") == expected["model_dump_json"]


@pytest.mark.parametrize(
    "request_", SIGNATURES["signed_requests"], ids=lambda request_: request_["id"]
)
def test_requests_of_a_bittensor_9_dendrite_verify_and_parse(request_: dict[str, Any]) -> None:
    cls = CLASSES[request_["class"]]
    headers = dict(request_["headers"])
    assert headers["bt_header_dendrite_version"] == str(BT9_VERSION_AS_INT)
    parsed = cls.from_headers(headers)
    assert parsed.model_dump(mode="json") == request_["expected"]["from_headers"]["model_dump_json"]
    assert parsed.dendrite is not None and parsed.axon is not None
    message = request_message(
        parsed.dendrite.nonce,
        parsed.dendrite.hotkey,
        parsed.axon.hotkey,
        parsed.dendrite.uuid,
        headers["computed_body_hash"],
    )
    assert message == request_["expected"]["signature_message"]
    assert verify(parsed.dendrite.hotkey, message, headers["bt_header_dendrite_signature"])
    from_body = cls(**json.loads(request_["body"]))
    assert from_body.body_hash == headers["computed_body_hash"]
    assert json.dumps(from_body.model_dump()) == request_["body"]


# ---- responses.json: our Axon answers 9.x requests as the 9.x Axon did --------------------------


@pytest.fixture(scope="module")
def vectors_dir() -> Path:
    """The 9.0.0 recordings (the ``axon`` fixture of test_axon_vectors reads them through
    ``vectors`` below)."""
    return BT9_DIR


@pytest.fixture(scope="module")
def vectors(vectors_dir: Path) -> Vectors:
    responses = json.loads((vectors_dir / "responses.json").read_text(encoding="utf-8"))
    by_address = {
        entry["ss58_address"]: Keypair.create_from_seed(entry["seed_hex"])
        for entry in SIGNATURES["keypairs"]
    }
    return Vectors(
        cases={case["id"]: case for case in responses["cases"]},
        recorded_axon=responses["axon"],
        miner=by_address[responses["axon"]["hotkey"]],
        validator=by_address[responses["dendrite"]["hotkey"]],
    )


def test_case_list_matches_10_5(vectors: Vectors) -> None:
    assert sorted(vectors.cases) == sorted(CASE_IDS)


@pytest.mark.parametrize("case_id", CASE_IDS)
async def test_our_axon_answers_a_bittensor_9_request_as_its_axon_did(
    case_id: str,
    vectors: Vectors,
    axon: Axon,  # noqa: F811 (the imported fixture)
) -> None:
    case = vectors.cases[case_id]
    assert dict(case["request"]["headers"])["bt_header_dendrite_version"] == str(BT9_VERSION_AS_INT)
    values = signed_values(case, vectors, axon.port)
    request = render_request(case, values)
    if case_id == "replayed_nonce_401":
        first = await exchange(axon.port, request)
        assert first.status_line == "HTTP/1.1 200 OK"
    reply = await exchange(axon.port, request)

    recorded = case["response"]
    assert reply.status_line == status_line_here(recorded["status_line"])
    known = {**values, "<client_port>": str(reply.client_port)}
    expected_headers = [tuple(h) for h in recorded["headers"]]
    if case_id == "missing_signature":
        # 9.0.0 passes None to the wallet's verify, which raises "Unsupported signature format.
        # Expected str or bytes."; we refuse it by name, as 10.5.0 does. Same 401.
        message = "Not Verified with error: Missing Signature"
        expected_headers = [
            (name, message if name == "bt_header_axon_status_message" else value)
            for name, value in expected_headers
        ]
        recorded = {**recorded, "body": {"encoding": "utf-8", "data": json.dumps(
            {"message": message}, separators=(",", ":"))}}  # fmt: skip
    assert [k.lower() for k, _ in reply.headers] == [k.lower() for k, _ in expected_headers]
    for (name, value), (expected_name, expected_value) in zip(
        reply.headers, expected_headers, strict=True
    ):
        if expected_name.lower() != "transfer-encoding":
            assert name == expected_name
        if name in INFORMATIONAL:
            assert value.isdigit(), (name, value)
        elif name == "content-length":
            assert value == str(len(reply.body))
            if expected_value != "<content_length>" and case_id != "missing_signature":
                assert value == expected_value
        elif name == "bt_header_axon_version":
            # Each axon announces its own release: 9000000 there, ours here.
            assert expected_value == str(BT9_VERSION_AS_INT)
            assert value == str(VERSION_AS_INT)
        else:
            assert expected_pattern(expected_value, known).fullmatch(value), (name, value)
    headers = dict(reply.headers)
    if "bt_header_axon_signature" in headers:
        assert axon_signature_verifies(headers, vectors.miner)
    if recorded.get("chunked"):
        assert reply.chunks == [_decode(chunk) for chunk in recorded["chunks"]]
        # A failed stream ends without its terminating chunk on both (9.x by starlette 0.37).
        assert reply.complete is recorded.get("complete", True)
    else:
        expected_body = _decode(recorded["body"]).decode("utf-8")
        assert expected_pattern(expected_body, known).fullmatch(reply.body.decode("utf-8"))
