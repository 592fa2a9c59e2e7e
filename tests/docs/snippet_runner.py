"""Run one block of the docs inside a context: ``python -m tests.docs.snippet_runner CONTEXT FILE``.

Run from a folder holding the ``synapses`` package generated from schemas/. Each context gives
the block the names it assumes, runs it as written (top-level ``await``/``async for`` allowed, as
inside the ``async`` function the doc places it in) and then checks what it did: a miner block's
``forward`` is served and called, a validator block calls a real miner. Prints ``ran`` at the end.
Axons bind 127.0.0.1 on free ports.

No ``from __future__ import annotations``: the Axon reads a forward function's parameter
annotation, and the classes here are imported inside the contexts.
"""

import ast
import asyncio
import inspect
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

from bittensor_wallet import Keypair, Wallet

from synapsegen.runtime import Axon, AxonTarget, BTStreamingResponse, Dendrite

MINER = Keypair.create_from_seed("0x" + "51" * 32)
VALIDATOR = Keypair.create_from_seed("0x" + "52" * 32)
Namespace = dict[str, Any]


def target(axon: Axon) -> AxonTarget:
    return AxonTarget(ip="127.0.0.1", port=axon.port, hotkey=axon.hotkey)


@asynccontextmanager
async def chat_miner() -> AsyncIterator[Namespace]:
    """docs/generated-code.md, the miner: ``model`` is a stand-in that echoes the last message;
    the block's ``forward`` is served and streamed from."""
    from synapses.chat import ChatCompletion, Message

    class Model:
        async def generate(self, messages: list[Message]) -> AsyncIterator[str]:
            for word in messages[-1].content.split(" "):
                yield word + " "

    namespace: Namespace = {"model": Model()}
    yield namespace
    synapse = ChatCompletion(messages=[Message(role="user", content="Grüß dich, 世界 🌍")])
    async with Axon(MINER).attach(namespace["forward"]) as axon, Dendrite(VALIDATOR) as dendrite:
        call = dendrite.call_stream(target(axon), synapse, timeout=10.0, deserialize=False)
        items = [item async for item in call]
    final = items[-1]
    assert final.dendrite.status_code == 200, final.dendrite
    assert final.completion == "Grüß dich, 世界 🌍 " == "".join(items[:-1]), items


@asynccontextmanager
async def chat_validator() -> AsyncIterator[Namespace]:
    """docs/generated-code.md, the validator: ``dendrite`` and ``axon`` (a miner that answers
    "You said: ..."); afterwards ``final`` must be its filled-in answer."""
    from synapses.chat import ChatCompletion, Message

    async def forward(synapse: ChatCompletion) -> BTStreamingResponse:
        async def tokens() -> AsyncIterator[str]:
            yield "You said: "
            yield synapse.messages[-1].content

        return synapse.stream_response(tokens())

    async with Axon(MINER).attach(forward) as axon, Dendrite(VALIDATOR) as dendrite:
        namespace: Namespace = {"dendrite": dendrite, "axon": target(axon)}
        namespace |= {"ChatCompletion": ChatCompletion, "Message": Message}
        yield namespace
    final = namespace["final"]
    assert isinstance(final, ChatCompletion) and final.dendrite.status_code == 200, final
    assert final.completion == "You said: Grüß dich", final.completion


@asynccontextmanager
async def fan_out() -> AsyncIterator[Namespace]:
    """docs/runtime.md, fan-out: ``dendrite``, four ``axons`` of which one answers too late, and
    an AvailabilitySynapse; afterwards ``responses`` and ``scored`` must say so."""
    from synapses.prompting import AvailabilitySynapse

    def forward(synapse: AvailabilitySynapse) -> AvailabilitySynapse:
        return synapse.respond(available=dict.fromkeys(synapse.tasks, True), load=0.5)

    async def late(synapse: AvailabilitySynapse) -> AvailabilitySynapse:
        await asyncio.sleep(3)
        return forward(synapse)

    async with AsyncExitStack() as stack:
        axons = [Axon(MINER, shutdown_timeout=0.5).attach(f) for f in (forward,) * 3 + (late,)]
        for axon in axons:
            await stack.enter_async_context(axon)
        dendrite = await stack.enter_async_context(Dendrite(VALIDATOR))
        namespace: Namespace = {"dendrite": dendrite, "axons": [target(a) for a in axons]}
        namespace["synapse"] = AvailabilitySynapse(tasks=["chat"])
        yield namespace
    responses, scored = namespace["responses"], namespace["scored"]
    assert [r.is_success for r in responses] == [True, True, True, False], responses
    assert responses[3].dendrite.status_code == 408, responses[3].dendrite
    assert scored == responses[:3] and all(r.available == {"chat": True} for r in scored)


