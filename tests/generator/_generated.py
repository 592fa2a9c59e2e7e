"""Running what the generator writes, for the generator tests: generate schemas into a package on
disk, import its modules, and feed ``process_streaming_response`` chosen chunks.

The chunks, the fake response and the miner are the test kit's (``synapsegen.testing``), the
same ones validators test with: ``FakeResponse`` delivers exactly the chosen pieces, and
``stream_through_axon`` serves tokens from a ``ScriptedMiner``."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from bittensor_wallet import Keypair

from synapsegen.pipeline import Options, generate
from synapsegen.testing import FakeResponse, split_body

__all__ = [
    "MINER",
    "VALIDATOR",
    "FakeResponse",
    "bytewise",
    "example_module",
    "generate_package",
    "on_sys_path",
    "schema_file",
    "stream_items",
    "stream_through_axon",
]


def schema_file(folder: Path, stem: str, schema: Mapping[str, Any]) -> Path:
    """``schema`` written as ``folder/<stem>.json``."""
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    return path


def generate_package(sources: list[Path], root: Path, package: Path) -> dict[str, str]:
    """Generate ``sources`` (named relative to ``root``) into the new folder ``package``; fails on
    any diagnostic. Returns the files written, by name."""
    result = generate(sources, Options(), root)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    package.mkdir()
    for name, text in result.files.items():
        (package / name).write_text(text, encoding="utf-8")
    return result.files


@contextmanager
def on_sys_path(folder: Path, forget: Iterable[str] = ()) -> Iterator[None]:
    """``folder`` first on ``sys.path`` while the block runs; then the packages named in
    ``forget`` (and their modules) are dropped from ``sys.modules``."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        packages = set(forget)
        for name in [m for m in sys.modules if m.split(".")[0] in packages]:
            del sys.modules[name]


def bytewise(data: bytes) -> list[bytes]:
    """``data`` as one chunk per byte."""
    return split_body(data, "bytewise")


async def stream_items(synapse: Any, response: FakeResponse) -> list[Any]:
    """Everything ``synapse.process_streaming_response(response)`` yields."""
    return [item async for item in synapse.process_streaming_response(response)]


def example_module(base: Path, stem: str) -> ModuleType:
    """Every example schema generated into a new package under ``base``; its ``stem`` module.

    The package is named after ``stem`` (each test module gets its own), and stays importable.
    """
    from ._paths import ROOT, SCHEMAS

    package = f"sg_{stem}_examples"
    generate_package(SCHEMAS, ROOT, base / package)
    with on_sys_path(base):
        return importlib.import_module(f"{package}.{stem}")


MINER = Keypair.create_from_seed("0x" + "71" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "72" * 32)


async def stream_through_axon(cls: type, tokens: list[Any], **request: Any) -> list[Any]:
    """Serve ``tokens`` with the generated ``stream_response`` from a real Axon on 127.0.0.1 (a
    ``ScriptedMiner``), call it with a real Dendrite: what ``call_stream`` yields (the filled
    synapse last)."""
    from synapsegen.runtime.dendrite import Dendrite
    from synapsegen.testing import ScriptedMiner

    async with (
        ScriptedMiner(cls, tokens=tokens, keypair=MINER) as miner,
        Dendrite(VALIDATOR) as client,
    ):
        return [
            item
            async for item in client.call_stream(
                miner.target, cls(**request), timeout=10, deserialize=False
            )
        ]
