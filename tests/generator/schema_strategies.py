"""Hypothesis strategies: random schema files that exercise the whole schema language.

:func:`cases` draws one to three schema files (1-3 synapses each) together with a *plan*: what
the strategy meant by them, in the words of docs/schema-reference.md (presets expanded by hand
here, from the documentation, not by calling the generator). The test then checks the generated
code against the plan; it never asks the generator what the schema means.

Names come from hostile pools (keywords, soft keywords, builtins, the generated code's own local
names, ``synapsegen.runtime`` exports, typing and pydantic names, ``$defs`` names in lower case).
Many such names are rightly refused by the validator: that is fine, the property under test is
"either located diagnostics, or working code". The pools are module-level tuples so that a local
exploration run can narrow them (see the test module's docstring).

Every value the plan holds is JSON data (what a schema default, a request value or a token looks
like on the wire); the test turns it into Python objects through the generated classes.

Besides plain synapses, nullable targets, final events with data, aliased property keys and
grouped rules, the cases draw:

- typed tokens: a JSON object stream's ``token`` is now and then ``{$ref: "#/$defs/<Model>"}``, a
  model of the rules' paths and the tags (the bare final event fits it); a token lacking a
  required tag, or with a key a closed model (``additionalProperties: false``) does not declare,
  is no model (a stream error);
- ``header: true`` on request fields (with a value, seldom an empty one);
- ``$defs`` entries with ``import: <package>.<module>.<Class>``: the case's
  :attr:`Case.user_files` hold that package (a pydantic model or a ``(str, Enum)`` per entry,
  described honestly by the rest of the entry), named ``sg_user_<n>``, a name of its own per
  case; fields refer to such entries like any other, and often a request field is typed with one.
"""

from __future__ import annotations

import itertools
import json
import keyword
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, NamedTuple

import yaml
from hypothesis import strategies as st

from synapsegen import runtime

Json = Any
"""A JSON value: None, bool, int, float, str, list or dict with str keys."""

Schema = dict[str, Any]
"""A JSON Schema node as written in a schema file."""

Step = str | int
"""One step of a rule path: a key (``a``) or an index (``[0]``)."""

# ---------------------------------------------------------------------------------------------
# Name pools.

PY_KEYWORDS: tuple[str, ...] = tuple(keyword.kwlist)
SOFT_KEYWORDS: tuple[str, ...] = ("_", "case", "match", "type")
BUILTIN_NAMES: tuple[str, ...] = (
    "str", "list", "id", "type", "property", "bool", "int", "float", "dict", "object", "input",
    "format", "len", "isinstance", "print", "anext", "super", "set", "tuple", "bytes",
)  # fmt: skip
GENERATED_LOCALS: tuple[str, ...] = (
    "value", "received_value", "key", "node", "event", "text", "frame", "frames", "chunk",
    "decoder", "complete", "data", "body", "response", "self", "frame_batches", "tokens",
    "streamer", "exc", "event_type", "completion_parts", "completion_blocks", "value_parts",
    "received_value_parts", "text_parts", "text_blocks", "node_parts",
)  # fmt: skip
RUNTIME_NAMES: tuple[str, ...] = tuple(sorted(runtime.__all__))
TYPING_NAMES: tuple[str, ...] = (
    "Field", "Annotated", "Literal", "Any", "ClassVar", "Self", "TypeAlias", "TypeAliasType",
    "Optional", "List", "Dict", "Union", "BaseModel", "RootModel", "ConfigDict", "PrivateAttr",
    "ClientResponse", "AsyncIterator", "AsyncIterable",
)  # fmt: skip


class Pools(NamedTuple):
    """The names of one kind in three tiers: safe names, tricky ones (hostile, and mostly
    accepted: the generated code's own locals, soft keywords, lower-case model names, ...) and
    rare ones (keywords, builtins, typing and runtime names: mostly refused, drawn in hostile
    files only)."""

    safe: tuple[str, ...]
    tricky: tuple[str, ...]
    rare: tuple[str, ...]


FIELD_NAMES = Pools(
    safe=(
        "prompt", "query", "items", "count", "score", "tags", "meta", "links", "answer", "notes",
        "alpha", "beta",
    ),
    tricky=(
        *GENERATED_LOCALS, "case", "match", "type", "id", "input", "format", "len", "isinstance",
        "print", "anext", "super", "Field_", "received_text", "key_parts",
    ),
    rare=(
        *PY_KEYWORDS, *BUILTIN_NAMES, *TYPING_NAMES, *RUNTIME_NAMES, "_", "model_x", "_x", "name",
        "timeout", "dendrite", "copy", "schema", "json", "2x", "naïve", "a-b", "completion",
        "usage", "finish_reason",
    ),
)  # fmt: skip

DEF_NAMES = Pools(
    safe=("Message", "Item", "Node", "Link", "Result", "Entry", "Tree", "Usage"),
    tricky=(
        "Value", "Key", "Event", "Text", "Frame", "Chunk", "Decoder", "Complete", "message",
        "tree_node", "my_model", "Inner_Model", "x", "Decimal", "UUID", "date", "Model", "Root",
        "Json", "Config", "A", "M2", "constr", "conint",
    ),
    rare=(
        *TYPING_NAMES, *RUNTIME_NAMES, "str", "list", "type", "id", "property", "None", "class",
        "Enum", "annotations", "_Private", "2D",
    ),
)  # fmt: skip

PROPERTY_NAMES = Pools(
    safe=("x", "title", "url", "children", "content", "role", "score", "label", "next"),
    tricky=(
        "id", "value", "self", "model", "fields", "key", "event", "text", "Message", "Node", "date",
        "constr", "case", "match", "type",
        # JSON keys that cannot be attributes: they get one made from them, the key as alias
        "from", "class", "content-type", "max tokens", "2fa", "_id", "copy", "model_config",
        "str", "Field", "json", "a-b",
    ),
    rare=(
        "Annotated", "Literal", "Any", "Optional", "List", "Dict", "Union", "BaseModel",
        "ConfigDict", "RootModel", "TypeAlias", "TypeAliasType", "int", "float", "bool", "list",
        "Self", "ClassVar", "None", "_", "model_x", "_x", "schema", "dict", "import", "validate",
        "naïve", "ü",
    ),
)  # fmt: skip

ALIASED_KEYS: tuple[str, ...] = (
    "from", "class", "content-type", "max tokens", "2fa", "_id", "copy", "model_config", "str",
    "Field", "json", "a-b", "import", "_x", "naïve", "validate",
)  # fmt: skip
"""Property keys that cannot be attributes: the model gets ``from_``, ``content_type``, ...
with the key as alias (docs: "Wire aliases")."""

COLLIDING_KEYS: tuple[frozenset[str], ...] = tuple(
    frozenset(group)
    for group in (
        ("_id", "id"), ("_x", "x"), ("a-b", "a b", "a_b"), ("from", "from_"), ("2fa", "field_2fa"),
        ("content-type", "content_type", "content type"), ("str", "str_"),
        ("_", "ü", "field", "", " ", "\n", "'", '"', "\\", "🙂"),
        ("max tokens", "max-tokens", "max_tokens"), ("model_config", "field_model_config"),
    )
)  # fmt: skip
"""Property keys that give one attribute (docs: ``from`` -> ``from_``, ``content-type`` ->
``content_type``, ``_id`` -> ``id``, ...): two of a group in one object are SG205."""


def collide(a: str, b: str) -> bool:
    """Whether two different property keys give one attribute (per :data:`COLLIDING_KEYS`)."""
    return a != b and any(a in group and b in group for group in COLLIDING_KEYS)


SYNAPSE_NAMES = Pools(
    safe=("Chat", "Search", "Echo", "Query", "Summarize", "Stream"),
    tricky=(
        "Value", "Event", "Text", "Node", "Model", "Match", "Case", "X", "HTTPStream", "Chat2",
        "Decimal",
    ),
    rare=(
        "Synapse", "StreamingSynapse", "Field", "Any", "Self", "None", "chat", "Chat_Bot",
        "BTStreamingResponse", "TextDecoder",
    ),
)  # fmt: skip

MODULE_NAMES = Pools(
    safe=("chat", "search", "my_schema", "chat-v2", "events"),
    tricky=(
        *SOFT_KEYWORDS, "str", "typing", "pydantic", "json", "aiohttp", "synapsegen", "runtime",
        "value", "models", "asyncio", "enum",
    ),
    rare=(
        "class", "import", "None", "True", "__init__", "2chat", "chat.v2", "ü", "chat_v2",
    ),
)  # fmt: skip

EXTENSIONS: tuple[str, ...] = (".yaml", ".yml", ".json")

PATH_KEYS: tuple[str, ...] = (
    "content", "delta", "text", "a", "value", "data", "ü", "🙂", "a b", " ", "$ref", "'", '"',
    "\\", "{x}", "0", "null", "True", "__class__", "a-b", "x:y", "event", "node", "key", "items",
    "message", "choices",
)  # fmt: skip
BAD_PATHS: tuple[str, ...] = ("a..b", "a[x]", "", ".a", "a.", "a[-1]", "[0", "a]b", "a[0]b")
TAG_KEYS: tuple[str, ...] = (
    "type", "kind", "event", "t", "ü", "", "a b", "'", "value", "n", "node", "key", "\n",
)  # fmt: skip
TAG_VALUES: tuple[Json, ...] = ("text", "meta", "done", "", "ü", "None", 0, 1, -1, 1.5, True,
                               False, None)  # fmt: skip
ERROR_MESSAGE_KEYS: tuple[str, ...] = ("message", "error", "ü", "", "detail")
DELIMITERS: tuple[str, ...] = (
    "\n", "\r\n", "\n\n", "\x1e", "\u2028", "||", "🙂", "END", ";", "\t", ",",
)  # fmt: skip
SENTINELS: tuple[str, ...] = (
    "[DONE]", "DONE ü", "", " [DONE]", "a\nb", "\r", "null", "{}", "data: x", "🙂",
)  # fmt: skip

TEXT_CHARS = "ab Z09'\"\\\n\t{}%#:-üß世🙂\u2028\r|;,END$"
SPECIAL_TEXTS: tuple[str, ...] = (
    '"""', "'''", "{{ x }}", "{% if x %}", "\\N{BULLET}", "\\u2028", "None", "True", "[DONE]",
    "data: x", "\r\n", "ü🙂", "", "\x00", "a\u2028b", "# comment", "'); import os; ('",
)  # fmt: skip
PATTERNS: dict[str, str] = {"^[a-z ]*$": "abc xyz", "^[^\"']*$": "ab Zü🙂;", "^\\S*$": "ab:ü🙂"}


