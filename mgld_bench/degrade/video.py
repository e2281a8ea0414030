"""``RandomVideoCompression``: encode the clip with a random codec and bitrate through PyAV, decode it back.

As in RealBasicVSR the stream runs at 1 frame per second, so the bitrate is bits per frame; every
frame's picture type is left to the encoder (``PictureType.NONE``).  Recorded differences from
the reference: frames are rounded and clipped to uint8 (the reference truncates with
``astype(uint8)``, which wraps values outside [0, 1]); odd sizes are padded to even by edge
replication for 4:2:0 and cropped back after decoding; frames whose size differs from the first
frame's (the resize walk changes sizes) are resized to it bilinearly, as the reference's PyAV
encoder does implicitly; encoders and decoders run single-threaded and frames carry explicit
timestamps.  Each encode runs in a fresh process (:mod:`mgld_bench.degrade.encode_worker`): x264
in the tested PyAV wheel gives identical bytes for the first encode of a process but not for later
ones, so this is what makes the LR bytes reproducible.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mgld_bench.degrade.base import Operation
from mgld_bench.degrade.jpeg import to_uint8

CODECS = ("libx264", "h264", "mpeg4")


def _pad_even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return img
    return np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _encode_in_fresh_process(frames: Iterable[np.ndarray], codec: str, bitrate: int) -> tuple[bytes, tuple[int, int]]:
    """Feed uint8 frames to :mod:`mgld_bench.degrade.encode_worker`; return (mp4 bytes, original size)."""
    import cv2

    proc: subprocess.Popen[bytes] | None = None
    size: tuple[int, int] | None = None
    try:
        for frame in frames:
            img = to_uint8(frame)
            if size is None:
                size = img.shape[:2]
                ph, pw = _pad_even(img).shape[:2]
                cmd = [sys.executable, "-m", "mgld_bench.degrade.encode_worker", codec, str(bitrate), str(ph), str(pw)]
                proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            elif img.shape[:2] != size:
                # The per-frame scale walk changes frame sizes; like PyAV's encoder in the
                # reference, bring every frame to the stream's (first frame's) size, bilinearly.
                img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
            assert proc is not None and proc.stdin is not None
            proc.stdin.write(np.ascontiguousarray(_pad_even(img)).tobytes())
        if proc is None or size is None:
            return b"", (0, 0)
        out, err = proc.communicate()
    except BaseException:
        if proc is not None:
            proc.kill()
            proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"video encoder ({codec}) failed: {err.decode(errors='replace').strip()[-500:]}")
    return out, size


def compress_video(frames: Iterable[np.ndarray], codec: str, bitrate: int) -> Iterator[np.ndarray]:
    """Encode float RGB frames into an in-memory mp4 with ``codec`` at ``bitrate`` bit/s (1 fps, 4:2:0),
    then decode them.  Only the compressed bytes are kept between encoding and decoding."""
    import av

    data, (h, w) = _encode_in_fresh_process(frames, codec, bitrate)
    if not data:
        return
    with av.open(io.BytesIO(data), "r", format="mp4") as container:
        container.streams.video[0].codec_context.thread_count = 1
        for decoded in container.decode(video=0):
            yield decoded.to_ndarray(format="rgb24")[:h, :w].astype(np.float32) / 255.0


@dataclass
class RandomVideoCompression(Operation):
    """Codec drawn from ``codecs`` (equal probabilities) and an integer bitrate uniform in [b0, b1] per clip."""

    codecs: tuple[str, ...] = CODECS
    codec_prob: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    bitrate: tuple[int, int] = (10_000, 100_000)
    name: str = "video"

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        p = np.asarray(self.codec_prob, dtype=np.float64)
        codec = str(rng.choice(self.codecs, p=p / p.sum()))
        bitrate = int(rng.integers(self.bitrate[0], self.bitrate[1] + 1))
        yield from compress_video(frames, codec, bitrate)
