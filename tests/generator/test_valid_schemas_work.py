"""Property: whatever validates works.

For a random schema (files drawn by :mod:`schema_strategies`, which exercise the whole language
with hostile names), ``generate`` either returns diagnostics, each one located
(``path:line:col: SGnnn message``), or files that work:

- the package imports, and every synapse class constructs from its request values;
- ``ruff check`` (the project's selection) passes on it, and ``mypy --strict`` passes on all the
  packages of the run together (one mypy call, ``test_generated_packages_pass_mypy_strict``);
- a stream round-trips in-process, without a network: the synapse's own server side
  ``stream_response(tokens)`` produces the body (drained from the returned ``BTStreamingResponse``
  through a list-backed ASGI ``send``), and ``process_streaming_response`` decodes it, fed in
  hostile chunks (whole, one byte at a time, split inside every multi-byte character, at drawn
  places), back into the field values the rules imply. The expected values come from a small
  reference interpreter here, written from docs/schema-reference.md, not from the generator;
- typed tokens (``token: {$ref: "#/$defs/Model"}``): the client yields instances of the model,
  each equal to ``Model.model_validate(token)`` and writing the token's keys and values back,
  while the rules fill the fields as for untyped tokens; a token the (closed) model refuses ends
  the stream with ``MalformedFrame``; the miner may give models instead of dicts (the rules then
  read a model's JSON: its wire names, the fields the miner set);
- ``header: true`` request fields: ``header_fields`` lists them, ``to_headers()`` carries their
  values (not empty placeholders; nothing for None), written as the schema writes them, and
  ``parse_headers_to_inputs`` / ``from_headers`` give them back;
- ``$defs`` entries with ``import: package.module.Name``: each case writes the user's package
  (pydantic models and ``(str, Enum)`` classes the entries describe) beside the generated one, on
  ``sys.path`` and in the mypy run; the module binds the user's class itself, and fields typed
  with it construct from request values into it.

An exception escaping ``generate`` (an internal error) always fails.

Examples: ``SYNAPSEGEN_PROPERTY_EXAMPLES`` (default 60, derandomized so CI sees the same ones)
sets how many; ``SYNAPSEGEN_PROPERTY_SEED`` picks other examples (randomized with that seed);
``SYNAPSEGEN_PROPERTY_SHRINK=1`` lets hypothesis shrink a failure (minutes: off by default, a
failure then shows the first failing example as drawn); ``SYNAPSEGEN_PROPERTY_MYPY_PACKAGES``
bounds how many generated packages the mypy run checks (default 60). Run thousands locally
with, e.g.::

    SYNAPSEGEN_PROPERTY_EXAMPLES=3000 .venv/bin/python -m pytest -x \\
        tests/generator/test_valid_schemas_work.py

To look past a failure that is already known, narrow the pools of ``schema_strategies`` (module
constants such as ``MODULE_NAMES``, e.g. to ``MODULE_NAMES._replace(rare=())``, or ``DELIMITERS``)
in a local conftest. Bugs it found are pinned in test_found_by_property.py.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import copy
import importlib
import itertools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

import synapsegen
from synapsegen import runtime
from synapsegen.pipeline import Options, generate
from synapsegen.runtime import MalformedFrame, MinerError

from ._generated import FakeResponse, on_sys_path
from .schema_strategies import (
    USER_PACKAGE_PREFIX,
    Case,
    Json,
    Schema,
    StreamPlan,
    SynapsePlan,
    cases,
    matches,
    parse_path,
    resolve,
    texts,
    token_lists,
)

EXAMPLES = int(os.environ.get("SYNAPSEGEN_PROPERTY_EXAMPLES", "60"))
SHRINK = os.environ.get("SYNAPSEGEN_PROPERTY_SHRINK", "") not in ("", "0")
SEED = os.environ.get("SYNAPSEGEN_PROPERTY_SEED")
MYPY_PACKAGES = int(os.environ.get("SYNAPSEGEN_PROPERTY_MYPY_PACKAGES", "60"))

# The generated code's lint bar, as in test_typing.py: E501 is left to the formatter.
RUFF_RULES = "E,F,I,UP,B,SIM"

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=SEED is None,
    database=None,
    print_blob=False,
    # Shrinking a failure of these big examples takes minutes: only on request. No explain phase
    # (it reruns a failing example many more times).
    phases=(Phase.explicit, Phase.generate, *((Phase.shrink,) if SHRINK else ())),
    suppress_health_check=list(HealthCheck),
)

DIAGNOSTIC = re.compile(r"(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<code>SG\d{3}) \S.*", re.S)


# ---------------------------------------------------------------------------------------------
# Generating, importing, keeping packages for the mypy run


@dataclass(repr=False)
class Store:
    """Packages that generated and imported, kept for one mypy run over all of them."""

    base: Path
    packages: list[Path] = dataclass_field(default_factory=list)
    schemas: dict[str, str] = dataclass_field(default_factory=dict)  # package -> the case's files
    counter: Iterator[int] = dataclass_field(default_factory=itertools.count)
    seen: int = 0  # examples the property test ran

    def __repr__(self) -> str:
        return f"Store({str(self.base)!r}, {len(self.packages)} packages)"

    def keep(self, package: Path, case: Case) -> None:
        """Copy a generated package into the mypy folder (up to MYPY_PACKAGES of them)."""
        if len(self.packages) >= MYPY_PACKAGES:
            return
        target = self.base / "packages" / package.name
        shutil.copytree(package, target)
        if case.user_package is not None:  # beside it, as on sys.path
            user = case.user_package
            shutil.copytree(package.parent / user, self.base / "packages" / user)
        self.packages.append(target)
        self.schemas[package.name] = case.describe()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """One store per test module run."""
    base = tmp_path_factory.mktemp("valid_schemas_work")
    (base / "packages").mkdir()
    return Store(base)


def failure(message: str, exc: BaseException, case: Case) -> AssertionError:
    """The failure ``message``, then the traceback of ``exc``, then the case."""
    trace = "".join(traceback.format_exception(exc))
    return AssertionError(f"{message}\n{trace}\n{case.describe()}")


def internal_error(case: Case, exc: BaseException) -> AssertionError:
    """The failure for an exception escaping ``generate``."""
    return failure(f"internal error: generate() raised {type(exc).__name__}: {exc}", exc, case)


def generate_case(case: Case, store: Store) -> tuple[Path | None, tuple[str, ...]]:
    """Write the files, run ``generate``: (the package folder, or None, and the diagnostics)."""
    number = next(store.counter)
    work = store.base / f"work{number}"
    sources = work / "schemas"
    sources.mkdir(parents=True)
    paths = []
    for name, text in case.files.items():
        path = sources / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    for name, text in case.user_files.items():  # the user's package, beside the generated one
        path = work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    try:
        result = generate(paths, Options(), work)
    except Exception as exc:
        raise internal_error(case, exc) from exc
    if result.diagnostics:
        check_diagnostics(case, [str(d) for d in result.diagnostics])
        return None, tuple(str(d) for d in result.diagnostics)
    assert not case.malformed, (
        f"accepted without a diagnostic: {'; '.join(case.malformed)}\n{case.describe()}"
    )
    stems = {name.rsplit(".", 1)[0].replace("-", "_") for name in case.files}
    expected = {f"{stem}.py" for stem in stems} | {"__init__.py", "py.typed"}
    assert set(result.files) == expected, (sorted(result.files), case.describe())
    package = work / f"sg_prop_{number}"
    package.mkdir()
    for name, text in result.files.items():
        (package / name).write_text(text, encoding="utf-8")
    return package, ()


def check_diagnostics(case: Case, diagnostics: list[str]) -> None:
    """Every diagnostic names one of the files and a position inside it, a code and a message."""
    lines = {
        name: max(len(re.split("\r\n|[\n\r\x85\u2028\u2029]", text)), len(text.split("\n")))
        for name, text in case.files.items()
    }
    for text in diagnostics:
        match = DIAGNOSTIC.fullmatch(text)
        assert match is not None, f"diagnostic not positioned: {text!r}\n{case.describe()}"
        name = Path(match["path"]).name
        assert name in lines, f"diagnostic names an unknown file: {text!r}\n{case.describe()}"
        line, col = int(match["line"]), int(match["col"])
        assert 1 <= line <= lines[name] + 1 and col >= 1, (text, case.describe())


def ruff_check(package: Path, case: Case) -> None:
    """The generated package passes ``ruff check`` with the project's selection."""
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    command = [str(find_ruff_bin()), "check", "--isolated", "--no-cache",
               "--line-length", "100", "--target-version", "py310",
               "--select", RUFF_RULES, "--ignore", "E501", str(package)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=package.parent)
    assert result.returncode == 0, (
        f"ruff check fails on the generated code:\n{result.stdout}{result.stderr}\n"
        f"{case.describe()}"
    )


