"""Schema nodes to Python types and fields, for synapse fields and nested models alike.

:class:`TypeMapper` hoists every inline object with ``properties`` into a model of its own (named
by the front end's :func:`~synapsegen.language.names.inline_model_name`, which also checked the
name), maps JSON Schema nodes to type expressions, and builds :class:`~.ir.FieldIR` values. Schema
values inside a type (``Literal`` members) go through :func:`~.escape.literal`.

A reference to a model defined later in the module (or to itself) is a forward reference: the
mapper quotes it, and a union containing one is quoted whole (``"Asset | None"``), since a quoted
name cannot take part in ``|`` at run time.
"""

from __future__ import annotations

import re
from typing import Any

from ..language.names import inline_model_name
from ..language.spec import FieldSpec, JsonSchema
from .escape import literal, number
from .ir import DefaultIR, FieldIR

# Keywords that move into a hoisted inline model (the rest stays where the object was used).
_MODEL_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})

_JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}

CONSTRAINTS = (
    ("minimum", "ge"),
    ("maximum", "le"),
    ("exclusiveMinimum", "gt"),
    ("exclusiveMaximum", "lt"),
    ("multipleOf", "multiple_of"),
    ("minLength", "min_length"),
    ("maxLength", "max_length"),
    ("minItems", "min_length"),
    ("maxItems", "max_length"),
    ("pattern", "pattern"),
)
"""JSON Schema constraint keywords and the pydantic ``Field`` keyword each becomes."""

_FORWARD = "\x00"  # marks a forward reference until the whole type is built (never in a repr)
_WHOLE = "\x01"  # marks a union quoted whole, for the same reason
_QUOTED = re.compile("\x01([^\x01]*)\x01")


def schema_dict(schema: JsonSchema) -> dict[str, Any]:
    """The JSON Schema of a node as written, synapsegen keywords and ``format`` dropped.

    ``format`` is informational in the schema language: types stay plain JSON types everywhere.
    """
    data = schema.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.pop("hash", None)
    data.pop("frozen", None)
    data.pop("import", None)
    data.pop("header", None)
    return _without_format(data)