def _name(pools: Pools, hostile: bool) -> st.SearchStrategy[str]:
    """A name from the pools: rare ones only in hostile files."""
    safe, tricky, rare = pools
    if not hostile:
        return st.integers(0, 9).flatmap(lambda i: st.sampled_from(safe if i < 6 else tricky))
    return st.integers(0, 19).flatmap(
        lambda i: st.sampled_from(safe if i < 9 else tricky if i < 17 else rare)
    )


def texts(alphabet: str = TEXT_CHARS, max_size: int = 8) -> st.SearchStrategy[str]:
    """Hostile text: quotes, backslashes, line breaks of every kind, multi-byte characters."""
    return st.one_of(st.text(alphabet, max_size=max_size), st.sampled_from(SPECIAL_TEXTS))


# ---------------------------------------------------------------------------------------------
# The plan


@dataclass
class Slot:
    """One place in a token that a rule reads, and what a valid value there looks like.

    ``path`` None is the whole token. ``value`` is the schema of a valid value (for ``put`` an
    object carrying a string under ``key``); ``pieces`` (one ``concat`` into the field that
    ``deserialize: {parse}`` reads) is the JSON text to send, in pieces, in order.
    """

    path: tuple[Step, ...] | None
    value: Schema
    key: tuple[Step, ...] | None = None
    pieces: list[str] | None = None
    group: tuple[Step, ...] | None = None  # a grouped rule's key, a string in the token


@dataclass
class Rule:
    """One rule as the language defines it (presets expanded, ``set`` fields as a dict)."""

    op: str
    field: str | None = None
    path: str | None = None
    when: dict[str, Json] | None = None
    key: str | None = None
    fields: dict[str, str] | None = None
    group: str | None = None  # concat/append/extend into field[<string at this path>]
    slots: list[Slot] = dataclass_field(default_factory=list)
    fields_as_list: bool = False  # `set` written as a list of same-named paths

    def document(self) -> dict[str, Any]:
        """The rule as written in a schema file."""
        written: dict[str, Any] = {"op": self.op}
        if self.when is not None:
            written["when"] = self.when
        if self.field is not None:
            written["field"] = self.field
        if self.path is not None:
            written["path"] = self.path
        if self.key is not None:
            written["key"] = self.key
        if self.group is not None:
            written["group"] = self.group
        if self.fields is not None:
            written["fields"] = list(self.fields) if self.fields_as_list else self.fields
        return written


@dataclass
class StreamPlan:
    """The expanded stream of a synapse: what the generated code must do."""

    framing: str
    payload: str
    rules: list[Rule]
    delimiter: str = "\n"
    sentinel: str | None = None
    end_signal: str = "eof"
    end_event: dict[str, Json] | None = None
    keep_partial: bool = True
    error_event: dict[str, Json] | None = None
    error_message_key: str = "message"
    yields: str = "token"
    deserialize: Any = "synapse"
    shape: str = "object"  # JSON tokens: object, string or array; "text" for a text payload
    token_model: str | None = None  # typed tokens: the $defs model each token is validated into

    @property
    def text_payload(self) -> bool:
        """Whether tokens are text (not JSON)."""
        return self.payload == "text"


@dataclass
class SynapsePlan:
    """One synapse of a case: its fields (JSON Schema), the values to build it, its stream."""

    module: str
    name: str
    request: dict[str, Schema]
    response: dict[str, Schema]
    request_values: dict[str, Json]
    stream: StreamPlan | None  # None: a plain synapse
    defs: dict[str, Schema]
    parse_value: Json = None  # deserialize: {parse}: the model value the text encodes
    respond_values: dict[str, Json] = dataclass_field(default_factory=dict)  # plain: respond()
    deserialize: Any = "synapse"  # plain: what deserialize() returns


@dataclass
class Case:
    """Schema files (name -> text) and what they mean (the repr shows the files only)."""

    files: dict[str, str]
    synapses: list[SynapsePlan] = dataclass_field(repr=False)
    hostile: bool = dataclass_field(repr=False)
    malformed: list[str] = dataclass_field(default_factory=list, repr=False)
    """Constructs written on purpose that the validator must refuse (no working meaning)."""
    user_files: dict[str, str] = dataclass_field(default_factory=dict, repr=False)
    """The user's package that ``import:`` entries name (path relative to the folder that goes
    on ``sys.path`` -> text); empty when no entry imports a class."""

    @property
    def user_package(self) -> str | None:
        """The top-level name of the user's package, if there is one."""
        return next(iter(self.user_files), "").split("/")[0] or None

    def describe(self) -> str:
        """The files (and the user's package), for failure messages."""
        return "\n".join(
            f"--- {name}\n{text}" for name, text in {**self.files, **self.user_files}.items()
        )


# ---------------------------------------------------------------------------------------------
# Values


MAX_DEPTH = 3


def resolve(schema: Schema, defs: dict[str, Schema]) -> Schema:
    """Follow ``$ref`` (the strategy never writes alias cycles)."""
    seen = 0
    while "$ref" in schema and seen < 20:
        schema = defs[str(schema["$ref"]).rsplit("/", 1)[-1]]
        seen += 1
    return schema


def _types(schema: Schema) -> list[str]:
    """The JSON types a schema names (none when it names no ``type``)."""
    kind = schema.get("type")
    if kind is None:
        return []
    return [kind] if isinstance(kind, str) else list(kind)


def _sample_string(draw: st.DrawFn, schema: Schema) -> str:
    """A string within ``minLength``/``maxLength`` and from an alphabet the pattern allows."""
    pattern = schema.get("pattern")
    alphabet = PATTERNS.get(pattern, TEXT_CHARS) if isinstance(pattern, str) else TEXT_CHARS
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", low + 8))
    return draw(st.text(alphabet, min_size=low, max_size=max(low, min(high, low + 8))))


def _sample_number(draw: st.DrawFn, schema: Schema, integer: bool) -> int | float:
    """A number within the schema's bounds (big and fractional ones included)."""
    low: int | float = -(2**60)
    high: int | float = 2**60
    for key in ("exclusiveMinimum", "minimum"):
        low = schema.get(key, low)
    for key in ("exclusiveMaximum", "maximum"):
        high = schema.get(key, high)
    candidates: list[int | float] = [0, 1, 7, 42, -3, 2**53 + 1, 10, 2]
    if not integer:
        candidates += [0.5, -2.25, 1e-7, 3.0, 1e300, 0.1]
    ok = [
        c
        for c in candidates
        if low <= c <= high
        and ("exclusiveMinimum" not in schema or c > schema["exclusiveMinimum"])
        and ("exclusiveMaximum" not in schema or c < schema["exclusiveMaximum"])
        and ("multipleOf" not in schema or _multiple(c, schema["multipleOf"]))
    ]
    return draw(st.sampled_from(ok or [int(low)]))


def _multiple(value: int | float, step: int | float) -> bool:
    """Whether ``value`` is a multiple of ``step`` (exact for ints)."""
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    return float(value / step).is_integer()


