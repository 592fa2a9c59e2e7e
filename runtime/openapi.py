"""The OpenAPI 3.1 document of synapses served over the HTTP wire (btauth/1, Epistula v2).

On the HTTP-era transports a synapse is a plain HTTP route that any client can call:
``POST /<ClassName>`` with a JSON object of the class's request fields; 200 answers with a JSON
object of its response fields (a plain synapse) or with its stream, in the content type of its
``stream_media``; any other status with ``{"message": "..."}``. :func:`openapi_document`
describes that for a set of classes, so a server can serve the document (``GET
/openapi.json``) and ``synapsegen openapi`` can write it. It is the only producer of the document.

Choices the OpenAPI format forces:

- **Streams.** OpenAPI 3.1 has no schema for the items of a stream (3.2 adds ``itemSchema``, which
  3.1 validators refuse), so a stream's media type object carries ``x-itemSchema``, with the
  meaning 3.2 gives ``itemSchema``: one JSON value for ``application/jsonl`` and
  ``application/json-seq``; one event (``{data, event, id, retry}``, its ``data`` a string
  holding JSON, described by ``contentMediaType``/``contentSchema``, or text; or the sentinel)
  for ``text/event-stream``; a piece of text (one line, for line-framed text) for
  ``text/plain``, which alone also has ``schema: {type: string}`` (the body as a whole: tools
  read ``schema`` of a sequential media type as each item's). A document whose ``x-itemSchema``
  keys are renamed ``itemSchema`` is a valid 3.2 document. The SSE sentinel is also named in
  ``x-synapsegen-sentinel``.
- **Signatures.** OpenAPI cannot express a signed request. Each scheme is an ``apiKey`` security
  scheme on its signature header, whose description spells out the signed payload, and whose
  ``x-synapsegen-auth`` extension lists the headers as data.

Schemas are pydantic's JSON Schemas (validation mode: what the receiving side accepts), with
nested models as ``components/schemas`` shared across routes; a token schema's own ``$defs``
join them (renamed ``<Synapse>.<Name>`` where a different schema already has the name). The
request body holds the class's request fields only, and refuses other keys, as the server does;
:mod:`.http_wire` says which fields those are (``request_fields``, ``response_fields``). The
output is deterministic: routes and components are sorted by name, and the same classes give
the same document, byte for byte once dumped.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .http_wire import request_fields, response_fields
from .media import StreamMedia, media_essence
from .synapse import StreamingSynapse, Synapse

__all__ = ["AUTH_SCHEMES", "ERROR_RESPONSES", "OPENAPI_VERSION", "openapi_document"]

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/openapi.json"
COMPONENTS = "#/components/schemas/"

ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The body is not JSON (or nested too deeply), or an auth header is "
          "malformed."),
    401: ("Unauthorized", "The signature, timestamp or nonce did not verify, the nonce was "
          "seen before, or the route does not accept this auth scheme."),
    403: ("Forbidden", "The miner's blacklist refused the caller."),
    404: ("NotFound", "No synapse of this name is served here."),
    408: ("RequestTimeout", "The body did not arrive in time, or the request waited past the "
          "synapse's timeout for a free worker."),
    413: ("ContentTooLarge", "The body is larger than the server accepts."),
    415: ("UnsupportedMediaType", "The body is not `application/json`."),
    421: ("MisdirectedRequest", "The request is signed for another receiver hotkey."),
    422: ("UnprocessableContent", "The body is not a JSON object of the synapse's request "
          "fields: an unknown field, a missing required one, or a value that does not validate."),
    500: ("InternalServerError", "The miner failed; the message carries an error id for its "
          "log."),
    503: ("ServiceUnavailable", "The server cannot take the request now (overloaded or "
          "shutting down)."),
}  # fmt: skip
"""Every error status a synapse route may answer: (component name, description). Each body is
``{"message": "..."}``, the ``Error`` schema."""

_ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "description": "The body of every answer that is not 200.",
    "type": "object",
    "properties": {"message": {"type": "string", "description": "What went wrong."}},
    "required": ["message"],
}

AUTH_SCHEMES: dict[str, dict[str, Any]] = {
    "btauth/1": {
        "component": "btauth-v1",
        "summary": "btauth/1: bittensor 11's hotkey-signed HTTP requests.",
        "headers": [
            {"name": "X-Bittensor-Version", "required": True, "value": "1"},
            {"name": "X-Bittensor-Hotkey", "required": True,
             "description": "The sender's SS58 hotkey."},
            {"name": "X-Bittensor-Receiver", "required": True,
             "description": "The receiving miner's SS58 hotkey."},
            {"name": "X-Bittensor-Nonce", "required": True,
             "description": "The signing time, nanoseconds since the Unix epoch (decimal); a "
             "fresh one for every request."},
            {"name": "X-Bittensor-Crypto", "required": False,
             "description": "The signature scheme: sr25519 when absent, or ed25519."},
            {"name": "X-Bittensor-Signature", "required": True,
             "description": "0x and the lowercase hex signature of the payload, by the "
             "sender's hotkey."},
        ],
        "signature": {
            "header": "X-Bittensor-Signature",
            "separator": "\n",
            "payload": ["btauth/1", "{crypto}", "{method}", "{target}", "{sha256(body)}",
                        "{X-Bittensor-Nonce}", "{X-Bittensor-Hotkey}", "{X-Bittensor-Receiver}"],
        },
        "explained": [
            "`btauth/1`",
            "the signature scheme (`sr25519` unless X-Bittensor-Crypto names another)",
            "the method in capitals (`POST`)",
            "the request target as sent: the path and its `?query`, if any",
            "the lowercase hex SHA-256 of the body bytes",
            "X-Bittensor-Nonce",
            "X-Bittensor-Hotkey",
            "X-Bittensor-Receiver (`-` for a request bound to no receiver, which miners refuse)",
        ],
    },
    "epistula/2": {
        "component": "epistula-v2",
        "summary": "Epistula v2: hotkey-signed HTTP requests.",
        "headers": [
            {"name": "Epistula-Version", "required": True, "value": "2"},
            {"name": "Epistula-Timestamp", "required": True,
             "description": "The signing time, milliseconds since the Unix epoch (decimal)."},
            {"name": "Epistula-Uuid", "required": True,
             "description": "A fresh UUID for every request."},
            {"name": "Epistula-Signed-By", "required": True,
             "description": "The sender's SS58 hotkey."},
            {"name": "Epistula-Signed-For", "required": True,
             "description": "The receiving miner's SS58 hotkey."},
            {"name": "Epistula-Request-Signature", "required": True,
             "description": "0x and the lowercase hex sr25519 signature of the payload, by the "
             "sender's hotkey."},
        ],
        "signature": {
            "header": "Epistula-Request-Signature",
            "separator": ".",
            "payload": ["{sha256(body)}", "{Epistula-Uuid}", "{Epistula-Timestamp}",
                        "{Epistula-Signed-For}"],
        },
        "explained": [
            "the lowercase hex SHA-256 of the body bytes",
            "Epistula-Uuid",
            "Epistula-Timestamp",
            "Epistula-Signed-For",
        ],
    },
}  # fmt: skip
"""The auth schemes :func:`openapi_document` can describe, by the name its ``auth`` takes."""


def openapi_document(
    synapse_classes: Sequence[type[Synapse]],
    *,
    title: str = "Bittensor synapses",
    version: str = "1.0.0",
    auth: Sequence[str] = ("btauth/1", "epistula/2"),
) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of ``synapse_classes`` served over the HTTP wire.

    One ``POST /<ClassName>`` per class, ``GET /openapi.json`` (unauthenticated), and the
    security schemes named in ``auth`` (``btauth/1``, ``epistula/2``), any of which a synapse
    route accepts. Raises ValueError for two classes of one name (one route) and for an unknown
    auth scheme; TypeError for something that is not a pydantic model class.
    """
    classes = _sorted_classes(synapse_classes)
    schemes = _security_schemes(auth)
    builder = _Builder(classes)
    paths: dict[str, Any] = {DOCUMENT_PATH: {"get": _document_operation()}}
    for cls in classes:
        paths[f"/{cls.__name__}"] = {"post": builder.operation(cls)}
    responses = _responses()
    components: dict[str, Any] = {
        "schemas": builder.components(roots=(paths, responses)),
        "responses": responses,
    }
    if schemes:
        components["securitySchemes"] = schemes
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version, "description": _info_description(auth)},
        "paths": paths,
        "components": components,
    }
    if schemes:
        document["security"] = [{name: []} for name in schemes]
    return document


