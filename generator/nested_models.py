"""Nested pydantic models (``$defs`` and hoisted inline objects) via datamodel-code-generator.

datamodel-code-generator is imported lazily (its first call costs ~0.3 s) and called in-process
with options chosen for deterministic, ``mypy --strict``-clean output:

- enums become ``Literal`` types, named by a ``TypeAliasType``. A ``(str, Enum)`` member would hash
  as ``"Cls.MEMBER"`` in bittensor's body hash and a required Enum field makes ``to_headers()``
  raise; a ``Literal`` value is a plain ``str`` on the wire, in the hash and in headers.
- constraints go into ``Field(...)`` inside ``Annotated``; ``X | None`` unions; builtin generics.
- no timestamp, no formatter (the pipeline runs ruff once per output folder).

Every inline object schema is hoisted into ``$defs`` under a name *we* choose before the call, so
datamodel-code-generator never invents (or renames) a model: the names in its output are exactly
the ``$defs`` names. Its output is then split with ``ast``: the import statements are returned as
data (the module template merges them with ours), the header comment and the placeholder root
alias are dropped. Nothing else is changed.
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
        )
    except Exception as exc:  # the library raises many types; report them as one
        raise NestedModelError(f"datamodel-code-generator failed: {exc}") from exc
    if not isinstance(output, str):
        raise NestedModelError("datamodel-code-generator returned no single module")
    return _split(output, set(defs))


def _split(source: str, expected_names: set[str]) -> NestedModels:
    """Separate imports, drop the header comment and the root alias, keep everything else."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports: dict[str, set[str]] = {}
    kept: list[str] = []
    rebuilds: list[str] = []
    bound: set[str] = set()
    for node in tree.body:
        segment = "\n".join(lines[node.lineno - 1 : node.end_lineno])
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
    missing = expected_names - bound
    if missing:
        raise NestedModelError(f"models missing from the output: {sorted(missing)}")
    code = "\n\n\n".join(kept)
    # Names only the dropped root alias used (e.g. TypeAliasType, Any) are not imported.
    used = {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}
    return NestedModels(
        code=code,
        imports={
            module: frozenset(names & used)
            for module, names in imports.items()
            if names & used
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


def _is_rebuild_call(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "model_rebuild"
    )
