"""synapsegen.runtime imports on its own: no generator-side dependency is loaded."""

from __future__ import annotations

import subprocess
import sys

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
