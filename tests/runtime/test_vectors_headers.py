"""headers.json: to_headers(), body_hash, dumps and from_headers() against real bittensor 10.5.0."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from synapsegen.runtime.synapse import Synapse, TerminalInfo

from ._vectors import VECTORS_DIR, formatted_here, headers_classes, load, raises_as_recorded

DATA = load("headers.json")
CASES = DATA["cases"]
# Informational headers: compared by presence only (CPython-specific sizes, see vectors/README.md).
SIZE_HEADERS = {"header_size", "total_size"}

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the legacy-form class warns by design
    BUILDER, CLASSES = headers_classes()


def build(case: dict[str, Any]) -> Synapse:
    """The synapse of a case, set up as the recorder did."""
    synapse = CLASSES[case["class"]](**case["values"])
    synapse.timeout = case["timeout"]
    if "dendrite" in case:
        synapse.dendrite = TerminalInfo(**case["dendrite"])
    if "axon" in case:
        synapse.axon = TerminalInfo(**case["axon"])
    synapse.get_total_size()  # as every real flow does before to_headers()
    return synapse


def without_sizes(dumped: dict[str, Any]) -> dict[str, Any]:
    assert "total_size" in dumped and "header_size" in dumped
    return {k: v for k, v in dumped.items() if k not in SIZE_HEADERS}


def assert_validation_error(exc: ValidationError, expected: dict[str, Any]) -> None:
    assert expected["type"] == "ValidationError"
    assert str(exc).splitlines()[0] == expected["message"]
    got = [(e["type"], list(e["loc"]), e["msg"]) for e in exc.errors()]
    assert got == [(e["type"], e["loc"], e["msg"]) for e in expected["errors"]]


def test_every_class_in_the_file_is_exercised() -> None:
    assert {case["class"] for case in CASES} == set(DATA["classes"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_to_headers(case: dict[str, Any]) -> None:
    synapse = build(case)
    if "to_headers_error" in case:
        expected = case["to_headers_error"]
        fields = {name: getattr(synapse, name) for name in case["values"]}
        expected = {**expected, "message": formatted_here(expected["message"], fields)}
        error = raises_as_recorded(synapse.to_headers, ValueError, expected)
        assert type(error.__cause__).__name__ == expected["cause"]["type"]
        return
    headers = synapse.to_headers()
    assert list(headers) == [name for name, _ in case["headers"]]
    for name, value in case["headers"]:
        if name in SIZE_HEADERS:
            assert headers[name].isdigit()
        else:
            assert headers[name] == value, name
    assert all(isinstance(v, str) for v in headers.values())
    # to_headers() stores the total size it sends
    assert headers["total_size"] == str(synapse.total_size)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_body_hash(case: dict[str, Any]) -> None:
    assert build(case).body_hash == case["body_hash"]


@pytest.mark.parametrize("case", [c for c in CASES if "headers" in c], ids=lambda c: c["id"])
def test_dumps_and_post_body(case: dict[str, Any]) -> None:
    synapse = build(case)
    synapse.to_headers()
    expected = case["model_dump_json"]
    assert without_sizes(synapse.model_dump(mode="json")) == without_sizes(expected)
    assert list(synapse.model_dump(mode="json")) == list(expected)  # dump order
    # With the recorded total_size, the POST body (json.dumps of model_dump(), as aiohttp sends
    # it) is byte-identical.
    synapse.total_size = expected["total_size"]
    assert json.dumps(synapse.model_dump()) == case["post_body"]


def _check_from_headers(cls: type[Synapse], headers: dict[str, str], expected: dict[str, Any]):
    if expected["ok"]:
        parsed = cls.from_headers(headers)
        assert type(parsed) is cls
        assert parsed.model_dump(mode="json") == expected["model_dump_json"]
    else:
        with pytest.raises(ValidationError) as info:
            cls.from_headers(headers)
        assert_validation_error(info.value, expected["error"])


@pytest.mark.parametrize("case", [c for c in CASES if "headers" in c], ids=lambda c: c["id"])
def test_from_headers_recorded(case: dict[str, Any]) -> None:
    """Parse the recorded header bytes with the same class and with the base Synapse."""
    headers = dict(case["headers"])
    _check_from_headers(CLASSES[case["class"]], headers, case["from_headers"])
    _check_from_headers(Synapse, headers, case["base_synapse_from_headers"])


@pytest.mark.parametrize("case", [c for c in CASES if "headers" in c], ids=lambda c: c["id"])
def test_from_own_headers(case: dict[str, Any]) -> None:
    """Our own headers parse to the same result, apart from the informational sizes."""
    headers = build(case).to_headers()
    expected = case["from_headers"]
    cls = CLASSES[case["class"]]
    if not expected["ok"]:
        with pytest.raises(ValidationError):
            cls.from_headers(headers)
        return
    parsed = cls.from_headers(headers).model_dump(mode="json")
    assert without_sizes(parsed) == without_sizes(expected["model_dump_json"])
    assert parsed["header_size"] == int(headers["header_size"])


def test_required_fields_match_schema_required() -> None:
    for name, desc in DATA["classes"].items():
        assert CLASSES[name].get_required_fields() == desc["schema_required"], name


def test_effective_hash_fields() -> None:
    for name, desc in DATA["classes"].items():
        assert list(CLASSES[name].required_hash_fields) == desc["effective_hash_fields"], name


def test_vectors_dir_fixture(vectors_dir: Path) -> None:
    assert vectors_dir == VECTORS_DIR and (vectors_dir / "headers.json").is_file()
