"""The runnable examples of docs/migrating.md and of the plain-synapse section of
docs/generated-code.md; the YAML examples of docs/schema-reference.md (excerpts of the example
schemas, and whole files that generate or print the diagnostics shown) and the generated-code
snippets docs/generated-code.md quotes.

Each example is a file under tests/generator/docs_examples/, shown verbatim in its doc (checked
here), generated and imported into a temporary package, and run against a real Axon and
Dendrite on 127.0.0.1. The claims the migration guide makes about subclasses, routes and the
body hash are checked here too.

No ``from __future__ import annotations``: the Axon reads a forward function's parameter
annotation, and some of the classes here are local to a test.
"""

import asyncio
import importlib
import json
import re
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from bittensor_wallet import Keypair
from pydantic import Field, ValidationError, field_validator

from synapsegen.pipeline import Options, generate
from synapsegen.runtime import (
    Axon,
    AxonTarget,
    Dendrite,
    MalformedFrame,
    StreamingSynapse,
    Synapse,
)

from ._generated import FakeResponse, generate_package, schema_file, stream_items
from ._paths import GOLDEN, ROOT

EXAMPLES = ROOT / "tests" / "generator" / "docs_examples"
MIGRATING = EXAMPLES / "migrating"
MIGRATING_DOC = ROOT / "docs" / "migrating.md"
GENERATED_DOC = ROOT / "docs" / "generated-code.md"
FLAGS = re.DOTALL | re.MULTILINE
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)

MINER = Keypair.create_from_seed("0x" + "41" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "42" * 32)
TIMEOUT = 10.0


def _block(path: Path, lang: str) -> str:
    return f"```{lang}\n{path.read_text(encoding='utf-8')}```"


@contextmanager
def _imports_from(folder: Path, package: str) -> Iterator[None]:
    """``folder`` first on sys.path, and ``package`` imported afresh from it; afterwards the
    modules of any earlier ``package`` come back."""

    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if ours(name)}
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def _target(axon: Axon) -> AxonTarget:
    return AxonTarget(ip="127.0.0.1", port=axon.port, hotkey=MINER.ss58_address)


async def _echo(synapse: Any) -> AsyncIterator[str]:
    for message in synapse.messages:
        yield message + " "


async def _stream(dendrite: Dendrite, axon: Axon, synapse: Any) -> list[Any]:
    call = dendrite.call_stream(_target(axon), synapse, timeout=TIMEOUT, deserialize=False)
    return [item async for item in call]


# ---- the docs show the files verbatim ----------------------------------------------------------


def test_the_migration_guide_shows_its_files_verbatim() -> None:
    doc = MIGRATING_DOC.read_text(encoding="utf-8")
    assert _block(MIGRATING / "protocol.yaml", "yaml") in doc, "docs/migrating.md: protocol.yaml"
    for name in ("protocol.py", "miner.py", "validator.py"):
        assert _block(MIGRATING / name, "python") in doc, f"docs/migrating.md: {name}"
    assert "(docs/migrating.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_python_block_of_the_migration_guide_compiles() -> None:
    """The hand-written protocol.py it starts from (bittensor code, not run here) included."""
    blocks = PYTHON_BLOCK.findall(MIGRATING_DOC.read_text(encoding="utf-8"))
    assert len(blocks) >= 5
    for number, block in enumerate(blocks, 1):
        compile(block, f"docs/migrating.md python block {number}", "exec")


def test_the_migration_guide_shows_the_generated_dummy_class() -> None:
    files = generate_package_text(MIGRATING / "protocol.yaml")
    dummy = re.search(r"^class Dummy\(Synapse\):\n.*?(?=\n\n\n)", files, FLAGS)
    assert dummy is not None
    assert f"```python\n{dummy.group(0)}\n```" in MIGRATING_DOC.read_text(encoding="utf-8"), (
        "docs/migrating.md: the generated Dummy class changed; paste the new one:\n"
        + dummy.group(0)
    )


def generate_package_text(schema: Path) -> str:
    """The generated module of ``schema``, as text."""
    result = generate([schema], Options(), ROOT)
    assert not result.diagnostics
    return result.files[f"{schema.stem}.py"]


