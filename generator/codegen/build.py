"""Turn a validated schema (presets expanded, defaults filled) into the IR the templates render.

All decisions about the generated code are made here, in plain Python: type expressions, the
``Field(...)`` arguments, local accumulators and the per-rule statements of
``process_streaming_response``. Every string taken from the schema reaches the output through
``repr`` (a Python literal); names (synapses, fields, ``$defs``) are identifiers the validator
already checked.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ir import (
    ActionIR,
    DeserializeIR,
    FieldIR,
    Import,
    LocalIR,
    LookupIR,
    ModuleIR,
    PackageInitIR,
    RuleIR,
    StepIR,
    StreamIR,
    SynapseIR,
)
from ..language.names import MODULE_NAMES, inline_model_name
from .models import container_default, docstring_literal, generate_models
from ..language.spec import FieldSpec, JsonSchema, RuleSpec, SchemaFile, StreamSpec, SynapseSpec

RUNTIME_MODULE = "synapsegen.runtime"
RUNTIMES = ("synapsegen", "bittensor")

# Base-class fields (besides dendrite/axon and the frozen computed_body_hash) that
# extract_response_json returns so the dendrite's rebuild does not reset them.
BASE_FIELDS_RETURNED = ("name", "timeout", "total_size", "header_size")

# Locals of process_streaming_response and builtins it calls: accumulators must not shadow them.
_FIXED_LOCALS = frozenset(
    {
        "self", "response", "decoder", "body", "chunk", "frames", "frame", "text", "data",
        "event", "value", "node", "key", "complete", "frame_batches", "isinstance", "type",
        "str", "list", "dict", "len", "anext", "bool", "int", "float",
    }
)  # fmt: skip

# A text accumulator joins its parts into one block, after a network chunk, once it holds more
# parts than this: a long stream then costs 2x its text plus a bounded overhead, not a list slot
# and a str header (~57 bytes) per chunk for the whole stream (bench/memory.py measures it).
JOIN_TEXT_PARTS = 4096

# Keywords that move into a hoisted inline model (the rest stays where the object was used).
_MODEL_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})

_JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "None",
}


class BuildError(Exception):
    """The schema uses a combination the back end cannot generate (a front-end gap)."""


# --------------------------------------------------------------------------------------------
# Import bookkeeping


@dataclass
class _Imports:
    names: dict[str, set[str]] = field(default_factory=dict)

    def add(self, module: str, *names: str) -> None:
        self.names.setdefault(module, set()).update(names)

    def merge(self, other: dict[str, frozenset[str]]) -> None:
        for module, names in other.items():
            self.add(module, *names)

    def frozen(self) -> tuple[Import, ...]:
        return tuple(
            Import(module, tuple(sorted(names))) for module, names in sorted(self.names.items())
        )


# --------------------------------------------------------------------------------------------
# Types


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name) if part)


def _schema_dict(schema: JsonSchema) -> dict[str, Any]:
    """The JSON Schema of a node as written (synapsegen keywords dropped).

    ``format`` is informational in the schema language: dropped here (at every depth) so that
    nested models keep plain JSON types, like synapse fields do. datamodel-code-generator would
    otherwise turn ``date-time`` into ``AwareDatetime``, ``email`` into ``EmailStr`` (which needs
    an extra package) and import names the front end's clash check does not know about.
    """
    data = schema.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data.pop("hash", None)
    data.pop("frozen", None)
    return _without_format(data)


def _without_format(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` without the ``format`` keyword, here and in every subschema (not in values)."""
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


