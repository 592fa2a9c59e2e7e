"""synapsegen.runtime imports on its own: no generator-side dependency is loaded."""

from __future__ import annotations

import ast
import subprocess
import sys

import synapsegen.runtime as runtime

# Generator-side modules a miner or validator must never need at run time.
FORBIDDEN = ("jinja2", "datamodel_code_generator", "ruff", "yaml", "synapsegen.language.spec")

CHECK_ALL = f"""
import sys
import synapsegen.runtime as runtime

missing = [name for name in runtime.__all__ if getattr(runtime, name, None) is None]
assert not missing, f"exports that resolve to nothing: {{missing}}"
loaded = [m for m in {FORBIDDEN!r} if m in sys.modules]
assert not loaded, f"runtime import pulled in generator-side modules: {{loaded}}"
"""

CHECK_MODELS = f"""
import sys
from synapsegen.runtime import Synapse, StreamingSynapse, TerminalInfo, split_terminal_headers
from synapsegen.runtime import BTStreamingResponse, BTStreamingResponseModel
from synapsegen.runtime import signing

loaded = [m for m in {FORBIDDEN!r} + ("aiohttp",) if m in sys.modules]
assert not loaded, f"importing the models pulled in: {{loaded}}"
"""


def _run(code: str) -> None:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_export_resolves_without_generator_modules() -> None:
    """Every name in ``synapsegen.runtime.__all__`` (all runtime modules) imports cleanly."""
    _run(CHECK_ALL)


def test_models_and_signing_import_alone() -> None:
    """The models and signing need neither the generator nor aiohttp (server side)."""
    _run(CHECK_MODELS)


def test_type_checking_reexports_match_the_lazy_exports() -> None:
    """The ``if TYPE_CHECKING:`` imports type checkers see name the same modules as _EXPORTS."""
    assert runtime.__file__ is not None
    with open(runtime.__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    reexports = {
        alias.asname: (node.module or "").lstrip(".")
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname == alias.name
    }
    assert reexports == runtime._EXPORTS


def test_fan_out_policies_are_exported() -> None:
    """``Dendrite.forward(..., policy=FirstK(3))`` needs no import from a submodule."""
    from synapsegen.runtime import dendrite

    for name in ("FanOutPolicy", "WaitAll", "FirstK", "Quorum", "Deadline"):
        assert name in runtime.__all__
        assert getattr(runtime, name) is getattr(dendrite, name)
