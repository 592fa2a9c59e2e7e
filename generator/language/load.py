"""Read a schema file (YAML or JSON) into plain Python data plus the position of every node.

YAML is composed with PyYAML into a node tree, then converted to data here, so that every node's
start mark is recorded under its path in the document. The resolver implements the YAML 1.2 core
schema: only ``true``/``false`` (any case style) are booleans, so ``on``, ``yes`` and ``no`` stay
strings; there are no timestamps and no merge keys. Mapping keys are always strings (JSON's data
model), taken verbatim from the key's text.

JSON is parsed by :mod:`json` (exact JSON semantics, and json's own line/column on errors); a small
scanner over the then known-valid text records the positions.

Nothing here raises for bad input: problems become :class:`~synapsegen.diagnostics.Diagnostic`
entries of the returned :class:`Document`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from ..diagnostics import Diagnostic, NodePath, Position
from .yaml_hints import explain as explain_yaml_error
from .yaml_hints import tag_hint

__all__ = ["Document", "load_document", "load_text"]

# Load-stage codes (see the table in synapsegen.validate).
READ_ERROR = "SG001"
ENCODING_ERROR = "SG002"
SYNTAX_ERROR = "SG003"
DUPLICATE_KEY = "SG004"
UNSUPPORTED_YAML = "SG005"
UNKNOWN_EXTENSION = "SG006"
NOT_JSON_VALUE = "SG007"

YAML_SUFFIXES = frozenset({".yaml", ".yml"})
JSON_SUFFIXES = frozenset({".json"})

MAX_DEPTH = 64
"""Deeper documents are refused (no schema needs it; recursion belongs in $ref)."""
MAX_NODES = 100_000
"""Bound on constructed nodes, so alias expansion ("billion laughs") cannot exhaust memory."""


@dataclass(frozen=True)
class Document:
    """A loaded schema file.

    ``data`` is plain Python (dict/list/str/int/float/bool/None), or None when ``diagnostics`` is
    not empty. ``positions`` maps each node's path to the position of its value; ``key_positions``
    maps the path of each mapping entry to the position of its key.
    """

    path: Path
    text: str
    sha256: str
    data: Any
    positions: dict[NodePath, Position] = field(default_factory=dict)
    key_positions: dict[NodePath, Position] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def display_path(self) -> str:
        """The path as the user gave it, for diagnostics."""
        return str(self.path)

    def diagnostic(
        self, node_path: NodePath, code: str, message: str, *, at_key: bool = False
    ) -> Diagnostic:
        """A diagnostic located at a node (or at its key), falling back to the nearest ancestor."""
        return Diagnostic(
            self.display_path, *self.position_of(node_path, at_key=at_key), code, message
        )

    def position_of(self, node_path: NodePath, *, at_key: bool = False) -> Position:
        """Position of a node's value (or key); an absent node maps to its nearest ancestor."""
        path = tuple(node_path)
        if at_key and path in self.key_positions:
            return self.key_positions[path]
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), Position(1, 1))


def load_document(path: Path) -> Document:
    """Load a schema file; problems are reported in ``Document.diagnostics``, never raised."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in YAML_SUFFIXES | JSON_SUFFIXES:
        return _failed(
            path,
            "",
            "",
            UNKNOWN_EXTENSION,
            Position(1, 1),
            f"unknown file extension {suffix or '(none)'!r}; use .yaml, .yml or .json",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _failed(
            path, "", "", READ_ERROR, Position(1, 1), f"cannot read file: {exc.strerror or exc}"
        )
    return load_bytes(path, raw, is_json=suffix in JSON_SUFFIXES)


def load_text(path: Path, text: str) -> Document:
    """Load a document from text (for tests and editors); the format follows ``path``'s suffix."""
    return load_bytes(
        Path(path), text.encode("utf-8"), is_json=Path(path).suffix.lower() in JSON_SUFFIXES
    )


