"""The OpenAPI export of the example schemas, and the ``stream_media`` it reads.

- every example's document is valid OpenAPI 3.1 (openapi-spec-validator), and valid 3.2 once its
  ``x-itemSchema`` keys are renamed ``itemSchema``;
- a golden document for a few examples (``SYNAPSEGEN_UPDATE_GOLDEN=1`` rewrites it);
- each generated class's item schema accepts the tokens its own ``stream_response`` sends, and
  refuses a wrong one, both as ``stream_media`` gives it and as the document does;
- ``synapsegen openapi``: schema errors as the main command reports them, ``-o``, stdout.
"""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from synapsegen.cli import main
from synapsegen.openapi_export import openapi_text
from synapsegen.pipeline import Options, generate
from synapsegen.runtime import JSONSeqDecoder, LineDecoder, SSEDecoder, StreamMedia

from ._generated import generate_package, on_sys_path
from ._paths import GOLDEN, ROOT, SCHEMAS

UPDATE = os.environ.get("SYNAPSEGEN_UPDATE_GOLDEN") == "1"
GOLDEN_DOCUMENT = GOLDEN / "openapi" / "examples.json"
GOLDEN_SCHEMAS = ["chunks", "prompting", "scored", "search"]  # SSE+model, plain+text, jsonl, seq

TEXT = "text/plain; charset=utf-8"
MEDIA_TYPES = {  # example -> {synapse: (media type, sentinel)}; None: a plain synapse
    "chat": {"ChatCompletion": (TEXT, None)},
    "chunks": {"ChunkedCompletion": ("text/event-stream", "[DONE]")},
    "grouped": {"ResearchSynapse": ("application/json-seq", None)},
    "hermes": {"HermesQuery": ("application/jsonl", None)},
    "lines": {"LineCompletion": (TEXT, None)},
    "logprobs": {"TokenLogprobs": ("text/event-stream", "[DONE]")},
    "openai": {"OpenAIChat": ("text/event-stream", "[DONE]")},
    "prompting": {"AvailabilitySynapse": None, "PromptingSynapse": (TEXT, None)},
    "scored": {"ScoredAnswer": ("application/jsonl", None)},
    "search": {"SearchSynapse": ("application/json-seq", None)},
    "webpage": {"WebPageTask": (TEXT, None)},
}


def _document(stems: list[str]) -> dict[str, Any]:
    paths = [ROOT / "schemas" / f"{stem}.yaml" for stem in stems]
    result = generate(paths, Options(), ROOT)
    assert not result.diagnostics
    document: dict[str, Any] = json.loads(openapi_text(result.files, title="t", version="1"))
    return document


def _as_openapi_32(document: dict[str, Any]) -> dict[str, Any]:
    """The document as OpenAPI 3.2 reads it: ``x-itemSchema`` is 3.2's ``itemSchema``."""

    def rename(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                ("itemSchema" if k == "x-itemSchema" else k): rename(v) for k, v in node.items()
            }
        if isinstance(node, list):
            return [rename(item) for item in node]
        return node

    renamed: dict[str, Any] = rename(copy.deepcopy(document))
    renamed["openapi"] = "3.2.0"
    return renamed


# ---- the documents -----------------------------------------------------------------------------


def test_every_example_gives_a_valid_document_alone_and_all_together() -> None:
    stems = [schema.stem for schema in SCHEMAS]
    assert set(stems) == set(MEDIA_TYPES), "a new example: add it to MEDIA_TYPES"
    for group in [[stem] for stem in stems] + [stems]:
        document = _document(group)
        validate(document)  # OpenAPI 3.1.0
        validate(_as_openapi_32(document))
        routes = {f"/{name}" for stem in group for name in MEDIA_TYPES[stem]}
        assert set(document["paths"]) == routes | {"/openapi.json"}


