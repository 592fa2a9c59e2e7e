"""Semantic checks over a whole schema file: names, references, defaults, wire traps, streams.

The checks run on whatever parsed: a synapse whose stream has a structural error still gets its
field names checked, so one run reports every problem of a file. Streams are checked after preset
expansion; problems in parts a preset added are reported at the ``format`` key.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from keyword import iskeyword
from typing import Annotated, Any

from ..diagnostics import Diagnostic, NodePath
from ..kinds import FRAMINGS, OPS, Framing, Op, option_owners
from ..kinds.base import GROUPED
from . import names
from .load import Document
from .paths import parse_path
from .presets import Expansion
from .spec import FieldSpec, JsonSchema, RuleSpec, StreamSpec

UNKNOWN_REF = "SG301"
NO_DEFAULT = "SG302"
BAD_DEFAULT = "SG303"
BAD_REQUIRED = "SG304"
WIRE_TRAP = "SG305"
DUPLICATE_NAME = "SG205"
RULE_NO_FIELD = "SG401"
RULE_REQUEST_FIELD = "SG402"
RULE_TYPE = "SG403"
RULE_OPTIONS = "SG404"
TEXT_PAYLOAD_PATH = "SG405"
FRAMING_PAYLOAD = "SG406"
FRAMING_OPTION = "SG407"
END_MISMATCH = "SG408"
ERROR_EVENT = "SG409"
DESERIALIZE = "SG410"
INCOMPLETE_STREAM = "SG411"
BAD_PATH = "SG412"
BAD_CONSTRAINT = "SG306"
BAD_PATTERN = "SG307"
RESPONSE_HASH = "SG308"
RECURSIVE_ALIAS = "SG309"
YIELDS = "SG413"
UNDECLARED_KEY = "SG414"
BAD_IMPORT = "SG310"
NO_HASH_FIELD = "SG501"  # a warning: the file still generates
OPEN_TOKEN_KEY = "SG502"  # a warning

_REF = re.compile(r"#/\$defs/([^/]+)")


@dataclass
class SynapseParts:
    """What parsed of one synapse: field specs (None if broken) by name, and the stream."""

    name: str
    request: dict[str, FieldSpec | None] = field(default_factory=dict)
    response: dict[str, FieldSpec | None] = field(default_factory=dict)
    stream: StreamSpec | None = None  # also None when broken: see ``plain``
    expansion: Expansion | None = None
    plain: bool = False  # no `stream` key: a plain Synapse
    deserialize: Any = None  # a plain synapse's `deserialize` as written (checked if well-formed)


class Checker:
    """Collects the semantic diagnostics of one document."""

    def __init__(self, doc: Document, defs: dict[str, JsonSchema | None]) -> None:
        self.doc = doc
        self.defs = defs
        self.diagnostics: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []  # printed, but the file still generates
        self._format_key: dict[NodePath, NodePath] = {}  # stream path -> its `format` key path
        self.properties: list[tuple[NodePath, str]] = []  # properties of generated models

    # --------------------------------------------------------------------------- reporting

    def report(self, path: NodePath, code: str, message: str, *, at_key: bool = False) -> None:
        """Add a diagnostic at ``path``; parts a preset added point at the `format` key."""
        if path not in self.doc.positions:
            for prefix, format_path in self._format_key.items():
                owner = prefix[:-1]
                if path[: len(owner)] == owner and path[len(owner)] in ("stream", "response"):
                    path, at_key = format_path, True
                    break
        self.diagnostics.append(self.doc.diagnostic(path, code, message, at_key=at_key))

    def warn(self, path: NodePath, code: str, message: str, *, at_key: bool = True) -> None:
        """Add a warning at ``path`` (its key, by default): worth reading, not worth refusing
        the file."""
        diagnostic = self.doc.diagnostic(path, code, f"warning: {message}", at_key=at_key)
        self.warnings.append(diagnostic)

    def check_name(
        self, path: NodePath, kind: str, name: str, problem: names.Problem | None
    ) -> None:
        """Report a naming problem (from :mod:`synapsegen.names`) at the name's key."""
        if problem is not None:
            code, text = problem
            self.report(path, code, f"{kind} {name!r} {text}", at_key=True)

    # --------------------------------------------------------------------------- schemas

    def resolve(self, schema: JsonSchema | None) -> JsonSchema | None:
        """Follow ``$ref`` to the shared definition (None if unknown or circular)."""
        seen: set[str] = set()
        while schema is not None and schema.ref is not None:
            match = _REF.fullmatch(schema.ref)
            if match is None or match.group(1) in seen:
                return None
            seen.add(match.group(1))
            schema = self.defs.get(match.group(1))
        return schema

    def types_of(self, schema: JsonSchema | None) -> frozenset[str] | None:
        """The JSON types a schema admits, or None when it does not say (opaque JSON)."""
        schema = self.resolve(schema)
        if schema is None:
            return None
        if schema.type is not None:
            return frozenset([schema.type] if isinstance(schema.type, str) else schema.type)
        members = schema.any_of or schema.one_of
        if members:
            found: set[str] = set()
            for member in members:
                member_types = self.types_of(member)
                if member_types is None:
                    return None
                found |= member_types
            return frozenset(found)
        values = (
            schema.enum
            if schema.enum is not None
            else ([schema.const] if "const" in schema.model_fields_set else None)
        )
        if values is not None:
            return frozenset(_json_type(v) for v in values)
        return None

    def check_schema_tree(
        self,
        schema: JsonSchema,
        path: NodePath,
        *,
        python_names: bool,
        owner: str,
        steps: tuple[str | int, ...],
        class_names: dict[str, NodePath],
    ) -> None:
        """$refs, `required`, defaults and property names of a schema and all its sub-schemas."""
        for sub_path, sub_steps, sub in _walk(schema, path, steps):
            if sub.ref is not None:
                self._check_ref(sub.ref, sub_path)
            if sub.python_import is not None:
                self._check_import(sub.python_import, sub_path, defs_entry=sub is schema and
                                   path == ("$defs", owner))  # fmt: skip
            self._check_required(sub, sub_path)
            self._check_constraints(sub, sub_path)
            if python_names:
                self._check_properties(sub, sub_path)
                if sub.properties and sub_steps:
                    model_name = names.inline_model_name(owner, sub_steps)
                    self._check_inline_model(model_name, sub_path, class_names)
            if "default" in sub.model_fields_set:
                self.check_default(sub, sub_path)

    def _check_import(self, target: str, path: NodePath, *, defs_entry: bool) -> None:
        """``import`` names a class as ``package.module.Name``, on a ``$defs`` entry (SG310)."""
        where = (*path, "import")
        if not defs_entry:
            self.report(where, BAD_IMPORT, "`import` belongs on a $defs entry (the class it "
                        "names replaces the generated one): $ref that entry here")  # fmt: skip
            return
        parts = target.split(".")
        valid = len(parts) >= 2 and all(
            part.isidentifier() and part.isascii() and not iskeyword(part) for part in parts
        )
        if not valid:
            self.report(where, BAD_IMPORT, f"`import` {target!r} is not package.module.Name "
                        "(dotted Python names, the class last)")  # fmt: skip

    def _check_constraints(self, schema: JsonSchema, path: NodePath) -> None:
        """Each constraint fits the node's type (SG306) and a pattern compiles (SG307).

        pydantic refuses a constraint it cannot apply (``minimum`` on a string) when the class
        is created, and compiles ``pattern`` with its own (Rust) regex engine: either would make
        the generated module fail to import.
        """
        types = (self.types_of(schema) or frozenset()) - {"null"}
        for keyword, (wanted, what) in _CONSTRAINT_TYPES.items():
            if getattr(schema, _ATTRIBUTE[keyword]) is None:
                continue
            if not types or not types <= wanted:
                have = "/".join(sorted(types)) if types else "untyped"
                self.report((*path, keyword), BAD_CONSTRAINT,
                            f"`{keyword}` applies to {what}; this schema is {have}")  # fmt: skip
        if types == {"integer"}:
            self._check_whole_bounds(schema, path)
        if schema.pattern is not None:
            problem = _pattern_problem(schema.pattern)
            if problem is not None:
                self.report((*path, "pattern"), BAD_PATTERN, problem)

    def _check_whole_bounds(self, schema: JsonSchema, path: NodePath) -> None:
        """pydantic needs an integer field's bounds to be whole numbers."""
        for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            value = getattr(schema, _ATTRIBUTE[keyword])
            if value is not None and not float(value).is_integer():
                message = f"`{keyword}` {value!r} of an integer must be a whole number"
                self.report((*path, keyword), BAD_CONSTRAINT, message)

    def check_alias_cycles(self) -> None:
        """A ``$defs`` alias (no properties) that refers back to itself through aliases only
        (SG309): such a ``TypeAliasType`` recursion is beyond mypy; a model breaks the cycle."""
        for name, schema in self.defs.items():
            if schema is not None and not schema.properties and name in self._alias_reach(name):
                self.report(
                    ("$defs", name),
                    RECURSIVE_ALIAS,
                    f"$defs {name!r} refers to itself without an object model in between; "
                    "type checkers cannot resolve such an alias: wrap the recursion in an "
                    "object with properties",
                    at_key=True,
                )

    def _alias_reach(self, start: str) -> set[str]:
        """The ``$defs`` names reachable from ``start`` through aliases (not through models)."""
        found: set[str] = set()
        pending = [start]
        while pending:
            schema = self.defs.get(pending.pop())
            if schema is None or schema.properties:  # a model breaks the cycle (start is none)
                continue
            for _, _, sub in _walk(schema, (), ()):
                match = _REF.fullmatch(sub.ref or "")
                if match and match.group(1) not in found:
                    found.add(match.group(1))
                    pending.append(match.group(1))
        return found

    def _check_ref(self, ref: str, path: NodePath) -> None:
        """A ``$ref`` must be ``#/$defs/Name`` of a defined entry."""
        match = _REF.fullmatch(ref)
        if match is None:
            self.report((*path, "$ref"), UNKNOWN_REF, f"$ref {ref!r} must look like '#/$defs/Name'")
        elif match.group(1) not in self.defs:
            known = ", ".join(sorted(self.defs)) or "none are defined"
            self.report(
                (*path, "$ref"),
                UNKNOWN_REF,
                f"$ref {ref!r}: no $defs entry {match.group(1)!r} (defined: {known})",
            )

    def _check_required(self, schema: JsonSchema, path: NodePath) -> None:
        """Every name in ``required`` must be one of the ``properties``."""
        properties = schema.properties or {}
        for required in schema.required or []:
            if required not in properties:
                self.report(
                    (*path, "required"),
                    BAD_REQUIRED,
                    f"'required' names {required!r}, which is not in 'properties'",
                )

    def _check_properties(self, schema: JsonSchema, path: NodePath) -> None:
        """Property names become attributes; a key that cannot be one (``from``,
        ``content-type``) gets an attribute made from it, and keeps its name on the wire as an
        alias. Two keys must not give one attribute (SG205)."""
        attributes: dict[str, str] = {}
        for prop in schema.properties or {}:
            prop_path = (*path, "properties", prop)
            attribute = names.property_attribute(prop)
            if attribute in attributes:
                self.report(
                    prop_path,
                    DUPLICATE_NAME,
                    f"property {prop!r} becomes attribute {attribute!r}, like property "
                    f"{attributes[attribute]!r}; rename one of them",
                    at_key=True,
                )
            attributes.setdefault(attribute, prop)
            self.properties.append((prop_path, attribute))

    def _check_inline_model(
        self, model_name: str, path: NodePath, class_names: dict[str, NodePath]
    ) -> None:
        """An inline model's generated class must not shadow a name the module uses or defines."""
        problem = names.class_name_problem(model_name, cap_words=False)
        if problem is not None and problem[0] == names.SHADOWS:
            self.report(
                path,
                names.SHADOWS,
                f"inline model would be generated as class {model_name!r}, which "
                f"{problem[1]}; rename the field or its owner",
                at_key=True,
            )
        self.add_class_name(model_name, path, class_names, "inline model")

    def add_class_name(
        self, name: str, path: NodePath, class_names: dict[str, NodePath], kind: str
    ) -> None:
        """Record a generated class name; a second class of the same name is an error."""
        if name in class_names:
            first = self.doc.position_of(class_names[name], at_key=True)
            self.report(
                path,
                names.SHADOWS,
                f"{kind} would be generated as class {name!r}, which is already defined "
                f"at line {first.line}; rename one of them",
                at_key=True,
            )
        else:
            class_names[name] = path

    def check_default(self, schema: JsonSchema, path: NodePath) -> None:
        """A default must fit the declared type, enum and const (the simple cases)."""
        value = schema.default
        resolved = self.resolve(schema)
        problem = self._mismatch(resolved, value) if resolved is not None else None
        if problem:
            self.report(
                (*path, "default"),
                BAD_DEFAULT,
                f"default {_show(value)} does not match the field's schema: {problem}",
            )

    def _mismatch(self, schema: JsonSchema, value: Any) -> str | None:
        """Why ``value`` does not fit ``schema`` (the first problem found), or None."""
        problem = (
            _choice_mismatch(schema, value)
            or self._type_mismatch(schema, value)
            or _constraint_mismatch(schema, value)
            or self._members_mismatch(schema, value)
            or self._items_mismatch(schema, value)
        )
        if problem is None and isinstance(value, dict):
            return self._object_mismatch(schema, value)
        return problem

    def _type_mismatch(self, schema: JsonSchema, value: Any) -> str | None:
        """The value's JSON type against the types the schema admits."""
        types = self.types_of(schema)
        if types is not None and not any(_fits(value, t) for t in types):
            return "expected " + " or ".join(sorted(types)) + f", got {_json_type(value)}"
        return None

    def _members_mismatch(self, schema: JsonSchema, value: Any) -> str | None:
        """The value against ``anyOf``/``oneOf``: some member (or an unknown one) must fit."""
        members = schema.any_of or schema.one_of
        if members and not any(
            (r := self.resolve(m)) is None or self._mismatch(r, value) is None for m in members
        ):
            return "it matches none of the anyOf/oneOf members"
        return None

    def _items_mismatch(self, schema: JsonSchema, value: Any) -> str | None:
        """A list's items against ``items``: the first that does not fit."""
        if not isinstance(value, list) or schema.items is None:
            return None
        item_schema = self.resolve(schema.items)
        for item in value:
            item_problem = self._mismatch(item_schema, item) if item_schema else None
            if item_problem:
                return f"item {_show(item)}: {item_problem}"
        return None

    def _object_mismatch(self, schema: JsonSchema, value: dict[str, Any]) -> str | None:
        """A default object against its model: a miss here would make every construction raise."""
        declared_names = schema.properties or {}
        for name in schema.required or ():
            # A required name with no property is SG304's to report, not a second error here.
            if name in declared_names and name not in value:
                return f"missing required property {name!r}"
        for key, item in value.items():
            declared = (schema.properties or {}).get(key)
            if declared is None:
                extra = schema.additional_properties
                if extra is False:
                    return f"property {key!r} is not allowed (additionalProperties: false)"
                if not isinstance(extra, JsonSchema):
                    continue
                declared = extra
            item_schema = self.resolve(declared)
            problem = self._mismatch(item_schema, item) if item_schema else None
            if problem:
                return f"property {key!r}: {problem}"
        return None

    # --------------------------------------------------------------------------- fields

    def check_fields(
        self, synapse: SynapseParts, path: NodePath, class_names: dict[str, NodePath]
    ) -> None:
        """Names, defaults, direction and bittensor's required-field traps of one synapse."""
        for direction in ("request", "response"):
            fields = getattr(synapse, direction)
            for name, spec in fields.items():
                field_path = (*path, direction, name)
                self.check_name(
                    field_path, f"{direction} field", name, names.synapse_field_problem(name)
                )
                if direction == "response" and name in synapse.request:
                    first = self.doc.position_of((*path, "request", name), at_key=True)
                    self.report(
                        field_path,
                        DUPLICATE_NAME,
                        f"field {name!r} is both a request field (line {first.line}) and "
                        "a response field; one class holds both, so names must differ",
                        at_key=True,
                    )
                if spec is None:
                    continue
                if direction == "response" and spec.hash:
                    self.report(
                        (*field_path, "hash"),
                        RESPONSE_HASH,
                        f"`hash` on response field {name!r}: the body hash signs what the "
                        "validator sends, and a response field is only filled by the miner",
                    )
                if direction == "response" and spec.header:
                    self.report(
                        (*field_path, "header"),
                        RESPONSE_HASH,
                        f"`header` on response field {name!r}: request headers carry what the "
                        "validator sends, and a response field is only filled by the miner",
                    )
                self.check_schema_tree(
                    spec,
                    field_path,
                    python_names=True,
                    owner=synapse.name,
                    steps=(direction, name),
                    class_names=class_names,
                )
                if "default" not in spec.model_fields_set:
                    if direction == "response":
                        self.report(
                            field_path,
                            NO_DEFAULT,
                            f"response field {name!r} needs a default: the validator "
                            "builds the synapse before any response exists",
                            at_key=True,
                        )
                    else:
                        self.check_required_on_wire(spec, field_path, name)

    def check_required_on_wire(self, spec: FieldSpec, path: NodePath, name: str) -> None:
        """Bittensor sends a required field only as an empty placeholder of its type."""
        reason = self._wire_trap(self.resolve(spec), depth=0)
        if reason:
            self.report(
                path,
                WIRE_TRAP,
                f"required request field {name!r} cannot be sent by real bittensor "
                f"dendrites/axons: {reason}; give it a default",
                at_key=True,
            )

    def _wire_trap(self, resolved: JsonSchema | None, depth: int) -> str | None:
        """Why the empty placeholder of this type fails on the axon, or None. A union is
        looked into: the placeholder follows the value's type, which may be any member's."""
        if resolved is None or depth > 8:  # unknown, or an alias chain too deep to matter
            return None
        types = self.types_of(resolved) or frozenset()
        if "null" in types:
            return (
                "it is nullable: a None value gets no header at all, and the axon then "
                "fails to build the synapse (HTTP 500)"
            )
        if resolved.enum is not None or "const" in resolved.model_fields_set:
            return (
                "it is an enum/const: to_headers() cannot build the empty placeholder of "
                "such a type and raises"
            )
        if types == {"object"} and resolved.required:
            return (
                "it is a model with required properties of its own: the empty placeholder "
                "{} fails validation on the axon (HTTP 500)"
            )
        for member in (*(resolved.any_of or ()), *(resolved.one_of or ())):
            reason = self._wire_trap(self.resolve(member), depth + 1)
            if reason:
                return f"a member of its union is a trap ({reason})"
        return _placeholder_violation(resolved, types)

    # --------------------------------------------------------------------------- streams

    def register_preset(self, stream_path: NodePath) -> None:
        """Problems in parts a preset added will point at this stream's `format` key."""
        self._format_key[stream_path] = (*stream_path, "format")

    def check_stream(self, synapse: SynapseParts, path: NodePath) -> None:
        """Framing/payload/end/rule/deserialize consistency of an expanded stream."""
        assert synapse.expansion is not None
        stream = synapse.expansion.stream
        given = synapse.stream.model_fields_set if synapse.stream else set()
        response = {**synapse.response, **synapse.expansion.added_response}
        self._check_framing(stream, path, given)
        text_payload = stream.payload == "text"
        filled_as: dict[str, tuple[str, NodePath]] = {}  # target -> (accumulator, first rule)
        for index, rule in enumerate(stream.rules or []):
            rule_path = (*path, "rules", index)
            op = OPS[rule.op]
            self._check_rule_options(op, rule, rule_path, text_payload)
            where = (*rule_path, "fields") if "fields" in op.Options.model_fields else (
                *rule_path, "field")  # fmt: skip
            for target in op.targets(rule):
                grouped = op.group_of(rule) is not None
                self._check_target(op, target, where, synapse, response, grouped=grouped)
                self._check_filled_alike(op, rule, target, where, filled_as)
        if stream.token is not None:
            self._check_token_keys(stream, stream.token, path)
            self._check_token_model(stream, stream.token, path)
        self._check_yields(stream, path)
        # A derived deserialize follows a rule, whose own target is checked.
        if "deserialize" in given and isinstance(stream.deserialize, dict):
            where = (*path, "deserialize")
            self.check_deserialize(
                stream.deserialize, where, synapse, synapse.expansion.added_response
            )

    def _check_yields(self, stream: StreamSpec, path: NodePath) -> None:
        """``yields: text`` needs a rule whose text it yields (SG413)."""
        rules = stream.rules or []
        if stream.yields == "text" and rules and not any(OPS[r.op].yields_text for r in rules):
            yielding = ", ".join(name for name, op in OPS.items() if op.yields_text)
            self.report(
                (*path, "yields"),
                YIELDS,
                f"`yields: text` yields the text of {yielding} rules, and this stream has "
                "none: it would yield nothing; use `yields: token`",
            )

    def _check_token_keys(self, stream: StreamSpec, token: JsonSchema, path: NodePath) -> None:
        """Rule paths, ``when`` tags and the final event's tags name keys the token declares.

        A key the declared token cannot have (its object is closed: ``additionalProperties:
        false``) is SG414: the rule would never fire, or the stream never end. A key it does not
        list but may have (an open object) is warned about (SG502): it is often a typo.
        """
        for where, steps in _token_reads(stream, path):
            found = self._undeclared_step(token, steps)
            if found is None:
                continue
            step, closed = found
            what = f"key {step!r}" if isinstance(step, str) else f"index [{step}]"
            if closed:
                closed_text = "its object allows no other keys (additionalProperties: false)"
                self.report(
                    where, UNDECLARED_KEY, f"the declared token has no {what}: {closed_text}"
                )
            else:
                hint = "declare it under the token's properties if it is not a typo"
                message = f"the declared token does not list {what}; {hint}"
                self.warn(where, OPEN_TOKEN_KEY, message, at_key=False)  # where SG414 points

    def _check_token_model(self, stream: StreamSpec, token: JsonSchema, path: NodePath) -> None:
        """A typed token's model (``token: {$ref}``) is named inside the generated parser, and
        every event is validated into it, the server's bare final event too."""
        match = _REF.fullmatch(token.ref or "")
        if match is None:
            return
        name = match.group(1)
        if name in names.STREAM_LOCALS:
            self.report(
                (*path, "token"),
                names.SHADOWS,
                f"the token model {name!r} would be shadowed by a local of the generated "
                f"process_streaming_response; give the model another name (e.g. "
                f"{name[:1].upper() + name[1:]!r})",
            )
        end = stream.end
        model = self.resolve(token)
        if end is None or end.signal != "event" or not end.event or model is None:
            return
        missing = [key for key in model.required or () if key not in end.event]
        if missing:
            listed = ", ".join(repr(key) for key in missing)
            self.report(
                (*path, "end", "event"),
                END_MISMATCH,
                f"the final event {end.event} is no {name}: it lacks required {listed} (the "
                f"server's own final event carries only these tags, and clients validate every "
                f"event into {name}); make {listed} optional in {name}, or add it to the tags",
            )

    def _undeclared_step(
        self, schema: JsonSchema | None, steps: tuple[str | int, ...]
    ) -> tuple[str | int, bool] | None:
        """The first step ``schema`` does not declare, and whether its object is closed.

        None when every step is declared, or when the schema stops saying (no ``properties``,
        no ``items``, a union): only what the schema lists is checked.
        """
        for step in steps:
            schema = self.resolve(schema)
            if schema is None:
                return None
            if isinstance(step, int):
                schema = schema.items
                continue
            if schema.properties is None:
                return None
            if step not in schema.properties:
                return step, schema.additional_properties is False
            schema = schema.properties[step]
        return None

    def _check_framing(self, stream: StreamSpec, path: NodePath, given: set[str]) -> None:
        if stream.framing is None:
            self.report(
                path,
                INCOMPLETE_STREAM,
                "stream needs `format` (a preset: text, openai-sse, ndjson-events) or "
                f"`framing` ({', '.join(FRAMINGS)})",
            )
            return
        framing = FRAMINGS[stream.framing]
        if not stream.rules:
            self.report(
                (*path, "rules") if "rules" in given else path,
                INCOMPLETE_STREAM,
                "stream needs at least one rule saying how tokens fill response fields",
            )
        if stream.payload is None:
            self.report(
                path,
                FRAMING_PAYLOAD,
                f"framing {stream.framing!r} needs `payload: text` or `payload: json`",
            )
        else:
            problem = framing.payload_problem(stream.payload)
            if problem is not None:
                self.report((*path, "payload"), FRAMING_PAYLOAD, problem)
        for key, owners in option_owners(FRAMINGS).items():
            default = FRAMINGS[owners[0]].option_defaults()[key]
            if stream.framing not in owners and (key in given or getattr(stream, key) != default):
                self.report(
                    (*path, key),
                    FRAMING_OPTION,
                    f"`{key}` applies to framing {_either(owners)} only, not {stream.framing!r}",
                )
        self._check_end(stream, path, framing)
        framing.check(stream, path, self.report)
        self._check_server(stream, path)
        if stream.token is not None and stream.payload == "text":
            self.report(
                (*path, "token"),
                FRAMING_PAYLOAD,
                "`token` describes JSON tokens; the payload is text",
            )

    def _check_server(self, stream: StreamSpec, path: NodePath) -> None:
        """The declared error event fits the payload and keeps its tags (SG409)."""
        if stream.server.error_event is not None and stream.payload == "text":
            self.report(
                (*path, "server", "error_event"),
                ERROR_EVENT,
                "`server.error_event` needs a JSON payload; with text the error would "
                "be indistinguishable from tokens",
            )
        key = stream.server.error_message_key
        if stream.server.error_event is not None and key in stream.server.error_event:
            self.report(
                (*path, "server", "error_message_key"),
                ERROR_EVENT,
                f"`server.error_message_key` {key!r} is also a tag of `error_event`: the "
                "message would overwrite the tag, and clients would not recognise the event",
            )
        error, end = stream.server.error_event, stream.end
        final = end.event if end is not None and end.signal == "event" else None
        if error and final and all(final.get(tag, ...) == value for tag, value in error.items()):
            self.report(
                (*path, "server", "error_event"),
                ERROR_EVENT,
                "`server.error_event` also matches the final event (`end.event`): every "
                "complete stream would end in MinerError; give the two different tags",
            )

    def _check_end(self, stream: StreamSpec, path: NodePath, framing: Framing) -> None:
        end = stream.end
        end_path = (*path, "end")
        if end is None:
            return
        if end.signal == "sentinel" and not framing.has_sentinel(stream):
            self.report(
                (*end_path, "signal"),
                END_MISMATCH,
                "`end.signal: sentinel` needs framing 'sse' with a `sentinel`",
            )
        if end.signal == "event" and end.event is None:
            self.report(
                end_path,
                END_MISMATCH,
                "`end.signal: event` needs `end.event`, the final event's tags",
            )
        if end.event is not None and end.signal != "event":
            self.report(
                (*end_path, "event"),
                END_MISMATCH,
                f"`end.event` is only used with `signal: event`, not {end.signal!r}",
            )
        if end.signal == "event" and stream.payload == "text":
            self.report(
                (*end_path, "signal"),
                END_MISMATCH,
                "`end.signal: event` matches JSON tokens; the payload is text",
            )

    def _check_rule_options(self, op: Op, rule: Any, path: NodePath, text_payload: bool) -> None:
        given = rule.model_fields_set
        op.check(rule, path, self.report)
        for key, owners in option_owners(OPS).items():
            if op.name not in owners and getattr(rule, key) is not None:
                self.report(
                    (*path, key),
                    RULE_OPTIONS,
                    f"`{key}` belongs to rule {_either(owners)}, not {op.name!r}",
                )
        self._check_paths(rule, path)
        if text_payload:
            for option in ("path", "when", "group"):
                if option in given and getattr(rule, option) is not None:
                    self.report(
                        (*path, option),
                        TEXT_PAYLOAD_PATH,
                        f"`{option}` needs JSON tokens; with `payload: text` the token is "
                        "the text itself",
                    )
            if not op.reads_text:
                self.report(
                    (*path, "op"),
                    TEXT_PAYLOAD_PATH,
                    f"rule {op.name!r} needs JSON tokens; the payload is text",
                )

    def _check_group_target(self, op: Op, target: str, path: NodePath, spec: FieldSpec) -> None:
        """A grouped rule's target is a dict (optionally nullable) of what the op collects."""
        resolved = self._object_member(spec)
        values = resolved.additional_properties if resolved is not None else None
        types = self.types_of(spec)
        value_types = self.types_of(values) if isinstance(values, JsonSchema) else None
        dict_type = types in (frozenset({"object"}), frozenset({"object", "null"}))
        if not dict_type or resolved is None or resolved.properties:
            kind = "strings" if op.target_type == "string" else "lists"
            self.report(
                path,
                RULE_TYPE,
                f"rule {op.name!r} with `group` needs a dict field of {kind} (type: object, "
                f"additionalProperties: {{type: {op.target_type}}}); {target!r} is not one",
            )
        elif value_types != frozenset({op.target_type}):
            self.report(
                path,
                RULE_TYPE,
                f"rule {op.name!r} with `group` needs the values of {target!r} to be of type "
                f"{op.target_type} (additionalProperties: {{type: {op.target_type}}})",
            )
        elif isinstance(values, JsonSchema):
            problem = op.target_problem(target, self.resolve(values) or values)
            if problem is not None:
                self.report(path, RULE_TYPE, problem)

    def _object_member(self, schema: JsonSchema) -> JsonSchema | None:
        """The object a schema describes: itself, or the object member of a nullable union
        (``anyOf: [{type: object, ...}, {type: "null"}]``)."""
        resolved = self.resolve(schema)
        if resolved is None or resolved.type is not None:
            return resolved
        for member in [*(resolved.any_of or ()), *(resolved.one_of or ())]:
            candidate = self.resolve(member)
            if self.types_of(candidate) == frozenset({"object"}):
                return candidate
        return resolved

    def _check_paths(self, rule: Any, path: NodePath) -> None:
        """Every path of the rule parses (SG412); a put key starts with a property name."""
        for option in ("path", "key", "group"):
            value = getattr(rule, option, None)
            steps = parse_path(value) if isinstance(value, str) else ()
            if steps is None:
                self.report((*path, option), BAD_PATH, _path_message(option, str(value)))
            elif option == "key" and steps and isinstance(steps[0], int):
                self.report((*path, option), BAD_PATH,
                            f"`key` {value!r} must start with a property name: the value "
                            "it reads from is an object")  # fmt: skip
        if isinstance(rule.fields, dict):
            for name, value in rule.fields.items():
                if parse_path(value) is None:
                    self.report((*path, "fields", name), BAD_PATH, _path_message("path", value))

    def _check_filled_alike(
        self,
        op: Op,
        rule: Any,
        target: str,
        where: NodePath,
        filled_as: dict[str, tuple[str, NodePath]],
    ) -> None:
        """The rules that add to one field collect it alike (SG403): a dict of texts by group
        and a dict of objects by key cannot be one field, nor can a replaced grouped field."""
        kind = op.accumulator_of(rule)
        first_kind, first_where = filled_as.setdefault(target, (kind, where))
        if first_kind != kind and GROUPED in kind + first_kind:
            line = self.doc.position_of(first_where).line
            self.report(
                where,
                RULE_TYPE,
                f"this rule fills {target!r} {_how(kind)}, the rule at line {line} fills it "
                f"{_how(first_kind)}; every rule must fill a field the same way",
            )

    def _check_target(
        self,
        op: Op,
        target: str,
        path: NodePath,
        synapse: SynapseParts,
        response: dict[str, FieldSpec | None],
        *,
        grouped: bool = False,
    ) -> None:
        if target in synapse.request and target not in response:
            self.report(
                path,
                RULE_REQUEST_FIELD,
                f"rule {op.name!r} targets {target!r}, a request field; rules fill response fields",
            )
            return
        if target not in response:
            known = ", ".join(response) or "none"
            self.report(
                path,
                RULE_NO_FIELD,
                f"rule {op.name!r} targets {target!r}, which is not a response field "
                f"(response fields: {known})",
            )
            return
        spec = response[target]
        if spec is None or op.target_type is None:
            return
        if grouped:
            self._check_group_target(op, target, path, spec)
            return
        resolved = self.resolve(spec)
        types = self.types_of(spec)
        # A nullable target (`type: [string, "null"]`) is allowed: the first value makes it empty.
        if types not in (frozenset({op.target_type}), frozenset({op.target_type, "null"})):
            shape = {
                "string": "a string field (type: string)",
                "array": "a list field (type: array)",
                "object": "a dict field (type: object with additionalProperties)",
            }[op.target_type]
            have = "/".join(sorted(types)) if types else "untyped"
            self.report(path, RULE_TYPE, f"rule {op.name!r} needs {shape}; {target!r} is {have}")
            return
        problem = op.target_problem(target, resolved) if resolved is not None else None
        if problem is not None:
            self.report(path, RULE_TYPE, problem)

    def check_hash_fields(self, synapse: SynapseParts, path: NodePath) -> None:
        """SG501 (a warning): no request field has ``hash: true``.

        The signature then covers a constant body hash, not the request: whoever sees a signed
        request can change its fields and still pass verification (bittensor#3407).
        """
        if not any(spec is not None and spec.hash for spec in synapse.request.values()):
            self.warn(
                path,
                NO_HASH_FIELD,
                f"synapse {synapse.name!r} has no `hash: true` request field, so its signature "
                "covers none of the request: anyone who sees a signed request can change its "
                "fields and still pass verification; mark the fields that must not change",
            )

    def check_plain(self, synapse: SynapseParts, path: NodePath) -> None:
        """A plain synapse (no ``stream``): its ``deserialize``, if given, names real fields."""
        if isinstance(synapse.deserialize, dict):
            self.check_deserialize(synapse.deserialize, (*path, "deserialize"), synapse, {})

    def check_deserialize(
        self,
        deserialize: dict[Any, Any],
        where: NodePath,
        synapse: SynapseParts,
        added_response: dict[str, FieldSpec],
    ) -> None:
        """``deserialize: {field: ...}`` or ``{parse: ..., model: ...}`` names what exists."""
        spec: dict[str, str] = {str(key): value for key, value in deserialize.items()}
        everything = {**synapse.request, **synapse.response, **added_response}
        if "field" in spec:
            if spec["field"] not in everything:
                self.report(
                    where,
                    DESERIALIZE,
                    f"deserialize returns field {spec['field']!r}, which does not exist",
                )
            return
        parse, model = spec.get("parse"), spec.get("model")
        if parse is None or model is None:
            self.report(
                where,
                DESERIALIZE,
                "deserialize with `parse` needs both `parse` (a text field) and `model`",
            )
        if parse is not None:
            if parse not in everything:
                self.report(
                    (*where, "parse"),
                    DESERIALIZE,
                    f"deserialize parses field {parse!r}, which does not exist",
                )
            elif self.types_of(everything[parse]) != frozenset({"string"}):
                self.report(
                    (*where, "parse"),
                    DESERIALIZE,
                    f"deserialize parses field {parse!r} as JSON text, but it is not a "
                    "string field",
                )
        if model is not None:
            match = _REF.fullmatch(model)
            if match is None or match.group(1) not in self.defs:
                self.report(
                    (*where, "model"),
                    DESERIALIZE,
                    f"deserialize model {model!r} is not a '#/$defs/Name' of this file",
                )


