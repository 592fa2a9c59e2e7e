"""YAML syntax errors in plain words: what is wrong, where, and what to do about it.

PyYAML words a syntax error the way its parser sees it (``while parsing a block mapping:
expected <block end>, but found '<block mapping start>'``) and places it where the parser
stopped, which is often not where the mistake is. :func:`explain` recognizes the mistakes behind
the common errors and words them for the person who made them, as ``<what is wrong> (hint: <what
to do>)``, placed at the character to change:

- a tab used for indentation, or between a key and its value;
- ``key:value`` without a space after the colon (read as one text: a later key on the next line
  then fails);
- a key at a column where no mapping above has its keys;
- an unquoted value containing ``': '``;
- an unclosed quote or bracket, a bracket closed by the wrong kind, a missing ``,`` between the
  entries of a ``{...}``/``[...]``;
- a ``- item`` among mapping keys, a key among list items;
- an unquoted value starting with a character YAML reserves or gives a meaning (``@``, a
  backtick, ``%``, ``*``, ``&``, ``|``, ``>``, ``]``, ...);
- a second document (``---``), text after the document end marker ``...``.

An error none of these fits keeps PyYAML's words, without a hint. Only errors of PyYAML's own
parser are explained: the loader parses a text that libyaml refuses again with it, so the words
do not depend on whether libyaml is installed.

:func:`colon_without_space` serves the structure check, which sees the other face of the
``key:value`` mistake: a text where a mapping was expected (``p:`` then ``type:string`` alone).
"""

from __future__ import annotations

import functools
import re
import sys
from typing import NamedTuple

import yaml

from ..diagnostics import Position

__all__ = ["colon_without_space", "explain", "is_plain_scalar_at", "source_lines", "tag_hint"]

_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
"""The line breaks PyYAML counts lines by (its marks' line numbers)."""

_COLON_WITHOUT_SPACE = re.compile(r"([A-Za-z_$][\w$.-]*):([^\s/:#].*)")
"""``key:value``, the colon followed by neither a space nor ``/`` (a URL) nor another colon."""

_RESERVED_FIRST = {
    "@": "YAML reserves it",
    "`": "YAML reserves it",
    "%": "YAML reserves it for directives",
    "]": "it closes a list",
    "}": "it closes a mapping",
    ",": "it separates entries",
}
"""Characters that cannot start an unquoted value, and why (for the message)."""

_CLOSER = {"[": "]", "{": "}"}
_FLOW_NAME = {"[": "list", "{": "mapping"}


class _At(NamedTuple):
    """A 0-based line and column, as PyYAML's marks count them."""

    line: int
    col: int


def source_lines(text: str) -> list[str]:
    """``text`` split into lines the way PyYAML numbers them."""
    return _LINE_BREAK.split(text)


def colon_without_space(text: str) -> str | None:
    """``key: value`` if ``text`` is ``key:value`` written without the space after the colon
    (which YAML reads as one text), else None."""
    match = _COLON_WITHOUT_SPACE.fullmatch(text)
    if match is None or ": " in text:
        return None
    return f"{match.group(1)}: {match.group(2)}"


def is_plain_scalar_at(text: str, position: Position) -> bool:
    """Whether the node at ``position`` (1-based) of the YAML ``text`` is written unquoted,
    untagged and outside brackets: a plain scalar (``!!str type:string`` is a text on purpose)."""
    lines = source_lines(text)
    if not 1 <= position.line <= len(lines):
        return False
    line = lines[position.line - 1]
    first = line[position.col - 1 : position.col]
    return first != "" and first not in "'\"[{|>!"


def explain(error: yaml.MarkedYAMLError, text: str) -> tuple[Position, str] | None:
    """The position and plain-language message (with its hint) of a YAML syntax error of
    PyYAML's parser, or None when the error is not one of the mistakes recognized here."""
    source = _Source(text)
    context = error.context or ""
    problem = error.problem or ""
    context_at = _at(error.context_mark)
    problem_at = _at(error.problem_mark)
    if problem_at is None:
        return None
    found = _explain(source, context, context_at, problem, problem_at)
    if found is None:
        return None
    at, message = found
    return Position(at.line + 1, at.col + 1), message