def test_the_generated_code_doc_shows_the_plain_examples_verbatim() -> None:
    doc = GENERATED_DOC.read_text(encoding="utf-8")
    golden = (GOLDEN / "prompting" / "prompting.py").read_text(encoding="utf-8")
    plain = re.search(r"^class AvailabilitySynapse\(Synapse\):\n.*?(?=\n\n\n)", golden, FLAGS)
    assert plain is not None
    assert f"```python\n{plain.group(0)}\n```" in doc, (
        "docs/generated-code.md: AvailabilitySynapse differs from tests/golden/prompting"
    )
    for name in ("plain_miner.py", "plain_validator.py"):
        assert _block(EXAMPLES / name, "python") in doc, f"docs/generated-code.md: {name}"


def test_a_plain_synapse_without_response_fields_has_no_respond(tmp_path: Path) -> None:
    schema = {
        "version": 1,
        "synapses": {"Ping": {"request": {"seq": {"type": "integer", "hash": True}}}},
    }
    text = generate_package_text(schema_file(tmp_path, "ping", schema))
    assert "class Ping(Synapse):" in text and "def deserialize(self) -> Self:" in text
    assert "def respond(" not in text


def test_the_schema_reference_shows_prompting_yaml_verbatim() -> None:
    doc = (ROOT / "docs" / "schema-reference.md").read_text(encoding="utf-8")
    excerpt = re.search(r"```yaml\nsynapses:\n(  AvailabilitySynapse:\n.*?)```", doc, re.DOTALL)
    assert excerpt is not None
    assert excerpt.group(1) in (ROOT / "schemas" / "prompting.yaml").read_text(encoding="utf-8")


def test_the_sg501_line_the_docs_show(tmp_path: Path) -> None:
    """Both docs show the warning for the template's Dummy, which hashes nothing."""
    schema = (MIGRATING / "protocol.yaml").read_text(encoding="utf-8")
    hashed = "description: The number the validator sends.\n        hash: true\n"
    assert hashed in schema
    (tmp_path / "schemas").mkdir()
    source = tmp_path / "schemas" / "protocol.yaml"
    source.write_text(schema.replace(hashed, hashed.split("\n")[0] + "\n"), encoding="utf-8")
    result = generate([source], Options(), tmp_path)
    assert not result.diagnostics and result.files
    # The command line prints the path as given: run from tmp_path, schemas/protocol.yaml.
    [warning] = [str(w).replace(f"{tmp_path}/", "", 1) for w in result.warnings]
    assert warning.startswith("schemas/protocol.yaml:4:3: SG501 warning: synapse 'Dummy'")
    for doc in (MIGRATING_DOC, ROOT / "docs" / "schema-reference.md"):
        assert f"```\n{warning}\n```" in doc.read_text(encoding="utf-8"), doc.name


# ---- docs/generated-code.md: a plain synapse on both sides --------------------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    base = tmp_path_factory.mktemp("plain_docs")
    generate_package([ROOT / "schemas" / "prompting.yaml"], ROOT, base / "synapses")
    for name in ("plain_miner.py", "plain_validator.py"):
        shutil.copy(EXAMPLES / name, base / name)
    with _imports_from(base, "synapses"):
        yield SimpleNamespace(
            miner=importlib.import_module("plain_miner"),
            validator=importlib.import_module("plain_validator"),
        )
    for name in ("plain_miner", "plain_validator"):
        sys.modules.pop(name, None)


async def test_plain_miner_and_validator_print_what_the_doc_says(
    plain: SimpleNamespace, capsys: pytest.CaptureFixture[str]
) -> None:
    axon = Axon(MINER, port=0).attach(plain.miner.forward)
    async with axon, Dendrite(VALIDATOR) as dendrite:
        await plain.validator.ask(dendrite, _target(axon))
    assert capsys.readouterr().out == "{'chat': True, 'translate': False}\n200 0.25\n"


