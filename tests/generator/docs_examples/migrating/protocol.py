"""mysubnet/protocol.py: the generated classes, plus what a schema cannot say."""

from pydantic import model_validator
from typing_extensions import Self

from mysubnet.synapses import protocol as generated

__all__ = ["Dummy", "StreamPrompting"]

Dummy = generated.Dummy  # nothing to add: the old import path keeps working


class StreamPrompting(generated.StreamPrompting):
    """The generated class under its own name, so its route stays /StreamPrompting."""

    @model_validator(mode="after")
    def _one_role_per_message(self) -> Self:
        if len(self.roles) != len(self.messages):
            raise ValueError(f"{len(self.roles)} roles for {len(self.messages)} messages")
        return self

    def last_user_message(self) -> str:
        """The most recent message the user wrote ("" if there is none)."""
        for role, message in zip(reversed(self.roles), reversed(self.messages), strict=True):
            if role == "user":
                return message
        return ""