def tag_hint(tag: str, text: str, position: Position) -> str:
    """`` (hint: ...)`` for the unsupported tag of a scalar at ``position`` (1-based) when it is
    a local one (``!important``): most likely text that starts with ``!``. Else empty."""
    if not tag.startswith("!"):  # `!!python/...` is a tag:yaml.org,2002: one: meant as a tag
        return ""
    at = _At(position.line - 1, position.col - 1)
    return f" (hint: '!' starts a YAML tag; {_quote_hint(_Source(text), at)})"


def _at(mark: yaml.Mark | None) -> _At | None:
    return None if mark is None else _At(mark.line, mark.column)


def _explain(
    source: _Source, context: str, context_at: _At | None, problem: str, problem_at: _At
) -> tuple[_At, str] | None:
    """The rules, by PyYAML's words for the error."""
    if problem.startswith("found character") and problem.endswith("that cannot start any token"):
        return _cannot_start(source, problem_at)
    if problem == "mapping values are not allowed here":
        return _unexpected_colon(source, problem_at)
    if problem == "sequence entries are not allowed here":
        return problem_at, (
            "a list item cannot start on the line of its key (hint: put each '- item' on a line "
            "of its own below the key, indented; quote the value if the '-' is text)"
        )
    if problem == "could not find expected ':'" and context_at is not None:
        return _missing_colon(source, context_at)
    if problem.startswith("found undefined alias"):
        word = source.word(problem_at)
        return problem_at, (
            f"{word!r} refers to an anchor '&{word[1:]}' that is not defined before it "
            f"(hint: {_quote_hint(source, problem_at)})"
        )
    if context_at is not None:
        return _explain_in_context(source, context, context_at, problem, problem_at)
    if problem.startswith("expected '<document start>', but found"):
        return _after_document(source, problem_at)
    return None


def _explain_in_context(
    source: _Source, context: str, context_at: _At, problem: str, problem_at: _At
) -> tuple[_At, str] | None:
    """The errors PyYAML words with a context (``while scanning ...``, ``while parsing ...``)."""
    char = source.char(context_at)
    if context in ("while scanning an alias", "while scanning an anchor"):
        what = (
            "an alias, a reference to a node marked '&name'"
            if char == "*"
            else "an anchor, a name that '*name' refers to"
        )
        return context_at, f"{char!r} starts {what} (hint: {_quote_hint(source, context_at)})"
    if context == "while scanning a block scalar" and problem.startswith("expected a comment"):
        kind = "literal" if char == "|" else "folded"
        return context_at, (
            f"{char!r} starts a {kind} block of text on the lines below it, so nothing but a "
            f"comment may follow it on its line (hint: {_quote_hint(source, context_at)})"
        )
    if context == "while scanning a quoted scalar" and problem.startswith("found unexpected"):
        return context_at, (
            f"the quote {char} that starts this value is never closed (hint: end the value "
            f"with {char})"
        )
    if context == "while scanning a double-quoted scalar" and problem.startswith(
        "found unknown escape character"
    ):
        at = problem_at
        if at.col > 0 and source.char(_At(at.line, at.col - 1)) == "\\":
            at = _At(at.line, at.col - 1)
        escape = source.line(at.line)[at.col : at.col + 2]
        return at, (
            f"'{escape}' is no escape sequence in a double-quoted value (hint: write a backslash "
            "as '\\\\', or use single quotes, in which a backslash is plain text)"
        )
    if context == "expected a single document in the stream":
        where = "at this '---' line" if source.line(problem_at.line).startswith("---") else "here"
        return problem_at, (
            f"a second YAML document starts {where}, and a schema file holds one (hint: remove "
            "the '---' line, or move what follows it into a file of its own)"
        )
    if context == "while parsing a block node" and problem.startswith(
        "expected the node content, but found"
    ):
        if source.char(problem_at) in _RESERVED_FIRST:
            return _reserved_first(source, problem_at)
        return None
    if context in ("while parsing a flow mapping", "while parsing a flow sequence"):
        return _unfinished_flow(source, context_at, problem, problem_at)
    if context in ("while parsing a block mapping", "while parsing a block collection"):
        return _block_end_expected(source, context, problem, problem_at)
    return None


# ---------------------------------------------------------------------------------- the rules


def _cannot_start(source: _Source, at: _At) -> tuple[_At, str] | None:
    """``found character ... that cannot start any token``: a tab, or a reserved character."""
    char = source.char(at)
    if char == "\t":
        if source.line(at.line)[: at.col].strip(" \t"):
            return at, "a tab separates the parts of this line (hint: use a space instead)"
        return at, (
            "a tab indents this line (hint: YAML does not allow tabs for indentation; "
            "indent with spaces)"
        )
    if char in _RESERVED_FIRST:
        return _reserved_first(source, at)
    return None


