"""The diagnostic codes: every code the generator and ``synapsegen diff`` print, explained.

A diagnostic reads ``path:line:col: CODE message``. The codes are stable. :data:`CODES` holds,
for each one, what it reports (``meaning``), why the rule exists (``why``: what would go wrong in
the generated code or on the wire without it), how to fix it (``fix``), and, where it helps, an
example: a whole schema file that gets the code and the same file fixed
(``tests/generator/test_codes.py`` runs both through the front end).

- SG0xx (reading the file), SG1xx (structure), SG2xx (names), SG3xx (fields, types, defaults)
  and SG4xx (streams and rules) are errors: :mod:`synapsegen.language.load` and
  :func:`synapsegen.language.validate.validate` report them, and nothing is generated.
- SG5xx are warnings: printed as ``CODE warning: message``; the file still generates.
- SG6xx are not errors: they are the findings of ``synapsegen diff`` (:mod:`synapsegen.diff`),
  which compares two versions of the schemas, each with a category (compatible, breaking for
  old miners, for old validators or both, signature-breaking, stream-breaking; see
  docs/protocol-changes.md).
- SG9xx are about the set of files and come from :mod:`synapsegen.pipeline`; they are reported at
  line 1, column 1 of the file named.

``synapsegen explain CODE`` prints an entry (:mod:`synapsegen.explain`); the docs site's error-code
page is made from this module (tools/mkdocs_hooks.py). The modules that report a code keep their
own named constant for it (``WRONG_TYPE = "SG103"``); the tests keep the two in step. Text here
uses Markdown's inline code (`` `key` ``), which reads well in a terminal too.

Importing this module loads nothing but the standard library's ``dataclasses`` and ``types``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

__all__ = ["CODES", "SERIES", "CodeEntry", "Example", "Kind"]

Kind = Literal["error", "warning", "finding"]
"""An error stops generation; a warning is printed and the file still generates; a finding is
what ``synapsegen diff`` reports about a change between two versions."""


@dataclass(frozen=True)
class Example:
    """A whole schema file (YAML) that gets the code, and the same file with the fix."""

    wrong: str
    right: str


@dataclass(frozen=True)
class CodeEntry:
    """One diagnostic code, explained.

    Texts are prose: paragraphs separated by a blank line, each on one line (wrap them to show
    them). ``title`` is a few words; ``meaning`` what the code reports.
    """

    code: str
    kind: Kind
    title: str
    meaning: str
    why: str
    fix: str
    example: Example | None = None


SERIES = MappingProxyType(
    {
        "0": "Reading the file",
        "1": "Structure: keys, types and values",
        "2": "Names",
        "3": "Fields, types and defaults",
        "4": "Streams and rules",
        "5": "Warnings (the file still generates)",
        "6": "Protocol changes (findings of synapsegen diff)",
        "9": "The set of files",
    }
)
"""The title of each series of codes, by the code's first digit (SG2xx: ``"2"``)."""


def _prose(text: str) -> str:
    """Indented, wrapped source text as paragraphs: each on one line, blank lines between."""
    paragraphs = text.strip().split("\n\n")
    return "\n\n".join(" ".join(paragraph.split()) for paragraph in paragraphs)


def _schema(text: str) -> str:
    """An indented YAML file in the source, dedented, with one final line break."""
    lines = text.splitlines()
    while not lines[0].strip():
        del lines[0]
    while not lines[-1].strip():
        del lines[-1]
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:].rstrip() for line in lines) + "\n"


def _entry(
    code: str,
    kind: Kind,
    title: str,
    *,
    meaning: str,
    why: str,
    fix: str,
    wrong: str = "",
    right: str = "",
) -> CodeEntry:
    example = Example(_schema(wrong), _schema(right)) if wrong else None
    return CodeEntry(code, kind, title, _prose(meaning), _prose(why), _prose(fix), example)


# Wrong/right pairs below are whole schema files: tests/generator/test_codes.py checks that the
# wrong one gets its code (and no other error) and the right one validates.