def _how(accumulator: str) -> str:
    """How a rule fills its field, in words: by group (a dict of texts or lists) or not."""
    kind = accumulator.removesuffix(GROUPED)
    what = {"text": "texts", "list": "lists"}.get(kind, kind)
    return f"as a dict of {what} by group" if accumulator.endswith(GROUPED) else f"as a {kind}"


def _either(names: tuple[str, ...]) -> str:
    """``'a'``, ``'a' or 'b'``, ``'a', 'b' or 'c'``: the kinds an option belongs to."""
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _token_reads(
    stream: StreamSpec, path: NodePath
) -> Iterator[tuple[NodePath, tuple[str | int, ...]]]:
    """(where in the document, steps into the token) of every token read the stream declares:
    rule paths, ``when`` tags, ``group`` paths, a ``set`` rule's paths, the final event's tags."""
    for index, rule in enumerate(stream.rules or []):
        yield from _rule_reads(rule, (*path, "rules", index))
    if stream.end is not None and stream.end.signal == "event":
        for key in stream.end.event or {}:
            yield (*path, "end", "event", key), (key,)


def _rule_reads(
    rule: RuleSpec, rule_path: NodePath
) -> Iterator[tuple[NodePath, tuple[str | int, ...]]]:
    """The token reads of one rule (see :func:`_token_reads`)."""
    yield (*rule_path, "path"), _steps(rule.path)
    for key in rule.when or {}:
        yield (*rule_path, "when", key), (key,)
    group = OPS[rule.op].group_of(rule)
    if group is not None:
        yield (*rule_path, "group"), _steps(group)
    for name, value in (rule.fields or {}).items():
        yield (*rule_path, "fields", name), _steps(value)


