"""The two versions of a protocol: schema files read from disk or from a git revision, validated.

A version is a set of schema files (files, or folders whose ``*.yaml``/``*.yml``/``*.json`` files
count, as for the main command). Each file goes through the front end (load -> validate); its
diagnostics, and those about the set of files (SG901-SG903), are what the main command would
report. ``--against REV`` reads the same paths at a revision of the repository that holds them,
with ``git ls-tree`` and one ``git cat-file --batch``; those files are shown as ``REV:path``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..diagnostics import Diagnostic
from ..language.load import JSON_SUFFIXES, YAML_SUFFIXES, Document, load_bytes, load_document
from ..language.semantics import Checker
from ..language.spec import SchemaFile, SynapseSpec
from ..language.validate import validate
from ..output.layout import display_path, module_name

SUFFIXES = YAML_SUFFIXES | JSON_SUFFIXES


class SourceError(Exception):
    """A path or a revision that cannot be read; the message is printed as is."""


@dataclass(frozen=True)
class SchemaFileText:
    """One schema file of a version: its name as shown, and its bytes (None: read it from disk
    at ``path``)."""

    path: Path
    data: bytes | None = None


@dataclass(frozen=True)
class SchemaVersion:
    """One validated schema file of a version."""

    doc: Document
    schema: SchemaFile
    checker: Checker  # its $defs: references, types, whether a value fits


@dataclass
class Version:
    """A whole version: every synapse (its name is its route, unique across the files)."""

    synapses: dict[str, tuple[SchemaVersion, SynapseSpec]] = field(default_factory=dict)


def from_paths(paths: Sequence[Path], cwd: Path) -> list[SchemaFileText]:
    """The schema files of files and folders on disk, named relative to ``cwd``."""
    from ..cli import UsageError
    from ..commands.inputs import expand_paths

    try:
        files = expand_paths(paths)
    except UsageError as exc:
        raise SourceError(str(exc)) from exc
    return [SchemaFileText(Path(display_path(path, cwd))) for path in files]


def load(files: Sequence[SchemaFileText], cwd: Path) -> tuple[Version, list[Diagnostic]]:
    """Validate every file; the version, or the diagnostics the main command would print."""
    diagnostics, named = _file_names(files, cwd)
    version = Version()
    owners: dict[str, list[str]] = {}  # synapse -> the files defining it
    for text in named:
        if text.data is None or text.path.suffix.lower() not in SUFFIXES:
            doc = load_document(text.path)
        else:
            doc = load_bytes(
                text.path, text.data, is_json=text.path.suffix.lower() in JSON_SUFFIXES
            )
        result = validate(doc)
        diagnostics.extend(result.diagnostics)
        if result.schema is None:
            continue
        schema_version = SchemaVersion(doc, result.schema, Checker(doc, dict(result.schema.defs)))
        for name, spec in result.schema.synapses.items():
            owners.setdefault(name, []).append(str(text.path))
            version.synapses.setdefault(name, (schema_version, spec))
    if not diagnostics and any(len(where) > 1 for where in owners.values()):
        diagnostics.extend(_clashes(named, owners))
    return version, sorted(diagnostics)


def _file_names(
    files: Sequence[SchemaFileText], cwd: Path
) -> tuple[list[Diagnostic], list[SchemaFileText]]:
    """SG901/SG902 and the files whose names are fine, as the pipeline finds them (loaded only
    when a name is in doubt: it imports the code generator)."""
    names = [module_name(text.path) for text in files]
    if None not in names and len(set(names)) == len(names):
        return [], list(files)
    from ..pipeline import sources_for

    sources, problems = sources_for([text.path for text in files], cwd)
    kept = {source.path for source in sources}
    return problems, [text for text in files if text.path in kept]


def _clashes(files: Sequence[SchemaFileText], owners: dict[str, list[str]]) -> list[Diagnostic]:
    """SG903: a synapse two files define, reported as the pipeline reports it."""
    from ..pipeline import _synapse_clashes

    synapses: dict[str, list[str]] = {}
    displays: dict[str, str] = {}
    for text in files:
        module = module_name(text.path)
        assert module is not None  # SG901 would have been reported
        displays[module] = str(text.path)
        synapses[module] = [name for name, where in owners.items() if str(text.path) in where]
    return _synapse_clashes({m: tuple(n) for m, n in synapses.items()}, displays)


# ---- a git revision ----------------------------------------------------------------------------


def from_revision(
    revision: str, paths: Sequence[Path], cwd: Path
) -> tuple[list[SchemaFileText], list[SchemaFileText]]:
    """The schema files of ``paths`` at ``revision`` and in the working tree.

    A path may be missing on one side (a new or a deleted schema file or folder), not on both.
    """
    old: list[SchemaFileText] = []
    new: list[SchemaFileText] = []
    blobs: list[tuple[Path, str]] = []  # (repository, path in it) to read at the revision
    commits: dict[Path, str | None] = {}
    for path in paths:
        top = _toplevel(path)
        if top not in commits:
            commits[top] = _commit(top, revision)
        relative = _relative(path, top)
        at_revision = _listed(top, commits[top], relative) if relative is not None else []
        if not path.exists() and not at_revision:
            raise SourceError(
                f"synapsegen: error: {path}: no such file or folder, here or at {revision}"
            )
        if path.exists():
            new.extend(from_paths([path], cwd))
        blobs.extend((top, name) for name in at_revision)
    seen: set[tuple[Path, str]] = set()
    by_repository: dict[Path, list[str]] = {}
    for top, name in blobs:
        if (top, name) not in seen:
            seen.add((top, name))
            by_repository.setdefault(top, []).append(name)
    for top, names in by_repository.items():
        commit = commits[top]
        assert commit is not None  # an unborn branch lists nothing
        for name, data in zip(names, _read(top, commit, names), strict=True):
            old.append(SchemaFileText(Path(f"{revision}:{name}"), data))
    return old, _unique(new)


def _git(top: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=top, input=stdin, capture_output=True, check=False
        )
    except OSError as exc:
        raise SourceError(f"synapsegen: error: cannot run git: {exc}") from exc


def _toplevel(path: Path) -> Path:
    """The root of the git repository that holds ``path`` (which may no longer exist)."""
    folder = path.absolute() if path.is_dir() else path.absolute().parent
    while not folder.is_dir():
        folder = folder.parent
    result = _git(folder, "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise SourceError(f"synapsegen: error: {path}: not in a git repository (--against)")
    return Path(os.fsdecode(result.stdout.rstrip(b"\n")))


def _commit(top: Path, revision: str) -> str | None:
    """The commit ``revision`` names; None for HEAD on a branch with no commit yet (the first
    commit: every schema is new)."""
    result = _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if result.returncode == 0:
        return result.stdout.decode().strip()
    if revision == "HEAD" and _git(top, "rev-parse", "--verify", "--quiet", "HEAD").returncode:
        return None
    raise SourceError(f"synapsegen: error: {revision}: not a commit of the repository at {top}")


def _relative(path: Path, top: Path) -> str | None:
    """``path`` relative to the repository root, as git names it (None: outside it)."""
    absolute = Path(os.path.realpath(path.absolute()))
    try:
        return absolute.relative_to(Path(os.path.realpath(top))).as_posix()
    except ValueError:
        return None


def _listed(top: Path, commit: str | None, relative: str) -> list[str]:
    """The schema files ``relative`` names at ``commit``: itself, or a folder's schema files
    (not recursing, as for files on disk)."""
    if commit is None:
        return []
    entry = _ls_tree(top, commit, relative if relative != "." else "")
    if relative == "." or (len(entry) == 1 and entry[0][0] == "tree"):
        prefix = "" if relative == "." else relative.rstrip("/") + "/"
        inside = _ls_tree(top, commit, prefix)
        return sorted(
            name for kind, name in inside if kind == "blob" and Path(name).suffix in SUFFIXES
        )
    return [name for kind, name in entry if kind == "blob"]


def _ls_tree(top: Path, commit: str, path: str) -> list[tuple[str, str]]:
    """(type, path) of ``git ls-tree`` entries (a trailing ``/`` lists a folder's entries)."""
    result = _git(top, "ls-tree", "-z", "--full-tree", commit, "--", *([path] if path else []))
    if result.returncode != 0:
        raise SourceError(f"synapsegen: error: git ls-tree: {result.stderr.decode().strip()}")
    entries = []
    for record in result.stdout.split(b"\0"):
        if record:
            meta, _, name = record.partition(b"\t")
            entries.append((meta.split()[1].decode(), os.fsdecode(name)))
    return entries


def _read(top: Path, commit: str, names: list[str]) -> list[bytes]:
    """The bytes of files at ``commit``, in one ``git cat-file --batch``."""
    request = "".join(f"{commit}:{name}\n" for name in names).encode()
    result = _git(top, "cat-file", "--batch", stdin=request)
    if result.returncode != 0:
        raise SourceError(f"synapsegen: error: git cat-file: {result.stderr.decode().strip()}")
    out, contents, offset = result.stdout, [], 0
    for name in names:
        end = out.index(b"\n", offset)
        header = out[offset:end].split()
        if len(header) != 3:
            raise SourceError(f"synapsegen: error: cannot read {name} at {commit}")
        size = int(header[2])
        contents.append(out[end + 1 : end + 1 + size])
        offset = end + 1 + size + 1
    return contents


def _unique(files: list[SchemaFileText]) -> list[SchemaFileText]:
    seen: set[str] = set()
    unique = []
    for text in files:
        key = os.path.normcase(os.path.abspath(text.path))
        if key not in seen:
            seen.add(key)
            unique.append(text)
    return unique
