"""synapsegen.testing needs the runtime only: importing it loads no generator module and no
pytest (only its pytest plugin imports pytest)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import synapsegen.testing
loaded = sorted(sys.modules)
generator = [m for m in loaded if m.startswith("synapsegen.")
             and m.split(".")[1] not in ("runtime", "testing")]
assert not generator, generator
assert "pytest" not in loaded and "_pytest" not in loaded
assert not {"jinja2", "yaml", "ruff"} & set(loaded)
print("ok")
"""


def test_the_kit_imports_the_runtime_only() -> None:
    run = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stdout + run.stderr
