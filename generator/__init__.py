"""synapsegen: generate correct-by-construction Bittensor StreamingSynapse classes from a schema."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("synapsegen")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["__version__"]
