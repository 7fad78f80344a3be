"""Development tools; ``devenv`` is what ``tasks.py`` imports with nothing but invoke."""