def _without_format(node: dict[str, Any]) -> dict[str, Any]:
    node = {key: value for key, value in node.items() if key != "format"}
    if isinstance(node.get("properties"), dict):
        node["properties"] = {k: _without_format(v) for k, v in node["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _without_format(node[key])
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            node[key] = [_without_format(member) for member in node[key]]
    return node


def is_object_model(node: dict[str, Any]) -> bool:
    """Whether a (hoisted) ``$defs`` node becomes a model class (else a type alias)."""
    return bool(node.get("properties"))


def ref_name(node: dict[str, Any]) -> str | None:
    """The ``$defs`` name a node refers to, if it is a reference."""
    ref = node.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref is not None else None


def child_nodes(node: dict[str, Any]) -> list[Any]:
    """The schemas directly below ``node``: properties, items, map values, union members."""
    children: list[Any] = list((node.get("properties") or {}).values())
    children += [node.get("items"), node.get("additionalProperties")]
    children += node.get("anyOf") or []
    children += node.get("oneOf") or []
    return [child for child in children if isinstance(child, dict)]


def references(node: dict[str, Any]) -> list[str]:
    """Every ``$defs`` name referenced at or below ``node``, in order of appearance."""
    name = ref_name(node)
    found = [name] if name is not None else []
    for child in child_nodes(node):
        found += references(child)
    return found


class TypeMapper:
    """Maps schema nodes to Python types; hoists inline object models into :attr:`defs`."""

    def __init__(self, defs: dict[str, JsonSchema]) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.nullable_models: set[str] = set()  # `type: [object, "null"]`: refer as `M | None`
        self.defined: set[str] | None = None  # while rendering models: names defined so far
        self.forward_refs = 0  # forward references quoted so far
        self.imported: dict[str, str] = {}  # $defs name -> the Python class it imports
        for name, schema in defs.items():
            if schema.python_import is not None:
                # An existing class: the entry only describes it, so nothing is hoisted.
                self.imported[name] = schema.python_import
                self.defs[name] = schema_dict(schema)
                continue
            self.defs[name] = self.hoist(schema_dict(schema), name)
            kinds = schema.type
            if schema.properties and isinstance(kinds, list) and "null" in kinds:
                self.nullable_models.add(name)

    def hoist(
        self, node: dict[str, Any], owner: str, steps: tuple[str | int, ...] = ()
    ) -> dict[str, Any]:
        """Replace inline object models at and below ``node`` by references to new models."""
        if steps and node.get("properties"):
            name = inline_model_name(owner, steps)
            # The model gets the object keywords; the place that used it keeps the rest
            # (description, default, ...) and its nullability.
            model = {k: v for k, v in node.items() if k in _MODEL_KEYWORDS}
            model["type"] = "object"
            self.defs[name] = self._hoist_children(model, owner, steps)
            site = {k: v for k, v in node.items() if k not in _MODEL_KEYWORDS and k != "type"}
            kinds = node.get("type")
            if isinstance(kinds, list) and "null" in kinds:
                return {**site, "anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}]}
            return {**site, "$ref": f"#/$defs/{name}"}
        return self._hoist_children(node, owner, steps)

    def _hoist_children(
        self, node: dict[str, Any], owner: str, steps: tuple[str | int, ...]
    ) -> dict[str, Any]:
        node = dict(node)
        if "properties" in node:
            node["properties"] = {
                key: self.hoist(value, owner, (*steps, "properties", key))
                for key, value in node["properties"].items()
            }
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                node[key] = self.hoist(node[key], owner, (*steps, key))
        for key in ("anyOf", "oneOf"):
            if key in node:
                node[key] = [
                    self.hoist(value, owner, (*steps, key, i)) for i, value in enumerate(node[key])
                ]
        return node

    # ------------------------------------------------------------------------------- types

    def python_type(self, node: dict[str, Any], *, optional: bool = False) -> str:
        """The annotation for a (hoisted) schema node, forward references quoted.

        ``optional``: the value may also be None (a property that may be absent).
        """
        text = self._type(node)
        if optional:
            text = _union([text, "None"])
        # A whole quoted union becomes a string literal (its text may hold quotes of its own,
        # from Literal values); a quoted name is just "Name".
        text = _QUOTED.sub(lambda match: literal(match.group(1)), text)
        return text.replace(_FORWARD, '"')

    def _type(self, node: dict[str, Any], nested: bool = False) -> str:
        """The type of ``node``; ``nested`` (an item, a map value, a union member) carries its
        own constraints as ``Annotated[T, Field(...)]`` (a field's are its ``Field``'s)."""
        text = self._plain_type(node)
        constraints = [(arg, node[key]) for key, arg in CONSTRAINTS if key in node]
        if nested and constraints:
            arguments = ", ".join(
                f"{arg}={literal(value) if arg == 'pattern' else number(value)}"
                for arg, value in constraints
            )
            return f"Annotated[{text}, Field({arguments})]"
        return text

    def _plain_type(self, node: dict[str, Any]) -> str:
        name = ref_name(node)
        if name is not None:
            return self._reference(name)
        if "const" in node:
            return _literal([node["const"]])
        if node.get("enum") is not None:
            return _literal(list(node["enum"]))
        members = node.get("anyOf") or node.get("oneOf")
        if members:
            return _union([self._type(member, nested=True) for member in members])
        kind = node.get("type")
        if isinstance(kind, list):
            return _union([self._plain_type({**node, "type": one}) for one in kind])
        return self._json_type(kind, node)

    def _dereferenced(self, node: dict[str, Any]) -> dict[str, Any]:
        """``node`` with ``$ref`` chains followed, at the top and in its union members (one
        level): what ``_as_number`` reads the declared JSON types from."""

        def follow(schema: Any) -> Any:
            seen: set[str] = set()
            while isinstance(schema, dict):
                name = ref_name(schema)
                if name is None or name in seen or name not in self.defs:
                    break
                seen.add(name)
                schema = self.defs[name]
            return schema

        resolved = follow(node)
        if not isinstance(resolved, dict):
            return node
        members = {
            key: [follow(member) for member in resolved[key]]
            for key in ("anyOf", "oneOf")
            if isinstance(resolved.get(key), list)
        }
        return {**resolved, **members}

    def _reference(self, name: str) -> str:
        """A model or alias by name: quoted while not defined yet, ``| None`` if nullable."""
        if name not in self.imported and self._is_none(self.defs.get(name, {}), {name}):
            # An alias of None: `Nothing | None` would be `None | None`, a TypeError at import.
            return "None"
        text = name
        if self.defined is not None and name not in self.defined and name not in self.imported:
            self.forward_refs += 1
            text = f"{_FORWARD}{name}{_FORWARD}"
        return _union([text, "None"]) if name in self.nullable_models else text

    def _is_none(self, node: dict[str, Any], seen: set[str]) -> bool:
        """Whether ``node``'s type is ``None`` alone, however null is spelled: ``type: "null"``
        or ``["null"]``, ``const: null``, an enum of nulls only, a union of such members, a
        ``$ref`` to an alias of them. Reads the keywords in the order :meth:`_plain_type` does;
        ``seen``: the aliases followed so far (a cycle is not None)."""
        name = ref_name(node)
        if name is not None:
            if name in seen or name in self.imported or name not in self.defs:
                return False
            return self._is_none(self.defs[name], seen | {name})
        if "const" in node:
            return node["const"] is None
        if node.get("enum") is not None:
            values = list(node["enum"])
            return bool(values) and all(value is None for value in values)
        members = node.get("anyOf") or node.get("oneOf")
        if members:
            # A member with constraints is `Annotated[None, Field(...)]`, which `|` accepts.
            return all(
                isinstance(member, dict)
                and not any(key in member for key, _ in CONSTRAINTS)
                and self._is_none(member, seen)
                for member in members
            )
        kind = node.get("type")
        if isinstance(kind, list):
            return bool(kind) and all(one == "null" for one in kind)
        return kind == "null"

    def _json_type(self, kind: Any, node: dict[str, Any]) -> str:
        """The type of one JSON type (``Any`` for none)."""
        if kind in _JSON_TYPES:
            return _JSON_TYPES[kind]
        if kind == "array":
            items = node.get("items")
            return f"list[{self._type(items, True) if isinstance(items, dict) else 'Any'}]"
        if kind == "object":
            values = node.get("additionalProperties")
            inner = self._type(values, True) if isinstance(values, dict) else "Any"
            return f"dict[str, {inner}]"
        return "Any"

    def references_model(self, node: dict[str, Any]) -> bool:
        """Whether validating a value of this node builds a generated model class."""
        name = ref_name(node)
        if name is not None:
            return name in self.imported or is_object_model(self.defs.get(name, {}))
        # An inline object is hoisted into a reference before this is asked: no properties here.
        return any(self.references_model(child) for child in child_nodes(node))

    def references_import(self, node: dict[str, Any]) -> bool:
        """Whether the node is (or may be) an imported class: ``$ref`` to one, or a union of it."""
        return any(ref_name(member) in self.imported for member in _with_members(node))

    # ------------------------------------------------------------------------------- fields

    def synapse_field(self, name: str, spec: FieldSpec, owner: str, section: str) -> FieldIR:
        """The field of a synapse class (its inline objects hoisted)."""
        node = self.hoist(schema_dict(spec), owner, (section, name))
        has_default = "default" in spec.model_fields_set
        return self.field(name, node, has_default=has_default, frozen=spec.frozen)

    def field(
        self,
        name: str,
        node: dict[str, Any],
        *,
        has_default: bool,
        frozen: bool = False,
        optional: bool = False,
    ) -> FieldIR:
        """A field from a hoisted node; ``has_default`` False means required.

        ``optional``: a property that may be absent, ``T | None = None``.
        """
        type_expr = self.python_type(node, optional=optional)
        default: DefaultIR | None = None
        if optional:
            default = DefaultIR(None)
        elif has_default:
            value = node.get("default")
            if isinstance(value, (list, dict)):
                # An empty container of a container type needs no validation; anything else
                # (a model written as JSON, enum members) is validated into the field's type.
                plain = not value and type_expr.startswith(("list[", "dict["))
                default = DefaultIR(value, factory=type(value).__name__, validate=not plain)
            elif value is not None and self.references_import(node):
                # An imported class (an Enum, say) does not type-check against its JSON value:
                # built by a factory (typed Any) and validated into the class.
                default = DefaultIR(value, factory=type(value).__name__, validate=True)
            else:
                validate = value is not None and self.references_model(node)
                default = DefaultIR(_as_number(value, self._dereferenced(node)), validate=validate)
        constraints = tuple(
            (argument, node[keyword]) for keyword, argument in CONSTRAINTS if keyword in node
        )
        return FieldIR(
            name=name,
            type=type_expr,
            description=node.get("description"),
            title=node.get("title"),
            examples=node.get("examples"),
            constraints=constraints,
            frozen=frozen,
            default=default,
        )


def _as_number(value: Any, node: dict[str, Any]) -> Any:
    """An integral default of a ``number`` field as a float (``0`` -> ``0.0``).

    pydantic does not validate defaults, so ``score: float = 0`` would hold the int ``0`` until
    the value crosses the wire and comes back as ``0.0``; bittensor's body hash signs
    ``str(value)``, and ``"0" != "0.0"`` fails the signature check of a hashed field.
    """
    types = _member_types(node)
    number_only = "number" in types and "integer" not in types
    if number_only and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # beyond any float: the front end's default check refuses it
            return value
    return value


def _with_members(node: dict[str, Any]) -> list[Any]:
    """``node`` and its ``anyOf``/``oneOf`` members (one level deep)."""
    return [node, *node.get("anyOf", ()), *node.get("oneOf", ())]


def _member_types(node: dict[str, Any]) -> set[str]:
    """The JSON types a node and its ``anyOf``/``oneOf`` members declare (one level deep)."""
    found: set[str] = set()
    for member in _with_members(node):
        declared = member.get("type") if isinstance(member, dict) else None
        found.update([declared] if isinstance(declared, str) else declared or ())
    return found


def _literal(values: list[Any]) -> str:
    members = [value for value in values if value is not None]
    parts = []
    if members:
        parts.append(f"Literal[{', '.join(literal(value) for value in members)}]")
    if len(members) < len(values):
        parts.append("None")
    return _union(parts)


def _union(parts: list[str]) -> str:
    unique: list[str] = []
    for part in parts:
        for member in _members(part):
            if member not in unique:
                unique.append(member)
    if "None" in unique:  # None last: `X | None`
        unique.remove("None")
        unique.append("None")
    if len(unique) > 1 and any(_is_bare_forward(member) for member in unique):
        # A quoted name cannot take part in `|` at run time (list["A"] can): quote the union.
        return _WHOLE + " | ".join(unique).replace(_FORWARD, "").replace(_WHOLE, "") + _WHOLE
    return " | ".join(unique)


def _is_bare_forward(member: str) -> bool:
    return member.startswith((_FORWARD, _WHOLE)) and member.endswith((_FORWARD, _WHOLE))


def _members(part: str) -> list[str]:
    """The members of a union expression (a subscripted type counts as one).

    A quoted union (``"A | None"``) gives its members back, each quoted, so that a later union
    with it stays flat (``"A | None"``, not ``"A | None | None"``).
    """
    if _is_bare_forward(part):
        members = _split_top_level(part.strip(_FORWARD + _WHOLE))
        return [m if m == "None" else f"{_FORWARD}{m}{_FORWARD}" for m in members]
    return _split_top_level(part)


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the `` | `` separators outside brackets and string literals."""
    members, depth, start, quote, index = [], 0, 0, "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1  # skip the escaped character
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[]":
            depth += 1 if char == "[" else -1
        elif depth == 0 and text.startswith(" | ", index):
            members.append(text[start:index])
            start = index + 3
        index += 1
    members.append(text[start:])
    return members
