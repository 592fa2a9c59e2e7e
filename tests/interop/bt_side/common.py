"""Pure-Python facts shared by both sides of the interop tests (no bittensor, no synapsegen).

This module is imported by the test process (as ``tests.interop.bt_side.common``) and by the
scripts running inside the bittensor venv (as ``common``, from the scripts' own folder), so both
sides agree on keys, class names and the exact bytes a stream carries.
"""

from __future__ import annotations

from typing import Any, ClassVar

# Fixed test keys, copied from shared/vectors/signatures.json (public test keys, never real ones).
VALIDATOR_SEED = "0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
VALIDATOR_SS58 = "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"
MINER_SEED = "0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
MINER_SS58 = "5HB7kpn92RS7uF9uWn8bXSvPVKFPg8kPUFDd5sbveGjX6Dbi"
# The "other" key is the one every interop axon blacklists.
OTHER_SEED = "0x1111111111111111111111111111111111111111111111111111111111111111"
OTHER_SS58 = "5DtDLm5rQHShDqojQpsvcN8tRXHVFaecfDoRet1SU6BFD9Fi"

KEY_SEEDS = {"validator": VALIDATOR_SEED, "miner": MINER_SEED, "other": OTHER_SEED}
BLACKLISTED_HOTKEYS = frozenset({OTHER_SS58})
BLACKLIST_REASON = "interop test blacklist"

# Class names are the route names (POST /<ClassName>), so both sides must spell them the same.
STREAM_SYNAPSE = "InteropStream"
PLAIN_SYNAPSE = "InteropEcho"
UNSERVED_SYNAPSE = "InteropUnserved"
PING_SYNAPSE = "Synapse"  # the base class: every axon answers /Synapse by echoing it

# A prompt that makes every interop forward function raise (-> HTTP 500 on a real axon).
RAISE_PROMPT = "raise-in-forward"
# A prompt that makes the token source raise after MIDSTREAM_SENT_PIECES pieces were streamed.
MIDSTREAM_FAIL_PROMPT = "fail-midstream"
MIDSTREAM_SENT_PIECES = 2

# One token's text: an emoji (4 bytes), the prompt, a digit, "é" (2 bytes), "€" (3 bytes), a space.
_TOKEN_CUT_OFFSET = 2  # cut two bytes into the leading emoji, so every send splits a character


def token_text(prompt: str, index: int) -> str:
    """The text of token ``index`` of the stream answering ``prompt``."""
    return f"\N{GRINNING FACE}{prompt}{index % 10}\u00e9\u20ac "


def expected_text(prompt: str, n_tokens: int) -> str:
    """The complete text a stream of ``n_tokens`` tokens answering ``prompt`` carries."""
    return "".join(token_text(prompt, i) for i in range(n_tokens))


def token_bytes(prompt: str, n_tokens: int) -> list[bytes]:
    """The stream as ``n_tokens`` byte pieces, each cut inside a multi-byte UTF-8 character.

    Piece i is token i's bytes shifted by two bytes, so every boundary between pieces falls
    inside an emoji: a client decoding each chunk on its own fails or drops characters.
    """
    if n_tokens < 1:
        raise ValueError(f"n_tokens must be >= 1, got {n_tokens}")
    data = expected_text(prompt, n_tokens).encode("utf-8")
    unit = len(token_text(prompt, 0).encode("utf-8"))
    cuts = [0] + [i * unit + _TOKEN_CUT_OFFSET for i in range(1, n_tokens)] + [len(data)]
    return [data[start:end] for start, end in zip(cuts[:-1], cuts[1:], strict=True)]


def raise_if_asked(prompt: str) -> None:
    """What every interop forward function does first: raise for RAISE_PROMPT (-> HTTP 500)."""
    if prompt == RAISE_PROMPT:
        raise RuntimeError("forward raised on purpose")


def echo_completion(prompt: str, n_tokens: int) -> str:
    """The completion an interop axon answers an InteropEcho with (raises for RAISE_PROMPT)."""
    raise_if_asked(prompt)
    return expected_text(prompt, n_tokens)


def blacklist_verdict(hotkey: str | None) -> tuple[bool, str]:
    """Every interop axon's blacklist answer for a request from ``hotkey``."""
    return hotkey in BLACKLISTED_HOTKEYS, BLACKLIST_REASON


def batch_sends(pieces: list[bytes], batch_count: int) -> list[bytes]:
    """Group ``pieces`` into sends of ``batch_count`` pieces each (the last may be shorter)."""
    if batch_count < 1:
        raise ValueError(f"batch_count must be >= 1, got {batch_count}")
    return [b"".join(pieces[i : i + batch_count]) for i in range(0, len(pieces), batch_count)]


def chat_tokens(content: str, max_tokens: int) -> list[str]:
    """The text tokens a generated chat synapse's interop server streams for ``content``."""
    return [token_text(content, i) for i in range(max_tokens)]


def count_tokens(text: str) -> int:
    """How many complete tokens ``text`` holds (a token starts with the emoji, ends in a space)."""
    return sum(1 for part in text.split(" ")[:-1] if part.startswith("\N{GRINNING FACE}"))


def plain_synapses(base: Any) -> tuple[Any, Any]:
    """``InteropEcho`` and ``InteropUnserved`` on ``base``, bittensor's ``Synapse`` or
    synapsegen's: defined once, so both sides agree field for field (the route is the class
    name, the body hash covers ``required_hash_fields``)."""

    class InteropEcho(base):
        """Plain request/response: the axon fills ``completion`` and answers with JSON."""

        required_hash_fields: ClassVar[tuple[str, ...]] = ("prompt",)

        prompt: str
        n_tokens: int
        completion: str = ""

        def deserialize(self) -> str:
            return self.completion

    class InteropUnserved(base):
        """A synapse no interop axon attaches (-> 404)."""

        prompt: str = ""

    return InteropEcho, InteropUnserved


def availability_answer(tasks: list[str]) -> dict[str, object]:
    """What the miners of the plain-synapse interop tests answer (schemas/prompting.yaml's
    AvailabilitySynapse): the keywords of its generated ``respond()``."""
    return {"available": {task: task == "chat" for task in tasks}, "load": 0.25}
