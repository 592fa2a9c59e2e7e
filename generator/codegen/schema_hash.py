"""The schema hash of a synapse: a digest of its wire-relevant definition, and nothing else.

A generated class carries it as ``schema_hash: ClassVar[str] = "sha256:<64 hex>"``; an Axon
publishes it in its manifest (``GET /synapsegen/manifest``) and a Dendrite with
``check_schema`` compares it with its own class's before calling a miner. Two schema files give
the same hash for a synapse exactly when they define the same wire protocol for it, as far as
the schema says: descriptions, comments, key order, YAML or JSON, formatting, presets or their
expansion, and the names of ``$defs`` entries change nothing; any change to what crosses the
wire does.

The hash is ``sha256`` of the UTF-8 bytes of the *canonical document*, dumped as JSON with
sorted keys, no whitespace and non-ASCII characters as they are::

    {"synapsegen-schema": 1,
     "request": {FIELD_NAME: NODE, ...},          # the request section's fields
     "response": {FIELD_NAME: NODE, ...},         # the response section's, preset-added included
     "hash_fields": [FIELD_NAME, ...],            # the `hash: true` fields, in file order
     "stream": STREAM or null,                    # null: a plain synapse
     "defs": [NODE, ...]}                         # the $defs entries referred to, see below

``hash_fields`` is ``required_hash_fields``: bittensor 10's body hash concatenates the fields'
digests in that order, so their order counts (the order of other fields does not).

NODE, a JSON Schema node, keeps these keywords: ``type`` (a list sorted and without duplicates;
a list of one is that string), ``enum`` (sorted by its members' canonical JSON, without
duplicates), ``const`` and ``default`` (when the schema gives them, also as null), ``items``,
``properties`` (each a NODE), ``required`` (sorted, without duplicates),
``additionalProperties`` (false, true or a NODE), ``anyOf``/``oneOf`` (NODEs, in their order),
``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``,
``minLength``, ``maxLength``, ``pattern``, ``minItems``, ``maxItems``. A ``$ref`` becomes
``{"$ref": i}`` (beside the node's other keywords), ``i`` the index of the entry in ``defs``:
entries are numbered in the order they are first met walking the request fields, then the
response fields (each section by sorted name, each node by sorted keyword), then the stream's
token, then the entries themselves in number order. Left out: ``description``, ``title``,
``examples``, ``format`` (informational: types stay plain), ``frozen`` (what assignment does
locally), ``header`` (the miner reads a value sent in the headers whatever its own class says;
the flag changes what the validator's class puts there, never what either side can parse),
``import`` (the Python class that stands for an entry: its entry still describes it) and
every keyword whose value is null, except ``const`` and ``default``.

STREAM, from the stream with its preset expanded and its defaults filled: ``framing``, the
framing's own options that differ from their defaults (``sentinel``, ``delimiter``),
``payload``, ``token`` (a NODE, when declared), ``rules`` (in order, each ``op``, ``field``,
``path``, ``when`` and the op's own options, those that are set), ``end`` (``signal``, and
``event`` with ``signal: event``) and ``error_event`` with ``error_message_key`` (when an error
event is declared). Left out as client- or server-local: ``limits`` (what this client buffers),
``yields`` and ``deserialize`` (what the local methods return), ``end.keep_partial`` (whether
this client keeps a cut stream), ``server.batch_count``/``batch_interval`` (how the miner groups
sends; the bytes are the same). A synapse's ``description``, ``timeout`` (a default the caller
overrides) and ``deserialize`` are left out too, and so is its name (the manifest's key).

Numbers are normalized everywhere: an integral float is written as an integer (``0.0`` -> ``0``;
a ``number`` default of ``1`` and ``1.0`` give the same class). Booleans stay booleans.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..kinds import FRAMINGS, OPS
from ..language.spec import JsonSchema, RuleSpec, StreamSpec, SynapseSpec

CANONICAL_VERSION = 1
"""The version of the canonical document (its ``synapsegen-schema`` key)."""

_KEPT = (
    "type", "enum", "const", "default", "items", "properties", "required",
    "additionalProperties", "anyOf", "oneOf", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "minItems",
    "maxItems",
)  # fmt: skip
"""The JSON Schema keywords a NODE keeps (``$ref`` is renumbered; see the module docstring)."""

_NULL_MEANS_SOMETHING = frozenset({"const", "default"})


def schema_hash(synapse: SynapseSpec, defs: dict[str, JsonSchema]) -> str:
    """``"sha256:<hex>"`` of the canonical document of an expanded, validated synapse."""
    return "sha256:" + hashlib.sha256(canonical_bytes(synapse, defs)).hexdigest()


def canonical_bytes(synapse: SynapseSpec, defs: dict[str, JsonSchema]) -> bytes:
    """The canonical document, dumped: what :func:`schema_hash` hashes."""
    document = canonical_document(synapse, defs)
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def canonical_document(synapse: SynapseSpec, defs: dict[str, JsonSchema]) -> dict[str, Any]:
    """The canonical document of an expanded, validated synapse (see the module docstring)."""
    walker = _Walker(defs)
    # Sorted walks, so that the numbering of the $defs entries follows the canonical order.
    request = {name: walker.node(synapse.request[name]) for name in sorted(synapse.request)}
    response = {name: walker.node(synapse.response[name]) for name in sorted(synapse.response)}
    stream = walker.stream(synapse.stream) if synapse.stream is not None else None
    fields = {**synapse.request, **synapse.response}
    return {
        "synapsegen-schema": CANONICAL_VERSION,
        "request": request,
        "response": response,
        "hash_fields": [name for name, spec in fields.items() if spec.hash],
        "stream": stream,
        "defs": walker.finish(),
    }


def _number(value: Any) -> Any:
    """JSON data with integral floats as integers, all the way down (booleans kept)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_number(item) for item in value]
    if isinstance(value, dict):
        return {key: _number(item) for key, item in value.items()}
    return value


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Walker:
    """Builds NODEs, numbering the ``$defs`` entries in the order they are first referred to."""

    def __init__(self, defs: dict[str, JsonSchema]) -> None:
        self.defs = defs
        self.numbers: dict[str, int] = {}
        self.pending: list[str] = []

    def number(self, ref: str) -> int:
        name = ref.rsplit("/", 1)[-1]
        if name not in self.numbers:
            self.numbers[name] = len(self.numbers)
            self.pending.append(name)
        return self.numbers[name]

    def finish(self) -> list[dict[str, Any]]:
        """The referred entries' NODEs, in number order (an entry may refer to further ones)."""
        nodes: list[dict[str, Any]] = []
        while len(nodes) < len(self.pending):
            nodes.append(self.node(self.defs[self.pending[len(nodes)]]))
        return nodes

    def node(self, schema: JsonSchema) -> dict[str, Any]:
        data = schema.model_dump(by_alias=True, exclude_unset=True, mode="json")
        return self._node(data)

    def _node(self, data: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = {}
        # Keys in sorted order: the $defs numbering follows the canonical walk.
        for key in sorted(data):
            value = data[key]
            if key == "$ref" and value is not None:
                node["$ref"] = self.number(value)
            elif key not in _KEPT or (value is None and key not in _NULL_MEANS_SOMETHING):
                continue
            elif key == "type" and isinstance(value, list):
                kinds = sorted(set(value))
                node[key] = kinds[0] if len(kinds) == 1 else kinds
            elif key == "enum":
                members = {_json_key(_number(member)): _number(member) for member in value}
                node[key] = [members[text] for text in sorted(members)]
            elif key == "required":
                node[key] = sorted(set(value))
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                node[key] = self._node(value)
            elif key == "properties":
                node[key] = {name: self._node(value[name]) for name in sorted(value)}
            elif key in ("anyOf", "oneOf"):
                node[key] = [self._node(member) for member in value]
            else:
                node[key] = _number(value)
        return node

    def stream(self, stream: StreamSpec) -> dict[str, Any]:
        assert stream.framing is not None and stream.end is not None  # expanded
        framing = FRAMINGS[stream.framing]
        result: dict[str, Any] = {"framing": stream.framing, "payload": stream.payload}
        for key, default in framing.option_defaults().items():
            value = getattr(stream, key)
            if value != default:
                result[key] = _number(value)
        end: dict[str, Any] = {"signal": stream.end.signal}
        if stream.end.signal == "event":
            end["event"] = _number(stream.end.event)
        result["end"] = end
        if stream.server.error_event is not None:
            result["error_event"] = _number(stream.server.error_event)
            result["error_message_key"] = stream.server.error_message_key
        # After the scalar keys, in the canonical (sorted) order: rules, then token.
        result["rules"] = [self._rule(rule) for rule in stream.rules or []]
        if stream.token is not None:
            result["token"] = self.node(stream.token)
        return result

    @staticmethod
    def _rule(rule: RuleSpec) -> dict[str, Any]:
        result: dict[str, Any] = {"op": rule.op}
        for key in ("field", "path", "when"):
            value = getattr(rule, key)
            if value is not None:
                result[key] = _number(value)
        for key, info in OPS[rule.op].Options.model_fields.items():
            value = getattr(rule, key)
            if value != info.default:
                result[key] = _number(value)
        return result
