"""The documentation site: ``mkdocs build --strict`` succeeds, and fails on a broken link; the
error-code page explains every code of the registry (``synapsegen.codes``).

The site's pages made at build time (README, BENCHMARKS, the error codes) come from
tools/mkdocs_hooks.py.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

from synapsegen.codes import CODES

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 120  # seconds; a build takes about 6 s here


def _hooks() -> ModuleType:
    path = ROOT / "tools" / "mkdocs_hooks.py"
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    return subprocess.run(
        [*command, "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        cwd=config.parent,
    )


def _copy_of_the_repository(destination: Path) -> Path:
    """What the build reads: mkdocs.yml, docs/, the hooks and the files they turn into pages."""
    for name in ("mkdocs.yml", "README.md", "BENCHMARKS.md"):
        shutil.copy(ROOT / name, destination / name)
    for folder in ("docs", "tools", "tests/generator/bad_schemas"):
        shutil.copytree(ROOT / folder, destination / folder)
    for source in _hooks().FROM_REPOSITORY.values():
        (destination / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / source, destination / source)
    return destination / "mkdocs.yml"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    started = time.monotonic()
    result = _build(ROOT / "mkdocs.yml", tmp_path / "site")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert seconds < BUILD_TIMEOUT
    site = tmp_path / "site"
    for page in (
        "index",
        "error-codes",
        "benchmarks",
        "example-subnet",
        *(p.stem for p in ROOT.glob("docs/*.md")),
    ):
        path = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert path.is_file(), page
    codes = (site / "error-codes" / "index.html").read_text(encoding="utf-8")
    for code in CODES:
        assert f'id="{code.lower()}"' in codes, code
    # The README's links to docs/ and to the error-code table lead to the site's pages.
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="migrating/"' in home and 'href="error-codes/"' in home
    assert 'href="benchmarks/"' in home and 'href="example-subnet/"' in home


BROKEN = [  # where, the link, what the build says about it
    ("docs/customizing.md", "[a page](nowhere.md)", "contains a link 'nowhere.md'"),
    ("docs/customizing.md", "[an anchor](runtime.md#nowhere)", "does not contain an anchor"),
    ("docs/customizing.md", "[a file](../pyproject.toml)", "contains a link '../pyproject.toml'"),
    ("README.md", "[a file](bench/common.py)", "README.md: link to 'bench/common.py'"),
    ("README.md", "[an anchor](docs/runtime.md#nowhere)", "does not contain an anchor '#nowhere'"),
]


def test_broken_links_fail_the_build(tmp_path: Path) -> None:
    """One build of a copy with every kind of broken link; each is reported."""
    config = _copy_of_the_repository(tmp_path)
    for where, link, _ in BROKEN:
        with (tmp_path / where).open("a", encoding="utf-8") as doc:
            doc.write(f"\n{link}\n")
    result = _build(config, tmp_path / "site")
    assert result.returncode != 0
    for _, _, complaint in BROKEN:
        assert complaint in result.stderr, result.stderr


def test_the_error_code_page_explains_every_code() -> None:
    """Every code of the registry has its section: anchor, title, meaning, why, fix, example.

    (That the registry holds every code the generator reports is tests/generator/test_codes.py's
    to check.)"""
    page = _hooks().error_codes_page(ROOT)
    sections = page.split("\n### ")[1:]
    assert [section.split(":")[0] for section in sections] == list(CODES)
    for section, entry in zip(sections, CODES.values(), strict=True):
        assert section.startswith(f"{entry.code}: {entry.title} {{ #{entry.code.lower()} }}\n")
        assert f"\n{entry.meaning}\n" in section, entry.code
        assert f"\n**Why.** {entry.why.split(chr(10))[0]}\n" in section, entry.code
        assert f"\n**Fix.** {entry.fix.split(chr(10))[0]}\n" in section, entry.code
        if entry.example is not None:
            assert f"Wrong:\n\n```yaml\n{entry.example.wrong}```\n" in section, entry.code
            assert f"Right:\n\n```yaml\n{entry.example.right}```\n" in section, entry.code
    assert "SG9xx codes are about the set of files" in page
    # A real message per code where the golden error output has one.
    assert "```text\nwrong_type.yaml:5:7: SG103 synapses.Chat.request: expected a mapping" in page
    sg616 = sections[list(CODES).index("SG616")]
    assert "```text\nnew.yaml:5:34: SG616 breaks old miners: request field 'task'" in sg616