def import_package(package: Path, case: Case) -> dict[str, ModuleType]:
    """Import the package and each generated module (module stem -> module)."""
    with on_sys_path(package.parent):
        try:
            importlib.import_module(package.name)
            return {
                path.stem: importlib.import_module(f"{package.name}.{path.stem}")
                for path in sorted(package.glob("*.py"))
                if path.name != "__init__.py"
            }
        except Exception as exc:
            message = f"the generated package does not import: {type(exc).__name__}: {exc}"
            raise failure(message, exc, case) from exc


def forget(package: Path) -> None:
    """Drop the package's modules (and the users' packages) from ``sys.modules``."""
    for name in list(sys.modules):
        top = name.split(".")[0]
        if top == package.name or top.startswith(USER_PACKAGE_PREFIX):
            del sys.modules[name]


# ---------------------------------------------------------------------------------------------
# The reference interpreter (docs/schema-reference.md, "Rules" and "End of stream")


@dataclass
class Expected:
    """What the client must end with after a stream of ``tokens``."""

    fields: dict[str, Json]  # the fields the rules touch, as JSON, if they are assigned
    items: list[Any]  # what process_streaming_response yields (models for typed tokens)
    complete: bool
    error: str | None  # MinerError message
    malformed: str | None = None  # MalformedFrame: the start of its message (a token no model)
    yielded: list[Json] = dataclass_field(default_factory=list)  # JSON of the tokens yielded


