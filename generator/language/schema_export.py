"""The JSON Schema of the schema language, for editors (``synapsegen schema``).

The committed copy, ``synapsegen/synapsegen.schema.json``, is package data; the test suite checks
that it is current. Regenerate it with ``python -m synapsegen.schema_export``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .spec import SchemaFile

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
COMMITTED_PATH = Path(__file__).parent.parent / "synapsegen.schema.json"


def language_json_schema() -> dict[str, Any]:
    """The language's JSON Schema as data (by alias, so keys read as in schema files)."""
    schema = SchemaFile.model_json_schema(by_alias=True)
    schema["$schema"] = JSON_SCHEMA_DIALECT
    schema["title"] = "synapsegen schema file, version 1"
    return schema


def language_json_schema_text() -> str:
    """The language's JSON Schema as deterministic JSON text (sorted keys, trailing newline)."""
    return json.dumps(language_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Rewrite the committed JSON Schema file."""
    COMMITTED_PATH.write_text(language_json_schema_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {COMMITTED_PATH}\n")


if __name__ == "__main__":
    main()
