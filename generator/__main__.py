"""``python -m synapsegen``: the command line."""

from .cli import main

raise SystemExit(main())
