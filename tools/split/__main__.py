"""``python -m tools.split FEATURE --to DIR`` (see :mod:`tools.split`)."""

from __future__ import annotations

import sys

from tools.split import main

if __name__ == "__main__":
    sys.exit(main())
