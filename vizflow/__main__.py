"""``python -m vizflow`` is the ``vizflow`` command."""

import sys

from vizflow.cli import main

if __name__ == "__main__":
    sys.exit(main())