def _reserved_first(source: _Source, at: _At) -> tuple[_At, str]:
    char = source.char(at)
    is_key = ": " in source.content(at.line)[at.col :]
    what = "key" if is_key else "value"
    return at, (
        f"an unquoted {what} cannot start with {char!r}: {_RESERVED_FIRST[char]} "
        f"(hint: {_quote_hint(source, at)})"
    )


def _unexpected_colon(source: _Source, at: _At) -> tuple[_At, str]:
    """``mapping values are not allowed here``: a ``: `` where no key may start."""
    line = source.content(at.line)
    before = line[: at.col]
    key = _KEY.match(before)
    if key is not None and before[key.end() :].strip():
        # `description: Note: this` - the value holds ': '.
        value = line[key.end() :].strip()
        return at, (
            f"the value {value!r} contains ': ', which YAML reads as the start of another key "
            f"(hint: put the value in quotes: {key.group(1)}: {_quoted(value)})"
        )
    found = _colon_without_space_above(source, at.line)
    if found is not None:
        return found
    above = source.previous_content(at.line)
    indent = _indent(source.line(at.line))
    if above is not None:
        above_line = source.content(above)
        above_key = _KEY.match(above_line)
        if above_key is not None and above_line[above_key.end() :].strip():
            name = above_key.group(1)
            name_column = above_key.start(1)  # after any `- `: the column of its mapping's keys
            here = _KEY.match(line)
            this = repr(here.group(1)) if here is not None else "this line"
            start = _At(at.line, indent)
            if indent > name_column:
                return start, (
                    f"{this} is indented more than {name!r} above it, which already has a value "
                    f"on its line (hint: line it up with {name!r}, at column {name_column + 1}, "
                    f"if it is a key of the same mapping; if it continues the value of "
                    f"{name!r}, put that value in quotes)"
                )
    return at, (
        "a ':' here cannot start a key (hint: check the indentation of this line, put quotes "
        "around a value that contains ': ', and a space after the colon of every key above)"
    )


def _colon_without_space_above(source: _Source, line_number: int) -> tuple[_At, str] | None:
    """``key:value`` (no space) on a line above ``line_number`` that the text leading to it
    continues: YAML read it and the lines after it as one text, until a ``key:``."""
    index = line_number - 1
    while index >= 0:
        content = source.content(index).strip()
        if content:
            found = _colon_without_space_on(source, index)
            if found is not None:
                return found
            if ": " in content or content.endswith(":") or content.startswith(("-", "?")):
                return None  # the text started on this line, after its own key
        index -= 1
    return None


def _colon_without_space_on(source: _Source, index: int) -> tuple[_At, str] | None:
    line = source.content(index)
    stripped = line.strip()
    item = re.match(r"-\s+", stripped)
    text = stripped[item.end() :] if item else stripped
    fixed = colon_without_space(text)
    if fixed is None:
        return None
    colon = line.index(text) + text.index(":")
    return _At(index, colon), (
        f"{text!r} has no space after its colon, so YAML reads it as one text, not as a key "
        f"and its value (hint: put a space after the colon: `{fixed}`)"
    )


def _missing_colon(source: _Source, context_at: _At) -> tuple[_At, str]:
    """``could not find expected ':'``: a key without its colon (or one without the space)."""
    found = _colon_without_space_on(source, context_at.line)
    if found is not None:
        return found
    content = source.content(context_at.line).rstrip()
    word = content[context_at.col :]
    return _At(context_at.line, len(content)), (
        f"{word!r} is followed by no ':' (hint: write `{word}:` if it is a key)"
    )


def _after_document(source: _Source, at: _At) -> tuple[_At, str] | None:
    """``expected '<document start>'``: text after ``...``, or less indented than the first
    line of the document."""
    above = source.previous_content(at.line)
    if above is not None and source.content(above).strip() == "...":
        return _At(above, _indent(source.line(above))), (
            "'...' ends the YAML document, and more follows it (hint: remove the '...' line)"
        )
    first = source.next_content(0)
    if first is None or first >= at.line:
        return None
    first_indent = _indent(source.line(first))
    if at.col < first_indent:
        return at, (
            f"this line is indented less than the first line of the document, at column "
            f"{first_indent + 1} (hint: start every top-level key in the same column)"
        )
    return None


