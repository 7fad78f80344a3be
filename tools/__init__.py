"""Development tools run with ``python -m tools.<name>`` (they need the dev dependencies)."""
