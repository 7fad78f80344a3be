"""``--record``: a benchmark's report, as printed, into its section of docs/benchmarks.md.

Each section is the block between ``<!-- bench: KEY -->`` and ``<!-- /bench: KEY -->``, where
KEY is the command that printed it (``bench.serve --versus DATABASE_FAST_PATH=true``); the
block is replaced whole, or added at the end of the file when there is none yet. The prose
around the blocks is the project's to keep true.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import platform
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

__all__ = ["DOCUMENT", "printed", "record"]

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def record(key: str, report: str, document: Path = DOCUMENT) -> None:
    """Put ``report`` (as printed) in ``key``'s block of ``document``."""
    start, end = f"<!-- bench: {key} -->", f"<!-- /bench: {key} -->"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    python = platform.python_version()
    block = (
        f"{start}\n`invoke {key}` on {when} ({machine}, Python {python}):\n\n"
        f"```text\n{report.rstrip()}\n```\n{end}"
    )
    text = document.read_text() if document.exists() else "# Benchmarks\n"
    before, found, rest = text.partition(start)
    if found:
        _, closed, after = rest.partition(end)
        if not closed:
            raise ValueError(f"{document}: {start} is never closed by {end}")
        text = before + block + after
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    document.write_text(text)


class _Tee(io.TextIOBase):
    def __init__(self, shown: TextIO) -> None:
        self.shown = shown
        self.kept = io.StringIO()

    def write(self, text: str) -> int:
        self.kept.write(text)
        return self.shown.write(text)

    def flush(self) -> None:
        self.shown.flush()


@contextlib.contextmanager
def printed() -> Iterator[io.StringIO]:
    """What the block prints, shown as usual and kept (``.getvalue()``) for :func:`record`."""
    tee = _Tee(sys.stdout)
    with contextlib.redirect_stdout(tee):
        yield tee.kept
