"""body_hash.json: every body-hash vector recorded from real bittensor 10.5.0."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

from synapsegen.runtime.synapse import Synapse, get_hash

from ._vectors import ClassBuilder, load, raises_as_recorded, str_here

DATA = load("body_hash.json")
VECTORS = DATA["vectors"]
BUILDER = ClassBuilder(DATA["definitions"])


def build(vector: dict[str, Any]) -> Synapse:
    """An instance of the vector's class holding the vector's values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy form warns by design (pydantic and us)
        cls = BUILDER.synapse_class(
            vector["class_name"],
            [{**f, "required": True} for f in vector["fields"]],
            hash_fields=vector["required_hash_fields"],
            hash_fields_form=vector["hash_fields_form"],
        )
    python_strs = {h["field"]: h["python_str"] for h in vector.get("hash_inputs", [])}
    values = {
        f["name"]: BUILDER.value_for(f["type"], f["value"], python_strs.get(f["name"]))
        for f in vector["fields"]
    }
    return cls(**values)


def test_algorithm_constant() -> None:
    assert get_hash("") == "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_body_hash(vector: dict[str, Any]) -> None:
    synapse = build(vector)
    if "expected_error" in vector:
        raises_as_recorded(lambda: synapse.body_hash, KeyError, vector["expected_error"])
        return
    assert list(type(synapse).required_hash_fields) == vector["effective_hash_fields"]
    dumped = synapse.model_dump()
    for step in vector["hash_inputs"]:
        # the exact CPython str() text bittensor hashed, and its digest
        assert str(dumped[step["field"]]) == str_here(dumped[step["field"]], step["python_str"])
        assert get_hash(step["python_str"]) == step["sha3_256"]
    assert synapse.body_hash == expected_body_hash(vector, dumped)


def expected_body_hash(vector: dict[str, Any], dumped: dict[str, Any]) -> str:
    """The recorded body hash, or (where this interpreter's str() of a value differs from
    CPython 3.11's, see str_here) the same algorithm over this interpreter's texts."""
    steps = vector["hash_inputs"]
    texts = [str_here(dumped[step["field"]], step["python_str"]) for step in steps]
    if texts == [step["python_str"] for step in steps]:
        return str(vector["expected_body_hash"])
    return get_hash("".join(get_hash(text) for text in texts))


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if "survives_json_roundtrip" in v], ids=lambda v: v["id"]
)
def test_json_roundtrip(vector: dict[str, Any]) -> None:
    """An axon recomputing from the JSON body gets the same hash iff the vector says so."""
    synapse = build(vector)
    received = type(synapse)(**json.loads(json.dumps(synapse.model_dump())))
    same = received.body_hash == expected_body_hash(vector, synapse.model_dump())
    assert same is vector["survives_json_roundtrip"]
