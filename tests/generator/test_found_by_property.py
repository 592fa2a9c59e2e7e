"""Bugs the property test (test_valid_schemas_work.py) found, each as a minimal reproduction.

Each test states what must hold and is ``xfail(strict=True)`` until the bug is fixed: a fix makes
it pass, and strict xfail then fails the run so that the marker is taken off. Where the fix may be
a refusal instead (the validator rejecting the schema with a located diagnostic), the test accepts
that too. The property test leaves these cases out meanwhile (see the comments that name the
tests here).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from synapsegen.pipeline import Options, generate
from synapsegen.runtime import BTStreamingResponse, MalformedFrame, MinerError

from ._generated import FakeResponse, on_sys_path

DIAGNOSTIC = re.compile(r".+:\d+:\d+: SG\d{3} \S.*", re.S)


def _generate(root: Path, schema: dict[str, Any], package: str) -> Path | None:
    """``schema`` generated into ``root/package``; None if the validator refused it (with located
    diagnostics only: that is a fix too)."""
    source = root / "case.json"
    source.write_text(json.dumps(schema), encoding="utf-8")
    result = generate([source], Options(), root)
    if result.diagnostics:
        assert all(DIAGNOSTIC.fullmatch(str(d)) for d in result.diagnostics), result.diagnostics
        return None
    (root / package).mkdir()
    for name, text in result.files.items():
        (root / package / name).write_text(text, encoding="utf-8")
    return root / package


async def _body(synapse: Any, tokens: list[Any], failure: str | None = None) -> bytes:
    """The body the synapse's own ``stream_response`` sends for the miner's ``tokens``."""

    async def source() -> AsyncIterator[Any]:
        for token in tokens:
            yield token
        if failure is not None:
            raise RuntimeError(failure)

    messages: list[Any] = []

    async def send(message: Any) -> None:
        messages.append(message)

    response = synapse.stream_response(source())
    assert isinstance(response, BTStreamingResponse)
    await response.stream_response(send)
    return b"".join(message.get("body", b"") for message in messages[1:])


def _stream(
    module: Any, tokens: list[Any], failure: str | None = None
) -> tuple[Any, list[Any], BaseException | None]:
    """Serve ``tokens`` with ``module.Chat`` and decode the body with another ``module.Chat``:
    (the client's synapse, what it yielded, what it raised)."""
    body = asyncio.run(_body(module.Chat(), tokens, failure))
    client = module.Chat()
    items: list[Any] = []

    async def decode() -> None:
        async for item in client.process_streaming_response(FakeResponse([body])):
            items.append(item)

    try:
        asyncio.run(decode())
    except Exception as exc:
        return client, items, exc
    return client, items, None


def _typed(token: dict[str, Any], stream: dict[str, Any]) -> dict[str, Any]:
    """A schema whose stream's token is the ``$defs`` model ``Chunk`` (``token``)."""
    return {
        "version": 1,
        "synapses": {
            "Chat": {
                "request": {"prompt": {"type": "string", "default": "", "hash": True}},
                "response": {
                    "completion": {"type": "string", "default": ""},
                    "score": {"type": ["number", "null"], "default": None},
                },
                "stream": {
                    "framing": "lines",
                    "payload": "json",
                    "token": {"$ref": "#/$defs/Chunk"},
                    "rules": [{"op": "concat", "path": "text", "field": "completion"}],
                    "yields": "token",
                    **stream,
                },
            }
        },
        "$defs": {"Chunk": token},
    }


# ---------------------------------------------------------------------------------------------
# Generator: a typed token's model named like a local of process_streaming_response


@pytest.mark.parametrize(
    "name", ["chunk", "event", "typed", "frame", "decoder", "complete", "response", "value"]
)
def test_token_model_named_like_a_local(tmp_path: Path, name: str) -> None:
    """A typed token's model may be named anything a $defs model may (or the validator says no)."""
    schema = _typed({"type": "object", "properties": {"text": {"type": "string"}}}, {})
    schema["$defs"] = {name: schema["$defs"].pop("Chunk")}
    schema["synapses"]["Chat"]["stream"]["token"] = {"$ref": f"#/$defs/{name}"}
    package = _generate(tmp_path, schema, f"sg_local_{name}")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        client, items, raised = _stream(module, [{"text": "a"}])
        model = getattr(module, name)
    assert raised is None, repr(raised)
    assert items == [model(text="a")] and client.completion == "a"


# ---------------------------------------------------------------------------------------------
# Generator: the events the server adds are validated into the token model


def test_bare_final_event_of_a_typed_token(tmp_path: Path) -> None:
    token = {
        "type": "object",
        "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
        "required": ["type", "text"],
    }
    end = {"end": {"signal": "event", "event": {"type": "done"}}}
    package = _generate(tmp_path, _typed(token, end), "sg_bare_final")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        client, items, raised = _stream(module, [{"type": "text", "text": "a"}])
    assert raised is None, repr(raised)
    assert client.stream_complete and client.completion == "a"


def test_error_event_of_a_typed_token(tmp_path: Path) -> None:
    token = {
        "type": "object",
        "properties": {"type": {"type": "string"}, "text": {"type": "string"}},
        "required": ["text"],
    }
    server = {"server": {"error_event": {"type": "error"}}}
    package = _generate(tmp_path, _typed(token, server), "sg_error_event")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        client, items, raised = _stream(module, [{"text": "a"}], failure="out of memory")
    assert isinstance(raised, MinerError) and str(raised) == "out of memory", repr(raised)
    assert client.completion == "a"


# ---------------------------------------------------------------------------------------------
# Runtime: typed tokens the miner gives as models


def test_a_miners_final_event_given_as_a_model(tmp_path: Path) -> None:
    token = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "text": {"type": "string"},
            "score": {"type": "number"},
        },
    }
    end = {
        "end": {"signal": "event", "event": {"type": "done"}},
        "rules": [
            {"op": "concat", "path": "text", "field": "completion"},
            {"op": "replace", "path": "score", "field": "score"},
        ],
    }
    package = _generate(tmp_path, _typed(token, end), "sg_model_final")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        sent = [module.Chunk(type="text", text="a"), module.Chunk(type="done", score=0.5)]
        client, items, raised = _stream(module, sent)
    assert raised is None, repr(raised)
    assert items == sent and client.stream_complete and client.score == 0.5


