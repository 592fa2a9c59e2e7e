"""Two versions of a protocol compared synapse by synapse.

Synapses are matched by name (the name is the route, ``POST /<Name>``, unique across the files),
wherever their files are. A synapse only one version has is added or removed, unless the other
version has exactly one synapse under another name that is the same on the wire (fields, hash
fields, stream: everything but the documentation): then it was renamed, which moves its route.
"""

from __future__ import annotations

from typing import Any

from ..diagnostics import NodePath
from ..language.spec import SynapseSpec
from . import findings as F
from .findings import VALIDATORS, Collector, Finding, Site, locate
from .sources import SchemaVersion, Version
from .streams import Streams
from .values import FieldSets, canonical, compare_fields, compare_parsed, show


def compare(old: Version, new: Version) -> list[Finding]:
    """Every change between two versions, classified."""
    out = Collector()
    removed = [name for name in old.synapses if name not in new.synapses]
    added = [name for name in new.synapses if name not in old.synapses]
    renamed = _renames(old, new, removed, added)
    for name, (version, _) in old.synapses.items():
        path: NodePath = ("synapses", name)
        if name in renamed:
            target = renamed[name]
            new_version = new.synapses[target][0]
            out.add(
                F.SYNAPSE_RENAMED,
                target,
                Site(new_version.doc, ("synapses", target), True),
                f"renamed from {name!r} (fields and stream unchanged)",
                F.EVERYBODY,
                f"the name is the route (/{name} -> /{target}): old validators call a route "
                "new miners no longer serve, and new validators one old miners do not "
                "serve",
            )
        elif name in removed:
            out.add(
                F.SYNAPSE_REMOVED,
                name,
                Site(version.doc, path, True),
                "synapse removed",
                frozenset({VALIDATORS}),
                f"old validators still call /{name}, which new miners no longer serve",
            )
        else:
            _synapse(out, name, old.synapses[name], new.synapses[name])
    for name in added:
        if name not in renamed.values():
            version = new.synapses[name][0]
            out.add(
                F.SYNAPSE_ADDED,
                name,
                Site(version.doc, ("synapses", name), True),
                "synapse added",
                why="old miners do not serve it yet: new validators' calls to them "
                "fail until they upgrade",
            )
    return out.findings()


def _renames(old: Version, new: Version, removed: list[str], added: list[str]) -> dict[str, str]:
    """Removed synapse -> the added one it became: the only one with its wire shape, both
    ways."""
    old_keys = {name: _wire_shape(old.synapses[name]) for name in removed}
    new_keys = {name: _wire_shape(new.synapses[name]) for name in added}
    renamed = {}
    for name, key in old_keys.items():
        same = [other for other, other_key in new_keys.items() if other_key == key]
        twins = [other for other, other_key in old_keys.items() if other_key == key]
        if len(same) == 1 and len(twins) == 1:
            renamed[name] = same[0]
    return renamed


def _wire_shape(located: tuple[SchemaVersion, SynapseSpec]) -> Any:
    """A synapse as the wire sees it: without documentation, ``$refs`` spelled out."""
    version, spec = located
    dumped = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
    return canonical(_undocumented(dumped, version.schema.defs, set()))


