"""How nested models read: one-line docstrings, factory defaults after `=`, plain enum aliases."""

from __future__ import annotations

from synapsegen.codegen.models import container_default, docstring_literal, generate_models


def test_one_line_description_gives_one_line_docstring() -> None:
    code = generate_models(
        {
            "One": {"type": "object", "description": "One line.", "properties": {}},
            "Two": {"type": "object", "description": "First.\nSecond.", "properties": {}},
        }
    ).code
    assert '    """One line."""' in code
    assert '    """\n    First.\n    Second.\n    """' in code


def test_container_defaults_become_factories_after_the_equals_sign() -> None:
    models = generate_models(
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
        }
    )  # fmt: skip
    code = models.code + "\n"
    assert "    tags: list[str] = Field(default_factory=list)\n" in code
    assert (
        "    sizes: Annotated[list[int], Field(min_length=1)] = "
        "Field(default_factory=lambda: [1, 2], validate_default=True)\n"
    ) in code
    # An empty list is valid as it is; {} for a model must be validated into the model.
    assert "    subs: list[Sub] = Field(default_factory=list)\n" in code
    assert "    sub: Sub = Field(default_factory=dict, validate_default=True)\n" in code
    assert (
        "    named: dict[str, str] = "
        "Field(default_factory=lambda: {'a': 'b'}, validate_default=True)\n"
    ) in code
    assert "= []" not in code and "= {}" not in code
    assert "Field" in models.imports["pydantic"]


def test_plain_enum_alias_with_its_description_as_docstring() -> None:
    models = generate_models(
        {
            "Role": {"type": "string", "enum": ["system", "user"], "description": "Who wrote it."},
            "Tool": {"type": "string", "enum": ["web"]},
            "Quoted": {"type": "string", "enum": ["a"], "description": 'Say "hi" \\ bye'},
            "Titled": {"type": "string", "enum": ["a"], "title": "T"},
            "Count": {"type": "integer", "minimum": 1},
        }
    )
    code = models.code + "\n"
    assert 'Role: TypeAlias = Literal[\'system\', \'user\']\n"""Who wrote it."""' in code
    assert "Tool: TypeAlias = Literal['web']\n" in code and '"""' not in code.split("Tool:")[1]
    assert "Quoted: TypeAlias = Literal['a']\n" + repr('Say "hi" \\ bye') in code
    # Anything beyond a description stays a TypeAliasType (pydantic reads its metadata).
    assert 'Titled = TypeAliasType("Titled"' in code
    assert 'Count = TypeAliasType("Count", Annotated[int, Field(ge=1)])' in code
    assert "TypeAlias" in models.imports["typing"]


def test_recursive_alias_keeps_type_alias_type() -> None:
    code = generate_models(
        {
            "Tree": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": "#/$defs/Tree"}}]
            }
        }
    ).code
    assert code.startswith('Tree = TypeAliasType("Tree", ')


def test_helpers() -> None:
    assert docstring_literal(" Plain text. ") == '"""Plain text."""'
    assert docstring_literal('a "b"') == repr('a "b"')
    assert container_default([], "list[str]") == "Field(default_factory=list)"
    assert container_default({}, "Sub") == "Field(default_factory=dict, validate_default=True)"
    assert container_default(["x"], "list[Tool]") == (
        "Field(default_factory=lambda: ['x'], validate_default=True)"
    )
