"""Command-line entry point for management commands."""

from __future__ import annotations

import sys

from app.commands.cli import main
from common.lifecycle import exit_without_collecting

if __name__ == "__main__":
    exit_without_collecting()
    sys.exit(main())
