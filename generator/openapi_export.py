"""``synapsegen openapi``: the OpenAPI document of the synapses a set of schema files generates.

The document has one producer, the runtime's :func:`synapsegen.runtime.openapi.openapi_document`
(which a server calls for ``GET /openapi.json``). This module only gets it the classes: it
writes the generated files (the pipeline's output, as ``synapsegen`` would write them) into a
temporary package, imports its modules, and hands over their synapse classes. The package name
is fixed, so the document does not depend on where it was made.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .output.layout import INIT

PACKAGE = "synapsegen_openapi_synapses"
"""The temporary package the generated modules are imported from (never installed)."""


def openapi_text(files: dict[str, str], *, title: str, version: str) -> str:
    """The OpenAPI document of the synapses in ``files`` (a generated output folder, by file
    name) as JSON text: 2-space indentation, a trailing newline."""
    from synapsegen.runtime.openapi import openapi_document

    with _imported(files) as classes:
        document = openapi_document(classes, title=title, version=version)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@contextmanager
def _imported(files: dict[str, str]) -> Iterator[list[Any]]:
    """The synapse classes of the generated modules, imported from a temporary folder; the
    package is forgotten again afterwards (another run may generate other classes)."""
    from synapsegen.runtime import Synapse

    with tempfile.TemporaryDirectory(prefix="synapsegen-openapi-") as folder:
        package = Path(folder) / PACKAGE
        package.mkdir()
        for name, text in files.items():
            (package / name).write_text(text, encoding="utf-8")
        sys.path.insert(0, folder)
        try:
            importlib.invalidate_caches()
            classes: list[Any] = []
            for name in sorted(files):
                if not name.endswith(".py") or name == INIT:
                    continue
                module = importlib.import_module(f"{PACKAGE}.{name.removesuffix('.py')}")
                for attribute in module.__all__:
                    value = getattr(module, attribute)
                    if isinstance(value, type) and issubclass(value, Synapse):
                        classes.append(value)
            yield classes
        finally:
            sys.path.remove(folder)
            for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
                del sys.modules[name]