# ---- docs/migrating.md ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mysubnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The guide's layout: mysubnet/synapses/ generated from protocol.yaml, beside the kept
    mysubnet/protocol.py and the miner and validator excerpts."""
    base = tmp_path_factory.mktemp("migrating")
    package = base / "mysubnet"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name in ("protocol.py", "miner.py", "validator.py"):
        shutil.copy(MIGRATING / name, package / name)
    generate_package([MIGRATING / "protocol.yaml"], ROOT, package / "synapses")
    with _imports_from(base, "mysubnet"):
        modules: dict[str, ModuleType] = {
            name: importlib.import_module(f"mysubnet.{name}")
            for name in ("synapses.protocol", "protocol", "miner", "validator")
        }
        yield SimpleNamespace(
            generated=modules["synapses.protocol"],
            protocol=modules["protocol"],
            miner=modules["miner"],
            validator=modules["validator"],
        )


def test_what_the_schema_generates(mysubnet: SimpleNamespace) -> None:
    dummy, prompting = mysubnet.generated.Dummy, mysubnet.generated.StreamPrompting
    assert issubclass(dummy, Synapse) and not issubclass(dummy, StreamingSynapse)
    assert issubclass(prompting, StreamingSynapse)
    assert dummy.required_hash_fields == ("dummy_input",)
    assert prompting.required_hash_fields == ("messages",)
    assert dummy(dummy_input=1).deserialize() is None
    assert dummy(dummy_input=1).respond(dummy_output=2).deserialize() == 2
    with pytest.raises(ValidationError, match="dummy_output"):
        dummy(dummy_input=1).respond(dummy_output="two")
    synapse = prompting(roles=["user"], messages=["hi"])
    with pytest.raises(ValidationError, match="frozen"):
        synapse.messages = ["changed"]
    # The kept module: Dummy is the generated class, StreamPrompting a same-named subclass.
    assert mysubnet.protocol.Dummy is dummy
    assert mysubnet.protocol.StreamPrompting.__name__ == "StreamPrompting"
    assert mysubnet.protocol.StreamPrompting(roles=[], messages=[]).name == "StreamPrompting"


async def test_the_miner_and_validator_excerpts_over_loopback(mysubnet: SimpleNamespace) -> None:
    miner, validator = mysubnet.miner, mysubnet.validator
    axon = Axon(MINER, port=0).attach(miner.forward_dummy).attach(miner.forward_prompting)
    async with axon, Dendrite(VALIDATOR) as dendrite:
        doubled = await validator.ask_dummy(dendrite, [_target(axon), _target(axon)])
        text = "Grüß dich, 世界 🌍"
        streamed, final = await validator.ask_prompting(dendrite, _target(axon), text)
        # A peer that uses the generated class, not the subclass: the same route.
        plain = await _stream(
            dendrite, axon, mysubnet.generated.StreamPrompting(roles=["user"], messages=["hi"])
        )
    assert doubled == [42, 42]
    assert streamed == "Grüß dich, 世界 🌍 " == final.completion
    assert final.dendrite.status_code == 200 and final.stream_complete
    assert isinstance(final, mysubnet.protocol.StreamPrompting)
    assert plain[-1].dendrite.status_code == 200 and plain[-1].completion == "hi "


async def test_the_subclass_validator_runs_on_both_sides(mysubnet: SimpleNamespace) -> None:
    with pytest.raises(ValidationError, match="2 roles for 1 messages"):
        mysubnet.protocol.StreamPrompting(roles=["user", "assistant"], messages=["hi"])
    axon = Axon(MINER, port=0).attach(mysubnet.miner.forward_prompting)
    unchecked = mysubnet.generated.StreamPrompting(roles=["user", "assistant"], messages=["hi"])
    async with axon, Dendrite(VALIDATOR) as dendrite:
        items = await _stream(dendrite, axon, unchecked)
    assert len(items) == 1  # no tokens: the miner refused the body
    assert items[0].dendrite.status_code == 500 and items[0].completion == ""


async def test_a_subclass_with_another_name_is_another_route(mysubnet: SimpleNamespace) -> None:
    class MyPrompting(mysubnet.generated.StreamPrompting):
        pass

    async def forward(synapse: MyPrompting) -> Any:
        return synapse.stream_response(_echo(synapse))

    assert MyPrompting(roles=[], messages=[]).name == "MyPrompting"
    axon = Axon(MINER, port=0).attach(forward)
    async with axon, Dendrite(VALIDATOR) as dendrite:
        other = await _stream(
            dendrite, axon, mysubnet.generated.StreamPrompting(roles=["user"], messages=["hi"])
        )
        same = await _stream(dendrite, axon, MyPrompting(roles=["user"], messages=["hi"]))
    assert other[-1].dendrite.status_code == 404
    assert same[-1].dendrite.status_code == 200 and same[-1].completion == "hi "


async def test_a_validator_refusing_the_empty_placeholder_breaks_every_call(
    mysubnet: SimpleNamespace,
) -> None:
    """The axon first builds the synapse from the headers, where a required field holds its
    type's empty value: a validator that refuses it fails every request."""

    class StreamPrompting(mysubnet.generated.StreamPrompting):
        @field_validator("messages")
        @classmethod
        def _not_empty(cls, messages: list[str]) -> list[str]:
            if not messages:
                raise ValueError("no messages")
            return messages

    async def forward(synapse: StreamPrompting) -> Any:
        return synapse.stream_response(_echo(synapse))

    axon = Axon(MINER, port=0).attach(forward)
    async with axon, Dendrite(VALIDATOR) as dendrite:
        items = await _stream(dendrite, axon, StreamPrompting(roles=["user"], messages=["hi"]))
    assert items[-1].dendrite.status_code == 500 and items[-1].completion == ""
    # Step 2 of the axon, as bittensor's: the synapse rebuilt from the request's headers.
    headers = StreamPrompting(roles=["user"], messages=["hi"]).to_headers()
    with pytest.raises(ValidationError, match="no messages"):
        StreamPrompting.from_headers(headers)