def load_bytes(path: Path, raw: bytes, *, is_json: bool) -> Document:
    """Load a document from its raw bytes."""
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # exc.object is the input after any BOM; the bytes before exc.start are valid UTF-8.
        # Columns count characters, as in every other diagnostic.
        valid = exc.object[: exc.start].decode("utf-8")
        line = valid.count("\n") + 1
        col = len(valid) - (valid.rfind("\n") + 1) + 1
        offset = len(raw) - len(exc.object) + exc.start
        return _failed(
            path,
            "",
            digest,
            ENCODING_ERROR,
            Position(line, col),
            f"file is not valid UTF-8 (byte 0x{raw[offset]:02x} at offset {offset})",
        )
    builder = _JsonBuilder(path, text) if is_json else _YamlBuilder(path, text)
    try:
        data = builder.build()
        diagnostics = tuple(builder.diagnostics)
    except _LoadFailure as failure:
        data, diagnostics = None, (failure.diagnostic,)
    if not diagnostics:
        diagnostics = tuple(_not_json(data, (), builder.positions, builder.key_positions, path))
    if diagnostics:
        data = None  # a document with errors has no data
    return Document(path, text, digest, data, builder.positions, builder.key_positions, diagnostics)


def _not_json(
    data: Any,
    node_path: NodePath,
    positions: dict[NodePath, Position],
    key_positions: dict[NodePath, Position],
    path: Path,
) -> list[Diagnostic]:
    """Values JSON cannot carry: non-finite numbers (.inf, .nan, 1e999) and lone surrogates.

    Generated code holds schema values as Python literals and sends them as JSON: neither has
    a literal for these, so they are refused here, where the position is known.
    """
    found: list[Diagnostic] = []

    def report(where: NodePath, table: dict[NodePath, Position], message: str) -> None:
        position = table.get(where) or positions.get(where) or Position(1, 1)
        found.append(Diagnostic(str(path), *position, NOT_JSON_VALUE, message))

    if isinstance(data, float) and not math.isfinite(data):
        report(node_path, positions, f"number {data!r} is not finite; JSON has no such value")
    elif isinstance(data, str) and _has_surrogate(data):
        report(node_path, positions, "string contains a lone surrogate, which UTF-8 cannot encode")
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _not_json(item, (*node_path, index), positions, key_positions, path)
    elif isinstance(data, dict):
        for key, item in data.items():
            if _has_surrogate(key):
                report((*node_path, key), key_positions,
                       "key contains a lone surrogate, which UTF-8 cannot encode")  # fmt: skip
            found += _not_json(item, (*node_path, key), positions, key_positions, path)
    return found


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _failed(path: Path, text: str, digest: str, code: str, pos: Position, message: str) -> Document:
    return Document(
        path, text, digest, None, diagnostics=(Diagnostic(str(path), *pos, code, message),)
    )


class _LoadFailure(Exception):
    """Stops building; carries the one diagnostic that explains why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class _Builder:
    """Shared state: recorded positions and non-fatal diagnostics (duplicate keys)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.positions: dict[NodePath, Position] = {}
        self.key_positions: dict[NodePath, Position] = {}
        self.diagnostics: list[Diagnostic] = []

    def build(self) -> Any:
        raise NotImplementedError

    def fail(self, pos: Position, code: str, message: str) -> _LoadFailure:
        return _LoadFailure(Diagnostic(str(self.path), *pos, code, message))

    def duplicate(self, pos: Position, key: str, first: Position) -> None:
        self.diagnostics.append(
            Diagnostic(
                str(self.path),
                *pos,
                DUPLICATE_KEY,
                f"duplicate key {key!r} (first defined at line {first.line}, column {first.col})",
            )
        )


# ---------------------------------------------------------------------------------------- YAML

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

# The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_CORE_RESOLUTION: tuple[tuple[str, re.Pattern[str]], ...] = (
    (_NULL, re.compile(r"~|null|Null|NULL|")),
    (_BOOL, re.compile(r"true|True|TRUE|false|False|FALSE")),
    (_INT, re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    (
        _FLOAT,
        re.compile(
            r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
        ),
    ),
)


class _CoreResolver(BaseResolver):
    """Resolves plain scalars by the YAML 1.2 core schema instead of PyYAML's YAML 1.1 rules."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            for tag, pattern in _CORE_RESOLUTION:
                if pattern.fullmatch(value):
                    return tag
            return _STR
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


class _ComposingLoader(Reader, Scanner, Parser, Composer, _CoreResolver):
    """PyYAML's pipeline up to the node tree, with the core-schema resolver."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


