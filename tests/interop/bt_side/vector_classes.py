"""The synapse classes of the wire vectors (tests/vectors/*.json), built on the installed bittensor.

Runs in a bittensor venv (used by ``record_vectors.py``). The vector files describe classes
neutrally (``definitions`` for nested models and enums, ``classes`` or per-vector ``fields`` for
synapses); :class:`ClassBuilder` turns them into real pydantic classes on bittensor's own
``Synapse`` and ``StreamingSynapse`` (as ``tests/runtime/_vectors.py`` does on synapsegen's).

Streaming classes get :class:`RecordingStream` as their base: the client side decodes UTF-8
strictly and incrementally, yields the text, keeps the raw bytes it read, and sets ``completion``
at the end; ``JsonTokenStream`` parses JSON lines instead. Server behaviour (what the vectors'
real Axon answered) is in :func:`attach_vector_handlers`.
"""

import ast
import codecs
import copy
import enum
import inspect
import json
import types
import typing
from typing import Any, ClassVar, Literal, Optional

from bootstrap import bt
from pydantic import BaseModel, Field, PrivateAttr

# What the vectors' TokenStream sends, one ASGI send each: a 2-byte 'ö' and a 4-byte emoji are
# cut across sends (responses.json, token_streamer_sends).
TOKEN_SENDS = [
    b"Hello",
    b", w\xc3",
    b"\xb6rld! ",
    "héllo ".encode(),
    b"\xf0\x9f",
    b"\x99\x82",
    b"\nnext line\n",
]
JSON_TOKEN_SENDS = [b'{"token": "a"}\n', b"not json\n"]
BLACKLIST_REASON = "always"


class RecordingStream(bt.StreamingSynapse):
    """A streaming synapse whose client side records what it read (raw) and yields decoded text."""

    _received: bytes = PrivateAttr(default=b"")

    async def process_streaming_response(self, response: Any) -> Any:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        parts: list[str] = []
        async for chunk in response.content.iter_any():
            self._received += chunk
            text = decoder.decode(chunk)
            if text:
                parts.append(text)
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            parts.append(tail)
            yield tail
        self.completion = "".join(parts)

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return self.model_dump()

    def deserialize(self) -> Any:
        return getattr(self, "completion", None)


class JsonLinesStream(RecordingStream):
    """Client side of ``JsonTokenStream``: every line is a JSON object ``{"token": ...}``."""

    async def process_streaming_response(self, response: Any) -> Any:
        buffer = b""
        tokens: list[str] = []
        async for chunk in response.content.iter_any():
            self._received += chunk
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                token = json.loads(line)["token"]
                tokens.append(token)
                yield token
        self.completion = "".join(tokens)


_ENUM_BASES: dict[str, tuple[type, ...]] = {
    "str,Enum": (str, enum.Enum),
    "StrEnum": (enum.StrEnum,),
    "IntEnum": (enum.IntEnum,),
    "Enum": (enum.Enum,),
}


def _make_enum(name: str, bases: tuple[type, ...], members: dict[str, Any]) -> type:
    def body(namespace: dict[str, Any]) -> None:
        namespace.update(members)

    return types.new_class(name, bases, exec_body=body)


