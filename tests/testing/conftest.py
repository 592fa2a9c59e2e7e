"""Every example schema generated once into a temporary package, for the kit's tests."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from ..generator._generated import generate_package, on_sys_path
from ..generator._paths import ROOT, SCHEMAS


@pytest.fixture(scope="session")
def gen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """Every schema's generated module, by stem, imported from a temporary package."""
    base = tmp_path_factory.mktemp("kit")
    generate_package(SCHEMAS, ROOT, base / "sg_testing_kit")
    with on_sys_path(base):
        return {
            schema.stem: importlib.import_module(f"sg_testing_kit.{schema.stem}")
            for schema in SCHEMAS
        }