def sample(draw: st.DrawFn, schema: Schema, defs: dict[str, Schema], depth: int = 0) -> Json:
    """A JSON value valid for ``schema`` (finite: past MAX_DEPTH only what is required)."""
    if "$ref" in schema:
        return sample(draw, defs[str(schema["$ref"]).rsplit("/", 1)[-1]], defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum") is not None:
        return draw(st.sampled_from(schema["enum"]))
    for union in ("anyOf", "oneOf"):
        if schema.get(union):
            members = list(schema[union])
            if depth >= MAX_DEPTH:
                members = [m for m in members if "$ref" not in m] or members
            return sample(draw, draw(st.sampled_from(members)), defs, depth + 1)
    kinds = _types(schema)
    if not kinds:
        if schema.get("properties") or "additionalProperties" in schema:
            kinds = ["object"]
        else:  # opaque JSON
            return draw(st.sampled_from([None, 1, "ü", [1, "a"], {"k": [True]}, 2.5]))
    if depth >= MAX_DEPTH and "null" in kinds:
        return None
    kind = draw(st.sampled_from(kinds))
    if kind == "null":
        return None
    if kind == "string":
        return _sample_string(draw, schema)
    if kind in ("integer", "number"):
        return _sample_number(draw, schema, kind == "integer")
    if kind == "boolean":
        return draw(st.booleans())
    if kind == "array":
        items = schema.get("items", {})
        low = int(schema.get("minItems", 0))
        high = low if depth >= MAX_DEPTH else int(schema.get("maxItems", low + 2))
        count = draw(st.integers(low, max(low, high)))
        return [sample(draw, items, defs, depth + 1) for _ in range(count)]
    # object
    value: dict[str, Json] = {}
    properties: dict[str, Schema] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    for name, prop in properties.items():
        if name in required or (depth < MAX_DEPTH and draw(st.booleans())):
            value[name] = sample(draw, prop, defs, depth + 1)
    extra = schema.get("additionalProperties")
    if not properties and extra is not False and depth < MAX_DEPTH:
        extra_schema = extra if isinstance(extra, dict) else {}
        for key in draw(st.lists(texts(max_size=4), max_size=2, unique=True)):
            value[key] = sample(draw, extra_schema, defs, depth + 1)
    return value


# ---------------------------------------------------------------------------------------------
# Schemas


@dataclass
class _Context:
    """What the schema strategies of one file share."""

    hostile: bool
    defs: dict[str, Schema] = dataclass_field(
        default_factory=dict
    )  # filled after the names are drawn
    def_names: list[str] = dataclass_field(default_factory=list)
    malformed: list[str] = dataclass_field(default_factory=list)
    synapse_names: list[str] = dataclass_field(default_factory=list)
    user: UserPackage | None = None  # where `import:` entries' classes are written


def _described(draw: st.DrawFn, schema: Schema) -> Schema:
    """Add documentation keywords now and then (hostile text included)."""
    if draw(st.integers(0, 4)) == 0:
        schema["description"] = draw(texts())
    if draw(st.integers(0, 9)) == 0:
        schema["title"] = draw(texts())
    if draw(st.integers(0, 14)) == 0:
        schema["examples"] = [draw(texts())]
    return schema


def _scalar(draw: st.DrawFn, constraints: bool) -> Schema:
    """A string, integer, number or boolean schema, with constraints now and then."""
    kind = draw(st.sampled_from(["string", "integer", "number", "boolean"]))
    schema: Schema = {"type": kind}
    if constraints and draw(st.booleans()):
        if kind == "string":
            schema.update(draw(st.sampled_from([
                {"maxLength": 12}, {"pattern": "^[a-z ]*$"}, {"pattern": "^\\S*$"},
                {"format": "date-time"}, {"minLength": 0, "maxLength": 30},
            ])))  # fmt: skip
        elif kind in ("integer", "number"):
            schema.update(draw(st.sampled_from([
                {"minimum": 0}, {"minimum": -5, "maximum": 100}, {"multipleOf": 2},
                {"exclusiveMinimum": -1}, {"maximum": 10**6},
            ])))  # fmt: skip
    return schema


def _enum(draw: st.DrawFn) -> Schema:
    """An enum of hostile values (quotes, line breaks, ``None``, mixed types, null)."""
    values = draw(
        st.lists(
            st.sampled_from(["a", "b'c", 'd"e', "ü", "", "None", "x\\y", "z\nw", 1, 2, True, None]),
            min_size=1,
            max_size=4,
            unique_by=lambda v: (type(v).__name__, v),
        )
    )
    schema: Schema = {"enum": values}
    kinds = {"string" if isinstance(v, str) else "boolean" if isinstance(v, bool) else
             "integer" if isinstance(v, int) else "null" for v in values}  # fmt: skip
    if len(kinds) == 1 and draw(st.booleans()):
        schema["type"] = next(iter(kinds))
    return schema


def schemas(
    draw: st.DrawFn, ctx: _Context, depth: int = 0, *, refs: bool = True, owner_def: str = ""
) -> Schema:
    """A field, property or item schema of any kind the language has."""
    kinds = ["scalar"] * 4 + ["array", "map", "nullable", "enum", "const", "any"]
    if depth < 2:
        kinds += ["object", "anyOf", "array"]
    if refs and ctx.def_names:
        kinds += ["ref", "ref"]
    kind = draw(st.sampled_from(kinds))
    schema: Schema
    if kind == "scalar":
        schema = _scalar(draw, constraints=True)
    elif kind == "array":
        schema = {"type": "array"}
        if draw(st.integers(0, 5)):
            schema["items"] = schemas(draw, ctx, depth + 1, refs=True, owner_def=owner_def)
        if draw(st.integers(0, 5)) == 0:
            schema["maxItems"] = 5
    elif kind == "map":
        schema = {"type": "object"}
        choice = draw(st.integers(0, 4))
        if choice == 0:
            schema["additionalProperties"] = True
        elif choice > 1:
            schema["additionalProperties"] = schemas(draw, ctx, depth + 1, refs=True)
    elif kind == "nullable":
        inner = _scalar(draw, constraints=False)
        if draw(st.booleans()):
            schema = {"type": [inner["type"], "null"]}
        else:
            schema = {"anyOf": [inner, {"type": "null"}]}
    elif kind == "enum":
        schema = _enum(draw)
    elif kind == "const":
        schema = {"const": draw(st.sampled_from(["fixed", "ü'\"", 3, False, None]))}
    elif kind == "any":
        schema = {}
    elif kind == "object":
        schema = object_schema(draw, ctx, depth + 1)
        if draw(st.integers(0, 3)) == 0:
            schema["type"] = ["object", "null"]
    elif kind == "anyOf":
        members = [schemas(draw, ctx, depth + 1, refs=refs) for _ in range(draw(st.integers(1, 3)))]
        if refs is False or all("$ref" in m for m in members):
            members.append(_scalar(draw, constraints=False))
        schema = {draw(st.sampled_from(["anyOf", "oneOf"])): members}
    else:  # ref
        schema = {"$ref": f"#/$defs/{draw(st.sampled_from(ctx.def_names))}"}
    return _described(draw, schema)


def object_schema(draw: st.DrawFn, ctx: _Context, depth: int) -> Schema:
    """An object with properties (a model); ``$ref`` properties are never required (finite).

    Keys that cannot be attributes (``from``, ``content-type``, ``_id``) are valid: the model
    keeps them on the wire as aliases. Two keys that give one attribute are drawn on purpose
    now and then in hostile files (malformed: SG205), never by accident.
    """
    drawn = draw(
        st.lists(
            _name(PROPERTY_NAMES, ctx.hostile),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    if draw(st.booleans()):  # often one key that is no attribute (an alias on the model)
        drawn.append(draw(st.sampled_from(ALIASED_KEYS)))
    names: list[str] = []
    for name in drawn:
        if name not in names and not any(collide(name, other) for other in names):
            names.append(name)
    if not ctx.hostile:  # a key named like a class of the module is SG207 (no alias for it)
        names = [n for n in names if n not in ctx.def_names] or ["x"]
    if ctx.hostile and draw(st.integers(0, 7)) == 0:
        group = draw(st.sampled_from(COLLIDING_KEYS))
        pair = draw(st.lists(st.sampled_from(sorted(group)), min_size=2, max_size=2, unique=True))
        names = [n for n in names if n not in group] + pair
        ctx.malformed.append(f"properties {pair[0]!r} and {pair[1]!r} give one attribute")
    properties: dict[str, Schema] = {}
    required: list[str] = []
    for name in names:
        is_required = draw(st.booleans())
        prop = schemas(draw, ctx, depth, refs=not is_required)
        if is_required:
            required.append(name)
        elif draw(st.integers(0, 3)) == 0 and "$ref" not in json.dumps(prop):
            # (A $defs model may not be drawn yet: no defaults through references.)
            prop["default"] = sample(draw, prop, ctx.defs, MAX_DEPTH - 1)
        properties[name] = prop
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if draw(st.integers(0, 5)) == 0:
        schema["additionalProperties"] = False
    return schema


def _def_schema(draw: st.DrawFn, ctx: _Context, name: str) -> Schema:
    """A ``$defs`` entry: a model (often recursive), an enum, an alias, a list alias, or a
    class of the user's own package (``import``)."""
    kinds = ["model"] * 4 + ["enum", "alias", "list_alias", "nullable"]
    kind = draw(st.sampled_from(kinds + ["imported"] * 2 * (ctx.user is not None)))
    if kind == "imported":
        assert ctx.user is not None
        return _imported_def(draw, ctx, ctx.user, name)
    if kind == "enum":
        return _described(draw, _enum(draw))
    if kind == "alias":
        return _described(draw, _scalar(draw, constraints=True))
    if kind == "list_alias":  # a recursive alias when it names itself
        return {
            "type": "array",
            "items": {"$ref": f"#/$defs/{draw(st.sampled_from(ctx.def_names))}"},
        }
    schema = object_schema(draw, ctx, 1)
    if draw(st.booleans()):  # recursion: an optional property (or list) of a model
        target = draw(st.sampled_from([name, *ctx.def_names]))
        ref = {"$ref": f"#/$defs/{target}"}
        prop = draw(st.sampled_from(["children", "next", "Node", "value", "items"]))
        if prop not in schema["properties"] and (ctx.hostile or prop not in ctx.def_names):
            schema["properties"][prop] = draw(
                st.sampled_from(
                    [{"type": "array", "items": ref}, ref, {"anyOf": [ref, {"type": "null"}]}]
                )
            )
    if kind == "nullable":
        schema["type"] = ["object", "null"]
    return _described(draw, schema)


# ---------------------------------------------------------------------------------------------
# The user's own classes (``import: package.module.Name``)

USER_PACKAGE_PREFIX = "sg_user_"
_USER_PACKAGE_NUMBERS = itertools.count()
"""Numbers the users' packages apart (``sg_user_<n>``): each case's package has a name of its
own, so that one mypy run checks the generated packages of many cases together."""

USER_MODULES: tuple[str, ...] = ("protocol", "models", "api.types", "schema_types")
USER_CLASS_NAMES: tuple[str, ...] = ("Usage", "Role", "Payload", "Record", "Status", "Kind")
USER_ENUM_VALUES: tuple[str, ...] = (
    "user", "assistant", "a b", "ü", "", "None", "b'c", 'd"e', "z\nw", "x\\y", "🙂",
)  # fmt: skip
USER_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("x", "x"), ("title", "title"), ("url", "url"), ("score", "score"), ("label", "label"),
    ("count", "count"), ("from", "from_"), ("content-type", "content_type"),
)  # fmt: skip
"""(JSON key, attribute) of the user's model fields: a key that is no attribute gets an alias, as
a careful user writes it (``validate_by_name``, ``serialize_by_alias``)."""

_USER_TYPES: dict[str, tuple[Schema, str]] = {
    "string": ({"type": "string"}, "str"),
    "integer": ({"type": "integer"}, "int"),
    "number": ({"type": "number"}, "float"),
    "boolean": ({"type": "boolean"}, "bool"),
    "nullable": ({"type": ["string", "null"]}, "str | None"),
    "list": ({"type": "array", "items": {"type": "string"}}, "list[str]"),
}
"""What the user's model fields are: (the schema that describes one, its Python type)."""

_USER_HEADER = '''"""A subnet's own classes, written by hand before synapsegen (a property test)."""

import enum

import pydantic
'''


@dataclass
class UserPackage:
    """The user's package of a case: its name and, per module, the classes written in it."""

    name: str
    modules: dict[str, list[tuple[str, str]]] = dataclass_field(default_factory=dict)
    """module (dotted, inside the package) -> (class name, source) of each class."""

    def files(self) -> dict[str, str]:
        """Path (relative to the folder that goes on ``sys.path``) -> text; none if no class."""
        if not self.modules:
            return {}
        found = {f"{self.name}/__init__.py": "", f"{self.name}/py.typed": ""}
        for module, classes in self.modules.items():
            parts = module.split(".")
            for depth in range(1, len(parts)):
                found[f"{self.name}/{'/'.join(parts[:depth])}/__init__.py"] = ""
            sources = "\n\n".join(source for _, source in classes)
            found[f"{self.name}/{'/'.join(parts)}.py"] = f"{_USER_HEADER}\n\n{sources}"
        return found


def _imported_def(draw: st.DrawFn, ctx: _Context, user: UserPackage, name: str) -> Schema:
    """A ``$defs`` entry naming a class of the user's package (a pydantic model or a ``(str,
    Enum)``), described by the rest of the entry as the class is; the class is written into
    ``user``. In hostile files, now and then an ``import`` that is no dotted name (SG310)."""
    module = draw(st.sampled_from(USER_MODULES))
    classes = user.modules.setdefault(module, [])
    taken = {class_name for class_name, _ in classes}
    own = name in (*DEF_NAMES.safe, *DEF_NAMES.tricky) and draw(st.booleans())
    free = (c for c in (*USER_CLASS_NAMES, *(f"Usage{n}" for n in range(2, 99))) if c not in taken)
    class_name = name if own and name not in taken else next(free)
    schema: Schema = {"import": f"{user.name}.{module}.{class_name}"}
    if draw(st.sampled_from(["model", "model", "enum"])) == "enum":
        values = draw(st.lists(st.sampled_from(USER_ENUM_VALUES), min_size=1, max_size=4,
                               unique=True))  # fmt: skip
        members = "".join(f"    M{index} = {value!r}\n" for index, value in enumerate(values))
        source = f"class {class_name}(str, enum.Enum):\n{members}"
        if draw(st.booleans()):
            schema["type"] = "string"
        schema["enum"] = values
    else:
        source, described = _user_model(draw, class_name)
        schema.update(described)
    classes.append((class_name, source))
    if ctx.hostile and draw(st.integers(0, 9)) == 0:
        schema["import"] = draw(st.sampled_from(["Usage", "a..b.C", "pkg.2x.Usage", "pkg.class.C"]))
        ctx.malformed.append(f"import {schema['import']!r} is no package.module.Name")
    return _described(draw, schema)


def _user_model(draw: st.DrawFn, class_name: str) -> tuple[str, Schema]:
    """A user's pydantic model (its source) and the schema that describes it: fields required,
    with a default, or optional (``T | None = None``, as the generator writes a property that
    is neither)."""
    chosen = draw(st.lists(st.sampled_from(USER_PROPERTIES), min_size=1, max_size=4,
                           unique_by=lambda p: p[0]))  # fmt: skip
    properties: dict[str, Schema] = {}
    required: list[str] = []
    lines: list[str] = []
    for key, attribute in chosen:
        kind = draw(st.sampled_from(sorted(_USER_TYPES)))
        described, annotation = _USER_TYPES[kind]
        prop = json.loads(json.dumps(described))
        how = draw(st.sampled_from(["required", "default", "optional"]))
        value: Any = ...
        if how == "required":
            required.append(key)
        elif how == "default":
            value = sample(draw, prop, {}, 1)
            if kind == "number":
                value = float(value)
            prop["default"] = value
        else:
            value = None
            annotation = annotation if "None" in annotation else f"{annotation} | None"
        properties[key] = prop
        if key != attribute:
            default = "" if value is ... else f"{value!r}, "
            lines.append(f"    {attribute}: {annotation} = pydantic.Field({default}alias={key!r})")
        else:
            default = "" if value is ... else f" = {value!r}"
            lines.append(f"    {attribute}: {annotation}{default}")
    config = any(key != attribute for key, attribute in chosen)
    body = "\n".join(
        (["    model_config = pydantic.ConfigDict(validate_by_name=True, "
          "serialize_by_alias=True)", ""] if config else []) + lines
    )  # fmt: skip
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return f"class {class_name}(pydantic.BaseModel):\n{body}\n", schema


# ---------------------------------------------------------------------------------------------
# Fields for rule targets


def _with_default(draw: st.DrawFn, schema: Schema, ctx: _Context, value: Json = ...) -> Schema:
    """Give ``schema`` a default: ``value``, or a valid value drawn for it."""
    schema["default"] = sample(draw, schema, ctx.defs, MAX_DEPTH - 1) if value is ... else value
    return schema


def _string_field(draw: st.DrawFn, ctx: _Context) -> Schema:
    """A free string field (a concat target): plain, or through a $ref alias or an anyOf.

    No length or pattern constraint: concatenated text may break one (the miner's fault, not
    the generator's).
    """
    free = {"type", "description", "title", "examples", "format"}
    aliases = [
        name
        for name, schema in ctx.defs.items()
        if schema.get("type") == "string" and set(schema) <= free
    ]
    way = draw(st.sampled_from(["plain"] * 6 + ["anyOf"] + ["ref"] * bool(aliases)))
    field_schema: Schema = {"type": "string"}
    if way == "anyOf":
        field_schema = {"anyOf": [{"type": "string"}]}
    elif way == "ref":
        field_schema = {"$ref": f"#/$defs/{draw(st.sampled_from(aliases))}"}
    field_schema["default"] = draw(st.sampled_from(["", "", "pré ", "ü🙂"]))
    if draw(st.sampled_from([True, False, False])):
        return _described(draw, _nullable(draw, {"type": "string"}, "pré "))
    return _described(draw, field_schema)


def _nullable(draw: st.DrawFn, schema: Schema, other_default: Json) -> Schema:
    """``schema`` (a string, array or object) made nullable, ``[type, "null"]`` or an ``anyOf``
    with null: an accumulation target that stays None until a rule adds a value. Its default
    is mostly null (now and then ``other_default``, which the first value is added to)."""
    default = None if draw(st.integers(0, 4)) else other_default
    if draw(st.booleans()):
        return {**schema, "type": [schema["type"], "null"], "default": default}
    return {"anyOf": [schema, {"type": "null"}], "default": default}


def is_nullable(schema: Schema) -> bool:
    """Whether a field schema (as the strategies write them) admits null."""
    members = [schema, *schema.get("anyOf", [])]
    return any("null" in _types(member) for member in members)


def _list_field(draw: st.DrawFn, ctx: _Context, items: Schema | None) -> Schema:
    """A list field (an append/extend target) with a default, now and then nullable."""
    schema: Schema = {"type": "array"}
    if items is not None:
        schema["items"] = items
    if draw(st.sampled_from([True, False, False])):
        return _described(draw, _nullable(draw, schema, []))
    return _described(draw, _with_default(draw, schema, ctx))


def _put_value(draw: st.DrawFn, ctx: _Context) -> tuple[Schema | bool | None, Schema, str]:
    """(additionalProperties as written, schema of a put value, key path inside the value)."""
    key_name = draw(st.sampled_from(["url", "id", "key", "str", "Field", "Key_", "from",
                                     "content-type"]))  # fmt: skip
    kind = draw(st.sampled_from(["any", "true", "inline", "nested_key"]))
    if kind in ("any", "true"):
        value: Schema = {"type": "object", "properties": {key_name: {"type": "string"}},
                         "required": [key_name]}  # fmt: skip
        return (None if kind == "any" else True), value, key_name
    if kind == "nested_key":
        value = {"type": "object", "properties": {"meta": {"type": "object", "properties": {
            "id": {"type": "string"}}, "required": ["id"]}}, "required": ["meta"]}  # fmt: skip
        return {}, value, "meta.id"
    model = object_schema(draw, ctx, 1)
    if any(collide(p, key_name) for p in model["properties"]):
        key_name = "url"  # (`id` beside `_id`: one attribute for two keys, not this case)
    model["properties"][key_name] = {"type": "string"}
    model["required"] = [*[r for r in model.get("required", []) if r != key_name], key_name]
    model.pop("additionalProperties", None)
    return model, model, key_name


# ---------------------------------------------------------------------------------------------
# Paths


def path_text(steps: tuple[Step, ...]) -> str:
    """``("choices", 0, "delta")`` -> ``choices[0].delta``."""
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else step
    return text


def parse_path(text: str) -> tuple[Step, ...]:
    """The inverse of :func:`path_text` for the paths this module writes."""
    steps: list[Step] = []
    for part in text.split("."):
        head, *indexes = part.split("[")
        if head:
            steps.append(head)
        steps.extend(int(index.rstrip("]")) for index in indexes)
    return tuple(steps)


@dataclass
class _Keys:
    """Top-level token keys in use: rule paths and tags never share one."""

    paths: set[str] = dataclass_field(default_factory=set)
    tags: set[str] = dataclass_field(default_factory=set)


def _fresh_path(draw: st.DrawFn, keys: _Keys) -> tuple[Step, ...]:
    """A path whose first key no other rule or tag uses, then up to two keys or indexes."""
    free = [k for k in PATH_KEYS if k not in keys.paths and k not in keys.tags]
    first = draw(st.sampled_from(free or ["zz"]))
    keys.paths.add(first)
    steps: list[Step] = [first]
    for _ in range(draw(st.integers(0, 2))):
        steps.append(draw(st.one_of(st.integers(0, 2), st.sampled_from(PATH_KEYS))))
    return tuple(steps)


def _tags(draw: st.DrawFn, keys: _Keys, hostile: bool) -> dict[str, Json]:
    """Tags for a `when`, a final or an error event (often reusing the keys of other tags)."""
    free = [k for k in TAG_KEYS if k not in keys.paths]
    pool = sorted(keys.tags) if bool(keys.tags) and draw(st.booleans()) else free
    count = min(len(pool), draw(st.integers(0 if hostile else 1, 2)))
    chosen = draw(st.lists(st.sampled_from(pool), min_size=count, max_size=count, unique=True))
    keys.tags.update(chosen)
    return {key: draw(st.sampled_from(TAG_VALUES)) for key in chosen}


# ---------------------------------------------------------------------------------------------
# Streams


@dataclass
class _Fields:
    """Response fields being built for a synapse's rules."""

    ctx: _Context
    names: st.SearchStrategy[str]
    response: dict[str, Schema] = dataclass_field(default_factory=dict)
    taken: set[str] = dataclass_field(default_factory=set)

    def new(self, draw: st.DrawFn, schema: Schema) -> str:
        """Add a response field under a fresh name; return the name."""
        name = draw(self.names.filter(lambda n: n not in self.taken))
        self.taken.add(name)
        self.response[name] = schema
        return name


def _text_stream(draw: st.DrawFn, ctx: _Context, fields: _Fields) -> StreamPlan:
    """framing raw, lines or sse with text tokens; concat/replace rules into string fields."""
    framing = draw(st.sampled_from(["raw", "lines", "sse"]))
    rules: list[Rule] = []
    # Raw text has no token boundaries: one concat per field only (SG406), but in hostile files.
    fresh_concats = framing == "raw" and not ctx.hostile
    for _ in range(draw(st.integers(1, 3))):
        op = "concat" if fresh_concats else draw(st.sampled_from(["concat", "concat", "replace"]))
        strings = [n for n, s in fields.response.items()
                   if s.get("type") in ("string", ["string", "null"])]  # fmt: skip
        if bool(strings) and not fresh_concats and draw(st.booleans()):
            target = draw(st.sampled_from(strings))
        else:
            target = fields.new(draw, _string_field(draw, ctx))
        rules.append(Rule(op=op, field=target, slots=[Slot(None, {"type": "string"})]))
    plan = StreamPlan(framing=framing, payload="text", rules=rules, shape="text")
    if framing == "lines":
        plan.delimiter = draw(st.sampled_from(DELIMITERS))
    if framing == "sse" and draw(st.booleans()):
        plan.sentinel = draw(_sentinels(ctx.hostile))
        plan.end_signal = "sentinel"
    return plan


def _json_rule(
    draw: st.DrawFn, ctx: _Context, fields: _Fields, taken: _Keys, whole_token_ok: bool
) -> Rule:
    """One rule over JSON object tokens, with its target field and the slot it reads."""
    op = draw(st.sampled_from(["concat", "append", "extend", "replace", "set", "put"]))
    when = _tags(draw, taken, ctx.hostile) if draw(st.integers(0, 2)) == 0 else None
    whole = whole_token_ok and op in ("append", "replace") and draw(st.integers(0, 2)) == 0
    path = None if whole else _fresh_path(draw, taken)
    if op == "set":
        targets: dict[str, str] = {}
        slots = []
        as_list = draw(st.booleans())
        for _ in range(draw(st.integers(1, 3))):
            schema = _with_default(draw, schemas(draw, ctx), ctx)
            name = fields.new(draw, schema)
            if as_list and name not in taken.paths | taken.tags:
                taken.paths.add(name)
                steps: tuple[Step, ...] = (name,)
            else:
                as_list = False
                steps = _fresh_path(draw, taken)
            targets[name] = path_text(steps)
            slots.append(Slot(steps, schema))
        return Rule(op="set", when=when, fields=targets, slots=slots, fields_as_list=as_list)
    if op == "concat":
        target = fields.new(draw, _string_field(draw, ctx))
        value: Schema = {"type": "string"}
    elif op in ("append", "extend"):
        items = None if whole else schemas(draw, ctx, 1)
        reuse = [n for n, s in fields.response.items() if s.get("type") == "array"
                 and s.get("items") == items and "maxItems" not in s]  # fmt: skip
        target = (draw(st.sampled_from(reuse)) if bool(reuse) and draw(st.booleans())
                  else fields.new(draw, _list_field(draw, ctx, items)))  # fmt: skip
        value = items if items is not None else {}
        if op == "extend":
            value = {"type": "array", "items": value}
    elif op == "replace":
        schema = {} if whole else schemas(draw, ctx)
        target = fields.new(draw, _with_default(draw, dict(schema), ctx))
        value = schema
    else:  # put
        extra, value, key = _put_value(draw, ctx)
        field_schema: Schema = {"type": "object"}
        if extra is not None:
            field_schema["additionalProperties"] = extra
        if draw(st.sampled_from([True, False, False])):
            field_schema = _nullable(draw, field_schema, {})
        else:
            field_schema["default"] = {}
        target = fields.new(draw, _described(draw, field_schema))
        key_steps = parse_path(key)
        if ctx.hostile and draw(st.integers(0, 9)) == 0:
            key = draw(st.sampled_from(["", "a..b", "[0]"]))
            ctx.malformed.append(f"put key {key!r}")
        rule = Rule(op="put", field=target, path=path_text(path) if path else None, when=when,
                    key=key, slots=[Slot(path, value, key=key_steps)])  # fmt: skip
        return rule
    if path is not None and op != "replace" and draw(st.integers(0, 3)) == 0:
        return _grouped_rule(draw, ctx, fields, taken, op, path, when, value)
    rule = Rule(op=op, field=target, path=path_text(path) if path else None, when=when,
                slots=[Slot(path, value)])  # fmt: skip
    return rule


def _grouped_rule(
    draw: st.DrawFn,
    ctx: _Context,
    fields: _Fields,
    taken: _Keys,
    op: str,
    path: tuple[Step, ...],
    when: dict[str, Json] | None,
    value: Schema,
) -> Rule:
    """A concat/append/extend with ``group``: the value goes to a dict field's entry for the
    string at another key of the token (a fresh target: a dict of strings or of lists)."""
    group = (_fresh_path(draw, taken)[0],)
    entry: Schema = {"type": "string"} if op == "concat" else {"type": "array"}
    if op != "concat" and value:
        entry["items"] = value["items"] if op == "extend" else value
    schema: Schema = {"type": "object", "additionalProperties": entry}
    if draw(st.booleans()):
        schema = _nullable(draw, schema, {})
    else:
        schema["default"] = {}
    target = fields.new(draw, _described(draw, schema))
    return Rule(op=op, field=target, path=path_text(path), when=when, group=path_text(group),
                slots=[Slot(path, value, group=group)])  # fmt: skip


def _token_schema(plan: StreamPlan, typed: bool = False) -> Schema:
    """The declared ``token``: an object whose properties are exactly the rules' paths.

    ``typed``: the schema of a ``$defs`` model that every token drawn fits: no value keeps a
    default (a token may hold null there: an optional property without default is ``T | None``),
    and a list item may be null (tokens pad a list with nulls up to the index a path names).
    """
    root: Schema = {"type": "object", "properties": {}}
    padded: list[Schema] = []  # the lists a path indexes
    for rule in plan.rules:
        for slot in rule.slots:
            if not slot.path:
                continue
            value = {k: v for k, v in slot.value.items() if not (typed and k == "default")}
            node = root
            for index, step in enumerate(slot.path):
                last = index == len(slot.path) - 1
                if isinstance(step, int):
                    if node.get("type") != "array":
                        node.clear()
                        node.update({"type": "array", "items": {}})
                        padded.append(node)
                    if last:
                        node["items"] = dict(value)
                    node = node["items"]
                else:
                    if node.get("type") != "object" or "properties" not in node:
                        node.clear()
                        node.update({"type": "object", "properties": {}})
                    node["properties"].setdefault(step, {})
                    if last:
                        node["properties"][step] = dict(value)
                    node = node["properties"][step]
    for tags in [r.when for r in plan.rules if r.when] + [plan.end_event, plan.error_event]:
        for key in tags or {}:
            root["properties"].setdefault(key, {"type": ["string", "integer", "number",
                                                         "boolean", "null"]})  # fmt: skip
    if typed:
        for node in padded:
            if node["items"]:
                node["items"] = {"anyOf": [node["items"], {"type": "null"}]}
    return root


TOKEN_MODEL_NAMES = Pools(
    safe=("Chunk", "Delta", "StreamEvent", "Piece"),
    tricky=(
        "Event", "Token", "Frame", "Value", "Text", "Decoder", "Complete", "M2", "Key", "Node",
        "Data", "Typed", "Inner_Model", "message", "tree_node", "my_model",
    ),
    rare=(
        *DEF_NAMES.rare,
        # locals of the generated parser, which names the model (SG207: it would be shadowed)
        "chunk", "event", "typed", "frame", "decoder", "complete", "response", "value", "key",
        "text", "node", "data",
    ),
)  # fmt: skip
"""Names of the ``$defs`` model a typed token is."""


def _property_keys(schema: Any) -> set[str]:
    """Every property key anywhere in ``schema``."""
    found: set[str] = set()
    if isinstance(schema, dict):
        found.update(schema.get("properties") or {})
        for value in schema.values():
            found |= _property_keys(value)
    elif isinstance(schema, list):
        for value in schema:
            found |= _property_keys(value)
    return found


def _typed_token(draw: st.DrawFn, ctx: _Context, plan: StreamPlan) -> str | None:
    """Now and then make a JSON object stream's token a ``$defs`` model (typed tokens: the
    client validates each token into it and yields models): one that every token drawn fits,
    the bare final event and the error event included. Its name, or None (untyped).

    Every property is optional (a token may lack any key), but now and then one tag the bare
    final event carries (a ``when`` tag without a final event): a token without it is no model,
    a stream error, and the error event (tags and message only) is still the miner's error. A
    closed model (``additionalProperties: false``) lets tokens with an undeclared key be drawn
    (no model either).
    """
    if plan.shape != "object" or plan.payload != "json" or draw(st.booleans()):
        return None
    schema = _token_schema(plan, typed=True)
    properties: dict[str, Schema] = schema["properties"]
    paths = {slot.path[0] for rule in plan.rules for slot in rule.slots if slot.path}
    for rule in plan.rules:
        for slot in rule.slots:
            if slot.group:
                properties[str(slot.group[0])] = {"type": "string"}
    if plan.error_event is not None and plan.error_message_key not in paths:
        properties.setdefault(plan.error_message_key, {"type": "string"})
    if not properties:
        return None  # (an object without properties is no model but a dict alias)
    keys = sorted(properties)
    clash = next(((a, b) for a in keys for b in keys if collide(a, b)), None)
    if clash is not None:
        if not ctx.hostile:
            return None
        ctx.malformed.append(f"token model keys {clash[0]!r} and {clash[1]!r} give one attribute")
    others = {*ctx.defs, *ctx.synapse_names}
    name = draw(_name(TOKEN_MODEL_NAMES, ctx.hostile).filter(lambda n: n not in others))
    if not ctx.hostile and _property_keys(schema) & {*others, name}:
        return None  # a key named like a class of the module: SG207
    if draw(st.integers(0, 2)) == 0:
        schema["additionalProperties"] = False
    tags = [*(plan.end_event or {})] or [key for r in plan.rules for key in r.when or {}]
    if tags and draw(st.booleans()):
        schema["required"] = [draw(st.sampled_from(tags))]
    ctx.defs[name] = _described(draw, schema)
    plan.token_model = name
    return name


def _json_stream(draw: st.DrawFn, ctx: _Context, fields: _Fields) -> tuple[StreamPlan, Schema]:
    """framing lines, sse or json-seq with JSON tokens; every op, paths from the token schema."""
    framing = draw(st.sampled_from(["lines", "sse", "json-seq"]))
    shape = draw(st.sampled_from(["object"] * 6 + ["string", "array"]))
    taken = _Keys()
    plan = StreamPlan(framing=framing, payload="json", rules=[], shape=shape)
    if shape == "string":  # tokens are JSON strings: whole-token rules only
        for _ in range(draw(st.integers(1, 2))):
            op = draw(st.sampled_from(["concat", "replace", "append"]))
            if op == "append":
                target = fields.new(draw, _list_field(draw, ctx, {"type": "string"}))
            else:
                target = fields.new(draw, _string_field(draw, ctx))
            plan.rules.append(Rule(op=op, field=target, slots=[Slot(None, {"type": "string"})]))
    elif shape == "array":  # tokens are lists of strings
        string_list: Schema = {"type": "array", "items": {"type": "string"}}
        for _ in range(draw(st.integers(1, 3))):
            op = draw(st.sampled_from(["extend", "append", "concat", "replace"]))
            index = draw(st.integers(0, 2))
            if op == "extend":
                target = fields.new(draw, _list_field(draw, ctx, {"type": "string"}))
                rule = Rule(op=op, field=target, slots=[Slot(None, string_list)])
            elif op == "replace":
                target = fields.new(draw, _with_default(draw, dict(string_list), ctx))
                rule = Rule(op=op, field=target, slots=[Slot(None, string_list)])
            else:
                target = fields.new(draw, _string_field(draw, ctx) if op == "concat"
                                    else _list_field(draw, ctx, {"type": "string"}))  # fmt: skip
                rule = Rule(op=op, field=target, path=f"[{index}]",
                            slots=[Slot((index,), {"type": "string"})])  # fmt: skip
            plan.rules.append(rule)
    else:
        for _ in range(draw(st.integers(1, 4))):
            plan.rules.append(_json_rule(draw, ctx, fields, taken, whole_token_ok=True))
    if shape == "object" and draw(st.integers(0, 2)) == 0:
        plan.error_event = _tags(draw, taken, ctx.hostile)
        if not plan.error_event:
            ctx.malformed.append("server.error_event {} (every token would be the error)")
        if draw(st.integers(0, 2)) == 0:
            keys = [*ERROR_MESSAGE_KEYS, *plan.error_event]
            plan.error_message_key = draw(st.sampled_from(keys))
    end = draw(st.sampled_from(["event", "eof", "event", "sentinel", "event", "eof", "event"]))
    if end == "event" and shape == "object":
        plan.end_signal = "event"
        plan.end_event = _tags(draw, taken, ctx.hostile)
        if not plan.end_event:
            ctx.malformed.append("end.event {} (every token would be the final one)")
    if framing == "sse" and (end == "sentinel" or draw(st.booleans())):
        plan.sentinel = draw(_sentinels(ctx.hostile))
        if plan.end_signal == "eof":
            plan.end_signal = "sentinel" if end == "sentinel" or draw(st.booleans()) else "eof"
    if framing == "lines":
        plan.delimiter = draw(_json_delimiters(ctx.hostile))
    if shape == "string":
        return plan, {"type": "string"}
    if shape == "array":
        return plan, {"type": "array", "items": {"type": "string"}}
    return plan, _token_schema(plan)


def _finish_stream(draw: st.DrawFn, plan: StreamPlan, fields: _Fields, ctx: _Context) -> None:
    """Draw keep_partial, yields and deserialize (the plan holds the effective values)."""
    plan.keep_partial = draw(st.booleans())
    concat = next((r for r in plan.rules if r.op == "concat"), None)
    # `yields: text` without a concat rule would yield nothing: drawn seldom.
    written = [None, None, "text", "token"] if concat is not None else [None] * 4 + ["token"] * 3
    plan.yields = draw(st.sampled_from([*written, "text"])) or (
        "text" if concat is not None else "token"
    )
    choice = draw(st.sampled_from(["default", "default", "synapse", "field", "parse"]))
    if choice == "field":
        plan.deserialize = {"field": draw(st.sampled_from(sorted(fields.response)))}
    elif choice == "parse" and ctx.defs and plan.shape != "array":
        models = [n for n, s in ctx.defs.items() if s.get("properties")]
        for rule in [r for r in plan.rules if r.op == "concat" and r.when is None and not r.group]:
            parse_field = rule.field
            assert parse_field is not None
            if is_nullable(fields.response[parse_field]):
                continue  # `parse` reads a string field, not a nullable one
            others = [r for r in plan.rules if r is not rule and (
                r.field == parse_field or parse_field in (r.fields or {}))]  # fmt: skip
            if not others and models:
                fields.response[parse_field]["default"] = ""
                model = draw(st.sampled_from(models))
                plan.deserialize = {"parse": parse_field, "model": f"#/$defs/{model}"}
                break
    elif choice == "synapse":
        plan.deserialize = "synapse"
    else:
        plan.deserialize = (
            {"field": concat.field} if concat is not None and concat.field else "synapse"
        )


def _stream_document(plan: StreamPlan, token: Schema | None, draw: st.DrawFn) -> dict[str, Any]:
    """The explicit stream as written, leaving out some keys whose default is the same."""
    doc: dict[str, Any] = {"framing": plan.framing}
    if plan.framing in ("lines", "sse") or draw(st.booleans()):
        doc["payload"] = plan.payload
    if plan.framing == "lines" and (plan.delimiter != "\n" or draw(st.booleans())):
        doc["delimiter"] = plan.delimiter
    if plan.sentinel is not None:
        doc["sentinel"] = plan.sentinel
    if token is not None and (plan.token_model is not None or draw(st.integers(0, 2))):
        doc["token"] = token
    doc["rules"] = [rule.document() for rule in plan.rules]
    end: dict[str, Any] = {}
    default_signal = "sentinel" if plan.framing == "sse" and plan.sentinel is not None else "eof"
    if plan.end_signal != default_signal or draw(st.booleans()):
        end["signal"] = plan.end_signal
    if plan.end_event is not None:
        end["event"] = plan.end_event
    if not plan.keep_partial or draw(st.booleans()):
        end["keep_partial"] = plan.keep_partial
    if end:
        doc["end"] = end
    if draw(st.booleans()):
        doc["limits"] = draw(st.sampled_from([
            {"max_frame_bytes": 65536}, {"max_total_bytes": None},
            {"max_frame_bytes": 1 << 20, "max_total_bytes": 1 << 24},
        ]))  # fmt: skip
    server: dict[str, Any] = {}
    if draw(st.booleans()):
        server["batch_count"] = draw(st.integers(1, 3))
    if draw(st.integers(0, 3)) == 0:
        server["batch_interval"] = 0.001
    if plan.error_event is not None:
        server["error_event"] = plan.error_event
        if plan.error_message_key != "message" or draw(st.booleans()):
            server["error_message_key"] = plan.error_message_key
    if server:
        doc["server"] = server
    concat = next((r for r in plan.rules if r.op == "concat"), None)
    if plan.yields != ("text" if concat is not None else "token") or draw(st.booleans()):
        doc["yields"] = plan.yields
    derived = {"field": concat.field} if concat is not None and concat.field else "synapse"
    if plan.deserialize != derived or draw(st.booleans()):
        doc["deserialize"] = plan.deserialize
    return doc


# ---------------------------------------------------------------------------------------------
# Presets (expanded by hand from docs/schema-reference.md, "Presets")

_COMPLETION: Schema = {"type": "string", "default": "", "description": "The streamed text."}
_FINISH_REASON: Schema = {"type": ["string", "null"], "default": None}
_USAGE: Schema = {
    "type": ["object", "null"],
    "default": None,
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
    },
}


def _preset_stream(
    draw: st.DrawFn, ctx: _Context, fields: _Fields
) -> tuple[StreamPlan, dict[str, Any]]:
    """A preset, sometimes refined; returns the expanded plan and the stream as written."""
    preset = draw(st.sampled_from(["text", "openai-sse", "ndjson-events"]))
    doc: dict[str, Any] = {"format": preset}
    declared = fields.response  # the preset adds completion (etc.) only when not declared
    if draw(st.integers(0, 2)) == 0:
        declared["completion"] = _string_field(draw, ctx)
    if preset == "text":
        plan = StreamPlan(framing="raw", payload="text", shape="text", yields="text",
                          deserialize={"field": "completion"},
                          rules=[Rule(op="concat", field="completion",
                                      slots=[Slot(None, {"type": "string"})])])  # fmt: skip
        refinement = draw(st.sampled_from(["", "keep", "sse", "lines", "yields", "deserialize"]))
        if refinement == "keep":
            doc["end"] = {"keep_partial": False}
            plan.keep_partial = False
        elif refinement == "sse":
            doc.update(framing="sse", payload="text")
            plan.framing = "sse"
        elif refinement == "lines":
            plan.framing, plan.delimiter = "lines", draw(st.sampled_from(DELIMITERS))
            doc.update(framing="lines", payload="text", delimiter=plan.delimiter)
        elif refinement == "yields":
            doc["yields"] = plan.yields = "token"
        elif refinement == "deserialize":
            doc["deserialize"] = plan.deserialize = "synapse"
    elif preset == "openai-sse":
        if draw(st.integers(0, 3)) == 0:
            declared["finish_reason"] = {"enum": ["stop", "length", None], "default": None}
        usage = declared.get("usage", _USAGE)
        finish = declared.get("finish_reason", _FINISH_REASON)
        plan = StreamPlan(
            framing="sse", payload="json", sentinel="[DONE]", end_signal="sentinel",
            keep_partial=False, yields="text", deserialize={"field": "completion"},
            rules=[
                Rule(op="concat", path="choices[0].delta.content", field="completion",
                     slots=[Slot(("choices", 0, "delta", "content"), {"type": "string"})]),
                Rule(op="replace", path="choices[0].finish_reason", field="finish_reason",
                     slots=[Slot(("choices", 0, "finish_reason"), finish)]),
                Rule(op="replace", path="usage", field="usage", slots=[Slot(("usage",), usage)]),
            ],
        )  # fmt: skip
        refinement = draw(st.sampled_from(["", "sentinel", "keep", "server", "yields", "field"]))
        if refinement == "sentinel":
            doc["sentinel"] = plan.sentinel = draw(_sentinels(ctx.hostile))
        elif refinement == "keep":
            doc["end"] = {"keep_partial": True}
            plan.keep_partial = True
        elif refinement == "server":
            doc["server"] = {"batch_count": 2}
        elif refinement == "yields":
            doc["yields"] = plan.yields = "token"
        elif refinement == "field":
            doc["deserialize"] = plan.deserialize = {"field": "finish_reason"}
    else:  # ndjson-events
        fields.taken.add("type")  # `set` would read the tag ("meta") into a field named `type`
        for _ in range(draw(st.integers(0, 3))):
            fields.new(draw, _with_default(draw, schemas(draw, ctx), ctx))
        trailer = [name for name in declared if name != "completion"]
        rules = [Rule(op="concat", path="text", field="completion", when={"type": "text"},
                      slots=[Slot(("text",), {"type": "string"})])]  # fmt: skip
        if trailer:
            rules.append(Rule(op="set", when={"type": "meta"}, fields={n: n for n in trailer},
                              slots=[Slot((n,), declared[n]) for n in trailer]))  # fmt: skip
        plan = StreamPlan(framing="lines", payload="json", rules=rules,
                          error_event={"type": "error"}, yields="text",
                          deserialize={"field": "completion"})  # fmt: skip
        refinement = draw(st.sampled_from(["final", "", "delimiter", "server", "keep", "yields",
                                           "key", "final"]))  # fmt: skip
        if refinement == "final":  # a final event (as schemas/scored.yaml): maybe the meta one
            plan.end_event = {"type": draw(st.sampled_from(["meta", "done"]))}
            plan.end_signal = "event"
            doc["end"] = {"signal": "event", "event": plan.end_event}
        elif refinement == "delimiter":
            doc["delimiter"] = plan.delimiter = draw(_json_delimiters(ctx.hostile))
        elif refinement == "server":  # replaces the preset's server wholesale: no error event
            doc["server"] = {"batch_count": 2}
            plan.error_event = None
        elif refinement == "keep":
            doc["end"] = {"keep_partial": False}
            plan.keep_partial = False
        elif refinement == "yields":
            doc["yields"] = plan.yields = "token"
        elif refinement == "key":
            key = draw(st.sampled_from(["message", "type", "error", "ü"]))
            doc["server"] = {"error_event": {"type": "error"}, "error_message_key": key}
            if key == "type":
                ctx.malformed.append("error_message_key 'type', a tag of the error event")
            plan.error_message_key = key
    if "completion" not in declared:
        declared["completion"] = dict(_COMPLETION)
        fields.taken.add("completion")
    if preset == "openai-sse":
        declared.setdefault("finish_reason", dict(_FINISH_REASON))
        declared.setdefault("usage", dict(_USAGE))
    return plan, doc


# ---------------------------------------------------------------------------------------------
# Synapses and files


REQUIRED_FIELDS: tuple[Schema, ...] = (
    {"type": "string"}, {"type": "integer"}, {"type": "number", "minimum": 0},
    {"type": "boolean"}, {"type": "object"}, {"type": "array", "items": {"type": "string"}},
    {"type": "object", "additionalProperties": {"type": "integer"}},
)  # fmt: skip
"""Required request fields bittensor can send (an empty placeholder of their type is valid)."""


def _request(
    draw: st.DrawFn, ctx: _Context, taken: set[str]
) -> tuple[dict[str, Schema], dict[str, Json]]:
    """Request fields (mostly with defaults) and the values to build the synapse with.

    A ``header: true`` field always gets a value, seldom an empty one (the headers must carry
    it, not an empty placeholder). When the file imports classes of the user's package, often
    one more field is typed with one of them.
    """
    names = _name(FIELD_NAMES, ctx.hostile).filter(lambda n: n not in taken)
    request: dict[str, Schema] = {}
    values: dict[str, Json] = {}
    imported = [name for name, schema in ctx.defs.items() if "import" in schema]
    count = draw(st.integers(0, 3))
    for index in range(count + (bool(imported) and draw(st.booleans()))):
        name = draw(names)
        taken.add(name)
        required = draw(st.integers(0, 4)) >= 3 and index < count
        header = draw(st.integers(0, 2)) == 0  # the request headers carry the value too
        # mostly what bittensor can send (SG305)
        if index == count:  # the field typed with a user's class (not required: SG305)
            schema = {"$ref": f"#/$defs/{draw(st.sampled_from(imported))}"}
        elif required and draw(st.sampled_from([True, True, True, False])):
            schema = draw(st.sampled_from(REQUIRED_FIELDS))
            schema = _described(draw, json.loads(json.dumps(schema)))
        else:
            schema = schemas(draw, ctx)
        if not required:
            schema = _with_default(draw, schema, ctx)
            if header or draw(st.booleans()):
                values[name] = _rich_sample(draw, schema, ctx.defs)
        else:
            values[name] = _rich_sample(draw, schema, ctx.defs)
        if draw(st.integers(0, 3)) == 0:
            schema["hash"] = True
        if draw(st.integers(0, 5)) == 0:
            schema["frozen"] = True
        if header:
            schema["header"] = True
        request[name] = schema
    return request, values


def _rich_sample(draw: st.DrawFn, schema: Schema, defs: dict[str, Schema]) -> Json:
    """A valid value for ``schema``, seldom an empty one ("", 0, false, [], {} or null: the
    ones hypothesis likes best, and the ones a placeholder would carry too)."""
    value = sample(draw, schema, defs, 1)
    for _ in range(3):
        if value not in ("", [], {}, None) and value is not False and value != 0:
            break
        value = sample(draw, schema, defs, 1)
    return value


def _plain_synapse(
    draw: st.DrawFn, ctx: _Context, module: str, name: str
) -> tuple[SynapsePlan, dict[str, Any]]:
    """A synapse without ``stream``: response fields the miner sets with ``respond()``."""
    taken: set[str] = set()
    request, values = _request(draw, ctx, taken)
    fields = _Fields(ctx, _name(FIELD_NAMES, ctx.hostile), taken=set(taken))
    for _ in range(draw(st.integers(0, 3))):
        fields.new(draw, _with_default(draw, schemas(draw, ctx), ctx))
    synapse_doc: dict[str, Any] = {"request": request, "response": fields.response}
    respond = {
        field: sample(draw, schema, ctx.defs, 1)
        for field, schema in fields.response.items()
        if draw(st.booleans())
    }
    deserialize: Any = "synapse"
    everything = [*request, *fields.response]
    if everything and draw(st.booleans()):
        deserialize = {"field": draw(st.sampled_from(everything))}
        synapse_doc["deserialize"] = deserialize
    synapse = SynapsePlan(module=module, name=name, request=request, response=fields.response,
                          request_values=values, stream=None, defs=ctx.defs,
                          respond_values=respond, deserialize=deserialize)  # fmt: skip
    return synapse, synapse_doc


def synapse_plans(
    draw: st.DrawFn, ctx: _Context, module: str, name: str
) -> tuple[SynapsePlan, dict[str, Any]]:
    """One synapse: its document and its plan."""
    if draw(st.integers(0, 5)) == 0:
        return _plain_synapse(draw, ctx, module, name)
    taken: set[str] = set()
    request, values = _request(draw, ctx, taken)
    names = _name(FIELD_NAMES, ctx.hostile)
    fields = _Fields(ctx, names, taken=set(taken))
    kind = draw(st.sampled_from(["json", "preset", "text", "json"]))
    token: Schema | None = None
    if kind == "preset":
        plan, stream_doc = _preset_stream(draw, ctx, fields)
    else:
        if kind == "text":
            plan = _text_stream(draw, ctx, fields)
        else:
            plan, token = _json_stream(draw, ctx, fields)
            if _typed_token(draw, ctx, plan) is not None:
                token = {"$ref": f"#/$defs/{plan.token_model}"}
        _finish_stream(draw, plan, fields, ctx)
        stream_doc = _stream_document(plan, token, draw)
        if ctx.hostile and plan.payload == "json" and draw(st.integers(0, 5)) == 0:
            rule = draw(st.sampled_from(stream_doc["rules"]))
            if rule["op"] != "set":
                rule["path"] = draw(st.sampled_from(BAD_PATHS))
                ctx.malformed.append(f"rule path {rule['path']!r}")
        if ctx.hostile and plan.end_event is not None and draw(st.integers(0, 5)) == 0:
            stream_doc["end"]["event"] = plan.end_event = {}
            ctx.malformed.append("end.event {} (every token would be the final one)")
    extra = 0 if stream_doc.get("format") == "ndjson-events" else draw(st.integers(0, 2))
    for _ in range(extra):  # response fields no rule writes (ndjson-events would `set` them)
        fields.new(draw, _with_default(draw, schemas(draw, ctx), ctx))
    response = fields.response
    synapse_doc: dict[str, Any] = {}
    if draw(st.booleans()):
        synapse_doc["description"] = draw(texts())
    if bool(request) or draw(st.booleans()):
        synapse_doc["request"] = request
    # A preset adds its fields itself unless they are declared; leave them out now and then.
    written = dict(response)
    if kind == "preset" and draw(st.booleans()):
        added = {"completion": _COMPLETION, "finish_reason": _FINISH_REASON, "usage": _USAGE}
        for field_name, schema in added.items():
            if written.get(field_name) == schema:
                del written[field_name]
    if bool(written) or draw(st.booleans()):
        synapse_doc["response"] = written
    synapse_doc["stream"] = stream_doc
    parse_value = None
    if isinstance(plan.deserialize, dict) and "parse" in plan.deserialize:
        model = ctx.defs[plan.deserialize["model"].rsplit("/", 1)[-1]]
        parse_value = sample(draw, model, ctx.defs, 1)
        text = json.dumps(parse_value, ensure_ascii=draw(st.booleans()))
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=4)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        parsed = next(
            r for r in plan.rules if r.op == "concat" and r.field == plan.deserialize["parse"]
        )
        parsed.slots[0].pieces = [p for p in pieces if p]
    synapse = SynapsePlan(module=module, name=name, request=request, response=response,
                          request_values=values, stream=plan, defs=ctx.defs,
                          parse_value=parse_value)  # fmt: skip
    return synapse, synapse_doc


