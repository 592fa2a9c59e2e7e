"""The runnable examples of docs/migrating.md and of the plain-synapse section of
docs/generated-code.md.

Each example is a file under tests/generator/docs_examples/, shown verbatim in its doc (checked
here), generated and imported into a temporary package, and run against a real Axon and
Dendrite on 127.0.0.1. The claims the migration guide makes about subclasses, routes and the
body hash are checked here too.

No ``from __future__ import annotations``: the Axon reads a forward function's parameter
annotation, and some of the classes here are local to a test.
"""

import importlib
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
from synapsegen.runtime import Axon, AxonTarget, Dendrite, StreamingSynapse, Synapse

from ._generated import generate_package, schema_file
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