_ENTRIES = (
    # ---- SG0xx: reading the file ---------------------------------------------------------------
    _entry(
        "SG001", "error", "File cannot be read",
        meaning="The file cannot be read.",
        why="""
            The output folder is generated from all schemas at once, and a generated module
            whose schema is gone is removed as stale. Skipping a file that cannot be read (no
            permission, or removed while synapsegen ran) would delete its module, and its
            synapses from the package `__init__.py`, instead of saying why.
        """,
        fix="""
            Check the path and its permissions; the message carries the operating system's
            reason.
        """,
    ),
    _entry(
        "SG002", "error", "Not UTF-8",
        meaning="The file is not valid UTF-8.",
        why="""
            Schema text ends up in generated Python source (docstrings, literals) and on the
            wire as JSON, both UTF-8. Guessing another encoding (Python's default depends on the
            machine's locale) would turn the bytes into other characters than the author wrote,
            and the same file could generate different code on different machines.
        """,
        fix="""
            Save the file as UTF-8 (the message gives the offset of the first bad byte). A
            Latin-1 `é` is the usual culprit.
        """,
    ),
    _entry(
        "SG003", "error", "Syntax error",
        meaning="YAML or JSON syntax error (JSON errors carry json's own line and column).",
        why="""
            A file that does not parse has no meaning to generate from. The common YAML
            mistakes are named in plain words at the character to change, with a hint; any
            other error keeps the parser's words and points where the parser gave up, which is
            often just after the real mistake.
        """,
        fix="""
            Follow the hint when there is one. Without one, look at the line given and the one
            before it: an unclosed bracket or quote, a tab used for indentation, a missing `:`
            or the space after it. Inside flow mappings (`{...}`) every opening brace needs its
            closing one.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG004", "error", "Duplicate key",
        meaning="Duplicate key in a mapping (reported at the second key).",
        why="""
            YAML parsers such as PyYAML, and Python's `json`, keep the last of two equal keys
            without a word: the first definition (a field, a whole synapse) would silently
            vanish from the generated code. Other tools may keep the first, so two readers of
            one file would disagree.
        """,
        fix="""
            Rename or merge the two entries; the message names the line of the first one.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                  prompt: {type: string, default: "hello"}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                  greeting: {type: string, default: "hello"}
        """,
    ),
    _entry(
        "SG005", "error", "Unsupported YAML",
        meaning="""
            Unsupported YAML: tags other than the core ones, non-string keys, recursive aliases,
            documents nested too deeply or too large.
        """,
        why="""
            A schema is JSON data written as YAML. Other tags (`!!python/object`, `!!binary`)
            have no JSON value, and some YAML loaders run code for them; keys must be strings
            because they become JSON keys and Python names; a recursive alias has no finite
            value, and aliases can expand a small file into millions of nodes (more than 100000
            are refused, as is nesting deeper than 64).
        """,
        fix="""
            Write the value as plain YAML (a string, number, list or mapping), quote keys that
            YAML would read as numbers or booleans (`"1": ...`), and spell repeated parts out
            instead of recursive aliases.
        """,
        wrong="""
            version: 1
            description: !!binary aGVsbG8=
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            description: hello
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG006", "error", "Unknown file extension",
        meaning="Unknown file extension (use `.yaml`, `.yml` or `.json`).",
        why="""
            The extension chooses the parser (JSON's strict one or YAML's), and a folder
            contributes only its `*.yaml`, `*.yml` and `*.json` files: a schema under another
            name would be read one way when named and skipped when its folder is given.
        """,
        fix="Rename the file to `.yaml`, `.yml` or `.json`.",
    ),
    _entry(
        "SG007", "error", "Value JSON cannot carry",
        meaning="""
            A value JSON cannot carry: a non-finite number (`.inf`, `.nan`, `1e999`) or a string
            with a lone surrogate (`"\\ud800"` in JSON).
        """,
        why="""
            Generated code holds schema values as Python literals and sends them as JSON. JSON
            has no infinity or NaN (Python's `json` writes a non-standard `Infinity` other
            parsers refuse) and Python has no literal for them; a lone surrogate cannot be
            encoded as UTF-8, so writing the module or sending the value would fail.
        """,
        fix="""
            Leave an unbounded side out (no `maximum` instead of `maximum: .inf`), use a finite
            number, and write characters outside the Basic Multilingual Plane as one escape pair
            (`"\\ud83d\\ude00"`) or as the character itself.
        """,
        wrong="""
            version: 1
            synapses:
              Score:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  score: {type: number, minimum: 0, maximum: .inf, default: 0}
        """,
        right="""
            version: 1
            synapses:
              Score:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  score: {type: number, minimum: 0, default: 0}
        """,
    ),
    # ---- SG1xx: structure ----------------------------------------------------------------------
    _entry(
        "SG101", "error", "Unknown key",
        meaning='Unknown key (with a "did you mean" suggestion).',
        why="""
            A key synapsegen does not know would otherwise be ignored: `respones:` would leave
            the synapse without response fields, `minimun:` without its bound, and the
            generated code would quietly differ from what the file seems to say.
        """,
        fix="Use the key the message suggests, or remove the key.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                respones:
                  answer: {type: string, default: ""}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
        """,
    ),
    _entry(
        "SG102", "error", "Missing required key",
        meaning="Missing required key (reported at the mapping that lacks it).",
        why="""
            Some keys have no sensible default: `version` says which language the file is
            written in, `synapses` what to generate, a rule's `op` what the rule does. Guessing
            them would generate code the author did not ask for.
        """,
        fix="Add the key the message names, in the mapping it points at.",
        wrong="""
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG103", "error", "Wrong type of value",
        meaning="Wrong type of value (e.g. a list where a string is expected).",
        why="""
            Values are read strictly, without conversions: a quoted `"30"` is a string, not a
            number, and YAML 1.2's `yes` is a string, not a boolean. Converting would make the
            file mean something other than what is written, and JSON readers of the same file
            would disagree with synapsegen.
        """,
        fix="""
            Write the value with the type the message expects: unquoted numbers, `true`/`false`
            for booleans, a mapping (`key: value` lines or `{...}`) where one is expected.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                timeout: "30"
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                timeout: 30
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG104", "error", "Value not allowed",
        meaning="""
            Value not among the allowed choices (e.g. `framing: ssee`), or unsupported version.
        """,
        why="""
            A choice such as `framing`, `payload`, `op` or a preset `format` selects generated
            code; a misspelled one has no code to select. The `version` says which schema
            language the file is written in: a file of another version may mean other wire
            behaviour than this synapsegen would generate.
        """,
        fix="Use one of the values the message lists (or a synapsegen that reads that version).",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                stream: {format: txt}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                stream: {format: text}
        """,
    ),
    _entry(
        "SG105", "error", "Value out of range",
        meaning="""
            Value out of range or too short/long (e.g. `max_frame_bytes: 0`, empty `synapses`).
        """,
        why="""
            Such values parse but cannot work: a `timeout` of 0 expires every call,
            `max_frame_bytes: 0` refuses every frame, an empty `synapses` generates nothing, and
            an empty set of `when` tags would match every token.
        """,
        fix="Use a value in the range the message gives.",
        wrong="""
            version: 1
            synapses:
              Chat:
                timeout: 0
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                timeout: 2.5
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    # ---- SG2xx: names --------------------------------------------------------------------------
    _entry(
        "SG201", "error", "Not a Python identifier",
        meaning="Name is not a valid Python identifier.",
        why="""
            Synapse names become class names, and synapse fields become attributes of the class
            and the names of bittensor's request headers, so they must be Python names (ASCII
            letters, digits and `_`, not first a digit). Properties of nested models are JSON
            keys and may be anything: they get an attribute made from the key and keep the key
            on the wire.
        """,
        fix="""
            Rename it: `max-tokens` -> `max_tokens`, `2fa` -> `two_factor`. If the name must
            stay as it is on the wire, make it a property of a `$defs` model instead.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  max-tokens: {type: integer, default: 256, hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  max_tokens: {type: integer, default: 256, hash: true}
        """,
    ),
    _entry(
        "SG202", "error", "Python keyword",
        meaning="""
            Name is a Python keyword (`class`, `from`, ...); soft keywords (`match`, `type`) are
            fine.
        """,
        why="""
            The generated class would read `from: str = ""`, a syntax error: the module would
            not import.
        """,
        fix="""
            Rename the field (`from` -> `sender`). A property of a nested model may keep such a
            key: its attribute becomes `from_`, and the JSON keeps `from`.
        """,
        wrong="""
            version: 1
            synapses:
              Mail:
                request:
                  from: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Mail:
                request:
                  sender: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG203", "error", "Reserved name",
        meaning="""
            Name is reserved: a field of bittensor's Synapse, a method of the runtime classes, an
            attribute of pydantic's BaseModel or a `model_*` name.
        """,
        why="""
            A field of that name would replace what the runtime relies on. `name` is the
            synapse's route (`POST /Chat`), `timeout` the call's timeout, `dendrite` and `axon`
            hold the peers' hotkeys, nonce, signature and status, `required_hash_fields` and
            `computed_body_hash` the body hash; `deserialize`, `to_headers`, `respond`,
            `schema_hash` and the other methods are called by the dendrite, the axon and your
            code. pydantic's own attributes (`copy`, `json`, `model_dump`; it keeps the `model_`
            prefix for itself) are what validation and serialization call: pydantic refuses a
            field that hides some of them (`model_dump`) and warns about others (`json`), whose
            methods the field then hides.
        """,
        fix="""
            Rename the field: `name` -> `user_name`, `timeout` -> `max_seconds`, `json` ->
            `payload`. (A property of a nested model may keep such a key: its attribute gets a
            suffix or prefix and the JSON keeps the key.)
        """,
        wrong="""
            version: 1
            synapses:
              Greet:
                request:
                  name: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Greet:
                request:
                  user_name: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG204", "error", "Name starts with `_`",
        meaning="Name starts with `_`.",
        why="""
            pydantic treats attributes that start with `_` as private: not fields, never
            validated, never serialized. Such a field would not cross the wire, and a class
            named so would read as private to every import.
        """,
        fix="""
            Drop the underscore (`_secret` -> `secret`). A property key of a nested model may
            start with `_`: its attribute drops it and the JSON keeps the key.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  _session: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  session: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG205", "error", "Duplicate name",
        meaning="""
            The same field name is both a request and a response field; or two property keys
            of a model give one attribute (`_id` and `id`, `content-type` and `content_type`).
        """,
        why="""
            One class holds the request and the response fields, so a name can be only one of
            them: the miner's answer would overwrite what the validator sent. Two keys that give
            one attribute would be one field of the model, and one key's value would be lost.
        """,
        fix="Rename one of the two; the message names the other.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  text: {type: string, default: ""}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  reply: {type: string, default: ""}
        """,
    ),
    _entry(
        "SG206", "error", "Synapse name not in CapWords",
        meaning="Synapse name is not in CapWords.",
        why="""
            A synapse's name is its class name and its route on the axon (`POST /ChatCompletion`),
            which every miner and validator must spell alike; CapWords keeps it a class name
            that cannot be mistaken for a field or a module, and the nested models named after
            it (`ChatCompletionUsage`) read as classes.
        """,
        fix="""
            Rename it in CapWords: `chat_completion` -> `ChatCompletion`. Renaming a synapse
            peers already call moves its route (see SG603).
        """,
        wrong="""
            version: 1
            synapses:
              chat_completion:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              ChatCompletion:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG207", "error", "Name clash in the generated module",
        meaning="""
            Class name clash: a synapse or `$defs` name that the generated module imports or
            that shadows a builtin, or two generated classes (synapses, `$defs`, inline models)
            with one name; or a synapse field named like one of the module's classes, an
            import, or a builtin the class body uses (`bool`, `str`, `property`, ...).
        """,
        why="""
            The generated module imports names (`Field`, `BaseModel`, `Literal`, the runtime's
            classes) and its class bodies use builtins in annotations. A class named `Field`
            replaces pydantic's `Field` for the rest of the module; a field `bool: bool = False`
            makes every later annotation in the class read the field's default instead of the
            builtin, and pydantic fails when the class is created; two classes of one name leave
            only the last. The module would not import, or would type-check wrong.
        """,
        fix="""
            Rename the class, the `$defs` entry or the field (`bool` -> `verbose`, `Field` ->
            `FieldSpec`); for an inline model, rename the field or its owner, since the class
            is named after them.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                  bool: {type: boolean, default: false}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                  verbose: {type: boolean, default: false}
        """,
    ),
    # ---- SG3xx: fields, types and defaults -----------------------------------------------------
    _entry(
        "SG301", "error", "Unknown $ref",
        meaning="Unknown or malformed `$ref`.",
        why="""
            A `$ref` gives the field its type. Only `#/$defs/Name` of the same file is resolved;
            any other reference would leave the generated field without a type to validate
            against.
        """,
        fix="""
            Point it at an entry of the file's `$defs` (`"#/$defs/Role"`, quoted: `#` starts a
            YAML comment), and define that entry.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {$ref: "#/definitions/Role", default: user, hash: true}
            $defs:
              Role: {type: string, enum: [user, assistant]}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {$ref: "#/$defs/Role", default: user, hash: true}
            $defs:
              Role: {type: string, enum: [user, assistant]}
        """,
    ),
    _entry(
        "SG302", "error", "Response field without a default",
        meaning="Response field without a default.",
        why="""
            The validator builds the synapse before any response exists (`Chat(prompt=...)`):
            a required response field would make that raise a ValidationError, so no call
            could be made.
        """,
        fix="""
            Give it the value that means "nothing yet": `default: ""`, `default: []`,
            `default: null` with a nullable type.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
        """,
    ),
    _entry(
        "SG303", "error", "Default does not fit",
        meaning="Default does not match the declared type, enum, const or constraints.",
        why="""
            pydantic does not validate a plain default, so every synapse that keeps it would
            carry a value its own type forbids, and the peer that reads it refuses it (a
            request the axon cannot validate never reaches the miner); a model default, which
            is validated, makes every construction of the class raise.
        """,
        fix="Change the default to a value the field's schema allows, or loosen the schema.",
        wrong="""
            version: 1
            synapses:
              Generate:
                request:
                  max_tokens: {type: integer, minimum: 1, default: 0, hash: true}
        """,
        right="""
            version: 1
            synapses:
              Generate:
                request:
                  max_tokens: {type: integer, minimum: 1, default: 256, hash: true}
        """,
    ),
    _entry(
        "SG304", "error", "`required` names no property",
        meaning="`required` names a property that is not in `properties`.",
        why="""
            `required` is how a model knows which properties must be present. A name there that
            is no property is a typo or a leftover: the property meant stays optional, and an
            unset one crosses the wire as `null` where a value was expected.
        """,
        fix="Correct the name in `required`, or add the property.",
        wrong="""
            version: 1
            synapses:
              Locate:
                request:
                  point: {$ref: "#/$defs/Point", default: {x: 0, y: 0}, hash: true}
            $defs:
              Point:
                type: object
                properties: {x: {type: number}, y: {type: number}}
                required: [x, z]
        """,
        right="""
            version: 1
            synapses:
              Locate:
                request:
                  point: {$ref: "#/$defs/Point", default: {x: 0, y: 0}, hash: true}
            $defs:
              Point:
                type: object
                properties: {x: {type: number}, y: {type: number}}
                required: [x, y]
        """,
    ),
    _entry(
        "SG305", "error", "Required request field bittensor cannot send",
        meaning="""
            Required request field that real bittensor cannot send (nullable, enum/const, a model
            with required properties, or constraints its empty placeholder violates).
        """,
        why="""
            bittensor sends a required request field in the headers only as an empty placeholder
            of its type (`bt_header_input_obj_*`), and the axon builds the synapse from the
            headers. A nullable field's `None` gets no header at all, an enum or const has no
            empty value (`to_headers()` raises), and a placeholder `''`, `[]`, `0` or `{}` that
            breaks the field's own constraints makes the axon fail to build the synapse (HTTP
            500): the call never reaches the miner.
        """,
        fix="""
            Give the field a default. It stays a field the validator sets; only the headers'
            placeholder changes.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {type: string, enum: [user, assistant], hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {type: string, enum: [user, assistant], default: user, hash: true}
        """,
    ),
    _entry(
        "SG306", "error", "Constraint on the wrong type",
        meaning="""
            A constraint on a type it does not apply to (`minimum` on a string, `pattern` on an
            integer, any constraint on an untyped value or a model), or a bound of an integer
            that is not a whole number.
        """,
        why="""
            pydantic refuses a constraint it cannot apply when the class is created, so the
            generated module would fail to import. An integer's bounds must be whole numbers for
            the same reason.
        """,
        fix="""
            Use the constraint of the field's type: `minLength`/`maxLength`/`pattern` for
            strings, `minimum`/`maximum`/`multipleOf` for numbers, `minItems`/`maxItems` for
            arrays; or give the value the type the constraint is for.
        """,
        wrong="""
            version: 1
            synapses:
              Search:
                request:
                  query: {type: string, maximum: 100, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Search:
                request:
                  query: {type: string, maxLength: 100, default: "", hash: true}
        """,
    ),
    _entry(
        "SG307", "error", "Pattern pydantic cannot compile",
        meaning="""
            A `pattern` pydantic cannot compile (it uses Rust's regex syntax: no look-around).
        """,
        why="""
            pydantic compiles `pattern` with Rust's regex engine, which has no look-ahead,
            look-behind or back-references: the generated module would fail to import.
        """,
        fix="""
            Rewrite the pattern without look-around or back-references (often a character class
            or an alternation does it), or check the value in your own code.
        """,
        wrong="""
            version: 1
            synapses:
              Register:
                request:
                  user: {type: string, pattern: "^(?!admin)[a-z]*$", default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Register:
                request:
                  user: {type: string, pattern: "^[a-z]*$", default: "", hash: true}
        """,
    ),
    _entry(
        "SG308", "error", "`hash` or `header` on a response field",
        meaning="""
            `hash: true` or `header: true` on a response field (both are about what the
            validator sends).
        """,
        why="""
            The body hash is computed by the validator over the request it sends and signed
            with it; the request headers carry what the validator sends. A response field is
            filled by the miner afterwards, so neither could ever cover it.
        """,
        fix="""
            Remove it from the response field; put `hash: true` on the request fields the
            signature must cover.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: ""}
                response:
                  answer: {type: string, default: "", hash: true}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
        """,
    ),
    _entry(
        "SG309", "error", "Alias that refers to itself",
        meaning="""
            A `$defs` alias that refers to itself through aliases only (no object model between).
        """,
        why="""
            A `$defs` entry without properties becomes a type alias. A recursive alias with no
            class in between is beyond type checkers (mypy cannot resolve it), so the generated
            module would not type-check; a model breaks the cycle.
        """,
        fix="Wrap the recursion in an object with properties.",
        wrong="""
            version: 1
            synapses:
              Parse:
                request:
                  tree: {$ref: "#/$defs/Tree", default: [], hash: true}
            $defs:
              Tree: {type: array, items: {$ref: "#/$defs/Tree"}}
        """,
        right="""
            version: 1
            synapses:
              Parse:
                request:
                  tree: {$ref: "#/$defs/Tree", default: {children: []}, hash: true}
            $defs:
              Tree:
                type: object
                properties:
                  children: {type: array, items: {$ref: "#/$defs/Tree"}, default: []}
        """,
    ),
    _entry(
        "SG310", "error", "Bad `import`",
        meaning="`import` that is not `package.module.Name`, or not on a `$defs` entry.",
        why="""
            `import` replaces a generated class with one of yours: the module writes
            `from package.module import Name`. Anything else could not be written as that
            import, and on a field rather than a `$defs` entry there is no generated class to
            replace.
        """,
        fix="""
            Put `import: package.module.Name` on a `$defs` entry (the class last, dotted Python
            names before it) and `$ref` that entry from the fields.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {$ref: "#/$defs/Role", default: user, hash: true}
            $defs:
              Role: {import: Role, type: string, enum: [user, assistant]}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  role: {$ref: "#/$defs/Role", default: user, hash: true}
            $defs:
              Role: {import: mysubnet.protocol.Role, type: string, enum: [user, assistant]}
        """,
    ),
    # ---- SG4xx: streams and rules --------------------------------------------------------------
    _entry(
        "SG401", "error", "Rule targets a missing field",
        meaning="Rule targets a field that does not exist.",
        why="""
            A rule says where a token's value goes; a target that is not a response field (often
            a typo) has nowhere to put it.
        """,
        fix="Name one of the response fields the message lists, or add the field.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: raw
                  rules: [{op: concat, field: anwser}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: raw
                  rules: [{op: concat, field: answer}]
        """,
    ),
    _entry(
        "SG402", "error", "Rule targets a request field",
        meaning="Rule targets a request field.",
        why="""
            The stream is the miner's answer; request fields hold what the validator sent. A
            rule writing into one would overwrite the validator's own request with the miner's
            data.
        """,
        fix="Add a response field for the streamed value and target that.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                stream:
                  framing: raw
                  rules: [{op: concat, field: prompt}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: raw
                  rules: [{op: concat, field: answer}]
        """,
    ),
    _entry(
        "SG403", "error", "Rule target has the wrong type",
        meaning="""
            Rule target has the wrong type (concat: string, not an enum/const; append/extend:
            array; put: dict; each may also allow null, with `default: null`); with `group`, a
            dict of those; or two rules fill one field differently (by group and not).
        """,
        why="""
            The generated parser collects each field in a local of the op's kind (text for
            `concat`, a list for `append`/`extend`, a dict for `put`) and assigns it at the end
            of the stream: into a field of another type, pydantic would refuse the value, or
            the field would hold one its type forbids (concatenated text is no longer one of an
            enum's values). One field cannot be collected two ways at once.
        """,
        fix="""
            Change the op (`replace` overwrites a field of any type) or the field's type (an
            array for `append`, `additionalProperties` for `put`).
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  lines: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: append, field: lines}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  lines: {type: array, items: {type: string}, default: []}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: append, field: lines}]
        """,
    ),
    _entry(
        "SG404", "error", "Rule options do not fit the op",
        meaning="""
            Rule options do not fit the op (put without key, set without fields, field on set, ...).
        """,
        why="""
            Each op reads its own options: `put` stores a value under the key found at `key`,
            `set` fills the fields listed in `fields`, `group` belongs to `concat`, `append` and
            `extend`. An option the op does not read would be ignored, and a missing one leaves
            the op without what it needs.
        """,
        fix="Give the op the options it takes (the message says which).",
        wrong="""
            version: 1
            synapses:
              Links:
                request:
                  query: {type: string, default: "", hash: true}
                response:
                  links: {type: object, additionalProperties: {type: object}, default: {}}
                stream:
                  framing: json-seq
                  rules: [{op: put, path: link, field: links}]
        """,
        right="""
            version: 1
            synapses:
              Links:
                request:
                  query: {type: string, default: "", hash: true}
                response:
                  links: {type: object, additionalProperties: {type: object}, default: {}}
                stream:
                  framing: json-seq
                  rules: [{op: put, path: link, key: url, field: links}]
        """,
    ),
    _entry(
        "SG405", "error", "JSON option with a text payload",
        meaning="`path`/`when` (or a JSON-only op) with a text payload.",
        why="""
            With `payload: text` each token is the text itself, with no keys to read a `path`,
            `when` tags or `group` from, and no structure for `put` or `set`: the rule could
            never apply as written.
        """,
        fix="""
            Use `payload: json` if the miner sends JSON tokens, or drop the option and let the
            rule read the whole text.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: concat, path: text, field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  rules: [{op: concat, path: text, field: answer}]
        """,
    ),
    _entry(
        "SG406", "error", "Framing and payload do not fit",
        meaning="""
            Framing and payload do not fit (raw+json, json-seq+text, lines/sse without payload,
            `token` with a text payload).
        """,
        why="""
            The framing cuts the body into tokens and the payload says what a token is. `raw`
            has no token boundaries (each network chunk is a token), so it cannot carry JSON,
            and only one `concat` per field gives a result that does not depend on how the
            network split the body; `json-seq` carries JSON values only; `lines` and `sse` carry
            either, so they must say which.
        """,
        fix="""
            Pick a framing with token boundaries for JSON (`json-seq`, `lines`, `sse`), or
            say `payload: text` or `payload: json`.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: raw
                  payload: json
                  rules: [{op: concat, path: text, field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: json-seq
                  rules: [{op: concat, path: text, field: answer}]
        """,
    ),
    _entry(
        "SG407", "error", "Framing option that does not fit",
        meaning="""
            A framing option that does not fit: `sentinel` without sse framing, `delimiter`
            without lines framing; or one its framing cannot carry (a `sentinel` holding a line
            break, a `delimiter` of other than control characters with `payload: json`).
        """,
        why="""
            A framing option on another framing would be ignored: a stream expected to end at a
            `sentinel` would never see it. Within its framing an option must also fit: an SSE
            data line cannot hold a line break, and with JSON tokens a delimiter that is not a
            control character can occur inside a token and cut it.
        """,
        fix="""
            Use the framing the option belongs to, or remove the option. With `payload: json`,
            delimit lines with control characters only (`\\n`, `\\x1e`).
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  sentinel: "[DONE]"
                  rules: [{op: concat, path: text, field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: sse
                  payload: json
                  sentinel: "[DONE]"
                  rules: [{op: concat, path: text, field: answer}]
        """,
    ),
    _entry(
        "SG408", "error", "End does not fit the stream",
        meaning="""
            `end` does not fit the stream (sentinel signal without a sentinel, event signal
            without an event, an event with another signal or with a text payload).
        """,
        why="""
            The end signal decides when a stream is complete (`stream_complete`), and with
            `keep_partial: false` whether its fields are kept. A signal the stream cannot
            produce would leave every stream incomplete; with a typed token, a final event
            lacking the model's required keys fails validation on every client.
        """,
        fix="""
            `signal: sentinel` needs `framing: sse` with a `sentinel`; `signal: event` needs
            `end.event` (the final event's tags) and JSON tokens; otherwise use `signal: eof`.
        """,
        wrong="""
            version: 1
            synapses:
              Search:
                request:
                  query: {type: string, default: "", hash: true}
                response:
                  summary: {type: string, default: ""}
                stream:
                  framing: json-seq
                  rules: [{when: {type: text}, op: concat, path: text, field: summary}]
                  end: {signal: sentinel}
        """,
        right="""
            version: 1
            synapses:
              Search:
                request:
                  query: {type: string, default: "", hash: true}
                response:
                  summary: {type: string, default: ""}
                stream:
                  framing: json-seq
                  rules: [{when: {type: text}, op: concat, path: text, field: summary}]
                  end: {signal: event, event: {type: done}}
        """,
    ),
    _entry(
        "SG409", "error", "Error event does not fit",
        meaning="""
            `server.error_event` with a text payload, whose tags include the message key, or
            that also matches the final event (`end.event`).
        """,
        why="""
            The miner's error event tells the client that the miner failed (the client raises
            `MinerError`). In a text stream it would be indistinguishable from tokens; a message
            key that is also a tag would overwrite the tag, so clients would not recognise the
            event; and an error event that also matches the final event would make every
            complete stream end in `MinerError`.
        """,
        fix="""
            Use `payload: json` for an error event, keep `error_message_key` out of its tags,
            and give it tags the final event does not have.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: concat, field: answer}]
                  server: {error_event: {type: error}}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  rules: [{when: {type: text}, op: concat, path: text, field: answer}]
                  server: {error_event: {type: error}}
        """,
    ),
    _entry(
        "SG410", "error", "Bad `deserialize`",
        meaning="""
            `deserialize` names a missing field, parses a non-string field or an unknown model;
            or it sits beside `stream` (a streaming synapse's `deserialize` goes under
            `stream`).
        """,
        why="""
            `deserialize()` is what the validator's code gets back from a call, typed; it must
            return a field that exists, or parse a text field into a `$defs` model of the file.
            Beside `stream` it would be ignored: a streaming synapse reads it from under
            `stream`.
        """,
        fix="""
            Name an existing field, `parse` a `type: string` field with `model: "#/$defs/Name"`,
            or move the key under `stream`.
        """,
        wrong="""
            version: 1
            synapses:
              Score:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  score: {type: number, default: 0}
                deserialize: {field: scores}
        """,
        right="""
            version: 1
            synapses:
              Score:
                request:
                  text: {type: string, default: "", hash: true}
                response:
                  score: {type: number, default: 0}
                deserialize: {field: score}
        """,
    ),
    _entry(
        "SG411", "error", "Incomplete stream",
        meaning="Explicit stream without framing or without rules.",
        why="""
            Without a framing the body cannot be cut into tokens, and without rules no token
            reaches a response field: the generated client would read the whole stream and
            fill nothing.
        """,
        fix="""
            Use a preset (`format: text`, `openai-sse`, `ndjson-events`), or give `framing`
            and at least one rule.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream: {framing: json-seq}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: json-seq
                  rules: [{op: concat, path: text, field: answer}]
        """,
    ),
    _entry(
        "SG412", "error", "Not a path",
        meaning="""
            A rule `path`, `key`, `group` or `set` path that is not a path (`a..b`, `a[x]`,
            empty).
        """,
        why="""
            Paths are compiled into the generated parser as a chain of key and index reads;
            one that does not parse has no such chain (and a `put` key is read from an object,
            so it starts with a property name).
        """,
        fix="""
            Write keys separated by `.`, each optionally followed by list indices:
            `choices[0].delta.content`.
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: sse
                  payload: json
                  rules: [{op: concat, path: "choices..delta.content", field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: sse
                  payload: json
                  rules: [{op: concat, path: "choices[0].delta.content", field: answer}]
        """,
    ),
    _entry(
        "SG413", "error", "`yields: text` with nothing to yield",
        meaning="`yields: text` on a stream with no rule whose text it could yield (no `concat`).",
        why="""
            `yields: text` makes the client yield the text each `concat` rule adds. Without one
            the stream would yield nothing (and the generated method would not even be an async
            generator).
        """,
        fix="Use `yields: token` to get the tokens, or add a `concat` rule.",
        wrong="""
            version: 1
            synapses:
              Probe:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  seen: {type: array, items: {type: string}, default: []}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: append, field: seen}]
                  yields: text
        """,
        right="""
            version: 1
            synapses:
              Probe:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  seen: {type: array, items: {type: string}, default: []}
                stream:
                  framing: lines
                  payload: text
                  rules: [{op: append, field: seen}]
                  yields: token
        """,
    ),
    _entry(
        "SG414", "error", "Key the token cannot have",
        meaning="""
            A rule `path` or `when` tag, or the final event's tag, names a key the declared
            `token` cannot have (its object has `additionalProperties: false`).
        """,
        why="""
            A closed token object allows no other keys, so a rule reading one would never fire,
            or a stream waiting for a final event with it would never end. It is almost always
            a typo.
        """,
        fix="Correct the key, or declare it under the token's `properties`.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  token:
                    type: object
                    properties: {type: {type: string}, text: {type: string}}
                    additionalProperties: false
                  rules: [{when: {type: text}, op: concat, path: txet, field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  token:
                    type: object
                    properties: {type: {type: string}, text: {type: string}}
                    additionalProperties: false
                  rules: [{when: {type: text}, op: concat, path: text, field: answer}]
        """,
    ),
    # ---- SG5xx: warnings -----------------------------------------------------------------------
    _entry(
        "SG501", "warning", "No `hash: true` request field",
        meaning="""
            A synapse with no `hash: true` request field: its signature covers none of the
            request. Printed; the file still generates.
        """,
        why="""
            bittensor signs a hash over the `hash: true` request fields (`required_hash_fields`).
            With none, the signature covers a constant body hash: anyone who sees a signed
            request can change its fields and still pass the axon's verification (bittensor
            issue #3407).
        """,
        fix="Mark the request fields that must not change in transit with `hash: true`.",
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: ""}
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
        """,
    ),
    _entry(
        "SG502", "warning", "Key the token does not list",
        meaning="""
            A rule `path` or tag names a key the declared `token` does not list (it may have it:
            the object is open). Often a typo.
        """,
        why="""
            The token may have the key, so it is not an error; but a misspelled key makes the
            rule silently never apply, and the field keeps its default.
        """,
        fix="""
            Correct the key, or declare it under the token's `properties` to say it is meant
            (which also silences the warning).
        """,
        wrong="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  token:
                    type: object
                    properties: {type: {type: string}, text: {type: string}}
                  rules: [{when: {type: text}, op: concat, path: txet, field: answer}]
        """,
        right="""
            version: 1
            synapses:
              Chat:
                request:
                  prompt: {type: string, default: "", hash: true}
                response:
                  answer: {type: string, default: ""}
                stream:
                  framing: lines
                  payload: json
                  token:
                    type: object
                    properties: {type: {type: string}, text: {type: string}}
                  rules: [{when: {type: text}, op: concat, path: text, field: answer}]
        """,
    ),
    # ---- SG6xx: findings of synapsegen diff ----------------------------------------------------
    _entry(
        "SG601", "finding", "Synapse added",
        meaning="A synapse added: compatible (old miners do not serve it until they upgrade).",
        why="""
            Old peers never call the new route, so nothing they do changes; new validators'
            calls to old miners fail (404) until those upgrade.
        """,
        fix="""
            Nothing to fix. Upgrade miners before validators depend on the synapse, or let
            validators treat a failed call as "not yet".
        """,
    ),
    _entry(
        "SG602", "finding", "Synapse removed",
        meaning="A synapse removed: breaks old validators, which still call its route.",
        why="Old validators still call its route, which new miners no longer serve.",
        fix="""
            Keep serving it until every validator has stopped calling it, then remove it;
            upgrade validators first.
        """,
    ),
    _entry(
        "SG603", "finding", "Synapse renamed",
        meaning="""
            A synapse renamed (the same on the wire under another name): its route moves, which
            breaks old miners and old validators.
        """,
        why="""
            A synapse's name is its route (`POST /Name`): old validators call a route new miners
            no longer serve, and new validators one old miners do not serve yet. No upgrade
            order works.
        """,
        fix="""
            Keep the old name (the class name is the wire name), or add the new synapse beside
            the old one and serve both until every peer moved.
        """,
    ),
    _entry(
        "SG604", "finding", "Plain synapse became streaming (or back)",
        meaning="""
            A plain synapse became a streaming one, or the reverse: breaks old miners and old
            validators.
        """,
        why="""
            One side expects a single JSON body and the other a token stream: calls fail both
            ways, whichever side upgrades first.
        """,
        fix="""
            Add the streaming version as a new synapse (`ChatStream`) beside the plain one, and
            remove the old one once every validator moved.
        """,
    ),
    _entry(
        "SG605", "finding", "Default timeout changed",
        meaning="The class's default `timeout` changed: compatible, noted.",
        why="""
            The timeout is the class's default: synapsegen's Dendrite waits this long when a call
            gives none, and the miner sees the timeout the validator sent. Nothing on the wire
            breaks, but calls may now wait longer or give up sooner.
        """,
        fix="""
            Nothing to fix. bittensor's own Dendrite sends its `timeout=` argument (12 s by
            default), not the class's: pass it there if you rely on the new value.
        """,
    ),
    _entry(
        "SG606", "finding", "Documentation changed",
        meaning="Documentation changed (`description`, `title`, `examples`, `format`): compatible.",
        why="Documentation is not part of the wire: reported only so that `-v` shows every change.",
        fix="Nothing to fix.",
    ),
    _entry(
        "SG607", "finding", "One-sided setting changed",
        meaning="""
            A setting that stays on one side changed (`frozen`, `header`, `import`,
            `deserialize`, `limits`, `keep_partial`, `batch_count`, `batch_interval`):
            compatible.
        """,
        why="""
            These settings change what one peer does with the data (how it groups writes, what
            `deserialize()` returns, how much it buffers), not what crosses the wire between
            versions.
        """,
        fix="Nothing to fix; check that your own code expects the new behaviour.",
    ),
    _entry(
        "SG610", "finding", "Field or optional property added",
        meaning="""
            A field with a default, or an optional property, added: compatible, unless the old
            model is closed (`additionalProperties: false`): old readers then refuse it.
        """,
        why="""
            Old readers ignore keys they do not know, and new readers take the default when an
            old writer does not send it. A closed model, though, refuses unknown keys: once new
            writers send the property, old readers refuse the whole value.
        """,
        fix="""
            For a closed model, upgrade the readers first (the category names who), or open the
            model in one release and add the property in the next.
        """,
    ),
    _entry(
        "SG611", "finding", "Required field added",
        meaning="""
            A required request field or required property added: old writers do not send it,
            and new readers refuse what they send.
        """,
        why="""
            Old writers do not know the field, so they never send it, and the new readers'
            validation refuses every value from them.
        """,
        fix="""
            Give the new field or property a default (it can still be set by every new
            writer); add `required` later, once no old writer is left.
        """,
    ),
    _entry(
        "SG612", "finding", "Field or property removed",
        meaning="""
            A field or property removed: old readers no longer get it (they read its default, or
            refuse what new writers send when it was required).
        """,
        why="""
            Old readers still expect the value: they silently read the default instead of what
            was sent, or, when it was required for them, refuse every value from new writers.
        """,
        fix="""
            Keep the field, documented as deprecated (new writers still send it, new readers
            ignore it), until no old reader is left; then remove it. If the old readers can live
            with the default, the finding is a change of behaviour you may accept.
        """,
    ),
    _entry(
        "SG613", "finding", "Required or optional changed",
        meaning="""
            A field or property became required or optional: compatible for synapse fields; for
            a property, the `null` an unset optional one carries breaks the readers that refuse
            it.
        """,
        why="""
            Validators send every request field, so for synapse fields the wire is unchanged.
            A model's optional property without a default crosses the wire as `null` when unset,
            and readers of the version where it is required refuse that `null`.
        """,
        fix="""
            Give the property a default instead of leaving it optional (writers then always send
            a value, never `null`), or make its type nullable (`type: [string, "null"]`) in the
            readers' version first.
        """,
    ),
    _entry(
        "SG614", "finding", "Default changed",
        meaning="""
            A default changed: compatible for request fields and streamed response fields; a
            plain synapse's unset response field reads differently to the other version (breaks
            both), and a response default the other version refuses breaks bittensor 10's
            request body.
        """,
        why="""
            Miners read the request values the validator sent, and a streaming validator starts
            from its own defaults. A plain synapse's miner that leaves a response field unset
            answers with its own default, which now means something else to the other version;
            and bittensor 10 sends the whole synapse, response fields included, in every request
            body, so a default the other version's schema refuses fails there.
        """,
        fix="""
            Keep a plain synapse's response defaults stable; if "nothing" must mean something
            new, add a new field. Make sure both versions' schemas accept both defaults.
        """,
    ),
    _entry(
        "SG615", "finding", "Type changed",
        meaning="""
            A type changed (`type`, union members, `items`, a `$ref` to another shape): a wider
            type breaks old readers, a narrower one old writers, an unrelated one both.
        """,
        why="""
            Readers validate what they get against their own version's type: values of a wider
            type reach old readers that refuse them, values old writers send may not fit a
            narrower one.
        """,
        fix="""
            Add a new field of the new type beside the old one. A widening alone works when the
            readers upgrade first and writers use the new values after.
        """,
    ),
    _entry(
        "SG616", "finding", "Enum values added",
        meaning="Enum values added: new writers may send them, which old readers refuse.",
        why="Old readers validate against the old list and refuse the new values.",
        fix="""
            Upgrade the readers first (the category names who), and start sending the new values
            once they have.
        """,
    ),
    _entry(
        "SG617", "finding", "Enum values removed",
        meaning="Enum values removed: old writers may send them, which new readers refuse.",
        why="Old writers may still send the removed values, which new readers refuse.",
        fix="""
            Upgrade the writers first so that they stop sending the values, then remove them
            from the readers' schema.
        """,
    ),
    _entry(
        "SG618", "finding", "Constraint tightened",
        meaning="""
            A constraint tightened or changed (`minimum`, `maxLength`, `pattern`, `multipleOf`,
            an `enum` where there was none, ...): old writers may send values new readers
            refuse.
        """,
        why="New readers refuse values the old constraint allowed and old writers still send.",
        fix="""
            Upgrade the writers first, so that they stop sending such values, then tighten the
            readers.
        """,
    ),
    _entry(
        "SG619", "finding", "Constraint loosened",
        meaning="A constraint loosened or removed: new writers may send values old readers refuse.",
        why="""
            New writers may use the new room at once, and old readers, which validate against
            the old constraint, refuse those values.
        """,
        fix="Upgrade the readers first, then let the writers use the new room.",
    ),
    _entry(
        "SG620", "finding", "Model closed or opened",
        meaning="""
            A model closed or opened (`additionalProperties: false` added or removed):
            compatible, writers send the declared properties only.
        """,
        why="""
            Generated writers send the declared properties only, so no peer sees the
            difference; it matters for the next change (see SG610).
        """,
        fix="Nothing to fix.",
    ),
    _entry(
        "SG630", "finding", "Hash fields changed",
        meaning="""
            The hash fields changed (which `hash: true` request fields, or their order:
            `required_hash_fields`): bittensor 10 peers of the two versions refuse each other's
            signatures (signature-breaking).
        """,
        why="""
            bittensor 10 signs a hash over the `hash: true` fields in their order; peers of the
            two versions compute different hashes for one request and refuse each other's
            signatures, whichever side upgrades first. btauth/1 and Epistula sign the body bytes
            and are not affected.
        """,
        fix="""
            Switch at a coordinated moment (bump the version validators check and release both
            sides together), or add a new synapse with the new hash fields beside the old one.
        """,
    ),
    _entry(
        "SG631", "finding", "Hashed number changed type",
        meaning="""
            A hash field's numbers changed between integer and number: one value prints
            differently (1 vs 1.0) in the body hash (signature-breaking).
        """,
        why="""
            The body hash covers `str(value)`, and one value prints as `1` for an integer field
            and `1.0` for a number field: the two versions hash one request differently and
            refuse each other's signatures.
        """,
        fix="""
            Keep the hashed field's type, add a new field of the new type, or switch at a
            coordinated moment (both sides released together).
        """,
    ),
    _entry(
        "SG640", "finding", "Framing changed",
        meaning="The stream's `framing` changed (stream-breaking).",
        why="Old and new peers cut the body into tokens differently: neither reads the other.",
        fix="""
            Add a new synapse with the new framing beside the old one (`ChatV2`) and serve both
            until every validator moved, or switch at a coordinated moment.
        """,
    ),
    _entry(
        "SG641", "finding", "Payload changed",
        meaning="The stream's `payload` changed (stream-breaking).",
        why="Each token is text for one version and JSON for the other.",
        fix="Add a new synapse beside the old one, or switch at a coordinated moment.",
    ),
    _entry(
        "SG642", "finding", "Framing option changed",
        meaning="A framing's own option changed: `delimiter`, `sentinel` (stream-breaking).",
        why="Old and new peers split or end the stream at different bytes.",
        fix="Add a new synapse beside the old one, or switch at a coordinated moment.",
    ),
    _entry(
        "SG643", "finding", "End of stream changed",
        meaning="""
            The end of the stream changed: `end.signal`, the final event's tags (stream-breaking).
        """,
        why="""
            Validators of one version do not see the other version's streams complete
            (`stream_complete` stays false, and with `keep_partial: false` the fields are
            dropped), or see a final event as an ordinary token.
        """,
        fix="Add a new synapse beside the old one, or switch at a coordinated moment.",
    ),
    _entry(
        "SG644", "finding", "Rules read tokens differently",
        meaning="""
            How the rules read tokens into a field changed (op, `path`, `when`, `key`, `group`),
            or a new kind of event is also read by the other version's rules (stream-breaking).
        """,
        why="""
            The miner's tokens fill the validator's fields through the validator's rules: with
            other rules, one version's tokens land in the wrong fields, in the wrong way, or
            nowhere for the other. A new event that an old rule without `when` also reads is
            misread by old validators.
        """,
        fix="""
            Keep the old rules as they are and tag new events so that old rules do not read
            them (`when`), or add a new synapse beside the old one.
        """,
    ),
    _entry(
        "SG645", "finding", "Error event changed",
        meaning="""
            The miner's error event changed: `server.error_event`, `error_message_key`
            (stream-breaking).
        """,
        why="""
            A miner's failure reads as a token, or as nothing, to validators of the other
            version, instead of raising `MinerError`.
        """,
        fix="Add a new synapse beside the old one, or switch at a coordinated moment.",
    ),
    _entry(
        "SG646", "finding", "What the stream yields changed",
        meaning="""
            What the stream yields to the validator's code changed: `yields`, a typed token's
            model. Compatible on the wire: the bytes and what each side accepts are the same.
        """,
        why="""
            Validator code that iterates the stream gets other items (text instead of tokens,
            or another model) and breaks where it uses them. Old and new peers still read each
            other's streams (a change to the token schema itself is its own finding), so the
            schema hash leaves `yields` out and `synapsegen diff` does not fail on it; it is
            reported so that the validator's code is updated with the package.
        """,
        fix="""
            Update the validator code that iterates the stream together with the schema, or add
            a new synapse beside the old one.
        """,
    ),
    # ---- SG9xx: the set of files ---------------------------------------------------------------
    _entry(
        "SG901", "error", "File name gives no module name",
        meaning="""
            The schema file's name gives no Python module name (`chat-v2.yaml` -> `chat_v2` is
            fine; `2chat.yaml`, `chat.v2.yaml`, `__init__.yaml` are not).
        """,
        why="""
            Each schema becomes a module named after its file (`-` becomes `_`). A name that is
            no Python identifier or a keyword could not be imported, a dot would read as a
            subpackage, and `__init__` would replace the package's own `__init__.py`.
        """,
        fix="Rename the file: `2chat.yaml` -> `chat2.yaml`, `chat.v2.yaml` -> `chat_v2.yaml`.",
    ),
    _entry(
        "SG902", "error", "Two files give one module",
        meaning="Two schema files give one module name (`chat-v2.yaml` and `chat_v2.yaml`).",
        why="Both would be written to the same module: one file's synapses would be lost.",
        fix="Rename one of the files, or merge them into one.",
    ),
    _entry(
        "SG903", "error", "Synapse defined twice",
        meaning="""
            A synapse name defined by two schema files: a synapse's name is its route on the
            axon, so it must be unique across the output folder. (Nested models may share
            names; the package `__init__.py` then leaves them out: import them from their
            modules.)
        """,
        why="""
            An axon serves one synapse per route (`POST /Name`): two synapses of one name cannot
            be served side by side, and the package `__init__.py` could export only one of them.
        """,
        fix="Rename one of the synapses (or remove the copy).",
    ),
)  # fmt: skip

CODES: MappingProxyType[str, CodeEntry] = MappingProxyType({e.code: e for e in _ENTRIES})
"""Every code the generator and ``synapsegen diff`` report, in code order."""