# ------------------------------------------------------------------------------------ classes


def _sorted_classes(synapse_classes: Sequence[type[Synapse]]) -> list[type[Synapse]]:
    """The classes by name; each name once (a class given twice counts once)."""
    by_name: dict[str, type[Synapse]] = {}
    for cls in synapse_classes:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            raise TypeError(f"not a synapse class: {cls!r}")
        other = by_name.setdefault(cls.__name__, cls)
        if other is not cls:
            raise ValueError(
                f"two synapse classes named {cls.__name__!r} ({other.__module__} and "
                f"{cls.__module__}): a class's name is its route, so it must be unique"
            )
    return [by_name[name] for name in sorted(by_name)]


def _stream_media(cls: type[BaseModel]) -> StreamMedia | None:
    """The class's ``stream_media``; None for a plain synapse (bittensor's label for a
    streaming class that sets none)."""
    media = getattr(cls, "stream_media", None)
    if isinstance(media, StreamMedia):
        return media
    if callable(getattr(cls, "process_streaming_response", None)):
        return StreamingSynapse.stream_media
    return None


def _docstring(cls: type) -> tuple[str | None, str | None]:
    """The class's own docstring as (summary line, the rest)."""
    doc = cls.__dict__.get("__doc__")
    if not isinstance(doc, str) or not doc.strip():
        return None, None
    lines = inspect.cleandoc(doc).split("\n", 1)
    rest = lines[1].strip() if len(lines) > 1 else ""
    return lines[0].strip(), rest or None


