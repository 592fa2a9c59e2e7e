"""Fuzz campaign: no schema string can change what generated code does.

Every example starts from one of the example schemas in ``schemas/`` (loaded with PyYAML), puts
hostile text into one or two string (or number) positions of the language, writes the schema as
YAML or JSON under a possibly hostile folder and file name, and calls
:func:`synapsegen.pipeline.generate`. Each example then lands in some of these classes:

``diagnostics``
    ``generate`` refused the schema. Fine, as long as every ``str(diagnostic)`` is one line
    (otherwise ``bad_diagnostics``) and unless the schema held a non-finite number, which must
    be refused (otherwise ``undiagnosed``).
``internal_errors``
    An exception escaped ``generate``.
``import_failures``
    The generated package cannot be written as UTF-8 or imported (``import pkg.module`` in a
    subprocess, many examples per subprocess, with a timeout).
``executions``
    A payload ran: every payload calls :data:`CANARY`, which sets a flag in ``builtins``.
``injections``
    The generated module's syntax tree holds something schema text may not produce: a name a
    payload uses (``__import__``, ...) anywhere, or a top-level statement other than imports,
    ``__all__``, class and alias definitions, docstrings and ``X.model_rebuild()``; or a class
    body statement other than a docstring, annotated or plain assignments and methods.
``construct_failures``
    A synapse class cannot be built from its defaults plus empty placeholders for its required
    request fields (what the axon does with bittensor's headers), or a fuzz model from its
    defaults.
``mismatches``
    Hostile text did not arrive intact: a docstring differs from the schema's description
    (stripped), a ``Field`` description, title, example, default, pattern or ``Literal`` value
    differs, or a string of a stream position (sentinel, delimiter, tag, path segment, key) is not
    a constant of the module.

Run ``python -m tests.generator.fuzz --examples 10000`` for the campaign (``--rev HEAD`` fuzzes a
git revision instead of the working tree; ``--help`` lists the options), or
``tests/generator/test_fuzz.py`` for a short derandomized run under pytest.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import copy
import inspect
import json
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = ROOT / "schemas"

# --------------------------------------------------------------------------------------------
# Hostile text

CANARY_FLAG = "SYNAPSEGEN_FUZZ_EXECUTED"
CANARY = f'__import__("builtins").__dict__.__setitem__("{CANARY_FLAG}", True)'
"""The expression every payload runs: its only effect is a flag the import runner checks."""

LINE_BREAKS = ("\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Every line boundary ``str.splitlines`` honours."""
BIDI_CONTROLS = tuple(chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
QUOTES = ("'", '"', "'''", '"""', "''", '""', "\\'", '\\"', '\'"""', "f'", 'rb"', "`")
BACKSLASHES = (
    "\\", "\\\\", "\\\\\\", "\\N{", "\\N{BULLET}", "\\N{NO SUCH NAME", "\\x", "\\x4", "\\x41",
    "\\u", "\\u20", "\\u2028", "\\U", "\\U0010ffff", "\\0", "\\777", "\\n", "\\r", "\\\n",
    "\\\r\n", "\\\u2028",
)  # fmt: skip
OTHER_CONTROLS = (
    "\x00", "\t", "\x1b[31m", "\x7f", "\ufeff", "\u200b", "\xa0", "\ud800", "\udfff", "\udcff",
    "\U0001f600", "e\u0301", "\ufb01", "\U0001d54f",
)  # fmt: skip
"""NUL, tab, ANSI, DEL, BOM, zero-width space, lone surrogates, astral, combining, NFKC traps."""
JINJA = (
    "{{", "}}", "{%", "%}", "{#", "#}", "{{ x }}", "{% raw %}", "{% endraw %}",
    "{%- if true -%}", "{{ 7 * 7 }}", "{{ self.__init__ }}",
)  # fmt: skip
PRAGMAS = (
    "# fmt: skip", "# fmt: off", "# fmt: on", "# type: ignore", "# noqa", "# ruff: noqa",
    "# -*- coding: latin-1 -*-", "#!", "# isort: skip_file",
)  # fmt: skip
PYTHON_BITS = (
    "):", ")", "]", "}", ",", ";", "lambda: 0", "__all__", "None", "import os", "%s", "{0}",
    "{}", "${x}", "f'{1}'", '")', "'),", "pass", "\n    ", "\n\n\n",
)  # fmt: skip
ATOMS = (
    *LINE_BREAKS, *BIDI_CONTROLS, *QUOTES, *BACKSLASHES, *OTHER_CONTROLS, *JINJA, *PRAGMAS,
    *PYTHON_BITS,
)  # fmt: skip

FIXED_PAYLOADS = (
    f'"""\nimport os; {CANARY}\n"""',
    f"'\n{CANARY}\n#",
    f"\u2028\u2028{CANARY}",
    f"\\\n{CANARY}",
    f'"""; {CANARY}; """',
    f"'); {CANARY}; ('",
    f'" + str({CANARY}) + "',
    f"' + str({CANARY}) + '",
    f"\n    {CANARY}\n",
    f"\r{CANARY}\r#",
    f"\x85{CANARY}",
    f"\u2029    {CANARY}\u2029    #",
    f"{{{{ {CANARY} }}}}",
    f"x\u2028\u2028\u2028{CANARY}\u2028",
)
OPENERS = ("", '"""', "'''", '"', "'", '\\"""', ")", "]", "})", "\\", "#", '")', "'),", "x")
INDENTS = ("", "    ", "        ", "            ", "                ", "                    ", "\t")
CLOSERS = ("", "#", '"""', "'''", '"', "'", "x = (", "if 1:", "(", "[")


@st.composite
def payloads(draw: st.DrawFn) -> str:
    """Text that would leave a string, comment or docstring and call :data:`CANARY`."""
    if draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(FIXED_PAYLOADS))
    opener = draw(st.sampled_from(OPENERS))
    closer = draw(st.sampled_from(CLOSERS))
    if draw(st.integers(0, 4)) == 0:  # on one line: only a broken quote could let it out
        return f"{opener}; {CANARY}; {closer}"
    brk = draw(st.sampled_from((*LINE_BREAKS, "\\\n", "\n\n", "\u2028\u2028")))
    indent = draw(st.sampled_from(INDENTS))
    return f"{opener}{brk}{indent}{CANARY}{brk}{indent}{closer}"


def hostile_strings(max_pieces: int = 6) -> st.SearchStrategy[str]:
    """Hostile atoms, payloads and random text (including lone surrogates), mixed."""
    atom = st.sampled_from(ATOMS)
    anything = st.text(st.characters(codec=None, exclude_categories=()), max_size=6)
    piece = st.one_of(atom, atom, payloads(), anything, st.text(max_size=6))
    mixed = st.lists(piece, min_size=1, max_size=max_pieces).map("".join)
    padding = st.sampled_from(("", " ", "\n", "\u2028", " \t\n", "\x1c", "\u3000"))
    padded = st.tuples(padding, mixed, padding).map("".join)
    strings = st.one_of(atom, payloads(), mixed, mixed, padded, st.text(max_size=20))
    return strings.map(_join_surrogate_pairs)


def _join_surrogate_pairs(text: str) -> str:
    """``text`` with each high+low surrogate pair made the character it encodes.

    JSON's ``\\ud83d\\ude00`` is one character to a reader, two to a writer: joined here, the
    text a schema holds is the text the generator reads. Lone surrogates stay.
    """
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return any("\ud800" <= char <= "\udfff" for char in text)


# --------------------------------------------------------------------------------------------
# Hostile numbers

