"""The validator's scoring for the chat example (schemas/chat.yaml's ChatCompletion).

A miner earns the share of the reference answer's words it returned, in order, and only for an
answer that arrived whole: a failed call, an error status or a stream that was cut scores 0, even
when the text that did arrive looks right.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from synapses.chat import ChatCompletion


def score(synapse: ChatCompletion, reference: str) -> float:
    """0.0 to 1.0: how much of ``reference`` the miner's completion matches, word by word."""
    if not synapse.is_success or not synapse.stream_complete:
        return 0.0
    expected, answered = reference.split(), synapse.completion.split()
    if not expected:
        return 1.0 if not answered else 0.0
    matcher = SequenceMatcher(a=expected, b=answered, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return round(matched / max(len(expected), len(answered)), 3)