# ------------------------------------------------------------------------------------ schemas


class _Builder:
    """Operations and component schemas for a set of classes, from one pydantic schema run."""

    def __init__(self, classes: list[type[Synapse]]) -> None:
        self.media = {cls: _stream_media(cls) for cls in classes}
        models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
            (cls, "validation") for cls in classes
        ]
        for media in self.media.values():
            if media is not None and media.item_model is not None:
                models.append((media.item_model, "validation"))
        refs, top = models_json_schema(
            list(dict.fromkeys(models)), ref_template=COMPONENTS + "{model}"
        )
        self.refs = {model: ref for (model, _), ref in refs.items()}
        self.defs: dict[str, Any] = top.get("$defs", {})
        # The synapse classes' own schemas are split into request and response objects.
        self.own = {cls: self.defs.pop(_ref_name(self.refs[cls])) for cls in classes}
        self.added: dict[str, Any] = {"Error": _ERROR_SCHEMA}
        # Every request and response object first: the names a token's $defs may then take
        # are those no route uses.
        self.bodies = {cls: self._bodies(cls) for cls in classes}

    # ---- names

    def _free_name(self, wanted: str) -> str:
        name, number = wanted, 2
        while name in self.defs or name in self.added:
            name, number = f"{wanted}{number}", number + 1
        return name

    def _add(self, wanted: str, schema: dict[str, Any]) -> dict[str, str]:
        name = self._free_name(wanted)
        self.added[name] = schema
        return {"$ref": COMPONENTS + name}

    # ---- bodies

    def _fields_object(
        self, cls: type[Synapse], names: Sequence[str], *, closed: bool, all_required: bool
    ) -> dict[str, Any]:
        own = self.own[cls]
        properties: dict[str, Any] = own.get("properties", {})
        keys = [_json_key(cls, name) for name in names if name in cls.model_fields]
        required = set(own.get("required", ()))
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: properties[key] for key in keys if key in properties},
        }
        needed = keys if all_required else [key for key in keys if key in required]
        if needed:
            schema["required"] = needed
        if closed:
            schema["additionalProperties"] = False
        return schema

    def _bodies(self, cls: type[Synapse]) -> tuple[dict[str, str], dict[str, str] | None]:
        """The request object's reference, and the response object's (a plain synapse's)."""
        name = cls.__name__
        request = {
            "title": f"{name}Request",
            "description": f"The request fields of {name}: the body of POST /{name}.",
            **self._fields_object(cls, request_fields(cls), closed=True, all_required=False),
        }
        if self.media[cls] is not None:
            return self._add(f"{name}Request", request), None
        response = {
            "title": f"{name}Response",
            "description": f"The response fields of {name}, filled by the miner (all of them).",
            **self._fields_object(cls, response_fields(cls), closed=False, all_required=True),
        }
        return self._add(f"{name}Request", request), self._add(f"{name}Response", response)

    def operation(self, cls: type[Synapse]) -> dict[str, Any]:
        """The ``POST /<Name>`` operation."""
        summary, description = _docstring(cls)
        request, _ = self.bodies[cls]
        operation: dict[str, Any] = {
            "operationId": cls.__name__,
            "summary": summary or cls.__name__,
        }
        if description:
            operation["description"] = description
        # A class whose request fields all have defaults is served for an empty body too.
        needed = any(cls.model_fields[name].is_required() for name in request_fields(cls))
        operation["requestBody"] = {
            "required": needed,
            "content": {"application/json": {"schema": request}},
        }
        operation["responses"] = {
            "200": self._success(cls),
            **{
                str(status): {"$ref": f"#/components/responses/{component}"}
                for status, (component, _) in ERROR_RESPONSES.items()
            },
        }
        return operation

    def _success(self, cls: type[Synapse]) -> dict[str, Any]:
        name = cls.__name__
        media = self.media[cls]
        _, response = self.bodies[cls]
        if media is None:
            assert response is not None
            return {
                "description": f"The miner's answer: the response fields of {name}.",
                "content": {"application/json": {"schema": response}},
            }
        content: dict[str, Any] = {}
        if media_essence(media.media_type) == "text/plain":
            # Only plain text is one string as a whole; tools read `schema` of a sequential
            # media type (SSE, JSON Lines, JSON-seq) as the schema of each item, or of the
            # array of them (3.2), so there `x-itemSchema` says it all.
            content["schema"] = {"type": "string", "description": "The whole stream, as sent."}
        content["x-itemSchema"] = self._item_schema(cls, media)
        if media.sentinel is not None:
            content["x-synapsegen-sentinel"] = media.sentinel
        description = f"The miner's stream, in {media.media_type}"
        if media.sentinel is not None:
            description += f", ended by the event whose data is {media.sentinel}"
        return {"description": description + ".", "content": {media.media_type: content}}

    def _item_schema(self, cls: type[Synapse], media: StreamMedia) -> dict[str, Any]:
        """``x-itemSchema``: one item as OpenAPI 3.2's ``itemSchema`` reads it for the type."""
        if media.item_model is not None:
            token: dict[str, Any] = dict(self.refs[media.item_model])
        else:
            token = self._hoisted(cls.__name__, media.token_json_schema())
        if media.error_schema is not None:
            token = {"anyOf": [token, copy.deepcopy(dict(media.error_schema))]}
        if media_essence(media.media_type) != "text/event-stream":
            return token
        data: dict[str, Any]
        if media.json_items:
            data = {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": token,
            }
        else:
            data = (
                token if token.get("type") == "string" else {"allOf": [{"type": "string"}, token]}
            )
        if media.sentinel is not None:  # the last event's data is the sentinel, not a token
            data = {"anyOf": [data, {"const": media.sentinel}]}
        return {
            "type": "object",
            "description": "One server-sent event; the stream's items are their data.",
            "properties": {
                "data": data,
                "event": {"type": "string"},
                "id": {"type": "string"},
                "retry": {"type": "integer", "minimum": 0},
            },
            "required": ["data"],
        }

    def _hoisted(self, owner: str, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with its own ``$defs`` moved into the components (``#/$defs/X`` references
        rewritten): under its name when free or holding the same schema, else
        ``<owner>.<name>``."""
        defs: dict[str, Any] = schema.pop("$defs", None) or {}
        identity = {name: name for name in defs}
        used = self._used()
        names: dict[str, str] = {}
        for name, node in defs.items():
            same = _rewritten(node, identity)
            existing = used.get(name)
            if existing is None or existing == same:
                names[name] = name
            else:
                names[name] = self._free_name(f"{owner}.{name}")
        for name, node in defs.items():
            self.added.setdefault(names[name], _rewritten(node, names))
        hoisted: dict[str, Any] = _rewritten(schema, names)
        return hoisted

    def _used(self) -> dict[str, Any]:
        """The component schemas taken so far: those the routes use (the request and response
        objects, the typed tokens, what they refer to) and the tokens' ``$defs`` placed."""
        roots: list[Any] = [{"$ref": COMPONENTS + name} for name in self.added]
        roots += [
            self.refs[media.item_model]
            for media in self.media.values()
            if media is not None and media.item_model is not None
        ]
        return self._closure(roots)

    def _closure(self, roots: Sequence[Any]) -> dict[str, Any]:
        """The component schemas ``roots`` refer to, directly or not, by name."""
        everything = {**self.defs, **self.added}
        reachable: dict[str, Any] = {}
        pending = [name for root in roots for name in _refs_in(root)]
        while pending:
            name = pending.pop()
            if name in reachable or name not in everything:
                continue
            reachable[name] = everything[name]
            pending.extend(_refs_in(everything[name]))
        return reachable

    def components(self, roots: Sequence[Any]) -> dict[str, Any]:
        """The component schemas ``roots`` (parts of the document) refer to, sorted by name.

        pydantic's run also described what no route shows (the base classes' terminal infos, a
        streaming class's response fields): those are left out."""
        reachable = self._closure(roots)
        return {name: reachable[name] for name in sorted(reachable)}


def _json_key(cls: type[BaseModel], name: str) -> str:
    info = cls.model_fields[name]
    return info.alias or name


def _ref_name(ref: Mapping[str, Any]) -> str:
    return str(ref["$ref"]).removeprefix(COMPONENTS)


def _refs_in(node: Any) -> Iterator[str]:
    """The component names referenced anywhere in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(COMPONENTS):
                yield value.removeprefix(COMPONENTS).split("/", 1)[0]
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _rewritten(node: Any, names: Mapping[str, str]) -> Any:
    """``node`` with its ``#/$defs/<name>`` references pointing at the components."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                result[key] = _component_ref(value, names)
            else:
                result[key] = _rewritten(value, names)
        return result
    if isinstance(node, list):
        return [_rewritten(item, names) for item in node]
    return node


def _component_ref(ref: str, names: Mapping[str, str]) -> str:
    if not ref.startswith("#"):
        return ref  # another document: as it is
    prefix = "#/$defs/"
    if not ref.startswith(prefix):
        raise ValueError(f"item schema: cannot place reference {ref!r} in the document "
                         "(only #/$defs/... references are supported)")  # fmt: skip
    name, _, rest = ref.removeprefix(prefix).partition("/")
    if name not in names:
        raise ValueError(f"item schema: reference {ref!r} has no $defs entry")
    return COMPONENTS + names[name] + (f"/{rest}" if rest else "")


# ------------------------------------------------------------------------------------ the rest


def _responses() -> dict[str, Any]:
    return {
        component: {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": COMPONENTS + "Error"}}},
        }
        for component, description in ERROR_RESPONSES.values()
    }


def _document_operation() -> dict[str, Any]:
    return {
        "operationId": "openapi",
        "summary": "This document",
        "description": "The OpenAPI document of the synapses this server serves; no signature.",
        "security": [],
        "responses": {
            "200": {
                "description": "The OpenAPI document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    }


def _security_schemes(auth: Sequence[str]) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    for scheme in auth:
        spec = AUTH_SCHEMES.get(scheme)
        if spec is None:
            known = ", ".join(AUTH_SCHEMES)
            raise ValueError(f"unknown auth scheme {scheme!r} (known: {known})")
        schemes[spec["component"]] = _security_scheme(scheme, spec)
    return schemes


def _security_scheme(scheme: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    signature = spec["signature"]
    separator = "a line break (\\n)" if signature["separator"] == "\n" else "'.'"
    lines = [
        f"{spec['summary']} OpenAPI cannot express a signature; every request carries these "
        f"headers, and {signature['header']} signs a payload made from the request.",
        "",
        *(
            f"- `{header['name']}`{'' if header['required'] else ' (optional)'}: "
            + (f"`{header['value']}`." if "value" in header else header["description"])
            for header in spec["headers"]
        ),
        "",
        f"The payload is these parts, joined by {separator}, as UTF-8:",
        "",
        *(f"{index}. {part}" for index, part in enumerate(spec["explained"], 1)),
        "",
        "`x-synapsegen-auth` says the same as data: `{...}` in `signature.payload` stands for a "
        "header's value, or for `crypto`, `method`, `target`, `sha256(body)` as above.",
    ]
    return {
        "type": "apiKey",
        "in": "header",
        "name": signature["header"],
        "description": "\n".join(lines),
        "x-synapsegen-auth": {
            "scheme": scheme,
            "headers": copy.deepcopy(spec["headers"]),
            "signature": {**copy.deepcopy(signature), "encoding": "0x-hex"},
        },
    }


def _info_description(auth: Sequence[str]) -> str:
    signed = " or ".join(auth)
    return (
        "Bittensor synapses over the HTTP wire. Each synapse is POST /<Name> with a JSON object "
        "of its request fields (those with defaults may be left out); 200 answers with a JSON "
        "object of its response fields, or, for a streaming synapse, with its stream in the "
        'content type shown; any other status with {"message": ...}. '
        + (f"Requests are signed with {signed}." if auth else "Requests are not signed.")
    )