def _unfinished_flow(
    source: _Source, context_at: _At, problem: str, problem_at: _At
) -> tuple[_At, str] | None:
    """``expected ',' or '}'``: a ``{...}``/``[...]`` left open, closed by the wrong bracket, or
    missing a comma between entries."""
    match = re.fullmatch(r"expected ',' or '(.)', but got '(.*)'", problem)
    if match is None:
        return None
    opener = source.char(context_at)
    if opener not in _CLOSER:
        return None
    closer, got = _CLOSER[opener], match.group(2)
    kind = _FLOW_NAME[opener]
    opened = _where(context_at, problem_at)
    if got == "<stream end>":
        return context_at, f"this {opener!r} is never closed (hint: end the {kind} with {closer!r})"
    if got in ("]", "}"):
        return problem_at, (
            f"{got!r} does not close the {opener!r} opened {opened} (hint: close that {kind} "
            f"with {closer!r} first)"
        )
    at = problem_at
    if got == ":":
        # `{a: 1 b: 2}`: the text `1 b` ends at the colon; the comma belongs before `b`.
        before = source.line(at.line)[: at.col].rstrip()
        word = re.search(r"[^\s,\[{]*$", before)
        at = _At(at.line, word.start() if word else at.col)
    starts_line = _indent(source.line(at.line)) == at.col
    if (
        at.line > context_at.line
        and starts_line
        and at.col <= _indent(source.line(context_at.line))
    ):
        # A line no deeper than the bracket's own: the next key of the block around it.
        return context_at, (
            f"this {opener!r} is not closed before line {at.line + 1} (hint: end the {kind} "
            f"with {closer!r})"
        )
    return at, (
        f"a ',' is missing before this entry of the {kind} opened {opened} (hint: separate "
        "the entries with ', ', and put a value that contains ': ' in quotes)"
    )


def _block_end_expected(
    source: _Source, context: str, problem: str, at: _At
) -> tuple[_At, str] | None:
    """``expected <block end>, but found ...``: a block mapping or list goes on with something
    that cannot belong to it."""
    match = re.fullmatch(r"expected <block end>, but found '(.*)'", problem)
    if match is None:
        return None
    found = match.group(1)
    if found == "<block mapping start>":
        return _misindented_key(source, at)
    if found == "-" and context == "while parsing a block mapping":
        return at, (
            "a list item among the keys of a mapping (hint: a mapping cannot also hold list "
            "items: put the items under a key of their own, indented, or remove the '-')"
        )
    if found == "?" and context == "while parsing a block collection":
        return at, (
            "a key among the items of a list (hint: start every item with '- ' at the same "
            "column; keys of a mapping inside an item are indented under its first key)"
        )
    if found in ("]", "}"):
        return at, f"{found!r} closes nothing (hint: remove it, or add its opening bracket)"
    if found == "<scalar>":
        before = source.line(at.line)[: at.col].rstrip()
        last = before[-1:]
        if last in ("'", '"'):
            return at, (
                "text after the closing quote of a value (hint: quote the whole value: inside "
                "'...' write a ' as '', inside \"...\" a \" as \\\"; or close a quote left open "
                "above)"
            )
        if last in ("]", "}"):
            return at, (
                f"text after the {last!r} that closes a {_FLOW_NAME[{']': '[', '}': '{'}[last]]} "
                "(hint: put the value in quotes if it is text starting with a bracket)"
            )
    return None


def _misindented_key(source: _Source, at: _At) -> tuple[_At, str] | None:
    """A key at a column where no mapping above it has its keys (None when no line above holds
    a key, so that there is no column to offer)."""
    columns = _columns_above(source, at.line)
    below = max((c for c in columns if c < at.col), default=None)
    above = min((c for c in columns if c > at.col), default=None)
    choices = " or ".join(str(c + 1) for c in (below, above) if c is not None)
    if not choices:  # no key above: no column to offer (PyYAML's words are kept)
        return None
    key = _KEY.match(source.content(at.line)[at.col :])
    this = repr(key.group(1)) if key is not None else "this line"
    return at, (
        f"{this} is at column {at.col + 1}, where no mapping above it has its keys (hint: "
        f"indent it with spaces to column {choices}, like the other keys of its mapping)"
    )


