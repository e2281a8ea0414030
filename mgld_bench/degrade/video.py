"""``RandomVideoCompression``: encode the clip with a random codec and bitrate through PyAV, decode it back.

As in RealBasicVSR the stream runs at 1 frame per second, so the bitrate is bits per frame; every
frame's picture type is left to the encoder (``PictureType.NONE``).  Recorded differences from
the reference: frames are rounded and clipped to uint8 (the reference truncates with
``astype(uint8)``, which wraps values outside [0, 1]); odd sizes are padded to even by edge
replication for 4:2:0 and cropped back after decoding; frames whose size differs from the first
frame's (the resize walk changes sizes) are resized to it bilinearly, as the reference's PyAV
encoder does implicitly; encoders and decoders run single-threaded and frames carry explicit
timestamps.  x264's output was nevertheless seen to vary between runs in the tested PyAV wheel
(mpeg4's never did): the sha256 recorded for every prepared frame makes any such change visible.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from mgld_bench.degrade.base import Operation
from mgld_bench.degrade.jpeg import to_uint8

CODECS = ("libx264", "h264", "mpeg4")


def _pad_even(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return img
    return np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _add_stream(container: Any, codec: str, height: int, width: int, bitrate: int) -> Any:
    options = {"x264-params": "threads=1"} if codec in ("libx264", "h264") else {}
    stream = container.add_stream(codec, rate=1, options=options)
    stream.height, stream.width = height, width
    stream.pix_fmt = "yuv420p"
    stream.bit_rate = int(bitrate)
    stream.codec_context.thread_count = 1
    stream.codec_context.time_base = Fraction(1, 1)
    return stream


def compress_video(frames: Iterable[np.ndarray], codec: str, bitrate: int) -> Iterator[np.ndarray]:
    """Encode float RGB frames into an in-memory mp4 with ``codec`` at ``bitrate`` bit/s (1 fps, 4:2:0),
    then decode them.  Only the compressed bytes are kept between encoding and decoding."""
    import av
    import cv2
    from av.video.frame import PictureType

    buf = io.BytesIO()
    size: tuple[int, int] | None = None
    with av.open(buf, "w", format="mp4") as container:
        stream: Any = None
        for index, frame in enumerate(frames):
            img = to_uint8(frame)
            if size is None:
                size = img.shape[:2]
                padded = _pad_even(img)
                stream = _add_stream(container, codec, padded.shape[0], padded.shape[1], bitrate)
            elif img.shape[:2] != size:
                # The per-frame scale walk changes frame sizes; like PyAV's encoder in the
                # reference, bring every frame to the stream's (first frame's) size, bilinearly.
                img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(_pad_even(img)), format="rgb24")
            vf = vf.reformat(format="yuv420p")
            vf.pict_type = PictureType.NONE
            vf.pts = index
            vf.time_base = Fraction(1, 1)
            for packet in stream.encode(vf):
                container.mux(packet)
        if stream is None:
            return
        for packet in stream.encode():
            container.mux(packet)
    assert size is not None
    h, w = size
    buf.seek(0)
    with av.open(buf, "r", format="mp4") as container:
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
