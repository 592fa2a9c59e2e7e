"""A real bittensor 10 Axon serving the interop synapses on 127.0.0.1 (run in the bittensor venv).

Usage: python axon_server.py [--batch-count K] [--send-interval SECONDS]

Prints one JSON line {"ready": port, "hotkey": ss58} once it serves, then serves until its
standard input closes (or it is killed). Behaviour, all decided by the request:
- InteropStream: streams common.token_bytes(prompt, n_tokens), K pieces per ASGI send, sleeping
  SECONDS between sends (so that the client reads the pieces as separate chunks);
- InteropEcho: answers with completion = common.expected_text(prompt, n_tokens);
- prompt == common.RAISE_PROMPT: the forward function raises (HTTP 500);
- prompt == common.MIDSTREAM_FAIL_PROMPT: the token streamer raises after
  common.MIDSTREAM_SENT_PIECES pieces (one per send);
- a dendrite hotkey in common.BLACKLISTED_HOTKEYS: blacklisted (HTTP 403).
"""

import argparse
import asyncio
import sys
import time
import typing

from bootstrap import LOOPBACK, bt, emit, log, wallet_for
from bt_synapses import InteropEcho, InteropStream
from common import (
    MIDSTREAM_FAIL_PROMPT,
    MIDSTREAM_SENT_PIECES,
    batch_sends,
    blacklist_verdict,
    echo_completion,
    raise_if_asked,
    token_bytes,
)

READY_TIMEOUT_S = 20.0


def build_axon(batch_count: int, send_interval: float) -> "bt.Axon":
    """Build (not start) the axon with the interop handlers attached."""

    async def forward_stream(synapse: InteropStream):  # noqa: ANN202 (a BTStreamingResponse)
        raise_if_asked(synapse.prompt)
        fail_midstream = synapse.prompt == MIDSTREAM_FAIL_PROMPT
        pieces = token_bytes(synapse.prompt, synapse.n_tokens)
        if fail_midstream:
            sends = batch_sends(pieces[:MIDSTREAM_SENT_PIECES], 1)
        else:
            sends = batch_sends(pieces, batch_count)

        async def streamer(send: typing.Any) -> None:
            for index, body in enumerate(sends):
                if index and send_interval > 0:
                    await asyncio.sleep(send_interval)
                await send({"type": "http.response.body", "body": body, "more_body": True})
            if fail_midstream:
                raise RuntimeError("token streamer failed on purpose")

        return synapse.create_streaming_response(streamer)

    def forward_echo(synapse: InteropEcho) -> InteropEcho:
        synapse.completion = echo_completion(synapse.prompt, synapse.n_tokens)
        return synapse

    # bittensor compares these annotations with typing.Tuple[bool, str] exactly.
    def blacklist_stream(synapse: InteropStream) -> typing.Tuple[bool, str]:  # noqa: UP006
        return blacklist_verdict(synapse.dendrite.hotkey)

    def blacklist_echo(synapse: InteropEcho) -> typing.Tuple[bool, str]:  # noqa: UP006
        return blacklist_verdict(synapse.dendrite.hotkey)

    axon = bt.Axon(wallet=wallet_for("miner"), ip=LOOPBACK, external_ip=LOOPBACK, port=8091)
    axon.attach(forward_fn=forward_stream, blacklist_fn=blacklist_stream)
    axon.attach(forward_fn=forward_echo, blacklist_fn=blacklist_echo)
    # bittensor hard-codes host="0.0.0.0"; bind loopback only, on a free port chosen by the OS.
    axon.fast_config.host = LOOPBACK
    axon.fast_config.port = 0
    return axon


def bound_port(axon: "bt.Axon") -> int:
    """Wait until uvicorn listens and return the port the OS gave it."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    server = axon.fast_server
    while not (server.started and getattr(server, "servers", None)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"bittensor axon did not start within {READY_TIMEOUT_S} s")
        time.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-count", type=int, default=1)
    parser.add_argument("--send-interval", type=float, default=0.0)
    args = parser.parse_args()
    axon = build_axon(args.batch_count, args.send_interval)
    axon.start()
    port = bound_port(axon)
    emit({"ready": port, "hotkey": axon.wallet.hotkey.ss58_address})
    log(f"bittensor axon {bt.__version__} serving on {LOOPBACK}:{port}")
    sys.stdin.read()  # serve until the test process closes our stdin
    axon.stop()


if __name__ == "__main__":
    main()
