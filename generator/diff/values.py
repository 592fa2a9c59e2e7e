"""Field and model schemas compared as sets of accepted values, in the direction they travel.

Validators write the request fields and miners read them; miners write the response fields (and
the stream's tokens) and validators read them. A change that lets a schema accept more values
("grow": an enum value, a looser bound, a wider type) lets new writers send what old readers
refuse; one that accepts fewer ("shrink") makes new readers refuse what old writers send. Which
old peers that breaks follows from who writes:

=========  ==============================  ==============================
change     request field (validators       response field or token (miners
           write, miners read)             write, validators read)
=========  ==============================  ==============================
grow       breaks old miners               breaks old validators
shrink     breaks old validators           breaks old miners
=========  ==============================  ==============================

``$refs`` are followed on each side (a ``$defs`` model is compared where a synapse uses it, and
reported once per synapse at the model's node), recursion stops at a pair of nodes already met.
Generated writers send every field and every declared property of a model (``None`` for an
unset optional one) and never a key the model does not declare; readers ignore keys they do not
know unless the model says ``additionalProperties: false``. The rules here rest on that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..diagnostics import NodePath, format_node_path
from ..language.spec import FieldSpec, JsonSchema
from . import findings as F
from .findings import MINERS, NOBODY, VALIDATORS, Breaks, Collector, Site, locate

if TYPE_CHECKING:
    from .sources import SchemaVersion

DOC_KEYS = (
    ("description", "description"),
    ("title", "title"),
    ("examples", "examples"),
    ("format", "format"),
)
"""(attribute, key) of the keywords that only document a value."""
_REF = re.compile(r"#/\$defs/(.+)")


def canonical(value: Any) -> Any:
    """A hashable form of JSON data in which equal JSON values are equal (``1 == 1.0``, but
    ``true != 1``)."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("list", tuple(canonical(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((key, canonical(item)) for key, item in value.items())))
    return (type(value).__name__, value)


