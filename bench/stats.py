"""The arithmetic of ``invoke bench.serve``: percentiles, one run's figures, medians of rounds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Run", "Target", "median_run", "percentile", "ratio"]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in [0, 1]) of values sorted ascending."""
    if not sorted_values:
        raise ValueError("no values")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction out of range: {fraction}")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Run:
    """One load run: throughput and latency percentiles in milliseconds."""

    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    @classmethod
    def of(cls, latencies_ms: Sequence[float], seconds: float, *, errors: int = 0) -> Run:
        """From the latencies of the requests that completed in a window of ``seconds``."""
        if seconds <= 0:
            raise ValueError("the window must be positive")
        if not latencies_ms:
            return cls(0.0, math.nan, math.nan, errors)
        ordered = sorted(latencies_ms)
        return cls(
            len(ordered) / seconds, percentile(ordered, 0.50), percentile(ordered, 0.99), errors
        )


def median_run(runs: Sequence[Run]) -> Run:
    """Each figure's median over the rounds (each figure on its own); errors are summed."""
    if not runs:
        raise ValueError("no runs")
    return Run(
        statistics.median(run.per_second for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.errors for run in runs),
    )


def ratio(value: float, floor: float) -> float:
    """``value`` as a fraction of ``floor`` (NaN when the floor is zero)."""
    return value / floor if floor > 0 else math.nan


@dataclass(frozen=True, slots=True)
class Target:
    """At least ``per_second`` with a p99 of at most ``p99_ms``, and no failed request."""

    per_second: float
    p99_ms: float

    def met_by(self, run: Run) -> bool:
        return run.errors == 0 and run.per_second >= self.per_second and run.p99_ms <= self.p99_ms

    def __str__(self) -> str:
        return f">= {self.per_second:,.0f}/s, p99 <= {self.p99_ms:g} ms"
