"""How nested models read: one-line docstrings, factory defaults after `=`, plain enum aliases,
dependencies first, forward references quoted, recursion through TypeAliasType."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synapsegen.pipeline import Options, generate


def _module(tmp_path: Path, defs: dict[str, Any]) -> str:
    schema = {
        "version": 1,
        "synapses": {"Probe": {"stream": {"format": "text"}}},
        "$defs": defs,
    }
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    result = generate([path], Options(), tmp_path)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    return result.files["probe.py"]


def test_description_gives_a_docstring(tmp_path: Path) -> None:
    code = _module(
        tmp_path,
        {
            "One": {"type": "object", "description": "One line.", "properties": {"a": {}}},
            "Two": {"type": "object", "description": "First.\nSecond.", "properties": {"a": {}}},
        },
    )
    assert '    """One line."""' in code
    assert '    "First.\\nSecond."' in code  # a line break is escaped, never raw


def test_container_defaults_become_factories_after_the_equals_sign(tmp_path: Path) -> None:
    code = _module(
        tmp_path,
        {
            "Sub": {"type": "object", "properties": {"x": {"type": "integer", "default": 1}}},
            "M": {
                "type": "object",
                "properties": {
                    "tags": {"type": "array", "items": {"type": "string"}, "default": []},
                    "sizes": {
                        "type": "array",
                        "items": {"type": "integer"},
                        "minItems": 1,
                        "default": [1, 2],
                    },
                    "subs": {"type": "array", "items": {"$ref": "#/$defs/Sub"}, "default": []},
                    "sub": {"$ref": "#/$defs/Sub", "default": {}},
                    "named": {"type": "object", "additionalProperties": {"type": "string"},
                              "default": {"a": "b"}},
                },
            },
        },
    )  # fmt: skip
    assert "    tags: list[str] = Field(default_factory=list)\n" in code
    assert (
        "    sizes: Annotated[list[int], Field(min_length=1)] = Field(\n"
        "        default_factory=lambda: [1, 2], validate_default=True\n    )\n"
    ) in code
    # An empty list is valid as it is; {} for a model must be validated into the model.
    assert "    subs: list[Sub] = Field(default_factory=list)\n" in code
    assert "    sub: Sub = Field(default_factory=dict, validate_default=True)\n" in code
    assert 'default_factory=lambda: {"a": "b"}, validate_default=True' in code
    models = code.split("class Probe(")[0]
    assert "= []" not in models and "= {}" not in models
    assert code.index("class Sub(") < code.index("class M(")  # dependencies first


def test_enum_aliases_and_constrained_aliases(tmp_path: Path) -> None:
    code = _module(
        tmp_path,
        {
            "Role": {"type": "string", "enum": ["system", "user"], "description": "Who wrote it."},
            "Tool": {"type": "string", "enum": ["web"]},
            "Quoted": {"type": "string", "enum": ["a"], "description": 'Say "hi" \\ bye'},
            "Count": {"type": "integer", "minimum": 1},
        },
    )
    assert 'Role: TypeAlias = Literal["system", "user"]\n"""Who wrote it."""' in code
    assert 'Tool: TypeAlias = Literal["web"]\n' in code
    assert 'Quoted: TypeAlias = Literal["a"]\n' + repr('Say "hi" \\ bye') in code
    assert "Count: TypeAlias = Annotated[int, Field(ge=1)]" in code


def test_recursion(tmp_path: Path) -> None:
    code = _module(
        tmp_path,
        {
            "Node": {
                "type": "object",
                "properties": {
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    "parent": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]},
                },
            },
        },
    )
    assert '    kids: list["Node"] | None = None' in code
    assert '    parent: "Node | None" = None' in code
    assert code.rstrip().count("Node.model_rebuild()") == 1
