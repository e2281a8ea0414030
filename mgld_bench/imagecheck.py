"""A pixel limit checked from an image file's header, before anything is decoded.

A 420 KB PNG can claim 12000 x 12000 pixels and take 900 MB to decode.  :func:`check_pixels`
reads only the header (Pillow's lazy open) and raises :class:`~mgld_bench.errors.FrameError`
naming the file when width x height exceeds the limit: ``--max-pixels N``, else
``$MGLD_BENCH_MAX_PIXELS``, else :data:`DEFAULT_MAX_PIXELS`.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from mgld_bench.errors import BenchError, FrameError

#: 2**26 = 67 Mpx: an 8K UHD frame (33 Mpx) passes with room to spare.
DEFAULT_MAX_PIXELS = 1 << 26
_LIMIT: int | None = None


def max_pixels() -> int:
    """The pixel limit in force."""
    if _LIMIT is not None:
        return _LIMIT
    env = os.environ.get("MGLD_BENCH_MAX_PIXELS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise BenchError(f"MGLD_BENCH_MAX_PIXELS={env!r} is not an integer") from None
        if value > 0:
            return value
    return DEFAULT_MAX_PIXELS


def set_max_pixels(limit: int | None) -> None:
    """Set the limit for this process (None: back to the environment / default)."""
    global _LIMIT
    if limit is not None and limit <= 0:
        raise BenchError(f"--max-pixels must be a positive number of pixels, got {limit}")
    _LIMIT = limit


def header_size(source: Path | bytes) -> tuple[int, int] | None:
    """(width, height) from the header, or None when Pillow does not know the format."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # our own limit applies; Pillow's would raise a bare exception
    try:
        fp = io.BytesIO(source) if isinstance(source, bytes | bytearray | memoryview) else source
        with Image.open(fp) as im:
            return im.size
    except Exception:  # unknown/corrupt header: the decoder reports it with the file's name
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def check_pixels(source: Path | bytes, what: str | Path) -> None:
    """Raise :class:`FrameError` naming ``what`` when the image's header claims more than the limit."""
    size = header_size(source)
    limit = max_pixels()
    if size is not None and size[0] * size[1] > limit:
        raise FrameError(
            f"image {what} claims {size[0]}x{size[1]} = {size[0] * size[1]:,} pixels, above the limit of "
            f"{limit:,} (--max-pixels / MGLD_BENCH_MAX_PIXELS); it was not decoded. Raise the limit if the image is "
            "genuine"
        )
