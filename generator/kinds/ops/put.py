"""``op: put``: store the object at ``path`` in a dict field, under the string found at ``key``.

Owns the ``key`` option (a path inside the value). A value that is not an object, or a key that
is not a string, is a stream error. Template: ``templates/ops/put.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from ..base import RULE_OPTIONS, Op, ReadInto, Report
from ..base import Options as BaseOptions

if TYPE_CHECKING:
    from ...codegen.build import RuleContext
    from ...codegen.ir import ReadIR
    from ...diagnostics import NodePath
    from ...language.spec import JsonSchema, RuleSpec


class PutOptions(BaseOptions):
    """The keys ``op: put`` owns."""

    key: Annotated[
        str | None, Field(description="`put` only: path of the dict key in the value.")
    ] = None


@dataclass(frozen=True)
class PutIR(ReadInto):
    """Store the value read under the key read from it."""

    key: ReadIR


class Put(Op, name="put", accumulator="dict", Options=PutOptions, IR=PutIR):
    """Store an object in a dict field, keyed by one of its properties."""

    summary = "store the value in a dict field under the key found at `key`"
    description = "put {source} into {field}, keyed by its {key}"

    def check(self, rule: RuleSpec, path: NodePath, report: Report) -> None:
        super().check(rule, path, report)
        if rule.key is None:
            report(
                path,
                RULE_OPTIONS,
                "rule `put` needs `key`, the path of the dict key inside the value",
            )

    def target_problem(self, target: str, schema: JsonSchema) -> str | None:
        if schema.properties or schema.additional_properties is False:
            return (
                "rule 'put' needs a dict field (type: object with additionalProperties); "
                f"{target!r} is object"
            )
        return None

    def own_ir(self, rule: RuleSpec, context: RuleContext, read: ReadIR) -> dict[str, Any]:
        assert rule.key is not None  # SG404
        return {"key": context.key_read(rule.key, read)}


PUT = Put()
