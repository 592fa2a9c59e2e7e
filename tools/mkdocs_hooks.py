"""MkDocs hooks (mkdocs.yml ``hooks:``): the pages made at build time from the repository.

None of these pages is a file under docs/, so none can drift from its source:

- ``index.md``: README.md, the getting-started page;
- ``benchmarks.md``: BENCHMARKS.md;
- ``example-subnet.md``: examples/subnet/README.md;
- ``error-codes.md``: the diagnostic-code table in the docstring of
  ``synapsegen.language.validate`` (generator/language/validate.py), the table the generator's own
  docs keep, with one real message per code from the golden error output of
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
from typing import Any

VALIDATE = "generator/language/validate.py"
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
PAGE_OF = {source: page for page, source in FROM_REPOSITORY.items()} | {VALIDATE: ERROR_CODES}

SERIES = {
    "0": "Reading the file",
    "1": "Structure: keys, types and values",
    "2": "Names",
    "3": "Fields, types and defaults",
    "4": "Streams and rules",
    "5": "Warnings (the file still generates)",
    "6": "Protocol changes (findings of synapsegen diff)",
    "9": "The set of files",
}

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)\)")
FENCE = re.compile(r"^ *(```|~~~)")
log = logging.getLogger("mkdocs.plugins.synapsegen")


# ---- the error-code page -----------------------------------------------------------------------


def code_table(docstring: str) -> dict[str, str]:
    """The rows of the reStructuredText table in ``docstring``: code -> meaning (one line)."""
    lines = docstring.splitlines()
    rules = [n for n, line in enumerate(lines) if line.startswith("===")]
    if len(rules) < 3:
        raise ValueError(f"{VALIDATE}: no code table in the module docstring")
    rows: dict[str, str] = {}
    code = ""
    for line in lines[rules[1] + 1 : rules[2]]:
        match = re.match(r"(SG\d{3})\s+(.*)", line)
        if match:
            code = match.group(1)
            rows[code] = match.group(2).strip()
        elif line.strip() and code:
            rows[code] += " " + line.strip()
    return rows


def table_notes(docstring: str) -> str:
    """The text after the table (what it says about the SG9xx codes)."""
    parts = re.split(r"^=+ +=+$", docstring, flags=re.MULTILINE)
    return " ".join(parts[-1].split()) if len(parts) >= 4 else ""


def _markdown(rst: str) -> str:
    """reStructuredText inline literals as Markdown, cell separators escaped. A character that
    cannot be shown (a control character, a lone surrogate) is written as its escape."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in rst)
    text = re.sub(r"``(.+?)``", r"`\1`", text)
    return text.replace("|", "\\|")


def examples(folder: Path, pattern: str = "*.expected") -> dict[str, str]:
    """A real message for each code: the shortest line with it in the golden output."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob(pattern)):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.search(r": (SG\d{3}) ", line)
            if match and (match.group(1) not in found or len(line) < len(found[match.group(1)])):
                found[match.group(1)] = line
    return found


def error_codes_page(root: Path) -> str:
    """The error-code reference, in Markdown; ``root`` is the repository's folder."""
    import synapsegen.language.validate as validate

    docstring = validate.__doc__ or ""
    rows = code_table(docstring)
    shown = examples(root / DIFF_CASES, "*/expected") | examples(root / BAD_SCHEMAS)
    out = [
        "# Error codes",
        "",
        "`synapsegen` reports every problem of a schema at once, one line each, as "
        "`path:line:col: CODE message`; warnings read `CODE warning: message` and do not stop "
        "generation. The codes are stable. Exit code 2 means at least one error.",
        "",
        f"This page is generated when the site is built, from the table in `{VALIDATE}` (the "
        "docstring of `synapsegen.language.validate`); the examples are the golden error "
        "output of `tests/generator/bad_schemas/`.",
        "",
        "The SG6xx codes are not errors but the findings of `synapsegen diff`, which compares "
        "two versions of the schemas (see [Protocol changes](protocol-changes.md)); their "
        "examples come from `tests/generator/diff_cases/`.",
        "",
    ]
    for series, title in SERIES.items():
        codes = [code for code in rows if code[2] == series]
        if not codes:
            continue
        out += [f"## SG{series}xx: {title}", "", "| code | meaning |", "| --- | --- |"]
        for code in codes:
            meaning = _markdown(rows[code])
            if code in shown:
                example = shown[code].replace("`", "'")  # a code span: its | is not a cell end
                meaning += f"<br>e.g. `{example}`"
            out.append(f'| <span id="{code.lower()}">{code}</span> | {meaning} |')
        out.append("")
    unknown = sorted(code for code in rows if code[2] not in SERIES)
    if unknown:
        raise ValueError(f"{VALIDATE}: codes outside the known series: {unknown}")
    if notes := table_notes(docstring):
        out += [_markdown(notes), ""]
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
