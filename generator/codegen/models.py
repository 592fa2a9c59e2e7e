"""Nested pydantic models (``$defs`` and hoisted inline objects) via datamodel-code-generator.

datamodel-code-generator is imported lazily (its first call costs ~0.3 s) and called in-process
with options chosen for deterministic, ``mypy --strict``-clean output:

- enums become ``Literal`` types. A ``(str, Enum)`` member would hash as ``"Cls.MEMBER"`` in
  bittensor's body hash and a required Enum field makes ``to_headers()`` raise; a ``Literal``
  value is a plain ``str`` on the wire, in the hash and in headers.
- constraints go into ``Field(...)`` inside ``Annotated``; ``X | None`` unions; builtin generics;
  one-line descriptions give one-line docstrings.
- no timestamp, no formatter (the pipeline runs ruff once per output folder).

Every inline object schema is hoisted into ``$defs`` under a name *we* choose before the call, so
datamodel-code-generator never invents (or renames) a model: the names in its output are exactly
the ``$defs`` names. Its output is then split with ``ast``: the import statements are returned as
data (the module template merges them with ours), the header comment and the placeholder root
alias are dropped. Two things are rewritten (there is no option for them), the same way the
synapse fields are written:

- a list or dict default (``tags: list[str] = []``) becomes ``= Field(default_factory=list)``
  (``lambda: [...]`` when not empty): a fresh container per instance, and after ``=`` so type
  checkers know the field may be omitted;
- an enum alias ``Role = TypeAliasType("Role", Annotated[Literal[...], Field(description=...)])``
  becomes ``Role: TypeAlias = Literal[...]`` followed by the description as its docstring. Only
  plain ``Literal`` aliases (not recursive, no constraints) are rewritten; every other alias
  keeps its ``TypeAliasType``.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any

ROOT_TITLE = "SynapsegenUnusedRoot"


class NestedModelError(Exception):
    """datamodel-code-generator failed or produced something we cannot use."""


@dataclass(frozen=True)
class NestedModels:
    """Source of the nested models plus the names they import."""

    code: str
    imports: dict[str, frozenset[str]]  # module -> names
    rebuild_calls: tuple[str, ...]


def generate_models(defs: dict[str, dict[str, Any]]) -> NestedModels:
    """Render ``defs`` (JSON Schema dicts, inline objects already hoisted) as pydantic models."""
    if not defs:
        return NestedModels(code="", imports={}, rebuild_calls=())
    from datamodel_code_generator import (  # type: ignore[attr-defined]  # lazy: heavy import
        DataModelType,
        InputFileType,
        LiteralType,
        PythonVersion,
        generate,
    )

    document = {"title": ROOT_TITLE, "$defs": defs}
    try:
        output = generate(
            json.dumps(document),  # no sort_keys: keep the schema's property order
            input_file_type=InputFileType.JsonSchema,
            output_model_type=DataModelType.PydanticV2BaseModel,
            target_python_version=PythonVersion.PY_310,
            use_annotated=True,
            field_constraints=True,
            use_standard_collections=True,
            use_union_operator=True,
            strict_nullable=True,
            disable_timestamp=True,
            formatters=[],
            enum_field_as_literal=LiteralType.All,
            use_schema_description=True,
            use_double_quotes=True,
            keep_model_order=True,
            disable_future_imports=True,
            use_type_alias=True,
            use_single_line_docstring=True,
        )
    except Exception as exc:  # the library raises many types; report them as one
        raise NestedModelError(f"datamodel-code-generator failed: {exc}") from exc
    if not isinstance(output, str):
        raise NestedModelError("datamodel-code-generator returned no single module")
    return _split(_readable(output), set(defs))


def docstring_literal(text: str) -> str:
    """A docstring literal; repr keeps any quote or backslash in the schema text harmless."""
    text = text.strip()
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"""{text}"""'
    return repr(text)


def container_default(value: list[Any] | dict[str, Any], type_expr: str) -> str:
    """The source after ``=`` for a list or dict default: a ``Field`` with a default_factory.

    A factory gives every instance a fresh container. The default is JSON data from the schema (a
    model written as a dict, an enum member as a str), so it is validated into the field's type,
    unless it is an empty list/dict of a list/dict type; being validated, the factory's return
    type is not checked against the field's by type checkers.
    """
    factory = type(value).__name__ if not value else f"lambda: {value!r}"
    if value or not type_expr.startswith(("list[", "dict[")):
        return f"Field(default_factory={factory}, validate_default=True)"
    return f"Field(default_factory={factory})"


def _readable(source: str) -> str:
    """Rewrite container defaults and plain enum aliases (see the module docstring)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    replacements: list[tuple[ast.stmt, str]] = []
    for node in tree.body:
        alias = _literal_alias(node)
        if alias is not None:
            replacements.append((node, alias))
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                field = _factory_field(statement)
                if field is not None:
                    indent = " " * statement.col_offset
                    replacements.append((statement, indent + field))
    # Bottom up, so earlier line numbers stay valid.
    for node, text in sorted(replacements, key=lambda item: -item[0].lineno):
        assert node.end_lineno is not None
        lines[node.lineno - 1 : node.end_lineno] = text.splitlines()
    return "\n".join(lines) + "\n"


