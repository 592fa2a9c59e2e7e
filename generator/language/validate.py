"""Validate a loaded schema file: structure, semantics, preset expansion.

``validate(load_document(path))`` gives a :class:`Validated`: the expanded
:class:`~synapsegen.spec.SchemaFile` (presets expanded, defaults filled, preset-added response
fields present) when the file is clean, and every diagnostic of the file otherwise. Nothing raises
for bad input.

Diagnostic codes (stable; printed as ``path:line:col: CODE message``): every code, what it
reports, why the rule exists and how to fix it, is in :mod:`synapsegen.codes` (generator/codes.py;
``synapsegen explain CODE`` prints one). This module and its helpers report SG1xx-SG5xx;
:mod:`synapsegen.language.load` reports SG0xx, :mod:`synapsegen.pipeline` SG9xx and
``synapsegen diff`` the SG6xx findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..diagnostics import Diagnostic, NodePath
from . import names
from .load import Document
from .presets import Expansion, expand_stream
from .semantics import DESERIALIZE, DUPLICATE_NAME, Checker, SynapseParts
from .spec import FieldSpec, JsonSchema, SchemaFile, StreamSpec
from .structure import WRONG_TYPE, validate_structure

__all__ = ["Validated", "validate"]


@dataclass(frozen=True)
class Validated:
    """The result of validation: ``schema`` is None exactly when there is an error."""

    schema: SchemaFile | None
    diagnostics: tuple[Diagnostic, ...]
    warnings: tuple[Diagnostic, ...] = ()  # printed; they do not stop generation

    @property
    def ok(self) -> bool:
        """True when the file has no diagnostics."""
        return not self.diagnostics


def validate(doc: Document) -> Validated:
    """Validate a loaded document; the diagnostic codes are in :mod:`synapsegen.codes`."""
    if doc.diagnostics:
        return Validated(None, doc.diagnostics)
    data = doc.data
    if not isinstance(data, dict):
        message = "a schema file must be a mapping with `version` and `synapses`" + (
            ", but the file is empty" if data is None else ""
        )
        return Validated(None, (doc.diagnostic((), WRONG_TYPE, message),))

    schema, diagnostics = validate_structure(doc, SchemaFile, data)
    defs = _parse_mapping(doc, data.get("$defs"), ("$defs",), JsonSchema)
    checker = Checker(doc, defs)
    synapse_parts = _parse_synapses(doc, data.get("synapses"))
    _check(checker, defs, synapse_parts)

    diagnostics = sorted(
        set(diagnostics) | set(checker.diagnostics),
        key=lambda d: (d.line, d.col, d.code, d.message),
    )
    if diagnostics or schema is None:
        return Validated(None, tuple(diagnostics))
    return Validated(_expanded(schema, synapse_parts), (), tuple(sorted(checker.warnings)))


def _parse_mapping(doc: Document, raw: Any, path: NodePath, model: type[Any]) -> dict[str, Any]:
    """Parse each entry of a mapping on its own; broken entries map to None."""
    if not isinstance(raw, dict):
        return {}
    parsed: dict[str, Any] = {}
    for name, value in raw.items():
        parsed[name], _ = validate_structure(doc, model, value, (*path, name))
    return parsed


def _parse_synapses(doc: Document, raw: Any) -> dict[str, SynapseParts]:
    if not isinstance(raw, dict):
        return {}
    result: dict[str, SynapseParts] = {}
    for name, body in raw.items():
        parts = SynapseParts(name)
        path: NodePath = ("synapses", name)
        if isinstance(body, dict):
            parts.request = _parse_mapping(doc, body.get("request"), (*path, "request"), FieldSpec)
            parts.response = _parse_mapping(
                doc, body.get("response"), (*path, "response"), FieldSpec
            )
            if "stream" in body:
                parts.stream, _ = validate_structure(
                    doc, StreamSpec, body["stream"], (*path, "stream")
                )
            else:
                parts.plain = True
            parts.deserialize = body.get("deserialize")
        result[name] = parts
    return result


def _check(
    checker: Checker, defs: dict[str, JsonSchema | None], synapses: dict[str, SynapseParts]
) -> None:
    """Every semantic check of the file.

    The order decides which of two clashing class names comes first: synapse names, then
    ``$defs``, then each synapse's fields and stream.
    """
    class_names: dict[str, NodePath] = {}
    _check_synapse_names(checker, synapses, class_names)
    _check_defs(checker, defs, class_names)
    for name, parts in synapses.items():
        _check_synapse(checker, name, parts, class_names)
    _check_fields_against_classes(checker, synapses, class_names)


def _check_synapse_names(
    checker: Checker, synapses: dict[str, SynapseParts], class_names: dict[str, NodePath]
) -> None:
    """Synapse names: CapWords identifiers, and the first classes of the module."""
    for name in synapses:
        path: NodePath = ("synapses", name)
        problem = names.class_name_problem(name, cap_words=True)
        checker.check_name(path, "synapse name", name, problem)
        checker.add_class_name(name, path, class_names, "synapse")


def _check_defs(
    checker: Checker, defs: dict[str, JsonSchema | None], class_names: dict[str, NodePath]
) -> None:
    """``$defs``: their names (classes of the module) and every schema that parsed."""
    for name, schema in defs.items():
        path: NodePath = ("$defs", name)
        checker.check_name(
            path, "$defs name", name, names.class_name_problem(name, cap_words=False)
        )
        checker.add_class_name(name, path, class_names, "$defs model")
        if schema is not None:
            checker.check_schema_tree(
                schema, path, python_names=True, owner=name, steps=(), class_names=class_names
            )
    checker.check_alias_cycles()


def _check_synapse(
    checker: Checker, name: str, parts: SynapseParts, class_names: dict[str, NodePath]
) -> None:
    """One synapse: expand its stream, check its fields, then what the expansion holds."""
    path: NodePath = ("synapses", name)
    if parts.stream is not None and parts.stream.format is not None:
        checker.register_preset((*path, "stream"))
    if parts.stream is not None and all(spec is not None for spec in parts.response.values()):
        _expand(checker, parts, parts.stream, path)
    checker.check_fields(parts, path, class_names)
    checker.check_hash_fields(parts, path)
    if parts.plain:
        checker.check_plain(parts, path)
    elif parts.deserialize is not None:
        checker.report(
            (*path, "deserialize"),
            DESERIALIZE,
            "a streaming synapse's `deserialize` goes under `stream`",
            at_key=True,
        )
    if parts.expansion is not None:
        _check_expansion(checker, parts, parts.expansion, path, class_names)


def _expand(checker: Checker, parts: SynapseParts, stream: StreamSpec, path: NodePath) -> None:
    """Set ``parts.expansion``; report preset-added response fields that are request fields."""
    response = {k: v for k, v in parts.response.items() if v is not None}
    parts.expansion = expand_stream(stream, response)
    for added in parts.expansion.added_response:
        if added in parts.request:
            checker.report(
                (*path, "stream", "format"),
                DUPLICATE_NAME,
                f"preset {stream.format!r} adds response field "
                f"{added!r}, but {added!r} is a request field; rename the request field",
                at_key=True,
            )


def _check_expansion(
    checker: Checker,
    parts: SynapseParts,
    expansion: Expansion,
    path: NodePath,
    class_names: dict[str, NodePath],
) -> None:
    """The preset-added response fields, the stream's ``token`` schema, and the stream."""
    for added, spec in expansion.added_response.items():
        checker.check_schema_tree(
            spec,
            (*path, "response", added),
            python_names=True,
            owner=parts.name,
            steps=("response", added),
            class_names=class_names,
        )
    if parts.stream is not None and parts.stream.token is not None:
        checker.check_schema_tree(
            parts.stream.token,
            (*path, "stream", "token"),
            python_names=False,
            owner=parts.name,
            steps=(),
            class_names={},
        )
    checker.check_stream(parts, (*path, "stream"))


