"""synapsegen: generate correct-by-construction Bittensor synapse classes from a schema."""

# The one place the version is written (pyproject.toml reads it from here): importing
# importlib.metadata to look it up would cost a cold command line run ~60 ms.
__version__ = "0.1.0"

__all__ = ["__version__"]
