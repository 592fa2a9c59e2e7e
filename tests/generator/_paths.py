"""Paths shared by the back-end tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "schemas").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"