class _Dumper(yaml.SafeDumper):
    """PyYAML writes YAML 1.1; quote the strings YAML 1.2 would read as something else."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    """Double-quote strings YAML 1.2 would read as numbers, booleans or null."""
    looks_typed = text[:1] in tuple("0123456789+-.") or text.lower() in (
        "null", "true", "false", "~", "yes", "no", "on", "off", "y", "n",
    )  # fmt: skip
    style = '"' if looks_typed else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(document: dict[str, Any], extension: str) -> str:
    """The document as a JSON or YAML file."""
    document = json.loads(json.dumps(document))  # no shared nodes (YAML would write aliases)
    if extension == ".json":
        return json.dumps(document, indent=1, ensure_ascii=False)
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=60)


@st.composite
def files(
    draw: st.DrawFn, module: str, used_synapses: set[str], hostile: bool, user: UserPackage
) -> tuple[dict[str, Any], list[SynapsePlan], list[str]]:
    """One schema file: 1-3 synapses and some $defs (and what in it is malformed on purpose);
    the classes its ``import`` entries name are written into ``user``."""
    ctx = _Context(hostile=hostile, user=user)
    ctx.def_names = draw(st.lists(_name(DEF_NAMES, hostile), max_size=3, unique=True))
    for name in ctx.def_names:  # refs may point at names whose schema comes later
        ctx.defs[name] = {}
    for name in ctx.def_names:
        ctx.defs[name] = _def_schema(draw, ctx, name)
    if not hostile:  # a list alias of an alias may be a cycle with no model in it (SG309)
        for schema in ctx.defs.values():
            ref = schema.get("items", {}).get("$ref") if schema.get("type") == "array" else None
            if ref is not None and not ctx.defs[ref.rsplit("/", 1)[-1]].get("properties"):
                schema["items"] = {"type": "string"}
    document: dict[str, Any] = {"version": 1}
    if draw(st.booleans()):
        document["description"] = draw(texts())
    synapse_names = draw(
        st.lists(
            _name(SYNAPSE_NAMES, hostile).filter(lambda n: n not in used_synapses),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    used_synapses.update(synapse_names)
    ctx.synapse_names = synapse_names
    plans = []
    document["synapses"] = {}
    for name in synapse_names:
        plan, synapse_doc = synapse_plans(draw, ctx, module, name)
        plans.append(plan)
        document["synapses"][name] = synapse_doc
    if ctx.defs:
        document["$defs"] = ctx.defs
    return document, plans, ctx.malformed


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """One to three schema files (mostly one), their text and their plans."""
    hostile = draw(st.integers(0, 9)) < 3
    count = draw(st.sampled_from([1, 1, 1, 2, 3]))
    modules = draw(
        st.lists(_name(MODULE_NAMES, hostile), min_size=count,
                 max_size=count, unique=True)
    )  # fmt: skip
    used: set[str] = set()
    texts_by_name: dict[str, str] = {}
    plans: list[SynapsePlan] = []
    malformed: list[str] = []
    user = UserPackage(f"{USER_PACKAGE_PREFIX}{next(_USER_PACKAGE_NUMBERS)}")
    for module in modules:
        extension = draw(st.sampled_from(EXTENSIONS))
        document, file_plans, bad = draw(files(module.replace("-", "_"), used, hostile, user))
        texts_by_name[module + extension] = _dump(document, extension)
        plans.extend(file_plans)
        malformed.extend(f"{module + extension}: {what}" for what in bad)
    return Case(files=texts_by_name, synapses=plans, hostile=hostile, malformed=malformed,
                user_files=user.files())  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Tokens


def _set_at(
    token: dict[str, Json], path: tuple[Step, ...], value: Json, filler: Callable[[], Json]
) -> bool:
    """Write ``value`` at ``path`` in ``token`` (building dicts and lists); False on a clash."""
    node: Any = token
    for index, step in enumerate(path):
        last = index == len(path) - 1
        following = None if last else path[index + 1]
        fresh: Json = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not isinstance(node, list):
                return False
            while len(node) <= step:
                node.append(filler())
            if last:
                node[step] = value
            elif not isinstance(node[step], (dict, list)) or type(node[step]) is not type(fresh):
                node[step] = fresh
        else:
            if not isinstance(node, dict):
                return False
            if last:
                if step in node:
                    return False
                node[step] = value
            elif step not in node:
                node[step] = fresh
            elif type(node[step]) is not type(fresh):
                return False
        if not last:
            node = node[step]
    return True


def _json_delimiters(hostile: bool) -> st.SearchStrategy[str]:
    """Delimiters for JSON lines: control characters only (others occur inside JSON tokens,
    SG407), any of them now and then in hostile files."""
    control = [d for d in DELIMITERS if all(ord(char) < 0x20 for char in d)]
    return st.sampled_from(list(DELIMITERS) if hostile else control)


def _sentinels(hostile: bool) -> st.SearchStrategy[str]:
    """SSE sentinels: none with a line break (an SSE data line cannot hold one: SG407) but
    now and then in hostile files."""
    return st.sampled_from([s for s in SENTINELS if hostile or not {"\r", "\n"} & set(s)])


def _text_ok(plan: StreamPlan, text: str) -> bool:
    """Whether the framing can carry this text token unchanged (the encoders refuse the rest)."""
    if plan.framing == "lines":
        data = text.encode()
        delimiter = plan.delimiter.encode()
        return (
            bool(data)
            and (data + delimiter).find(delimiter) == len(data)
            and not (delimiter == b"\n" and data.endswith(b"\r"))
        )
    if plan.framing == "sse":
        return "\r" not in text and text != plan.sentinel
    return True


def matches(tags: dict[str, Json] | None, token: Json) -> bool:
    """JSON equality of the top-level values named by ``tags`` (the language's `when`)."""
    if tags is None or not isinstance(token, dict):
        return False
    for key, expected in tags.items():
        if key not in token:
            return False
        got = token[key]
        if expected is None or isinstance(expected, bool):
            if got is not expected:
                return False
        elif isinstance(expected, (int, float)):
            if isinstance(got, bool) or not isinstance(got, (int, float)) or got != expected:
                return False
        elif got != expected:
            return False
    return True


@st.composite
def token_lists(draw: st.DrawFn, synapse: SynapsePlan) -> list[Json]:
    """Tokens for a stream: values valid where the rules read, tags that select rules.

    Tokens never match the error event (the server sends that itself), and text tokens are
    ones the framing can carry. A token may match the final event (``end: {signal: event}``):
    it is then the miner's own final event, which ends the stream; often one is put in on
    purpose, with data for the rules whose ``when`` it matches, followed by tokens that must
    not be sent.
    """
    plan = synapse.stream
    assert plan is not None, "a plain synapse has no tokens"
    pieces = {id(s): list(s.pieces) for r in plan.rules for s in r.slots if s.pieces is not None}
    count = draw(st.integers(0, 5))
    tokens: list[Json] = []
    if plan.text_payload:
        for pending in pieces.values():
            return [p for p in pending if _text_ok(plan, p)]
        for _ in range(count):
            text = draw(texts())
            if _text_ok(plan, text):
                tokens.append(text)
        return tokens
    if plan.end_event == {} or plan.error_event == {}:
        return []  # every token would be the final or the error event
    tag_sets = [r.when for r in plan.rules if r.when is not None] + [{}]
    for _ in range(50):
        if count <= 0 and not any(pieces.values()):
            break
        count -= 1
        token: Any
        if plan.shape == "string":
            queued = next((p for p in pieces.values() if p), None)
            token = queued.pop(0) if queued else draw(texts())
        elif plan.shape == "array":
            token = [draw(texts()) for _ in range(draw(st.integers(0, 3)))]
        else:
            token = _object_token(draw, synapse, tag_sets, pieces)
        if matches(plan.error_event, token):
            continue
        compact = json.dumps(token, ensure_ascii=False, separators=(",", ":"))
        if plan.framing == "sse" and compact == plan.sentinel:
            continue
        tokens.append(token)
    if (
        plan.end_event
        and plan.shape == "object"
        and draw(st.sampled_from([True, True, True, False]))
    ):
        final = _object_token(draw, synapse, _final_tag_sets(plan), pieces)
        if not matches(plan.error_event, final):
            tokens.insert(draw(st.integers(0, len(tokens))), final)
    model = synapse.defs.get(plan.token_model or "", {})
    closed = model.get("additionalProperties") is False
    if closed and draw(st.integers(0, 3)) == 0:
        bad = _object_token(draw, synapse, tag_sets, {})  # (leaves `parse` pieces alone)
        bad[UNDECLARED_KEY] = draw(texts(max_size=3))
        if not matches(plan.error_event, bad):
            tokens.insert(draw(st.integers(0, len(tokens))), bad)
    return tokens


UNDECLARED_KEY = "sg_undeclared"
"""A key no token model declares: a token carrying it is not a closed model (a stream error)."""


def _final_tag_sets(plan: StreamPlan) -> list[dict[str, Json]]:
    """Tags of a miner's own final event: the final event's, with a rule's ``when`` merged in
    where the two agree (that rule then reads data from the final event)."""
    assert plan.end_event is not None
    found = [dict(plan.end_event)]
    for rule in plan.rules:
        if rule.when is not None:
            merged = {**rule.when, **plan.end_event}
            if matches(rule.when, merged) and merged not in found:
                found.append(merged)
    return found


def _object_token(
    draw: st.DrawFn,
    synapse: SynapsePlan,
    tag_sets: list[dict[str, Json]],
    pieces: dict[int, list[str]],
) -> dict[str, Json]:
    """One JSON object token: tags, then a valid value, null or nothing at each rule's path."""
    plan = synapse.stream
    assert plan is not None, "a plain synapse has no tokens"
    token: dict[str, Json] = dict(draw(st.sampled_from(tag_sets)))
    for rule in plan.rules:
        if rule.when is not None and not matches(rule.when, token):
            continue
        for slot in rule.slots:
            if slot.path is None:
                continue
            if id(slot) in pieces:
                if pieces[id(slot)]:
                    _set_at(token, slot.path, pieces[id(slot)].pop(0), lambda: None)
                continue
            choice = draw(st.sampled_from(["value", "value", "value", "absent", "null"]))
            if choice == "absent":
                continue
            value = None if choice == "null" else sample(draw, slot.value, synapse.defs, 1)
            if slot.key is not None and isinstance(value, dict):
                _set_key(value, slot.key, draw(texts(max_size=4)))
            _set_at(token, slot.path, value, lambda: None)
            if slot.group is not None and value is not None:
                _set_at(token, slot.group, draw(st.sampled_from(GROUP_KEYS)), lambda: None)
    return token


GROUP_KEYS = ("user", "web", "ü", "")
"""The group keys tokens carry: few, so that groups fill up with several values."""


def _set_key(value: dict[str, Json], key: tuple[Step, ...], text: str) -> None:
    """Put ``text`` at the key path of a ``put`` value."""
    node: Any = value
    for step in key[:-1]:
        node = node.setdefault(step, {}) if isinstance(node, dict) else node
    if isinstance(node, dict):
        node[key[-1]] = text