FINITE_NUMBERS: tuple[int | float, ...] = (
    0, 1, -1, 3, -0.0, 0.1, 1e308, -1e308, 1.7976931348623157e308, 5e-324, -5e-324, 1e-300,
    2**53 + 1, 2**63, -(2**63) - 1, 10**30, 10**400,
)  # fmt: skip
NON_FINITE_NUMBERS = (math.inf, -math.inf, math.nan)
RAW_NUMBERS = ("1e999", "-1e999", "1e400", "1" + "0" * 5000, "-0.0", "1E308", "0.0e0")
RAW_YAML_NUMBERS = (".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".NAN")
RAW_JSON_NUMBERS = ("Infinity", "-Infinity", "NaN")


def _raw_value(token: str) -> float | int | None:
    """The value a raw number token stands for; None if it is not finite (or not a number)."""
    if token.lower().lstrip("+-") in (".inf", ".nan", "infinity", "nan"):
        return None
    if re.fullmatch(r"-?[0-9]+", token):
        return None if len(token) > 4000 else int(token)
    value = float(token)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Hostile paths

FOLDER_ATOMS = (
    "schemas", "my schemas", "it's", 'say "hi"', "\xfcn\xefc\xf6d\xe9", "\u65e5\u672c", "a\nb",
    "\u2028", "tab\there", "{{ x }}", "back\\slash", "-dash", " lead", "trail ", "$(x)", "%s",
    "#", "\r", "\x85", "\udcff", f"x\n{CANARY}\n#", f"\r{CANARY}\r#", f"\u2028{CANARY}\u2028#",
    "'''", '"""', "\x1b[0m", "\u202e", "\x0b", "\x0c", "\x1c",
)  # fmt: skip
MODULE_STEMS = (
    "class", "def", "None", "import", "match", "type", "_", "__main__", "__init__", "typing",
    "pydantic", "synapsegen", "builtins", "os", "sys", "A" * 100, "chat_v2", "chat-v2", "x_",
)  # fmt: skip
BAD_STEMS = (
    "2chat", "chat.v2", "ch at", "ch\nat", "\xfcn\xef", "x\u2028y", "'", "x'y", "x\\y", "\udcff",
    "-", "ch\tat", f"x\n{CANARY}",
)  # fmt: skip
YAML_SUFFIXES = (".yaml", ".yml", ".YAML", ".Yml")
JSON_SUFFIXES = (".json", ".JSON")


def _usable_folder(name: str) -> bool:
    """Whether the file system can hold a folder of this name."""
    if name in ("", ".", "..") or "/" in name or "\x00" in name:
        return False
    try:
        return len(os.fsencode(name)) <= 200
    except UnicodeError:
        return False


def folder_names() -> st.SearchStrategy[str]:
    """Folder names with spaces, quotes, unicode, line breaks and payloads."""
    atom = st.sampled_from(FOLDER_ATOMS)
    mixed = st.lists(st.one_of(atom, st.text(max_size=4)), min_size=1, max_size=3).map("".join)
    return st.one_of(atom, mixed).filter(_usable_folder)


# --------------------------------------------------------------------------------------------
# Examples


@dataclass
class Example:
    """One fuzzed schema file: its data, how it is written, and what must hold afterwards.

    ``expectations`` are JSON-able dicts checked on the generated module: kinds ``constant`` and
    ``alias_doc`` on its source (:func:`static_mismatches`), the others after importing it
    (:func:`_import_runner`).
    ``raw_numbers`` maps placeholder strings in ``document`` to number tokens written verbatim.
    """

    base: str
    positions: list[str]
    document: dict[str, Any]
    fmt: str  # "yaml" or "json"
    folders: tuple[str, ...]
    stem: str
    suffix: str
    json_ascii: bool = True
    json_indent: int | None = None
    raw_numbers: dict[str, str] = field(default_factory=dict)
    expectations: list[dict[str, Any]] = field(default_factory=list)
    must_diagnose: bool = False

    def key(self) -> str:
        """What makes two examples the same file."""
        return repr((self.document, self.fmt, self.folders, self.stem, self.suffix,
                     self.json_ascii, self.json_indent, self.raw_numbers))  # fmt: skip

    def describe(self) -> str:
        """One line naming the base schema, the fuzzed positions and the file."""
        where = "/".join((*self.folders, self.stem + self.suffix))
        return f"{self.base} [{', '.join(self.positions)}] as {where!r}"


@dataclass
class Mutation:
    """The state one position function works on: the document, what to draw, what to expect."""

    doc: dict[str, Any]
    draw: st.DrawFn
    fmt: str
    expectations: list[dict[str, Any]] = field(default_factory=list)
    raw_numbers: dict[str, str] = field(default_factory=dict)
    must_diagnose: bool = False

    def text(self) -> str:
        """A hostile string."""
        return self.draw(hostile_strings())

    def number(self, *, integer: bool = False) -> Any:
        """A hostile number: a value, or a placeholder for a token written verbatim."""
        kind = self.draw(st.integers(0, 9))
        if kind <= 4:
            value = self.draw(st.sampled_from(FINITE_NUMBERS))
        elif kind == 5:
            value = self.draw(
                st.integers() if integer else st.floats(allow_nan=False, allow_infinity=False)
            )
        elif kind == 6:
            value = self.draw(st.sampled_from(NON_FINITE_NUMBERS))
        else:
            tokens = RAW_NUMBERS + (RAW_YAML_NUMBERS if self.fmt == "yaml" else RAW_JSON_NUMBERS)
            token = self.draw(st.sampled_from(tokens))
            placeholder = f"__SGFUZZ_NUMBER_{len(self.raw_numbers)}__"
            self.raw_numbers[placeholder] = token
            if _raw_value(token) is None and not token.isdigit():
                self.must_diagnose = True
            return placeholder
        if isinstance(value, float) and not math.isfinite(value):
            self.must_diagnose = True
        return value

    def finite(self, value: Any) -> Any | None:
        """The finite number ``value`` stands for (placeholders resolved), else None."""
        if isinstance(value, str) and value in self.raw_numbers:
            return _raw_value(self.raw_numbers[value])
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value

    def expect(self, kind: str, **details: Any) -> None:
        """Record an expectation about the generated module."""
        self.expectations.append({"kind": kind, **details})


def load_bases() -> dict[str, dict[str, Any]]:
    """The example schemas, by file stem, as PyYAML reads them."""
    bases = {}
    for path in sorted(SCHEMAS_DIR.glob("*.yaml")):
        bases[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return bases


BASES = load_bases()


def _synapses(doc: dict[str, Any]) -> list[str]:
    return list(doc["synapses"])


def _stream(doc: dict[str, Any], synapse: str) -> dict[str, Any]:
    stream: dict[str, Any] = doc["synapses"][synapse]["stream"]
    return stream


def _json_payload(doc: dict[str, Any], synapse: str) -> bool:
    stream = _stream(doc, synapse)
    return stream.get("format") in ("openai-sse", "ndjson-events") or (
        stream.get("payload") == "json" or stream.get("framing") == "json-seq"
    )


def _streaming(doc: dict[str, Any]) -> list[str]:
    """The synapses with a ``stream`` (a plain synapse has none)."""
    return [name for name in _synapses(doc) if "stream" in doc["synapses"][name]]


def _json_synapses(doc: dict[str, Any]) -> list[str]:
    return [name for name in _streaming(doc) if _json_payload(doc, name)]


def _framed(doc: dict[str, Any], framing: str, preset: str) -> list[str]:
    """The synapses whose stream has ``framing``, given or through the ``format`` preset."""
    return [name for name in _streaming(doc) if _stream(doc, name).get("framing") == framing
            or _stream(doc, name).get("format") == preset]  # fmt: skip


PRESET_RULES: dict[str, list[dict[str, Any]]] = {
    "openai-sse": [
        {"op": "concat", "path": "choices[0].delta.content", "field": "completion"},
        {"op": "replace", "path": "choices[0].finish_reason", "field": "finish_reason"},
        {"op": "replace", "path": "usage", "field": "usage"},
    ],
    "ndjson-events": [
        {"when": {"type": "text"}, "op": "concat", "path": "text", "field": "completion"},
    ],
}


def _rules(doc: dict[str, Any], synapse: str) -> list[dict[str, Any]]:
    """The synapse's rules, written out if a preset gave them (so that they can be changed)."""
    stream = _stream(doc, synapse)
    if "rules" not in stream:
        rules = copy.deepcopy(PRESET_RULES.get(stream.get("format", ""), []))
        if stream.get("format") == "ndjson-events":
            others = [n for n in doc["synapses"][synapse].get("response", {}) if n != "completion"]
            if others:
                rules.append({"when": {"type": "meta"}, "op": "set", "fields": others})
        stream["rules"] = rules
    rules_list: list[dict[str, Any]] = stream["rules"]
    return rules_list


def _fields(doc: dict[str, Any], synapse: str) -> list[tuple[str, dict[str, Any]]]:
    """The base schema's fields of a synapse (not the ``fz_`` ones another position added)."""
    spec = doc["synapses"][synapse]
    return [
        (name, field_spec)
        for section in ("request", "response")
        for name, field_spec in (spec.get(section) or {}).items()
        if not name.startswith("fz_")
    ]


def _plain_string_field(spec: dict[str, Any]) -> bool:
    """A string field whose default may be any text."""
    kinds = spec.get("type")
    plain = kinds == "string" or kinds == ["string", "null"]
    constrained = {"enum", "const", "pattern", "minLength", "maxLength", "format"} & set(spec)
    return plain and not constrained


def _doc_text(description: str | None, fallback: str) -> str:
    stripped = (description or "").strip()
    return stripped or fallback


def _segment(text: str) -> str:
    """Hostile text usable as one segment of a rule path (no ``.``, ``[`` or ``]``)."""
    return re.sub(r"[.\[\]]", "", text) or "x"


def _path(mut: Mutation) -> str:
    """A rule path whose segments are hostile (expected as constants), sometimes raw text."""
    if mut.draw(st.integers(0, 5)) == 0:
        raw = mut.text()
        return raw  # may be an invalid path: a diagnostic is fine, an exception is not
    segments = [_segment(mut.text()) for _ in range(mut.draw(st.integers(1, 3)))]
    for segment in segments:
        mut.expect("constant", value=segment)
    path = ".".join(segments)
    if mut.draw(st.booleans()):
        path += f"[{mut.draw(st.integers(0, 3))}]"
    return path


def _tag_value(mut: Mutation) -> Any:
    choice = mut.draw(st.integers(0, 5))
    if choice <= 2:
        value = mut.text()
        mut.expect("constant", value=value)
        return value
    if choice == 3:
        return mut.number()
    return mut.draw(st.sampled_from((True, False, None)))


def _tags(mut: Mutation) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for _ in range(mut.draw(st.integers(1, 2))):
        key = mut.draw(st.one_of(st.just("type"), hostile_strings()))
        if key not in tags:  # a second value would make the first one's expectation stale
            mut.expect("constant", value=key)
            tags[key] = _tag_value(mut)
    return tags


# --------------------------------------------------------------------------------------------
# Positions: each puts hostile text into one place of a document and says what must hold.


def _pick_synapse(mut: Mutation, names: Sequence[str] | None = None) -> str:
    return mut.draw(st.sampled_from(sorted(names if names is not None else _synapses(mut.doc))))


def _new_field(mut: Mutation, spec: dict[str, Any], name: str | None = None) -> tuple[str, str]:
    """Add a field (with a default) to a synapse's request or response; (synapse, field).

    Without ``name`` the field gets a fresh ``fz_<n>`` name, so positions never collide.
    """
    synapse = _pick_synapse(mut)
    section = mut.draw(st.sampled_from(("request", "response")))
    owner = mut.doc["synapses"][synapse]
    if name is None:
        taken = {*(owner.get("request") or {}), *(owner.get("response") or {})}
        name = next(f"fz_{n}" for n in range(len(taken) + 1) if f"fz_{n}" not in taken)
    if owner.get(section) is None:
        owner[section] = {}
    owner[section][name] = spec
    return synapse, name


def _fallback(mut: Mutation) -> None:
    """For a position the base schema lacks: a new field with a hostile description."""
    text = mut.text()
    synapse, name = _new_field(mut, {"type": "string", "default": "", "description": text})
    mut.expect("field", cls=synapse, field=name, attr="description", value=text)


def _pick_or_fallback(mut: Mutation, names: Sequence[str]) -> str | None:
    """One of the synapses ``names``; when there is none (the base schema lacks the position),
    None after the :func:`_fallback` mutation."""
    if not names:
        _fallback(mut)
        return None
    return _pick_synapse(mut, names)


def pos_file_description(mut: Mutation) -> None:
    """File-level ``description``: the module docstring."""
    text = mut.text()
    mut.doc["description"] = text
    mut.expect("module_doc", description=text)


def pos_synapse_description(mut: Mutation) -> None:
    """A synapse's ``description``: the class docstring."""
    synapse = _pick_synapse(mut)
    text = mut.text()
    mut.doc["synapses"][synapse]["description"] = text
    kind = "streaming synapse" if "stream" in mut.doc["synapses"][synapse] else "synapse"
    mut.expect("doc", cls=synapse, value=_doc_text(text, f"The {synapse} {kind}."))


def _field_keyword(mut: Mutation, keyword: str) -> None:
    synapse = _pick_synapse(mut)
    fields = _fields(mut.doc, synapse)
    if mut.draw(st.booleans()) and fields:
        name, spec = fields[mut.draw(st.integers(0, len(fields) - 1))]
    else:
        spec = {"type": "string", "default": ""}
        synapse, name = _new_field(mut, spec)
    value: Any = mut.text()
    expected: Any = value
    if keyword == "examples":
        value = [mut.text() for _ in range(mut.draw(st.integers(1, 3)))]
        expected = list(value)
        if mut.draw(st.booleans()):
            number = mut.number()
            value.append(number)
            finite = mut.finite(number)
            expected = None if finite is None else [*expected, finite]
    spec[keyword] = value
    if expected is not None:
        mut.expect("field", cls=synapse, field=name, attr=keyword, value=expected)


def pos_field_description(mut: Mutation) -> None:
    """A field's ``description``: ``Field(description=...)``."""
    _field_keyword(mut, "description")


def pos_field_title(mut: Mutation) -> None:
    """A field's ``title``."""
    _field_keyword(mut, "title")


def pos_field_examples(mut: Mutation) -> None:
    """A field's ``examples`` (hostile strings, sometimes a hostile number)."""
    _field_keyword(mut, "examples")


def pos_string_default(mut: Mutation) -> None:
    """A string ``default``, of an existing plain string field or of a new one."""
    candidates = [
        (synapse, name)
        for synapse in _synapses(mut.doc)
        for name, spec in _fields(mut.doc, synapse)
        if _plain_string_field(spec)
    ]
    text = mut.text()
    existing: bool = mut.draw(st.booleans())
    if candidates and existing:
        synapse, name = mut.draw(st.sampled_from(candidates))
        spec = dict(_fields(mut.doc, synapse))[name]
        spec["default"] = text
    else:
        synapse, name = _new_field(mut, {"type": "string", "default": text})
    mut.expect("field", cls=synapse, field=name, attr="default", value=text)
    mut.expect("instance", cls=synapse, field=name, value=text)


def pos_enum(mut: Mutation) -> None:
    """``enum`` values of a new field (hostile strings, sometimes also null)."""
    values: list[Any] = [mut.text() for _ in range(mut.draw(st.integers(1, 3)))]
    if mut.draw(st.booleans()):
        values.append(mut.draw(st.sampled_from((None, "plain"))))
    values = list(dict.fromkeys(values))
    default = values[0]
    kind = ["string", "null"] if None in values else "string"
    synapse, name = _new_field(mut, {"type": kind, "enum": values, "default": default})
    strings = [v for v in values if isinstance(v, str)]
    mut.expect("literal", cls=synapse, field=name, values=strings)
    mut.expect("instance", cls=synapse, field=name, value=default)


def pos_const(mut: Mutation) -> None:
    """``const`` of a new field."""
    text = mut.text()
    synapse, name = _new_field(mut, {"const": text, "default": text})
    mut.expect("literal", cls=synapse, field=name, values=[text])
    mut.expect("instance", cls=synapse, field=name, value=text)


_REGEX_META = set(".^$*+?{}[]\\|()")


def _escaped_regex(text: str) -> str:
    """A pattern matching exactly ``text`` for Python's re and for pydantic's Rust regex."""
    return "".join("\\" + char if char in _REGEX_META else char for char in text)


def pos_pattern(mut: Mutation) -> None:
    """``pattern``: hostile text escaped into a valid regex (or raw, maybe invalid)."""
    text = "".join(c for c in mut.text() if not "\ud800" <= c <= "\udfff")
    if mut.draw(st.integers(0, 3)) == 0:
        pattern = mut.text()
        spec: dict[str, Any] = {"type": ["string", "null"], "pattern": pattern, "default": None}
        synapse, name = _new_field(mut, spec)
    else:
        pattern = "^" + _escaped_regex(text) + "$"
        synapse, name = _new_field(mut, {"type": "string", "pattern": pattern, "default": text})
        mut.expect("instance", cls=synapse, field=name, value=text)
    mut.expect("pattern", cls=synapse, field=name, pattern=pattern)


def pos_format_keyword(mut: Mutation) -> None:
    """``format`` (informational): any text must leave the field a plain ``str``."""
    synapse, name = _new_field(mut, {"type": "string", "format": mut.text(), "default": "x"})
    mut.expect("instance", cls=synapse, field=name, value="x")


def pos_defs_model(mut: Mutation) -> None:
    """A new ``$defs`` model: its description, property descriptions, titles and defaults."""
    model_doc, prop_doc, default, item = mut.text(), mut.text(), mut.text(), mut.text()
    props: dict[str, Any] = {
        "fz_a": {"type": "string", "description": prop_doc, "default": default},
        "fz_b": {"type": "array", "items": {"type": "string"}, "default": [item]},
    }
    if mut.draw(st.booleans()):
        props["fz_b"]["description"] = mut.text()
    if mut.draw(st.booleans()):
        props["fz_c"] = {"type": "object", "description": mut.text(),
                         "properties": {"n": {"type": "string", "default": mut.text()}},
                         "default": {}}  # fmt: skip
    if mut.draw(st.booleans()):
        props = dict(reversed(list(props.items())))
    model: dict[str, Any] = {"type": "object", "description": model_doc, "properties": props}
    if mut.draw(st.booleans()):
        model["title"] = mut.text()
    mut.doc.setdefault("$defs", {})["FzModel"] = model
    if model_doc.strip():
        mut.expect("model_doc", cls="FzModel", value=model_doc.strip())
    mut.expect("field", cls="FzModel", field="fz_a", attr="description", value=prop_doc)
    mut.expect("field", cls="FzModel", field="fz_a", attr="default", value=default)
    mut.expect("instance", cls="FzModel", field="fz_a", value=default)
    mut.expect("instance", cls="FzModel", field="fz_b", value=[item])
    if "description" in props["fz_b"]:
        value = props["fz_b"]["description"]
        mut.expect("field", cls="FzModel", field="fz_b", attr="description", value=value)
    if mut.draw(st.booleans()):  # also used by a synapse
        _new_field(mut, {"$ref": "#/$defs/FzModel", "default": {}}, name="fz_model")


def pos_defs_enum(mut: Mutation) -> None:
    """A new ``$defs`` enum alias: its description (the alias docstring) and members."""
    values = list(dict.fromkeys(mut.text() for _ in range(mut.draw(st.integers(1, 3)))))
    description = mut.text()
    mut.doc.setdefault("$defs", {})["FzChoice"] = {
        "type": "string", "enum": values, "description": description,
    }  # fmt: skip
    if description.strip():
        mut.expect("alias_doc", name="FzChoice", value=description.strip())
    synapse, name = _new_field(mut, {"$ref": "#/$defs/FzChoice", "default": values[0]})
    mut.expect("literal", cls=synapse, field=name, values=values)
    mut.expect("instance", cls=synapse, field=name, value=values[0])


def pos_defs_existing(mut: Mutation) -> None:
    """Descriptions and string defaults of the base's own ``$defs`` models and properties."""
    defs = mut.doc.get("$defs") or {}
    own = sorted(name for name in defs if not name.startswith("Fz"))
    if not own:
        _fallback(mut)
        return
    name = mut.draw(st.sampled_from(own))
    model = defs[name]
    text = mut.text()
    props = model.get("properties") or {}
    if props and mut.draw(st.booleans()):
        prop = mut.draw(st.sampled_from(sorted(props)))
        spec = props[prop]
        optional = prop not in (model.get("required") or [])
        if _plain_string_field(spec) and optional and mut.draw(st.booleans()):
            spec["default"] = text
            mut.expect("field", cls=name, field=prop, attr="default", value=text)
        else:
            spec["description"] = text
            if "$ref" not in spec:
                mut.expect("field", cls=name, field=prop, attr="description", value=text)
        return
    model["description"] = text
    if not text.strip():
        return
    if props:
        mut.expect("model_doc", cls=name, value=text.strip())
    elif "enum" in model:
        mut.expect("alias_doc", name=name, value=text.strip())


SHIFT_PIECES = (
    "\u2028", "\u2029", "\x85", "\x0c", "\x1c", "\r", "\n", "x", "#", '"', "y = 1", CANARY,
    f"\n{CANARY}\n", "\u2028" * 3, "\u2028" * 6, "    ",
)  # fmt: skip
"""Line breaks Python's tokenizer ignores but ``str.splitlines`` honours, code lines, padding."""
SHIFT_BREAKS = ("\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
"""Line breaks ``str.splitlines`` honours and Python's tokenizer does not."""
_LIST_FIELD = {"type": "array", "items": {"type": "string"}, "default": ["z"]}


def pos_defs_shift(mut: Mutation) -> None:
    """``$defs`` models whose descriptions hold invisible line breaks, then code lines.

    Aimed at line-based rewriting of generated source: a break ``str.splitlines`` sees and the
    tokenizer does not shifts every later line number by one, so a rewrite (here: of list
    defaults) lands on the wrong line. Model ``FzShift0`` shifts by ``k``; ``FzShift1`` has a
    docstring of code lines and fields after it, sometimes laid out ("aimed") so that two shifted
    rewrites replace exactly the docstring's opening and closing quotes.
    """
    defs = mut.doc.setdefault("$defs", {})
    shift = mut.draw(st.integers(1, 9))
    brk = mut.draw(st.sampled_from(SHIFT_BREAKS))
    defs["FzShift0"] = {"type": "object", "description": "a" + brk * shift + "b",
                        "properties": {"p": {"type": "string"}}}  # fmt: skip
    first = mut.draw(st.sampled_from(("None", "pass", "#", "x = 1")))
    body = mut.draw(st.lists(st.sampled_from((CANARY, "None", f"{CANARY}  #")), min_size=1,
                             max_size=3))  # fmt: skip
    lines = [first, *body]
    aimed = {shift - len(lines) - 2, shift - 1} if mut.draw(st.booleans()) else None
    props: dict[str, Any] = {}
    for index in range(mut.draw(st.integers(1, 10))):
        is_list = index in aimed if aimed is not None else mut.draw(st.booleans())
        props[f"f{index}"] = copy.deepcopy(_LIST_FIELD) if is_list else {"type": "string"}
    defs["FzShift1"] = {"type": "object", "description": "\n".join(lines), "properties": props}
    if mut.draw(st.booleans()):
        description = mut.draw(st.lists(st.sampled_from(SHIFT_PIECES), min_size=1, max_size=6))
        props = {f"l{i}": copy.deepcopy(_LIST_FIELD) for i in range(mut.draw(st.integers(0, 3)))}
        defs["FzShift2"] = {"type": "object", "description": "".join(description),
                            "properties": {**props, "q": {"type": "string"}}}  # fmt: skip


def pos_property_name(mut: Mutation) -> None:
    """A hostile property name (and ``required`` entry) of a ``$defs`` model."""
    key = mut.text()
    required = mut.draw(st.booleans())
    model: dict[str, Any] = {
        "type": "object",
        "properties": {key: {"type": "string", **({} if required else {"default": "d"})}},
    }
    if required:
        model["required"] = [key]
    mut.doc.setdefault("$defs", {})["FzNamed"] = model
    mut.expect("alias", cls="FzNamed", alias=key)


NFKC_TRAPS = ("\uff54imeout", "\uff4eame", "\ufb01eld", "\u1d43", "\u212bngstrom", "mod\u0435l")


def pos_names(mut: Mutation) -> None:
    """Hostile names: synapse, field, ``$defs`` names (diagnostics, or exactly that name)."""
    which = mut.draw(st.sampled_from(("synapse", "field", "defs", "unknown_key")))
    name = mut.draw(st.one_of(hostile_strings(), st.sampled_from(NFKC_TRAPS)))
    if which == "synapse":
        old = _pick_synapse(mut)
        mut.doc["synapses"] = {
            (name if key == old else key): value for key, value in mut.doc["synapses"].items()
        }
    elif which == "field":
        synapse, _ = _new_field(mut, {"type": "string", "default": ""}, name=name)
        mut.expect("field_exists", cls=synapse, field=name)
    elif which == "defs":
        mut.doc.setdefault("$defs", {})[name] = {"type": "string"}
    else:
        synapse = _pick_synapse(mut, _streaming(mut.doc))
        where = mut.draw(st.sampled_from(("top", "synapse", "stream")))
        target = {"top": mut.doc, "synapse": mut.doc["synapses"][synapse],
                  "stream": _stream(mut.doc, synapse)}[where]  # fmt: skip
        target[name] = mut.text()


def pos_choice_keyword(mut: Mutation) -> None:
    """Hostile text where the language expects one of a few words (a diagnostic must follow)."""
    synapse = _pick_synapse(mut, _streaming(mut.doc))
    stream = _stream(mut.doc, synapse)
    key = mut.draw(st.sampled_from(("framing", "payload", "yields", "version", "ref", "type")))
    text = mut.text()
    if key == "version":
        mut.doc["version"] = text
    elif key == "ref":
        _new_field(mut, {"$ref": text, "default": None})
    elif key == "type":
        _new_field(mut, {"type": text, "default": None})
    else:
        stream[key] = text


def _framing_option(mut: Mutation, framing: str, preset: str, key: str) -> str | None:
    """Hostile text as the option ``key`` of a stream with ``framing`` (given or through the
    ``preset``): the text, or None after the fallback when the base has no such stream."""
    synapse = _pick_or_fallback(mut, _framed(mut.doc, framing, preset))
    if synapse is None:
        return None
    text = mut.text()
    _stream(mut.doc, synapse)[key] = text
    return text


def pos_sentinel(mut: Mutation) -> None:
    """An SSE stream's ``sentinel``."""
    text = _framing_option(mut, "sse", "openai-sse", "sentinel")
    if text is not None:
        mut.expect("constant", value=text)


def pos_delimiter(mut: Mutation) -> None:
    """A line-framed stream's ``delimiter``."""
    text = _framing_option(mut, "lines", "ndjson-events", "delimiter")
    if text and not has_surrogate(text):
        mut.expect("constant", bytes_hex=text.encode().hex())


def pos_when(mut: Mutation) -> None:
    """``when`` keys and values of a rule."""
    synapse = _pick_or_fallback(mut, _json_synapses(mut.doc))
    if synapse is None:
        return
    rules = _rules(mut.doc, synapse)
    rule = rules[mut.draw(st.integers(0, len(rules) - 1))]
    rule["when"] = _tags(mut)


def pos_rule_path(mut: Mutation) -> None:
    """A rule ``path`` whose segments are hostile JSON keys."""
    synapse = _pick_or_fallback(mut, _json_synapses(mut.doc))
    if synapse is None:
        return
    rules = [r for r in _rules(mut.doc, synapse) if r.get("op") != "set"]
    if not rules:
        _fallback(mut)
        return
    rules[mut.draw(st.integers(0, len(rules) - 1))]["path"] = _path(mut)


def pos_put_key(mut: Mutation) -> None:
    """The ``key`` of a ``put`` rule (a path into the value)."""
    puts = [
        rule for synapse in _json_synapses(mut.doc) for rule in _rules(mut.doc, synapse)
        if rule.get("op") == "put"
    ]  # fmt: skip
    if not puts:
        _fallback(mut)
        return
    mut.draw(st.sampled_from(puts))["key"] = _path(mut)


def pos_set_paths(mut: Mutation) -> None:
    """The paths of a ``set`` rule's ``fields``."""
    synapse = _pick_or_fallback(mut, _json_synapses(mut.doc))
    if synapse is None:
        return
    rules = _rules(mut.doc, synapse)
    sets = [rule for rule in rules if rule.get("op") == "set"]
    if sets:
        rule = sets[0]
        names = rule["fields"] if isinstance(rule["fields"], list) else list(rule["fields"])
    else:
        response = mut.doc["synapses"][synapse].setdefault("response", {})
        response["fz_set"] = {"type": ["string", "null"], "default": None}
        names = ["fz_set"]
        rule = {"when": {"type": "meta"}, "op": "set"}
        rules.append(rule)
    rule["fields"] = {name: _path(mut) for name in names}


def pos_end_event(mut: Mutation) -> None:
    """``end.event`` tags of a JSON stream."""
    sse = _framed(mut.doc, "sse", "openai-sse")
    synapse = _pick_or_fallback(mut, [n for n in _json_synapses(mut.doc) if n not in sse])
    if synapse is None:
        return
    stream = _stream(mut.doc, synapse)
    stream["end"] = {"signal": "event", "event": _tags(mut),
                     "keep_partial": mut.draw(st.booleans())}  # fmt: skip


def pos_error_event(mut: Mutation) -> None:
    """``server.error_event`` keys and values, and ``error_message_key``."""
    synapse = _pick_or_fallback(mut, _json_synapses(mut.doc))
    if synapse is None:
        return
    stream = _stream(mut.doc, synapse)
    server = stream.setdefault("server", {})
    server["error_event"] = _tags(mut)
    if mut.draw(st.booleans()):
        key = mut.text()
        server["error_message_key"] = key
        mut.expect("constant", value=key)


def pos_token_schema(mut: Mutation) -> None:
    """Text in a stream's ``token`` schema (documentation only)."""
    synapse = _pick_or_fallback(mut, _json_synapses(mut.doc))
    if synapse is None:
        return
    stream = _stream(mut.doc, synapse)
    token = stream.setdefault("token", {"type": "object"})
    token[mut.draw(st.sampled_from(("description", "title")))] = mut.text()


def pos_number_default(mut: Mutation) -> None:
    """A hostile number as the default of a number or integer field."""
    integer = mut.draw(st.booleans())
    value = mut.number(integer=integer)
    kind = "integer" if integer else "number"
    synapse, name = _new_field(mut, {"type": kind, "default": value})
    finite = mut.finite(value)
    if not integer:
        finite = _as_float(finite)
    if finite is not None and not mut.must_diagnose and (not integer or isinstance(finite, int)):
        mut.expect("field", cls=synapse, field=name, attr="default", value=finite)
        mut.expect("instance", cls=synapse, field=name, value=finite)


def pos_number_bounds(mut: Mutation) -> None:
    """A hostile number as a bound (``minimum``, ..., ``multipleOf``)."""
    keyword = mut.draw(st.sampled_from(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")))  # fmt: skip
    kind = mut.draw(st.sampled_from(("number", "integer")))
    _new_field(mut, {"type": [kind, "null"], keyword: mut.number(), "default": None})


def pos_number_values(mut: Mutation) -> None:
    """Hostile numbers as ``enum``/``const`` members and ``examples``."""
    value = mut.number()
    which = mut.draw(st.sampled_from(("enum", "const", "examples")))
    if which == "enum":
        synapse, name = _new_field(mut, {"enum": [value, "x"], "default": "x"})
    elif which == "const":
        synapse, name = _new_field(mut, {"const": value, "default": value})
    else:
        synapse, name = _new_field(mut, {"type": "string", "default": "", "examples": [value]})
    finite = mut.finite(value)
    if finite is not None and not mut.must_diagnose and which != "examples":
        mut.expect("literal", cls=synapse, field=name, values=[finite])


def pos_number_stream(mut: Mutation) -> None:
    """Hostile numbers in the stream: tag values, limits, batching."""
    synapse = _pick_synapse(mut, _streaming(mut.doc))
    stream = _stream(mut.doc, synapse)
    which = mut.draw(st.sampled_from(("tag", "limits", "batch_interval", "batch_count")))
    if which == "tag" and _json_payload(mut.doc, synapse):
        rules = _rules(mut.doc, synapse)
        rule = rules[mut.draw(st.integers(0, len(rules) - 1))]
        rule["when"] = {**(rule.get("when") or {}), "fz_number": mut.number()}
    elif which == "limits":
        key = mut.draw(st.sampled_from(("max_frame_bytes", "max_total_bytes")))
        stream.setdefault("limits", {})[key] = mut.number(integer=True)
    else:
        stream.setdefault("server", {})[which] = mut.number(integer=which == "batch_count")


def pos_number_defs(mut: Mutation) -> None:
    """A hostile number as the default of a ``$defs`` model property."""
    value = mut.number()
    mut.doc.setdefault("$defs", {})["FzNumbers"] = {
        "type": "object", "properties": {"n": {"type": "number", "default": value}},
    }  # fmt: skip
    finite = _as_float(mut.finite(value))
    if finite is not None and not mut.must_diagnose:
        mut.expect("field", cls="FzNumbers", field="n", attr="default", value=finite)


def _as_float(value: Any) -> Any:
    """The default a ``number`` field gets for ``value``: an integral one is written as a float
    (its wire value is one), unless no float holds it."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


Position = Callable[[Mutation], None]
POSITIONS: dict[str, Position] = {
    "file.description": pos_file_description,
    "synapse.description": pos_synapse_description,
    "field.description": pos_field_description,
    "field.title": pos_field_title,
    "field.examples": pos_field_examples,
    "field.default": pos_string_default,
    "field.enum": pos_enum,
    "field.const": pos_const,
    "field.pattern": pos_pattern,
    "field.format": pos_format_keyword,
    "$defs.model": pos_defs_model,
    "$defs.enum": pos_defs_enum,
    "$defs.existing": pos_defs_existing,
    "$defs.property_name": pos_property_name,
    "$defs.shift": pos_defs_shift,
    "names": pos_names,
    "choice_keyword": pos_choice_keyword,
    "stream.sentinel": pos_sentinel,
    "stream.delimiter": pos_delimiter,
    "rule.when": pos_when,
    "rule.path": pos_rule_path,
    "rule.put_key": pos_put_key,
    "rule.set_paths": pos_set_paths,
    "end.event": pos_end_event,
    "server.error_event": pos_error_event,
    "stream.token": pos_token_schema,
    "number.default": pos_number_default,
    "number.bounds": pos_number_bounds,
    "number.values": pos_number_values,
    "number.stream": pos_number_stream,
    "number.$defs": pos_number_defs,
    "file.path": lambda mut: None,  # the folder and file names are drawn in examples()
}


EXCLUSIVE_POSITIONS = frozenset({"names", "choice_keyword"})
"""Positions that rename or break things other positions' expectations refer to."""


@st.composite
def examples(draw: st.DrawFn, position: str | None = None, base: str | None = None) -> Example:
    """One example: a base schema with one or two fuzzed positions, and where to write it.

    ``position`` and ``base`` fix the first position and the base schema (else drawn).
    """
    base = base or draw(st.sampled_from(sorted(BASES)))
    fmt = draw(st.sampled_from(("yaml", "json")))
    mut = Mutation(copy.deepcopy(BASES[base]), draw, fmt)
    names = [position or draw(st.sampled_from(sorted(POSITIONS)))]
    if draw(st.integers(0, 3)) == 0 and names[0] not in EXCLUSIVE_POSITIONS:
        others = sorted(set(POSITIONS) - EXCLUSIVE_POSITIONS - set(names))
        names.append(draw(st.randoms(use_true_random=False)).choice(others))  # uniform
    for name in names:
        POSITIONS[name](mut)
    folders: tuple[str, ...] = ("schemas",)
    stem = base
    suffix = draw(st.sampled_from(YAML_SUFFIXES if fmt == "yaml" else JSON_SUFFIXES))
    if "file.path" in names:
        folders = tuple(draw(st.lists(folder_names(), min_size=1, max_size=2)))
        stem = draw(st.one_of(st.just(base), st.sampled_from(MODULE_STEMS),
                              st.sampled_from(BAD_STEMS)))  # fmt: skip
        if not _usable_folder(stem + suffix):
            stem = base
    return Example(
        base=base,
        positions=names,
        document=mut.doc,
        fmt=fmt,
        folders=folders,
        stem=stem,
        suffix=suffix,
        json_ascii=draw(st.booleans()),
        json_indent=draw(st.sampled_from((None, 2))),
        raw_numbers=mut.raw_numbers,
        expectations=mut.expectations,
        must_diagnose=mut.must_diagnose,
    )


def iter_examples(count: int, seed: int | None = None) -> Iterator[Example]:
    """``count`` distinct examples drawn by hypothesis: derandomized unless ``seed`` is given.

    Every position comes first in an equal share of the examples (hypothesis's choices are not
    uniform), so that even a short run covers the whole language; hypothesis draws the rest.
    A share short of distinct examples is topped up from rounds with other (fixed) seeds.
    """
    positions = sorted(POSITIONS)
    seen: set[str] = set()
    for turn, position in enumerate(positions):
        share = count // len(positions) + (turn < count % len(positions))
        produced = 0
        for attempt in range(5):
            if produced >= share:
                break
            round_seed = seed if attempt == 0 else (seed or 0) * 7919 + turn * 31 + attempt
            # A round starts from the simplest example: ask a top-up round for more than needed.
            wanted = share - produced if attempt == 0 else share - produced + 10
            for example in _draw(examples(position), wanted, round_seed):
                if example.key() not in seen and produced < share:
                    seen.add(example.key())
                    produced += 1
                    yield example


def draw_examples(count: int, seed: int | None = None) -> list[Example]:
    """:func:`iter_examples` as a list."""
    return list(iter_examples(count, seed))


def _draw(strategy: st.SearchStrategy[Example], count: int, seed: int | None) -> list[Example]:
    found: list[Example] = []

    @settings(
        max_examples=count,
        deadline=None,
        derandomize=seed is None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Example) -> None:
        found.append(example)

    if seed is not None:
        collect = hypothesis_seed(seed)(collect)
    collect()
    return found[:count]


# --------------------------------------------------------------------------------------------
# Writing schema files


class _QuotingDumper(yaml.SafeDumper):
    """Writes every string double-quoted: escapes make any text round-trip exactly."""


def _represent_str(dumper: Any, data: str) -> yaml.ScalarNode:
    node: yaml.ScalarNode = dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return node


_QuotingDumper.add_representer(str, _represent_str)
_YAML_WRITERS: list[tuple[type[Any], type[Any]]] = [(_QuotingDumper, yaml.SafeLoader)]
if getattr(yaml, "__with_libyaml__", False):  # libyaml is faster, but refuses lone surrogates

    class _FastQuotingDumper(yaml.CSafeDumper):
        """:class:`_QuotingDumper` on libyaml."""

    _FastQuotingDumper.add_representer(str, _represent_str)
    _YAML_WRITERS.insert(0, (_FastQuotingDumper, yaml.CSafeLoader))


def _yaml_text(document: dict[str, Any]) -> str:
    """YAML that PyYAML reads back as ``document`` (compared by repr: NaN equals NaN)."""
    for dumper, loader in _YAML_WRITERS:
        try:
            text: str = yaml.dump(document, Dumper=dumper, allow_unicode=True, sort_keys=False,
                                  width=1_000_000)  # fmt: skip
            if repr(yaml.load(text, Loader=loader)) == repr(document):
                return text
        except (UnicodeError, yaml.YAMLError):
            continue
    raise AssertionError(f"no YAML round-trips {document!r}")


def schema_bytes(example: Example) -> bytes:
    """The schema file's bytes; raw number tokens replace their quoted placeholders."""
    if example.fmt == "yaml":
        text = _yaml_text(example.document)
    else:
        ascii_only = example.json_ascii or has_surrogate(
            json.dumps(example.document, ensure_ascii=False)
        )
        text = json.dumps(example.document, ensure_ascii=ascii_only, indent=example.json_indent)
    for placeholder, token in example.raw_numbers.items():
        text = text.replace(f'"{placeholder}"', token)
    return text.encode("utf-8")


# --------------------------------------------------------------------------------------------
# Static checks of the generated source

FORBIDDEN_NAMES = frozenset({"__import__", "__setitem__", "__dict__", "exec", "eval", "breakpoint"})
"""Names a payload uses and generated code never does."""


def _is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def _is_alias(node: ast.stmt) -> bool:
    if isinstance(node, ast.AnnAssign):
        return (
            isinstance(node.target, ast.Name)
            and isinstance(node.annotation, ast.Name)
            and node.annotation.id == "TypeAlias"
        )
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "TypeAliasType"
    )


def _allowed_top_level(node: ast.stmt, index: int, previous: ast.stmt | None) -> bool:
    if _is_docstring(node):
        return index == 0 or (previous is not None and _is_alias(previous))
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)) or _is_alias(node):
        return not getattr(node, "decorator_list", [])
    if isinstance(node, ast.Assign):
        return (
            len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "__all__"
            and isinstance(node.value, (ast.List, ast.Tuple))
            and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                    for e in node.value.elts)
        )  # fmt: skip
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "model_rebuild"
        and isinstance(node.value.func.value, ast.Name)
        and not node.value.args
        and not node.value.keywords
    )