def _undocumented(node: Any, defs: dict[str, Any], inside: set[str]) -> Any:
    if isinstance(node, list):
        return [_undocumented(item, defs, inside) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref.removeprefix("#/$defs/")
        if name in defs and name not in inside:
            target = defs[name].model_dump(mode="json", by_alias=True, exclude_none=True)
            node = {**{k: v for k, v in node.items() if k != "$ref"}, "$def": target}
            return _undocumented(node, defs, inside | {name})
    return {
        key: _undocumented(value, defs, inside)
        for key, value in node.items()
        if key not in ("description", "title", "examples")
    }


def _synapse(
    out: Collector,
    name: str,
    old: tuple[SchemaVersion, SynapseSpec],
    new: tuple[SchemaVersion, SynapseSpec],
) -> None:
    (old_version, before), (new_version, after) = old, new
    path: NodePath = ("synapses", name)

    def report(
        code: str, key: tuple[str, ...], change: str, why: str = "", breaks: F.Breaks = F.NOBODY
    ) -> None:
        site = locate(Site(new_version.doc, (*path, *key)), Site(old_version.doc, (*path, *key)))
        out.add(code, name, site, change, breaks, why)

    if before.description != after.description:
        report(F.DOCUMENTATION, ("description",), "description changed")
    if before.timeout != after.timeout:
        report(
            F.TIMEOUT,
            ("timeout",),
            f"timeout {_seconds(before.timeout)} -> {_seconds(after.timeout)}",
            "the class's default: synapsegen's Dendrite waits this long when a call gives no "
            "timeout, and the miner sees the timeout the validator sent",
        )
    _hash_fields(out, name, old, new)
    streamed = before.stream is not None and after.stream is not None
    if (before.stream is None) != (after.stream is None):
        kinds = ("plain", "streaming") if after.stream is not None else ("streaming", "plain")
        report(
            F.SYNAPSE_KIND,
            ("stream",),
            f"{kinds[0]} -> {kinds[1]} synapse",
            "old and new peers expect different answers (one JSON body or a token stream)",
            F.EVERYBODY,
        )
    elif before.stream is None and _deserialize(before) != _deserialize(after):
        report(
            F.LOCAL_SETTING,
            ("deserialize",),
            f"deserialize {show(_deserialize(before))} -> {show(_deserialize(after))}",
            "what deserialize() returns to the validator's code changes; the wire is unchanged",
        )
    if before.stream is None and after.stream is None:
        deserialize = (_deserialize(before), _deserialize(after))
        compare_parsed(out, name, (*path, "deserialize"), deserialize, old_version, new_version)
    for direction in ("request", "response"):
        sets = FieldSets(direction, getattr(before, direction), getattr(after, direction), streamed)
        compare_fields(out, name, sets, old_version, new_version)
    if before.stream is not None and after.stream is not None:
        Streams(out, name, old_version, new_version, before.stream, after.stream).compare()


def _hash_fields(
    out: Collector,
    name: str,
    old: tuple[SchemaVersion, SynapseSpec],
    new: tuple[SchemaVersion, SynapseSpec],
) -> None:
    """``required_hash_fields``: the request fields marked ``hash: true``, in order."""
    (old_version, before), (new_version, after) = old, new
    old_fields = tuple(field for field, spec in before.request.items() if spec.hash)
    new_fields = tuple(field for field, spec in after.request.items() if spec.hash)
    if old_fields == new_fields:
        return
    changed = [f for f in (*new_fields, *old_fields) if (f in old_fields) != (f in new_fields)]
    if not changed:  # the same fields in another order: the first that moved
        changed = [f for f, g in zip(new_fields, old_fields, strict=True) if f != g]
    moved = changed[0]
    path: NodePath = ("synapses", name, "request", moved)
    site = locate(Site(new_version.doc, (*path, "hash")), Site(old_version.doc, (*path, "hash")))
    out.add(
        F.HASH_FIELDS,
        name,
        site,
        f"required_hash_fields {_names(old_fields)} -> {_names(new_fields)}",
        why="bittensor 10 signs a hash over these fields, so old and new peers refuse each "
        "other's signatures (bittensor#3407); btauth/1 and Epistula sign the body bytes and "
        "are not affected",
    )


def _names(fields: tuple[str, ...]) -> str:
    return "(" + ", ".join(repr(f) for f in fields) + ")"


def _seconds(timeout: float | None) -> str:
    return f"{show(timeout)} s" if timeout is not None else "(bittensor's 12 s)"


def _deserialize(spec: SynapseSpec) -> Any:
    """A plain synapse's ``deserialize`` (omitted: ``synapse``)."""
    return spec.deserialize if spec.deserialize is not None else "synapse"
