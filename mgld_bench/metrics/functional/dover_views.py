"""DOVER's sampling protocol: which frames each branch sees and how they are cropped or resized.

Follows the official DOVER inference (``dover.yml``, ``val-l1080p`` options, used by its
``evaluate_one_video.py`` / ``evaluate_a_set_of_videos.py``):

* **technical** branch: the clip is cut into ``clips`` equal segments; from each, ``clip_len``
  frames ``frame_interval`` apart are taken (starting at the segment start plus an offset, frame
  indices wrapping modulo the clip length).  Each frame becomes a ``grid x grid`` mosaic of
  ``fragment x fragment`` patches, one per cell of a uniform grid over the frame, shifted inside
  its cell by an offset drawn once per clip (all frames of a clip share their patch positions).
  Frames smaller than the mosaic are first upsampled (bilinear) -- while the grid keeps the
  original frame size, as in the official code.
* **aesthetic** branch: ``aesthetic_frames`` segments, one frame each (at segment start plus an
  offset), every frame resized to ``aesthetic_size`` squared (bilinear, antialiased); clips shorter
  than ``aesthetic_frames`` therefore show frame 0 only, as in the official code.
* both views are normalised with the ImageNet mean/std on the 0-255 scale.

The official code draws the offsets unseeded; here they come from ``numpy.random.default_rng(seed)``
(temporal offsets of the technical then the aesthetic branch, then the patch offsets), so a score
is reproducible.  Functions take the offsets explicitly, so the official draws can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

MEAN = (123.675, 116.28, 103.53)
STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class DoverSampling:
    """The sampling options (defaults: the official ``val-l1080p`` inference options)."""

    grid: int = 7
    fragment: int = 32
    clip_len: int = 32
    clips: int = 3
    frame_interval: int = 2
    aesthetic_size: int = 224
    aesthetic_frames: int = 32
    aesthetic_clip_len: int = 32

    @property
    def mosaic(self) -> int:
        return self.grid * self.fragment


def segment_offsets(rng: np.random.Generator, num_frames: int, per_segment: int, segments: int,
                    interval: int) -> np.ndarray:
    """One start offset per segment: uniform in [0, L - per_segment*interval) when the segment is longer, else 0."""
    length = num_frames // segments
    span = per_segment * interval
    if length > span:
        return rng.integers(0, length - span, size=segments).astype(np.int64)
    return np.zeros(segments, dtype=np.int64)


def segment_indices(num_frames: int, per_segment: int, segments: int, interval: int,
                    offsets: np.ndarray) -> np.ndarray:
    """Frame indices: per segment s, ``s*(N//segments) + offset_s + k*interval`` for k < per_segment, mod N."""
    starts = (num_frames // segments) * np.arange(segments) + np.asarray(offsets, dtype=np.int64)
    idx = starts[:, None] + interval * np.arange(per_segment)[None, :]
    return np.mod(idx.reshape(-1), num_frames).astype(np.int64)


def technical_indices(num_frames: int, s: DoverSampling, offsets: np.ndarray) -> np.ndarray:
    return segment_indices(num_frames, s.clip_len, s.clips, s.frame_interval, offsets)


def aesthetic_indices(num_frames: int, s: DoverSampling, offsets: np.ndarray) -> np.ndarray:
    """``offsets`` has one row per aesthetic clip (``aesthetic_clip_len // aesthetic_frames`` frames per segment)."""
    per = s.aesthetic_clip_len // s.aesthetic_frames
    rows = np.asarray(offsets).reshape(-1, s.aesthetic_frames)
    return np.concatenate([segment_indices(num_frames, per, s.aesthetic_frames, s.frame_interval, r) for r in rows])


def upsample_factor(height: int, width: int, s: DoverSampling) -> float:
    """Scale applied before cutting fragments (1 when the frame covers the mosaic)."""
    ratio = min(height / s.mosaic, width / s.mosaic)
    return 1.0 / ratio if ratio < 1 else 1.0


def fragment_origins(height: int, width: int, s: DoverSampling) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Top-left corners of the grid cells (rows, cols) and the cell height/width, on the original frame size."""
    rows = np.array([min(height // s.grid * i, height - s.fragment) for i in range(s.grid)], dtype=np.int64)
    cols = np.array([min(width // s.grid * i, width - s.fragment) for i in range(s.grid)], dtype=np.int64)
    return rows, cols, height // s.grid, width // s.grid


def fragment_offsets(rng: np.random.Generator, height: int, width: int, s: DoverSampling,
                     chunks: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (grid, grid, chunks) of every patch inside its cell, rows then columns."""
    _, _, cell_h, cell_w = fragment_origins(height, width, s)
    shape = (s.grid, s.grid, chunks)
    oh = rng.integers(0, cell_h - s.fragment, size=shape) if cell_h > s.fragment else np.zeros(shape, np.int64)
    ow = rng.integers(0, cell_w - s.fragment, size=shape) if cell_w > s.fragment else np.zeros(shape, np.int64)
    return oh.astype(np.int64), ow.astype(np.int64)


def upsample_frame(frame: np.ndarray, factor: float) -> Any:
    """uint8 (H, W, 3) -> uint8 tensor (3, H', W'): bilinear on [0, 1] values, truncated back to uint8."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)
    if factor == 1.0:
        return t
    up = F.interpolate(t[:, None].float() / 255.0, scale_factor=factor, mode="bilinear")[:, 0]
    return (up * 255.0).to(torch.uint8)


def mosaic(frame: Any, rows: np.ndarray, cols: np.ndarray, oh: np.ndarray, ow: np.ndarray,
           s: DoverSampling) -> Any:
    """Float tensor (3, grid*f, grid*f) of the patches of one (possibly upsampled) uint8 frame (3, H, W)."""
    import torch

    f = s.fragment
    out = torch.zeros((3, s.mosaic, s.mosaic), dtype=torch.float32)
    for i in range(s.grid):
        for j in range(s.grid):
            r, c = int(rows[i] + oh[i, j]), int(cols[j] + ow[i, j])
            out[:, i * f:(i + 1) * f, j * f:(j + 1) * f] = frame[:, r:r + f, c:c + f]
    return out


def resized_frame(frame: np.ndarray, size: int) -> Any:
    """uint8 (H, W, 3) -> uint8 tensor (3, size, size), torchvision bilinear with antialiasing."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None]
    return resize(t, [size, size], interpolation=InterpolationMode.BILINEAR, antialias=True)[0]


def normalise(view: Any) -> Any:
    """(3, T, H, W) 0-255 values -> ImageNet-normalised float32."""
    import torch

    mean = torch.tensor(MEAN, dtype=torch.float32).reshape(3, 1, 1, 1)
    std = torch.tensor(STD, dtype=torch.float32).reshape(3, 1, 1, 1)
    return (view.float() - mean) / std


def as_clips(view: Any, clips: int) -> Any:
    """(3, clips*T, H, W) -> (clips, 3, T, H, W)."""
    c, t, h, w = view.shape
    return view.reshape(c, clips, t // clips, h, w).transpose(0, 1)


def build_views(frames: list[np.ndarray], s: DoverSampling, tech_offsets: np.ndarray, aes_offsets: np.ndarray,
                frag_oh: np.ndarray, frag_ow: np.ndarray) -> dict[str, Any]:
    """Both normalised views of a whole clip (list of uint8 RGB frames), given all offsets."""
    import torch

    n = len(frames)
    t_idx = technical_indices(n, s, tech_offsets)
    a_idx = aesthetic_indices(n, s, aes_offsets)
    h, w = frames[0].shape[:2]
    factor = upsample_factor(h, w, s)
    rows, cols, _, _ = fragment_origins(h, w, s)
    tech = torch.stack([mosaic(upsample_frame(frames[i], factor), rows, cols, frag_oh[:, :, p // s.clip_len],
                               frag_ow[:, :, p // s.clip_len], s) for p, i in enumerate(t_idx)], 1)
    aes = torch.stack([resized_frame(frames[i], s.aesthetic_size) for i in a_idx], 1)
    aes_clips = len(a_idx) // s.aesthetic_clip_len
    return {"technical": as_clips(normalise(tech), s.clips), "aesthetic": as_clips(normalise(aes), aes_clips)}