def show(value: Any) -> str:
    """A schema value as a person reads it: JSON-like (``null``, ``true``, ``'text'``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return repr(value)


@dataclass
class Walk:
    """The comparison of one field (or the stream's token) of one synapse, both versions."""

    out: Collector
    synapse: str
    subject: str  # "request field 'tools'", "the stream's token"
    writer: str  # MINERS or VALIDATORS: who sends these values
    old: SchemaVersion
    new: SchemaVersion
    hashed: bool = False  # a hash field in both versions: its values are signed
    enforced: Breaks = F.EVERYBODY
    """The pairs whose reader validates these values: a token that is not typed is validated by
    nobody, so what its schema says cannot break a peer."""
    not_enforced: str = ""  # said when a break is dropped because nobody validates
    anchor: tuple[NodePath, NodePath] = ((), ())  # the field's node in each version
    seen: set[tuple[NodePath, NodePath]] = field(default_factory=set)

    @property
    def reader(self) -> str:
        return VALIDATORS if self.writer == MINERS else MINERS

    # ---- what a change breaks, and why -------------------------------------------------

    def grow(self) -> Breaks:
        """New writers may send what old readers refuse."""
        return frozenset({self.reader})

    def shrink(self) -> Breaks:
        """Old writers may send what new readers refuse."""
        return frozenset({self.writer})

    def refusal(self, pair: str) -> str:
        """What goes wrong between the peers of ``pair`` (MINERS: new validators with old
        miners; VALIDATORS: old validators with new miners)."""
        writer_is_new = (pair == MINERS) == (self.writer == VALIDATORS)
        writer_age, reader_age = ("new", "old") if writer_is_new else ("old", "new")
        return f"{writer_age} {self.writer} may send values {reader_age} {self.reader} refuse"

    def report(
        self,
        code: str,
        old_path: NodePath | None,
        new_path: NodePath | None,
        change: str,
        breaks: Breaks = NOBODY,
        why: str | None = None,
        *,
        key: str | None = None,
        at_key: bool = False,
    ) -> None:
        """Record a change at a node (``key``: at that key of the node); ``why`` defaults to the
        refusals of the pairs it breaks."""
        dropped = breaks - self.enforced
        breaks = breaks & self.enforced
        if why is None:
            why = " and ".join(self.refusal(pair) for pair in sorted(breaks))
        if dropped and self.not_enforced:
            why = "; ".join(part for part in (why, self.not_enforced) if part)
        suffix = (key,) if key is not None else ()
        new_site = (
            Site(self.new.doc, (*new_path, *suffix), at_key) if new_path is not None else None
        )
        old_site = (
            Site(self.old.doc, (*old_path, *suffix), at_key) if old_path is not None else None
        )
        site = locate(new_site, old_site)
        where = self._where(site.path[: len(site.path) - len(suffix)], site.doc is self.new.doc)
        self.out.add(code, self.synapse, site, f"{where}{change}", breaks, why, self.subject)

    def _where(self, path: NodePath, in_new: bool) -> str:
        """The node within the field, when it is not the field itself: ``items: `` or
        ``$defs.Tool: ``."""
        anchor = self.anchor[1] if in_new else self.anchor[0]
        if path[: len(anchor)] == anchor:
            path = path[len(anchor) :]
        return f"{format_node_path(path)}: " if path else ""

    # ---- the walk ------------------------------------------------------------------------

    def compare(
        self, old: JsonSchema | None, new: JsonSchema | None, old_path: NodePath, new_path: NodePath
    ) -> None:
        """Compare two nodes (None: a node that allows any value)."""
        if old is not None and new is not None:
            self._documentation(old, new, old_path, new_path)
        if (old is not None and old.ref) or (new is not None and new.ref):
            old, old_path = self._follow(self.old, old, old_path)
            new, new_path = self._follow(self.new, new, new_path)
            if (old_path, new_path) in self.seen:
                return
            self.seen.add((old_path, new_path))
            self.compare(old, new, old_path, new_path)
            return
        self._values(old, new, old_path, new_path)

    @staticmethod
    def _follow(
        version: SchemaVersion, node: JsonSchema | None, path: NodePath
    ) -> tuple[JsonSchema | None, NodePath]:
        """One ``$ref`` step: the ``$defs`` entry and its path (a node without one stays)."""
        if node is None or node.ref is None:
            return node, path
        match = _REF.fullmatch(node.ref)
        assert match is not None, "validation refuses a malformed $ref"
        name = match.group(1)
        return version.schema.defs[name], ("$defs", name)

    def _documentation(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        for attribute, key in DOC_KEYS:
            before, after = getattr(old, attribute), getattr(new, attribute)
            if canonical(before) != canonical(after):
                self.report(F.DOCUMENTATION, old_path, new_path, f"{key} changed", key=key)
        if old.python_import != new.python_import:
            self.report(
                F.LOCAL_SETTING,
                old_path,
                new_path,
                f"import {old.python_import or '(none)'} -> {new.python_import or '(none)'}",
                why="the Python class it is read into changes, not the JSON on the wire",
                key="import",
            )

    def _values(
        self, old: JsonSchema | None, new: JsonSchema | None, old_path: NodePath, new_path: NodePath
    ) -> None:
        effect = self._types(old, new, old_path, new_path)
        if effect == "change" or old is None or new is None:
            return  # a type changed beyond comparison: the details would only repeat it
        self._choices(old, new, old_path, new_path)
        self._constraints(old, new, old_path, new_path)
        self._members(old, new, old_path, new_path, types_changed=effect is not None)
        if old.items is not None or new.items is not None:
            self.compare(old.items, new.items, (*old_path, "items"), (*new_path, "items"))
        self._objects(old, new, old_path, new_path)

    # ---- types ---------------------------------------------------------------------------

    def _types(
        self, old: JsonSchema | None, new: JsonSchema | None, old_path: NodePath, new_path: NodePath
    ) -> str | None:
        """Report a change of the JSON types: ``grow``, ``shrink``, ``change`` or None."""
        if _choices(old) is not None and _choices(new) is not None:
            return None  # types that come from enum/const: their values are compared instead
        before = self.old.checker.types_of(old) if old is not None else None
        after = self.new.checker.types_of(new) if new is not None else None
        old_kinds, new_kinds = _kinds(before), _kinds(after)
        if self.hashed and _numbers_differ(old_kinds, new_kinds):
            self.report(
                F.HASHED_NUMBER,
                old_path,
                new_path,
                f"{_types_text(before)} -> {_types_text(after)} in a hash field",
                why="the body hash covers str(value), and one value prints differently as an "
                "integer and as a number (1 vs 1.0), so old and new peers refuse each other's "
                "signatures",
                key="type",
            )
        effect = _set_effect(old_kinds, new_kinds)
        if effect is None:
            return None
        breaks = {"grow": self.grow(), "shrink": self.shrink()}.get(effect, F.EVERYBODY)
        self.report(
            F.TYPE,
            old_path,
            new_path,
            f"type {_types_text(before)} -> {_types_text(after)}",
            breaks,
            key="type" if new is not None and new.type is not None else None,
        )
        return effect

    def _members(
        self,
        old: JsonSchema,
        new: JsonSchema,
        old_path: NodePath,
        new_path: NodePath,
        *,
        types_changed: bool,
    ) -> None:
        """``anyOf``/``oneOf``: member by member when their number is kept, else as a whole
        (unless the change of types said it already)."""
        old_members, new_members = old.any_of or old.one_of, new.any_of or new.one_of
        if not old_members or not new_members:
            return  # a union that came or went: its types were compared
        old_key = "anyOf" if old.any_of else "oneOf"
        new_key = "anyOf" if new.any_of else "oneOf"
        if len(old_members) == len(new_members):
            for index, (before, after) in enumerate(zip(old_members, new_members, strict=True)):
                self.compare(
                    before, after, (*old_path, old_key, index), (*new_path, new_key, index)
                )
            return
        if types_changed:
            return
        old_set = {canonical(m.model_dump(mode="json", by_alias=True)) for m in old_members}
        new_set = {canonical(m.model_dump(mode="json", by_alias=True)) for m in new_members}
        added, removed = len(new_set - old_set), len(old_set - new_set)
        if added and not removed:
            change, breaks = f"{added} {new_key} member(s) added", self.grow()
        elif removed and not added:
            change, breaks = f"{removed} {old_key} member(s) removed", self.shrink()
        else:
            change, breaks = f"{old_key} members changed", F.EVERYBODY
        self.report(F.TYPE, old_path, new_path, change, breaks, key=new_key)

    # ---- enum and const ------------------------------------------------------------------

    def _choices(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        before, after = _choices(old), _choices(new)
        if before is None and after is None:
            return
        key = "enum" if new.enum is not None else "const" if after is not None else None
        if before is None:
            assert after is not None
            self.report(
                F.TIGHTENED, old_path, new_path, f"now one of {show(after)}", self.shrink(), key=key
            )
            return
        if after is None:
            old_key = "enum" if old.enum is not None else "const"
            self.report(
                F.LOOSENED,
                old_path,
                new_path,
                f"no longer limited to {show(before)}",
                self.grow(),
                key=old_key,
            )
            return
        old_values = {canonical(value) for value in before}
        new_values = {canonical(value) for value in after}
        added = [value for value in after if canonical(value) not in old_values]
        removed = [value for value in before if canonical(value) not in new_values]
        if added:
            self.report(
                F.ENUM_ADDED,
                old_path,
                new_path,
                f"{_values_text(added)} added",
                self.grow(),
                key=key,
            )
        if removed:
            self.report(
                F.ENUM_REMOVED,
                old_path,
                new_path,
                f"{_values_text(removed)} removed",
                self.shrink(),
                key=key,
            )

    # ---- constraints ---------------------------------------------------------------------

    def _constraints(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        for bound in (_lower, _upper):
            before, after = bound(old), bound(new)
            if before != after:
                self._tighter(old_path, new_path, before, after, bound is _lower)
        for low, high, unit in (
            ("min_length", "max_length", "length"),
            ("min_items", "max_items", "items"),
        ):
            self._size(old, new, old_path, new_path, low, "min", unit)
            self._size(old, new, old_path, new_path, high, "max", unit)
        self._multiple_of(old, new, old_path, new_path)
        if old.pattern != new.pattern:
            if old.pattern is None:
                change, code, breaks = f"pattern {new.pattern!r} added", F.TIGHTENED, self.shrink()
            elif new.pattern is None:
                change, code, breaks = f"pattern {old.pattern!r} removed", F.LOOSENED, self.grow()
            else:
                change = f"pattern {old.pattern!r} -> {new.pattern!r}"
                code, breaks = F.TIGHTENED, F.EVERYBODY
            self.report(code, old_path, new_path, change, breaks, key="pattern")

    def _tighter(
        self,
        old_path: NodePath,
        new_path: NodePath,
        before: tuple[float, bool, str] | None,
        after: tuple[float, bool, str] | None,
        lower: bool,
    ) -> None:
        """A lower or upper bound (value, exclusive, key) that came, went or moved."""
        if after is None:
            assert before is not None
            self.report(
                F.LOOSENED,
                old_path,
                new_path,
                f"{before[2]} {show(before[0])} removed",
                self.grow(),
                key=before[2],
            )
            return
        text = f"{after[2]} {show(after[0])}"
        if before is None:
            self.report(
                F.TIGHTENED, old_path, new_path, f"{text} added", self.shrink(), key=after[2]
            )
            return
        # For a lower bound a larger value (or the same one made exclusive) is tighter.
        tighter = (
            (after[0], after[1]) > (before[0], before[1])
            if lower
            else ((after[0], not after[1]) < (before[0], not before[1]))
        )
        if before[2] == after[2]:
            text = show(after[0])
        self.report(
            F.TIGHTENED if tighter else F.LOOSENED,
            old_path,
            new_path,
            f"{before[2]} {show(before[0])} -> {text}",
            self.shrink() if tighter else self.grow(),
            key=after[2],
        )

    def _size(
        self,
        old: JsonSchema,
        new: JsonSchema,
        old_path: NodePath,
        new_path: NodePath,
        attribute: str,
        kind: str,
        unit: str,
    ) -> None:
        """``minLength``/``maxLength``/``minItems``/``maxItems`` (an absent minimum is 0)."""
        key = {
            "min_length": "minLength",
            "max_length": "maxLength",
            "min_items": "minItems",
            "max_items": "maxItems",
        }[attribute]
        before, after = getattr(old, attribute), getattr(new, attribute)
        if kind == "min":
            before, after = before or 0, after or 0
        if before == after:
            return
        if kind == "min":
            tighter = after > before
        else:
            tighter = before is None or (after is not None and after < before)
        change = f"{key} {_or_none(before)} -> {_or_none(after)}"
        self.report(
            F.TIGHTENED if tighter else F.LOOSENED,
            old_path,
            new_path,
            change,
            self.shrink() if tighter else self.grow(),
            key=key,
        )

    def _multiple_of(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        before, after = old.multiple_of, new.multiple_of
        if before == after:
            return
        if after is not None and (before is None or _divides(before, after)):
            code, breaks = F.TIGHTENED, self.shrink()
        elif before is not None and (after is None or _divides(after, before)):
            code, breaks = F.LOOSENED, self.grow()
        else:
            code, breaks = F.TIGHTENED, F.EVERYBODY
        self.report(
            code,
            old_path,
            new_path,
            f"multipleOf {_or_none(before)} -> {_or_none(after)}",
            breaks,
            key="multipleOf",
        )

    # ---- objects -------------------------------------------------------------------------

    def _objects(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        """Models (``properties``) and maps (``additionalProperties``)."""
        self._extra(old, new, old_path, new_path)
        old_props, new_props = old.properties or {}, new.properties or {}
        for name in [*old_props, *(n for n in new_props if n not in old_props)]:
            old_prop = (*old_path, "properties", name)
            new_prop = (*new_path, "properties", name)
            before, after = _state(old, name), _state(new, name)
            if name not in new_props:
                self._property_removed(old, new, old_prop, name, before)
            elif name not in old_props:
                self._property_added(old, new_prop, name, after)
            else:
                self.compare(old_props[name], new_props[name], old_prop, new_prop)
                self._requiredness(old_prop, new_prop, before, after, new_props[name])

    def _extra(
        self, old: JsonSchema, new: JsonSchema, old_path: NodePath, new_path: NodePath
    ) -> None:
        """``additionalProperties``: a map's values, or whether a model is closed."""
        before, after = old.additional_properties, new.additional_properties
        if isinstance(before, JsonSchema) or isinstance(after, JsonSchema):
            if before is False or after is False:
                tighter = after is False
                self.report(
                    F.TIGHTENED if tighter else F.LOOSENED,
                    old_path,
                    new_path,
                    f"additionalProperties {_extra_text(before)} -> {_extra_text(after)}",
                    self.shrink() if tighter else self.grow(),
                    key="additionalProperties",
                )
                return
            self.compare(
                before if isinstance(before, JsonSchema) else None,
                after if isinstance(after, JsonSchema) else None,
                (*old_path, "additionalProperties"),
                (*new_path, "additionalProperties"),
            )
            return
        if (before is False) != (after is False):
            self.report(
                F.CLOSED,
                old_path,
                new_path,
                "additionalProperties: false " + ("added" if after is False else "removed"),
                why="writers send the declared properties only, so no peer sees the difference",
                key="additionalProperties",
            )

    def _property_added(self, old: JsonSchema, new_prop: NodePath, name: str, state: str) -> None:
        if state == "required":
            self.report(
                F.REQUIRED_ADDED,
                None,
                new_prop,
                f"required property {name!r} added",
                self.shrink(),
                f"old {self.writer} do not send it, so new {self.reader} refuse their values",
                at_key=True,
            )
        elif old.additional_properties is False:
            self.report(
                F.FIELD_ADDED,
                None,
                new_prop,
                f"property {name!r} added",
                self.grow(),
                f"new {self.writer} send it, and old {self.reader} refuse values with "
                "keys their model does not declare (additionalProperties: false)",
                at_key=True,
            )
        else:
            self.report(
                F.FIELD_ADDED,
                None,
                new_prop,
                f"property {name!r} added",
                why=f"old {self.reader} ignore it",
                at_key=True,
            )

    def _property_removed(
        self, old: JsonSchema, new: JsonSchema, old_prop: NodePath, name: str, state: str
    ) -> None:
        if state == "required":
            why = (
                f"new {self.writer} no longer send it, and old {self.reader} refuse values "
                "without it (it is required there)"
            )
        else:
            why = f"old {self.reader} no longer get it from new {self.writer}"
        breaks = self.grow()
        if new.additional_properties is False:
            breaks |= self.shrink()
            why += (
                f"; new {self.reader} refuse old {self.writer}' values, which still carry "
                "it (additionalProperties: false)"
            )
        self.report(
            F.FIELD_REMOVED, old_prop, None, f"property {name!r} removed", breaks, why, at_key=True
        )

    def _requiredness(
        self, old_prop: NodePath, new_prop: NodePath, before: str, after: str, schema: JsonSchema
    ) -> None:
        """A property's required/default/optional state; only ``null`` for an unset optional
        property can reach a peer (writers always send the key)."""
        if before == after:
            return
        nullable = "null" in (self.new.checker.types_of(schema) or {"null"})
        if after == "optional" and not nullable:
            breaks, why = (
                self.grow(),
                f"new {self.writer} send null when it is unset, which old {self.reader} refuse",
            )
        elif before == "optional" and not nullable:
            breaks, why = (
                self.shrink(),
                f"old {self.writer} send null when it is unset, which new {self.reader} refuse",
            )
        else:
            breaks, why = NOBODY, "writers send a value either way"
        self.report(F.REQUIREDNESS, old_prop, new_prop, f"{before} -> {after}", breaks, why)


# ---- top-level fields --------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSets:
    """One direction of one synapse in both versions."""

    direction: str  # "request" or "response"
    old: dict[str, FieldSpec]
    new: dict[str, FieldSpec]
    streamed: bool  # the synapse streams in both versions (the response is filled by tokens)


def compare_fields(
    out: Collector, synapse: str, sets: FieldSets, old: SchemaVersion, new: SchemaVersion
) -> None:
    """The request or the response fields of a synapse: added, removed, or compared."""
    direction = sets.direction
    writer = VALIDATORS if direction == "request" else MINERS
    base: NodePath = ("synapses", synapse, direction)
    for name in [*sets.old, *(n for n in sets.new if n not in sets.old)]:
        path = (*base, name)
        walk = Walk(
            out, synapse, f"{direction} field {name!r}", writer, old, new, anchor=(path, path)
        )
        before, after = sets.old.get(name), sets.new.get(name)
        if after is None:
            assert before is not None
            _field_removed(walk, path, before, direction)
        elif before is None:
            _field_added(walk, path, after, direction)
        else:
            walk.hashed = before.hash and after.hash
            walk.compare(before, after, path, path)
            _field_settings(walk, path, before, after, sets)


def _default(spec: FieldSpec) -> str | None:
    return show(spec.default) if "default" in spec.model_fields_set else None


def _field_added(walk: Walk, path: NodePath, spec: FieldSpec, direction: str) -> None:
    default = _default(spec)
    if default is None:  # a response field always has one (SG302)
        walk.report(
            F.REQUIRED_ADDED,
            None,
            path,
            "required field added",
            frozenset({VALIDATORS}),
            "old validators do not send it, so new miners refuse their requests",
            at_key=True,
        )
    elif direction == "request":
        walk.report(
            F.FIELD_ADDED,
            None,
            path,
            "field added",
            why=f"old miners ignore it, and new miners read its default {default} in "
            "old validators' requests",
            at_key=True,
        )
    else:
        walk.report(
            F.FIELD_ADDED,
            None,
            path,
            "field added",
            why=f"old validators ignore it, and new validators keep its default "
            f"{default} in old miners' answers",
            at_key=True,
        )


def _field_removed(walk: Walk, path: NodePath, spec: FieldSpec, direction: str) -> None:
    default = _default(spec)
    if direction == "request":
        why = (
            "old miners refuse new validators' requests, which no longer carry it (it is "
            "required there)"
            if default is None
            else f"old miners no longer get it from new validators and read its default {default}"
        )
        breaks = frozenset({MINERS})
    else:
        why = f"old validators no longer get it from new miners and keep its default {default}"
        breaks = frozenset({VALIDATORS})
    walk.report(F.FIELD_REMOVED, path, None, "field removed", breaks, why, at_key=True)


def _field_settings(
    walk: Walk, path: NodePath, before: FieldSpec, after: FieldSpec, sets: FieldSets
) -> None:
    """Required or not, the default, and the settings that stay on one side."""
    old_default, new_default = _default(before), _default(after)
    if (old_default is None) != (new_default is None):
        walk.report(
            F.REQUIREDNESS,
            path,
            path,
            "required -> optional" if new_default is not None else "optional -> required",
            why="validators of both versions send every request field, so the wire is unchanged",
            key="default",
        )
    elif old_default is not None and canonical(before.default) != canonical(after.default):
        _default_changed(walk, path, before, after, sets)
    for attribute, what in (
        (
            "header",
            "the value also travels in the request headers, for the "
            "miner's blacklist and priority hooks",
        ),
        ("frozen", "assignments to it raise; the wire is unchanged"),
    ):
        if getattr(before, attribute) != getattr(after, attribute):
            state = "added" if getattr(after, attribute) else "removed"
            walk.report(
                F.LOCAL_SETTING, path, path, f"{attribute}: true {state}", why=what, key=attribute
            )


def _default_changed(
    walk: Walk, path: NodePath, before: FieldSpec, after: FieldSpec, sets: FieldSets
) -> None:
    old_default, new_default = show(before.default), show(after.default)
    change = f"default {old_default} -> {new_default}"
    if sets.direction == "request":
        walk.report(
            F.DEFAULT,
            path,
            path,
            change,
            why=f"validators that leave it unset now send {new_default}; miners read what "
            "the validator sent",
            key="default",
        )
        return
    if sets.streamed:
        breaks: Breaks = NOBODY
        why = (
            f"each validator starts it from its own default, so new validators read "
            f"{new_default} when the stream does not fill it"
        )
    else:
        breaks = F.EVERYBODY
        why = (
            f"a miner that leaves it unset answers with its own default: new validators read "
            f"{old_default} from old miners, old validators {new_default} from new miners"
        )
    # bittensor 10 sends the whole synapse, response fields included, in every request body.
    for pair, default, reader, schema in (
        (MINERS, after.default, walk.old, before),
        (VALIDATORS, before.default, walk.new, after),
    ):
        resolved = reader.checker.resolve(schema)
        problem = reader.checker._mismatch(resolved, default) if resolved is not None else None
        if problem:
            sender, receiver = ("new", "old") if pair == MINERS else ("old", "new")
            breaks |= {pair}
            why += (
                f"; {sender} validators send {show(default)} in every request body "
                f"(bittensor 10 sends the whole synapse), which {receiver} miners refuse: "
                f"{problem}"
            )
    walk.report(F.DEFAULT, path, path, change, breaks, why, key="default")


def compare_parsed(
    out: Collector,
    synapse: str,
    path: NodePath,
    deserialize: tuple[Any, Any],
    old: SchemaVersion,
    new: SchemaVersion,
) -> None:
    """``deserialize: {parse: field, model: ...}`` in both versions: the miner writes a JSON
    document into a text field and the validator's ``deserialize()`` parses it into the model,
    so the model is compared as a response value (``path``: the ``deserialize`` node)."""
    before, after = deserialize
    if not (isinstance(before, dict) and isinstance(after, dict)):
        return
    if "model" not in before or "model" not in after or before["parse"] != after["parse"]:
        return
    node = (*path, "model")
    walk = Walk(
        out,
        synapse,
        f"the document deserialize() parses from {after['parse']!r}",
        MINERS,
        old,
        new,
        anchor=(node, node),
    )
    walk.compare(
        JsonSchema.model_validate({"$ref": before["model"]}),
        JsonSchema.model_validate({"$ref": after["model"]}),
        node,
        node,
    )


# ---- helpers -----------------------------------------------------------------------------------


def _choices(schema: JsonSchema | None) -> list[Any] | None:
    """The values an ``enum`` or ``const`` allows, or None when neither is given."""
    if schema is None:
        return None
    if schema.enum is not None:
        return list(schema.enum)
    if "const" in schema.model_fields_set:
        return [schema.const]
    return None


def _kinds(types: frozenset[str] | None) -> frozenset[str] | None:
    """The kinds of values the types admit: ``number`` is integers and fractions."""
    if types is None:
        return None
    kinds = set(types) - {"number"}
    if "number" in types:
        kinds |= {"integer", "fraction"}
    return frozenset(kinds)


def _numbers_differ(old: frozenset[str] | None, new: frozenset[str] | None) -> bool:
    """Whether numbers are integers on one side and may be fractions on the other."""
    if old is None or new is None:
        return False
    whole = ("integer" in old and "fraction" not in old, "integer" in new and "fraction" not in new)
    fraction = ("fraction" in old, "fraction" in new)
    return (whole[0] and fraction[1]) or (whole[1] and fraction[0])


def _set_effect(old: frozenset[str] | None, new: frozenset[str] | None) -> str | None:
    """``grow``, ``shrink``, ``change`` or None (same), None standing for every kind."""
    if old == new:
        return None
    if new is None:
        return "grow"
    if old is None:
        return "shrink"
    if old < new:
        return "grow"
    if new < old:
        return "shrink"
    return "change"


def _types_text(types: frozenset[str] | None) -> str:
    if types is None:
        return "any"
    return " | ".join(sorted(types))


def _values_text(values: list[Any]) -> str:
    shown = ", ".join(show(value) for value in values)
    return f"enum value{'s' if len(values) > 1 else ''} {shown}"


def _or_none(value: float | int | None) -> str:
    return "(none)" if value is None else show(value)


def _divides(small: float, large: float) -> bool:
    """Whether every multiple of ``large`` is a multiple of ``small``."""
    ratio = large / small
    return abs(ratio - round(ratio)) < 1e-9


def _bound(
    schema: JsonSchema, inclusive: str, exclusive: str, pick: Callable[..., Any]
) -> tuple[float, bool, str] | None:
    keys = {
        "minimum": "minimum",
        "maximum": "maximum",
        "exclusive_minimum": "exclusiveMinimum",
        "exclusive_maximum": "exclusiveMaximum",
    }
    found = [
        (value, attribute == exclusive, keys[attribute])
        for attribute in (inclusive, exclusive)
        if (value := getattr(schema, attribute)) is not None
    ]
    return pick(found) if found else None


def _lower(schema: JsonSchema) -> tuple[float, bool, str] | None:
    """The tightest lower bound: (value, exclusive, key)."""
    return _bound(schema, "minimum", "exclusive_minimum", lambda b: max(b, key=lambda x: x[:2]))


def _upper(schema: JsonSchema) -> tuple[float, bool, str] | None:
    """The tightest upper bound: (value, exclusive, key)."""
    return _bound(
        schema, "maximum", "exclusive_maximum", lambda b: min(b, key=lambda x: (x[0], not x[1]))
    )


def _state(model: JsonSchema, name: str) -> str:
    """A property's state in its model: ``required``, ``default`` (has one) or ``optional``
    (None when unset)."""
    prop = (model.properties or {}).get(name)
    if prop is not None and "default" in prop.model_fields_set:
        return "default"
    return "required" if name in (model.required or ()) else "optional"


def _extra_text(value: Any) -> str:
    if isinstance(value, JsonSchema):
        return "(a schema)"
    return show(value) if value is not None else "(none)"
