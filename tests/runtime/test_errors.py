"""synapsegen.runtime.errors: the runtime's exceptions in one module, and the tree it draws.

The tree is parsed from the module docstring, so a class missing from it (or drawn under the wrong
parent) fails here; so does an exception class defined in any other runtime module.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import pkgutil
import re
from dataclasses import dataclass

import pytest

import synapsegen.runtime as runtime
from synapsegen.runtime import errors

# Where each class could be imported from before errors.py existed; those imports must keep
# giving the very same class.
OLD_HOMES: dict[str, tuple[str, ...]] = {
    "StreamError": ("codecs", "streaming", "dendrite", ""),
    "FrameTooLarge": ("codecs", ""),
    "StreamTooLarge": ("codecs", ""),
    "TruncatedStream": ("codecs", ""),
    "MalformedFrame": ("codecs", ""),
    "MinerError": ("streaming", ""),
    "FirstByteTimeout": ("dendrite",),
    "SignatureError": ("signing",),
    "BodyTooLarge": ("_axon_http", "_axon_app"),
    "ClientDisconnected": ("_axon_http", "_axon_app"),
    "Rejected": ("_axon_app",),
    "_ClientGone": ("streaming",),
}

# Constructor arguments of the classes whose __init__ is not (message,).
SAMPLE_ARGS: dict[str, tuple[object, ...]] = {
    "FirstByteTimeout": (1.5,),
    "Rejected": (403, "Forbidden"),
}

_NODE = re.compile(r"^((?:│   |    )*)[├└]── (\S+)(.*)$")


@dataclass(frozen=True)
class Node:
    name: str
    parent: str | None
    internal: bool
    description: str


def _parse_tree(doc: str) -> list[Node]:
    """The nodes of the tree in ``doc``: from the line ``Exception`` to the next blank line."""
    lines = doc.splitlines()
    start = lines.index("Exception")
    nodes = [Node("Exception", None, False, "")]
    stack: list[str] = ["Exception"]  # stack[d] is the latest node drawn at depth d
    internal = False
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        match = _NODE.match(line)
        if match is None:
            # Only a bare continuation or a note (after the vertical bar) may sit between nodes.
            assert line.startswith("│"), f"unparsable tree line: {line!r}"
            internal = internal or "internal" in line
            continue
        prefix, name, rest = match.groups()
        depth = len(prefix) // 4 + 1
        assert depth <= len(stack), f"{name} is drawn deeper than under a parent"
        del stack[depth:]
        nodes.append(Node(name, stack[depth - 1], internal, rest.strip()))
        stack.append(name)
    return nodes


@functools.cache
def _tree() -> tuple[Node, ...]:
    return tuple(_parse_tree(errors.__doc__ or ""))


@functools.cache
def _by_name() -> dict[str, Node]:
    return {node.name: node for node in _tree()}


def _defined_exceptions(module: object) -> dict[str, type[BaseException]]:
    name = getattr(module, "__name__", "")
    return {
        attr: value
        for attr, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == name
    }


ERRORS = _defined_exceptions(errors)


def _resolve(name: str) -> type[BaseException]:
    """A tree name: a class of errors.py, a builtin, or a dotted ``module.Class``."""
    if name in ERRORS:
        value: object = ERRORS[name]
    elif "." in name:
        module_name, _, attr = name.rpartition(".")
        value = getattr(importlib.import_module(module_name), attr)
    else:
        value = getattr(builtins, name)
    assert isinstance(value, type) and issubclass(value, BaseException), name
    return value


def _instance(cls: type[BaseException]) -> BaseException:
    return cls(*SAMPLE_ARGS.get(cls.__name__, ("message",)))


def test_the_tree_parses_into_something() -> None:
    # Guards the tests below against passing on an empty parse.
    assert len(_tree()) > len(ERRORS)
    assert _by_name()["FrameTooLarge"].parent == "StreamError"


def test_every_class_is_drawn_once() -> None:
    drawn = [node.name for node in _tree()]
    assert len(drawn) == len(set(drawn)), "a name is drawn twice"
    missing = sorted(set(ERRORS) - set(drawn))
    assert not missing, f"classes of errors.py missing from its docstring tree: {missing}"


def test_every_drawn_name_exists() -> None:
    for node in _tree():
        _resolve(node.name)


def test_every_class_has_its_line_of_text() -> None:
    for name in ERRORS:
        assert _by_name()[name].description, f"{name} has no description in the tree"


def test_every_class_has_a_docstring() -> None:
    for name, cls in ERRORS.items():
        assert cls.__doc__ and cls.__doc__.strip(), name


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_the_tree_shows_true_relations(name: str) -> None:
    cls = ERRORS[name]
    instance = _instance(cls)
    node: Node | None = _by_name()[name]
    while node is not None and node.parent is not None:
        ancestor = _resolve(node.parent)
        assert issubclass(cls, ancestor), f"{name} is drawn under {node.parent}"
        assert isinstance(instance, ancestor), f"{name}() is not a {node.parent}"
        node = _by_name()[node.parent]


def test_public_means_above_the_internal_note() -> None:
    public = sorted(name for name in ERRORS if not _by_name()[name].internal)
    assert sorted(errors.__all__) == public
    assert all(not _by_name()[name].internal for name in errors.__all__)


@pytest.mark.parametrize("name", sorted(errors.__all__))
def test_public_classes_are_exported_from_the_package(name: str) -> None:
    assert name in runtime.__all__
    assert getattr(runtime, name) is ERRORS[name]


def test_internal_classes_are_not_exported() -> None:
    internal = {name for name in ERRORS if _by_name()[name].internal}
    assert internal, "the tree marks no internal class"
    assert internal.isdisjoint(runtime.__all__)


@pytest.mark.parametrize(("name", "homes"), sorted(OLD_HOMES.items()))
def test_old_import_paths_give_the_same_class(name: str, homes: tuple[str, ...]) -> None:
    for home in homes:
        module_name = f"synapsegen.runtime.{home}" if home else "synapsegen.runtime"
        module = importlib.import_module(module_name)
        assert getattr(module, name) is ERRORS[name], f"{module_name}.{name}"


def test_every_moved_class_is_in_errors() -> None:
    assert set(OLD_HOMES) <= set(ERRORS)


def test_no_other_runtime_module_defines_an_exception() -> None:
    stray: list[str] = []
    for info in pkgutil.iter_modules(runtime.__path__, prefix="synapsegen.runtime."):
        module = importlib.import_module(info.name)
        if module is errors:
            continue
        stray += [f"{info.name}.{name}" for name in _defined_exceptions(module)]
    assert not stray, f"exception classes outside errors.py: {stray}"


def test_behaviour_kept() -> None:
    # Constructors, attributes and messages are those of the classes before the move.
    assert str(errors.FrameTooLarge("too big", 7)) == "too big (at byte 7)"
    assert str(errors.MinerError("overloaded")) == "overloaded"
    assert errors.MalformedFrame("bad", 3).args == ("bad", 3)
    timeout = errors.FirstByteTimeout(2.0)
    assert (timeout.seconds, str(timeout)) == (2.0, "no response byte within 2.0 seconds")
    rejected = errors.Rejected(401, "Not Verified")
    assert (rejected.status, str(rejected)) == (401, "Not Verified")
