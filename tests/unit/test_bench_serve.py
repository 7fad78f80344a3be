"""The arithmetic of ``invoke bench.serve``: percentiles, medians of rounds, targets, wrk's output."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from bench.load import Window, parse_wrk
from bench.serve import Options, comparison, measure_rounds
from bench.stats import Run, Target, median_run, percentile, ratio

WRK_OUTPUT = """\
Running 6s test @ http://127.0.0.1:8000/healthz
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.00ms    1.61ms  28.45ms   73.03%
    Req/Sec     2.66k   247.58     3.23k    68.33%
  Latency Distribution
     50%   11.87ms
     75%   12.62ms
     90%   13.71ms
     99%    1.20s
  15877 requests in 6.00s, 3.15MB read
  Socket errors: connect 0, read 5, write 1, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   2645.46
Transfer/sec:    537.36KB
"""


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile(values, 1.0) == 100
    assert percentile([7.0], 0.99) == 7
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_a_run_counts_what_completed_in_its_window() -> None:
    run = Run.of([3.0, 1.0, 2.0, 4.0], seconds=2, errors=1)
    assert run == Run(per_second=2.0, p50_ms=2.0, p99_ms=4.0, errors=1)
    assert math.isnan(Run.of([], seconds=1).p99_ms)


def test_medians_are_taken_figure_by_figure_and_errors_add_up() -> None:
    runs = [Run(100, 1, 30, 0), Run(300, 3, 10, 2), Run(200, 2, 20, 1)]
    assert median_run(runs) == Run(200, 2, 20, 3)


def test_targets_need_the_rate_the_tail_and_no_failure() -> None:
    target = Target(per_second=1_500, p99_ms=40)
    assert target.met_by(Run(1_500, 5, 40))
    assert not target.met_by(Run(1_499, 5, 30))
    assert not target.met_by(Run(2_000, 5, 41))
    assert not target.met_by(Run(2_000, 5, 30, errors=1))
    assert ratio(500, 2_000) == 0.25
    assert math.isnan(ratio(500, 0))


def test_wrk_output_is_read_in_milliseconds() -> None:
    run = parse_wrk(WRK_OUTPUT)
    assert run.per_second == pytest.approx(2645.46)
    assert run.p50_ms == pytest.approx(11.87)
    assert run.p99_ms == pytest.approx(1200)
    assert run.errors == 4 + 0 + 5 + 1 + 2  # non-2xx, then connect, read, write, timeout


def test_a_window_keeps_only_requests_inside_it() -> None:
    window = Window(start=0.0, end=-1.0)  # already over: nothing is sent
    window.loop(lambda: True)
    assert window.latencies_ms == []
    assert window.errors == 0


def _options(rounds: int) -> Options:
    return Options(
        connections=1,
        duration=1,
        warmup=0,
        rounds=rounds,
        client_processes=1,
        grpc_processes=1,
        grpc_channels=1,
        wrk=None,
    )


def test_a_comparison_alternates_which_servers_go_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    order: list[str] = []

    def run(label: str, per_second: float) -> Callable[[], Run]:
        def measured() -> Run:
            order.append(label)
            return Run(per_second, 1, 2)

        return measured

    first, second = measure_rounds(
        _options(rounds=3), {"rest": run("a", 100)}, {"rest": run("b", 150)}, " with X=1"
    )
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert first == {"rest": [Run(100, 1, 2)] * 3}
    assert second == {"rest": [Run(150, 1, 2)] * 3}
    assert "round 2 with X=1: rest 150/s" in capsys.readouterr().out
    report = comparison(first, second, "X=1").splitlines()
    assert report[0] == "with X=1 / as configured (medians)"
    assert report[-1].split() == ["rest", "x1.50", "x1.00"]