def _steps(path: str | None) -> tuple[str | int, ...]:
    """The steps of a path; none for no path (the whole token) or one that does not parse."""
    return (parse_path(path) if path is not None else None) or ()


def _walk(
    schema: JsonSchema, path: NodePath, steps: tuple[str | int, ...]
) -> Iterator[tuple[NodePath, tuple[str | int, ...], JsonSchema]]:
    """Every sub-schema with its document path and its steps below the owner."""
    yield path, steps, schema
    children: list[tuple[tuple[str | int, ...], JsonSchema]] = []
    if schema.items is not None:
        children.append((("items",), schema.items))
    for name, prop in (schema.properties or {}).items():
        children.append((("properties", name), prop))
    if isinstance(schema.additional_properties, JsonSchema):
        children.append((("additionalProperties",), schema.additional_properties))
    for keyword, members in (("anyOf", schema.any_of), ("oneOf", schema.one_of)):
        for index, member in enumerate(members or []):
            children.append(((keyword, index), member))
    for rel, child in children:
        yield from _walk(child, (*path, *rel), (*steps, *rel))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(value: Any, json_type: str) -> bool:
    actual = _json_type(value)
    return (
        actual == json_type
        or (json_type == "number" and actual == "integer")
        or (json_type == "integer" and isinstance(value, float) and value.is_integer())
    )