async def test_adding_a_hash_field_breaks_peers_on_the_old_class(mysubnet: SimpleNamespace) -> None:
    """The template's Dummy hashes nothing; the guide's hashes dummy_input. Mixed, the body hash
    check fails, whichever side is old."""

    class Dummy(Synapse):  # the hand-written class: no required_hash_fields
        dummy_input: int
        dummy_output: int | None = None

    async def old_forward(synapse: Dummy) -> Dummy:
        synapse.dummy_output = synapse.dummy_input * 2
        return synapse

    old_axon = Axon(MINER, port=0).attach(old_forward)
    new_axon = Axon(MINER, port=0).attach(mysubnet.miner.forward_dummy)
    async with old_axon, new_axon, Dendrite(VALIDATOR) as dendrite:
        new_to_old = await dendrite.call(
            _target(old_axon), mysubnet.generated.Dummy(dummy_input=21), deserialize=False
        )
        old_to_new = await dendrite.call(
            _target(new_axon), Dummy(dummy_input=21), deserialize=False
        )
        old_to_old = await dendrite.call(_target(old_axon), Dummy(dummy_input=21))
    for result in (new_to_old, old_to_new):
        assert result.dendrite.status_code == 500
        assert result.dummy_output is None
    assert old_to_old.dummy_output == 42
    assert Dummy(dummy_input=21).body_hash != mysubnet.generated.Dummy(dummy_input=21).body_hash


@pytest.mark.filterwarnings("ignore:Field name .required_hash_fields.:UserWarning")
def test_the_same_hash_field_gives_the_same_body_hash(mysubnet: SimpleNamespace) -> None:
    """The template's list-as-a-field ``required_hash_fields`` and the schema's ``hash: true``
    on the same field hash alike, so old and new peers of StreamPrompting agree."""
    with pytest.warns(DeprecationWarning, match="required_hash_fields"):

        class StreamPrompting(Synapse):  # the hand-written fields (no stream needed to hash)
            roles: list[str] = Field(..., frozen=True)
            messages: list[str] = Field(..., frozen=True)
            required_hash_fields: list[str] = Field(["messages"], frozen=True)  # type: ignore[assignment]
            completion: str = ""

    values = {"roles": ["user"], "messages": ["Grüß dich", "世界"]}
    old = StreamPrompting(**values)
    assert old.body_hash == mysubnet.generated.StreamPrompting(**values).body_hash


# ---- docs/schema-reference.md: its YAML examples, and what docs/generated-code.md quotes ---------

