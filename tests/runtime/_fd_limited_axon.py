"""An Axon in its own process at a lowered open-file limit, for tests/runtime/test_axon_fd_limit.py.

``python -m tests.runtime._fd_limited_axon NOFILE``: lowers ``RLIMIT_NOFILE`` to NOFILE (before the
Axon is built, so ``max_connections="auto"`` follows it), serves ``Echo`` on a free 127.0.0.1 port
with the Axon's default connection limits, prints ``{"port": ..., "hotkey": ...}`` and serves until
its stdin closes.
"""

from __future__ import annotations

import json
import resource
import sys

from bittensor_wallet import Keypair

from synapsegen.runtime import Axon
from synapsegen.runtime.synapse import Synapse

MINER = Keypair.create_from_seed("0x" + "33" * 32)


class Echo(Synapse):
    """Answers with its text reversed."""

    text: str = ""


def echo(synapse: Echo) -> Echo:
    synapse.text = synapse.text[::-1]
    return synapse


def main(nofile: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))
    axon = Axon(MINER).attach(echo).start()
    try:
        print(json.dumps({"port": axon.port, "hotkey": axon.hotkey}), flush=True)
        for _ in sys.stdin:
            pass
    finally:
        axon.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