def _allowed_in_class(node: ast.stmt, index: int) -> bool:
    if _is_docstring(node):
        return index == 0
    if isinstance(node, (ast.AnnAssign, ast.Assign)):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        return all(isinstance(target, ast.Name) for target in targets)
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Pass))


def injection_problems(source: str) -> list[str]:
    """What in ``source``'s syntax tree schema text may not have produced (empty: clean)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"not valid Python: {exc}"]
    problems = []
    for node in ast.walk(tree):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if name in FORBIDDEN_NAMES and isinstance(node, (ast.Name, ast.Attribute)):
            problems.append(f"line {node.lineno}: payload name {name!r} in code")
    previous: ast.stmt | None = None
    for index, node in enumerate(tree.body):
        if not _allowed_top_level(node, index, previous):
            problems.append(f"line {node.lineno}: top-level {_show(node)}")
        previous = node
        if isinstance(node, ast.ClassDef):
            for position, statement in enumerate(node.body):
                if not _allowed_in_class(statement, position):
                    problems.append(f"line {statement.lineno}: in class {node.name}: "
                                    f"{_show(statement)}")  # fmt: skip
    return problems


def _show(node: ast.AST) -> str:
    text = ast.unparse(node).splitlines()[0] if ast.unparse(node) else ""
    return f"{type(node).__name__} {text[:100]!r}"


def _constants(tree: ast.AST) -> tuple[set[str], set[bytes]]:
    strings: set[str] = set()
    data: set[bytes] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                strings.add(node.value)
            elif isinstance(node.value, bytes):
                data.add(node.value)
    return strings, data


def static_mismatches(source: str, expectations: Iterable[dict[str, Any]]) -> list[str]:
    """Expectations checked on the source: constants present, alias docstrings intact."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    strings, data = _constants(tree)
    problems = []
    for expectation in expectations:
        if expectation["kind"] == "constant":
            if "bytes_hex" in expectation:
                value: str | bytes = bytes.fromhex(expectation["bytes_hex"])
                present = value in data
            else:
                value = expectation["value"]
                present = value in strings
            if not present:
                problems.append(f"constant {value!r} is not in the module")
        elif expectation["kind"] == "alias_doc":
            found = _alias_doc(tree, expectation["name"])
            if found != expectation["value"]:
                problems.append(f"alias {expectation['name']} docstring: expected "
                                f"{expectation['value']!r}, got {found!r}")  # fmt: skip
    return problems


