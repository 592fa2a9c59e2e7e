"""Validate a loaded schema file: structure, semantics, preset expansion.

``validate(load_document(path))`` gives a :class:`Validated`: the expanded
:class:`~synapsegen.spec.SchemaFile` (presets expanded, defaults filled, preset-added response
fields present) when the file is clean, and every diagnostic of the file otherwise. Nothing raises
for bad input.

Diagnostic codes (stable; printed as ``path:line:col: CODE message``):

======  ==========================================================================================
Code    Meaning
======  ==========================================================================================
SG001   The file cannot be read.
SG002   The file is not valid UTF-8.
SG003   YAML or JSON syntax error (JSON errors carry json's own line and column).
SG004   Duplicate key in a mapping (reported at the second key).
SG005   Unsupported YAML: tags other than the core ones, non-string keys, recursive aliases,
        documents nested too deeply or too large.
SG006   Unknown file extension (use .yaml, .yml or .json).
SG007   A value JSON cannot carry: a non-finite number (``.inf``, ``.nan``, ``1e999``) or a
        string with a lone surrogate (``"\\ud800"`` in JSON).
SG101   Unknown key (with a "did you mean" suggestion).
SG102   Missing required key (reported at the mapping that lacks it).
SG103   Wrong type of value (e.g. a list where a string is expected).
SG104   Value not among the allowed choices (e.g. ``framing: ssee``), or unsupported version.
SG105   Value out of range or too short/long (e.g. ``max_frame_bytes: 0``, empty ``synapses``).
SG201   Name is not a valid Python identifier.
SG202   Name is a Python keyword (``class``, ``from``, ...); soft keywords (``match``,
        ``type``) are fine.
SG203   Name is reserved: a field of bittensor's Synapse, a method of the runtime classes, an
        attribute of pydantic's BaseModel or a ``model_*`` name.
SG204   Name starts with ``_``.
SG205   The same field name is both a request and a response field; or two property keys of a
        model give one attribute (``_id`` and ``id``, ``content-type`` and ``content_type``).
SG206   Synapse name is not in CapWords.
SG207   Class name clash: a synapse or ``$defs`` name that the generated module imports or that
        shadows a builtin, or two generated classes (synapses, ``$defs``, inline models) with one
        name; or a synapse field named like one of the module's classes, an import, or a
        builtin the class body uses (``bool``, ``str``, ``property``, ...).
SG301   Unknown or malformed ``$ref``.
SG302   Response field without a default.
SG303   Default does not match the declared type, enum, const or constraints.
SG304   ``required`` names a property that is not in ``properties``.
SG305   Required request field that real bittensor cannot send (nullable, enum/const, a model
        with required properties, or constraints its empty placeholder violates).
SG306   A constraint on a type it does not apply to (``minimum`` on a string, ``pattern`` on an
        integer, any constraint on an untyped value or a model).
SG307   A ``pattern`` pydantic cannot compile (it uses Rust's regex syntax: no look-around).
SG308   ``hash: true`` or ``header: true`` on a response field (both are about what the validator
        sends).
SG309   A ``$defs`` alias that refers to itself through aliases only (no object model between).
SG310   ``import`` that is not ``package.module.Name``, or not on a ``$defs`` entry.
SG401   Rule targets a field that does not exist.
SG402   Rule targets a request field.
SG403   Rule target has the wrong type (concat: string, not an enum/const; append/extend: array;
        put: dict; each may also allow null, with ``default: null``); with ``group``, a dict of
        those; or two rules fill one field differently (by group and not).
SG404   Rule options do not fit the op (put without key, set without fields, field on set, ...).
SG405   ``path``/``when`` (or a JSON-only op) with a text payload.
SG406   Framing and payload do not fit (raw+json, json-seq+text, lines/sse without payload,
        ``token`` with a text payload).
SG407   ``sentinel`` without sse framing, ``delimiter`` without lines framing.
SG408   ``end`` does not fit the stream (sentinel signal without a sentinel, event signal without
        an event, an event with another signal or with a text payload).
SG409   ``server.error_event`` with a text payload, or whose tags include the message key.
SG410   ``deserialize`` names a missing field, parses a non-string field or an unknown model; or
        it sits beside ``stream`` (a streaming synapse's ``deserialize`` goes under ``stream``).
SG411   Explicit stream without framing or without rules.
SG412   A rule ``path``, ``key`` or ``set`` path that is not a path (``a..b``, ``a[x]``, empty).
SG413   ``yields: text`` on a stream with no rule whose text it could yield (no ``concat``).
SG414   A rule ``path`` or ``when`` tag, or the final event's tag, names a key the declared
        ``token`` cannot have (its object has ``additionalProperties: false``).
SG501   (warning) A synapse with no ``hash: true`` request field: its signature covers none of
        the request. Printed; the file still generates.
SG502   (warning) A rule ``path`` or tag names a key the declared ``token`` does not list (it may
        have it: the object is open). Often a typo.
SG601   A synapse added: compatible (old miners do not serve it until they upgrade).
SG602   A synapse removed: breaks old validators, which still call its route.
SG603   A synapse renamed (the same on the wire under another name): its route moves, which
        breaks old miners and old validators.
SG604   A plain synapse became a streaming one, or the reverse: breaks old miners and old
        validators.
SG605   The class's default ``timeout`` changed: compatible, noted.
SG606   Documentation changed (``description``, ``title``, ``examples``, ``format``): compatible.
SG607   A setting that stays on one side changed (``frozen``, ``header``, ``import``,
        ``deserialize``, ``limits``, ``keep_partial``, ``batch_count``, ``batch_interval``):
        compatible.
SG610   A field with a default, or an optional property, added: compatible, unless the old model
        is closed (``additionalProperties: false``): old readers then refuse it.
SG611   A required request field or required property added: old writers do not send it, and
        new readers refuse what they send.
SG612   A field or property removed: old readers no longer get it (they read its default, or
        refuse what new writers send when it was required).
SG613   A field or property became required or optional: compatible for synapse fields; for a
        property, the ``null`` an unset optional one carries breaks the readers that refuse it.
SG614   A default changed: compatible for request fields and streamed response fields; a plain
        synapse's unset response field reads differently to the other version (breaks both),
        and a response default the other version refuses breaks bittensor 10's request body.
SG615   A type changed (``type``, union members, ``items``, a ``$ref`` to another shape): a wider
        type breaks old readers, a narrower one old writers, an unrelated one both.
SG616   Enum values added: new writers may send them, which old readers refuse.
SG617   Enum values removed: old writers may send them, which new readers refuse.
SG618   A constraint tightened or changed (``minimum``, ``maxLength``, ``pattern``,
        ``multipleOf``, an ``enum`` where there was none, ...): old writers may send values new
        readers refuse.
SG619   A constraint loosened or removed: new writers may send values old readers refuse.
SG620   A model closed or opened (``additionalProperties: false`` added or removed): compatible,
        writers send the declared properties only.
SG630   The hash fields changed (which ``hash: true`` request fields, or their order:
        ``required_hash_fields``): bittensor 10 peers of the two versions refuse each other's
        signatures (signature-breaking).
SG631   A hash field's numbers changed between integer and number: one value prints differently
        (1 vs 1.0) in the body hash (signature-breaking).
SG640   The stream's ``framing`` changed (stream-breaking).
SG641   The stream's ``payload`` changed (stream-breaking).
SG642   A framing's own option changed: ``delimiter``, ``sentinel`` (stream-breaking).
SG643   The end of the stream changed: ``end.signal``, the final event's tags (stream-breaking).
SG644   How the rules read tokens into a field changed (op, ``path``, ``when``, ``key``,
        ``group``), or a new kind of event is also read by the other version's rules
        (stream-breaking).
SG645   The miner's error event changed: ``server.error_event``, ``error_message_key``
        (stream-breaking).
SG646   What the stream yields to the validator's code changed: ``yields``, a typed token's
        model (stream-breaking).
SG901   The schema file's name gives no Python module name (``chat-v2.yaml`` -> ``chat_v2`` is
        fine; ``2chat.yaml``, ``chat.v2.yaml``, ``__init__.yaml`` are not).
SG902   Two schema files give one module name (``chat-v2.yaml`` and ``chat_v2.yaml``).
SG903   A synapse name defined by two schema files: a synapse's name is its route on the axon,
        so it must be unique across the output folder. (Nested models may share names; the
        package ``__init__.py`` then leaves them out: import them from their modules.)
======  ==========================================================================================

SG9xx codes are about the set of files and come from :mod:`synapsegen.pipeline`, not from
:func:`validate`; they are reported at line 1, column 1 of the file named.

SG6xx codes are not errors: they are the findings of ``synapsegen diff`` (:mod:`synapsegen.diff`),
which compares two versions of the schemas, each with a category (compatible, breaking for old
miners, for old validators or both, signature-breaking, stream-breaking; see
docs/protocol-changes.md).
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
    """Validate a loaded document; see the module docstring for the diagnostic codes."""
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
