"""A real bittensor 10 Axon serving synapse classes generated with ``--runtime bittensor``.

Usage: python generated_axon.py --serve PACKAGE.MODULE:CLASS [--serve ...]  (PYTHONPATH holds
the generated package; synapsegen is installed in this venv, because the generated modules import
its runtime helpers).

A streaming class is answered with ``synapse.stream_response(tokens)`` (the generated server
helper), where tokens are common.chat_tokens(last message content, max_tokens); a plain one with
``synapse.respond(**common.availability_answer(synapse.tasks))``. Prints
{"ready": port, "hotkey": ss58} once it serves; serves until stdin closes.
"""

import argparse
import importlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from axon_server import bound_port
from bootstrap import LOOPBACK, bt, emit, log, wallet_for
from common import availability_answer, chat_tokens


def forward_for(synapse_class: type) -> Callable[..., Any]:
    """The miner's answer for ``synapse_class``, annotated with the class (bittensor reads it)."""

    async def tokens(content: str, max_tokens: int) -> AsyncIterator[str]:
        for token in chat_tokens(content, max_tokens):
            yield token

    async def stream(synapse: synapse_class):  # type: ignore[valid-type]  # noqa: ANN202
        content = synapse.messages[-1].content if synapse.messages else ""
        return synapse.stream_response(tokens(content, synapse.max_tokens))

    async def answer(synapse: synapse_class):  # type: ignore[valid-type]  # noqa: ANN202
        return synapse.respond(**availability_answer(synapse.tasks))

    return stream if issubclass(synapse_class, bt.StreamingSynapse) else answer


def build_axon(synapse_classes: list[type]) -> "bt.Axon":
    """Build (not start) an axon answering each of ``synapse_classes``."""
    axon = bt.Axon(wallet=wallet_for("miner"), ip=LOOPBACK, external_ip=LOOPBACK, port=8091)
    for synapse_class in synapse_classes:
        axon.attach(forward_fn=forward_for(synapse_class))
    axon.fast_config.host = LOOPBACK
    axon.fast_config.port = 0
    return axon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--serve", action="append", required=True, metavar="MODULE:CLASS")
    args = parser.parse_args()
    classes = []
    for target in args.serve:
        module, _, name = target.partition(":")
        classes.append(getattr(importlib.import_module(module), name))
    axon = build_axon(classes)
    axon.start()
    port = bound_port(axon)
    emit({"ready": port, "hotkey": axon.wallet.hotkey.ss58_address})
    served = ", ".join(cls.__name__ for cls in classes)
    log(f"bittensor axon {bt.__version__} serving generated {served} on {LOOPBACK}:{port}")
    sys.stdin.read()
    axon.stop()


if __name__ == "__main__":
    main()