@asynccontextmanager
async def schema_check() -> AsyncIterator[Namespace]:
    """docs/runtime.md, the schema check: ``keypair``, ``messages`` and ``axon``, a miner that
    serves ChatCompletion with another schema hash (its next version); afterwards ``synapse``
    must be refused with 409 without reaching the miner."""
    from synapses.chat import ChatCompletion, Message

    served: list[str] = []
    newer = "sha256:" + "5d" * 32

    class NextChatCompletion(ChatCompletion):
        schema_hash: ClassVar[str] = newer

    NextChatCompletion.__name__ = "ChatCompletion"  # the same route, the next version

    def forward(synapse: NextChatCompletion) -> NextChatCompletion:
        served.append(synapse.messages[-1].content)
        return synapse

    async with Axon(MINER).attach(forward) as axon:
        namespace: Namespace = {"keypair": VALIDATOR, "axon": target(axon)}
        namespace["messages"] = [Message(role="user", content="Grüß dich")]
        yield namespace
    synapse = namespace["synapse"]
    assert synapse.dendrite.status_code == 409, synapse.dendrite
    assert synapse.dendrite.status_message == (
        f"schema mismatch: the miner serves ChatCompletion {newer} but this validator has "
        f"{ChatCompletion.schema_hash}"
    )
    assert served == []


FRAMING_IMPORTS = """\
from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from synapsegen.codegen.ir import FramingIR
from synapsegen.kinds.base import Framing, Options
"""


@asynccontextmanager
async def framing_module() -> AsyncIterator[Namespace]:
    """docs/architecture.md: the body of a new generator/kinds/framings/ module, after the
    imports such a module has; the kind it defines must be a complete Framing."""
    from synapsegen.kinds.base import Framing

    namespace: Namespace = {}
    exec(FRAMING_IMPORTS, namespace)
    yield namespace
    length, options, ir = namespace["LENGTH"], namespace["LengthOptions"], namespace["LengthIR"]
    assert isinstance(length, Framing) and length.name == "length"
    assert options().prefix_bytes == 4 and options.model_fields["prefix_bytes"].metadata
    assert ir.__dataclass_params__.frozen  # type: ignore[attr-defined]


@asynccontextmanager
async def transports_miner() -> AsyncIterator[Namespace]:
    """docs/transports.md, serving: a wallet, ``answer`` (words of the last message), the
    classes; the block's ``axon`` is then asked over each transport."""
    from synapses.chat import ChatCompletion, Message
    from synapses.prompting import AvailabilitySynapse

    def answer(messages: list[Message]) -> list[str]:
        return [word + " " for word in messages[-1].content.split(" ")]

    with tempfile.TemporaryDirectory() as folder:
        wallet = Wallet(name="miner", hotkey="default", path=folder)
        wallet.create_if_non_existent(
            coldkey_use_password=False, hotkey_use_password=False, suppress=True
        )
        namespace: Namespace = {"wallet": wallet, "answer": answer, "Axon": Axon}
        namespace |= {"AsyncIterator": AsyncIterator, "ChatCompletion": ChatCompletion}
        namespace["AvailabilitySynapse"] = AvailabilitySynapse
        yield namespace
        chat = ChatCompletion(messages=[Message(role="user", content="Grüß dich")])
        async with namespace["axon"] as axon:
            for transport in ("bittensor10", "btauth/1", "epistula/2"):
                async with Dendrite(VALIDATOR, transport=transport) as dendrite:
                    ask = AvailabilitySynapse(tasks=["chat"])
                    available = await dendrite.call(target(axon), ask, deserialize=False)
                    assert available.dendrite.status_code == 200, (transport, available.dendrite)
                    assert available.available == {"chat": True}, available
                    call = dendrite.call_stream(target(axon), chat, deserialize=False)
                    final = [item async for item in call][-1]
                    # chat is served on the default transports, which exclude epistula/2
                    status = 401 if transport == "epistula/2" else 200
                    assert final.dendrite.status_code == status, (transport, final.dendrite)
                    if status == 200:
                        assert final.completion == "Grüß dich ", final.completion


CONTEXTS: dict[str, Callable[[], AbstractAsyncContextManager[Namespace]]] = {
    "chat-miner": chat_miner,
    "chat-validator": chat_validator,
    "fan-out": fan_out,
    "schema-check": schema_check,
    "framing-module": framing_module,
    "transports-miner": transports_miner,
}


async def run(context: str, path: Path) -> None:
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(path.read_text(encoding="utf-8"), str(path), "exec", flags=flags)
    async with CONTEXTS[context]() as namespace:
        namespace.setdefault("__name__", "__snippet__")
        result = eval(code, namespace)  # a coroutine when the block awaits at top level
        if inspect.iscoroutine(result):
            await result


if __name__ == "__main__":
    sys.path.insert(0, ".")  # the generated synapses package
    asyncio.run(run(sys.argv[1], Path(sys.argv[2])))
    print("ran")
