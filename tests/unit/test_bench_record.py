"""``--record`` replaces a benchmark's block in docs/benchmarks.md and nothing around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.record import printed, record


def test_a_report_replaces_its_block_and_leaves_the_prose(tmp_path: Path) -> None:
    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\nWhy we measure.\n")
    record("bench.serve", "first report", document)
    record("bench.tests", "tests report", document)
    record("bench.serve", "second report\n", document)
    text = document.read_text()
    assert text.startswith("# Benchmarks\n\nWhy we measure.\n\n<!-- bench: bench.serve -->\n")
    assert "first report" not in text
    assert text.count("second report") == 1
    assert text.index("second report") < text.index("tests report")
    assert text.endswith("```\n<!-- /bench: bench.tests -->\n")


def test_an_unclosed_block_is_an_error_not_a_truncated_document(tmp_path: Path) -> None:
    document = tmp_path / "benchmarks.md"
    document.write_text("<!-- bench: bench.serve -->\nprose that must stay\n")
    with pytest.raises(ValueError, match="never closed"):
        record("bench.serve", "report", document)
    assert document.read_text().endswith("prose that must stay\n")


def test_what_is_printed_is_shown_and_kept(capsys: pytest.CaptureFixture[str]) -> None:
    with printed() as report:
        print("req/s 1,000")  # noqa: T201 - what the benchmarks do
    assert report.getvalue() == "req/s 1,000\n"
    assert capsys.readouterr().out == "req/s 1,000\n"
