"""Plain synapses (no ``stream``): one request, one JSON answer, over a real Axon and Dendrite.

schemas/prompting.yaml holds a plain ``AvailabilitySynapse`` beside a streaming
``PromptingSynapse``; both are generated into one module and served by one axon.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from pydantic import ValidationError

from synapsegen.runtime import UNSET, Synapse
from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import Dendrite

from ._generated import MINER, VALIDATOR, example_module, generate_package


@pytest.fixture(scope="module")
def prompting(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return example_module(tmp_path_factory.mktemp("plain"), "prompting")


def test_a_synapse_without_stream_is_a_plain_synapse(prompting: ModuleType) -> None:
    cls = prompting.AvailabilitySynapse
    assert issubclass(cls, Synapse)
    assert not hasattr(cls, "process_streaming_response")
    assert cls.required_hash_fields == ("tasks",)
    synapse = cls(tasks=["chat"])
    assert synapse.available == {} and synapse.load == 0
    assert synapse.deserialize() == {}


def test_respond_sets_the_given_fields_and_keeps_the_others(prompting: ModuleType) -> None:
    synapse = prompting.AvailabilitySynapse(tasks=["chat"])
    assert synapse.respond(load=0.5) is synapse
    assert synapse.load == 0.5 and synapse.available == {}
    synapse.respond(available={"chat": True})
    assert synapse.available == {"chat": True} and synapse.load == 0.5
    synapse.respond(available=UNSET, load=UNSET)
    assert synapse.available == {"chat": True} and synapse.load == 0.5


def test_respond_validates_together_and_sets_nothing_on_failure(prompting: ModuleType) -> None:
    synapse = prompting.AvailabilitySynapse(tasks=["chat"])
    with pytest.raises(ValidationError) as caught:
        synapse.respond(available={"chat": True}, load=2)  # load is at most 1
    assert "load" in str(caught.value)
    assert synapse.available == {} and synapse.load == 0  # not half filled


def _attach(axon: Axon, forward: Any, cls: type) -> None:
    forward.__annotations__ = {"synapse": cls, "return": cls}
    axon.attach(forward)


async def test_plain_and_streaming_synapses_on_one_axon(prompting: ModuleType) -> None:
    availability, prompt = prompting.AvailabilitySynapse, prompting.PromptingSynapse

    async def answer_availability(synapse: Any) -> Any:
        return synapse.respond(
            available={task: task == "chat" for task in synapse.tasks}, load=0.25
        )

    async def answer_prompt(synapse: Any) -> Any:
        async def tokens() -> Any:
            for word in ("Grüß ", "dich, ", "🌍"):
                yield word

        return synapse.stream_response(tokens())

    axon = Axon(MINER, port=0)
    _attach(axon, answer_availability, availability)
    _attach(axon, answer_prompt, prompt)
    async with axon, Dendrite(VALIDATOR) as client:
        available = await client.call(axon, availability(tasks=["chat", "translate"]), timeout=10)
        filled = await client.call(
            axon, availability(tasks=["chat"]), timeout=10, deserialize=False
        )
        items = [
            item
            async for item in client.call_stream(
                axon, prompt(messages=["hi"]), timeout=10, deserialize=False
            )
        ]
    assert available == {"chat": True, "translate": False}
    assert filled.is_success and filled.load == 0.25 and filled.tasks == ["chat"]
    assert "".join(items[:-1]) == "Grüß dich, 🌍" == items[-1].completion
    assert items[-1].stream_complete


async def test_a_response_the_declared_type_rejects_fails_the_call_cleanly(
    prompting: ModuleType,
) -> None:
    availability = prompting.AvailabilitySynapse

    async def answer(synapse: Any) -> Any:
        synapse.respond(load=3)  # out of range: ValidationError in the miner's handler
        return synapse

    axon = Axon(MINER, port=0)
    _attach(axon, answer, availability)
    async with axon, Dendrite(VALIDATOR) as client:
        result = await client.call(
            axon, availability(tasks=["chat"]), timeout=10, deserialize=False
        )
    assert not result.is_success
    assert result.dendrite.status_code == 500
    assert result.load == 0


def test_a_package_of_plain_synapses_says_so(tmp_path: Any) -> None:
    schema = tmp_path / "ping.yaml"
    schema.write_text(
        "version: 1\nsynapses:\n  Ping:\n"
        "    request: {n: {type: integer, default: 0, hash: true}}\n",
        encoding="utf-8",
    )
    files = generate_package([schema], tmp_path, tmp_path / "plain_only")
    assert '"""Generated synapses."""' in files["__init__.py"]
    assert '"""Synapses from ping.yaml."""' in files["ping.py"]


async def test_the_schemas_timeout_is_the_calls_default(prompting: ModuleType) -> None:
    """`timeout: 2.5` in the schema: the class default, which the Dendrite sends when the call
    gives none (bittensor's Dendrite always sends its own 12)."""
    availability = prompting.AvailabilitySynapse
    assert availability().timeout == 2.5 and prompting.PromptingSynapse().timeout == 30.0
    seen: list[float] = []

    async def answer(synapse: Any) -> Any:
        seen.append(synapse.timeout)
        return synapse

    axon = Axon(MINER, port=0)
    _attach(axon, answer, availability)
    async with axon, Dendrite(VALIDATOR) as client:
        await client.call(axon, availability())
        await client.call(axon, availability(), timeout=7)
        await client.forward([axon], availability())
    assert seen == [2.5, 7.0, 2.5]


async def test_a_header_field_reaches_the_miners_hooks(prompting: ModuleType) -> None:
    """`header: true`: the request headers carry the value (bittensor's placeholders do not),
    so a blacklist hook, which runs before the body is read, can route on it."""
    prompt = prompting.PromptingSynapse
    headers = prompt(model="big").to_headers()
    assert prompt.parse_headers_to_inputs(headers)["model"] == "big"
    assert "bt_header_input_obj_seed" not in headers  # only the header fields (and required)
    seen: list[str] = []

    async def blacklist(synapse: Any) -> tuple[bool, str]:
        seen.append(synapse.model)
        return synapse.model == "banned", "no such model here"

    async def answer(synapse: Any) -> Any:
        async def tokens() -> Any:
            yield synapse.model

        return synapse.stream_response(tokens())

    answer.__annotations__ = {"synapse": prompt, "return": Any}
    blacklist.__annotations__ = {"synapse": prompt, "return": tuple[bool, str]}
    axon = Axon(MINER, port=0)
    axon.attach(answer, blacklist_fn=blacklist)
    async with axon, Dendrite(VALIDATOR) as client:
        served = [i async for i in client.call_stream(axon, prompt(model="big"), deserialize=False)]
        refused = [
            i async for i in client.call_stream(axon, prompt(model="banned"), deserialize=False)
        ]
    assert seen == ["big", "banned"]
    assert served[-1].completion == "big" and served[-1].is_success
    assert refused[-1].is_blacklist
