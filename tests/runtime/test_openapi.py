"""``StreamMedia`` and ``openapi_document`` on hand-written classes (the generated ones are
tested in tests/generator/test_openapi.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from synapsegen.runtime import StreamingSynapse, StreamMedia, Synapse
from synapsegen.runtime.openapi import AUTH_SCHEMES, ERROR_RESPONSES, openapi_document


class Point(BaseModel):
    """A point."""

    x: int
    y: int


class Hand(Synapse):
    """Hand-written, no request_fields.

    Every field it adds is sent, and answered.
    """

    a: int = 0
    b: str = ""


class Declared(Synapse):
    request_fields: ClassVar[tuple[str, ...]] = ("where",)

    where: Point
    label: str = ""


class Streamer(StreamingSynapse):
    """Streams points."""

    request_fields: ClassVar[tuple[str, ...]] = ("n",)
    stream_media: ClassVar[StreamMedia] = StreamMedia(
        "application/jsonl",
        item_model=Point,
        error_schema={"type": "object", "properties": {"error": {"type": "string"}}},
    )

    n: int = 1

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        yield None

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {}


class Bittensorish(StreamingSynapse):
    """Inherits bittensor's label."""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        yield None

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {}


def test_stream_media_item_schemas() -> None:
    assert StreamingSynapse.stream_media == StreamMedia("text/event-stream")
    assert StreamMedia("text/event-stream").item_json_schema() == {"type": "string"}
    assert StreamMedia("application/jsonl").item_json_schema() == {}
    assert StreamMedia("text/event-stream", payload="json").json_items
    assert StreamMedia("application/json-seq; x=1").json_items
    assert StreamMedia("text/plain", item_model=Point).item_json_schema() == (
        Point.model_json_schema()
    )
    media = StreamMedia("application/jsonl", item_schema={"$ref": "#/$defs/P", "$defs": {"P": {}}})
    schema = media.item_json_schema()
    schema["$defs"]["P"]["type"] = "object"  # a copy: the class's mapping stays as it was
    assert media.item_schema == {"$ref": "#/$defs/P", "$defs": {"P": {}}}
    both = Streamer.stream_media.item_json_schema()
    assert both["anyOf"][0]["title"] == "Point" and both["anyOf"][1]["properties"]["error"]
    with pytest.raises(ValueError, match="payload"):
        StreamMedia("text/plain", payload="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="media type"):
        StreamMedia("jsonl")


def test_request_and_response_fields_of_hand_written_classes() -> None:
    document = openapi_document([Streamer, Declared, Hand, Bittensorish])
    validate(document)
    schemas = document["components"]["schemas"]
    assert list(document["paths"]) == [
        "/openapi.json", "/Bittensorish", "/Declared", "/Hand", "/Streamer"
    ]  # fmt: skip
    # Without request_fields, every field the class adds goes both ways.
    assert list(schemas["HandRequest"]["properties"]) == ["a", "b"]
    assert list(schemas["HandResponse"]["properties"]) == ["a", "b"]
    hand = document["paths"]["/Hand"]["post"]
    assert hand["summary"] == "Hand-written, no request_fields."
    assert hand["description"] == "Every field it adds is sent, and answered."
    # With them: the request holds those (the required ones required), the answer the rest.
    assert schemas["DeclaredRequest"]["required"] == ["where"]
    assert schemas["DeclaredRequest"]["properties"]["where"] == {
        "$ref": "#/components/schemas/Point"
    }
    assert list(schemas["DeclaredResponse"]["properties"]) == ["label"]
    assert document["paths"]["/Declared"]["post"]["summary"] == "Declared"  # no docstring
    # A typed stream with an error event; a class that sets no stream_media gets bittensor's.
    content = document["paths"]["/Streamer"]["post"]["responses"]["200"]["content"]
    item = content["application/jsonl"]["x-itemSchema"]
    assert item["anyOf"][0] == {"$ref": "#/components/schemas/Point"}
    content = document["paths"]["/Bittensorish"]["post"]["responses"]["200"]["content"]
    assert content["text/event-stream"]["x-itemSchema"]["properties"]["data"] == {"type": "string"}
    assert "StreamerResponse" not in schemas and "TerminalInfo" not in schemas
    assert set(document["paths"]["/Hand"]["post"]["responses"]) == {"200"} | {
        str(status) for status in ERROR_RESPONSES
    }


def test_the_document_is_deterministic_and_json() -> None:
    first = json.dumps(openapi_document([Hand, Streamer, Declared]), indent=2)
    assert first == json.dumps(openapi_document([Declared, Streamer, Hand, Hand]), indent=2)


def test_auth_schemes_and_refusals() -> None:
    document = openapi_document([Hand], auth=("epistula/2",))
    scheme = document["components"]["securitySchemes"]["epistula-v2"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey", "header", "Epistula-Request-Signature"
    )  # fmt: skip
    auth = scheme["x-synapsegen-auth"]
    assert [h["name"] for h in auth["headers"]][:2] == ["Epistula-Version", "Epistula-Timestamp"]
    assert auth["signature"]["payload"][0] == "{sha256(body)}"
    assert auth["signature"]["separator"] == "."
    btauth = AUTH_SCHEMES["btauth/1"]["signature"]
    assert len(btauth["payload"]) == 8 and btauth["separator"] == "\n"
    unsigned = openapi_document([Hand], auth=())
    validate(unsigned)
    assert "security" not in unsigned and "securitySchemes" not in unsigned["components"]
    with pytest.raises(ValueError, match="unknown auth scheme"):
        openapi_document([Hand], auth=("basic",))
    other = type("Hand", (Synapse,), {"__annotations__": {"c": int}, "c": 0})
    with pytest.raises(ValueError, match="two synapse classes named 'Hand'"):
        openapi_document([Hand, other])
    with pytest.raises(TypeError):
        openapi_document([object])  # type: ignore[list-item]


def test_the_builder_needs_only_the_runtime() -> None:
    """A miner serves the document with synapsegen.runtime alone (no generator, no jinja2)."""
    code = (
        "import sys; import synapsegen.runtime.openapi; "
        "print(sorted(m for m in ('jinja2', 'yaml', 'ruff', 'synapsegen.pipeline', "
        "'synapsegen.language.spec', 'openapi_spec_validator') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
