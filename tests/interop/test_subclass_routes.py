"""bittensor 10.5 routes a synapse subclass by its own class name, as the runtime does.

docs/migrating.md tells subnets to keep a generated class's name when they subclass it (the
runtime's side is tested in tests/generator/test_docs_examples.py). This checks bittensor's side
in its venv: ``name`` is the subclass's name, and ``Axon.attach`` routes the subclass's name.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from .harness import BT_SIDE_DIR

SCRIPT = """
import sys

sys.path.insert(0, sys.argv[1])
from bootstrap import LOOPBACK, bt, emit, wallet_for


class StreamPrompting(bt.Synapse):
    messages: list[str] = []


class MyPrompting(StreamPrompting):
    pass


def forward(synapse: MyPrompting) -> MyPrompting:
    return synapse


axon = bt.Axon(wallet=wallet_for("miner"), ip=LOOPBACK, external_ip=LOOPBACK, port=8091)
axon.attach(forward_fn=forward)
emit({
    "names": [StreamPrompting().name, MyPrompting().name, MyPrompting(name="StreamPrompting").name],
    "routes": sorted(axon.forward_fns),
})
"""


def test_bittensor_names_and_routes_a_subclass_by_its_own_name(
    bt_python: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(bt_python), "-c", SCRIPT, str(BT_SIDE_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["names"] == ["StreamPrompting", "MyPrompting", "MyPrompting"]
    # Beside bittensor's own default route, /Synapse: the subclass's name, not its parent's.
    assert result["routes"] == ["MyPrompting", "Synapse"]
