"""``op: set``: overwrite several fields from one token (a trailer or metadata event).

Owns the ``fields`` option: field -> path in the token (a list means same-named paths). Each
field is assigned like ``replace``. Template: ``templates/ops/set.py.jinja``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from ..base import RULE_OPTIONS, Op, Report
from ..base import Options as BaseOptions

if TYPE_CHECKING:
    from ...codegen.build import RuleContext
    from ...codegen.ir import AccumulatorIR, ReadIR
    from ...diagnostics import NodePath
    from ...language.spec import RuleSpec


class SetOptions(BaseOptions):
    """The keys ``op: set`` owns."""

    fields: Annotated[
        dict[str, str] | list[str] | None,
        Field(description="`set` only: field -> path in the token; a list means same-named paths."),
    ] = None


@dataclass(frozen=True)
class SetIR:
    """Each (value read, target) pair, assigned like ``replace``."""

    assignments: tuple[tuple[ReadIR, AccumulatorIR], ...]


class Set(Op, name="set", accumulator="value", Options=SetOptions):
    """Overwrite several fields from one token."""

    summary = "overwrite several fields from one (trailer) event, see `fields`"

    def targets(self, rule: RuleSpec) -> list[str]:
        return list(field_paths(rule))

    def check(self, rule: RuleSpec, path: NodePath, report: Report) -> None:
        if not rule.fields:
            report(path, RULE_OPTIONS, "rule `set` needs `fields` (the fields it sets)")
        if rule.field is not None:
            report((*path, "field"), RULE_OPTIONS, "rule `set` takes `fields`, not `field`")
        if rule.path is not None:
            report(
                (*path, "path"),
                RULE_OPTIONS,
                "rule `set` reads a path per field in `fields`, not `path`",
            )

    def describe(self, rule: RuleSpec, source: str) -> str:
        pairs = ", ".join(f"{name} <- {path}" for name, path in field_paths(rule).items())
        return f"set {pairs}"

    def build(self, rule: RuleSpec, context: RuleContext) -> SetIR:
        return SetIR(
            assignments=tuple(
                (context.read(path), context.accumulator(name))
                for name, path in field_paths(rule).items()
            )
        )


def field_paths(rule: RuleSpec) -> dict[str, str]:
    """``fields`` as field -> path (a list names same-named paths)."""
    if isinstance(rule.fields, list):
        return {name: name for name in rule.fields}
    return dict(rule.fields or {})


SET = Set()
