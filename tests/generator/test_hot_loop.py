"""The generated per-token loop: conditions on tag locals, close()'s last token, joined text.

A schema written for the corner cases: `when` keys that are not identifiers or that collide with
an accumulator's name, null/boolean/number tags (JSON equality, not Python's), a JSON-seq stream
whose last token only close() returns, and text fields long enough to be joined in blocks.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from synapsegen.runtime import TruncatedStream
from synapsegen.runtime.accumulate import JOIN_PARTS as JOIN_TEXT_PARTS

from ._generated import FakeResponse, generate_package, on_sys_path, schema_file, stream_items

SCHEMA: dict[str, Any] = {
    "version": 1,
    "synapses": {
        "Tagged": {
            "request": {},
            "response": {
                "out": {"type": "string", "default": ""},
                # Named like the local that holds the "type" tag would be.
                "event_type": {"type": ["string", "null"], "default": None},
                "hits": {"type": "array", "items": {}, "default": []},
            },
            "stream": {
                "framing": "json-seq",
                "payload": "json",
                "rules": [
                    {"when": {"type": "t"}, "op": "concat", "path": "x", "field": "out"},
                    {"when": {"type": "r"}, "op": "replace", "path": "x", "field": "out"},
                    {"when": {"type": "k"}, "op": "replace", "path": "kind", "field": "event_type"},
                    {"when": {"event-type": "a", "n": 1}, "op": "append", "path": "x",
                     "field": "hits"},
                    {"when": {"flag": True, "gone": None}, "op": "append", "path": "x",
                     "field": "hits"},
                ],
                "end": {"signal": "event", "event": {"type": "end"}, "keep_partial": True},
            },
        },
        "Numbers": {
            "request": {},
            "response": {"values": {"type": "array", "items": {}, "default": []}},
            "stream": {
                "framing": "json-seq",
                "payload": "json",
                "rules": [{"op": "append", "field": "values"}],
                "yields": "token",
            },
        },
        "Joined": {
            "request": {},
            "response": {"completion": {"type": "string", "default": "start:"}},
            "stream": {"format": "text"},
        },
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    base: Path = tmp_path_factory.mktemp("hot_loop")
    generate_package([schema_file(base, "hot_loop", SCHEMA)], base, base / "sg_hot_loop_pkg")
    with on_sys_path(base):
        return importlib.import_module("sg_hot_loop_pkg.hot_loop")


async def run(synapse: Any, chunks: Iterable[bytes]) -> list[Any]:
    return await stream_items(synapse, FakeResponse(chunks))


def events(*values: Any) -> list[bytes]:
    return [json.dumps(value).encode() for value in values]


def test_each_tag_is_read_once_into_its_own_local(module: ModuleType) -> None:
    source = Path(module.__file__ or "").read_text(encoding="utf-8")
    loop = source[source.index("class Tagged") : source.index("class Numbers")]
    # The "type" tag's natural name is taken by the event_type accumulator.
    assert loop.count('event.get("type")') == 1
    assert 'event_type_2 = event.get("type")' in loop
    assert 'event_event_type = event.get("event-type")' in loop
    assert "event.get(" not in loop.split("# Rule 1")[1].split("value = ")[0]


async def test_tag_conditions_keep_json_equality(module: ModuleType) -> None:
    synapse = module.Tagged()
    await run(synapse, events(
        {"type": "t", "x": "a"},
        {"type": "k", "kind": "K"},
        {"event-type": "a", "n": 1, "x": 1},  # matches
        {"event-type": "a", "n": True, "x": 2},  # True is not 1 in JSON
        {"event-type": "a", "n": 1.0, "x": 3},  # 1.0 == 1 in JSON
        {"flag": True, "gone": None, "x": 4},  # matches
        {"flag": True, "x": 5},  # a missing key is not null
        {"flag": 1, "gone": None, "x": 6},  # 1 is not true
        {"type": "t", "x": "b"},
        {"type": "end"},
    ))  # fmt: skip
    assert synapse.out == "ab"
    assert synapse.event_type == "K"
    assert synapse.hits == [1, 3, 4]
    assert synapse.stream_complete


async def test_close_flushes_the_last_token_through_the_rules(module: ModuleType) -> None:
    synapse = module.Numbers()
    # A top-level number at the very end is only known complete at close().
    items = await run(synapse, [b"1 [2] 3", b"4"])
    assert items == [1, [2], 34]
    assert synapse.values == [1, [2], 34]
    assert synapse.stream_complete


async def test_close_still_refuses_a_truncated_value(module: ModuleType) -> None:
    synapse = module.Numbers()
    with pytest.raises(TruncatedStream):
        await run(synapse, [b"1 [2"])
    assert synapse.values == [1]
    assert not synapse.stream_complete


async def test_long_text_is_joined_in_blocks_in_order(module: ModuleType) -> None:
    pieces = [f"{i % 10}".encode() for i in range(3 * JOIN_TEXT_PARTS + 5)]
    synapse = module.Joined()
    items = await run(synapse, pieces)
    assert len(items) == len(pieces)
    assert synapse.completion == "start:" + b"".join(pieces).decode()


async def test_replace_after_a_join_drops_the_blocks(module: ModuleType) -> None:
    many = [{"type": "t", "x": "y"}] * (JOIN_TEXT_PARTS + 10)
    synapse = module.Tagged()
    await run(synapse, events(*many, {"type": "r", "x": "new:"}, {"type": "t", "x": "z"}))
    assert synapse.out == "new:z"
    synapse = module.Tagged()
    await run(synapse, events({"type": "r", "x": "new:"}, *many))
    assert synapse.out == "new:" + "y" * len(many)
