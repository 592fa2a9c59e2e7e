"""Load the recorded wire vectors, build the synapse classes they describe, check recorded errors.

The vector files describe classes neutrally (``definitions`` for nested models and enums,
``classes`` or per-vector ``fields`` for synapses). ``ClassBuilder`` turns those descriptions into
real pydantic classes on top of ``synapsegen.runtime``, so the tests exercise every class in the
files rather than hand-copied ones.
"""

from __future__ import annotations

import ast
import copy
import enum
import json
import sys
import types
from collections.abc import AsyncIterator, Callable
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional

import pytest
from pydantic import BaseModel, Field

from synapsegen.runtime.synapse import StreamingSynapse, Synapse

VECTORS_DIR = Path(__file__).parents[1] / "vectors"


@cache
def load(name: str) -> dict[str, Any]:
    """Parsed JSON of one vector file (cached: the files never change during a run)."""
    data: dict[str, Any] = json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
    return data


def raises_as_recorded(
    call: Callable[[], object], exc_type: type[BaseException], recorded: dict[str, Any]
) -> BaseException:
    """``call()`` raises ``exc_type``; its class name and message are the recorded ``type`` and
    ``message``. Returns the exception, for further checks."""
    with pytest.raises(exc_type) as info:
        call()
    assert type(info.value).__name__ == recorded["type"]
    assert str(info.value) == recorded["message"]
    return info.value


if sys.version_info >= (3, 11):
    _StrEnum = enum.StrEnum
else:  # 3.10 has no enum.StrEnum: the same str() and format(), the member's value

    class _StrEnum(str, enum.Enum):
        __str__ = str.__str__
        __format__ = str.__format__  # type: ignore[assignment]


def str_here(value: object, recorded: str) -> str:
    """What ``str(value)`` gives on this interpreter, for a value whose str() was recorded on
    CPython 3.11: before 3.11, str() of an IntEnum or IntFlag member is ``Cls.NAME``, not its
    value (bittensor hashes that text there, and so does the runtime)."""
    if sys.version_info < (3, 11) and isinstance(value, (enum.IntEnum, enum.IntFlag)):
        return f"{type(value).__name__}.{value.name}"
    return recorded


def formatted_here(message: str, values: dict[str, Any]) -> str:
    """A message recorded on CPython 3.11 that formats ``values`` with an f-string, as this
    interpreter words it: before 3.11, format() of a mixed-in enum member (``class
    Color(str, Enum)``) is its value (``blue``), from 3.11 on its str() (``Color.BLUE``)."""
    for value in values.values():
        if isinstance(value, enum.Enum) and f"{value}" != str(value):
            message = message.replace(f"with value {value!s}.", f"with value {value}.")
    return message


_ENUM_BASES: dict[str, tuple[type, ...]] = {
    "str,Enum": (str, enum.Enum),
    "StrEnum": (_StrEnum,),
    "IntEnum": (enum.IntEnum,),
    "Enum": (enum.Enum,),
}


class RawStream(StreamingSynapse):
    """Concrete StreamingSynapse used as the base of streaming classes in the vectors: yields the
    raw chunks, extracts nothing."""

    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        async for chunk in response.content.iter_any():
            yield chunk

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {}


