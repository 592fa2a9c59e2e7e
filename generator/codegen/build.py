"""Turn a validated schema (presets expanded, defaults filled) into the IR the templates render.

The build stage decides names and plans (which locals a stream needs, which keys a condition
reads) and asks each kind (:mod:`synapsegen.kinds`) for its own IR; the templates decide what
the code looks like. Everything here is total on validated input: every user error was reported
by the front end, so nothing here raises for a schema that validated (the property tests in
``tests/generator`` hold it to that).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..kinds import FRAMINGS, OPS, TARGETS
from ..language.names import MODULE_NAMES, STREAM_LOCALS
from ..language.paths import parse_path
from ..language.spec import (
    DeserializeSpec,
    JsonSchema,
    RuleSpec,
    SchemaFile,
    StreamSpec,
    SynapseSpec,
)
from .ir import (
    AccumulatorIR,
    DeserializeIR,
    ImportIR,
    ModuleIR,
    PackageImport,
    PackageInitIR,
    ReadIR,
    RuleIR,
    StreamIR,
    SynapseIR,
    TagTest,
)
from .media import build_media
from .models import build_models
from .schema_hash import schema_hash
from .types import TypeMapper, is_object_model

FIXED_LOCALS = STREAM_LOCALS  # accumulators and tag reads avoid them (names.py says why)


def build_module(
    schema: SchemaFile, *, stem: str, source: str, header: str, runtime: str = "synapsegen"
) -> ModuleIR:
    """Build the IR of the module generated from one schema file."""
    mapper = TypeMapper(schema.defs)
    synapses = [
        _build_synapse(name, synapse, mapper, set(schema.synapses) | MODULE_NAMES, schema.defs)
        for name, synapse in schema.synapses.items()
    ]
    nested = build_models(mapper)
    kind = "Streaming synapses" if any(s.stream for s in schema.synapses.values()) else "Synapses"
    description = (schema.description or "").strip() or f"{kind} from {source}."
    return ModuleIR(
        stem=stem,
        header=header,
        description=description,
        target=TARGETS[runtime].template,
        imports=tuple(_import(name, path) for name, path in sorted(mapper.imported.items())),
        models=nested.models,
        rebuilds=nested.rebuilds,
        synapses=tuple(synapses),
        all_names=tuple(
            sorted(n for n in [*schema.synapses, *mapper.defs] if n not in mapper.imported)
        ),
    )


def _import(name: str, path: str) -> ImportIR:
    """The import of ``$defs`` entry ``name`` from ``package.module.Class``."""
    module, _, attribute = path.rpartition(".")
    return ImportIR(module, attribute, None if attribute == name else name)


def _build_synapse(
    name: str,
    synapse: SynapseSpec,
    mapper: TypeMapper,
    module_names: set[str],
    defs: dict[str, JsonSchema],
) -> SynapseIR:
    fields = [
        mapper.synapse_field(field_name, spec, name, section)
        for section, specs in (("request", synapse.request), ("response", synapse.response))
        for field_name, spec in specs.items()
    ]
    field_types = {field.name: field.type for field in fields}
    all_specs = {**synapse.request, **synapse.response}
    if synapse.stream is not None:
        model = _token_model(synapse.stream, mapper)
        stream = _build_stream(
            synapse, synapse.stream, module_names | set(mapper.defs), model, defs
        )
        deserialize = synapse.stream.deserialize
        kind = "streaming synapse"
    else:
        stream, deserialize, kind = None, synapse.deserialize, "synapse"
    description = (synapse.description or "").strip() or f"The {name} {kind}."
    return SynapseIR(
        name=name,
        description=description,
        hash_fields=tuple(n for n, spec in all_specs.items() if spec.hash),
        fields=tuple(fields),
        response=tuple(field for field in fields if field.name in synapse.response),
        stream=stream,
        deserialize=_build_deserialize(deserialize, field_types),
        timeout=synapse.timeout,
        header_fields=tuple(n for n, spec in synapse.request.items() if spec.header),
        request_fields=tuple(synapse.request),
        schema_hash=schema_hash(synapse, defs),
    )


# ------------------------------------------------------------------------------------ rules


class _Names:
    """Local names of one ``process_streaming_response``, unique by construction."""

    def __init__(self, taken: Iterable[str]) -> None:
        self.taken = set(taken)

    def claim(self, *wanted: str, prefix: str = "received_") -> tuple[str, ...]:
        """``wanted`` as they are, else all with ``prefix``, else numbered (never taken)."""
        wanted = tuple(re.sub(r"\W", "_", name, flags=re.ASCII) for name in wanted)
        candidates = [wanted, tuple(f"{prefix}{name}" for name in wanted)]
        suffix = 2
        while any(n in self.taken or not n.isidentifier() for n in candidates[0]):
            candidates.pop(0)
            if not candidates:
                candidates.append(tuple(f"{prefix}{name}_{suffix}" for name in wanted))
                suffix += 1
        self.taken.update(candidates[0])
        return candidates[0]


@dataclass
class RuleContext:
    """What an op's ``build`` may ask for: reads of the token, the fields' accumulators."""

    token: str
    text_payload: bool
    root_is_dict: bool
    yields_text: bool
    accumulators: dict[str, AccumulatorIR]

    def read(self, path: str | None) -> ReadIR:
        """Read the value at ``path`` (None: the whole token) into ``value``."""
        if self.text_payload:
            return ReadIR(self.token, (), self.token, False, guard=False, text=True, where="token")
        if path is None:
            # A token checked to be an object is never None: no guard (nor a nested `if`).
            guard = not self.root_is_dict
            return ReadIR(self.token, (), self.token, self.root_is_dict, guard, False, "token")
        steps = parse_path(path)
        assert steps is not None  # SG412
        return ReadIR(self.token, steps, "value", self.root_is_dict, True, False, path)

    def key_read(self, key: str, value: ReadIR) -> ReadIR:
        """Read the dict key at ``key`` inside ``value`` (checked to be a dict by then)."""
        steps = parse_path(key)
        assert steps is not None  # SG412
        where = f"{value.where}.{key}" if value.steps else key
        return ReadIR(value.variable, steps, "key", True, guard=False, text=False, where=where)

    def group_read(self, path: str) -> ReadIR:
        """Read the group key at ``path`` in the token (a rule's ``group``) into ``key``."""
        steps = parse_path(path)
        assert steps is not None  # SG412
        return ReadIR(self.token, steps, "key", self.root_is_dict, False, False, path)

    def accumulator(self, field: str) -> AccumulatorIR:
        """The local collecting ``field``."""
        return self.accumulators[field]


def _plan_accumulators(
    synapse: SynapseSpec, rules: list[RuleSpec], names: _Names
) -> dict[str, AccumulatorIR]:
    """One accumulator per response field a rule writes, in field declaration order.

    The ops' accumulators agree (the front end checked the target types); ``value`` (replace,
    set) yields to the others: a replace onto a text field replaces its text.
    """
    kinds: dict[str, str] = {}
    for rule in rules:
        op = OPS[rule.op]
        for target in op.targets(rule):
            if kinds.get(target, "value") == "value":
                kinds[target] = op.accumulator_of(rule)
    result = {}
    for name, spec in synapse.response.items():
        if name not in kinds:
            continue
        (local,) = names.claim(name)
        has_default = "default" in spec.model_fields_set
        nullable = has_default and spec.default is None and kinds[name] != "value"
        result[name] = AccumulatorIR(
            name, kinds[name], local, has_default, spec.default, nullable=nullable
        )
    return result


def _tag_locals(tag_sets: list[dict[str, Any]], token: str, names: _Names) -> dict[str, str]:
    """A local name for each key the conditions test, in first-use order: ``event_type``."""
    found: dict[str, str] = {}
    for tags in tag_sets:
        for key in tags:
            if key not in found:
                (found[key],) = names.claim(f"{token}_{key}", prefix="")
    return found


def _tests(tags: dict[str, Any] | None, tag_locals: dict[str, str]) -> tuple[TagTest, ...]:
    return tuple(TagTest(tag_locals[key], key, value) for key, value in (tags or {}).items())


def _describe_tags(tags: dict[str, Any]) -> str:
    return ", ".join(f"{key} = {value!r}" for key, value in tags.items())


def _rule_summary(rule: RuleSpec) -> str:
    op = OPS[rule.op]
    text = op.describe(rule, rule.path if rule.path else "the token")
    return f"when {_describe_tags(rule.when)}, {text}" if rule.when else text


# ------------------------------------------------------------------------------------ streams


def _build_stream(
    synapse: SynapseSpec,
    stream: StreamSpec,
    module_names: set[str],
    token_model: str | None,
    defs: dict[str, JsonSchema],
) -> StreamIR:
    assert stream.framing is not None and stream.end is not None  # filled by the presets stage
    framing = FRAMINGS[stream.framing].build(stream)
    text_payload = framing.payload == "text"
    token = "text" if text_payload else "event"
    rules = list(stream.rules or [])
    end = stream.end
    event = end.event if end.signal == "event" else None
    error_event = stream.server.error_event

    names = _Names(FIXED_LOCALS | module_names)
    accumulators = _plan_accumulators(synapse, rules, names)
    tag_sets = [tags for tags in [*(rule.when for rule in rules), error_event, event] if tags]
    tag_locals = {} if text_payload else _tag_locals(tag_sets, token, names)
    require_object = not text_payload and (
        token_model is not None or _reads_object(stream, tag_locals)
    )
    yields_text = stream.yields == "text"
    context = RuleContext(token, text_payload, require_object, yields_text, accumulators)
    token_type, yield_type = _token_types(stream, token_model, yields_text)
    return StreamIR(
        framing=framing,
        token=token,
        require_object=require_object,
        tag_reads=tuple((local, key) for key, local in tag_locals.items()),
        error_tests=_tests(error_event, tag_locals),
        error_event=error_event,
        error_message_key=stream.server.error_message_key,
        end_signal=end.signal,
        end_tests=_tests(event, tag_locals),
        end_event=event,
        terminator=_terminator(stream),
        after_end=f"data after the final event ({_describe_tags(end.event or {})})",
        keep_partial=end.keep_partial,
        accumulators=tuple(accumulators.values()),
        rules=tuple(_rule(index, rule, context, tag_locals) for index, rule in enumerate(rules, 1)),
        yields_text=yields_text,
        yield_type=yield_type,
        token_type=token_type,
        token_model=token_model,
        batch_count=stream.server.batch_count,
        batch_interval=stream.server.batch_interval,
        summary="yield each text delta" if yields_text else "yield each decoded token",
        fills=_fills(stream, accumulators),
        media=build_media(stream, defs, token_model, require_object),
    )


def _rule(index: int, rule: RuleSpec, context: RuleContext, tag_locals: dict[str, str]) -> RuleIR:
    op = OPS[rule.op]
    return RuleIR(
        index=index,
        template=op.template,
        summary=_rule_summary(rule),
        tests=_tests(rule.when, tag_locals),
        action=op.build(rule, context),
    )


def _terminator(stream: StreamSpec) -> str:
    """What ends the stream, in words (for the ``stream_complete`` docstring)."""
    assert stream.end is not None
    if stream.end.signal == "sentinel":
        return f"the SSE sentinel {stream.sentinel!r}"
    if stream.end.signal == "event":
        return f"the final event ({_describe_tags(stream.end.event or {})})"
    return "a clean end of the body"


def _fills(stream: StreamSpec, accumulators: dict[str, AccumulatorIR]) -> str:
    """The docstring paragraph saying which fields the stream fills, and when."""
    assert stream.end is not None
    fields_text = ", ".join(f"``{a.field}``" for a in accumulators.values()) or "no fields"
    when = (
        ", also when it was cut off (what arrived is kept)"
        if stream.end.keep_partial
        else ", and only if the terminator arrived"
    )
    errors = "; the miner's error event raises MinerError." if stream.server.error_event else "."
    return (
        f"Fills {fields_text} once, when the stream ends{when}; ``stream_complete`` tells "
        f"whether it did. Stream errors and timeouts propagate{errors}"
    )


def _reads_object(stream: StreamSpec, tag_locals: dict[str, str]) -> bool:
    """Whether the rules need each JSON token to be an object (they read its keys)."""
    declared = stream.token is not None and stream.token.type == "object"
    return bool(tag_locals) or declared or any(map(_reads_keys, stream.rules or []))


def _reads_keys(rule: RuleSpec) -> bool:
    """Whether the rule looks a key up at the top of the token (so the token must be a dict)."""
    paths = [rule.path] if rule.path else []
    if isinstance(rule.fields, dict):
        paths += rule.fields.values()
    return any(isinstance((parse_path(path) or (0,))[0], str) for path in paths)


def _token_model(stream: StreamSpec, mapper: TypeMapper) -> str | None:
    """The ``$defs`` model a JSON stream's token is (``token: {$ref: ...}`` to an object with
    properties): its events are typed, validated into it when the client yields them."""
    ref = stream.token.ref if stream.payload == "json" and stream.token is not None else None
    name = ref.rsplit("/", 1)[-1] if ref is not None else None
    return name if name is not None and is_object_model(mapper.defs.get(name, {})) else None


def _token_types(stream: StreamSpec, token_model: str | None, yields_text: bool) -> tuple[str, str]:
    """What ``stream_response`` takes per token, and what the client yields."""
    if token_model is not None:
        return f"{token_model} | dict[str, Any]", "str" if yields_text else token_model
    token_type = _token_type(stream)
    return token_type, "str" if yields_text else token_type


def _token_type(stream: StreamSpec) -> str:
    """The declared type of one token (not validated per token: that would cost too much)."""
    if stream.payload == "text":
        return "str"
    if stream.token is not None and stream.token.type == "object":
        return "dict[str, Any]"
    return "Any"


def _build_deserialize(spec: DeserializeSpec | None, field_types: dict[str, str]) -> DeserializeIR:
    if not isinstance(spec, dict):
        return DeserializeIR(return_type="Self")
    options = {str(key): value for key, value in spec.items()}
    if "field" in options:
        return DeserializeIR(return_type=field_types[options["field"]], field=options["field"])
    model = options["model"].rsplit("/", 1)[-1]
    return DeserializeIR(return_type=model, parse=options["parse"], model=model)


# ------------------------------------------------------------------------------------ package


def build_package_init(
    header: str,
    modules: dict[str, tuple[str, ...]],
    synapses: dict[str, tuple[str, ...]] | None = None,
    *,
    streaming: bool = True,
) -> PackageInitIR:
    """``__init__.py`` re-exporting the generated modules' public names.

    ``modules`` maps each module stem to its public names, ``synapses`` to the synapse classes
    among them (unique across modules: the pipeline refuses a clash, SG903, because a synapse's
    name is its route on the axon). Each module is its own namespace, so two may define a nested
    model of the same name; ``from pkg import Name`` cannot mean both, so a name defined by
    several modules is re-exported only as the synapse it names, if it names one, and otherwise
    stays importable from its modules (listed in a comment of ``__init__.py``). ``streaming``:
    whether any of the synapses streams (the docstring says which kind the package holds).
    """
    exports = _Exports(modules, synapses or {})
    imports = [
        PackageImport(f".{stem}", names)
        for stem in sorted(modules)
        if (names := exports.reexported_by(stem))
    ]
    not_exported = tuple(
        f"{name}: " + ", ".join(f"{stem}.{name}" for stem in exports.hidden_owners(name))
        for name in exports.shared()
    )
    return PackageInitIR(
        header=header,
        description="Generated streaming synapses." if streaming else "Generated synapses.",
        imports=tuple(imports),
        all_names=tuple(sorted(name for imp in imports for name in imp.names)),
        not_exported=not_exported,
    )


class _Exports:
    """Which module re-exports which name in the package ``__init__.py``."""

    def __init__(self, modules: dict[str, tuple[str, ...]], synapses: dict[str, tuple[str, ...]]):
        self.modules = modules
        self.synapse_owner = {n: stem for stem, names in sorted(synapses.items()) for n in names}
        self.owners: dict[str, list[str]] = {}
        for stem, exported in sorted(modules.items()):
            for name in exported:
                self.owners.setdefault(name, []).append(stem)

    def reexports(self, stem: str, name: str) -> bool:
        """A synapse by its module; any other name only if one module defines it."""
        owner = self.synapse_owner.get(name)
        return owner == stem if owner is not None else len(self.owners[name]) == 1

    def reexported_by(self, stem: str) -> tuple[str, ...]:
        """The names ``__init__.py`` imports from module ``stem``, sorted."""
        return tuple(sorted(n for n in self.modules[stem] if self.reexports(stem, n)))

    def shared(self) -> list[str]:
        """Names several modules define, sorted."""
        return sorted(name for name, stems in self.owners.items() if len(stems) > 1)

    def hidden_owners(self, name: str) -> list[str]:
        """The modules whose ``name`` is not re-exported."""
        return [stem for stem in self.owners[name] if not self.reexports(stem, name)]
