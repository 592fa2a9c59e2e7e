"""Every name a generated module imports is in ``names.MODULE_NAMES`` (the SG207 clash list).

A class from a schema with an imported name would shadow the import (or be shadowed by it), so the
front end rejects such names; these tests make sure a template change, a new runtime export or a
new nested-model feature cannot add an import the clash check does not know about.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import synapsegen.runtime
from synapsegen.language.names import MODULE_NAMES, inline_model_name
from synapsegen.pipeline import Options, generate

from ._paths import GOLDEN


def _imported_names(source: str) -> set[str]:
    """Names bound by the absolute imports of a module (relative ones import generated classes)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            found.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return found


GOLDEN_MODULES = sorted(GOLDEN.rglob("*.py"))


@pytest.mark.parametrize(
    "module", GOLDEN_MODULES, ids=[str(p.relative_to(GOLDEN)) for p in GOLDEN_MODULES]
)
def test_every_name_a_golden_module_imports_is_a_module_name(module: Path) -> None:
    imported = _imported_names(module.read_text(encoding="utf-8"))
    assert imported - MODULE_NAMES == set()


def test_the_goldens_import_what_the_clash_check_is_about() -> None:
    # Guards the test above against passing vacuously (e.g. if the goldens moved).
    imported = set().union(*(_imported_names(p.read_text()) for p in GOLDEN_MODULES))
    assert {"ClientResponse", "TypeAlias", "Self", "response_json", "TextParts"} <= imported


def test_reserved_base_fields_are_the_runtime_synapse_fields() -> None:
    from synapsegen.language.names import SYNAPSE_BASE_FIELDS

    fields = set(synapsegen.runtime.Synapse.model_fields)
    assert fields | {"required_hash_fields", "body_hash"} == SYNAPSE_BASE_FIELDS


def test_every_runtime_export_is_a_module_name() -> None:
    assert set(synapsegen.runtime.__all__) - MODULE_NAMES == set()


FEATURES_SCHEMA = """\
version: 1
synapses:
  Probe:
    request:
      when: {type: string, format: date-time, default: ""}
      tree: {$ref: "#/$defs/Tree", default: {}}
      strict: {$ref: "#/$defs/Strict", default: {}}
    stream: {format: text}
$defs:
  Tree:
    type: object
    properties:
      kids: {type: array, items: {$ref: "#/$defs/Tree"}}
      parent: {anyOf: [{$ref: "#/$defs/Tree"}, {type: "null"}]}
      label: {type: [string, integer, "null"]}
      mixed: {enum: [1, a, null, true]}
      stamp: {type: string, format: date-time}
      mail: {type: string, format: email}
      id: {type: string, format: uuid}
      where: {type: string, format: uri}
      when: {type: string, format: date}
      file: {type: string, format: path}
      amount: {type: string, format: decimal}
      tag: {type: string, format: ulid}
      format: {type: string, default: plain, description: a property named format is kept}
  Strict:
    type: object
    additionalProperties: false
    properties:
      a: {type: string}
  Open:
    type: object
    additionalProperties: {type: integer}
    properties:
      b: {type: integer, minimum: 1}
  Anything: {}
"""


def test_nested_model_features_import_only_known_names(tmp_path: Path) -> None:
    schema = tmp_path / "probe.yaml"
    schema.write_text(FEATURES_SCHEMA, encoding="utf-8")
    result = generate([schema], Options(), tmp_path)
    assert not result.diagnostics, [str(d) for d in result.diagnostics]
    source = result.files["probe.py"]
    imported = _imported_names(source)
    assert imported - MODULE_NAMES == set()
    assert {"ConfigDict", "Literal"} <= imported <= MODULE_NAMES  # the probe reaches them
    # `format` is informational: plain JSON types, no datetime/EmailStr/UUID/ULID imports.
    assert re.search(r"\n    stamp: (Optional\[str\]|str \| None) = None\n", source)
    assert "\n    format: Annotated[str, " in source
    assert not {"AwareDatetime", "EmailStr", "UUID", "ULID", "date", "Path"} & imported


TEMPLATES = Path(__file__).parents[2] / "templates"


def test_every_name_a_template_imports_is_a_module_name() -> None:
    """The templates import a fixed superset (ruff drops the unused): all of it is guarded."""
    imported: set[str] = set()
    for template in TEMPLATES.rglob("*.jinja"):
        for line in template.read_text(encoding="utf-8").splitlines():
            match = re.match(r"from [\w.]+ import (.+)", line)
            if match:
                imported.update(name.strip() for name in match.group(1).split(","))
    assert {"ConfigDict", "StreamingSynapse", "encode_sse_json"} <= imported
    assert imported - MODULE_NAMES == set()


@pytest.mark.parametrize(
    ("owner", "steps", "expected"),
    [
        ("OpenAIChat", ("response", "usage"), "OpenAIChatUsage"),
        ("OpenAIChat", ("request", "messages", "items"), "OpenAIChatMessagesItem"),
        # Fields named like a section or a keyword still add their name.
        ("Base", ("request", "response"), "BaseResponse"),
        ("Base", ("request", "items"), "BaseItems"),
        ("Tree", ("properties", "properties"), "TreeProperties"),
        ("Tree", ("items", "properties", "request"), "TreeItemRequest"),
        ("Tree", ("properties", "x", "anyOf", 1), "TreeXOption2"),
        ("Tree", ("additionalProperties",), "TreeValue"),
    ],
)
def test_inline_model_names(owner: str, steps: tuple[str | int, ...], expected: str) -> None:
    assert inline_model_name(owner, steps) == expected