def test_the_golden_document() -> None:
    text = openapi_text(
        generate([ROOT / "schemas" / f"{s}.yaml" for s in GOLDEN_SCHEMAS], Options(), ROOT).files,
        title="synapsegen examples",
        version="1.0.0",
    )
    if UPDATE and (not GOLDEN_DOCUMENT.is_file() or GOLDEN_DOCUMENT.read_text() != text):
        GOLDEN_DOCUMENT.parent.mkdir(exist_ok=True)
        GOLDEN_DOCUMENT.write_text(text, encoding="utf-8")
    assert GOLDEN_DOCUMENT.is_file(), "no golden document; run with SYNAPSEGEN_UPDATE_GOLDEN=1"
    assert GOLDEN_DOCUMENT.read_text(encoding="utf-8") == text


def test_routes_bodies_and_streams_of_the_golden_examples() -> None:
    document = json.loads(GOLDEN_DOCUMENT.read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    # A plain synapse: request fields in, response fields out (all of them, always sent).
    post = document["paths"]["/AvailabilitySynapse"]["post"]
    assert post["summary"] == "Ask a miner which tasks it can serve right now, and how busy it is."
    request = schemas["AvailabilitySynapseRequest"]
    assert list(request["properties"]) == ["tasks"] and request["additionalProperties"] is False
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert schemas[answer["$ref"].rsplit("/", 1)[1]]["required"] == ["available", "load"]
    # A typed token over SSE: the model is a component; the sentinel is an extension.
    media = document["paths"]["/ChunkedCompletion"]["post"]["responses"]["200"]["content"]
    sse = media["text/event-stream"]
    # No `schema` beside it: tools read that of a sequential media type as each item's.
    assert "schema" not in sse and sse["x-synapsegen-sentinel"] == "[DONE]"
    token_data, sentinel = sse["x-itemSchema"]["properties"]["data"]["anyOf"]
    assert sentinel == {"const": "[DONE]"}  # the last event's data: an item under 3.2 too
    data = token_data
    assert data["contentMediaType"] == "application/json"
    assert data["contentSchema"] == {"$ref": "#/components/schemas/Chunk"}
    # A token schema's $defs join the components; the error event is an alternative item.
    scored = document["paths"]["/ScoredAnswer"]["post"]["responses"]["200"]["content"]
    item = scored["application/jsonl"]["x-itemSchema"]
    assert item["properties"]["usage"] == {"$ref": "#/components/schemas/Usage"}
    assert "Usage" in schemas and "TerminalInfo" not in schemas  # only what routes use
    search = document["paths"]["/SearchSynapse"]["post"]["responses"]["200"]["content"]
    error = search["application/json-seq"]["x-itemSchema"]["anyOf"][1]
    assert error["properties"]["type"] == {"const": "error"}
    # Every error answer is the Error schema; auth schemes; the document's own route.
    assert post["responses"]["422"] == {"$ref": "#/components/responses/UnprocessableContent"}
    assert set(document["components"]["securitySchemes"]) == {"btauth-v1", "epistula-v2"}
    assert document["security"] == [{"btauth-v1": []}, {"epistula-v2": []}]
    assert document["paths"]["/openapi.json"]["get"]["security"] == []


def test_a_token_def_named_like_another_schema_gets_its_own_component(tmp_path: Path) -> None:
    # `Usage` of the token differs from the `Usage` model a plain synapse answers with.
    schema = {
        "version": 1,
        "synapses": {
            "Plain": {"response": {"usage": {"$ref": "#/$defs/Usage", "default": None}}},
            "Streamed": {
                "stream": {
                    "framing": "lines", "payload": "json",
                    "token": {"type": "object", "properties": {"u": {"$ref": "#/$defs/Usage"},
                                                               "t": {"$ref": "#/$defs/Tree"}}},
                    "rules": [{"op": "set", "fields": {"usage": "u"}}],
                },
                "response": {"usage": {"type": ["object", "null"], "default": None}},
            },
        },
        "$defs": {
            "Usage": {"type": ["object", "null"], "properties": {"n": {"type": "integer"}}},
            "Tree": {"type": "object",
                     "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}},
        },
    }  # fmt: skip
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    result = generate([path], Options(), tmp_path)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    document = json.loads(openapi_text(result.files, title="t", version="1"))
    validate(document)
    schemas = document["components"]["schemas"]
    tree = schemas["Tree"]  # recursive: refers to itself as a component
    assert tree["properties"]["kids"]["items"] == {"$ref": "#/components/schemas/Tree"}
    # The plain synapse's pydantic model keeps the name; the token's own schema is renamed.
    assert schemas["Usage"]["title"] == "Usage"
    assert schemas["Streamed.Usage"] == {
        "type": ["object", "null"], "properties": {"n": {"type": "integer"}}
    }  # fmt: skip
    content = document["paths"]["/Streamed"]["post"]["responses"]["200"]["content"]
    item = content["application/jsonl"]["x-itemSchema"]
    assert item["properties"]["u"] == {"$ref": "#/components/schemas/Streamed.Usage"}


# ---- stream_media ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """Every example generated once into one package; its modules by stem."""
    base = tmp_path_factory.mktemp("openapi_examples")
    generate_package(SCHEMAS, ROOT, base / "sg_openapi_examples")
    with on_sys_path(base):
        return {
            stem: importlib.import_module(f"sg_openapi_examples.{stem}") for stem in MEDIA_TYPES
        }


def test_every_example_has_the_media_type_of_its_framing(examples: dict[str, ModuleType]) -> None:
    for stem, synapses in MEDIA_TYPES.items():
        for name, expected in synapses.items():
            cls = getattr(examples[stem], name)
            assert cls.request_fields == tuple(
                f for f in cls.model_fields if f in cls.request_fields
            )
            if expected is None:
                assert not hasattr(cls, "stream_media")
                continue
            media = cls.stream_media
            assert isinstance(media, StreamMedia)
            assert (media.media_type, media.sentinel) == expected, name
            jsonschema.Draft202012Validator.check_schema(media.item_json_schema())


def test_typed_tokens_name_their_model(examples: dict[str, ModuleType]) -> None:
    module = examples["chunks"]
    media = module.ChunkedCompletion.stream_media
    assert media.item_model is module.Chunk and media.item_schema is None
    assert media.item_json_schema() == module.Chunk.model_json_schema()
    assert examples["chat"].ChatCompletion.stream_media.item_json_schema() == {"type": "string"}


async def _sent(response: Any) -> bytes:
    """The body ``stream_response``'s streamer sends."""
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        chunks.append(message.get("body", b""))

    await response.token_streamer(send)
    return b"".join(chunks)


async def _tokens(items: list[Any], error: str | None = None) -> AsyncIterator[Any]:
    for item in items:
        yield item
    if error is not None:
        raise RuntimeError(error)


def _items(media: StreamMedia, body: bytes) -> list[Any]:
    """The stream's items, decoded as a client of the HTTP wire would for its media type."""
    if media.media_type == "application/jsonl":
        return [json.loads(frame) for frame in LineDecoder().feed(body)]
    if media.media_type == "application/json-seq":
        decoder = JSONSeqDecoder()
        return [*decoder.feed(body), *decoder.close()]
    assert media.media_type == "text/event-stream"
    decoder = SSEDecoder(sentinel=media.sentinel)
    data = decoder.feed(body)
    assert decoder.done
    return [json.loads(text) for text in data]


STREAMS = {  # example, synapse, tokens the miner streams, the error it raises, a wrong token
    "scored": ("ScoredAnswer", [{"type": "text", "text": "Hi"}, {"type": "done", "confidence": 0.5,
               "usage": {"prompt_tokens": 3, "completion_tokens": 1}}], None,
               {"type": "text", "extra": 1}),
    "search": ("SearchSynapse", [{"type": "summary", "content": "A"},
               {"type": "result", "content": {"url": "https://a.example"}}], "quota", {"kind": 1}),
    "chunks": ("ChunkedCompletion", [{"text": "a", "logprob": -0.5},
               {"text": "b", "logprob": 0.0, "finish_reason": "stop"}], None,
               {"text": "c", "logprob": 1.5}),
    "logprobs": ("TokenLogprobs", [{"text": "x", "logprob": -1.25}], None, {"text": "x"}),
}  # fmt: skip


@pytest.mark.parametrize("stem", sorted(STREAMS))
def test_the_item_schema_accepts_what_stream_response_sends(
    examples: dict[str, ModuleType], stem: str
) -> None:
    name, tokens, error, wrong = STREAMS[stem]
    module = examples[stem]
    cls = getattr(module, name)
    media: StreamMedia = cls.stream_media
    synapse = cls.model_construct()
    body = asyncio.run(_sent(synapse.stream_response(_tokens(tokens, error))))
    items = _items(media, body)
    assert len(items) >= len(tokens)
    if error is not None:
        assert items[-1] == {"type": "error", "message": error}

    # As stream_media gives it (self-contained) ...
    own = jsonschema.Draft202012Validator(media.item_json_schema())
    # ... and as the document does (references into its components).
    document = _document([stem])
    content = document["paths"][f"/{name}"]["post"]["responses"]["200"]["content"]
    pointer = "/".join(["#/paths", f"~1{name}", "post/responses/200/content",
                        media.media_type.replace("/", "~1"), "x-itemSchema"])  # fmt: skip
    if media.media_type == "text/event-stream":
        assert content[media.media_type]["x-itemSchema"]["required"] == ["data"]
        data = content[media.media_type]["x-itemSchema"]["properties"]["data"]
        pointer += "/properties/data/anyOf/0" if "anyOf" in data else "/properties/data"
        pointer += "/contentSchema"
    registry: Registry[Any] = Registry().with_resource(
        "urn:document", Resource(contents=document, specification=DRAFT202012)
    )
    in_document = jsonschema.Draft202012Validator(
        {"$ref": f"urn:document{pointer}"}, registry=registry
    )
    for validator in (own, in_document):
        for item in items:
            validator.validate(item)
        assert not validator.is_valid(wrong), (stem, wrong)


# ---- the command -------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "schemas").mkdir()
    for stem in ("chat", "prompting"):
        shutil.copy(ROOT / "schemas" / f"{stem}.yaml", tmp_path / "schemas" / f"{stem}.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_openapi_writes_the_file_or_stdout(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["openapi", "schemas", "--title", "Mine", "--version", "2.1"]) == 0
    printed = capsys.readouterr().out
    assert (
        main(["openapi", "schemas", "--title", "Mine", "--version", "2.1", "-o", "api.json"]) == 0
    )
    assert capsys.readouterr().out == "wrote api.json\n"
    text = (project / "api.json").read_text(encoding="utf-8")
    assert text == printed and text.endswith("}\n") and '\n  "info": {\n    "title": "Mine"' in text
    document = json.loads(text)
    assert document["info"]["version"] == "2.1"
    assert set(document["paths"]) == {
        "/openapi.json", "/ChatCompletion", "/AvailabilitySynapse", "/PromptingSynapse"
    }  # fmt: skip
    validate(document)
    # Unchanged: not written again; the same bytes every run.
    assert (
        main(["openapi", "schemas", "--title", "Mine", "--version", "2.1", "-o", "api.json"]) == 0
    )
    assert capsys.readouterr().out == ""
    # Another run in the same process sees other classes (the temporary package is forgotten).
    assert main(["openapi", "schemas/chat.yaml"]) == 0
    assert set(json.loads(capsys.readouterr().out)["paths"]) == {"/openapi.json", "/ChatCompletion"}


def test_openapi_reports_schema_errors_as_the_main_command_does(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = project / "schemas" / "bad.yaml"
    shutil.copy(ROOT / "tests" / "generator" / "bad_schemas" / "reserved.yaml", bad)
    assert main(["schemas", "-o", "out"]) == 2
    expected = capsys.readouterr()
    assert main(["openapi", "schemas", "-o", "api.json"]) == 2
    reported = capsys.readouterr()
    assert reported.err == expected.err and "bad.yaml:6:7: SG203 request field 'timeout'" in (
        reported.err
    )
    assert reported.out == "" and not (project / "api.json").exists()


def test_openapi_usage_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "missing.yaml"]) == 2
    assert "missing.yaml: no such file or folder" in capsys.readouterr().err
    assert main(["openapi", "schemas", "-o", "schemas"]) == 2
    assert "is a folder" in capsys.readouterr().err