class ClassBuilder:
    """Build enums, nested models and synapse classes from a vector file's descriptions."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.enums: dict[str, type] = {}
        for name, desc in definitions.get("enums", {}).items():
            bases = _ENUM_BASES[",".join(desc["python_bases"])]
            members = {m["name"]: m["value"] for m in desc["members"]}
            self.enums[name] = _make_enum(name, bases, members)
        self.models: dict[str, type[BaseModel]] = {}
        descs = definitions.get("models", {})
        for name in descs:
            self._model(name, descs)

    def _model(self, name: str, descs: dict[str, Any]) -> type[BaseModel]:
        if name not in self.models:
            namespace = self._namespace(descs[name]["fields"])
            self.models[name] = types.new_class(
                name, (BaseModel,), exec_body=lambda ns: ns.update(namespace)
            )
        return self.models[name]

    def py_type(self, desc: dict[str, Any]) -> Any:
        kind = desc["kind"]
        simple = {"str": str, "int": int, "float": float, "bool": bool, "any": Any}
        if kind in simple:
            return simple[kind]
        if kind == "optional":
            return Optional[self.py_type(desc["of"])]  # noqa: UP045 (built at run time)
        if kind == "list":
            return list[self.py_type(desc["of"])]
        if kind == "dict":
            return dict[self.py_type(desc["key"]), self.py_type(desc["value"])]
        if kind == "tuple":
            return tuple.__class_getitem__(tuple(self.py_type(i) for i in desc["items"]))
        if kind == "tuple_variadic":
            return tuple[self.py_type(desc["of"]), ...]
        if kind == "model":
            return self.models[desc["name"]]
        if kind == "enum":
            return self.enums[desc["name"]]
        if kind == "literal":
            return Literal.__getitem__(tuple(desc["values"]))
        raise ValueError(f"unknown type kind {kind!r}")

    def py_value(self, desc: dict[str, Any], value: Any) -> Any:
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

    def synapse_class(
        self,
        name: str,
        fields: list[dict[str, Any]],
        *,
        base: str = "Synapse",
        hash_fields: "list[str] | tuple[str, ...]" = (),
        hash_fields_form: str = "classvar",
        stream_base: type = RecordingStream,
    ) -> type:
        """A bittensor Synapse (or streaming) subclass with these fields and hash declaration."""
        if base == "Synapse" and name == "Synapse" and not fields:
            return bt.Synapse
        namespace = self._namespace(fields)
        if hash_fields_form == "classvar":
            namespace["__annotations__"]["required_hash_fields"] = ClassVar[tuple[str, ...]]
            namespace["required_hash_fields"] = tuple(hash_fields)
        elif "required_hash_fields" not in namespace:
            namespace["__annotations__"] = {
                "required_hash_fields": list[str],
                **namespace["__annotations__"],
            }
            namespace["required_hash_fields"] = Field(default=list(hash_fields), frozen=True)
        parent = stream_base if base == "StreamingSynapse" else bt.Synapse
        return types.new_class(name, (parent,), exec_body=lambda ns: ns.update(namespace))

    def value_for(self, desc: dict[str, Any], value: Any, python_str: "str | None") -> Any:
        """Constructor input: JSON as given, except ``any`` values rebuilt from their recorded
        Python ``str()`` (JSON cannot carry tuples)."""
        if desc["kind"] == "any" and python_str is not None:
            return ast.literal_eval(python_str)
        return value


def header_classes(headers_spec: dict[str, Any]) -> tuple[ClassBuilder, dict[str, type]]:
    """The classes of headers.json, plus the ones the vectors' Axon serves besides them."""
    builder = ClassBuilder(headers_spec["definitions"])
    classes = {
        name: builder.synapse_class(
            name,
            desc["fields"],
            base=desc["base"],
            hash_fields=desc["required_hash_fields"],
            hash_fields_form=desc["hash_fields_form"],
        )
        for name, desc in headers_spec["classes"].items()
    }
    text = headers_spec["classes"]["TextPrompt"]
    stream = headers_spec["classes"]["TokenStream"]
    for name, desc, stream_base in (
        ("Blocked", text, RecordingStream),
        ("Boom", text, RecordingStream),
        ("BlockedStream", stream, RecordingStream),
        ("BoomStream", stream, RecordingStream),
        ("JsonTokenStream", stream, JsonLinesStream),
    ):
        classes[name] = builder.synapse_class(
            name,
            desc["fields"],
            base=desc["base"],
            hash_fields=desc["required_hash_fields"],
            hash_fields_form=desc["hash_fields_form"],
            stream_base=stream_base,
        )
    return builder, classes


# Attach order of the vectors' Axon (its 404 message lists them in this order, after Synapse).
SERVED = [
    "TextPrompt",
    "TokenStream",
    "JsonTokenStream",
    "BlockedStream",
    "BoomStream",
    "Blocked",
    "Boom",
]


def _annotated(function: Any, cls: type, returns: Any) -> Any:
    """``function`` with the signature bittensor's ``Axon.attach`` checks: ``(synapse: cls)``."""
    parameter = inspect.Parameter(
        "synapse", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=cls
    )
    function.__signature__ = inspect.Signature([parameter], return_annotation=returns)
    return function


def attach_vector_handlers(
    axon: Any, classes: dict[str, type], sends_log: list[list[bytes]]
) -> None:
    """Serve the vectors' classes the way the recorded Axon did.

    TextPrompt answers ``completion = prompt[::-1]``; TokenStream streams :data:`TOKEN_SENDS`, one
    per send, raising after ``fail_after`` sends when it is >= 0 (every stream's sends are
    appended to ``sends_log``); JsonTokenStream streams :data:`JSON_TOKEN_SENDS`; Blocked* are
    blacklisted with reason "always"; Boom* raise in forward.
    """

    def streamer_for(sends: list[bytes], fail_after: int) -> Any:
        sent: list[bytes] = []
        sends_log.append(sent)

        async def streamer(send: Any) -> None:
            for index, body in enumerate(sends):
                if 0 <= fail_after <= index:
                    raise RuntimeError("token streamer failed on purpose")
                await send({"type": "http.response.body", "body": body, "more_body": True})
                sent.append(body)
            if fail_after >= 0:
                raise RuntimeError("token streamer failed on purpose")

        return streamer

    for name in SERVED:
        cls = classes[name]
        streaming = issubclass(cls, bt.StreamingSynapse)
        blacklist = None
        if name.startswith("Boom"):

            def forward(synapse: Any) -> Any:
                raise RuntimeError("forward raised on purpose")

        elif name == "JsonTokenStream":

            def forward(synapse: Any) -> Any:
                return synapse.create_streaming_response(streamer_for(JSON_TOKEN_SENDS, -1))

        elif streaming:

            def forward(synapse: Any) -> Any:
                return synapse.create_streaming_response(
                    streamer_for(TOKEN_SENDS, synapse.fail_after)
                )

        else:

            def forward(synapse: Any) -> Any:
                synapse.completion = synapse.prompt[::-1]
                return synapse

        if name.startswith("Blocked"):

            def blacklist(synapse: Any) -> Any:
                return True, BLACKLIST_REASON

            blacklist = _annotated(blacklist, cls, typing.Tuple[bool, str])  # noqa: UP006
        returns = inspect.Signature.empty if streaming else cls
        axon.attach(forward_fn=_annotated(forward, cls, returns), blacklist_fn=blacklist)
