"""Shared helpers for the benchmarks: repetitions, medians, formatting, results, machine facts.

Every figure the benchmarks report is a ratio against a baseline measured in the same run, taken
as medians of several repetitions; absolute numbers are printed beside them but never asserted.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"

# Packages whose versions change the figures.
_VERSIONED_PACKAGES = (
    "synapsegen",
    "pydantic",
    "pydantic_core",
    "aiohttp",
    "uvicorn",
    "starlette",
    "datamodel-code-generator",
    "jinja2",
    "fastapi",
    "httpx",
)


class SectionSkipped(Exception):
    """A section cannot run because something it measures does not exist yet."""


@dataclass
class Table:
    """One results table: formatted cells for humans, raw values for --json."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    raw: list[dict[str, Any]] = field(default_factory=list)

    def add(self, cells: Sequence[object], **raw: Any) -> None:
        """Append a row of cells (converted with str) and its raw values."""
        self.rows.append([str(c) for c in cells])
        self.raw.append(raw)


@dataclass
class Target:
    """A target from the issue and whether this run met it (None: not measured)."""

    description: str
    met: bool | None
    detail: str


@dataclass
class SectionResult:
    """Everything one benchmark section produced."""

    name: str
    title: str
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None

    def note(self, text: str) -> None:
        """Record a remark printed under the section's tables."""
        self.notes.append(text)

    def target(self, description: str, met: bool | None, detail: str) -> None:
        """Record whether a target was met."""
        self.targets.append(Target(description, met, detail))


def require_runtime(*names: str) -> None:
    """Raise SectionSkipped unless ``synapsegen.runtime`` provides every one of ``names``."""
    import synapsegen.runtime as runtime

    missing = []
    for name in names:
        try:
            getattr(runtime, name)
        except (AttributeError, ImportError):
            missing.append(name)
    if missing:
        raise SectionSkipped(f"synapsegen.runtime does not provide {', '.join(missing)} yet")


def require_codecs() -> None:
    """Raise SectionSkipped unless the runtime's stream codecs are implemented."""
    require_runtime("TextDecoder", "LineDecoder", "SSEDecoder", "JSONSeqDecoder")


def median(values: Sequence[float]) -> float:
    """Median of a non-empty sequence."""
    if not values:
        raise ValueError("median of no values")
    return statistics.median(values)


def repeat_timed(fn: Callable[[], object], repetitions: int) -> list[float]:
    """Run ``fn`` ``repetitions`` times, each after a full GC, and return wall times in seconds."""
    times = []
    for _ in range(repetitions):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def fmt_ratio(value: float | None) -> str:
    """A ratio such as 1.23x; '-' when missing."""
    if value is None:
        return "-"
    return f"{value:.2f}x"


def fmt_rate(value: float | None, unit: str = "") -> str:
    """A rate with SI-style suffixes (12.3k, 4.56M)."""
    if value is None:
        return "-"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}{unit}"
    return f"{value:.3g}{unit}"


def fmt_seconds(value: float | None) -> str:
    """A duration in s, ms or µs."""
    if value is None:
        return "-"
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def fmt_bytes(value: float | None) -> str:
    """A size in B, KiB, MiB."""
    if value is None:
        return "-"
    for scale, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {suffix}"
    return f"{value:.0f} B"


def render_table(table: Table, markdown: bool = False) -> str:
    """Render a table as aligned text, or as a GitHub markdown table."""
    if markdown:
        lines = [f"**{table.title}**", ""]
        lines.append("| " + " | ".join(table.columns) + " |")
        lines.append("|" + "|".join("---" for _ in table.columns) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
        return "\n".join(lines)
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=False)).rstrip()

    out = [table.title, line(table.columns), line(["-" * w for w in widths])]
    out += [line(row) for row in table.rows]
    return "\n".join(out)


def render_section(result: SectionResult, markdown: bool = False) -> str:
    """Render a whole section: header, tables, targets and notes."""
    head = f"## {result.title}" if markdown else f"=== [{result.name}] {result.title} ==="
    parts = [head]
    if result.skipped:
        parts.append(f"SKIPPED: {result.skipped}")
    for table in result.tables:
        parts.append(render_table(table, markdown))
    if result.targets:
        marks = {True: "MET", False: "MISSED", None: "NOT MEASURED"}
        lines = ["Targets:" if not markdown else "**Targets**", ""] if markdown else ["Targets:"]
        for t in result.targets:
            prefix = "- " if markdown else "  "
            lines.append(f"{prefix}[{marks[t.met]}] {t.description}: {t.detail}")
        parts.append("\n".join(lines))
    if result.notes:
        prefix = "- " if markdown else "  note: "
        parts.append("\n".join(prefix + n for n in result.notes))
    return "\n\n".join(parts)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_description() -> dict[str, Any]:
    """CPU model, core counts, memory, OS, Python and the versions of relevant packages."""
    try:
        mem_kib = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
        memory = fmt_bytes(mem_kib * 1024)
    except (OSError, StopIteration):
        memory = "unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": memory,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": commit or "unknown",
        "packages": {name: _package_version(name) for name in _VERSIONED_PACKAGES},
    }


def render_machine(info: dict[str, Any]) -> str:
    """One paragraph describing the machine, for the report header."""
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return (
        f"CPU: {info['cpu']} ({info['cores']} cores, {info['usable_cores']} usable), "
        f"memory {info['memory']}\nOS: {info['os']}\nPython: {info['python']} "
        f"({sys.executable})\nCommit: {info['commit']}\nPackages: {packages}"
    )


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size of a process (default: this one), from /proc."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc status")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc status")


def import_file(path: str | Path, name: str) -> ModuleType:
    """Import the Python file at ``path`` as module ``name`` (registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- our stack in other processes


def our_stack_command(*args: str) -> list[str]:
    """The command line of ``python -m bench.our_stack ARGS...`` (see bench/our_stack.py)."""
    return [sys.executable, "-m", "bench.our_stack", *args]


def start_our_stack_server(what: str, *args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """Start a ``bench.our_stack`` serve command and read the JSON line it prints once ready.

    The server runs until its stdin closes: end it with ``stop_server``. ``what`` names it in the
    error raised if it exits before it is ready.
    """
    proc = subprocess.Popen(
        our_stack_command(*args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"{what} exited before it was ready")
    ready: dict[str, Any] = json.loads(line)
    return proc, ready


def stop_server(proc: subprocess.Popen[str]) -> None:
    """Close the server's stdin (its signal to stop), wait up to 15 s, then kill it."""
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
