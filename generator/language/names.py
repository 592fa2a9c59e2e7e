"""Which schema names may become Python names, and what the generated module calls things.

Every name from a schema that reaches generated Python (synapse classes, ``$defs`` models, fields,
properties of models) is checked here; every other string is emitted as a Python literal by the
back end, so no schema string can inject code.
"""

from __future__ import annotations

import builtins
import keyword
import re

from pydantic import BaseModel

from .. import runtime

# Soft keywords (match, case, type, _) are fine as names: Python reads them as keywords only in
# their own statements, and `type` is the most common JSON key.

SYNAPSE_BASE_FIELDS = frozenset(
    {"name", "timeout", "total_size", "header_size", "dendrite", "axon", "computed_body_hash",
     "required_hash_fields", "body_hash"}
)  # fmt: skip
"""Attributes of bittensor's ``Synapse``: its fields, the class variable and the property.

Written out rather than read from ``synapsegen.runtime.Synapse``: loading the runtime's models
loads starlette and asyncio (~90 ms of a cold generate); ``test_module_names.py`` checks the
two agree."""

RUNTIME_METHODS = frozenset(
    {
        "to_headers",
        "from_headers",
        "parse_headers_to_inputs",
        "deserialize",
        "get_required_fields",
        "get_total_size",
        "is_success",
        "is_failure",
        "is_timeout",
        "is_blacklist",
        "failed_verification",
        "process_streaming_response",
        "extract_response_json",
        "create_streaming_response",
        "stream_complete",
        "stream_response",
        "respond",  # generated on plain synapses
        "header_fields",  # generated with `header: true` fields
        "request_fields",  # generated: the request section's fields (the HTTP wire's body)
        "stream_media",  # generated on streaming classes: the body's media type, item schema
        "schema_hash",  # generated: the digest of the wire-relevant definition (the manifest's)
    }
)
"""Methods and properties of the runtime ``Synapse``/``StreamingSynapse`` classes, and the ones
the generated classes add."""

BASE_MODEL_ATTRIBUTES = frozenset(name for name in dir(BaseModel) if not name.startswith("_"))
"""Public attributes of pydantic's BaseModel (``copy``, ``json``, ``model_dump``, ...)."""

TEMPLATE_IMPORTS = frozenset(
    {
        "AsyncIterable", "AsyncIterator",  # collections.abc
        "Annotated", "Any", "ClassVar", "Literal", "TypeAlias",  # typing
        "Self", "TypeAliasType",  # typing_extensions
        "BaseModel", "ConfigDict", "Field", "PrivateAttr",  # pydantic
        "ClientResponse",  # aiohttp
        "StreamingSynapse",  # bittensor (--runtime bittensor)
    }
)  # fmt: skip
"""Names the templates import into a generated module besides the runtime's (a fixed superset:
the pinned ruff drops what a module does not use; ``test_module_names.py`` keeps this in step)."""

RUNTIME_EXPORTS = frozenset(runtime.__all__)
"""Everything ``synapsegen.runtime`` exports (any of it may be imported by a template)."""

MODULE_NAMES = TEMPLATE_IMPORTS | RUNTIME_EXPORTS | frozenset(
    {
        # Modules a generated module might import whole, kept out of class names for safety.
        "aiohttp", "annotations", "bittensor", "collections", "json", "pydantic", "re",
        "runtime", "synapsegen", "typing", "typing_extensions",
        # Other typing/pydantic names a template change could plausibly import.
        "AsyncGenerator", "Callable", "Dict", "Enum", "Iterator", "List", "Optional",
        "RootModel", "Tuple", "Union", "computed_field", "field_validator", "model_validator",
    }
)  # fmt: skip
"""Module-level names of a generated module that a model class must not shadow (SG207).

``tests/generator/test_module_names.py`` checks that every name any golden module imports is here.
"""

STREAM_LOCALS = frozenset(
    {
        "self", "response", "decoder", "body", "chunk", "frames", "frame", "text", "data",
        "event", "value", "node", "key", "parts", "typed", "complete", "frame_batches",
        "isinstance", "type", "str", "list", "dict", "len", "anext", "bool", "int", "float",
    }
)  # fmt: skip
"""Locals of a generated ``process_streaming_response`` and builtins it calls. Accumulators and
tag reads avoid them; a typed token's model, which the method names, must not be one (SG207)."""

BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))

CLASS_BODY_BUILTINS = frozenset(
    {"bool", "bytes", "dict", "float", "int", "list", "object", "property", "set", "str", "tuple"}
)
"""Builtins a generated synapse class body evaluates (annotations, ``@property``).

A field of that name is assigned in the class namespace, so every later annotation or decorator
in the class body would read the field's default instead of the builtin (``bool: bool = False``
makes pydantic fail; ``property: str = ""`` breaks ``@property``). Other builtins (``id``,
``input``, ``format``, ...) are only used inside methods, which do not see the class namespace.
"""

_CAP_WORDS = re.compile(r"[A-Z][A-Za-z0-9]*")

# Codes (explained in synapsegen.codes).
NOT_IDENTIFIER = "SG201"
KEYWORD = "SG202"
RESERVED = "SG203"
PRIVATE = "SG204"
NOT_CAP_WORDS = "SG206"
SHADOWS = "SG207"

Problem = tuple[str, str]
"""A diagnostic code and the end of a sentence that starts with the name."""