def _factory_field(statement: ast.stmt) -> str | None:
    """``name: T = Field(default_factory=...)`` for a field whose default is a list/dict literal."""
    if not (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and isinstance(statement.value, (ast.List, ast.Dict))
    ):
        return None
    value = ast.literal_eval(statement.value)
    annotation = statement.annotation
    field_call = _annotated_field_call(annotation)
    if field_call is not None:
        # validate_default is about the default: container_default decides it.
        assert isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple)
        type_expr = ast.unparse(annotation.slice.elts[0])
        field_call.keywords = [k for k in field_call.keywords if k.arg != "validate_default"]
        if not field_call.keywords and not field_call.args:
            annotation = _without_metadata(annotation, field_call)
    else:
        type_expr = ast.unparse(annotation)
    default = container_default(value, type_expr)
    return f"{statement.target.id}: {ast.unparse(annotation)} = {default}"


def _annotated_field_call(annotation: ast.expr) -> ast.Call | None:
    """The ``Field(...)`` inside ``Annotated[T, Field(...)]``, if there is one."""
    if (
        isinstance(annotation, ast.Subscript)
        and isinstance(annotation.value, ast.Name)
        and annotation.value.id == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        for item in annotation.slice.elts[1:]:
            if (
                isinstance(item, ast.Call)
                and isinstance(item.func, ast.Name)
                and item.func.id == "Field"
            ):
                return item
    return None


def _without_metadata(annotation: ast.expr, field_call: ast.Call) -> ast.expr:
    """``Annotated[T, Field()]`` without the empty ``Field()`` (just ``T`` if nothing is left)."""
    assert isinstance(annotation, ast.Subscript) and isinstance(annotation.slice, ast.Tuple)
    items = [item for item in annotation.slice.elts if item is not field_call]
    if len(items) == 1:
        return items[0]
    return ast.Subscript(annotation.value, ast.Tuple(items, ast.Load()), ast.Load())


def _literal_alias(node: ast.stmt) -> str | None:
    """``Name: TypeAlias = Literal[...]`` plus a docstring, for a plain Literal TypeAliasType."""
    if not (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "TypeAliasType"
        and len(node.value.args) == 2
        and not node.value.keywords
    ):
        return None
    name = node.targets[0].id
    aliased = node.value.args[1]
    description: str | None = None
    field_call = _annotated_field_call(aliased)
    if field_call is not None:
        assert isinstance(aliased, ast.Subscript) and isinstance(aliased.slice, ast.Tuple)
        keywords = {keyword.arg: keyword.value for keyword in field_call.keywords}
        text = keywords.get("description")
        if (
            len(aliased.slice.elts) != 2
            or field_call.args
            or set(keywords) != {"description"}
            or not isinstance(text, ast.Constant)
            or not isinstance(text.value, str)
        ):
            return None
        description = text.value
        aliased = aliased.slice.elts[0]
    if not (
        isinstance(aliased, ast.Subscript)
        and isinstance(aliased.value, ast.Name)
        and aliased.value.id == "Literal"
    ):
        return None
    alias = f"{name}: TypeAlias = {ast.unparse(aliased)}"
    if description is None or not description.strip():
        return alias
    return f"{alias}\n{docstring_literal(description)}"


def _split(source: str, expected_names: set[str]) -> NestedModels:
    """Separate imports, drop the header comment and the root alias, keep everything else."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports: dict[str, set[str]] = {}
    kept: list[str] = []
    rebuilds: list[str] = []
    bound: set[str] = set()
    previous: ast.stmt | None = None
    for node in tree.body:
        segment = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        follows_alias, previous = isinstance(previous, ast.AnnAssign), node
        if follows_alias and _is_string(node) and kept:
            kept[-1] += "\n" + segment  # an alias's docstring stays right below it
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            imports.setdefault(node.module, set()).update(alias.name for alias in node.names)
            continue
        if isinstance(node, ast.Import):
            raise NestedModelError(f"unexpected import in models: {segment}")
        target = _bound_name(node)
        if target == ROOT_TITLE:
            continue
        if target is not None:
            bound.add(target)
        if _is_rebuild_call(node):
            rebuilds.append(segment)
            continue
        kept.append(segment)
    # What _readable's rewrites may use (kept below only if used).
    imports.setdefault("typing", set()).add("TypeAlias")
    imports.setdefault("pydantic", set()).add("Field")
    missing = expected_names - bound
    if missing:
        raise NestedModelError(f"models missing from the output: {sorted(missing)}")
    code = "\n\n\n".join(kept)
    # Names only the dropped root alias used (e.g. TypeAliasType, Any) are not imported.
    used = {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    return NestedModels(
        code=code,
        imports={
            module: frozenset(names & used) for module, names in imports.items() if names & used
        },
        rebuild_calls=tuple(rebuilds),
    )


def _bound_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _is_string(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_rebuild_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "model_rebuild"
    )
