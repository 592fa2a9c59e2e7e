"""Structural validation: pydantic errors turned into located, readable diagnostics.

pydantic reports one error per failed union branch, located by a ``loc`` that mixes document keys
with branch tags (``"literal['raw',...]"``, ``"JsonSchema"``, ``"dict[str,str]"``). Here each
``loc`` is walked along the document data to split the two, and at every union point only the
branch that fits the input's JSON type is kept; when none fits, the node gets one message that
lists what would have been accepted.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel

from ..diagnostics import Diagnostic, NodePath, format_node_path
from .load import YAML_SUFFIXES, Document
from .yaml_hints import colon_without_space, is_plain_scalar_at

UNKNOWN_KEY = "SG101"
MISSING_KEY = "SG102"
WRONG_TYPE = "SG103"
NOT_ALLOWED = "SG104"
OUT_OF_RANGE = "SG105"

# What a union accepts, for the fields where listing the branches would not read well.
_UNION_DESCRIPTIONS = {
    "type": "a JSON type (string, integer, number, boolean, array, object, null) or a list of them",
    "fields": "a list of field names or a mapping from field name to token path",
    "deserialize": "'synapse', {field: NAME} or {parse: NAME, model: '#/$defs/Name'}",
    "additionalProperties": "true, false or a schema",
}
_SCALAR_TAGS = frozenset({"str", "int", "float", "bool", "none"})


def validate_structure(
    doc: Document, model: type[BaseModel], data: Any, at: NodePath = ()
) -> tuple[Any, list[Diagnostic]]:
    """Validate ``data`` (the node at ``at``) against ``model``; return the model or the errors."""
    try:
        return model.model_validate(data, strict=True), []
    except pydantic.ValidationError as exc:
        errors = [_LocatedError.from_pydantic(err, data, at) for err in exc.errors()]
    diagnostics = [_message(doc, model, err) for err in _select_branches(errors, 0, data, at)]
    return None, _dedupe(diagnostics)


@dataclass(frozen=True)
class _Tag:
    node: NodePath  # where in the document the union is
    name: str  # pydantic's tag for the branch
    loc_index: int  # index of the tag in the error's loc


@dataclass(frozen=True)
class _LocatedError:
    path: NodePath  # deepest document node the error concerns
    loc: tuple[int | str, ...]  # pydantic's loc, relative to the validated model
    tags: tuple[_Tag, ...]
    at_key: bool  # the error is about the key at ``path``, not its value
    type: str
    msg: str
    ctx: dict[str, Any]
    input: Any

    @classmethod
    def from_pydantic(cls, err: Any, data: Any, at: NodePath) -> _LocatedError:
        path, node, tags, at_key = list(at), data, [], False
        loc = tuple(err["loc"])
        for index, part in enumerate(loc):
            is_last = index == len(loc) - 1
            if part == "[key]":
                at_key = True
            elif _has_child(node, part) and not (is_last and err["type"] == "missing"):
                path.append(part)
                node = node[part]
            elif not (is_last and err["type"] == "missing"):
                tags.append(_Tag(tuple(path), str(part), index))
        return cls(
            tuple(path),
            loc,
            tuple(tags),
            at_key,
            err["type"],
            err["msg"],
            dict(err.get("ctx") or {}),
            err.get("input"),
        )


def _has_child(node: Any, part: int | str) -> bool:
    """Whether ``part`` is a key (or index) of the document node, not a pydantic branch tag."""
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _node_at(data: Any, at: NodePath, path: NodePath) -> Any:
    node = data
    for part in path[len(at) :]:
        node = node[part]
    return node


def _select_branches(
    errors: list[_LocatedError], level: int, data: Any, at: NodePath
) -> list[_LocatedError]:
    """Keep, at each union point, the errors of the branch that fits the input."""
    kept = [err for err in errors if len(err.tags) <= level]
    unions: dict[NodePath, dict[str, list[_LocatedError]]] = {}
    for err in errors:
        if len(err.tags) > level:
            tag = err.tags[level]
            unions.setdefault(tag.node, {}).setdefault(tag.name, []).append(err)
    for node_path, branches in unions.items():
        value = _node_at(data, at, node_path)
        fitting = [name for name in branches if _branch_accepts(name, value)]
        if not fitting:
            first = next(iter(branches.values()))[0]
            kept.append(
                _LocatedError(
                    node_path,
                    first.loc[: first.tags[level].loc_index],
                    (),
                    False,
                    "union_mismatch",
                    "",
                    {"branches": list(branches)},
                    value,
                )
            )
            continue
        best = min(
            fitting,
            key=lambda name: (-max(len(e.path) for e in branches[name]), len(branches[name])),
        )
        kept.extend(_select_branches(branches[best], level + 1, data, at))
    return kept


def _branch_accepts(tag: str, value: Any) -> bool:
    """Whether a union branch (by pydantic's tag) takes a value of this JSON type at all."""
    if tag.startswith("literal["):
        return any(_literal_fits(choice, value) for choice in _literal_choices(tag))
    if tag.startswith("list["):
        return isinstance(value, list)
    if tag.startswith("dict["):
        return isinstance(value, dict)
    if tag == "str":
        return isinstance(value, str)
    if tag == "bool":
        return isinstance(value, bool)
    if tag == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if tag == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tag == "none":
        return value is None
    return isinstance(value, dict)  # a model


def _literal_choices(tag: str) -> list[str]:
    return re.findall(r"'([^']*)'", tag) or re.findall(r"[\w.-]+", tag[len("literal[") :])


def _literal_fits(choice: str, value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and choice.isdigit())


def describe(value: Any) -> str:
    """A value as a short JSON-ish phrase for messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    return repr(value)


_TYPE_NAMES = {
    "string_type": "a string",
    "str_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean (true or false)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "int_from_float": "an integer",
    "none_required": "null",
}


def _branch_phrase(tag: str) -> str:
    if tag.startswith("literal["):
        choices = _literal_choices(tag)
        return repr(choices[0]) if len(choices) == 1 else "one of " + ", ".join(choices)
    if tag.startswith("list["):
        return "a list"
    if tag.startswith("dict["):
        return "a mapping"
    return {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "a boolean",
        "none": "null",
    }.get(tag, "a mapping")


def _join_or(phrases: list[str]) -> str:
    unique = list(dict.fromkeys(phrases))
    return unique[0] if len(unique) == 1 else ", ".join(unique[:-1]) + " or " + unique[-1]


def _message(doc: Document, model: type[BaseModel], err: _LocatedError) -> Diagnostic:
    """The diagnostic for one kept error, worded by its kind."""
    if err.type == "missing":
        return _missing_key(doc, err)
    if err.type == "extra_forbidden":
        return _unknown_key(doc, model, err)
    if err.type == "union_mismatch":
        return _union_mismatch(doc, err)
    if err.type == "literal_error":
        return _not_allowed(doc, err)
    if err.type in _TYPE_NAMES:
        expected = _TYPE_NAMES[err.type]
        hint = _colon_hint(doc, err.input, err.path) if expected == "a mapping" else ""
        return doc.diagnostic(
            err.path,
            WRONG_TYPE,
            f"{format_node_path(err.path)}: expected {expected}, got {describe(err.input)}{hint}",
        )
    return _out_of_range(doc, err)


def _missing_key(doc: Document, err: _LocatedError) -> Diagnostic:
    """SG102, at the mapping that lacks the key."""
    key = err.loc[-1]
    where = format_node_path(err.path)
    return doc.diagnostic(
        err.path, MISSING_KEY, f"missing required key {key!r} in {where}", at_key=True
    )


def _unknown_key(doc: Document, model: type[BaseModel], err: _LocatedError) -> Diagnostic:
    """SG101 for a key the model does not declare, with the closest declared key as a hint."""
    key = err.path[-1]
    parent = err.path[:-1]
    allowed = _allowed_keys(model, err.loc[:-1])
    hint = _colon_hint(doc, key, err.path, at_key=True) or _suggest(str(key), allowed)
    return doc.diagnostic(
        err.path,
        UNKNOWN_KEY,
        f"unknown key {key!r} in {format_node_path(parent)}{hint}",
        at_key=True,
    )


def _union_mismatch(doc: Document, err: _LocatedError) -> Diagnostic:
    """SG103 for a value no branch of a union takes, listing what would have been accepted."""
    field_name = next((p for p in reversed(err.loc) if isinstance(p, str)), "")
    branches = err.ctx["branches"]
    if field_name in _UNION_DESCRIPTIONS:
        expected = _UNION_DESCRIPTIONS[field_name]
    elif set(branches) <= _SCALAR_TAGS:
        expected = "a string, number, boolean or null"
    else:
        expected = _join_or([_branch_phrase(b) for b in branches])
    where = format_node_path(err.path)
    hint = _colon_hint(doc, err.input, err.path) if "a mapping" in expected else ""
    return doc.diagnostic(
        err.path, WRONG_TYPE, f"{where}: expected {expected}, got {describe(err.input)}{hint}"
    )


def _colon_hint(doc: Document, text: Any, path: NodePath, *, at_key: bool = False) -> str:
    """`` (hint: ...)`` when ``text`` (the value or key at ``path``) is ``key:value`` written
    unquoted in a YAML file without the space after the colon, which YAML reads as one text:
    ``p:`` then ``type:string`` is a text where a mapping belongs, ``{type:string}`` a mapping
    with the key ``type:string``."""
    if not isinstance(text, str) or doc.path.suffix.lower() not in YAML_SUFFIXES:
        return ""
    fixed = colon_without_space(text)
    if fixed is None or not is_plain_scalar_at(doc.text, doc.position_of(path, at_key=at_key)):
        return ""
    return f" (hint: put a space after the colon: `{fixed}`)"


def _not_allowed(doc: Document, err: _LocatedError) -> Diagnostic:
    """A value (or fixed-set key) outside its literal choices: SG104, or SG101 for a key."""
    where = format_node_path(err.path)
    got = describe(err.input)
    choices = re.findall(r"'([^']*)'", err.ctx.get("expected", "")) or [
        str(err.ctx.get("expected", ""))
    ]
    if err.path[-1:] == ("version",) and len(err.path) == 1:
        return doc.diagnostic(
            err.path,
            NOT_ALLOWED,
            f"unsupported schema version {got}; this synapsegen reads version {choices[0]}",
        )
    expected = repr(choices[0]) if len(choices) == 1 else "one of " + ", ".join(choices)
    hint = _suggest(err.input, choices) if isinstance(err.input, str) else ""
    if err.at_key:  # a mapping whose keys are a fixed set, e.g. deserialize: {field: x}
        return doc.diagnostic(
            err.path,
            UNKNOWN_KEY,
            f"unknown key {got} in {format_node_path(err.path[:-1])}; expected {expected}{hint}",
            at_key=True,
        )
    return doc.diagnostic(err.path, NOT_ALLOWED, f"{where}: expected {expected}, got {got}{hint}")


def _out_of_range(doc: Document, err: _LocatedError) -> Diagnostic:
    """SG105 for a failed constraint (greater_than, too_short, ...).

    The text is pydantic's own sentence, lower-cased; a mapping or list too short or too long
    is counted in entries instead.
    """
    where = format_node_path(err.path)
    if err.type in {"too_short", "too_long"} and isinstance(err.input, (dict, list)):
        text = (
            f"expected at least {err.ctx.get('min_length', 1)} entry"
            if err.type == "too_short"
            else f"expected at most {err.ctx.get('max_length')} entries"
        )
        return doc.diagnostic(err.path, OUT_OF_RANGE, f"{where}: {text}")
    text = err.msg[0].lower() + err.msg[1:] if err.msg else err.type
    text = text.replace("input should be", "expected").replace("Input should be", "expected")
    return doc.diagnostic(err.path, OUT_OF_RANGE, f"{where}: {text}, got {describe(err.input)}")


def _suggest(word: str, choices: list[str]) -> str:
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Keys accepted by the model found at ``loc`` (pydantic's loc, tags included)."""
    found = _model_at(model, loc)
    if found is None:
        return []
    return [info.alias or name for name, info in found.model_fields.items()]


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _union_members(tp: Any) -> tuple[Any, ...]:
    if get_origin(tp) in (Union, types.UnionType):
        return tuple(_unwrap(m) for m in get_args(tp) if m is not type(None))
    return (tp,)


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model that pydantic's ``loc`` (tags included) leads to, from ``model``."""
    tp: Any = model
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return None
    found = _union_members(_unwrap(tp))
    return next((m for m in found if _is_model(m)), None)


def _step(tp: Any, part: int | str) -> Any:
    """The type one ``loc`` part below ``tp`` (None when the loc leaves the known types).

    At a union the part is a branch tag, or a key of its dict or model branch.
    """
    members = _union_members(_unwrap(tp))
    if len(members) == 1:
        return _child_type(members[0], part)
    chosen = next((m for m in members if _tag_matches(m, part)), None)
    if chosen is not None:
        return chosen
    keyed = next((m for m in members if _is_model(m) or get_origin(m) is dict), members[0])
    return _child_type(keyed, part)


def _child_type(tp: Any, part: int | str) -> Any:
    """The type of the field, value or item ``part`` of a model, dict or list type (or None)."""
    if _is_model(tp):
        info = next((i for n, i in tp.model_fields.items() if part in (n, i.alias)), None)
        return info.annotation if info is not None else None
    if get_origin(tp) is dict:
        return get_args(tp)[1]
    if get_origin(tp) is list:
        return get_args(tp)[0]
    return None


def _tag_matches(tp: Any, part: int | str) -> bool:
    """Whether pydantic's union tag ``part`` names the member type ``tp``."""
    if not isinstance(part, str):
        return False
    if _is_model(tp):
        return bool(part == tp.__name__)
    origin = get_origin(tp)
    prefix = {dict: "dict[", list: "list[", Literal: "literal["}.get(origin)
    return part.startswith(prefix) if prefix else bool(part == getattr(tp, "__name__", None))


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _dedupe(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return list(dict.fromkeys(diagnostics))