def _choice_mismatch(schema: JsonSchema, value: Any) -> str | None:
    """The value against ``enum`` and ``const``."""
    if schema.enum is not None and value not in schema.enum:
        return "not one of " + ", ".join(_show(v) for v in schema.enum)
    if "const" in schema.model_fields_set and value != schema.const:
        return f"the const is {_show(schema.const)}"
    return None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _placeholder_violation(schema: JsonSchema, types: frozenset[str]) -> str | None:
    """Whether the empty placeholder of the field's type breaks its own constraints."""
    if types == {"string"}:
        return _empty_string_violation(schema)
    if types == {"array"}:
        return _empty_list_violation(schema)
    if types and types <= {"integer", "number"}:
        return _zero_violation(schema)
    return None


def _empty_string_violation(schema: JsonSchema) -> str | None:
    """Whether the placeholder ``''`` breaks ``minLength`` or ``pattern``."""
    if schema.min_length:
        return (
            f"the empty placeholder '' violates minLength {schema.min_length}, so the "
            "axon fails to build the synapse from headers (HTTP 500)"
        )
    if schema.pattern is None:
        return None
    try:
        matches = re.search(schema.pattern, "") is not None
    except re.error:
        return None
    if matches:
        return None
    return (
        f"the empty placeholder '' does not match pattern {schema.pattern!r}, "
        "so the axon fails to build the synapse from headers (HTTP 500)"
    )