def _columns_above(source: _Source, line_number: int) -> set[int]:
    """The columns of the enclosing mappings' keys, from the lines above (0-based).

    Only a line that holds a key gives a column, its key's: a ``- `` line's own column is a
    list's (a key there is a key among list items, another error), and neither a list item
    that is no mapping nor the lines of a block text (``|``, ``>``) hold keys.
    """
    columns: set[int] = set()
    bound = sys.maxsize  # the least indentation seen so far: deeper lines above are closed
    for index in range(line_number - 1, -1, -1):
        content = source.content(index)
        if not content.strip() or index in source.block_text_lines:  # text, not keys
            continue
        indent = _indent(content)
        key = _KEY.match(content)
        if key is not None and indent < bound:
            columns.add(key.start(1))
        bound = min(bound, indent)
        if bound == 0:
            break
    return columns


# ---------------------------------------------------------------------------------- helpers

_BLOCK_TEXT_START = re.compile(r"(?:^\s*|[:-]\s+)[|>][-+0-9]*$")
"""A line whose value is ``|`` or ``>`` (with its indicators): a block text follows it."""

_KEY = re.compile(r"\s*(?:-\s+)*([^\s#'\"{\[][^#]*?|'[^']*'|\"[^\"]*\"):(?:\s+|$)")
"""The key at the start of a line (after any ``- ``), up to the space after its colon."""


class _Source:
    """The lines of the text, numbered as PyYAML's marks number them."""

    def __init__(self, text: str) -> None:
        self.lines = source_lines(text)

    def line(self, index: int) -> str:
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def char(self, at: _At) -> str:
        return self.line(at.line)[at.col : at.col + 1]

    def content(self, index: int) -> str:
        """The line without its comment (a ``#`` after a space, outside quotes)."""
        line = self.line(index)
        quote = ""
        for position, char in enumerate(line):
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and (position == 0 or line[position - 1] in " \t:[{,-"):
                quote = char
            elif char == "#" and (position == 0 or line[position - 1] in " \t"):
                return line[:position]
        return line

    @functools.cached_property
    def block_text_lines(self) -> frozenset[int]:
        """The lines of ``|`` and ``>`` block texts (below their ``key: |`` line): text, whose
        indentation is no key's."""
        found: set[int] = set()
        owner_indent: int | None = None  # of the line that started the block text we are in
        for index, line in enumerate(self.lines):
            if owner_indent is not None:
                if not line.strip() or _indent(line) > owner_indent:
                    found.add(index)
                    continue
                owner_indent = None
            if _BLOCK_TEXT_START.search(self.content(index).rstrip()):
                owner_indent = _indent(line)
        return frozenset(found)

    def previous_content(self, index: int) -> int | None:
        """The nearest line above ``index`` with more than a comment or spaces."""
        for above in range(index - 1, -1, -1):
            if self.content(above).strip():
                return above
        return None

    def next_content(self, index: int) -> int | None:
        """The first line from ``index`` on with more than a comment or spaces."""
        for below in range(index, len(self.lines)):
            if self.content(below).strip():
                return below
        return None

    def word(self, at: _At) -> str:
        """The text at ``at`` up to the next space or bracket."""
        match = re.match(r"[^\s,\[\]{}]+", self.line(at.line)[at.col :])
        return match.group() if match else ""

    def value(self, at: _At) -> str:
        """The unquoted text that starts at ``at``: up to ': ' for a key, else to the end of the
        line (or to a comma or bracket inside ``[...]``/``{...}``)."""
        text = self.content(at.line)[at.col :]
        key = re.match(r"(.*?):(?:\s|$)", text)
        if key is not None:
            text = key.group(1)
        if re.search(r"[\[{]", self.content(at.line)[: at.col]):  # inside brackets
            text = text[:1] + re.split(r"[,\]}]", text[1:], maxsplit=1)[0]
        return text.strip()


def _quote_hint(source: _Source, at: _At) -> str:
    """Advice to quote the text at ``at``, with the quoted text when it is short."""
    text = source.value(at)
    if 0 < len(text) <= 60:
        return f"put it in quotes if it is text: {_quoted(text)}"
    return "put it in quotes if it is text"


def _quoted(text: str) -> str:
    """``text`` in quotes YAML reads back as ``text``."""
    if '"' not in text and "\\" not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "''") + "'"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _where(opened: _At, here: _At) -> str:
    """Where a bracket was opened, said from ``here``."""
    if opened.line == here.line:
        return f"at column {opened.col + 1}"
    return f"at line {opened.line + 1}, column {opened.col + 1}"
