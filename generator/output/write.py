"""Write generated files into an output folder, or check that it is up to date.

Writing touches only files whose bytes change (temp file in the same folder, then ``os.replace``,
so a reader never sees half a file) and removes stale files only when they carry our header: a
file someone wrote by hand in the output folder is never deleted. Checking writes nothing.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .layout import generated_files


@dataclass(frozen=True)
class Changes:
    """What :func:`write` did (file names relative to the output folder)."""

    written: tuple[str, ...]
    removed: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.written or self.removed)


def _current(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _atomic_write(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write(folder: Path, files: dict[str, str]) -> Changes:
    """Make ``folder`` hold exactly ``files`` (plus any file that is not ours)."""
    folder.mkdir(parents=True, exist_ok=True)
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
    return Changes(written=tuple(written), removed=tuple(removed))


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
