"""Smoke tests of the benchmarks (benchmarks/): each runs quick and on SQLite, checking its figures are real."""