def lookup(token: Json, path: str | None) -> Json:
    """The value at ``path`` (None when a key or index is missing, or on the way is null)."""
    if path is None:
        return token
    node = token
    for step in parse_path(path):
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and len(node) > step else None
        else:
            node = node.get(step) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def targets(plan: StreamPlan) -> list[str]:
    """Every response field a rule writes, in first-use order."""
    found: list[str] = []
    for rule in plan.rules:
        for name in [rule.field] if rule.op != "set" else list(rule.fields or {}):
            if name is not None and name not in found:
                found.append(name)
    return found


def fits(model: Schema, token: Json) -> bool:
    """Whether a drawn token is a typed token's model: the strategy draws tokens the model
    accepts, but for one without a required key (a tag) or with a key a closed model
    (``additionalProperties: false``) does not declare."""
    closed = model.get("additionalProperties") is False
    return all(key in token for key in model.get("required", ())) and (
        not closed or set(token) <= set(model["properties"])
    )


def interpret(
    synapse: SynapsePlan,
    tokens: list[Json],
    failure: str | None,
    client_texts: list[str],
    token_model: type[BaseModel] | None = None,
) -> Expected:
    """Run the rules over the tokens the server sent (and its final event, if any).

    ``client_texts`` is what a raw-text client sees (one text per network chunk): only what
    ``process_streaming_response`` yields depends on it. ``tokens`` are JSON as the client
    decodes them. With typed tokens (``token_model``, the generated class of the ``$defs``
    model), each token is checked before any rule reads it (one that is no model ends the
    stream with MalformedFrame), and the client yields ``token_model.model_validate(token)``;
    the rules still read the JSON (docs: typed tokens).
    """
    plan = synapse.stream
    assert plan is not None
    model = synapse.defs[plan.token_model] if plan.token_model is not None else None
    assert (model is None) is (token_model is None), "a typed token needs its class"
    malformed = None
    yielded: list[Json] = []
    # A nullable target (default null) stays None until a rule adds a value; the first one
    # (even "" or []) makes it the empty text, list or dict first.
    values: dict[str, Json] = {
        name: copy.deepcopy(synapse.response[name].get("default")) for name in targets(plan)
    }
    items: list[Json] = []
    # Raw text has no token boundaries: the client's tokens are the texts of its network chunks
    # (the same text in all; an empty token is not on the wire: a nullable target stays None).
    seen = list(client_texts if plan.framing == "raw" else tokens)
    if plan.end_signal == "event" and plan.end_event is not None:
        own = next((i for i, t in enumerate(tokens) if matches(plan.end_event, t)), None)
        if own is not None:  # the miner's own final event: sent as it is, and nothing after it
            seen = tokens[: own + 1]
            failure = None  # (the miner's iterator is not read past it)
        elif failure is None:
            seen.append(plan.end_event)
    for token in seen:
        if model is not None and not fits(model, token):
            malformed = f"token: not a {plan.token_model}: "
            break
        for rule in plan.rules:
            if plan.text_payload:
                assert rule.field is not None
                if rule.op == "concat":
                    values[rule.field] = (values[rule.field] or "") + token
                else:
                    values[rule.field] = token
                continue
            if rule.when is not None and not matches(rule.when, token):
                continue
            if rule.op == "set":
                for name, path in (rule.fields or {}).items():
                    value = lookup(token, path)
                    if value is not None:
                        values[name] = value
                continue
            assert rule.field is not None
            value = lookup(token, rule.path)
            if value is None:
                continue
            before = values[rule.field]
            if rule.group is not None:  # the value goes to field[<the token's group key>]
                group = lookup(token, rule.group)
                groups = dict(before or {})
                empty: Json = "" if rule.op == "concat" else []
                added = value if rule.op == "concat" else [value] if rule.op == "append" else value
                groups[group] = groups.get(group, empty) + added
                values[rule.field] = groups
                if rule.op == "concat" and plan.yields == "text":
                    items.append(value)
                continue
            if rule.op == "concat":
                values[rule.field] = (before or "") + value
                if plan.yields == "text":
                    items.append(value)
            elif rule.op == "append":
                values[rule.field] = [*(before or []), value]
            elif rule.op == "extend":
                values[rule.field] = [*(before or []), *value]
            elif rule.op == "replace":
                values[rule.field] = value
            else:  # put
                key = lookup(value, rule.key)
                values[rule.field] = {**(before or {}), key: value}
        if plan.yields == "token" and not plan.text_payload:
            items.append(token if token_model is None else token_model.model_validate(token))
            yielded.append(token)
    if plan.text_payload:
        concats = sum(rule.op == "concat" for rule in plan.rules)
        texts_seen = client_texts if plan.framing == "raw" else tokens
        if plan.yields == "text":
            items = [text for text in texts_seen for _ in range(concats)]
        else:
            items = list(texts_seen)
    if malformed is not None:
        failure = None  # (the client stopped before the miner's error event)
    complete = failure is None and malformed is None
    assign = complete or plan.keep_partial
    return Expected(
        fields=values if assign else {},
        items=items,
        complete=complete,
        error=failure if failure is not None else None,
        malformed=malformed,
        yielded=yielded,
    )


