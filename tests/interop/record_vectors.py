"""Record the wire vectors of tests/vectors/ again, against another bittensor release.

    python -m tests.interop.record_vectors 9.0.0 tests/vectors/bt9

builds (or reuses) the harness's venv of that release and runs ``bt_side/record_vectors.py`` in it,
which replays every case of the bittensor 10.5.0 files in ``tests/vectors/`` and writes the same
five files, each with a ``version_comparison`` against the 10.5.0 one. Run with ``10.5.0`` to
check the recorder itself: only ``environment`` and the unavoidably volatile values may differ.
All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import BT_SIDE_DIR, REPO_ROOT, _script_env, ensure_bt_venv

SPEC_DIR = REPO_ROOT / "tests" / "vectors"
_RECORD_TIMEOUT_S = 600.0


def record(version: str, out: Path, only: list[str] | None = None) -> None:
    """Record the vectors with bittensor ``version`` into ``out`` (raises if the script fails)."""
    python = ensure_bt_venv(version)
    home = Path(tempfile.mkdtemp(prefix="bt-record-"))
    command = [str(python), str(BT_SIDE_DIR / "record_vectors.py"), "--spec", str(SPEC_DIR),
               "--out", str(out.resolve())]  # fmt: skip
    for name in only or []:
        command += ["--only", name]
    try:
        done = subprocess.run(
            command, cwd=str(BT_SIDE_DIR), env=_script_env(home, []), timeout=_RECORD_TIMEOUT_S,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(done.stderr[-4000:], file=sys.stderr)
    if done.returncode != 0:
        raise SystemExit(f"record_vectors.py failed (exit {done.returncode})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("version", help="bittensor release, e.g. 9.0.0")
    parser.add_argument("out", type=Path, help="folder for the five JSON files")
    parser.add_argument("--only", action="append", help="record only this file (repeatable)")
    args = parser.parse_args()
    record(args.version, args.out, args.only)


if __name__ == "__main__":
    main()