class ClassBuilder:
    """Build enums, nested models and synapse classes from a vector file's descriptions."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.enums: dict[str, type[enum.Enum]] = {}
        for name, desc in definitions.get("enums", {}).items():
            bases = _ENUM_BASES[",".join(desc["python_bases"])]
            members = {m["name"]: m["value"] for m in desc["members"]}
            self.enums[name] = _make_enum(name, bases, members)
        self.models: dict[str, type[BaseModel]] = {}
        model_descs = definitions.get("models", {})
        for name in model_descs:
            self._model(name, model_descs)

    def _model(self, name: str, descs: dict[str, Any]) -> type[BaseModel]:
        if name not in self.models:
            namespace = self._namespace(descs[name]["fields"])
            self.models[name] = types.new_class(
                name, (BaseModel,), exec_body=lambda ns: ns.update(namespace)
            )
        return self.models[name]

    # ---- types and values ---------------------------------------------------------------

    def py_type(self, desc: dict[str, Any]) -> Any:
        """The Python annotation for a neutral type description."""
        kind = desc["kind"]
        simple = {"str": str, "int": int, "float": float, "bool": bool, "any": Any}
        if kind in simple:
            return simple[kind]
        if kind == "optional":
            return Optional[self.py_type(desc["of"])]  # noqa: UP045 - built at run time
        if kind == "list":
            return list[self.py_type(desc["of"])]  # type: ignore[misc]
        if kind == "dict":
            return dict[self.py_type(desc["key"]), self.py_type(desc["value"])]  # type: ignore[misc]
        if kind == "tuple":
            return tuple.__class_getitem__(tuple(self.py_type(i) for i in desc["items"]))
        if kind == "tuple_variadic":
            return tuple[self.py_type(desc["of"]), ...]  # type: ignore[misc]
        if kind == "model":
            return self.models[desc["name"]]
        if kind == "enum":
            return self.enums[desc["name"]]
        if kind == "literal":
            return Literal.__getitem__(tuple(desc["values"]))  # type: ignore[attr-defined]
        raise ValueError(f"unknown type kind {kind!r}")

    def py_value(self, desc: dict[str, Any], value: Any) -> Any:
        """Turn a JSON value into the Python value of that type (for defaults)."""
        kind = desc["kind"]
        if value is None:
            return None
        if kind == "optional":
            return self.py_value(desc["of"], value)
        if kind == "list":
            return [self.py_value(desc["of"], v) for v in value]
        if kind == "dict":
            return {k: self.py_value(desc["value"], v) for k, v in value.items()}
        if kind == "tuple":
            return tuple(self.py_value(d, v) for d, v in zip(desc["items"], value, strict=True))
        if kind == "tuple_variadic":
            return tuple(self.py_value(desc["of"], v) for v in value)
        if kind == "model":
            return self.models[desc["name"]](**value)
        if kind == "enum":
            return self.enums[desc["name"]](value)
        return value

    def _namespace(self, fields: list[dict[str, Any]]) -> dict[str, Any]:
        annotations: dict[str, Any] = {}
        namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
        for field in fields:
            annotations[field["name"]] = self.py_type(field["type"])
            kwargs: dict[str, Any] = {"frozen": field.get("frozen", False)}
            if not field.get("required", True):
                default = self.py_value(field["type"], field["default"])
                if field.get("default_factory"):
                    kwargs["default_factory"] = lambda d=default: copy.deepcopy(d)
                else:
                    kwargs["default"] = default
            namespace[field["name"]] = Field(**kwargs)
        return namespace

    # ---- synapse classes ----------------------------------------------------------------

    def synapse_class(
        self,
        name: str,
        fields: list[dict[str, Any]],
        *,
        base: str = "Synapse",
        hash_fields: list[str] | tuple[str, ...] = (),
        hash_fields_form: str = "classvar",
    ) -> type[Synapse]:
        """A Synapse (or StreamingSynapse) subclass with these fields and hash declaration."""
        if base == "Synapse" and name == "Synapse" and not fields:
            return Synapse
        namespace = self._namespace(fields)
        if hash_fields_form == "classvar":
            namespace["__annotations__"]["required_hash_fields"] = ClassVar[tuple[str, ...]]
            namespace["required_hash_fields"] = tuple(hash_fields)
        elif "required_hash_fields" not in namespace:  # legacy form not already in `fields`
            namespace["__annotations__"] = {
                "required_hash_fields": list[str],
                **namespace["__annotations__"],
            }
            namespace["required_hash_fields"] = Field(default=list(hash_fields), frozen=True)
        parent: type[Synapse] = RawStream if base == "StreamingSynapse" else Synapse
        cls: type[Synapse] = types.new_class(
            name, (parent,), exec_body=lambda ns: ns.update(namespace)
        )
        return cls

    def value_for(self, desc: dict[str, Any], value: Any, python_str: str | None) -> Any:
        """Constructor input for a field: JSON as given, except opaque ``any`` values, which are
        rebuilt from their recorded Python ``str()`` (JSON cannot carry tuples)."""
        if desc["kind"] == "any" and python_str is not None:
            return ast.literal_eval(python_str)
        return value


def _make_enum(name: str, bases: tuple[type, ...], members: dict[str, Any]) -> type[enum.Enum]:
    def body(ns: dict[str, Any]) -> None:
        for member, value in members.items():
            ns[member] = value

    made: type[enum.Enum] = types.new_class(name, bases, exec_body=body)
    return made


def headers_classes() -> tuple[ClassBuilder, dict[str, type[Synapse]]]:
    """Builder and classes of ``headers.json`` (built once per call)."""
    data = load("headers.json")
    builder = ClassBuilder(data["definitions"])
    classes = {
        name: builder.synapse_class(
            name,
            desc["fields"],
            base=desc["base"],
            hash_fields=desc["required_hash_fields"],
            hash_fields_form=desc["hash_fields_form"],
        )
        for name, desc in data["classes"].items()
    }
    return builder, classes