def identifier_problem(name: str) -> Problem | None:
    """Why ``name`` cannot be a Python name at all (None when it can)."""
    if not name.isidentifier() or not name.isascii():
        return NOT_IDENTIFIER, (
            "is not a valid Python identifier (ASCII letters, digits and _, not first a digit)"
        )
    if keyword.iskeyword(name):
        return KEYWORD, "is a Python keyword"
    if name.startswith("_"):
        return PRIVATE, "starts with '_' (pydantic treats such names as private, not as fields)"
    return None


def synapse_field_problem(name: str) -> Problem | None:
    """Why ``name`` cannot be a field of a generated synapse class (None when it can)."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if name in SYNAPSE_BASE_FIELDS:
        return RESERVED, "is reserved: bittensor's Synapse already has this field"
    if name in RUNTIME_METHODS:
        return RESERVED, "is reserved: it is a method of the Synapse/StreamingSynapse classes"
    if name == "self":
        return RESERVED, "is reserved: the generated methods take the synapse as `self`"
    return model_field_problem(name) or _shadow_problem(
        name, "the generated class body", "the field instead; rename the field"
    )


def model_field_problem(name: str) -> Problem | None:
    """Why ``name`` cannot be a field of a generated pydantic model (None when it can)."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if name.startswith("model_"):
        return RESERVED, "is reserved: pydantic keeps the 'model_' prefix for its own methods"
    if name in BASE_MODEL_ATTRIBUTES:
        return RESERVED, "is reserved: it is an attribute of pydantic's BaseModel"
    return None


def model_property_problem(name: str) -> Problem | None:
    """Why ``name`` cannot be a property of a generated nested model (None when it can).

    Like a synapse field, a property is assigned in its class body (``str: str = ""``), so one
    named like a builtin or an import the body uses would be read by later annotations.
    """
    return model_field_problem(name) or _shadow_problem(
        name, "the generated model's class body", "the property instead; rename it"
    )


def property_attribute(key: str) -> str:
    """The Python attribute of a model property: ``key`` itself when it can be one, else a name
    made from it (``from`` -> ``from_``, ``content-type`` -> ``content_type``) that carries
    ``key`` as its alias, so the JSON on the wire keeps ``key``."""
    if model_property_problem(key) is None:
        return key
    name = re.sub(r"[^0-9A-Za-z_]", "_", key).strip("_") or "field"
    if name[0].isdigit() or name.startswith("model_"):
        name = f"field_{name}"
    while model_property_problem(name) is not None:  # a keyword, builtin or import: add "_"
        name += "_"
    return name


def _shadow_problem(name: str, body: str, instead: str) -> Problem | None:
    """A name a class body assigns that later annotations in the body would read (SG207)."""
    if name in MODULE_NAMES or name in CLASS_BODY_BUILTINS:
        return SHADOWS, (
            f"would shadow a name {body} uses (a builtin or an import): later annotations "
            f"would read {instead}"
        )
    return None


def class_name_problem(name: str, *, cap_words: bool) -> Problem | None:
    """Why ``name`` cannot name a generated class (None when it can)."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if cap_words and not _CAP_WORDS.fullmatch(name):
        return NOT_CAP_WORDS, (
            "is not in CapWords (e.g. ChatCompletion): synapse names are class names"
        )
    if name in MODULE_NAMES:
        return SHADOWS, "is a name the generated module imports"
    if name in BUILTIN_NAMES:
        return SHADOWS, "would shadow the Python builtin of that name"
    return None


def camel_case(name: str) -> str:
    """The class name the back end gives an inline model found under key ``name``.

    ``search_result`` -> ``SearchResult``, ``links`` -> ``Links``; characters that cannot be in
    an identifier separate words, and a leading digit gets a ``Model`` prefix.
    """
    words = [w for w in re.split(r"[^0-9A-Za-z]+|_", name) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    return f"Model{text}" if text[0].isdigit() else text


_NAMELESS_STEPS = {"items": "Item", "additionalProperties": "Value"}
_SECTIONS = ("request", "response")


def inline_model_name(owner: str, steps: tuple[str | int, ...]) -> str:
    """The class name of an inline ``type: object`` schema with ``properties``.

    ``owner`` is the synapse or ``$defs`` name; ``steps`` is the path from the owner to the schema,
    e.g. ``("response", "usage")`` -> ``OpenAIChatUsage``, ``("request", "messages", "items")``
    -> ``OpenAIChatMessagesItem``. ``request``/``response``/``properties`` add nothing,
    ``items`` adds ``Item``, ``additionalProperties`` adds ``Value``, ``anyOf``/``oneOf`` member
    ``i`` adds ``Option<i+1>``; any other key adds its CamelCase form.
    """
    name = owner
    previous: str | int | None = None
    for index, step in enumerate(steps):
        # A field or property name: the step after `properties`, or after the section a synapse
        # path starts with (so fields named `response` or `items` still add their own name).
        is_name = previous == "properties" or (index == 1 and previous in _SECTIONS)
        if isinstance(step, int):
            name += f"Option{step + 1}" if previous in ("anyOf", "oneOf") else str(step)
        elif is_name:
            name += camel_case(step)
        elif (index == 0 and step in _SECTIONS) or step in ("properties", "anyOf", "oneOf"):
            pass
        elif step in _NAMELESS_STEPS:
            name += _NAMELESS_STEPS[step]
        else:
            name += camel_case(step)
        previous = step
    return name
