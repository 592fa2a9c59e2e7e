"""The one way schema text enters generated code.

Every string, number and key taken from a schema reaches a generated file through one of the
functions below, which the templates apply as filters (``|py``, ``|docstring``, ``|doc_text``,
``|comment``). All of them rest on :func:`literal` (Python's ``repr``, which escapes every
character that is not printable: line and paragraph separators such as U+2028, ``\\f``, ``\\v``,
U+0085, bidi controls, NUL, lone surrogates) and on :func:`printable`, which decides when text may
stand as written. Names (classes, fields, locals) are not text: the front end checks them to be
identifiers (``synapsegen.language.names``).

``tests/generator/test_escape.py`` and the fuzz campaign put hostile strings in every string
position of the language and check that the generated module holds them as data, never as code.
"""

from __future__ import annotations

import math

# typing costs the cold ``--check`` ~8 ms; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["comment", "doc_text", "docstring", "literal", "number", "printable"]


def printable(text: str) -> bool:
    """Whether ``text`` may stand as written in a comment or docstring.

    ``str.isprintable`` is false for every line or paragraph break Python's ``splitlines``
    knows (``\\n``, ``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, U+0085, U+2028, U+2029),
    for control and format characters (bidi overrides, NUL) and for lone surrogates.
    """
    return text.isprintable()


def literal(value: Any) -> str:
    """Python source that evaluates to the JSON value ``value`` (str, number, bool, None, list,
    dict, or bytes for wire delimiters).

    Non-finite floats have no literal (``inf`` would be a bare name): the front end refuses them
    (SG007), so meeting one here is a bug and raises.
    """
    _check_finite(value)
    return repr(value)


def number(value: int | float) -> str:
    """A numeric bound as source: integral floats (YAML ``2`` read as ``2.0``) print as ints."""
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    return literal(value)


def docstring(text: str) -> str:
    """A whole docstring literal for ``text`` (stripped): triple quotes when that is safe."""
    text = text.strip()
    if printable(text) and '"' not in text and "\\" not in text:
        return f'"""{text}"""'
    return literal(text)


def doc_text(text: str) -> str:
    """``text`` to place inside a triple-quoted docstring a template writes, read back as is."""
    return comment(text).replace("\\", "\\\\").replace('"', '\\"')


def comment(text: str) -> str:
    """``text`` for a ``#`` comment: as written when printable, else its literal (one line)."""
    return text if printable(text) else literal(text)


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"non-finite number {value!r} has no Python literal")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