class _TypeMapper:
    """Maps schema nodes to Python type expressions and hoists inline objects into $defs.

    Hoisted names are ``<Owner><Field>`` (``Item`` for array items, ``Value`` for map values),
    made unique against every other model name, so the nested-model generator never has to invent
    one.
    """

    def __init__(self, defs: dict[str, JsonSchema], reserved: set[str]) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.taken = set(defs) | reserved
        self.typing: set[str] = set()
        self.model_names: set[str] = set()  # names of classes (not aliases): need validate_default
        # Models declared `type: [object, "null"]`: a class cannot be None, so a reference to one
        # is `Name | None` (datamodel-code-generator does the same inside nested models).
        self.nullable_models: set[str] = set()
        for name, schema in defs.items():
            self.defs[name] = self.hoist(_schema_dict(schema), name)
            if _is_object_model(schema):
                self.model_names.add(name)
                if isinstance(schema.type, list) and "null" in schema.type:
                    self.nullable_models.add(name)

    def hoist(
        self, node: dict[str, Any], owner: str, steps: tuple[str | int, ...] = ()
    ) -> dict[str, Any]:
        """Replace inline object models at and below ``node`` by $refs to new $defs entries.

        Names come from the front end's :func:`synapsegen.names.inline_model_name`, which also
        checked them for clashes.
        """
        if steps and node.get("properties"):
            name = inline_model_name(owner, steps)
            if name in self.taken:
                raise BuildError(f"inline model {name!r} clashes with another name")
            self.taken.add(name)
            self.model_names.add(name)
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
        if isinstance(node.get("items"), dict):
            node["items"] = self.hoist(node["items"], owner, (*steps, "items"))
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = self.hoist(
                node["additionalProperties"], owner, (*steps, "additionalProperties")
            )
        for key in ("anyOf", "oneOf"):
            if key in node:
                node[key] = [
                    self.hoist(value, owner, (*steps, key, i)) for i, value in enumerate(node[key])
                ]
        return node

    def python_type(self, node: dict[str, Any]) -> str:
        """The annotation for a (hoisted) schema node."""
        if "$ref" in node:
            name = str(node["$ref"]).rsplit("/", 1)[-1]
            return f"{name} | None" if name in self.nullable_models else name
        if "const" in node:
            return self._literal([node["const"]])
        if node.get("enum") is not None:
            return self._literal(list(node["enum"]))
        for key in ("anyOf", "oneOf"):
            if node.get(key):
                return _union([self.python_type(member) for member in node[key]])
        kind = node.get("type")
        if isinstance(kind, list):
            return _union([self.python_type({**node, "type": one}) for one in kind])
        if kind in _JSON_TYPES:
            return _JSON_TYPES[kind]
        if kind == "array":
            items = node.get("items")
            return f"list[{self.python_type(items) if isinstance(items, dict) else self._any()}]"
        if kind == "object":
            values = node.get("additionalProperties")
            inner = self.python_type(values) if isinstance(values, dict) else self._any()
            return f"dict[str, {inner}]"
        return self._any()

    def _any(self) -> str:
        self.typing.add("Any")
        return "Any"

    def _literal(self, values: list[Any]) -> str:
        members = [value for value in values if value is not None]
        parts = []
        if members:
            self.typing.add("Literal")
            parts.append(f"Literal[{', '.join(repr(value) for value in members)}]")
        if len(members) < len(values):
            parts.append("None")
        return _union(parts)

    def references_model(self, node: dict[str, Any]) -> bool:
        """Whether validating a value of this node builds a generated model class."""
        if "$ref" in node:
            return str(node["$ref"]).rsplit("/", 1)[-1] in self.model_names
        children: list[Any] = [node.get("items"), node.get("additionalProperties")]
        children += node.get("anyOf") or []
        children += node.get("oneOf") or []
        return any(isinstance(child, dict) and self.references_model(child) for child in children)


def _is_object_model(schema: JsonSchema) -> bool:
    return bool(schema.properties)


def _union(parts: list[str]) -> str:
    unique: list[str] = []
    for part in parts:
        for member in part.split(" | ") if "[" not in part else [part]:
            if member not in unique:
                unique.append(member)
    if "None" in unique:  # None last: `X | None`
        unique.remove("None")
        unique.append("None")
    return " | ".join(unique)


# --------------------------------------------------------------------------------------------
# Fields


