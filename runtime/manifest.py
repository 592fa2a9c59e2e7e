"""The capability manifest: which synapses an Axon serves, with their schema hashes.

An :class:`~synapsegen.runtime.Axon` answers ``GET /synapsegen/manifest`` (no signature: it is
public, like ``GET /openapi.json``) with compact JSON::

    {"synapsegen": "0.1.0",                       # the runtime's version
     "hotkey": "5F...",                           # the axon's hotkey (SS58)
     "synapses": {"ChatCompletion": {"schema_hash": "sha256:...",   # null: none (hand-written)
                                     "transports": ["bittensor10", "btauth/1"],
                                     "streaming": true},
                  "Synapse": {...}}}              # every attached route, ping included

A validator's :class:`~synapsegen.runtime.Dendrite` built with ``check_schema`` fetches it once
per axon and refuses to call a miner whose class has another schema hash than its own
(``runtime/_schema_check.py``). No synapse class can be named ``synapsegen/manifest``, so the
path never shadows a route; a bittensor axon answers it 404 (unknown synapse ``synapsegen``).

A generated class's hash is its ``schema_hash`` class variable (the generator's
``synapsegen.codegen.schema_hash`` says what it covers). :func:`schema_hash_of` is how both
sides read it, so that a subclass that changes the wire gets none instead of its parent's.
"""

from __future__ import annotations

import contextlib
import importlib
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MANIFEST_PATH", "manifest_document", "schema_hash_of", "served_hashes"]

MANIFEST_PATH = "/synapsegen/manifest"

_WIRE_CLASS_VARS = ("required_hash_fields", "request_fields", "header_fields")
"""Class variables that shape the wire besides the fields (the body hash, the HTTP-era body,
the headers): a subclass that changes one has no hash of its parent's."""

_hashes: weakref.WeakKeyDictionary[type, str | None] = weakref.WeakKeyDictionary()


def schema_hash_of(cls: type) -> str | None:
    """The schema hash of a synapse class, or None when it has none it can vouch for.

    A generated class's ``schema_hash``. A subclass inherits it only while it sends and reads
    what the declaring class does: its own fields (those beside bittensor's ``Synapse`` fields)
    and its ``required_hash_fields``, ``request_fields`` and ``header_fields`` must equal the
    declaring class's; a subclass that adds, drops or redefines one has no hash (None), and so
    has a class written by hand. Cached per class.
    """
    try:
        return _hashes[cls]
    except (KeyError, TypeError):
        pass
    value = _schema_hash_of(cls)
    with contextlib.suppress(TypeError):  # not weak-referenceable: not cached
        _hashes[cls] = value
    return value


def _schema_hash_of(cls: type) -> str | None:
    owner = next((c for c in cls.__mro__ if "schema_hash" in vars(c)), None)
    if owner is None:
        return None
    value = vars(owner)["schema_hash"]
    if not isinstance(value, str) or not value:
        return None
    if owner is cls or _wire_shape(cls) == _wire_shape(owner):
        return value
    return None


def _wire_shape(cls: type) -> tuple[Any, ...]:
    """The class's own fields (as pydantic describes them) and its wire class variables."""
    base = _synapse_base_fields()
    fields: Mapping[str, Any] = getattr(cls, "model_fields", {})
    own = tuple((name, repr(info)) for name, info in fields.items() if name not in base)
    return own, tuple(getattr(cls, name, None) for name in _WIRE_CLASS_VARS)


def _synapse_base_fields() -> frozenset[str]:
    from .synapse import Synapse

    return frozenset(Synapse.model_fields)


def manifest_document(
    hotkey: str, routes: Iterable[tuple[str, type, Iterable[str]]]
) -> dict[str, Any]:
    """The manifest of an axon with ``hotkey`` serving ``routes`` (name, class, transports),
    the routes sorted by name."""
    from .synapse import StreamingSynapse

    synapses = {
        name: {
            "schema_hash": schema_hash_of(cls),
            "transports": sorted(transports),
            "streaming": issubclass(cls, StreamingSynapse),
        }
        for name, cls, transports in sorted(routes, key=lambda route: route[0])
    }
    return {"synapsegen": runtime_version(), "hotkey": hotkey, "synapses": synapses}


def runtime_version() -> str:
    """The installed synapsegen's version (the package this runtime is part of)."""
    package = importlib.import_module(__name__.rsplit(".", 2)[0])
    return str(getattr(package, "__version__", "unknown"))


def served_hashes(document: Any) -> dict[str, str | None] | None:
    """``{name: schema_hash}`` of a manifest as received, or None when it is not a manifest.

    Tolerant of what it does not need (unknown keys, other values of ``transports``); a
    ``schema_hash`` that is not a string counts as none.
    """
    if not isinstance(document, dict):
        return None
    synapses = document.get("synapses")
    if not isinstance(document.get("synapsegen"), str) or not isinstance(synapses, dict):
        return None
    hashes: dict[str, str | None] = {}
    for name, entry in synapses.items():
        value = entry.get("schema_hash") if isinstance(entry, dict) else None
        hashes[str(name)] = value if isinstance(value, str) and value else None
    return hashes