try:  # libyaml's parser, shipped inside PyYAML's wheels: same nodes and marks, ten times faster
    from yaml._yaml import CParser as _LibyamlParser
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    _LibyamlParser = None  # type: ignore[assignment,misc]


if _LibyamlParser is not None:

    class _FastComposingLoader(_LibyamlParser, _CoreResolver):
        """libyaml up to the node tree, with the same core-schema resolver."""

        def __init__(self, stream: str) -> None:
            _LibyamlParser.__init__(self, stream)
            _CoreResolver.__init__(self)


def _has_empty_plain_scalar(root: Node) -> bool:
    seen: set[int] = set()  # aliases can make the tree cyclic (`a: &x [*x]`)
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if node.value == "" and not node.style:  # plain: None in PyYAML, "" in libyaml
                return True
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return False


def _mark_position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


class _YamlBuilder(_Builder):
    def build(self) -> Any:
        try:
            root = self._compose()
        except yaml.reader.ReaderError as exc:  # a character YAML forbids, e.g. NUL
            offset = exc.position
            line = self.text.count("\n", 0, offset) + 1
            col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
            raise self.fail(
                Position(line, col),
                SYNTAX_ERROR,
                f"YAML syntax error: character U+{exc.character:04X} is not allowed",
            ) from None
        except yaml.MarkedYAMLError as exc:
            explained = explain_yaml_error(exc, self.text)
            if explained is not None:  # a common mistake, in plain words and at its place
                pos, message = explained
                raise self.fail(pos, SYNTAX_ERROR, f"YAML syntax error: {message}") from None
            mark = exc.problem_mark or exc.context_mark
            pos = _mark_position(mark) if mark is not None else Position(1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            if exc.context and exc.problem:
                problem = f"{exc.context}: {exc.problem}"
            raise self.fail(pos, SYNTAX_ERROR, f"YAML syntax error: {problem}") from None
        except yaml.YAMLError as exc:  # e.g. a reader error on control characters
            raise self.fail(Position(1, 1), SYNTAX_ERROR, f"YAML syntax error: {exc}") from None
        except RecursionError:
            raise self.fail(
                Position(1, 1), UNSUPPORTED_YAML, "document is nested too deeply"
            ) from None
        if root is None:
            self.positions[()] = Position(1, 1)
            return None
        self._count = 0
        return self._construct(root, (), set())

    def _compose(self) -> Node | None:
        if _LibyamlParser is not None:
            try:
                node: Node | None = _FastComposingLoader(self.text).get_single_node()
            except (yaml.YAMLError, RecursionError):
                node = None
            # PyYAML's own parser gives the messages and positions that diagnostics report. libyaml
            # agrees with it except where a value is empty (it puts an empty document past the end
            # of the text, and an empty value at the next token): parse those texts again below.
            if isinstance(node, MappingNode) and not _has_empty_plain_scalar(node):
                return node
        loader = _ComposingLoader(self.text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()

    def _construct(self, node: Node, path: NodePath, active: set[int]) -> Any:
        pos = _mark_position(node.start_mark)
        self.positions[path] = pos
        self._count += 1
        if self._count > MAX_NODES:
            raise self.fail(
                pos,
                UNSUPPORTED_YAML,
                f"document has more than {MAX_NODES} nodes (alias expansion?)",
            )
        if len(path) > MAX_DEPTH:
            raise self.fail(pos, UNSUPPORTED_YAML, f"document is nested deeper than {MAX_DEPTH}")
        if isinstance(node, ScalarNode):
            return self._scalar(node, pos)
        if id(node) in active:
            raise self.fail(pos, UNSUPPORTED_YAML, "recursive alias: a node contains itself")
        active = active | {id(node)}
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ:
                raise self.fail(pos, UNSUPPORTED_YAML, f"unsupported YAML tag {node.tag!r}")
            return [self._construct(item, (*path, i), active) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        if node.tag != _MAP:
            raise self.fail(pos, UNSUPPORTED_YAML, f"unsupported YAML tag {node.tag!r}")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_pos = _mark_position(key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_pos, UNSUPPORTED_YAML, "mapping keys must be plain strings")
            key = str(key_node.value)
            if key in result:
                self.duplicate(key_pos, key, self.key_positions[(*path, key)])
                continue
            self.key_positions[(*path, key)] = key_pos
            result[key] = self._construct(value_node, (*path, key), active)
        return result

    def _scalar(self, node: ScalarNode, pos: Position) -> Any:
        value: str = node.value
        tag = node.tag
        if tag == _STR:
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            try:
                if value.startswith("0o"):
                    return int(value[2:], 8)
                if value.startswith("0x"):
                    return int(value[2:], 16)
                return int(value)
            except ValueError:
                raise self.fail(pos, SYNTAX_ERROR, f"invalid integer {value!r}") from None
        if tag == _FLOAT:
            lowered = value.lower()
            if lowered.endswith(".inf"):
                return -math.inf if lowered.startswith("-") else math.inf
            if lowered == ".nan":
                return math.nan
            try:
                return float(value)
            except ValueError:
                raise self.fail(pos, SYNTAX_ERROR, f"invalid number {value!r}") from None
        raise self.fail(
            pos, UNSUPPORTED_YAML, f"unsupported YAML tag {tag!r}{tag_hint(tag, self.text, pos)}"
        )


# ---------------------------------------------------------------------------------------- JSON

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_ATOM = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class _JsonBuilder(_Builder):
    def build(self) -> Any:
        try:
            data = json.loads(self.text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise self.fail(
                Position(exc.lineno, exc.colno), SYNTAX_ERROR, f"JSON syntax error: {exc.msg}"
            ) from None
        except ValueError as exc:  # NaN / Infinity, or an integer too long to convert
            match = re.search(r"-?\b(?:NaN|Infinity)\b", self.text)
            offset = match.start() if match else 0
            raise self.fail(
                self._position(offset), SYNTAX_ERROR, f"JSON syntax error: {exc}"
            ) from None
        except RecursionError:
            raise self.fail(
                Position(1, 1), UNSUPPORTED_YAML, "document is nested too deeply"
            ) from None
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        self._scan_value(self._skip(0), (), 0)
        return data

    def _position(self, offset: int) -> Position:
        starts = getattr(self, "_line_starts", None)
        if starts is None:
            starts = self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(starts, offset) - 1
        return Position(line + 1, offset - starts[line] + 1)

    def _skip(self, offset: int) -> int:
        match = _WHITESPACE.match(self.text, offset)
        return match.end() if match else offset

    def _scan_value(self, offset: int, path: NodePath, depth: int, record: bool = True) -> int:
        """Record the position of the value at ``offset``; return the offset just after it."""
        if record:
            self.positions[path] = self._position(offset)
        if depth > MAX_DEPTH:
            raise self.fail(
                self._position(offset),
                UNSUPPORTED_YAML,
                f"document is nested deeper than {MAX_DEPTH}",
            )
        char = self.text[offset]
        if char == "{":
            return self._scan_object(offset, path, depth, record)
        if char == "[":
            offset = self._skip(offset + 1)
            index = 0
            while self.text[offset] != "]":
                offset = self._skip(self._scan_value(offset, (*path, index), depth + 1, record))
                index += 1
                if self.text[offset] == ",":
                    offset = self._skip(offset + 1)
            return offset + 1
        pattern = _JSON_STRING if char == '"' else _JSON_ATOM
        match = pattern.match(self.text, offset)
        assert match is not None, "json accepted text the position scanner does not"
        return match.end()

    def _scan_object(self, offset: int, path: NodePath, depth: int, record: bool) -> int:
        offset = self._skip(offset + 1)
        seen: set[str] = set()
        while self.text[offset] != "}":
            match = _JSON_STRING.match(self.text, offset)
            assert match is not None
            key = json.loads(match.group())
            key_pos = self._position(offset)
            offset = self._skip(match.end())
            assert self.text[offset] == ":"
            offset = self._skip(offset + 1)
            if key in seen:
                if record:
                    self.duplicate(key_pos, key, self.key_positions[(*path, key)])
                # json keeps the last value, the positions stay with the first: skip it unrecorded.
                offset = self._skip(self._scan_value(offset, (*path, key), depth + 1, False))
            else:
                seen.add(key)
                if record:
                    self.key_positions[(*path, key)] = key_pos
                offset = self._skip(self._scan_value(offset, (*path, key), depth + 1, record))
            if self.text[offset] == ",":
                offset = self._skip(offset + 1)
        return offset + 1