# ---------------------------------------------------------------------------------------------
# The round trip


class _Errors(logging.Handler):
    """Collects the runtime's error log records (a token streamer logs instead of raising)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)


async def serve(synapse: Any, tokens: list[Json], failure: str | None) -> tuple[bytes, list[str]]:
    """The body the synapse's ``stream_response`` sends, and the errors the server logged.

    The generated helper returns a ``BTStreamingResponse``; its ``stream_response(send)`` runs
    the token streamer, so a list-backed ``send`` collects exactly the bytes of the body.
    """

    async def source() -> AsyncIterator[Json]:
        """The miner's tokens, then its failure if there is one."""
        for token in tokens:
            yield token
        if failure is not None:
            raise RuntimeError(failure)

    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        """The ASGI send of the response: collect the message."""
        messages.append(message)

    errors = _Errors()
    logger = logging.getLogger("synapsegen.runtime")
    logger.addHandler(errors)
    propagate, logger.propagate = logger.propagate, False  # collected here, not printed
    try:
        response = synapse.stream_response(source())
        assert isinstance(response, runtime.BTStreamingResponse), type(response)
        await response.stream_response(send)
    finally:
        logger.removeHandler(errors)
        logger.propagate = propagate
    assert messages[0]["type"] == "http.response.start" and messages[0]["status"] == 200
    assert messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    body = b"".join(message["body"] for message in messages[1:])
    logged = [
        f"{record.getMessage()}: {record.exc_info[1]!r}" if record.exc_info else record.getMessage()
        for record in errors.records
        if not (
            failure is not None
            and record.exc_info is not None
            and isinstance(record.exc_info[1], RuntimeError)
            and str(record.exc_info[1]) == failure
        )
    ]
    return body, logged


async def decode(synapse: Any, chunks: list[bytes]) -> tuple[list[Json], BaseException | None]:
    """What ``process_streaming_response`` yields for these chunks, and what it raised."""
    items: list[Json] = []
    try:
        async for item in synapse.process_streaming_response(FakeResponse(chunks)):
            items.append(item)
    except Exception as exc:
        return items, exc
    return items, None


def chunkings(body: bytes, cuts: list[int]) -> dict[str, list[bytes]]:
    """The body whole, byte by byte, cut inside every multi-byte character, cut at ``cuts``."""
    inside = [i for i in range(1, len(body)) if 0x80 <= body[i] <= 0xBF]
    drawn = sorted({c for c in cuts if 0 < c < len(body)})

    def cut(points: list[int]) -> list[bytes]:
        """The body cut at ``points``."""
        edges = [0, *points, len(body)]
        return [body[a:b] for a, b in itertools.pairwise(edges)]

    return {
        "whole": [body],
        "bytewise": [body[i : i + 1] for i in range(len(body))],
        "inside characters": cut(inside),
        "drawn cuts": cut(drawn),
    }


