"""Benchmarks run by `invoke bench.*`: they print figures measured side by side in one run."""
