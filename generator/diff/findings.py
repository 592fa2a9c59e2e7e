"""Findings of ``synapsegen diff``: the SG6xx codes, the categories, and how they are printed.

A finding reads like a diagnostic, ``file:line:col: SGnnn category: message``, at the NEW file's
node (the OLD file's for what the new one no longer has). The codes are explained in
:mod:`synapsegen.codes` with the others; docs/protocol-changes.md describes the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, NodePath, format_node_path
from ..language.load import Document

# ---- codes (one per rule) --------------------------------------------------------------------

SYNAPSE_ADDED = "SG601"
SYNAPSE_REMOVED = "SG602"
SYNAPSE_RENAMED = "SG603"
SYNAPSE_KIND = "SG604"
TIMEOUT = "SG605"
DOCUMENTATION = "SG606"
LOCAL_SETTING = "SG607"
FIELD_ADDED = "SG610"
REQUIRED_ADDED = "SG611"
FIELD_REMOVED = "SG612"
REQUIREDNESS = "SG613"
DEFAULT = "SG614"
TYPE = "SG615"
ENUM_ADDED = "SG616"
ENUM_REMOVED = "SG617"
TIGHTENED = "SG618"
LOOSENED = "SG619"
CLOSED = "SG620"
HASH_FIELDS = "SG630"
HASHED_NUMBER = "SG631"
FRAMING = "SG640"
PAYLOAD = "SG641"
FRAMING_OPTION = "SG642"
END = "SG643"
RULES = "SG644"
ERROR_EVENT = "SG645"
YIELDS = "SG646"

# ---- categories ------------------------------------------------------------------------------

COMPATIBLE = "compatible"
OLD_MINERS = "breaks-old-miners"
OLD_VALIDATORS = "breaks-old-validators"
BOTH = "breaks-both"
SIGNATURE = "signature"
STREAM = "stream"

LABELS = {
    COMPATIBLE: "compatible",
    OLD_MINERS: "breaks old miners",
    OLD_VALIDATORS: "breaks old validators",
    BOTH: "breaks old miners and old validators",
    SIGNATURE: "breaks signatures",
    STREAM: "breaks streams",
}
"""How each category reads in a text line, between the code and the message."""

FIXED = {HASH_FIELDS: SIGNATURE, HASHED_NUMBER: SIGNATURE} | {
    code: STREAM for code in (FRAMING, PAYLOAD, FRAMING_OPTION, END, RULES, ERROR_EVENT)
}
"""Codes whose category does not depend on the change: the others follow the peers it breaks."""

MINERS = "miners"
VALIDATORS = "validators"
Breaks = frozenset[str]
"""The old peers a change breaks: ``{"miners"}`` (new validators and old miners no longer get
along), ``{"validators"}`` (old validators and new miners), both or none."""
NOBODY: Breaks = frozenset()
EVERYBODY: Breaks = frozenset({MINERS, VALIDATORS})


def category(code: str, breaks: Breaks) -> str:
    """The category of a finding: fixed for signature and stream rules, else by who breaks."""
    if code in FIXED:
        return FIXED[code]
    if breaks == EVERYBODY:
        return BOTH
    if breaks == {MINERS}:
        return OLD_MINERS
    if breaks == {VALIDATORS}:
        return OLD_VALIDATORS
    return COMPATIBLE


# ---- findings --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Finding:
    """One classified change, located in the new file (or in the old one for a removal)."""

    file: str
    line: int
    col: int
    code: str
    category: str
    synapse: str
    path: str  # the node, as diagnostics name it: synapses.Chat.request.seed.maximum
    message: str

    @property
    def breaking(self) -> bool:
        return self.category != COMPATIBLE

    def __str__(self) -> str:
        message = f"{LABELS[self.category]}: {self.message}"
        return str(Diagnostic(self.file, self.line, self.col, self.code, message))

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "category": self.category,
            "breaking": self.breaking,
            "synapse": self.synapse,
            "path": self.path,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "col": self.col,
        }


@dataclass(frozen=True)
class Site:
    """A node of one version: its document and its path there."""

    doc: Document
    path: NodePath
    at_key: bool = False  # point at the key (a name that came or went), not at the value


def locate(new: Site | None, old: Site | None) -> Site:
    """Where a finding points: the new file's node when it is there, else the old file's node
    when that is there (a removal), else the new node's nearest ancestor."""
    for site in (new, old):
        if site is not None and _present(site):
            return site
    chosen = new if new is not None else old
    assert chosen is not None
    return chosen


def _present(site: Site) -> bool:
    table = site.doc.key_positions if site.at_key else site.doc.positions
    return site.path in table or site.path in site.doc.positions


@dataclass
class Collector:
    """The findings of one comparison; the same change met twice (a ``$defs`` model reached
    through two fields of one synapse) is one finding naming both fields."""

    _entries: dict[tuple[object, ...], _Entry] = field(default_factory=dict)

    def add(
        self,
        code: str,
        synapse: str,
        site: Site,
        change: str,
        breaks: Breaks = NOBODY,
        why: str = "",
        subject: str = "",
    ) -> None:
        """Record a change (``change``: what changed; ``why``: what it does to the peers)."""
        position = _position(site)
        key = (synapse, code, site.doc.display_path, position, change)
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry(code, synapse, site, position, change)
        entry.breaks |= breaks
        if why and why not in entry.whys:
            entry.whys.append(why)
        if subject and subject not in entry.subjects:
            entry.subjects.append(subject)

    def findings(self) -> list[Finding]:
        return sorted(entry.finding() for entry in self._entries.values())


@dataclass
class _Entry:
    code: str
    synapse: str
    site: Site
    position: tuple[int, int]
    change: str
    breaks: Breaks = NOBODY
    whys: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)

    def finding(self) -> Finding:
        subject = ", ".join(self.subjects)
        message = f"{subject} of {self.synapse}: " if subject else f"{self.synapse}: "
        message += self.change
        if self.whys:
            message += "; " + "; ".join(self.whys)
        return Finding(
            self.site.doc.display_path,
            *self.position,
            self.code,
            category(self.code, self.breaks),
            self.synapse,
            format_node_path(_shown_path(self.site)),
            message,
        )


def _position(site: Site) -> tuple[int, int]:
    position = site.doc.position_of(_shown_path(site), at_key=site.at_key)
    return position.line, position.col


def _shown_path(site: Site) -> NodePath:
    """The node a finding names: the site's path, or the ``format`` key of the preset that
    made it (a preset's stream and response fields are not in the file), or the nearest node
    the file has."""
    path = site.path
    positions = site.doc.positions
    if path in positions or path in site.doc.key_positions:
        return path
    if len(path) > 2 and path[0] == "synapses" and path[2] in ("stream", "response"):
        preset = (*path[:2], "stream", "format")
        if preset in site.doc.key_positions:
            return preset
    while path and path not in positions:
        path = path[:-1]
    return path
