"""The token streams of a synapse compared: what both ends must agree on, and what stays local.

Miners encode tokens with the stream's framing, payload, framing options (delimiter, sentinel)
and end signal; validators decode them with their own version's, and their rules read keys of
each token (``path``, ``when`` tags, an op's own keys) into response fields. A change to any of
those makes one version misread the other's stream: a stream-breaking finding. What stays on one
side (limits, batching, keep_partial, what deserialize returns) is compatible, but the model a
``deserialize: {parse: ...}`` reads is compared as a response value; ``yields`` changes what the
validator's own code receives from the stream, not what crosses the wire: reported, compatible
(the schema hash leaves it out too).

Rules are compared per response field: the reads that fill a field (op, path, tags, the op's own
keys) must be the same, in order, in both versions. A rule for a field the other version does
not fill is new or gone; it breaks the stream only when the other version's rules would read
its tokens too (a new kind of event that an old rule without ``when``, or with matching tags,
also reads at the same path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..diagnostics import NodePath
from ..kinds import FRAMINGS, OPS
from ..language.spec import StreamSpec
from . import findings as F
from .findings import MINERS, VALIDATORS, Collector, Site, locate
from .values import Walk, canonical, compare_parsed, show

if TYPE_CHECKING:
    from .sources import SchemaVersion


@dataclass(frozen=True)
class Read:
    """One rule's read into one field: the op, the path in the token, the tags, the op's keys."""

    index: int  # the rule's index in ``rules``
    field: str
    op: str
    path: str | None
    when: tuple[tuple[str, Any], ...]  # canonical
    options: tuple[tuple[str, Any], ...]  # canonical
    tags: dict[str, Any] | None  # ``when`` as written

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.op, self.path, self.when, self.options)

    def describe(self) -> str:
        text = f"{self.op} {self.path or '(the whole token)'}"
        if self.tags:
            text += f" when {show(self.tags)}"
        for key, value in self.options:
            text += f" {key} {show(_plain(value))}"
        return text

    def matches(self, other: Read) -> bool:
        """Whether this read would apply to the tokens ``other`` reads: tags that agree where
        both name a key, and the same path (or the whole token)."""
        mine, theirs = dict(self.when), dict(other.when)
        agree = all(mine[key] == theirs[key] for key in mine.keys() & theirs.keys())
        return agree and (self.path is None or self.path == other.path)


@dataclass
class Streams:
    """One streaming synapse in both versions."""

    out: Collector
    synapse: str
    old: SchemaVersion
    new: SchemaVersion
    old_stream: StreamSpec
    new_stream: StreamSpec

    @property
    def base(self) -> NodePath:
        return ("synapses", self.synapse, "stream")

    def report(
        self,
        code: str,
        keys: tuple[str | int, ...],
        change: str,
        why: str,
        breaks: F.Breaks = F.NOBODY,
        old_keys: tuple[str | int, ...] | None = None,
    ) -> None:
        new = Site(self.new.doc, (*self.base, *keys))
        old = Site(self.old.doc, (*self.base, *(keys if old_keys is None else old_keys)))
        self.out.add(code, self.synapse, locate(new, old), change, breaks, why, "the stream")

    def compare(self) -> None:
        before, after = self.old_stream, self.new_stream
        self._wire(before, after)
        self._end(before, after)
        self._server(before, after)
        self._local(before, after)
        self._rules(before, after)
        self._token(before, after)

    # ---- the wire ------------------------------------------------------------------------

    def _wire(self, before: StreamSpec, after: StreamSpec) -> None:
        if before.framing != after.framing:
            self.report(
                F.FRAMING,
                ("framing",),
                f"framing {before.framing} -> {after.framing}",
                "old and new peers cut the body into tokens differently",
            )
        else:
            assert after.framing is not None  # expanded streams are explicit
            for key in FRAMINGS[after.framing].Options.model_fields:
                old_value, new_value = getattr(before, key), getattr(after, key)
                if old_value != new_value:
                    self.report(
                        F.FRAMING_OPTION,
                        (key,),
                        f"{key} {show(old_value)} -> {show(new_value)}",
                        "old and new peers split or end the stream at different bytes",
                    )
        if before.payload != after.payload:
            self.report(
                F.PAYLOAD,
                ("payload",),
                f"payload {before.payload} -> {after.payload}",
                "each token is text for one version and JSON for the other",
            )

    def _end(self, before: StreamSpec, after: StreamSpec) -> None:
        assert before.end is not None and after.end is not None  # filled by the expansion
        if before.end.signal != after.end.signal:
            self.report(
                F.END,
                ("end", "signal"),
                f"end signal {before.end.signal} -> {after.end.signal}",
                "old validators do not see new miners' streams complete, nor new "
                "validators old miners'",
            )
        elif canonical(before.end.event) != canonical(after.end.event):
            self.report(
                F.END,
                ("end", "event"),
                f"final event {show(before.end.event)} -> {show(after.end.event)}",
                "old validators do not see new miners' streams complete (and read the "
                "final event as a token), nor new validators old miners'",
            )
        if before.end.keep_partial != after.end.keep_partial:
            self.report(
                F.LOCAL_SETTING,
                ("end", "keep_partial"),
                f"keep_partial {show(before.end.keep_partial)} -> {show(after.end.keep_partial)}",
                "only what a validator keeps of an unfinished stream changes",
            )

    def _server(self, before: StreamSpec, after: StreamSpec) -> None:
        old, new = before.server, after.server
        if canonical(old.error_event) != canonical(new.error_event):
            self.report(
                F.ERROR_EVENT,
                ("server", "error_event"),
                f"error event {show(old.error_event)} -> {show(new.error_event)}",
                "a miner's failure reads as a token (or as nothing) to validators of the "
                "other version",
            )
        elif old.error_event is not None and old.error_message_key != new.error_message_key:
            self.report(
                F.ERROR_EVENT,
                ("server", "error_message_key"),
                f"error_message_key {old.error_message_key!r} -> {new.error_message_key!r}",
                "validators of the other version lose the miner's error message",
            )
        for key in ("batch_count", "batch_interval"):
            if getattr(old, key) != getattr(new, key):
                self.report(
                    F.LOCAL_SETTING,
                    ("server", key),
                    f"{key} {show(getattr(old, key))} -> {show(getattr(new, key))}",
                    "only how new miners group tokens into writes changes",
                )

    def _local(self, before: StreamSpec, after: StreamSpec) -> None:
        for key in ("max_frame_bytes", "max_total_bytes"):
            old_value, new_value = getattr(before.limits, key), getattr(after.limits, key)
            if old_value != new_value:
                self.report(
                    F.LOCAL_SETTING,
                    ("limits", key),
                    f"{key} {show(old_value)} -> {show(new_value)}",
                    "a validator's own bound on what it buffers; miners do not see it",
                )
        if canonical(_plain(before.deserialize)) != canonical(_plain(after.deserialize)):
            self.report(
                F.LOCAL_SETTING,
                ("deserialize",),
                f"deserialize {show(_plain(before.deserialize))} -> "
                f"{show(_plain(after.deserialize))}",
                "what deserialize() returns to the validator's code changes; the wire is unchanged",
            )
        deserialize = (_plain(before.deserialize), _plain(after.deserialize))
        compare_parsed(
            self.out, self.synapse, (*self.base, "deserialize"), deserialize, self.old, self.new
        )
        if before.yields != after.yields:
            self.report(
                F.YIELDS,
                ("yields",),
                f"yields {before.yields} -> {after.yields}",
                "validator code that iterates the stream gets other items",
            )
        old_model, new_model = _token_model(self.old, before), _token_model(self.new, after)
        if before.yields == after.yields == "token" and old_model != new_model:
            self.report(
                F.YIELDS,
                ("token",),
                f"token type {old_model or 'JSON data'} -> {new_model or 'JSON data'}",
                "validator code that iterates the stream gets other items",
            )

    # ---- the token schema ----------------------------------------------------------------

    def _token(self, before: StreamSpec, after: StreamSpec) -> None:
        """The declared token, compared as miners' values that validators read. Only a typed
        token (a ``$defs`` model) is validated by the client; otherwise it documents."""
        if before.token is None and after.token is None:
            return
        enforced = frozenset(
            pair
            for pair, version, stream in ((VALIDATORS, self.old, before), (MINERS, self.new, after))
            if _token_model(version, stream) is not None
        )
        path = (*self.base, "token")
        walk = Walk(
            self.out,
            self.synapse,
            "the stream's token",
            MINERS,
            self.old,
            self.new,
            enforced=enforced,
            not_enforced="no validator checks tokens against it (only a token that is a "
            "$defs model is validated)",
            anchor=(path, path),
        )
        walk.compare(before.token, after.token, path, path)

    # ---- rules ---------------------------------------------------------------------------

    def _rules(self, before: StreamSpec, after: StreamSpec) -> None:
        old_reads, new_reads = _reads(before), _reads(after)
        for name in [*old_reads, *(n for n in new_reads if n not in old_reads)]:
            olds, news = old_reads.get(name, []), new_reads.get(name, [])
            if olds and news and [r.key for r in olds] != [r.key for r in news]:
                self._refill(name, olds, news)
        old_all = [r for reads in old_reads.values() for r in reads]
        new_all = [r for reads in new_reads.values() for r in reads]
        for name, news in new_reads.items():
            if not old_reads.get(name):
                self._overlap(news, old_all, new=True)
        for name, olds in old_reads.items():
            if not new_reads.get(name):
                self._overlap(olds, new_all, new=False)

    def _refill(self, name: str, olds: list[Read], news: list[Read]) -> None:
        """A field both versions fill, read from tokens differently."""
        first = next(
            (i for i, (a, b) in enumerate(zip(olds, news, strict=False)) if a.key != b.key),
            min(len(olds), len(news)),
        )
        new_index = news[min(first, len(news) - 1)].index
        old_index = olds[min(first, len(olds) - 1)].index
        self.report(
            F.RULES,
            ("rules", new_index),
            f"how the stream fills response field {name!r} changed: "
            f"{'; '.join(r.describe() for r in olds)} -> "
            f"{'; '.join(r.describe() for r in news)}",
            "old validators do not read new miners' tokens into it as they are sent, nor "
            "new validators old miners'",
            old_keys=("rules", old_index),
        )

    def _overlap(self, reads: list[Read], others: list[Read], *, new: bool) -> None:
        """Reads of a field only one version fills, whose tokens are a new kind of event (tags
        the other version's rules do not name) that the other version's rules read anyway."""
        known = {other.when for other in others}
        for read in reads:
            if not read.when or read.when in known:
                continue
            for other in others:
                if not other.matches(read):
                    continue
                old_or_new, miners = ("old", "new") if new else ("new", "old")
                keys = ("rules", read.index)
                self.report(
                    F.RULES,
                    keys if new else ("rules", other.index),
                    f"the tokens of {miners} rule {read.index} ({read.describe()} into "
                    f"{read.field!r}) are also read by {old_or_new} rule {other.index} "
                    f"({other.describe()} into {other.field!r})",
                    f"{old_or_new} validators misread {miners} miners' {show(read.tags)} events",
                    old_keys=("rules", other.index) if new else keys,
                )
                break


def _reads(stream: StreamSpec) -> dict[str, list[Read]]:
    """Every field the stream fills -> the reads that fill it, in rule order."""
    reads: dict[str, list[Read]] = {}
    for index, rule in enumerate(stream.rules or []):
        op = OPS[rule.op]
        per_field = getattr(rule, "fields", None)
        options = tuple(
            (key, canonical(_plain(getattr(rule, key))))
            for key in op.Options.model_fields
            if key != "fields" and getattr(rule, key) is not None
        )
        when = tuple(sorted((key, canonical(value)) for key, value in (rule.when or {}).items()))
        for target in op.targets(rule):
            path = per_field[target] if isinstance(per_field, dict) else rule.path
            reads.setdefault(target, []).append(
                Read(index, target, rule.op, path, when, options, rule.when)
            )
    return reads


def _token_model(version: SchemaVersion, stream: StreamSpec) -> str | None:
    """The ``$defs`` model each token is validated into (a typed token), or None."""
    token = stream.token
    if stream.payload != "json" or token is None or token.ref is None:
        return None
    name = token.ref.rsplit("/", 1)[-1]
    model = version.schema.defs.get(name)  # as the build stage decides (codegen.build)
    return name if model is not None and model.properties else None


def _plain(value: Any) -> Any:
    """Schema values (possibly pydantic models) as JSON data."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value
