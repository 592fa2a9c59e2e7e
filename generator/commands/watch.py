"""``synapsegen --watch``: generate, then again after each change to the inputs, until Ctrl-C.

What is watched: the schema files named, the schema files of the folders named, the
``pyproject.toml`` that gave defaults, and every file of the templates folder and its
subfolders. Imported only with ``--watch``; it imports watchfiles, so without watchfiles the run
stops before anything is generated (exit 6).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple, NoReturn

import watchfiles

from ..cli import EXIT_OK, failure
from ..terminal import one_line
from .generate import generate_once
from .inputs import SCHEMA_SUFFIXES, Settings, resolve_settings

# typing is loaded here anyway (watchfiles imports it); only mypy needs these.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path


class Watched(NamedTuple):
    """What ``--watch`` watches, all absolute."""

    folders: list[str]  # sorted
    files: set[str]  # accepted by name
    schema_folders: set[str]  # folders whose schema files are accepted
    template_folders: set[str]  # folders whose every (not hidden) file is accepted


def watch(args: argparse.Namespace, cwd: Path) -> int:
    """``--watch``: generate, then again after each change to the inputs, until Ctrl-C (exit 0).

    Bad input, schema errors and operational failures during the watch are printed and the
    watch goes on; only the first resolution of the inputs can stop it (nothing to watch). When
    a watched folder is removed or made, the watch starts again on the folders there are then,
    and generates once more when it has started (a change in between would be missed).
    """
    settings = resolve_settings(args, cwd)
    _generate_reporting_failures(settings, args, cwd)
    if not args.quiet:
        shown = ", ".join(one_line(str(source)) for source in settings.sources)
        print(f"synapsegen: watching {shown} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the watch: exit 0
        _watch_until_interrupted(settings, args, cwd)
    return EXIT_OK


def _watch_until_interrupted(settings: Settings, args: argparse.Namespace, cwd: Path) -> NoReturn:
    """Generate after each change to the inputs; restart the watch when the folders change."""
    watched = watched_inputs(settings)
    restarted = False
    while True:
        roots = watch_roots(watched.folders)
        # yield_on_timeout: an empty batch when 5 s pass without a change, the first of
        # which, after a restart, says the watcher runs: generate once more then.
        for changes in watchfiles.watch(
            *roots, watch_filter=_watch_filter(watched), recursive=False, raise_interrupt=True,
            yield_on_timeout=True,
        ):  # fmt: skip
            if not changes and not restarted:
                continue
            restarted = False
            # The inputs again: a folder may have gained or lost a schema.
            settings = _generate_reporting_failures(None, args, cwd) or settings
            now = watched_inputs(settings)
            if now != watched or watch_roots(now.folders) != roots:
                watched = now
                restarted = True
                break


def _generate_reporting_failures(
    settings: Settings | None, args: argparse.Namespace, cwd: Path
) -> Settings | None:
    """Generate once (with the inputs resolved again if None); the inputs, if resolved.

    An operational failure is printed and the watch goes on; a bug raises.
    """
    try:
        settings = settings or resolve_settings(args, cwd)
        generate_once(settings, args, cwd)
    except Exception as exc:
        found = failure(exc)
        if found is None:
            raise
        print(found[0], file=sys.stderr, flush=True)
    sys.stdout.flush()
    sys.stderr.flush()
    return settings


def watched_inputs(settings: Settings) -> Watched:
    """The folders and files ``--watch`` watches for ``settings``."""
    folders: set[str] = set()
    files: set[str] = set()
    schema_folders: set[str] = set()
    template_folders: set[str] = set()
    for source in settings.sources:
        path = os.path.abspath(source)
        if os.path.isdir(path):
            folders.add(path)
            schema_folders.add(path)
        else:
            folders.add(os.path.dirname(path))
            files.add(path)
    if settings.config_file is not None:
        path = os.path.abspath(settings.config_file)
        folders.add(os.path.dirname(path))
        files.add(path)
    if settings.templates is not None:
        # Overrides may sit in subfolders; each is watched (the watch is not recursive, so an
        # output folder below a watched one costs nothing). The folder itself is watched even
        # when it is gone (os.walk gives nothing then): its parent sees it made again.
        templates = os.path.abspath(settings.templates)
        folders.add(templates)
        template_folders.add(templates)
        for folder, subfolders, _names in os.walk(templates):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            folders.add(folder)
            template_folders.add(folder)
    return Watched(sorted(folders), files, schema_folders, template_folders)


def watch_roots(folders: Sequence[str]) -> list[str]:
    """The folders to hand the watcher: each watched folder that exists, and the nearest
    existing folder above it, which sees it removed and made again.

    A watch is on the folder as it was: once it is removed (``rm -rf schemas``, a checkout of
    another branch), no change inside the new one reaches it.
    """
    roots: set[str] = set()
    for folder in folders:
        if os.path.isdir(folder):
            roots.add(folder)
        parent = os.path.dirname(folder)
        while not os.path.isdir(parent) and os.path.dirname(parent) != parent:
            parent = os.path.dirname(parent)
        roots.add(parent)
    return sorted(roots)


def _watch_filter(watched: Watched) -> Callable[[object, str], bool]:
    """Whether a changed path is one of the inputs ``watched``."""

    def relevant(_change: object, path: str) -> bool:
        path = os.path.abspath(path)
        parent, name = os.path.split(path)
        if path in watched.files or path in watched.folders:  # a watched folder: made or removed
            return True
        if parent in watched.schema_folders and name.endswith(SCHEMA_SUFFIXES):
            return True
        return parent in watched.template_folders and not name.startswith(".")

    return relevant
