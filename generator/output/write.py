"""Write generated files into an output folder, or check that it is up to date.

Writing touches only files whose bytes change (temp file in the same folder, then ``os.replace``,
so a reader never sees half a file) and removes stale files only when they carry our header: a
file someone wrote by hand in the output folder is never deleted. Checking writes nothing.

Written files get the mode ``open()`` would give a new file (0o666 less the umask: 0o644 under
umask 022), whether they are new or replace an older file. A run killed in the middle of a write
(SIGKILL, power loss) leaves its hidden temp file, ``.<name>.<pid>.<random>.synapsegen-tmp``;
the next write removes such files once their process is gone (or they are an hour old), and no
other file: the name is ours alone.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from .layout import generated_files


@dataclass(frozen=True)
class Changes:
    """What :func:`write` did (file names relative to the output folder)."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    # Temp files of an interrupted earlier run, removed: housekeeping, not a change.
    cleaned: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)


TEMP_SUFFIX = ".synapsegen-tmp"
# .<target name>.<pid>.<16 hex>.synapsegen-tmp: only _atomic_write makes such names.
_TEMP_NAME = re.compile(
    r"\.(?P<target>.+)\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{16}" + re.escape(TEMP_SUFFIX)
)
# A temp file this old is abandoned even when its pid now names a live (other) process.
_ABANDONED_AFTER_S = 3600.0


def _current(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}{TEMP_SUFFIX}"
    # Mode 0o666 as open() uses for a new file: the kernel applies the umask (or a default ACL).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _process_gone(pid: int) -> bool:
    """Whether no process ``pid`` exists (on this host: the pid is a hint, not a lock)."""
    if pid <= 0:
        return True
    if os.name == "nt":  # os.kill would terminate it: only the age tells there
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OverflowError:  # larger than any pid
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def _remove_abandoned_temp_files(folder: Path) -> list[str]:
    """Remove the temp files that interrupted runs left in ``folder``; their names."""
    removed = []
    now = time.time()
    with os.scandir(folder) as entries:
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                old = now - entry.stat(follow_symlinks=False).st_mtime > _ABANDONED_AFTER_S
                if old or _process_gone(int(match["pid"])):
                    os.unlink(entry.path)
                    removed.append(entry.name)
            except FileNotFoundError:  # its run finished (or another run removed it)
                continue
    return sorted(removed)


def write(folder: Path, files: dict[str, str]) -> Changes:
    """Make ``folder`` hold exactly ``files`` (plus any file that is not ours)."""
    folder.mkdir(parents=True, exist_ok=True)
    cleaned = _remove_abandoned_temp_files(folder)
    written = []
    for name, text in sorted(files.items()):
        path = folder / name
        if _current(path) != text:
            _atomic_write(path, text)
            written.append(name)
    removed = []
    for name in sorted(generated_files(folder) - set(files)):
        (folder / name).unlink()
        removed.append(name)
    return Changes(written=tuple(written), removed=tuple(removed), cleaned=tuple(cleaned))


def check(folder: Path, files: dict[str, str], display: str) -> list[str]:
    """Report lines for every difference: a unified diff per stale file, MISSING and EXTRA.

    ``display`` is how the folder is named in the report (e.g. relative to the cwd).
    """
    report: list[str] = []
    for name, text in sorted(files.items()):
        shown = f"{display}/{name}"
        current = _current(folder / name)
        if current is None:
            report.append(f"MISSING: {shown}")
        elif current != text:
            report.extend(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{shown} (on disk)",
                    tofile=f"{shown} (generated)",
                )
            )
    for name in sorted(generated_files(folder) - set(files)):
        report.append(f"EXTRA: {display}/{name}")
    return [line if line.endswith("\n") else line + "\n" for line in report]