def _alias_doc(tree: ast.Module, name: str) -> str | None:
    for node, following in zip(tree.body, tree.body[1:], strict=False):
        target: ast.expr | None = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == name and _is_docstring(following):
            assert isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
            return str(following.value.value)
    return None


def one_line(text: str) -> bool:
    """Whether ``text`` holds no line boundary at all (``str.splitlines``'s notion)."""
    return len((text + "x").splitlines()) == 1


# --------------------------------------------------------------------------------------------
# Import runner (runs in a subprocess; only its source is used there)


def _import_runner(job_file: str) -> None:  # pragma: no cover - runs in a subprocess
    """Import each job's package, construct its classes and check its expectations.

    Prints one ``SGFUZZ <json>`` line per job. Self-contained: the subprocess receives this
    function's source, so it imports what it needs itself.
    """
    import builtins
    import importlib
    import inspect as inspect_module
    import json as json_module
    import sys as sys_module
    import typing

    flag = "SYNAPSEGEN_FUZZ_EXECUTED"

    def describe(exc: BaseException) -> str:
        text = " ".join(str(exc).split())  # one line; the end of pydantic's errors matters most
        if len(text) > 400:
            text = text[:150] + " ... " + text[-250:]
        return f"{type(exc).__name__}: {text}"

    def literal_values(annotation: Any) -> list[Any]:
        found: list[Any] = []
        pending = [annotation]
        while pending and len(found) < 10_000:
            item = pending.pop()
            if type(item).__name__ == "TypeAliasType":
                pending.append(item.__value__)
                continue
            origin = typing.get_origin(item)
            if origin is typing.Literal:
                found.extend(typing.get_args(item))
            elif origin is typing.Annotated:
                pending.append(typing.get_args(item)[0])
            else:
                pending.extend(typing.get_args(item))
        return found

    def placeholder(annotation: Any) -> Any:
        origin = typing.get_origin(annotation) or annotation
        if origin in (list, tuple, set):
            return []
        if origin is dict:
            return {}
        if annotation in (int, float):
            return 0
        if annotation is bool:
            return False
        if annotation is str:
            return ""
        return {}

    def same_doc(actual: Any, expected: str, lenient: bool) -> bool:
        """Equal, or (lenient) equal as docstrings: indentation and trailing blanks aside.

        Lines are split at "\\n" only, so a U+2028 that became a line break still differs.
        """
        if actual == expected:
            return True
        if not isinstance(actual, str):
            return False
        if lenient or sys_module.version_info >= (3, 13):  # 3.13 dedents docstrings itself

            def normal(text: str) -> list[str]:
                lines = inspect_module.cleandoc(text).split("\n")
                return [line.rstrip(" \t") for line in lines]

            # 3.13 keeps the first line and dedents the others: no leading newline to add.
            return normal(actual) in (normal("\n" + expected), normal(expected))
        return False

    def check(expectation: dict[str, Any], module: Any, instances: dict[str, Any]) -> str | None:
        kind = expectation["kind"]
        if kind == "module_doc":
            if module.__doc__ != expectation["value"]:
                wanted = expectation["value"]
                return f"module docstring: expected {wanted!r}, got {module.__doc__!r}"
            return None
        cls = getattr(module, expectation.get("cls", ""), None)
        if cls is None:
            return f"{kind}: class {expectation.get('cls')!r} is missing"
        if kind in ("doc", "model_doc"):
            if not same_doc(cls.__doc__, expectation["value"], kind == "model_doc"):
                wanted = expectation["value"]
                return f"{cls.__name__}.__doc__: expected {wanted!r}, got {cls.__doc__!r}"
            return None
        fields = cls.model_fields
        if kind == "alias":
            alias = expectation["alias"]
            if not any(n == alias or f.alias == alias or f.validation_alias == alias
                       for n, f in fields.items()):  # fmt: skip
                return f"{cls.__name__}: no field named or aliased {alias!r}: {sorted(fields)!r}"
            return None
        name = expectation["field"]
        if name not in fields:
            return f"{cls.__name__}: field {name!r} is missing (fields: {sorted(fields)!r})"
        info = fields[name]
        if kind == "field_exists":
            return None
        if kind == "field":
            actual = getattr(info, expectation["attr"])
            wanted = expectation["value"]
            if actual != wanted or type(actual) is not type(wanted):
                return (f"{cls.__name__}.{name} {expectation['attr']}: expected {wanted!r}, "
                        f"got {actual!r}")  # fmt: skip
            return None
        if kind == "instance":
            if cls.__name__ not in instances:
                return None  # construction failed: reported as such
            actual = getattr(instances[cls.__name__], name)
            if actual != expectation["value"]:
                return f"{cls.__name__}().{name}: expected {expectation['value']!r}, got {actual!r}"
            return None
        if kind == "literal":
            values = literal_values(info.annotation)
            missing = [v for v in expectation["values"] if v not in values]
            if missing:
                return f"{cls.__name__}.{name}: Literal lacks {missing!r} (has {values!r})"
            return None
        if kind == "pattern":
            patterns = [getattr(m, "pattern", None) for m in info.metadata]
            if expectation["pattern"] not in patterns:
                wanted = expectation["pattern"]
                return f"{cls.__name__}.{name}: pattern {wanted!r} not in {patterns!r}"
            return None
        return f"unknown expectation {kind!r}"

    with open(job_file, encoding="utf-8") as handle:
        jobs = json_module.load(handle)
    for job in jobs:
        result: dict[str, Any] = {"id": job["id"], "import_error": None, "executed": [],
                                  "construct_errors": [], "mismatches": []}  # fmt: skip
        builtins.__dict__.pop(flag, None)
        module = None
        try:
            importlib.import_module(job["package"])
            module = importlib.import_module(f"{job['package']}.{job['module']}")
        except BaseException as exc:  # noqa: B036 - SystemExit from a payload counts too
            result["import_error"] = describe(exc)
        if builtins.__dict__.pop(flag, None):
            result["executed"].append("while importing")
        if module is not None:
            instances: dict[str, Any] = {}
            for name in job["construct"]:
                cls = getattr(module, name, None)
                if cls is None:
                    result["construct_errors"].append(f"{name}: no such class")
                    continue
                try:
                    arguments = {
                        field_name: placeholder(info.annotation)
                        for field_name, info in cls.model_fields.items()
                        if info.is_required()
                    }
                    instances[name] = cls(**arguments)
                except BaseException as exc:  # noqa: B036
                    result["construct_errors"].append(f"{name}(): {describe(exc)}")
            if builtins.__dict__.pop(flag, None):
                result["executed"].append("while constructing")
            for expectation in job["expectations"]:
                try:
                    problem = check(expectation, module, instances)
                except BaseException as exc:  # noqa: B036
                    problem = f"{expectation['kind']}: check raised {describe(exc)}"
                if problem is not None:
                    result["mismatches"].append(problem[:600])
            if builtins.__dict__.pop(flag, None):
                result["executed"].append("while checking")
        sys_module.stdout.write("SGFUZZ " + json_module.dumps(result) + "\n")
        sys_module.stdout.flush()


