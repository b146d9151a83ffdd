"""Benchmarks of the bridge, run as a deployment runs it (tests/stack.py): each prints its figures and writes
them as JSON under benchmarks/results/. ``benchmarks/run`` runs them all; the README has the table."""
