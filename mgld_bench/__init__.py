"""mgld-bench: a reproducible evaluation suite for real-world video super-resolution.

Importing this package is cheap: torch, pyiqa and diffusers are imported only by the adapters
that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