REFERENCE_DOC = ROOT / "docs" / "schema-reference.md"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
INDENTED_PYTHON_BLOCK = re.compile(r"^  ```python\n(.*?)^  ```$", FLAGS)
EXCERPT = re.compile(r"# (\w+\.yaml) \(excerpt\)\n")
EXAMPLE = re.compile(r"# (\w+\.yaml)\nversion: 1\n")


def _reference_blocks(pattern: re.Pattern[str], keep_name: bool = False) -> dict[str, list[str]]:
    """The YAML blocks of the schema reference that ``pattern`` matches, by the file their first
    line names; without that line unless ``keep_name`` (a full example keeps it: its diagnostics
    count it)."""
    blocks: dict[str, list[str]] = {}
    for block in YAML_BLOCK.findall(REFERENCE_DOC.read_text(encoding="utf-8")):
        match = pattern.match(block)
        if match is not None:
            blocks.setdefault(match.group(1), []).append(
                block if keep_name else block.split("\n", 1)[1]
            )
    return blocks


def _excerpt_of(excerpt: str, text: str) -> bool:
    """Whether the lines of ``excerpt``, all indented alike, are lines of ``text`` in order (an
    excerpt may skip lines)."""
    lines = text.splitlines()
    for indent in range(0, 12, 2):
        wanted, position = [" " * indent + line for line in excerpt.splitlines()], 0
        for line in wanted:
            try:
                position = lines.index(line, position) + 1
            except ValueError:
                break
        else:
            return True
    return False


def _diagnostic_lines(folder: Path, name: str, text: str) -> tuple[list[str], dict[str, str]]:
    """What ``synapsegen schemas/<name>`` prints for ``text``, run from ``folder``, and the files
    it generates."""
    (folder / "schemas").mkdir(exist_ok=True)
    source = folder / "schemas" / name
    source.write_text(text, encoding="utf-8")
    result = generate([source], Options(), folder)
    printed = [*result.diagnostics, *result.warnings]
    return [str(d).replace(f"{folder}/", "", 1) for d in printed], result.files


def test_the_schema_reference_excerpts_are_in_their_schemas() -> None:
    excerpts = _reference_blocks(EXCERPT)
    assert {"search.yaml", "scored.yaml", "grouped.yaml"} <= set(excerpts)
    for name, blocks in excerpts.items():
        schema = (ROOT / "schemas" / name).read_text(encoding="utf-8")
        for block in blocks:
            assert _excerpt_of(block, schema), f"docs/schema-reference.md: {name} excerpt:\n{block}"


def test_the_schema_reference_examples_generate_or_print_what_it_shows(tmp_path: Path) -> None:
    """Every full example (``# name.yaml`` then ``version: 1``) generates; any error or warning
    it gives is shown in the doc as printed."""
    examples = _reference_blocks(EXAMPLE, keep_name=True)
    assert {"mail.yaml", "typo.yaml"} <= set(examples)
    doc = REFERENCE_DOC.read_text(encoding="utf-8")
    codes: dict[str, list[str]] = {}
    for name, [text] in examples.items():
        printed, files = _diagnostic_lines(tmp_path, name, text)
        assert printed or files, name
        codes[name] = [line.split(" ")[1] for line in printed]
        for line in printed:
            assert f"```\n{line}\n```" in doc, f"docs/schema-reference.md does not show: {line}"
    assert codes["mail.yaml"] == [] and codes["typo.yaml"] == ["SG414"]
    # The open variant the reference describes: a warning, and the file generates.
    closed = "        additionalProperties: false\n"
    open_token = examples["typo.yaml"][0].replace(closed, "")
    [warning], files = _diagnostic_lines(tmp_path, "typo.yaml", open_token)
    assert files and " SG502 warning: " in warning and f"```\n{warning}\n```" in doc


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """The reference's mail.yaml, scored.yaml and grouped.yaml, generated and imported."""
    base = tmp_path_factory.mktemp("reference_docs")
    (base / "schemas").mkdir()
    [mail] = _reference_blocks(EXAMPLE, keep_name=True)["mail.yaml"]
    (base / "schemas" / "mail.yaml").write_text(mail, encoding="utf-8")
    sources = [base / "schemas" / "mail.yaml"]
    sources += [ROOT / "schemas" / name for name in ("scored.yaml", "grouped.yaml")]
    files = generate_package(sources, base, base / "sg_reference_docs")
    with _imports_from(base, "sg_reference_docs"):
        yield SimpleNamespace(
            files=files,
            mail=importlib.import_module("sg_reference_docs.mail"),
            scored=importlib.import_module("sg_reference_docs.scored"),
            grouped=importlib.import_module("sg_reference_docs.grouped"),
        )


