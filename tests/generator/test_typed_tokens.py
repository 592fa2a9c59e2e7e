"""Typed tokens (schemas/chunks.yaml): the token is a ``$defs`` model.

The miner streams ``Chunk`` models (or plain dicts); the client yields validated ``Chunk``
models, not dicts, and a token that is not a Chunk is a stream error that names the problem.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

import pytest

from synapsegen.runtime import MalformedFrame, encode_sse_json

from ._generated import FakeResponse, bytewise, example_module, stream_items, stream_through_axon


@pytest.fixture(scope="module")
def chunks(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return example_module(tmp_path_factory.mktemp("chunks"), "chunks")


async def test_the_client_yields_chunk_models(chunks: ModuleType) -> None:
    cls, chunk = chunks.ChunkedCompletion, chunks.Chunk
    sent = [
        chunk(text="Grüß ", logprob=-0.5),
        {"text": "dich 🌍", "logprob": -1.25},  # a plain dict is fine too
        chunk(text="", logprob=0, finish_reason="stop"),
    ]

    items = await stream_through_axon(cls, sent, prompt="p")
    tokens, synapse = items[:-1], items[-1]
    assert synapse.is_success and synapse.stream_complete, synapse.dendrite
    assert all(isinstance(token, chunk) for token in tokens)
    assert [token.text for token in tokens] == ["Grüß ", "dich 🌍", ""]
    assert tokens[-1].finish_reason == "stop" and tokens[0].finish_reason is None
    assert synapse.completion == "Grüß dich 🌍" and synapse.logprobs == [-0.5, -1.25, 0]


def test_models_are_sent_without_their_null_fields(chunks: ModuleType) -> None:
    """A missing key and null mean the same to the rules: the wire leaves nulls out."""
    assert encode_sse_json(chunks.Chunk(text="a", logprob=-1)) == (
        b'data: {"text":"a","logprob":-1.0}\n\n'
    )


def test_bytewise_chunks_yield_models(chunks: ModuleType) -> None:
    body = encode_sse_json({"text": "é", "logprob": -2}) + b"data: [DONE]\n\n"
    synapse = chunks.ChunkedCompletion()
    items = asyncio.run(stream_items(synapse, FakeResponse(bytewise(body), 200, {})))
    assert items == [chunks.Chunk(text="é", logprob=-2)]
    assert synapse.stream_complete and synapse.completion == "é"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ({"text": "a"}, "token: not a Chunk: logprob: Field required (1 error)"),
        ({"text": "a", "logprob": 1}, "token: not a Chunk: logprob: Input should be less than or"),
    ],
)
def test_a_token_that_is_not_a_chunk_is_a_stream_error(
    chunks: ModuleType, token: dict[str, Any], problem: str
) -> None:
    body = encode_sse_json(token)
    synapse = chunks.ChunkedCompletion()
    with pytest.raises(MalformedFrame, match=problem.replace("(", r"\(").replace(")", r"\)")):
        asyncio.run(stream_items(synapse, FakeResponse([body], 200, {})))