def test_a_model_token_with_a_required_nullable_field(tmp_path: Path) -> None:
    token = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "stop": {"type": ["string", "null"]}},
        "required": ["stop"],
    }
    package = _generate(tmp_path, _typed(token, {}), "sg_required_null")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        sent = [module.Chunk(text="a", stop=None)]
        client, items, raised = _stream(module, sent)
    assert raised is None, repr(raised)
    assert items == sent and client.completion == "a"


# ---------------------------------------------------------------------------------------------
# Generator: integral defaults of number fields typed through a $defs alias


@pytest.mark.parametrize(
    "alias",
    [
        {"type": "number"},
        {"type": "number", "exclusiveMinimum": -1},
        {"anyOf": [{"type": "number"}, {"type": "null"}]},
    ],
    ids=["number", "constrained", "nullable"],
)
def test_integral_default_through_a_number_alias(tmp_path: Path, alias: Any) -> None:
    schema = {
        "version": 1,
        "synapses": {
            "Echo": {
                "request": {"score": {"$ref": "#/$defs/Score", "default": 7, "hash": True}},
                "response": {"notes": {"$ref": "#/$defs/Score", "default": 7}},
            }
        },
        "$defs": {"Score": alias},
    }
    package = _generate(tmp_path, schema, "sg_number_alias")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        built = module.Echo()
        received = module.Echo.model_validate_json(built.model_dump_json())
    for name in ("score", "notes"):
        assert type(getattr(built, name)) is float, (name, getattr(built, name))
    assert built.body_hash == received.body_hash


# ---------------------------------------------------------------------------------------------
# Validator: SG305 and unions


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ({"anyOf": [{"const": "a"}, {"const": 3}]}, "a"),
        ({"oneOf": [{"type": "string", "minLength": 2}]}, "ab"),
        (
            {"anyOf": [{"type": "object", "properties": {"x": {"type": "integer"}},
                        "required": ["x"]}]},
            {"x": 1},
        ),
    ],
    ids=["consts", "constrained", "model"],
)  # fmt: skip
def test_required_union_field_from_headers(tmp_path: Path, field: Any, value: Any) -> None:
    """A required request field the validator accepts can be sent (and rebuilt) by bittensor."""
    schema = {
        "version": 1,
        "synapses": {
            "Chat": {
                "request": {
                    "query": field,
                    "prompt": {"type": "string", "default": "", "hash": True},
                },
                "response": {"answer": {"type": "string", "default": ""}},
            }
        },
    }
    package = _generate(tmp_path, schema, "sg_union")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        headers = module.Chat(query=value).to_headers()
        module.Chat.from_headers(headers)


