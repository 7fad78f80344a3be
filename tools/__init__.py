"""Development tools: ``python -m tools.<name>`` (with the dev dependencies), and ``devenv``,
which ``tasks.py`` imports with nothing but invoke."""
