"""A real bittensor 10 Axon serving a synapse class generated with ``--runtime bittensor``.

Usage: python generated_axon.py --module PACKAGE.MODULE --synapse CLASS  (PYTHONPATH holds the
generated package; synapsegen is installed in this venv, because the generated module imports
its runtime helpers).

A streaming class is answered with ``synapse.stream_response(tokens)`` (the generated server
helper), where tokens are common.chat_tokens(last message content, max_tokens); a plain one with
``synapse.respond(**common.availability_answer(synapse.tasks))``. Prints
{"ready": port, "hotkey": ss58} once it serves; serves until stdin closes.
"""

import argparse
import importlib
import sys
from collections.abc import AsyncIterator

from axon_server import bound_port
from bootstrap import LOOPBACK, bt, emit, log, wallet_for
from common import availability_answer, chat_tokens


def build_axon(synapse_class: type) -> "bt.Axon":
    """Build (not start) an axon streaming chat tokens for ``synapse_class``."""

    async def tokens(content: str, max_tokens: int) -> AsyncIterator[str]:
        for token in chat_tokens(content, max_tokens):
            yield token

    # The annotation is the class object itself (bittensor's attach reads it).
    async def forward(synapse: synapse_class):  # type: ignore[valid-type]  # noqa: ANN202
        content = synapse.messages[-1].content if synapse.messages else ""
        return synapse.stream_response(tokens(content, synapse.max_tokens))

    async def answer(synapse: synapse_class):  # type: ignore[valid-type]  # noqa: ANN202
        return synapse.respond(**availability_answer(synapse.tasks))

    axon = bt.Axon(wallet=wallet_for("miner"), ip=LOOPBACK, external_ip=LOOPBACK, port=8091)
    axon.attach(forward_fn=forward if issubclass(synapse_class, bt.StreamingSynapse) else answer)
    axon.fast_config.host = LOOPBACK
    axon.fast_config.port = 0
    return axon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--module", required=True)
    parser.add_argument("--synapse", required=True)
    args = parser.parse_args()
    synapse_class = getattr(importlib.import_module(args.module), args.synapse)
    axon = build_axon(synapse_class)
    axon.start()
    port = bound_port(axon)
    emit({"ready": port, "hotkey": axon.wallet.hotkey.ss58_address})
    log(f"bittensor axon {bt.__version__} serving generated {args.synapse} on {LOOPBACK}:{port}")
    sys.stdin.read()
    axon.stop()


if __name__ == "__main__":
    main()
