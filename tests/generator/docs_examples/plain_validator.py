"""Validator side of a plain synapse: schemas/prompting.yaml's AvailabilitySynapse."""

from typing import Any

from synapsegen.runtime import Dendrite

from synapses.prompting import AvailabilitySynapse


async def ask(dendrite: Dendrite, axon: Any) -> None:
    available = await dendrite.call(axon, AvailabilitySynapse(tasks=["chat", "translate"]))
    print(available)  # deserialize() gives `available`: {'chat': True, 'translate': False}

    synapse = await dendrite.call(axon, AvailabilitySynapse(tasks=["chat"]), deserialize=False)
    print(synapse.dendrite.status_code, synapse.load)  # the whole synapse: 200 0.25