def _decoded(synapse: Any, tokens: list[dict[str, Any]], separator: bytes) -> list[Any]:
    body = b"".join(json.dumps(t, ensure_ascii=False).encode() + separator for t in tokens)
    return asyncio.run(stream_items(synapse, FakeResponse([body], 200, {})))


def test_the_aliased_model_does_what_the_reference_says(reference: SimpleNamespace) -> None:
    message_class = reference.mail.Message
    message = message_class.model_validate({"from": "a@example.com", "2fa": True})
    assert message.from_ == "a@example.com" and message.field_2fa is True
    assert message.model_dump() == {
        "from": "a@example.com", "content-type": "text/plain", "2fa": True, "_id": ""
    }  # fmt: skip
    assert message_class(from_="a@example.com").from_ == "a@example.com"
    mail = reference.mail.SendMail(message=message)
    assert type(mail).model_validate_json(mail.model_dump_json()).message == message
    assert '"content-type":"text/plain"' in mail.model_dump_json()


def test_the_final_event_and_grouped_examples_of_the_reference(reference: SimpleNamespace) -> None:
    scored = reference.scored.ScoredAnswer()
    final = {"type": "done", "confidence": 0.75,
             "usage": {"prompt_tokens": 3, "completion_tokens": 9}}  # fmt: skip
    _decoded(scored, [{"type": "text", "text": "Paris"}, final], b"\n")
    assert (scored.answer, scored.confidence) == ("Paris", 0.75) and scored.stream_complete
    assert scored.usage == reference.scored.Usage(prompt_tokens=3, completion_tokens=9)

    grouped = reference.grouped.ResearchSynapse()
    events: list[dict[str, Any]] = [
        {"type": "text", "role": "summary", "content": "Grüß "},
        {"type": "text", "role": "web", "content": "世界"},
        {"type": "links", "role": "web", "links": ["https://a.example"]},
        {"type": "text", "role": "summary", "content": "dich"},
    ]
    assert _decoded(grouped, events, b"") == ["Grüß ", "世界", "dich"]
    assert grouped.text_chunks == {"summary": "Grüß dich", "web": "世界"}
    assert grouped.sources == {"web": ["https://a.example"]}
    untouched = reference.grouped.ResearchSynapse()
    _decoded(untouched, events[:1], b"")
    assert untouched.sources is None  # the nullable target no token filled
    with pytest.raises(MalformedFrame, match="role: expected a string group key"):
        _decoded(reference.grouped.ResearchSynapse(), [{"type": "text", "content": "x"}], b"")


def test_the_generated_code_doc_quotes_real_output(reference: SimpleNamespace) -> None:
    """The snippets inside docs/generated-code.md's list items are lines of a golden, or of the
    reference's mail.yaml output."""
    outputs = [path.read_text(encoding="utf-8") for path in sorted(GOLDEN.glob("*/*.py"))]
    outputs.append(reference.files["mail.py"])
    snippets = INDENTED_PYTHON_BLOCK.findall(GENERATED_DOC.read_text(encoding="utf-8"))
    assert len(snippets) >= 4
    for snippet in snippets:
        code = "".join(line[2:] if line.strip() else line for line in snippet.splitlines(True))
        assert any(code in output for output in outputs), f"docs/generated-code.md:\n{code}"
    golden_of = {"grouped": "# Rule 1: when type = 'text'", "scored": 'final={"type": "done"}'}
    for stem, marker in golden_of.items():
        assert any(marker in snippet for snippet in snippets), stem
    assert any("class Message(BaseModel):" in snippet for snippet in snippets)