def _empty_list_violation(schema: JsonSchema) -> str | None:
    """Whether the placeholder ``[]`` breaks ``minItems``."""
    if schema.min_items:
        return (
            f"the empty placeholder [] violates minItems {schema.min_items}, so the axon "
            "fails to build the synapse from headers (HTTP 500)"
        )
    return None


def _zero_violation(schema: JsonSchema) -> str | None:
    """Whether the placeholder ``0`` is outside the bounds."""
    low, high = schema.minimum, schema.maximum
    if (
        (low is not None and low > 0)
        or (high is not None and high < 0)
        or (schema.exclusive_minimum is not None and schema.exclusive_minimum >= 0)
        or (schema.exclusive_maximum is not None and schema.exclusive_maximum <= 0)
    ):
        return (
            "the placeholder 0 is outside the field's bounds, so the axon fails to build "
            "the synapse from headers (HTTP 500)"
        )
    return None


def _path_message(option: str, value: str) -> str:
    return (
        f"`{option}` {value!r} is not a path: keys separated by '.', each optionally followed "
        "by list indices like [0] (e.g. choices[0].delta.content)"
    )


_NUMBERS = (frozenset({"integer", "number"}), "numbers (type: integer or number)")
_STRINGS = (frozenset({"string"}), "strings (type: string)")
_ARRAYS = (frozenset({"array"}), "lists (type: array)")
_CONSTRAINT_TYPES = {
    "minimum": _NUMBERS, "maximum": _NUMBERS, "exclusiveMinimum": _NUMBERS,
    "exclusiveMaximum": _NUMBERS, "multipleOf": _NUMBERS,
    "minLength": _STRINGS, "maxLength": _STRINGS, "pattern": _STRINGS,
    "minItems": _ARRAYS, "maxItems": _ARRAYS,
}  # fmt: skip
_ATTRIBUTE = {
    "minimum": "minimum", "maximum": "maximum", "exclusiveMinimum": "exclusive_minimum",
    "exclusiveMaximum": "exclusive_maximum", "multipleOf": "multiple_of",
    "minLength": "min_length", "maxLength": "max_length", "pattern": "pattern",
    "minItems": "min_items", "maxItems": "max_items",
}  # fmt: skip


