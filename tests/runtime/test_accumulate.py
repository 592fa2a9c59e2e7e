"""TextParts keeps order across compactions; response_json returns every rebuildable field."""

from __future__ import annotations

from typing import Any, ClassVar

from synapsegen.runtime import StreamingSynapse
from synapsegen.runtime.accumulate import JOIN_PARTS, TextParts, response_json


def test_text_parts_keep_order_and_compact() -> None:
    parts = TextParts("start:")
    pieces = [str(i % 10) for i in range(3 * JOIN_PARTS + 7)]
    for index, piece in enumerate(pieces):
        parts.append(piece)
        if index % 100 == 0:
            parts.compact()
    assert len(parts.blocks) >= 2
    assert parts.text() == "start:" + "".join(pieces)
    parts.replace("new")
    parts.append("!")
    assert parts.text() == "new!" and len(parts) == 1


def test_empty_initial_text_adds_no_block() -> None:
    assert TextParts().blocks == [] and TextParts().text() == ""


class _Probe(StreamingSynapse):
    required_hash_fields: ClassVar[tuple[str, ...]] = ()
    prompt: str = "p"
    out: list[str] = []

    async def process_streaming_response(self, response: Any) -> Any:  # pragma: no cover
        yield None

    def extract_response_json(self, response: Any) -> dict[str, Any]:  # pragma: no cover
        return {}


class _Extended(_Probe):
    extra: int = 3


def test_response_json_returns_every_field_but_terminals_and_the_hash() -> None:
    headers = {"bt_header_axon_status_code": "200", "bt_header_dendrite_process_time": "0.5"}
    found = response_json(_Extended(), headers)
    assert list(found)[:4] == ["name", "timeout", "total_size", "header_size"]
    assert {"prompt", "out", "extra"} <= set(found)  # subclass fields too
    assert not {"computed_body_hash"} & set(found)
    assert found["axon"] == {"status_code": 200}
    assert found["dendrite"] == {"process_time": 0.5}
