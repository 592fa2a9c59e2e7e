"""``synapsegen schema``: print the schema language's JSON Schema (for editors)."""

from __future__ import annotations

import sys

from ..cli import EXIT_OK, UsageError

# collections.abc costs a cold run milliseconds; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def schema_command(extra: Sequence[str]) -> int:
    """``synapsegen schema``: print the language's JSON Schema (it takes no arguments)."""
    if extra:
        raise UsageError("synapsegen: error: `synapsegen schema` takes no arguments")
    from ..language.schema_export import language_json_schema_text

    sys.stdout.write(language_json_schema_text())
    return EXIT_OK
