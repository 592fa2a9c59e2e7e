"""MkDocs hooks (mkdocs.yml ``hooks:``): the pages made at build time from the repository.

None of these pages is a file under docs/, so none can drift from its source:

- ``index.md``: README.md, the getting-started page;
- ``benchmarks.md``: BENCHMARKS.md;
- ``example-subnet.md``: examples/subnet/README.md;
- ``error-codes.md``: the registry of diagnostic codes, ``synapsegen.codes`` (generator/codes.py,
  which ``synapsegen explain`` prints too): per code its meaning, why the rule exists, how to fix
  it and an example, with one real message per code from the golden error output of
  tests/generator/bad_schemas/ (and, for the SG6xx findings of ``synapsegen diff``, from the
  golden output of tests/generator/diff_cases/).

Links in any page are written for the repository (``docs/runtime.md`` from the README,
``../README.md`` from a doc). Those that name a file the site has as a page are rewritten to that
page; a relative link to any other repository file is reported as a warning, which
``mkdocs build --strict`` turns into a failure.
"""

from __future__ import annotations

import logging
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapsegen.codes import CodeEntry

REGISTRY = "generator/codes.py"  # the diagnostic codes: synapsegen.codes
BAD_SCHEMAS = "tests/generator/bad_schemas"
DIFF_CASES = "tests/generator/diff_cases"  # NAME/expected: `synapsegen diff -v` of a pair

# site page -> the repository file it is made from
FROM_REPOSITORY = {
    "index.md": "README.md",
    "benchmarks.md": "BENCHMARKS.md",
    "example-subnet.md": "examples/subnet/README.md",
}
ERROR_CODES = "error-codes.md"
# repository file -> site page, for links (the docs/ pages are added per build)
PAGE_OF = {source: page for page, source in FROM_REPOSITORY.items()} | {REGISTRY: ERROR_CODES}


LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^ *(```|~~~)")
log = logging.getLogger("mkdocs.plugins.synapsegen")


# ---- the error-code page -----------------------------------------------------------------------

SERIES_NOTES = {
    "5": "Warnings are printed as `path:line:col: CODE warning: message`; the exit code stays 0.",
    "6": "Not errors: the findings of `synapsegen diff`, printed as `file:line:col: CODE "
    "category: message`, each with its category ([Protocol changes](protocol-changes.md)).",
    "9": "SG9xx codes are about the set of files and come from `synapsegen.pipeline`, not from "
    "the checks of one file; they are reported at line 1, column 1 of the file named.",
}


def _printable(text: str) -> str:
    """``text`` with each character that cannot be shown (a control character, a lone
    surrogate) written as its escape."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def examples(folder: Path, pattern: str = "*.expected") -> dict[str, str]:
    """A real message for each code: the shortest line with it in the golden output."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.search(r": (SG\d{3}) ", line)
            if match and (match.group(1) not in found or len(line) < len(found[match.group(1)])):
                found[match.group(1)] = line
    return found


def _fenced(text: str, language: str = "") -> list[str]:
    """``text`` as a fenced code block (a fence longer than any backtick run inside it)."""
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", text))])
    return [f"{fence}{language}", *text.rstrip("\n").splitlines(), fence]


def code_section(entry: CodeEntry, example_message: str | None) -> list[str]:
    """The Markdown of one code: heading (anchor ``#sg203``), meaning, a real message, why, fix
    and the wrong and right schema of its example."""
    out = [f"### {entry.code}: {entry.title} {{ #{entry.code.lower()} }}", "", entry.meaning, ""]
    if example_message is not None:
        out += ["For example:", "", *_fenced(_printable(example_message), "text"), ""]
    for label, text in (("Why", entry.why), ("Fix", entry.fix)):
        paragraphs = text.split("\n\n")
        out += [f"**{label}.** {paragraphs[0]}", ""]
        for paragraph in paragraphs[1:]:
            out += [paragraph, ""]
    if entry.example is not None:
        out += ["Wrong:", "", *_fenced(entry.example.wrong, "yaml"), ""]
        out += ["Right:", "", *_fenced(entry.example.right, "yaml"), ""]
    return out


def error_codes_page(root: Path) -> str:
    """The error-code reference, in Markdown; ``root`` is the repository's folder."""
    from synapsegen.codes import CODES, SERIES

    shown = examples(root / DIFF_CASES, "*/expected") | examples(root / BAD_SCHEMAS)
    unknown = sorted(code for code in CODES if code[2] not in SERIES)
    if unknown:
        raise ValueError(f"{REGISTRY}: codes outside the known series: {unknown}")
    out = [
        "# Error codes",
        "",
        "`synapsegen` reports every problem of a schema at once, one line each, as "
        "`path:line:col: CODE message`; warnings read `CODE warning: message` and do not stop "
        "generation. The codes are stable. Exit code 2 means at least one error.",
        "",
        "`synapsegen explain CODE` prints what is here about a code: what it reports, why the "
        "rule exists, how to fix it and an example; `synapsegen explain --list` lists them all.",
        "",
        f"This page is generated when the site is built, from the registry in `{REGISTRY}` "
        "(`synapsegen.codes`); the example messages are the golden error output of "
        "`tests/generator/bad_schemas/`. Each wrong and right schema below is checked by the "
        "tests: the wrong one gets its code, the right one validates.",
        "",
        "The SG6xx codes are not errors but the findings of `synapsegen diff`, which compares "
        "two versions of the schemas (see [Protocol changes](protocol-changes.md)); their "
        "examples come from `tests/generator/diff_cases/`.",
        "",
    ]
    for series, title in SERIES.items():
        entries = [entry for code, entry in CODES.items() if code[2] == series]
        if not entries:
            continue
        out += [f"## SG{series}xx: {title} {{ #sg{series}xx }}", ""]
        if series in SERIES_NOTES:
            out += [SERIES_NOTES[series], ""]
        for entry in entries:
            out += code_section(entry, shown.get(entry.code))
    return "\n".join(out)