_CONSTRAINTS = (
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


def _number(value: Any) -> str:
    """A bound as source: integral floats (YAML `2` read as 2.0 by the spec) print as ints."""
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return repr(value)


def _build_field(
    name: str, spec: FieldSpec, mapper: _TypeMapper, owner: str, section: str
) -> tuple[FieldIR, str]:
    """The field's IR and its plain type expression."""
    node = mapper.hoist(_schema_dict(spec), owner, (section, name))
    type_expr = mapper.python_type(node)
    arguments: list[str] = []
    if spec.description is not None:
        arguments.append(f"description={spec.description!r}")
    if spec.title is not None:
        arguments.append(f"title={spec.title!r}")
    if spec.examples is not None:
        arguments.append(f"examples={spec.examples!r}")
    for keyword, argument in _CONSTRAINTS:
        if keyword in node:
            value = node[keyword]
            arguments.append(f"{argument}={value!r}" if keyword == "pattern" else
                             f"{argument}={_number(value)}")  # fmt: skip
    if spec.frozen:
        arguments.append("frozen=True")
    default: str | None = None
    if "default" in spec.model_fields_set:
        value = spec.default
        if isinstance(value, (list, dict)):
            # Assigned with `=` (not inside Annotated) so type checkers see the default.
            default = container_default(value, type_expr)
        else:
            default = repr(value)
            if value is not None and mapper.references_model(node):
                arguments.append("validate_default=True")
    if arguments:
        annotation = f"Annotated[{type_expr}, Field({', '.join(arguments)})]"
    else:
        annotation = type_expr
    return FieldIR(name=name, annotation=annotation, default=default), type_expr


def _field_default_source(spec: FieldSpec) -> str:
    """A literal that evaluates to a fresh copy of the field's default."""
    return repr(spec.default)


# --------------------------------------------------------------------------------------------
# Paths and conditions


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``choices[0].delta.content`` -> ``["choices", 0, "delta", "content"]``."""
    parts: list[str | int] = []
    position = 0
    for match in _PATH_PART.finditer(path):
        between = path[position : match.start()]
        if between not in ("", "."):
            raise BuildError(f"invalid path {path!r}")
        key, index = match.groups()
        parts.append(int(index) if index is not None else key)
        position = match.end()
    if position != len(path) or not parts or path.endswith("."):
        raise BuildError(f"invalid path {path!r}")
    return parts


def _lookup(path: str | None, root: str, result: str, *, root_is_dict: bool) -> LookupIR:
    """Statements leaving the value at ``path`` (or None when absent) in ``result``."""
    if path is None:
        return LookupIR(path="(the whole token)", statements=(f"{result} = {root}",))
    parts = parse_path(path)
    statements = []
    source = root
    for i, part in enumerate(parts):
        target = result if i == len(parts) - 1 else "node"
        if isinstance(part, int):
            statements.append(
                f"{target} = {source}[{part}] "
                f"if isinstance({source}, list) and len({source}) > {part} else None"
            )
        elif i == 0 and root_is_dict:
            statements.append(f"{target} = {source}.get({part!r})")
        else:
            statements.append(
                f"{target} = {source}.get({part!r}) if isinstance({source}, dict) else None"
            )
        source = target
    return LookupIR(path=path, statements=tuple(statements))


def _match(tags: dict[str, Any], token: str, tag_locals: dict[str, str]) -> str:
    """Condition: the JSON object ``token`` has these top-level values (JSON equality).

    ``tag_locals`` names the local holding ``token.get(key)`` for every key (read once per token).
    """
    tests = []
    for key, value in tags.items():
        tag = tag_locals[key]
        if value is None:
            tests.append(f"{tag} is None and {key!r} in {token}")
        elif isinstance(value, bool):
            tests.append(f"{tag} is {value!r}")
        elif isinstance(value, (int, float)):
            # 1 == True in Python, but not in JSON.
            tests.append(f"{tag} == {value!r} and not isinstance({tag}, bool)")
        else:
            tests.append(f"{tag} == {value!r}")
    return " and ".join(tests)


def _plan_tag_locals(tag_sets: list[dict[str, Any]], token: str, taken: set[str]) -> dict[str, str]:
    """A local name for each key the conditions test, in first-use order: ``event_type``.

    Keys are arbitrary strings: anything but letters, digits and "_" becomes "_", and a name
    already taken (an accumulator, a fixed local, another key) gets a numeric suffix.
    """
    names: dict[str, str] = {}
    for tags in tag_sets:
        for key in tags:
            if key in names:
                continue
            base = f"{token}_{re.sub(r'[^0-9A-Za-z_]', '_', key)}"
            name, suffix = base, 2
            while name in taken or not name.isidentifier():
                name, suffix = f"{base}_{suffix}", suffix + 1
            taken.add(name)
            names[key] = name
    return names


def _describe_tags(tags: dict[str, Any]) -> str:
    return ", ".join(f"{_plain(key)} = {value!r}" for key, value in tags.items())


def _plain(text: str) -> str:
    """Schema text for a comment or docstring: as written if printable, else its repr.

    A line break (``\\n``, ``\\r``, ``\\u2028``, ...) in a `when` key or a path would otherwise
    end the comment and put the rest of the text into the code.
    """
    return text if text.isprintable() else repr(text)


def _docstring_text(text: str) -> str:
    """Printable text to put inside a triple-quoted docstring, read back as written.

    Backslashes and double quotes (e.g. in a sentinel) are escaped, so they can neither end the
    docstring nor start an escape sequence.
    """
    return _plain(text).replace("\\", "\\\\").replace('"', '\\"')


# --------------------------------------------------------------------------------------------
# Streams


@dataclass(frozen=True)
class _Framing:
    decoder_class: str
    frame_name: str
    token_decode: str | None  # applied to the frame variable


def _framing(stream: StreamSpec) -> _Framing:
    text = stream.payload == "text"
    if stream.framing == "raw":
        if not text:
            raise BuildError("framing raw carries text only (payload: text)")
        return _Framing("TextDecoder", "text", None)
    if stream.framing == "lines":
        return _Framing(
            "LineDecoder", "frame", "decode_text_frame" if text else "decode_json_frame"
        )
    if stream.framing == "sse":
        return _Framing(
            "SSEDecoder", "text" if text else "data", None if text else "decode_json_frame"
        )
    if stream.framing == "json-seq":
        if text:
            raise BuildError("framing json-seq carries JSON only (payload: json)")
        return _Framing("JSONSeqDecoder", "event", None)
    raise BuildError(
        f"stream without an explicit framing ({stream.framing!r}); expand presets first"
    )


def _int(value: int | None) -> str:
    return "None" if value is None else f"{value:_}"


def _decoder_call(stream: StreamSpec, framing: _Framing) -> str:
    arguments = []
    if stream.framing == "lines":
        arguments.append(f"delimiter={stream.delimiter.encode()!r}")
    if stream.framing == "sse":
        arguments.append(f"sentinel={stream.sentinel!r}")
    if stream.framing != "raw":
        arguments.append(f"max_frame_bytes={_int(stream.limits.max_frame_bytes)}")
    arguments.append(f"max_total_bytes={_int(stream.limits.max_total_bytes)}")
    return f"{framing.decoder_class}({', '.join(arguments)})"


def _encoder(stream: StreamSpec, imports: _Imports) -> tuple[str, Callable[[str], str] | None]:
    """(token encoder expression, source of the call encoding a JSON value for trailers/errors).

    The second is a function of the value's source: with a custom delimiter the token encoder is
    a lambda, which cannot simply be called by appending ``(value)`` to its source.
    """
    text = stream.payload == "text"
    if stream.framing == "raw":
        imports.add(RUNTIME_MODULE, "encode_text")
        return "encode_text", None
    if stream.framing == "lines":
        delimiter = stream.delimiter.encode()
        if text:
            imports.add(RUNTIME_MODULE, "encode_line")
            if delimiter == b"\n":
                return "encode_line", None
            return f"lambda token: encode_line(token, {delimiter!r})", None
        if delimiter == b"\n":
            imports.add(RUNTIME_MODULE, "encode_json_line")
            return "encode_json_line", _call("encode_json_line")
        imports.add(RUNTIME_MODULE, "encode_line", "encode_json_value")
        encode = f"lambda token: encode_line(encode_json_value(token), {delimiter!r})"
        return encode, lambda value: f"encode_line(encode_json_value({value}), {delimiter!r})"
    if stream.framing == "sse":
        if text:
            imports.add(RUNTIME_MODULE, "encode_sse")
            return "encode_sse", None
        imports.add(RUNTIME_MODULE, "encode_sse_json")
        return "encode_sse_json", _call("encode_sse_json")
    imports.add(RUNTIME_MODULE, "encode_json_value")
    return "encode_json_value", _call("encode_json_value")


def _call(function: str) -> Callable[[str], str]:
    return lambda value: f"{function}({value})"


@dataclass
class _Local:
    field: str
    name: str  # the accumulator; for text, the parts received since the last join
    kind: str  # "text" (concat parts), "list", "dict", "value"
    blocks: str = ""  # text only: the parts joined so far, JOIN_TEXT_PARTS parts per block


_KIND_OF_OP = {"concat": "text", "append": "list", "extend": "list", "put": "dict"}


def _plan_locals(
    synapse: SynapseSpec, rules: list[RuleSpec], reserved: set[str] | frozenset[str]
) -> dict[str, _Local]:
    """One accumulator per response field a rule writes, in field declaration order."""
    kinds: dict[str, str] = {}
    for rule in rules:
        for target in _targets(rule):
            kind = _KIND_OF_OP.get(rule.op, "value")
            if target not in kinds or kinds[target] == "value":
                kinds.setdefault(target, kind)
                if kind != "value":
                    kinds[target] = kind
            elif kind not in ("value", kinds[target]):
                raise BuildError(f"field {target!r} is the target of incompatible rules")
    result = {}
    taken = set(reserved)
    for name in synapse.response:
        if name in kinds:
            kind = kinds[name]
            if kind == "text":
                parts, blocks = _unused(taken, f"{name}_parts", f"{name}_blocks")
                result[name] = _Local(name, parts, kind, blocks=blocks)
            else:
                (local,) = _unused(taken, name)
                result[name] = _Local(field=name, name=local, kind=kind)
    missing = set(kinds) - set(result)
    if missing:
        raise BuildError(f"rules write fields that are not response fields: {sorted(missing)}")
    return result


def _unused(taken: set[str], *names: str) -> tuple[str, ...]:
    """``names``, all prefixed with ``received_`` if one is taken; then taken as well."""
    if any(name in taken for name in names):
        names = tuple(f"received_{name}" for name in names)
    if any(name in taken for name in names):
        raise BuildError(f"no free local name for {names[0]!r}")
    taken.update(names)
    return names


def _targets(rule: RuleSpec) -> list[str]:
    if rule.op == "set":
        return list(_set_fields(rule))
    if rule.field is None:
        raise BuildError(f"rule {rule.op} without a field")
    return [rule.field]


def _set_fields(rule: RuleSpec) -> dict[str, str]:
    if isinstance(rule.fields, list):
        return {name: name for name in rule.fields}
    return dict(rule.fields or {})


def _local_ir(local: _Local, spec: FieldSpec) -> LocalIR:
    has_default = "default" in spec.model_fields_set
    default = _field_default_source(spec) if has_default else "None"
    if local.kind == "text":
        initial = "[]" if not has_default or spec.default in ("", None) else f"[{default}]"
        declarations: tuple[str, ...] = (
            f"{local.blocks}: list[str] = {initial}",
            f"{local.name}: list[str] = []",
        )
        final = f'"".join({local.blocks} + {local.name})'
        return LocalIR(
            declarations=declarations,
            assignment=f"self.{local.field} = {final}",
            join_check=f"len({local.name}) > {JOIN_TEXT_PARTS}",
            join=(f'{local.blocks}.append("".join({local.name}))', f"{local.name}.clear()"),
        )
    elif local.kind == "list":
        declarations = (f"{local.name}: list[Any] = {default if has_default else '[]'}",)
        final = local.name
    elif local.kind == "dict":
        declarations = (f"{local.name}: dict[str, Any] = {default if has_default else '{}'}",)
        final = local.name
    else:
        declarations = (f"{local.name}: Any = {default}",)
        final = local.name
    return LocalIR(declarations=declarations, assignment=f"self.{local.field} = {final}")


def _concat_steps(local: _Local, value: str) -> tuple[StepIR, ...]:
    """Append ``value`` to a text accumulator (joined per chunk, see JOIN_TEXT_PARTS)."""
    return (StepIR(code=f"{local.name}.append({value})", raise_message=None),)


def _replace_text_steps(local: _Local, value: str) -> tuple[StepIR, ...]:
    """Make ``value`` the whole text of a text accumulator."""
    return (
        StepIR(code=f"{local.blocks} = [{value}]", raise_message=None),
        StepIR(code=f"{local.name}.clear()", raise_message=None),
    )


def _type_check(condition: str, message: str) -> StepIR:
    return StepIR(code=condition, raise_message=message)


def _fstring(where: str, expected: str, variable: str = "value") -> str:
    """Source of the message '<where>: expected <expected>, got <type name>'.

    A literal plus an f-string (implicitly concatenated), so the formatter can wrap them.
    """
    prefix = repr(f"{where}: expected {expected}, got ")
    return prefix + ' f"{type(' + variable + ').__name__}"'


def _rule_actions(
    rule: RuleSpec,
    locals_: dict[str, _Local],
    *,
    text_payload: bool,
    token: str,
    yields_text: bool,
    root_is_dict: bool,
) -> tuple[ActionIR, ...]:
    if text_payload:
        if rule.path is not None or rule.when is not None:
            raise BuildError("rules over a text payload take no `path` or `when`")
        if rule.op not in ("concat", "replace"):
            raise BuildError(f"op {rule.op} needs a JSON payload")
        local = locals_[_targets(rule)[0]]
        if rule.op == "concat":
            text_steps = _concat_steps(local, token)
        elif local.kind == "text":
            text_steps = _replace_text_steps(local, token)
        else:
            text_steps = (StepIR(code=f"{local.name} = {token}", raise_message=None),)
        return (
            ActionIR(
                lookup=None,
                steps=text_steps,
                yield_value=token if yields_text and rule.op == "concat" else None,
            ),
        )
    if rule.op == "set":
        actions = []
        for target, path in _set_fields(rule).items():
            local = locals_[target]
            actions.append(
                _assign_action(local, _lookup(path, token, "value", root_is_dict=root_is_dict))
            )
        return tuple(actions)
    assert rule.field is not None
    local = locals_[rule.field]
    lookup = _lookup(rule.path, token, "value", root_is_dict=root_is_dict)
    where = rule.path or "token"
    steps: tuple[StepIR, ...]
    if rule.op == "concat":
        steps = (
            _type_check("not isinstance(value, str)", _fstring(where, "a string")),
            *_concat_steps(local, "value"),
        )
        return (ActionIR(lookup=lookup, steps=steps, yield_value="value" if yields_text else None),)
    if rule.op == "append":
        steps = (StepIR(code=f"{local.name}.append(value)", raise_message=None),)
        return (ActionIR(lookup=lookup, steps=steps, yield_value=None),)
    if rule.op == "extend":
        steps = (
            _type_check("not isinstance(value, list)", _fstring(where, "a list")),
            StepIR(code=f"{local.name}.extend(value)", raise_message=None),
        )
        return (ActionIR(lookup=lookup, steps=steps, yield_value=None),)
    if rule.op == "put":
        if rule.key is None:
            raise BuildError("rule put without `key`")
        key_lookup = _lookup(rule.key, "value", "key", root_is_dict=True)
        key_where = f"{where}.{rule.key}"
        steps = (
            _type_check("not isinstance(value, dict)", _fstring(where, "an object")),
            *(StepIR(code=statement, raise_message=None) for statement in key_lookup.statements),
            _type_check(
                "not isinstance(key, str)", _fstring(key_where, "a string key", variable="key")
            ),
            StepIR(code=f"{local.name}[key] = value", raise_message=None),
        )
        return (ActionIR(lookup=lookup, steps=steps, yield_value=None),)
    return (_assign_action(local, lookup),)  # replace


def _assign_action(local: _Local, lookup: LookupIR) -> ActionIR:
    if local.kind == "text":
        steps: tuple[StepIR, ...] = (
            _type_check("not isinstance(value, str)", _fstring(lookup.path, "a string")),
            *_replace_text_steps(local, "value"),
        )
    else:
        steps = (StepIR(code=f"{local.name} = value", raise_message=None),)
    return ActionIR(lookup=lookup, steps=steps, yield_value=None)


def _rule_comment(index: int, rule: RuleSpec) -> str:
    parts = [f"Rule {index}:"]
    if rule.when:
        parts.append(f"when {_describe_tags(rule.when)},")
    if rule.op == "set":
        pairs = ", ".join(f"{name} <- {_plain(path)}" for name, path in _set_fields(rule).items())
        parts.append(f"set {pairs}")
        return " ".join(parts)
    source = _plain(rule.path) if rule.path else "the token"
    phrases = {
        "concat": f"concat {source} onto {rule.field}",
        "append": f"append {source} to {rule.field}",
        "extend": f"extend {rule.field} with {source}",
        "replace": f"replace {rule.field} with {source}",
        "put": f"put {source} into {rule.field}, keyed by its {_plain(rule.key or '')}",
    }
    parts.append(phrases[rule.op])
    return " ".join(parts)


def _build_stream(
    name: str,
    synapse: SynapseSpec,
    mapper: _TypeMapper,
    imports: _Imports,
    reserved: set[str] | frozenset[str],
) -> StreamIR:
    stream = synapse.stream
    framing = _framing(stream)
    text_payload = stream.payload == "text"
    rules = list(stream.rules or [])
    end = stream.end
    if end is None:
        raise BuildError("stream without `end`; the front end fills it in")
    yields_text = (
        stream.yields or ("text" if any(r.op == "concat" for r in rules) else "token")
    ) == "text"
    token_name = "text" if text_payload else "event"
    imports.add(RUNTIME_MODULE, framing.decoder_class)
    if framing.token_decode:
        imports.add(RUNTIME_MODULE, framing.token_decode)

    locals_ = _plan_locals(synapse, rules, reserved)
    if any(local.kind != "text" for local in locals_.values()):
        mapper.typing.add("Any")
    needs_dict = not text_payload and (
        any(
            rule.when or (rule.path and isinstance(parse_path(rule.path)[0], str)) for rule in rules
        )
        or stream.server.error_event is not None
        or end.signal == "event"
        or (stream.token is not None and stream.token.type == "object")
    )
    # Each key a condition tests is read once per token, into a local that every condition uses.
    tag_sets = [rule.when for rule in rules if rule.when]
    if stream.server.error_event is not None:
        tag_sets.append(stream.server.error_event)
    if end.signal == "event" and end.event:
        tag_sets.append(end.event)
    taken = set(reserved) | {
        name for local in locals_.values() for name in (local.name, local.blocks)
    }
    tag_locals = _plan_tag_locals(tag_sets, token_name, taken) if not text_payload else {}
    tag_reads = tuple(f"{name} = {token_name}.get({key!r})" for key, name in tag_locals.items())

    rule_irs = []
    for index, rule in enumerate(rules, 1):
        actions = _rule_actions(
            rule,
            locals_,
            text_payload=text_payload,
            token=token_name,
            yields_text=yields_text,
            root_is_dict=needs_dict,
        )
        condition = _match(rule.when, token_name, tag_locals) if rule.when else None
        rule_irs.append(
            RuleIR(comment=_rule_comment(index, rule), condition=condition, actions=actions)
        )

    error_condition = error_message = None
    if stream.server.error_event is not None:
        if text_payload:
            raise BuildError("server.error_event needs a JSON payload")
        imports.add(RUNTIME_MODULE, "MinerError")
        error_condition = _match(stream.server.error_event, token_name, tag_locals)
        error_message = f"str({token_name}.get({stream.server.error_message_key!r}, ''))"

    end_condition = after_end = None
    if end.signal == "event":
        if not end.event or text_payload:
            raise BuildError("end signal `event` needs `end.event` and a JSON payload")
        end_condition = _match(end.event, token_name, tag_locals)
        after_end = repr(f"data after the final event ({_describe_tags(end.event)})")
    if end.signal == "sentinel" and stream.framing != "sse":
        raise BuildError("end signal `sentinel` needs framing sse")
    if needs_dict or end_condition:
        imports.add(RUNTIME_MODULE, "MalformedFrame")
    if any(
        step.raise_message for rule in rule_irs for action in rule.actions for step in action.steps
    ):
        imports.add(RUNTIME_MODULE, "MalformedFrame")

    token_type = _token_type(stream, mapper)
    yield_type = "str" if yields_text else token_type
    encoder, value_encoder = _encoder(stream, imports)
    streamer_arguments = [
        f"batch_count={stream.server.batch_count!r}",
        f"batch_interval={stream.server.batch_interval!r}",
        "timeout=self.timeout",
    ]
    if stream.server.error_event is not None:
        assert value_encoder is not None
        event = repr(stream.server.error_event)[1:-1]
        key = stream.server.error_message_key
        streamer_arguments.append(
            f"encode_error=lambda exc: {value_encoder(f'{{{event}, {key!r}: str(exc)}}')}"
        )
    if end.signal == "sentinel" and stream.sentinel is not None:
        imports.add(RUNTIME_MODULE, "encode_sse")
        streamer_arguments.append(f"trailer=encode_sse({stream.sentinel!r})")
    elif end.signal == "event":
        assert end.event is not None and value_encoder is not None
        streamer_arguments.append(f"trailer={value_encoder(repr(end.event))}")

    terminator = {
        "eof": "a clean end of the body",
        "sentinel": f"the SSE sentinel {stream.sentinel!r}",
        "event": f"the final event ({_describe_tags(end.event or {})})",
    }[end.signal]
    local_irs = tuple(_local_ir(local, synapse.response[local.field]) for local in locals_.values())
    fields_text = ", ".join(f"``{local.field}``" for local in locals_.values()) or "no fields"
    summary = "yield each text delta" if yields_text else "yield each decoded token"
    paragraph = (
        f"Fills {fields_text} once, when the stream ends"
        + (", also when it was cut off (what arrived is kept)" if end.keep_partial
           else ", and only if the terminator arrived")
        + "; ``stream_complete`` tells whether it did. Stream errors and timeouts propagate"
        + ("; the miner's error event raises MinerError." if error_condition else ".")
    )  # fmt: skip
    process_doc = (f"Decode the miner's stream and {summary}.", "", *textwrap.wrap(paragraph, 92))
    return StreamIR(
        decoder=_decoder_call(stream, framing),
        frame_name=framing.frame_name,
        token_name=token_name,
        token_decode=f"{framing.token_decode}({framing.frame_name})"
        if framing.token_decode
        else None,
        json_tokens=not text_payload,
        require_object=needs_dict,
        object_check_message=_fstring("token", "a JSON object", variable=token_name)
        if needs_dict
        else None,
        tag_reads=tag_reads,
        error_condition=error_condition,
        error_message=error_message,
        end_condition=end_condition,
        after_end_message=after_end,
        complete_at_eof=end.signal == "eof",
        close_returns_frames=framing.decoder_class == "JSONSeqDecoder",
        complete_expression="decoder.done" if end.signal == "sentinel" else "complete",
        keep_partial=end.keep_partial,
        locals=local_irs,
        rules=tuple(rule_irs),
        yields_text=yields_text,
        yield_token=not yields_text,
        yield_type=yield_type,
        terminator_doc=_docstring_text(terminator),
        process_doc=process_doc,
        token_type=token_type,
        encoder=encoder,
        streamer_arguments=tuple(streamer_arguments),
    )


def _token_type(stream: StreamSpec, mapper: _TypeMapper) -> str:
    """The declared type of one token (not validated per token: that would cost too much)."""
    if stream.payload == "text":
        return "str"
    if stream.token is not None and stream.token.type == "object":
        mapper.typing.add("Any")
        return "dict[str, Any]"
    mapper.typing.add("Any")
    return "Any"


def _build_deserialize(name: str, synapse: SynapseSpec, field_types: dict[str, str],
                       imports: _Imports) -> DeserializeIR:  # fmt: skip
    spec = synapse.stream.deserialize
    if spec is None or spec == "synapse":
        imports.add("typing_extensions", "Self")
        return DeserializeIR(
            return_type="Self", expression="self", doc="Return the synapse itself."
        )
    options: dict[str, str] = {str(key): value for key, value in spec.items()}
    if "field" in options:
        target = options["field"]
        return DeserializeIR(
            return_type=field_types[target],
            expression=f"self.{target}",
            doc=f"Return ``{target}``.",
        )
    model = options["model"].rsplit("/", 1)[-1]
    source = options["parse"]
    return DeserializeIR(
        return_type=model,
        expression=f"{model}.model_validate_json(self.{source})",
        doc=f"Parse ``{source}`` as JSON into a ``{model}`` (ValidationError if it is not one).",
    )


# --------------------------------------------------------------------------------------------
# Modules


def build_module(
    schema: SchemaFile,
    *,
    stem: str,
    source: str,
    header: str,
    runtime: str = "synapsegen",
) -> ModuleIR:
    """Build the IR of the module generated from one schema file."""
    if runtime not in RUNTIMES:
        raise BuildError(f"unknown runtime {runtime!r}")
    imports = _Imports()
    synapse_names = set(schema.synapses)
    reserved = set(synapse_names) | MODULE_NAMES
    clash = set(schema.defs) & reserved
    if clash:
        raise BuildError(f"$defs names clash with generated or imported names: {sorted(clash)}")
    mapper = _TypeMapper(schema.defs, reserved)

    synapses = []
    for name, synapse in schema.synapses.items():
        synapses.append(
            _build_synapse(name, synapse, mapper, imports, reserved | set(mapper.taken), runtime)
        )

    nested = generate_models(mapper.defs)
    imports.merge(nested.imports)
    typing_names = set(mapper.typing) | {"Any", "ClassVar"}  # Any: extract_response_json
    fields = [f for s in synapses for f in s.fields]
    if any("Annotated[" in f.annotation for f in fields):
        typing_names.add("Annotated")
        imports.add("pydantic", "Field")
    if any(f.default is not None and f.default.startswith("Field(") for f in fields):
        imports.add("pydantic", "Field")
    imports.add("typing", *typing_names)
    imports.add("pydantic", "PrivateAttr")
    imports.add("aiohttp", "ClientResponse")
    imports.add("collections.abc", "AsyncIterable", "AsyncIterator")
    imports.add(RUNTIME_MODULE, "split_terminal_headers", "token_streamer")
    if runtime == "bittensor":
        imports.add("bittensor", "StreamingSynapse")
    else:
        imports.add(RUNTIME_MODULE, "BTStreamingResponse", "StreamingSynapse")

    model_names = sorted(mapper.defs)
    docstring = (schema.description or "").strip() or f"Streaming synapses from {source}."
    return ModuleIR(
        stem=stem,
        header=header,
        docstring=docstring_literal(docstring),
        imports=imports.frozen(),
        models_code=nested.code,
        rebuild_calls=nested.rebuild_calls,
        synapses=tuple(synapses),
        all_names=tuple(sorted([*synapse_names, *model_names])),
        response_class=(
            "StreamingSynapse.BTStreamingResponse"
            if runtime == "bittensor"
            else "BTStreamingResponse"
        ),
    )


def _build_synapse(
    name: str,
    synapse: SynapseSpec,
    mapper: _TypeMapper,
    imports: _Imports,
    reserved: set[str],
    runtime: str,
) -> SynapseIR:
    fields: list[FieldIR] = []
    field_types: dict[str, str] = {}
    all_fields = {**synapse.request, **synapse.response}
    for section, specs in (("request", synapse.request), ("response", synapse.response)):
        for field_name, spec in specs.items():
            built, field_types[field_name] = _build_field(field_name, spec, mapper, name, section)
            fields.append(built)
    hash_fields = tuple(n for n, spec in all_fields.items() if spec.hash)
    stream = _build_stream(name, synapse, mapper, imports, _FIXED_LOCALS | reserved)
    description = (synapse.description or "").strip() or f"The {name} streaming synapse."
    return SynapseIR(
        name=name,
        docstring=docstring_literal(description),
        hash_fields=repr(hash_fields),
        fields=tuple(fields),
        response_doc=", ".join(f"``{n}``" for n in synapse.response),
        stream=stream,
        deserialize=_build_deserialize(name, synapse, field_types, imports),
        extract_names=(*BASE_FIELDS_RETURNED, *all_fields),
    )


def build_package_init(
    header: str,
    modules: dict[str, tuple[str, ...]],
    synapses: dict[str, tuple[str, ...]] | None = None,
) -> PackageInitIR:
    """``__init__.py`` re-exporting the generated modules' public names.

    ``modules`` maps each module stem to its public names, ``synapses`` to the synapse classes
    among them (unique across modules: the pipeline refuses a clash, SG903, because a synapse's
    name is its route on the axon). Each module is its own namespace, so two may define a nested
    model of the same name; ``from pkg import Name`` cannot mean both, so a name defined by
    several modules is re-exported only as the synapse it names, if it names one, and otherwise
    stays importable from its modules (listed in a comment of ``__init__.py``).
    """
    synapses = synapses or {}
    owners: dict[str, list[str]] = {}
    for stem, exported in sorted(modules.items()):
        for name in exported:
            owners.setdefault(name, []).append(stem)
    synapse_owner: dict[str, str] = {}
    for stem, names in sorted(synapses.items()):
        for name in names:
            if name in synapse_owner:
                raise BuildError(f"two schema files define the synapse {name!r}")
            synapse_owner[name] = stem

    def reexported(stem: str, name: str) -> bool:
        if name in synapse_owner:
            return synapse_owner[name] == stem
        return len(owners[name]) == 1

    imports = []
    for stem, exported in sorted(modules.items()):
        names = tuple(sorted(name for name in exported if reexported(stem, name)))
        if names:
            imports.append(Import(f".{stem}", names))
    not_exported = tuple(
        f"{name}: " + ", ".join(f"{stem}.{name}" for stem in stems if not reexported(stem, name))
        for name, stems in sorted(owners.items())
        if len(stems) > 1
    )
    return PackageInitIR(
        header=header,
        imports=tuple(imports),
        all_names=tuple(sorted(name for imp in imports for name in imp.names)),
        not_exported=not_exported,
    )
