"""Helpers for tests and benchmarks (small random models built offline); not used by runs."""
