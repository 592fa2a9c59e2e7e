"""Fan-out policies of ``Dendrite.forward`` (issue 10, item 7), on real axons over 127.0.0.1.

Several of our Axons run in the test's event loop, each answering at once, after a delay, never
(until the test ends), or not listening at all. Each policy must return what arrived and cancel
the rest cleanly: cancelled requests are reported (408, the policy named), no request task or
lane outlives ``forward``, and nothing warns about unclosed sessions or unawaited coroutines.
No assertion is about speed.
"""

from __future__ import annotations

import asyncio
import enum
import gc
import socket
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, ClassVar

import pytest
from bittensor_wallet import Keypair

from synapsegen.runtime.axon import Axon
from synapsegen.runtime.dendrite import (
    AxonTarget,
    Deadline,
    Dendrite,
    FirstK,
    Quorum,
    WaitAll,
    _FanOut,
)
from synapsegen.runtime.synapse import StreamingSynapse

from ._dendrite_helpers import TextPrompt

VALIDATOR = Keypair.create_from_seed("0x" + "11" * 32)
MINER = Keypair.create_from_seed("0x" + "22" * 32)
NEVER = float("inf")  # a delay: the axon answers only when the test ends
CALL_TIMEOUT = 30.0  # per request; far beyond what any test waits, so only policies end calls


@asynccontextmanager
async def axons(*delays: float) -> AsyncIterator[list[Any]]:
    """One running Axon per delay, answering ``TextPrompt`` with its index after that delay; a
    ``None`` delay is a target nobody listens on (connection refused)."""
    release = asyncio.Event()

    def answering_after(delay: float, index: int) -> Callable[[TextPrompt], Awaitable[TextPrompt]]:
        async def forward(synapse: TextPrompt) -> TextPrompt:
            if delay == NEVER:
                await release.wait()
            elif delay:
                await asyncio.sleep(delay)
            synapse.completion = f"axon{index}"
            return synapse

        return forward

    async with AsyncExitStack() as stack:
        targets: list[Any] = []
        for index, delay in enumerate(delays):
            if delay is None:
                targets.append(AxonTarget("127.0.0.1", refused_port(), MINER.ss58_address))
                continue
            axon = Axon(MINER, ip="127.0.0.1", port=0).attach(answering_after(delay, index))
            targets.append(await stack.enter_async_context(axon))
        try:
            yield targets
        finally:
            release.set()  # let never-answering handlers end, so the axons stop at once
            for target in targets:
                if isinstance(target, Axon):
                    target.stop()  # all signalled together; the exit stack then awaits each


def refused_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request_tasks_left() -> list[asyncio.Task[Any]]:
    """The fan-out's request tasks still alive (each runs ``_FanOut.run``)."""
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == _FanOut.run.__qualname__
    ]


