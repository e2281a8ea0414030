"""Moved to :mod:`mgld_bench.fileio` (kept for the modules that still import it from here)."""

from mgld_bench.fileio import file_sha256

__all__ = ["file_sha256"]