def client_texts(chunks: list[bytes]) -> list[str]:
    """The text a raw-text client decodes per network chunk (empty ones are not yielded)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    return [text for text in (decoder.decode(chunk) for chunk in chunks) if text]


def _same(got: Any, want: Any) -> bool:
    """Equal, and of the same type (``True`` is not ``1``, nor ``1.0`` ``1``)."""
    if isinstance(got, BaseModel) or isinstance(want, BaseModel):
        return bool(got == want)
    return type(got) is type(want) and bool(got == want)


def check_synapse(
    module: ModuleType, synapse: SynapsePlan, case: Case, data: st.DataObject
) -> None:
    """Construct the synapse, stream tokens through its own server helper and decode them (a
    plain synapse: respond, and survive the wire's JSON round trip)."""
    where = f"synapse {synapse.module}.{synapse.name}"
    cls = getattr(module, synapse.name, None)
    assert isinstance(cls, type), f"{where}: no class\n{case.describe()}"
    try:
        built = cls(**synapse.request_values)
    except Exception as exc:
        raise AssertionError(
            f"{where} does not construct from {synapse.request_values!r}: {exc}\n{case.describe()}"
        ) from exc
    check_imported(module, synapse, built, case)
    check_headers(cls, synapse, built, case)
    plan = synapse.stream
    if plan is None:
        check_plain(cls, synapse, built, case)
        return
    assert built.stream_complete is False
    tokens = data.draw(token_lists(synapse), label=f"tokens of {where}")
    token_model = None
    sent: list[Any] = tokens
    wire: list[Json] = tokens  # the tokens as the client decodes them
    if plan.token_model is not None:
        token_model = getattr(module, plan.token_model, None)
        assert isinstance(token_model, type) and issubclass(token_model, BaseModel), (
            f"{where}: no model class {plan.token_model}\n{case.describe()}"
        )
        if data.draw(st.booleans(), label="the miner sends models"):
            sent, wire = miner_models(token_model, plan, tokens)
    miner_error = None
    if plan.error_event is not None and plan.payload == "json" and data.draw(st.booleans()):
        miner_error = data.draw(texts(), label="the miner's error")
    try:
        body, logged = asyncio.run(serve(cls(**synapse.request_values), sent, miner_error))
    except Exception as exc:
        message = f"{where}: stream_response fails for tokens {sent!r}: {exc!r}"
        raise failure(message, exc, case) from exc
    context = f"{where}, tokens {sent!r}, miner error {miner_error!r}, body {body!r}"
    if plan.framing == "raw":
        context += " (framing raw: the client sees network chunks, not the server's tokens)"
    assert not logged, f"{context}: the server logged errors: {logged}\n{case.describe()}"
    cuts = data.draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=6), label="cuts")
    for how, chunks in chunkings(body, cuts).items():
        expected = interpret(synapse, wire, miner_error, client_texts(chunks), token_model)
        received = cls(**synapse.request_values)
        items, raised = asyncio.run(decode(received, chunks))
        label = f"{context}, chunks {how}"
        if expected.malformed is not None:
            ok = isinstance(raised, MalformedFrame) and str(raised).startswith(expected.malformed)
            assert ok, (
                f"{label}: expected MalformedFrame({expected.malformed!r}...), got {raised!r}\n"
                f"{case.describe()}"
            )
        elif expected.error is not None:
            assert isinstance(raised, MinerError) and str(raised) == expected.error, (
                f"{label}: expected MinerError({expected.error!r}), got {raised!r}\n"
                f"{case.describe()}"
            )
        elif raised is not None:
            message = f"{label}: process_streaming_response raised {raised!r}"
            raise failure(message, raised, case)
        assert len(items) == len(expected.items) and all(
            _same(a, b) for a, b in zip(items, expected.items, strict=True)
        ), f"{label}: yielded {items!r}, expected {expected.items!r}\n{case.describe()}"
        if token_model is not None:
            check_typed_items(synapse, items, expected.yielded, label, case)
        assert received.stream_complete is expected.complete, (
            f"{label}: stream_complete is {received.stream_complete}\n{case.describe()}"
        )
        check_fields(cls, synapse, received, expected, label, case)
    check_methods(module, synapse, received, case)
    rejected = cls(**synapse.request_values)
    items, raised = asyncio.run(decode_status(rejected, body))
    assert items == [] and raised is None and rejected.stream_complete is False, (
        f"{where}: an error status was decoded as a stream\n{case.describe()}"
    )


def miner_models(
    model: type[BaseModel], plan: StreamPlan, tokens: list[Json]
) -> tuple[list[Any], list[Json]]:
    """Typed tokens as a miner may give them: models where it can (``stream_response`` takes a
    model or a dict), and the JSON the client decodes of each. A model is sent under its wire
    names with the fields the miner set (runtime ``_model_json``: validated values, so a number
    field's ``1`` is ``1.0``), so the rules read that, not the dict it was made from; and a model
    carrying the final event's tags is the miner's own final event, as a dict is.

    Sent as the dicts they are: a token that is no model (a stream error on the client), and one
    whose JSON as a model would be the SSE sentinel (the strategy keeps tokens off it).
    """
    sent: list[Any] = []
    wire: list[Json] = []
    for token in tokens:
        try:
            instance = model.model_validate(token)
        except ValidationError:
            instance = None  # (an undeclared key)
        if instance is not None:
            dumped = instance.model_dump(mode="json", by_alias=True, exclude_unset=True)
            written = json.loads(json.dumps(dumped))
            compact = json.dumps(written, ensure_ascii=False, separators=(",", ":"))
            if not (plan.framing == "sse" and compact == plan.sentinel):
                sent.append(instance)
                wire.append(written)
                continue
        sent.append(token)
        wire.append(token)
    return sent, wire


def check_typed_items(
    synapse: SynapsePlan, items: list[Any], tokens: list[Json], label: str, case: Case
) -> None:
    """Typed tokens: every model yielded writes its token back, under the same keys, with the
    same values (the model's wire names are the token's keys)."""
    assert synapse.stream is not None and synapse.stream.token_model is not None
    schema = {"$ref": f"#/$defs/{synapse.stream.token_model}"}
    if synapse.stream.yields != "token":
        return
    for item, token in zip(items, tokens, strict=True):
        problem = wire_problem(schema, item.model_dump(mode="json"), token, synapse.defs, "token")
        assert problem is None, f"{label}: {problem}\n{case.describe()}"


async def decode_status(synapse: Any, body: bytes) -> tuple[list[Json], BaseException | None]:
    """Decode ``body`` sent with status 500: nothing may come of it."""
    items: list[Json] = []
    try:
        async for item in synapse.process_streaming_response(FakeResponse([body], status=500)):
            items.append(item)
    except Exception as exc:
        return items, exc
    return items, None


