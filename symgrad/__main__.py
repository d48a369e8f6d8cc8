"""``python -m symgrad``: the command line in :mod:`symgrad.cli.main`."""
import sys

from .cli.main import main

if __name__ == "__main__":
    sys.exit(main())
