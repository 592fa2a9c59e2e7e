"""Miner side of a plain synapse: schemas/prompting.yaml's AvailabilitySynapse."""

from synapses.prompting import AvailabilitySynapse

SERVED = {"chat"}


async def forward(synapse: AvailabilitySynapse) -> AvailabilitySynapse:
    return synapse.respond(available={task: task in SERVED for task in synapse.tasks}, load=0.25)