def check_fields(
    cls: type, synapse: SynapsePlan, received: Any, expected: Expected, label: str, case: Case
) -> None:
    """Response fields hold what the rules imply; request fields are untouched."""
    try:
        reference = cls(**synapse.request_values, **expected.fields)
    except ValidationError as exc:
        raise AssertionError(
            f"{label}: the values the rules imply do not validate: {expected.fields!r}: {exc}\n"
            f"{case.describe()}"
        ) from exc
    for name in [*synapse.request, *synapse.response]:
        got, want = getattr(received, name), getattr(reference, name)
        assert _same(got, want), (
            f"{label}: field {name!r} is {got!r}, expected {want!r}\n{case.describe()}"
        )
    check_wire(synapse, received, {**synapse.request_values, **expected.fields}, label, case)


_ABSENT = object()


def wire_problem(
    schema: Schema, dumped: Json, sent: Any, defs: dict[str, Schema], where: str
) -> str | None:
    """Why ``dumped`` (a value as the model writes it) is not JSON as the schema writes it: a
    model's keys are its properties' keys (``from``, ``content-type``: the aliases, not the
    attributes made from them), and what was ``sent`` (JSON, or ``_ABSENT``) is there, under the
    same keys, with the same values. Under a union only the keys are checked (any member)."""
    schema = resolve(schema, defs)
    for union in ("anyOf", "oneOf"):
        if schema.get(union):
            problems = [wire_problem(m, dumped, _ABSENT, defs, where) for m in schema[union]]
            return None if None in problems else problems[0]
    if isinstance(dumped, list) and isinstance(schema.get("items"), dict):
        sent_items = sent if isinstance(sent, list) and len(sent) == len(dumped) else None
        if sent is not _ABSENT and sent_items is None:
            return f"{where}: {dumped!r} is not the list sent, {sent!r}"
        for index, item in enumerate(dumped):
            got = _ABSENT if sent_items is None else sent_items[index]
            problem = wire_problem(schema["items"], item, got, defs, f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(dumped, dict):
        properties: dict[str, Schema] = schema.get("properties") or {}
        if properties and set(dumped) != set(properties):
            return f"{where}: written with keys {sorted(dumped)}, not {sorted(properties)}"
        if isinstance(sent, dict) and not set(sent) <= set(dumped):
            return f"{where}: keys {sorted(set(sent) - set(dumped))} sent, not written back"
        extra = schema.get("additionalProperties")
        for key, item in dumped.items():
            inner = properties.get(key, extra if isinstance(extra, dict) else {})
            got = sent.get(key, _ABSENT) if isinstance(sent, dict) else _ABSENT
            problem = wire_problem(inner, item, got, defs, f"{where}.{key}")
            if problem is not None:
                return problem
        return None
    if sent is not _ABSENT and not _same_json(dumped, sent):
        return f"{where}: {dumped!r} written for {sent!r}"
    return None


def _same_json(got: Json, sent: Json) -> bool:
    """Equal as JSON (numbers as floats: a number field makes 2**53 + 1 a float)."""
    numbers = (int, float)
    if isinstance(got, bool) or isinstance(sent, bool):
        return got is sent
    if isinstance(got, numbers) and isinstance(sent, numbers):
        return float(got) == float(sent)
    if isinstance(got, dict) and isinstance(sent, dict):
        return got.keys() == sent.keys() and all(_same_json(got[k], sent[k]) for k in got)
    if isinstance(got, list) and isinstance(sent, list):
        return len(got) == len(sent) and all(map(_same_json, got, sent))
    return bool(got == sent)


def check_wire(
    synapse: SynapsePlan, instance: Any, sent: dict[str, Json], label: str, case: Case
) -> None:
    """Every field of ``instance`` is written as its schema says, with the values ``sent``."""
    dumped = instance.model_dump(mode="json")
    for name, schema in {**synapse.request, **synapse.response}.items():
        problem = wire_problem(schema, dumped[name], sent.get(name, _ABSENT), synapse.defs, name)
        assert problem is None, f"{label}: {problem}\n{case.describe()}"


HEADER_PREFIX = "bt_header_input_obj_"  # bittensor's request header of a field


def check_headers(cls: Any, synapse: SynapsePlan, built: Any, case: Case) -> None:
    """``header: true`` request fields: ``header_fields`` names them in order; ``to_headers()``
    carries their values (not bittensor's empty placeholders; nothing for None), written as the
    schema writes them; the axon's ``parse_headers_to_inputs`` and ``from_headers`` give the
    values back. Other fields with a default are not in the headers at all, and the synapse
    builds from the headers (as the axon builds it before reading the body: a required field
    from its empty placeholder, SG305)."""
    where = f"synapse {synapse.module}.{synapse.name}"
    names = [name for name, schema in synapse.request.items() if schema.get("header")]
    declared = getattr(cls, "header_fields", ())
    assert tuple(declared) == tuple(names), (
        f"{where}: header_fields {declared!r}, expected {tuple(names)!r}\n{case.describe()}"
    )
    headers = built.to_headers()
    inputs = cls.parse_headers_to_inputs(headers)
    dumped = built.model_dump(mode="json")
    for name, schema in synapse.request.items():
        key = HEADER_PREFIX + name
        if name in names and dumped[name] is not None:
            got = inputs.get(name, _ABSENT)
            assert key in headers and _same_json(got, dumped[name]), (
                f"{where}: header field {name!r} = {dumped[name]!r} reads back from the headers "
                f"as {got!r}\n{case.describe()}"
            )
            sent = synapse.request_values.get(name, schema.get("default", _ABSENT))
            problem = wire_problem(schema, got, sent, synapse.defs, f"header {name}")
            assert problem is None, f"{where}: {problem}\n{case.describe()}"
        elif "default" in schema:
            assert key not in headers, (
                f"{where}: field {name!r} (header: {name in names}, value None or no header "
                f"field) is in the headers: {headers[key]!r}\n{case.describe()}"
            )
    try:  # as the axon does, before it reads the body (required fields: placeholders, SG305)
        rebuilt = cls.from_headers(headers)
    except Exception as exc:
        raise failure(f"{where}: from_headers fails on {headers!r}", exc, case) from exc
    for name in names:
        if dumped[name] is not None:
            got, want = getattr(rebuilt, name), getattr(built, name)
            assert _same(got, want), (
                f"{where}: from_headers gives {name} = {got!r}, expected {want!r}\n"
                f"{case.describe()}"
            )


def check_imported(module: ModuleType, synapse: SynapsePlan, built: Any, case: Case) -> None:
    """``import:`` entries: the module binds the user's class itself under the entry's name
    (nothing generated in its place, nothing re-exported), and a request field typed with one
    holds an instance of it."""
    where = f"synapse {synapse.module}.{synapse.name}"
    classes: dict[str, type] = {}
    used = json.dumps(
        [synapse.defs]
        + [[p.request, p.response, p.stream and p.stream.deserialize, p.deserialize]
           for p in case.synapses if p.module == synapse.module]
    )  # fmt: skip
    for name, schema in synapse.defs.items():
        target = schema.get("import")
        if target is None or json.dumps(f"#/$defs/{name}") not in used:
            continue  # (an entry nothing refers to is not imported: ruff drops the import)
        path, class_name = target.rsplit(".", 1)
        classes[name] = getattr(importlib.import_module(path), class_name)
        assert getattr(module, name, None) is classes[name], (
            f"{where}: {name} is {getattr(module, name, None)!r}, not the user's {target}\n"
            f"{case.describe()}"
        )
        assert name not in getattr(module, "__all__", ()), (where, name, case.describe())
    for field, schema in synapse.request.items():
        ref = str(schema.get("$ref", "")).rsplit("/", 1)[-1]
        value = getattr(built, field)
        if ref in classes and value is not None:
            assert isinstance(value, classes[ref]), (
                f"{where}: field {field!r} is {value!r}, not a {classes[ref]!r}\n{case.describe()}"
            )


def check_plain(cls: type, synapse: SynapsePlan, built: Any, case: Case) -> None:
    """``respond()`` sets exactly what it is given; the answer survives the wire (JSON)."""
    where = f"plain synapse {synapse.module}.{synapse.name}"
    assert not hasattr(cls, "process_streaming_response"), where
    if synapse.response:
        assert built.respond(**synapse.respond_values) is built, where
    else:
        assert not hasattr(cls, "respond"), f"{where}: respond() without response fields"
    reference = cls(**synapse.request_values, **synapse.respond_values)
    received = cls.model_validate_json(built.model_dump_json())
    check_wire(synapse, received, {**synapse.request_values, **synapse.respond_values}, where, case)
    for name in [*synapse.request, *synapse.response]:
        for got in (getattr(built, name), getattr(received, name)):
            assert _same(got, getattr(reference, name)), (
                f"{where}: field {name!r} is {got!r}, expected {getattr(reference, name)!r}\n"
                f"{case.describe()}"
            )
    spec = synapse.deserialize
    want = received if spec == "synapse" else getattr(received, spec["field"])
    got = received.deserialize()
    assert got is want or _same(got, want), (where, got, case.describe())


def check_methods(module: ModuleType, synapse: SynapsePlan, received: Any, case: Case) -> None:
    """``deserialize`` returns what the schema says; ``extract_response_json`` every field."""
    where = f"synapse {synapse.module}.{synapse.name}"
    assert synapse.stream is not None
    spec = synapse.stream.deserialize
    if spec == "synapse":
        assert received.deserialize() is received, f"{where}: deserialize()\n{case.describe()}"
    elif "field" in spec:
        got = received.deserialize()
        assert _same(got, getattr(received, spec["field"])), (where, got, case.describe())
    else:
        model = getattr(module, spec["model"].rsplit("/", 1)[-1])
        text = getattr(received, spec["parse"])
        try:
            want: Any = model.model_validate_json(text)
        except ValidationError:
            with pytest.raises(ValidationError):
                received.deserialize()
        else:
            assert _same(received.deserialize(), want), (where, text, case.describe())
            model_schema = {"$ref": spec["model"]}
            problem = wire_problem(
                model_schema, want.model_dump(mode="json"), json.loads(text), synapse.defs, "parse"
            )
            assert problem is None, f"{where}: {problem}\n{case.describe()}"
    extracted = received.extract_response_json(FakeResponse([]))
    for name in [*synapse.request, *synapse.response, "name", "timeout"]:
        assert name in extracted and _same(extracted[name], getattr(received, name)), (
            f"{where}: extract_response_json() lacks or changes {name!r}\n{case.describe()}"
        )


# ---------------------------------------------------------------------------------------------
# The tests


def _run(case: Case, store: Store, data: st.DataObject | None) -> None:
    """Generate a case; check diagnostics, or lint, import, keep for mypy and round-trip."""
    store.seen += 1
    package, _ = generate_case(case, store)
    if package is None:
        return  # located diagnostics: checked
    ruff_check(package, case)
    try:
        modules = import_package(package, case)
        store.keep(package, case)
        if data is not None:
            for synapse in case.synapses:
                check_synapse(modules[synapse.module], synapse, case, data)
    finally:
        forget(package)


def _seeded(test: Any) -> Any:
    """Use ``SYNAPSEGEN_PROPERTY_SEED`` when it is set."""
    if SEED is None:
        return test
    from hypothesis import seed

    return seed(int(SEED))(test)


@_seeded
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
@PROPERTY
@given(case=cases(), data=st.data())
def test_whatever_validates_works(store: Store, case: Case, data: st.DataObject) -> None:
    """Diagnostics, each located; or files that import, lint, construct and round-trip."""
    _run(case, store, data)


def _mypy_path(base: Path) -> Path:
    """A ``synapsegen`` package of symlinks to the installed one (mypy cannot follow the
    editable install's import hook), as tests/generator/test_typing.py builds it."""
    generator = Path(synapsegen.__file__).parent
    package = base / "stubs" / "synapsegen"
    package.mkdir(parents=True)
    for entry in generator.iterdir():
        if entry.name in ("runtime", "templates"):
            continue
        if entry.suffix == ".py" or entry.name == "py.typed" or (entry / "__init__.py").is_file():
            (package / entry.name).symlink_to(entry)
    (package / "runtime").symlink_to(Path(runtime.__file__).parent)
    return package.parent


def _user_code(store: Store) -> str:
    """A caller's module: every generated synapse built from its required fields only."""
    lines = ["from typing import Any, cast", ""]
    for package in store.packages:
        try:
            with on_sys_path(package.parent):
                for path in sorted(package.glob("*.py")):
                    if path.name == "__init__.py":
                        continue
                    module = importlib.import_module(f"{package.name}.{path.stem}")
                    for name in getattr(module, "__all__", []):
                        cls = getattr(module, name)
                        if isinstance(cls, type) and issubclass(cls, runtime.Synapse):
                            fields = cls.model_fields.items()
                            required = [f for f, info in fields if info.is_required()]
                            arguments = ", ".join(f"{f}=cast(Any, None)" for f in required)
                            alias = f"{package.name}_{name}"
                            lines.append(
                                f"from {package.name}.{path.stem} import {name} as {alias}"
                            )
                            lines.append(f"{alias.lower()}_instance = {alias}({arguments})")
        finally:
            forget(package)
    return "\n".join(lines) + "\n"


def test_generated_packages_pass_mypy_strict(store: Store) -> None:
    """Every package the property test generated passes ``mypy --strict`` (one mypy run)."""
    missing = EXAMPLES - store.seen
    if missing > 0:  # run alone, or the property test stopped at a failure: draw more packages

        @settings(PROPERTY, max_examples=missing)
        @given(case=cases())
        def collect(case: Case) -> None:
            """Generate and keep packages only (no stream round trip)."""
            with contextlib.suppress(AssertionError):  # the property test reports those
                _run(case, store, None)

        collect()
    if not store.packages:
        pytest.skip("no example generated a package")
    user = store.base / "user"
    user.mkdir(exist_ok=True)
    (user / "user_code.py").write_text(_user_code(store), encoding="utf-8")
    path = [_mypy_path(store.base), store.base / "packages", user]
    env = {**os.environ, "MYPYPATH": os.pathsep.join(map(str, path))}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", str(store.base / "mypy_cache"), "--python-version", "3.11",
               "--show-error-codes", "--no-error-summary",
               *(f"--package={package.name}" for package in store.packages),
               "--module=user_code"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=store.base)
    ours = ("packages/", "user/", "sg_prop_", "user_code")
    errors = [line for line in result.stdout.splitlines() if line.startswith(ours)]
    if result.returncode != 0 and not errors:
        errors = (result.stdout + result.stderr).splitlines()
    by_package: dict[str, list[str]] = {}
    for line in errors:
        match = re.search(r"sg_prop_\d+", line)
        by_package.setdefault(match.group(0) if match else "user_code", []).append(line)
    report = []
    for name, lines in by_package.items():
        report.append("\n".join(lines))
        if name in store.schemas:
            report.append(store.schemas[name])
    assert not errors, (
        f"mypy --strict fails on {len(by_package)} of {len(store.packages)} generated "
        "packages:\n" + "\n".join(report)
    )
