"""synapsegen.testing is mypy --strict clean, and so is a validator's test written with it.

One mypy run (about 15 s of CPU: it follows the imports into the runtime, pydantic, aiohttp,
starlette and pytest), kept out of tests/testing/ so that the kit's own tests stay quick. As in
tests/generator/test_typing.py, mypy cannot follow the editable install's import hook, so a
``synapsegen`` package of symlinks stands in for the installed one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"

USER_CODE = '''\
"""A validator's test module, as the docs write one."""

from chat.chat import ChatCompletion, Message

from synapsegen.runtime import Dendrite
from synapsegen.testing import Decoded, RandomCuts, Script, ScriptedMiner, replay
from synapsegen.testing.pytest_plugin import MinerFactory


def score(synapse: ChatCompletion) -> float:
    return 1.0 if synapse.is_success and synapse.stream_complete else 0.0


async def check(scripted_miner: MinerFactory, validator_dendrite: Dendrite) -> float:
    request = ChatCompletion(messages=[Message(role="user", content="hi")])
    async with ScriptedMiner(ChatCompletion, tokens=["a"], chunking=RandomCuts(1)) as miner:
        await validator_dendrite.call(miner.target, request)
    threaded: ScriptedMiner[ChatCompletion] = scripted_miner(
        ChatCompletion, [Script(tokens=["a"]), Script(status=503)]
    )
    assert threaded.requests == []
    decoded: Decoded[ChatCompletion] = await replay("vector.json", ChatCompletion, splits=4)
    return score(decoded.synapse) + len(decoded.synapse.completion)
'''


def _stand_in_package(tmp_path: Path) -> Path:
    package = tmp_path / "stubs" / "synapsegen"
    package.mkdir(parents=True)
    for entry in (ROOT / "generator").iterdir():
        if entry.suffix == ".py" or entry.name == "py.typed" or (entry / "__init__.py").is_file():
            (package / entry.name).symlink_to(entry)
    (package / "runtime").symlink_to(ROOT / "runtime")
    (package / "testing").symlink_to(ROOT / "testing")
    return package.parent


def test_the_kit_and_a_test_using_it_pass_mypy_strict(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "user_code.py").write_text(USER_CODE, encoding="utf-8")
    path = [_stand_in_package(tmp_path), GOLDEN, user]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, path))}
    modules = sorted(p.stem for p in (ROOT / "testing").glob("*.py") if p.stem != "__init__")
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11",
               "--package=synapsegen.testing", "--module=user_code"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"in {len(modules) + 2} source files" in result.stdout  # the package, its __init__, user