def _pattern_problem(pattern: str) -> str | None:
    """Why pydantic cannot compile ``pattern`` (it uses Rust's regex syntax), or None."""
    from pydantic import Field, TypeAdapter, ValidationError

    try:
        TypeAdapter(Annotated[str, Field(pattern=pattern)]).validate_python("")
    except ValidationError:
        return None  # compiled; the empty string just does not match
    except Exception as exc:  # pydantic-core reports a bad regex as a SchemaError
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return f"`pattern` {pattern!r} is not a regular expression pydantic accepts: {reason}"
    return None


def _constraint_mismatch(schema: JsonSchema, value: Any) -> str | None:
    """Why ``value`` breaks one of the schema's own constraints, or None.

    A default that breaks them fails pydantic's validation on every request that keeps it.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number_mismatch(schema, value)
    if isinstance(value, str):
        return _string_mismatch(schema, value)
    if isinstance(value, list):
        return _size_mismatch(len(value), schema.min_items, schema.max_items, "items")
    return None


def _number_mismatch(schema: JsonSchema, value: float) -> str | None:
    bounds: tuple[tuple[float | None, Callable[[float, float], bool], str], ...] = (
        (schema.minimum, operator.ge, "at least"),
        (schema.maximum, operator.le, "at most"),
        (schema.exclusive_minimum, operator.gt, "more than"),
        (schema.exclusive_maximum, operator.lt, "less than"),
    )
    for bound, holds, phrase in bounds:
        if bound is not None and not holds(value, bound):
            return f"it must be {phrase} {_bound(bound)}"
    if schema.multiple_of and (value / schema.multiple_of) % 1:
        return f"it must be a multiple of {_bound(schema.multiple_of)}"
    return None


def _bound(value: float) -> str:
    """A bound as written: ``1``, not ``1.0`` (the spec reads every bound as a float)."""
    return str(int(value)) if value.is_integer() else repr(value)


def _string_mismatch(schema: JsonSchema, value: str) -> str | None:
    problem = _size_mismatch(len(value), schema.min_length, schema.max_length, "characters")
    if problem is None and schema.pattern is not None:
        try:
            if re.search(schema.pattern, value) is None:
                return f"it does not match pattern {schema.pattern!r}"
        except re.error:
            return None  # SG307 reports the pattern itself
    return problem


def _size_mismatch(size: int, low: int | None, high: int | None, unit: str) -> str | None:
    if low is not None and size < low:
        return f"it has {size} {unit}, fewer than {low}"
    if high is not None and size > high:
        return f"it has {size} {unit}, more than {high}"
    return None
