"""Baseline method adapters.

Registered only through the ``mgld_bench.methods`` entry-point group in ``pyproject.toml``,
exactly as a third-party plugin would register, so the plugin path is exercised by every run.
"""
