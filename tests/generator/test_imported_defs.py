"""``$defs`` entries that import a subnet's existing classes (``import: package.module.Name``).

The generated module imports the class instead of defining one; fields typed with it validate
into it (defaults too), and the module passes ``mypy --strict`` against the user's package.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ._generated import FakeResponse, generate_package, on_sys_path, stream_items
from .test_typing import _mypy_path

USER_TYPES = '''\
"""A subnet's own protocol types, written by hand before synapsegen."""

from enum import Enum

from pydantic import BaseModel


class Role(str, Enum):
    USER = "user"
    ASSISTANT = "assistant"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens
'''

SCHEMA = """\
version: 1
synapses:
  Chat:
    request:
      role: {$ref: "#/$defs/Role", default: user, hash: true}
      roles: {type: array, items: {$ref: "#/$defs/Role"}, default: [assistant]}
    response:
      usage:
        anyOf: [{$ref: "#/$defs/TokenUsage"}, {type: "null"}]
        default: null
      text: {type: string, default: ""}
    stream:
      framing: json-seq
      payload: json
      rules:
        - {op: concat, path: text, field: text}
        - {op: replace, path: usage, field: usage}
$defs:
  Role:
    import: subnet_types.protocol.Role
    type: string
    enum: [user, assistant]
  TokenUsage:
    import: subnet_types.protocol.Usage
    type: object
    properties:
      prompt_tokens: {type: integer}
      completion_tokens: {type: integer}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the user's package and the generated one beside it."""
    root = tmp_path_factory.mktemp("imported")
    (root / "subnet_types").mkdir()
    (root / "subnet_types" / "__init__.py").write_text("", encoding="utf-8")
    (root / "subnet_types" / "py.typed").write_text("", encoding="utf-8")
    (root / "subnet_types" / "protocol.py").write_text(USER_TYPES, encoding="utf-8")
    (root / "chat_protocol.yaml").write_text(SCHEMA, encoding="utf-8")
    generate_package([root / "chat_protocol.yaml"], root, root / "gen_imported")
    return root


@pytest.fixture(scope="module")
def module(project: Path) -> ModuleType:
    with on_sys_path(project):
        return importlib.import_module("gen_imported.chat_protocol")


def test_the_module_imports_the_users_classes(project: Path, module: ModuleType) -> None:
    source = (project / "gen_imported" / "chat_protocol.py").read_text(encoding="utf-8")
    assert "from subnet_types.protocol import Role\n" in source
    assert "from subnet_types.protocol import Usage as TokenUsage\n" in source
    assert "class Role" not in source and "class TokenUsage" not in source
    protocol = importlib.import_module("subnet_types.protocol")
    assert module.Role is protocol.Role and module.TokenUsage is protocol.Usage
    assert "Role" not in module.__all__  # not ours to export


def test_fields_and_defaults_validate_into_the_users_classes(module: ModuleType) -> None:
    chat = module.Chat()
    assert chat.role is module.Role.USER and chat.roles == [module.Role.ASSISTANT]
    assert module.Chat(role="assistant").role is module.Role.ASSISTANT
    body = b'{"text": "hi"}{"usage": {"prompt_tokens": 2, "completion_tokens": 3}}'
    asyncio.run(stream_items(chat, FakeResponse([body], 200, {})))
    assert isinstance(chat.usage, module.TokenUsage) and chat.usage.total() == 5


def test_it_passes_mypy_strict(project: Path, tmp_path: Path) -> None:
    path = os.pathsep.join([str(_mypy_path(tmp_path)), str(project)])
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(tmp_path / "cache"), "--python-version", "3.11",
               "--package=gen_imported"]  # fmt: skip
    env = {**os.environ, "MYPYPATH": path}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
