"""Encode raw RGB frames from stdin into an mp4 on stdout, in a fresh process.

Used by :func:`mgld_bench.degrade.video.compress_video`: x264 in the tested PyAV wheels gives
byte-identical output for the first encode of a process but not for later ones (state left by an
earlier encoder leaks into the next), so each clip's compression runs in its own short-lived
process.  Usage: ``python -m mgld_bench.degrade.encode_worker CODEC BITRATE HEIGHT WIDTH`` with
HEIGHT x WIDTH x 3 uint8 frames concatenated on stdin.
"""

from __future__ import annotations

import io
import sys
from fractions import Fraction


def encode(raw: io.BufferedReader, codec: str, bitrate: int, height: int, width: int) -> bytes:
    """Read frames from ``raw`` until EOF and return the mp4 bytes."""
    import av
    import numpy as np
    from av.video.frame import PictureType

    frame_bytes = height * width * 3
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        options = {"x264-params": "threads=1"} if codec in ("libx264", "h264") else {}
        stream = container.add_stream(codec, rate=1, options=options)
        stream.height, stream.width = height, width
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = int(bitrate)
        stream.codec_context.thread_count = 1
        stream.codec_context.time_base = Fraction(1, 1)
        index = 0
        while True:
            data = raw.read(frame_bytes)
            if not data:
                break
            if len(data) != frame_bytes:
                raise SystemExit(f"encode_worker: truncated frame {index}")
            img = np.frombuffer(data, np.uint8).reshape(height, width, 3)
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pict_type = PictureType.NONE
            vf.pts = index
            vf.time_base = Fraction(1, 1)
            for packet in stream.encode(vf):
                container.mux(packet)
            index += 1
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def main() -> None:
    codec, bitrate, height, width = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.stdout.buffer.write(encode(sys.stdin.buffer, codec, bitrate, height, width))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
