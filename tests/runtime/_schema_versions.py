"""Two versions of one schema file, generated into two packages (``schema_v1``, ``schema_v2``).

Version 2 adds a required request field to the plain ``Scored`` (a new schema hash: a version 1
validator's request fails on a version 2 miner) and only rewords the streaming ``Story`` (the
same hash), as a subnet's protocol change does between a miner and a validator that have not
both upgraded.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from ..generator._generated import generate_package, on_sys_path, schema_file

V1: dict[str, Any] = {
    "version": 1,
    "description": "A protocol, version 1.",
    "synapses": {
        "Scored": {
            "description": "Score a prompt.",
            "request": {"prompt": {"type": "string", "hash": True}},
            "response": {"score": {"type": "number", "default": 0}},
            "deserialize": {"field": "score"},
        },
        "Story": {
            "description": "Tell a story, streamed as text.",
            "request": {"prompt": {"type": "string", "hash": True}},
            "stream": {"format": "text"},
        },
    },
}

V2 = copy.deepcopy(V1)
V2["description"] = "A protocol, version 2: Scored needs a language."
V2["synapses"]["Scored"]["request"]["language"] = {"type": "string"}  # required: v1 lacks it
V2["synapses"]["Story"]["description"] = "Tell a story (reworded: the same wire)."

PACKAGES = ("schema_v1", "schema_v2")


def generated_versions(root: Path) -> Iterator[tuple[ModuleType, ModuleType]]:
    """Generate both versions under ``root``; yields their modules while they are importable."""
    for package, schema in zip(PACKAGES, (V1, V2), strict=True):
        sources = root / f"{package}_src"
        sources.mkdir()
        generate_package([schema_file(sources, "protocol", schema)], sources, root / package)
    with on_sys_path(root, forget=PACKAGES):
        yield tuple(  # type: ignore[misc]
            importlib.import_module(f"{package}.protocol") for package in PACKAGES
        )