# ---- links ---------------------------------------------------------------------------------------


def _outside_fences(markdown: str) -> Iterator[tuple[bool, str]]:
    """The lines of ``markdown``, each with whether it is prose (not inside a code fence)."""
    fence = ""
    for line in markdown.splitlines(keepends=True):
        match = FENCE.match(line)
        if fence:
            if match and match.group(1) == fence:
                fence = ""
            yield False, line
        elif match:
            fence = match.group(1)
            yield False, line
        else:
            yield True, line


def rewrite_links(markdown: str, source: str, page: str, pages: dict[str, str]) -> str:
    """``markdown`` of the repository file ``source``, shown as site page ``page``: each relative
    link to a repository file that ``pages`` (repository path -> site page) has becomes a link to
    that page. Other links stay as they are, and MkDocs reports those that lead nowhere; a page
    made from a file outside docs/ gets a warning naming that file too."""

    def fix(match: re.Match[str]) -> str:
        target = match.group("target")
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
            return match.group(0)  # a URL, an anchor of this page, or an absolute path
        path, _, anchor = target.partition("#")
        repository_path = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
        if repository_path not in pages:
            if source in PAGE_OF:
                log.warning(
                    "%s: link to '%s', a repository file the site has no page for", source, target
                )
            return match.group(0)
        relative = posixpath.relpath(pages[repository_path], posixpath.dirname(page) or ".")
        return f"[{match.group('text')}]({relative}{'#' + anchor if anchor else ''})"

    return "".join(
        LINK.sub(fix, line) if prose else line for prose, line in _outside_fences(markdown)
    )


# ---- list items ----------------------------------------------------------------------------------

ITEM = re.compile(r"( {0,3})(?:[-*+]|\d{1,9}[.)])( +|$)")


def github_lists(markdown: str) -> str:
    """List items indented as GitHub (CommonMark) reads them, for Python-Markdown.

    These files are read on GitHub too, where an item's content continues at the width of its
    marker (two spaces after ``- ``, three after ``1. ``). Python-Markdown wants four: without
    this, a code block or a second paragraph inside an item ends the list. Lines of an item
    (a fenced block in it included) get their first ``width`` spaces replaced by four; code
    fences outside lists are left alone."""
    out: list[str] = []
    width = 0  # the content column of the open item; 0 outside lists
    fence = ""  # the marker of the open code fence
    in_item = False  # whether that fence is inside an item
    blank = False
    loose = False  # whether the open item has a blank line inside
    for line in markdown.splitlines(keepends=True):
        indent = len(line) - len(line.lstrip(" "))
        if fence:
            if line.strip() and set(line.strip()) == {fence[0]}:
                fence = ""  # the closing fence
            out.append(" " * 4 + line[width:] if in_item and indent >= width else line)
            continue
        item = ITEM.match(line)
        if item and (not width or len(item.group(1)) < width):
            if width and loose and not blank:
                out.append("\n")  # Python-Markdown's next item, after a loose one, needs it
            loose = False
            width = item.end() if item.group(2) else len(item.group(1)) + 2
            width = width if width < 4 else 0  # four or more: already what Python-Markdown reads
            out.append(line)
            blank = False
            continue
        if not line.strip():
            out.append(line)
            blank = loose = True
            continue
        if width and indent >= width:
            line = " " * 4 + line[width:]
        elif width and blank:
            width = 0  # a line left of the item after a blank line ends the list
        stripped = line.lstrip(" ")
        if stripped.startswith(("```", "~~~")):
            fence, in_item = stripped[:3], bool(width)
        out.append(line)
        blank = False
    return "".join(out)


# ---- the hooks -----------------------------------------------------------------------------------


def _root(config: Any) -> Path:
    """The repository: the folder of mkdocs.yml."""
    return Path(config.config_file_path).resolve().parent


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    root = _root(config)
    for page, source in FROM_REPOSITORY.items():
        files.append(File.generated(config, page, abs_src_path=str(root / source)))
    files.append(File.generated(config, ERROR_CODES, content=error_codes_page(root)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    uri = page.file.src_uri
    docs = Path(config["docs_dir"]).resolve().relative_to(_root(config)).as_posix()
    pages = dict(PAGE_OF)
    for file in files.documentation_pages():
        if file.src_uri not in FROM_REPOSITORY and file.src_uri != ERROR_CODES:
            pages[f"{docs}/{file.src_uri}"] = file.src_uri
    source = FROM_REPOSITORY.get(uri, f"{docs}/{uri}")
    return github_lists(rewrite_links(markdown, source, uri, pages))
