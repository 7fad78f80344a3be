"""Code shared by every service of the family.

The public surface is the names each module lists in ``__all__``; ``common/README.md``
documents the same names, and a test keeps the two equal.
"""

from __future__ import annotations

__all__: list[str] = []