async def fan_out(targets: list[Any], **kwargs: Any) -> list[TextPrompt]:
    """``forward`` with deserialize=False under ``kwargs``; checks it left nothing running and
    that closing the Dendrite leaves nothing to warn about."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with Dendrite(VALIDATOR) as client:
            results = await client.forward(
                targets, TextPrompt(prompt="hi"), CALL_TIMEOUT, deserialize=False, **kwargs
            )
            assert request_tasks_left() == []
            assert client._lanes._in_flight == {}  # every lane went back
        del client
        gc.collect()
    assert [str(w.message) for w in caught] == []
    return results


def replies(results: list[TextPrompt]) -> list[str]:
    return [synapse.completion for synapse in results]


def assert_cancelled(synapse: TextPrompt, policy: str, reason: str) -> None:
    assert synapse.is_timeout and synapse.completion == ""
    assert synapse.dendrite.status_message == (
        f"Request cancelled by fan-out policy {policy}: {reason}"
    )
    assert synapse.dendrite.process_time is not None


# ------------------------------------------------------------------------------ policies


async def test_wait_all_is_the_default_and_waits_for_the_slow() -> None:
    async with axons(0, 0.2, 0.1) as targets:
        default = await fan_out(targets)
        explicit = await fan_out(targets, policy=WaitAll())
    for results in (default, explicit):
        assert replies(results) == ["axon0", "axon1", "axon2"]
        assert all(synapse.is_success for synapse in results)


async def test_first_k_returns_the_first_successes_and_cancels_the_rest() -> None:
    async with axons(NEVER, 0, 0, NEVER, 0, 0.2) as targets:
        results = await fan_out(targets, policy=FirstK(3))
    assert replies(results) == ["", "axon1", "axon2", "", "axon4", ""]
    assert [synapse.is_success for synapse in results] == [False, True, True, False, True, False]
    for index in (0, 3, 5):
        assert_cancelled(
            results[index], "FirstK(k=3, deadline=None)", "3 successful answers were enough"
        )


async def test_first_k_does_not_count_failures_and_returns_when_all_ended() -> None:
    async with axons(None, 0.1, None) as targets:
        results = await fan_out(targets, policy=FirstK(2))
    # Two refused connections cannot make two successes: every request ran to its end.
    assert [synapse.dendrite.status_code for synapse in results] == [503, 200, 503]
    assert replies(results) == ["", "axon1", ""]


async def test_quorum_waits_for_its_share_of_successes() -> None:
    async with axons(None, 0, 0.2, NEVER) as targets:
        results = await fan_out(targets, policy=Quorum(0.5))
    # Half of 4 is 2 successes: the refused one does not count, so the slow one is waited for.
    assert [synapse.dendrite.status_code for synapse in results] == [503, 200, 200, 408]
    assert replies(results) == ["", "axon1", "axon2", ""]
    assert_cancelled(
        results[3], "Quorum(fraction=0.5, deadline=None)", "2 successful answers were enough"
    )


async def test_deadline_returns_what_arrived_and_cancels_the_rest() -> None:
    async with axons(0, NEVER, NEVER) as targets:
        results = await fan_out(targets, policy=Deadline(0.5))
    assert replies(results) == ["axon0", "", ""]
    for synapse in results[1:]:
        assert_cancelled(
            synapse, "Deadline(seconds=0.5)", "the fan-out deadline of 0.5 seconds passed"
        )


async def test_first_k_with_a_deadline_stops_at_the_deadline() -> None:
    async with axons(NEVER, 0, NEVER) as targets:
        results = await fan_out(targets, policy=FirstK(2, deadline=0.3))
    assert replies(results) == ["", "axon1", ""]
    assert_cancelled(
        results[0], "FirstK(k=2, deadline=0.3)", "the fan-out deadline of 0.3 seconds passed"
    )


async def test_deserialized_results_of_cancelled_requests() -> None:
    async with axons(0, NEVER) as targets, Dendrite(VALIDATOR) as client:
        results = await client.forward(targets, TextPrompt(prompt="hi"), policy=FirstK(1))
    assert results == ["axon0", ""]  # one entry per axon, in order, deserialize() of each


async def test_cancelling_forward_cancels_its_requests() -> None:
    async with axons(NEVER, NEVER) as targets, Dendrite(VALIDATOR) as client:
        pending = asyncio.create_task(client.forward(targets, TextPrompt(prompt="hi")))
        while not client._lanes._in_flight:  # bounded by the requests starting at all
            await asyncio.sleep(0.01)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        assert request_tasks_left() == []
        assert client._lanes._in_flight == {}


async def test_a_request_that_cannot_be_signed_holds_no_one_back() -> None:
    class Color(enum.Enum):
        RED = "red"

    class Colored(TextPrompt):
        color: Color  # required, and no empty placeholder can be built: to_headers() raises

    async with axons(0, 0) as targets, Dendrite(VALIDATOR) as client:
        template = Colored(prompt="hi", color=Color.RED)
        sent = client.forward(targets, template, deserialize=False, policy=FirstK(1))
        results = await asyncio.wait_for(sent, 10.0)  # would wait forever for a missing arrival
    assert [synapse.dendrite.status_code for synapse in results] == [422, 422]


async def test_the_kth_success_cancels_the_others_at_once() -> None:
    # Three answers complete in the same event-loop turn. The second one satisfies FirstK(2)
    # and cancels the rest in that step: the third is not merged only to be discarded, and
    # the reason names the k-th success.
    synapses = [TextPrompt(prompt="x") for _ in range(4)]

    async def exchange(synapse: TextPrompt, answers: bool) -> AsyncIterator[None]:
        if not answers:
            await asyncio.Event().wait()  # until cancelled
        synapse.dendrite.status_code = 200
        return
        yield  # an async generator, like Dendrite._exchange

    policy = FirstK(2)
    fan_out = _FanOut(policy, len(synapses))
    fan_out.tasks = [
        asyncio.create_task(fan_out.run(exchange(s, i < 3), s)) for i, s in enumerate(synapses)
    ]
    await asyncio.wait_for(fan_out.wait(), 5.0)
    assert fan_out.reason == "2 successful answers were enough"
    assert [task.cancelled() for task in fan_out.tasks] == [False, False, True, True]
    assert [s.dendrite.status_code for s in synapses] == [200, 200, None, None]


class TimedPrompt(TextPrompt):
    """The request's timeout is hashed, so copies signed with another timeout than the
    template's have another body hash than the template."""

    required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt", "timeout")


