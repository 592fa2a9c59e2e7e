"""Nested models: ``$defs`` entries and hoisted inline objects, as IR for the module template.

An entry with ``properties`` becomes a pydantic model class; any other entry a type alias (an
enum a ``Literal`` alias, so hashing and headers see plain strings). Models come out in name
order with the ones they refer to first; a reference that still points forward (a cycle, or a
model referring to itself) is quoted and the model gets ``model_rebuild()`` at the end. An alias
never refers to itself (the front end refuses it, SG309).

A property that is not required and has no default may be absent: it is ``T | None = None``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..language.names import property_attribute
from .ir import AliasIR, FieldIR, ModelIR
from .types import TypeMapper, is_object_model, references


@dataclass(frozen=True)
class NestedModels:
    """The models in definition order, and those that need ``model_rebuild()``."""

    models: tuple[ModelIR | AliasIR, ...]
    rebuilds: tuple[str, ...]


def build_models(mapper: TypeMapper) -> NestedModels:
    """IR of every model in ``mapper.defs`` (after every synapse field was hoisted)."""
    order = [name for name in definition_order(mapper.defs) if name not in mapper.imported]
    mapper.defined = set()
    models: list[ModelIR | AliasIR] = []
    rebuilds: list[str] = []
    for name in order:
        node = mapper.defs[name]
        before = mapper.forward_refs
        if is_object_model(node):
            models.append(_model(name, node, mapper))
            if mapper.forward_refs != before:
                rebuilds.append(name)
        else:
            # A self-reference stays quoted: the alias is not defined while its value is built.
            alias = mapper.field(name, node, has_default=False)
            models.append(AliasIR(name, alias.type, alias.constraints, alias.description))
        mapper.defined.add(name)
    mapper.defined = None
    return NestedModels(tuple(models), tuple(rebuilds))


def definition_order(defs: dict[str, dict[str, Any]]) -> list[str]:
    """Names sorted, each after the models it refers to (depth first; cycles broken)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in defs:
            return
        visiting.add(name)
        for dependency in sorted(set(references(defs[name]))):
            visit(dependency)
        visiting.discard(name)
        order.append(name)

    for name in sorted(defs):
        visit(name)
    return order


def _model(name: str, node: dict[str, Any], mapper: TypeMapper) -> ModelIR:
    required = set(node.get("required") or ())
    fields: list[FieldIR] = []
    for prop, schema in (node.get("properties") or {}).items():
        has_default = "default" in schema
        optional = prop not in required and not has_default  # may be absent: None
        field = mapper.field(prop, schema, has_default=has_default, optional=optional)
        attribute = property_attribute(prop)
        if attribute != prop:
            field = replace(field, name=attribute, alias=prop)
        fields.append(field)
    return ModelIR(
        name=name,
        description=node.get("description"),
        fields=tuple(fields),
        forbid_extra=node.get("additionalProperties") is False,
        aliased=any(field.alias is not None for field in fields),
    )