def _check_fields_against_classes(
    checker: Checker, synapses: dict[str, SynapseParts], class_names: dict[str, NodePath]
) -> None:
    """A synapse field must not be named like a class of the module (SG207).

    The field is assigned in the class body, so a later field typed with that class (or the
    field's own default, for pydantic) would read the field instead of the class:
    ``usage: usage = None`` then ``other: usage = None`` silently types ``other`` as ``None``.
    Checked once every class name (synapses, ``$defs``, inline models) is known.
    """
    named: list[tuple[NodePath, str, str]] = []  # (path, name, what it is)
    for synapse_name, parts in synapses.items():
        added = parts.expansion.added_response if parts.expansion is not None else {}
        for direction, fields in (
            ("request", parts.request),
            ("response", {**parts.response, **added}),
        ):
            named += [
                (("synapses", synapse_name, direction, n), n, f"{direction} field") for n in fields
            ]
    named += [(path, name, "property") for path, name in checker.properties]
    for path, name, what in named:
        if name in class_names:
            first = checker.doc.position_of(class_names[name], at_key=True)
            body = "the class body" if what != "property" else "its model"
            checker.report(
                path,
                names.SHADOWS,
                f"{what} {name!r} has the name of a class the module defines (line "
                f"{first.line}): later annotations in {body} would read the "
                f"{'field' if what != 'property' else 'property'} instead of the class; "
                "rename one of them",
                at_key=True,
            )


def _expanded(schema: SchemaFile, synapses: dict[str, SynapseParts]) -> SchemaFile:
    """The schema with every stream explicit and preset-added response fields present."""
    updated = {}
    for name, synapse in schema.synapses.items():
        if synapse.stream is None:
            updated[name] = synapse  # a plain synapse: nothing to expand
            continue
        expansion = synapses[name].expansion
        assert expansion is not None, "a clean file has every stream expanded"
        updated[name] = synapse.model_copy(
            update={
                "stream": expansion.stream,
                "response": {**synapse.response, **expansion.added_response},
            }
        )
    return schema.model_copy(update={"synapses": updated})