async def test_each_copy_is_signed_over_its_own_hash_when_signing_changes_it() -> None:
    async def forward(synapse: TimedPrompt) -> TimedPrompt:
        synapse.completion = f"{synapse.timeout}"
        return synapse

    async with AsyncExitStack() as stack:
        targets = [
            await stack.enter_async_context(Axon(MINER, ip="127.0.0.1", port=0).attach(forward))
            for _ in range(2)
        ]
        template = TimedPrompt(prompt="hi")  # timeout 12 (the default); sent with 7.5
        async with Dendrite(VALIDATOR) as client:
            results = await client.forward(targets, template, 7.5, deserialize=False)
        for target in targets:
            target.stop()
    # The axons verified each signature against the body hash of what they received.
    assert [synapse.dendrite.status_code for synapse in results] == [200, 200]
    assert replies(results) == ["7.5", "7.5"]


# ------------------------------------------------------------------------------ timing


class SlowSigner:
    """The validator key, taking ``seconds`` (blocking, as CPU work does) per signature."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ss58_address = VALIDATOR.ss58_address
        self.signed_at: list[float] = []

    def sign(self, data: str) -> bytes:
        time.sleep(self.seconds)
        self.signed_at.append(time.monotonic())
        return bytes(VALIDATOR.sign(data))


async def test_process_time_excludes_the_signing_of_other_requests() -> None:
    signer = SlowSigner(0.02)
    async with axons(0, 0, 0, 0, 0, 0) as targets, Dendrite(signer) as client:
        results = await client.forward(targets, TextPrompt(prompt="hi"), deserialize=False)
        ended = time.monotonic()
    assert all(synapse.is_success for synapse in results)
    assert len(signer.signed_at) == len(targets)
    # Every request started after the last one was signed (they are all signed first), so no
    # process_time spans another request's signing.
    last_signed = max(signer.signed_at)
    for synapse in results:
        assert synapse.dendrite.process_time <= ended - last_signed


# ------------------------------------------------------------------------------ the API


def test_policies_validate_their_arguments() -> None:
    for bad in (lambda: FirstK(0), lambda: Quorum(0), lambda: Quorum(1.5)):
        with pytest.raises(ValueError):
            bad()
    for bad in (lambda: Deadline(0), lambda: Deadline(float("inf")), lambda: WaitAll(-1)):
        with pytest.raises(ValueError):
            bad()
    with pytest.raises(TypeError):
        FirstK(True)
    with pytest.raises(TypeError):
        Quorum("half")  # type: ignore[arg-type]
    assert Quorum(0.7).successes_needed(10) == 7  # not 8: 0.7 * 10 is 7.000000000000001
    assert Quorum(0.5).successes_needed(7) == 4
    assert FirstK(5).successes_needed(3) == 3
    assert Deadline(2.0).deadline == 2.0 and FirstK(2, deadline=1.5).deadline == 1.5


class Stream(StreamingSynapse):
    async def process_streaming_response(self, response: Any) -> AsyncIterator[Any]:
        yield b""

    def extract_response_json(self, response: Any) -> dict[str, Any]:
        return {}


async def test_policies_are_refused_where_they_cannot_apply() -> None:
    target = AxonTarget("127.0.0.1", refused_port(), MINER.ss58_address)
    prompt = TextPrompt(prompt="x")
    async with Dendrite(VALIDATOR) as client:
        with pytest.raises(ValueError, match="non-streaming"):
            await client.forward([target], Stream(), policy=FirstK(1))
        with pytest.raises(ValueError, match="run_async=True"):
            await client.forward([target], prompt, run_async=False, policy=FirstK(1))
        with pytest.raises(TypeError, match="FanOutPolicy"):
            await client.forward([target], prompt, policy=3)  # type: ignore[arg-type]
        assert await client.forward([target], prompt, policy=WaitAll()) == [""]
