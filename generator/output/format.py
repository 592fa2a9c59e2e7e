"""Format generated sources with the pinned ruff, independent of any user configuration.

One ``ruff check --fix --select I,F401`` (import sorting; the templates import a fixed superset
and this drops what a module does not use) and one ``ruff format`` run per output folder, on a
temporary copy, with ``--isolated`` so no ``pyproject.toml``/``ruff.toml`` of the user's can
change the bytes, and every setting that matters passed explicitly.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

LINE_LENGTH = "100"
TARGET_VERSION = "py310"
# Fixed import sections: never let the folder layout decide what counts as first party. The
# packages of the schema's `import:` classes are the subnet's own code: first party.
THIRD_PARTY = ("synapsegen", "bittensor", "aiohttp", "pydantic", "typing_extensions")
ISORT_SETTINGS = f"lint.isort.known-third-party = {list(THIRD_PARTY)!r}"
# After F401 drops names from the superset import, the import joins onto one line if it fits.
ISORT_JOIN = "lint.isort.split-on-trailing-comma = false"


class FormatError(Exception):
    """ruff refused the generated source (a generator bug) or could not run."""


def _ruff() -> str:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    return str(find_ruff_bin())


def format_sources(
    sources: dict[str, str], first_party: tuple[str, ...] = ()
) -> dict[str, str]:
    """Format ``{relative path: source}``; returns the formatted sources (same keys).

    ``first_party``: top-level packages sorted as first party (those of ``import:`` entries;
    module names the validator checked, so safe inside the TOML string).
    """
    if not sources:
        return {}
    ruff = _ruff()
    common = ["--isolated", "--line-length", LINE_LENGTH, "--target-version", TARGET_VERSION]
    own = sorted(set(first_party) - set(THIRD_PARTY))
    if own:
        common += ["--config", f"lint.isort.known-first-party = {own!r}"]
    with tempfile.TemporaryDirectory(prefix="synapsegen-format-") as tmp:
        folder = Path(tmp)
        for name, text in sources.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
        commands = [
            [ruff, "check", *common, "--config", ISORT_SETTINGS, "--select", "I,F401", "--fix",
             "--config", ISORT_JOIN, "--no-cache", "--quiet", "."],
            [ruff, "format", *common, "--no-cache", "--quiet", "."],
        ]  # fmt: skip
        for command in commands:
            result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
            if result.returncode != 0:
                raise FormatError(
                    f"ruff failed on generated code ({' '.join(command[1:3])}):\n"
                    f"{result.stdout}{result.stderr}"
                )
        return {name: (folder / name).read_text(encoding="utf-8") for name in sources}
