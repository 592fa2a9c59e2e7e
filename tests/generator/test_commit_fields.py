"""Fields are committed all at once at the end of a stream: validated first, then assigned.

Before, they were assigned one by one in ``finally``, so a value the declared type rejected
stopped the assignments after it: the synapse came back half filled.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from ._generated import FakeResponse, generate_package, on_sys_path, schema_file, stream_items

SCHEMA = {
    "version": 1,
    "synapses": {
        "Scores": {
            "response": {
                "label": {"type": "string", "default": ""},
                "score": {"type": "number", "maximum": 1, "default": 0},
            },
            "stream": {
                "framing": "json-seq",
                "rules": [
                    {"op": "concat", "path": "text", "field": "label"},
                    {"op": "replace", "path": "score", "field": "score"},
                ],
            },
        }
    },
}


def _synapse(tmp_path: Path) -> object:
    generate_package([schema_file(tmp_path, "scores", SCHEMA)], tmp_path, tmp_path / "scores_pkg")
    with on_sys_path(tmp_path):
        return importlib.import_module("scores_pkg.scores").Scores()


def test_a_rejected_value_leaves_every_field_as_it_was(tmp_path: Path) -> None:
    synapse = _synapse(tmp_path)
    body = b'{"text": "first"} {"score": 7}'  # 7 breaks maximum: 1
    with pytest.raises(ValidationError) as raised:
        asyncio.run(stream_items(synapse, FakeResponse([body])))
    assert "score" in str(raised.value)
    assert (synapse.label, synapse.score) == ("", 0)  # type: ignore[attr-defined]


def test_accepted_values_are_all_committed(tmp_path: Path) -> None:
    synapse = _synapse(tmp_path)
    asyncio.run(stream_items(synapse, FakeResponse([b'{"text": "a"} {"text": "b"} {"score": 1}'])))
    assert (synapse.label, synapse.score) == ("ab", 1)  # type: ignore[attr-defined]
    assert {"label", "score"} <= synapse.model_fields_set  # type: ignore[attr-defined]
