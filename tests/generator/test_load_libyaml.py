"""The loader composes with libyaml when it can; it must see exactly what PyYAML's parser sees.

Whenever the loader keeps libyaml's tree (a mapping root, no empty values) and PyYAML also accepts
the text, both parsers must give the same node tree: kinds, tags, values and start positions.
Otherwise the same schema would give different diagnostics with and without libyaml.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node

from synapsegen.language import load

from .test_validate_hypothesis import schema_files, yaml_garbage

pytestmark = pytest.mark.skipif(
    load._LibyamlParser is None, reason="PyYAML was built without libyaml"
)


def _tree(node: Node) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    seen: set[int] = set()  # aliases can make the tree cyclic
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            out.append(("seen",))
            continue
        seen.add(id(current))
        value = current.value if isinstance(current.value, str) else None
        out.append((type(current).__name__, current.tag, current.start_mark.line,
                    current.start_mark.column, value))  # fmt: skip
        if isinstance(current.value, list):
            for item in reversed(current.value):
                stack.extend(reversed(item) if isinstance(item, tuple) else [item])
    return out


def _assert_same_when_mapping(text: str) -> None:
    try:
        fast = load._FastComposingLoader(text).get_single_node()
    except (yaml.YAMLError, RecursionError):
        return  # the loader falls back to PyYAML's parser: nothing to compare
    if not isinstance(fast, MappingNode) or load._has_empty_plain_scalar(fast):
        return  # the loader parses these again with PyYAML
    try:
        slow = load._ComposingLoader(text).get_single_node()
    except yaml.YAMLError:
        # PyYAML's scanner is stricter about tabs in whitespace-only lines than YAML and libyaml
        # are; accepting such a file is the better answer, and PyYAML's wheels carry libyaml.
        return
    assert slow is not None and _tree(fast) == _tree(slow)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema_files(), st.sampled_from([None, False, True]), st.integers(20, 120))
def test_valid_schemas_in_every_style(data: dict[str, Any], flow: bool | None, width: int) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, width=width, allow_unicode=True)
    _assert_same_when_mapping(text)


@settings(max_examples=300, deadline=None)
@given(yaml_garbage)
def test_garbage(text: str) -> None:
    _assert_same_when_mapping(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab: -{}[],'\"#\n\r\t\x85\u2028é🌍|>&*!%", max_size=80))
def test_mapping_shaped_noise(text: str) -> None:
    _assert_same_when_mapping("k: v\n" + text)