# ---------------------------------------------------------------------------------------------
# Generator (formatting): the import of a user's class


USER_MODULE = '''\
"""A subnet's own classes."""

import pydantic


class Usage(pydantic.BaseModel):
    prompt_tokens: int = 0
'''


def test_imported_class_sorts_as_first_party(tmp_path: Path) -> None:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    (tmp_path / "subnet_types").mkdir()
    (tmp_path / "subnet_types" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "subnet_types" / "protocol.py").write_text(USER_MODULE, encoding="utf-8")
    schema = {
        "version": 1,
        "synapses": {
            "Chat": {
                "request": {"prompt": {"type": "string", "default": "", "hash": True}},
                "response": {"usage": {"$ref": "#/$defs/Usage", "default": {}}},
            }
        },
        "$defs": {
            "Usage": {
                "import": "subnet_types.protocol.Usage",
                "type": "object",
                "properties": {"prompt_tokens": {"type": "integer", "default": 0}},
            }
        },
    }
    package = _generate(tmp_path, schema, "sg_first_party")
    assert package is not None
    command = [str(find_ruff_bin()), "check", "--isolated", "--no-cache", "--select", "I",
               str(package)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# Generator: a stream that fails before its SSE sentinel


@pytest.mark.parametrize("split", [False, True], ids=["one chunk", "bad frame with sentinel"])
def test_a_stream_failing_before_its_sentinel_is_incomplete(tmp_path: Path, split: bool) -> None:
    """The SSE decoder reads the sentinel with its network chunk, before the frames in it are
    processed: a frame that fails before the sentinel leaves the stream incomplete (and, with
    keep_partial: false, the fields unset)."""
    schema = {
        "version": 1,
        "synapses": {
            "Chat": {
                "request": {"prompt": {"type": "string", "default": "", "hash": True}},
                "response": {"completion": {"type": "string", "default": ""}},
                "stream": {
                    "framing": "sse",
                    "payload": "json",
                    "sentinel": "[DONE]",
                    "rules": [{"op": "concat", "path": "text", "field": "completion"}],
                    "end": {"keep_partial": False},
                },
            }
        },
    }
    package = _generate(tmp_path, schema, "sg_sentinel")
    assert package is not None
    body = b'data: {"text": "a"}\n\ndata: {"text": 5}\n\ndata: [DONE]\n\n'
    chunks = [body[:21], body[21:]] if split else [body]
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        client = module.Chat()

        async def decode() -> None:
            async for _ in client.process_streaming_response(FakeResponse(chunks)):
                pass

        with pytest.raises(MalformedFrame, match="text: expected a string, got int"):
            asyncio.run(decode())
    assert client.stream_complete is False
    assert client.completion == ""  # keep_partial: false, and the stream did not complete


# ---------------------------------------------------------------------------------------------
# Generator: a $defs alias of null written as enum or const


NULL_ALIASES = {
    "enum": {"enum": [None]},
    "const": {"const": None},
    "enum twice": {"enum": [None, None]},
    "anyOf": {"anyOf": [{"type": "null"}]},
    "oneOf": {"oneOf": [{"const": None}]},
    "anyOf of spellings": {"anyOf": [{"type": "null"}, {"enum": [None]}]},
    "type list": {"type": ["null", "null"]},
    "alias of an alias": {"$ref": "#/$defs/Null"},
}


@pytest.mark.parametrize("alias", NULL_ALIASES.values(), ids=NULL_ALIASES.keys())
def test_optional_property_typed_with_a_null_alias(tmp_path: Path, alias: Any) -> None:
    """An alias whose only value is null, however spelled, is referred to as plain None:
    ``Nothing | None`` would be ``None | None``, a TypeError at import (``type: null`` was fixed
    in f71b940)."""
    schema = {
        "version": 1,
        "synapses": {
            "Echo": {
                "request": {"prompt": {"type": "string", "default": "", "hash": True}},
                "response": {"model": {"$ref": "#/$defs/Model", "default": {}}},
            }
        },
        "$defs": {
            "Nothing": alias,
            "Null": {"type": "null"},
            "Model": {"type": "object", "properties": {"x": {"$ref": "#/$defs/Nothing"}}},
        },
    }
    package = _generate(tmp_path, schema, "sg_null_alias")
    if package is None:
        return
    with on_sys_path(tmp_path, forget=[package.name]):
        module = importlib.import_module(f"{package.name}.case")
        assert module.Echo().model.x is None