RUNNER_SOURCE = (
    "from __future__ import annotations\nimport sys\nfrom typing import Any\n\n"
    + textwrap.dedent(inspect.getsource(_import_runner))
    + "\n_import_runner(sys.argv[1])\n"
)


def run_imports(
    jobs: list[dict[str, Any]], root: Path, timeout: float
) -> tuple[dict[int, dict[str, Any]], str]:
    """Run the import runner on ``jobs`` (packages below ``root``); (results by id, stderr)."""
    job_file = root / f"jobs-{jobs[0]['id']}.json"
    job_file.write_text(json.dumps(jobs), encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-c", RUNNER_SOURCE, str(job_file)]
    try:
        done = subprocess.run(command, cwd=root, capture_output=True, timeout=timeout, env=env)
        stdout, stderr = done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout or b""
        stderr = (exc.stderr or b"") + f"\n(timed out after {timeout:.0f} s)".encode()
    results = {}
    for line in stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("SGFUZZ "):
            result = json.loads(line[len("SGFUZZ ") :])
            results[result["id"]] = result
    return results, stderr.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# Running examples

FAILURE_CLASSES = (
    "internal_errors", "import_failures", "construct_failures", "executions", "injections",
    "mismatches", "bad_diagnostics", "undiagnosed",
)  # fmt: skip


@dataclass
class Outcome:
    """What became of one example."""

    index: int
    diagnostics: int = 0
    generated: bool = False
    failures: dict[str, list[str]] = field(default_factory=dict)
    diagnostic_text: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # kept only for failures

    def fail(self, kind: str, detail: str) -> None:
        """Record a failure of class ``kind``."""
        self.failures.setdefault(kind, []).append(detail)


def _write_example(example: Example, folder: Path) -> Path:
    path = folder.joinpath(*example.folders) / (example.stem + example.suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(schema_bytes(example))
    return path


def _display(path: Path, cwd: Path) -> str:
    return path.relative_to(cwd).as_posix()


def _resolve(expectations: list[dict[str, Any]], display: str) -> list[dict[str, Any]]:
    """Expectations with the module docstring's fallback (which names the file) filled in."""
    resolved = []
    for expectation in expectations:
        if expectation["kind"] == "module_doc":
            text = _doc_text(expectation["description"], f"Streaming synapses from {display}.")
            expectation = {"kind": "module_doc", "value": text}
        resolved.append(expectation)
    return resolved


def _constructible(example: Example) -> list[str]:
    names = [name for name in example.document.get("synapses", {}) if isinstance(name, str)]
    if "FzModel" in (example.document.get("$defs") or {}):
        names.append("FzModel")
    return [name for name in names if name.isidentifier()]


def run_chunk(
    chunk: list[tuple[int, Example]], workdir: str, keep_files: bool = True
) -> list[Outcome]:
    """Generate every example of ``chunk``, then import the generated packages in one subprocess."""
    from synapsegen.pipeline import Options, generate

    root = Path(tempfile.mkdtemp(prefix="chunk-", dir=workdir))
    outcomes: dict[int, Outcome] = {}
    jobs: list[dict[str, Any]] = []
    sources: dict[int, dict[str, str]] = {}
    try:
        for index, example in chunk:
            outcome = outcomes[index] = Outcome(index)
            cwd = root / f"x{index}"
            path = _write_example(example, cwd)
            try:
                result = generate([path], Options(), cwd)
            except Exception as exc:  # the point: nothing may escape
                frames = traceback.extract_tb(exc.__traceback__)
                where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
                message = " ".join(str(exc).split())[:400]  # one line, ruff's complaint too
                outcome.fail("internal_errors", f"{type(exc).__name__} at {where}: {message}")
                continue
            if result.diagnostics:
                outcome.diagnostics = len(result.diagnostics)
                outcome.diagnostic_text = [str(d) for d in result.diagnostics]
                for diagnostic in result.diagnostics:
                    if not one_line(str(diagnostic)):
                        outcome.fail("bad_diagnostics", f"line break in {str(diagnostic)!r}")
                        break
                continue
            outcome.generated = True
            sources[index] = dict(result.files)
            if example.must_diagnose:
                outcome.fail("undiagnosed", "a non-finite number was accepted")
            expectations = _resolve(example.expectations, _display(path, cwd))
            module_file = example.stem.replace("-", "_") + ".py"
            for name, text in result.files.items():
                if name.endswith(".py"):
                    for problem in injection_problems(text)[:5]:
                        outcome.fail("injections", f"{name}: {problem}")
            if module_file in result.files:
                for problem in static_mismatches(result.files[module_file], expectations):
                    outcome.fail("mismatches", problem)
            package = root / f"p{index}"
            try:
                package.mkdir()
                for name, text in result.files.items():
                    (package / name).write_text(text, encoding="utf-8")
            except (OSError, UnicodeError) as exc:
                outcome.fail("import_failures", f"cannot write the package: {exc}"[:300])
                continue
            modules = [name[:-3] for name in result.files if name.endswith(".py")]
            jobs.append({
                "id": index, "package": package.name,
                "module": next((m for m in modules if m != "__init__"), "__init__"),
                "construct": _constructible(example),
                "expectations": [e for e in expectations
                                 if e["kind"] not in ("constant", "alias_doc")],
            })  # fmt: skip
        _import_all(jobs, root, outcomes)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for index, outcome in outcomes.items():
        if outcome.failures and keep_files:
            outcome.files = sources.get(index, {})
    return [outcomes[index] for index, _ in chunk]


def _import_all(jobs: list[dict[str, Any]], root: Path, outcomes: dict[int, Outcome]) -> None:
    """Import the jobs in one subprocess; jobs it did not finish run again one by one."""
    if not jobs:
        return
    results, stderr = run_imports(jobs, root, timeout=60 + 5 * len(jobs))
    for job in jobs:
        if job["id"] not in results and len(jobs) > 1:
            single, single_stderr = run_imports([job], root, timeout=60)
            results.update(single)
            if job["id"] not in single:
                results[job["id"]] = {"id": job["id"], "crashed": single_stderr[-500:]}
        elif job["id"] not in results:
            results[job["id"]] = {"id": job["id"], "crashed": stderr[-500:]}
    for job in jobs:
        result, outcome = results[job["id"]], outcomes[job["id"]]
        if "crashed" in result:
            outcome.fail("import_failures", f"the import subprocess died: {result['crashed']}")
            continue
        if result["import_error"]:
            outcome.fail("import_failures", result["import_error"])
        for moment in result["executed"]:
            outcome.fail("executions", f"the canary ran {moment}")
        for problem in result["construct_errors"]:
            outcome.fail("construct_failures", problem)
        for problem in result["mismatches"]:
            outcome.fail("mismatches", problem)


# --------------------------------------------------------------------------------------------
# Campaigns


@dataclass(repr=False)
class Report:
    """Counts of a campaign, the failing examples, and where the first few were saved."""

    examples: int
    seconds: float
    counts: Counter[str]
    failing: list[tuple[Example, Outcome]]
    saved_to: Path | None

    @property
    def rate(self) -> float:
        """Examples per second (wall clock)."""
        return self.examples / self.seconds if self.seconds else 0.0

    def __repr__(self) -> str:
        return f"Report({self.summary()})"

    def failure_counts(self) -> dict[str, int]:
        """Examples per failure class."""
        return {kind: self.counts[kind] for kind in FAILURE_CLASSES}

    def summary(self) -> str:
        """The one-line summary."""
        parts = [f"examples={self.examples}", f"diagnostics={self.counts['diagnostics']}",
                 f"generated={self.counts['generated']}"]  # fmt: skip
        parts += [f"{kind}={self.counts[kind]}" for kind in FAILURE_CLASSES]
        parts.append(f"rate={self.rate:.1f}/s")
        return " ".join(parts)

    def details(self, per_class: int = 3, kinds: Sequence[str] = FAILURE_CLASSES) -> str:
        """The first failures of each class, one paragraph per example (escaped to ASCII)."""
        lines = []
        for kind in kinds:
            shown = [(e, o) for e, o in self.failing if kind in o.failures][:per_class]
            for example, outcome in shown:
                lines.append(f"{kind}: {example.describe()}")
                lines += [f"    {detail}" for detail in outcome.failures[kind][:3]]
        return "\n".join(line.encode("unicode_escape").decode("ascii") for line in lines)


def _init_worker(paths: list[str]) -> None:
    for path in reversed(paths):
        if path not in sys.path:
            sys.path.insert(0, path)


def run_campaign(
    count: int,
    *,
    seed: int | None = None,
    workers: int = 1,
    batch: int = 50,
    save_dir: Path | None = None,
    max_saved: int = 5,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Draw ``count`` examples and run them; save the first ``max_saved`` failures per class.

    Examples are drawn while earlier batches run: ``workers`` processes each take a batch,
    generate it, and import what it generated in one subprocess.
    """
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="synapsegen-fuzz-")
    items: dict[int, Example] = {}
    counts: Counter[str] = Counter()
    failing: list[tuple[Example, Outcome]] = []

    def batches() -> Iterator[list[tuple[int, Example]]]:
        chunk: list[tuple[int, Example]] = []
        for index, example in enumerate(iter_examples(count, seed)):
            items[index] = example
            chunk.append((index, example))
            if len(chunk) == batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def record(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            counts["examples"] += 1
            counts["diagnostics"] += outcome.diagnostics > 0
            counts["generated"] += outcome.generated
            for kind in outcome.failures:
                counts[kind] += 1
            if outcome.failures:
                failing.append((items[outcome.index], outcome))
        if progress is not None:
            progress(f"{counts['examples']}/{count} examples, {time.monotonic() - started:.0f} s, "
                     f"{sum(counts[k] for k in FAILURE_CLASSES)} failures")  # fmt: skip

    try:
        if workers <= 1:
            for chunk in batches():
                record(run_chunk(chunk, workdir))
        else:
            context = multiprocessing.get_context()
            with context.Pool(workers, _init_worker, (list(sys.path),)) as pool:
                pending: deque[AsyncResult[list[Outcome]]] = deque()
                for chunk in batches():  # drawn here, in parallel with the batches running
                    pending.append(pool.apply_async(run_chunk, (chunk, workdir)))
                    while len(pending) > workers:
                        record(pending.popleft().get())
                while pending:
                    record(pending.popleft().get())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    failing.sort(key=lambda pair: pair[1].index)
    saved = save_failures(failing, save_dir, max_saved) if failing and save_dir else None
    return Report(len(items), time.monotonic() - started, counts, failing, saved)


def save_failures(failing: list[tuple[Example, Outcome]], folder: Path, per_class: int) -> Path:
    """Write the first ``per_class`` failing examples of each class below ``folder``.

    Each gets ``<class>/<n>/``: the schema as it was written (in its folders), ``example.txt``
    (what was fuzzed, what failed), ``generated/`` (the output, if any) and ``repro.py``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for kind in FAILURE_CLASSES:
        shown = [(e, o) for e, o in failing if kind in o.failures][:per_class]
        for number, (example, outcome) in enumerate(shown, 1):
            target = folder / kind / f"{number}-{example.base}"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir(parents=True)
            schema = _write_example(example, target / "case")
            info = {
                "example": example.describe(), "positions": example.positions,
                "failures": outcome.failures, "diagnostics": outcome.diagnostic_text,
                "expectations": example.expectations, "must_diagnose": example.must_diagnose,
            }  # fmt: skip
            (target / "example.txt").write_text(
                json.dumps(info, indent=2, ensure_ascii=True, default=repr), encoding="ascii"
            )
            if outcome.files:
                generated = target / "generated"
                generated.mkdir()
                for name, text in outcome.files.items():
                    (generated / name).write_text(text, encoding="utf-8", errors="backslashreplace")
            relative = schema.relative_to(target)
            repro = _REPRO.format(parts=list(relative.parts), module=f"{schema.stem}.py")
            (target / "repro.py").write_text(repro, encoding="utf-8")
    return folder


_REPRO = '''\
"""Generate this failing example again: python repro.py (from this folder)."""
from pathlib import Path

from synapsegen.pipeline import Options, generate

here = Path(__file__).resolve().parent
result = generate([here.joinpath(*{parts!r})], Options(), here / "case")
print(*(str(d) for d in result.diagnostics), sep="\\n")
print(result.files.get({module!r}, "")[:4000])
'''


def export_revision(rev: str, into: Path) -> Path:
    """Lay out ``synapsegen`` of git revision ``rev`` below ``into``; return the folder to import.

    The working tree may be mid-edit; this fuzzes a committed generator (and its runtime and
    templates) instead. The folder must come first on ``sys.path`` and in ``PYTHONPATH``.
    """
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "generator", "runtime",
         "templates"], capture_output=True, check=True,
    ).stdout  # fmt: skip
    raw = into / "raw"
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(raw)  # our own repository's archive
    package = into / "root" / "synapsegen"
    package.parent.mkdir(parents=True)
    shutil.move(str(raw / "generator"), str(package))
    shutil.move(str(raw / "runtime"), str(package / "runtime"))
    shutil.move(str(raw / "templates"), str(package / "templates"))
    return into / "root"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tests.generator.fuzz``: run a campaign and print its summary."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.generator.fuzz",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    workers = os.cpu_count() or 1
    for option, kind, default, text in (
        ("--examples", int, 1000, "how many (default 1000)"),
        ("--seed", int, None, "random seed (default: derandomized, the same examples every run)"),
        ("--workers", int, workers, "processes generating in parallel (default: one per CPU)"),
        ("--batch", int, 50, "modules per import subprocess"),
        ("--save", Path, None, "folder for the first failing examples (default: a temp folder)"),
        ("--max-saved", int, 5, "failing examples saved per class"),
        ("--rev", str, None, "fuzz this git revision's generator instead of the installed one"),
        ("--jsonl", Path, None, "also write every failing example here, one JSON object a line"),
    ):
        parser.add_argument(option, type=kind, default=default, help=text)
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    if args.rev is not None:
        args.rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", args.rev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if "synapsegen" in sys.modules:
            parser.error("--rev needs a fresh interpreter (synapsegen is already imported)")
        folder = Path(tempfile.mkdtemp(prefix="synapsegen-rev-"))
        atexit.register(shutil.rmtree, folder, True)
        snapshot = export_revision(args.rev, folder)
        sys.path.insert(0, str(snapshot))
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(snapshot), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    import synapsegen

    save = args.save or Path(tempfile.mkdtemp(prefix="synapsegen-fuzz-failures-"))
    print(f"fuzzing {Path(synapsegen.__file__).parent} "
          f"({'git ' + args.rev if args.rev else 'as installed'})", file=sys.stderr)  # fmt: skip
    report = run_campaign(
        args.examples, seed=args.seed, workers=args.workers, batch=args.batch, save_dir=save,
        max_saved=args.max_saved,
        progress=None if args.quiet else (lambda line: print(line, file=sys.stderr)),
    )  # fmt: skip
    print(report.summary())
    if args.jsonl is not None:
        with args.jsonl.open("w", encoding="ascii") as handle:
            for example, outcome in report.failing:
                record = {"example": example.describe(), "positions": example.positions,
                          "failures": outcome.failures}  # fmt: skip
                handle.write(json.dumps(record, ensure_ascii=True) + "\n")
    if report.failing:
        print(report.details())
        print(f"first failing examples saved to {report.saved_to}")
    return 1 if report.failing else 0


if __name__ == "__main__":
    sys.exit(main())
