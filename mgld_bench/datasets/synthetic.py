"""The embedded ``synthetic`` dataset: procedurally generated clips with known motion.

Each clip shows a continuous procedural texture seen by a camera that translates and zooms,
plus an independently moving textured disc.  Because the scene is a closed-form function of
position, every GT frame is sampled exactly, and the true optical flow between consecutive
frames is known everywhere (``clip.extras["true_flow"](t)``), together with the pixels of frame t
that are hidden in frame t+1 (``clip.extras["occluded"](t)``).  LR frames come from a seeded
degradation: Gaussian blur, x4 area downsampling, Gaussian noise, JPEG.

Nothing is read from disk and nothing is downloaded, so the demo and the tests run anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from mgld_bench.datasets.base import Dataset
from mgld_bench.errors import BenchError
from mgld_bench.frames import Clip, GeneratedFrames

GENERATOR_VERSION = 1


@dataclass(frozen=True)
class ClipSpec:
    """Motion and appearance of one synthetic clip."""

    name: str
    seed: int
    frames: int = 12
    size: int = 256
    #: Camera translation per frame (px, at HR) and zoom factor per frame (about the centre).
    pan: tuple[float, float] = (1.5, 0.75)
    zoom: float = 1.0
    #: Disc start centre (fraction of the frame), velocity (px/frame) and radius (px).
    object_start: tuple[float, float] = (0.3, 0.35)
    object_velocity: tuple[float, float] = (2.5, 1.25)
    object_radius: float = 36.0


@dataclass(frozen=True)
class Degradation:
    """The seeded LR degradation (all values at HR scale where relevant)."""

    blur_sigma: float = 1.0
    scale: int = 4
    noise_sigma: float = 2.0
    jpeg_quality: int = 80


CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec("pan", seed=11, pan=(1.5, 0.75), object_velocity=(-2.0, 1.5)),
    ClipSpec("zoom", seed=23, pan=(0.4, -0.3), zoom=1.015, object_start=(0.6, 0.3), object_velocity=(-1.75, 2.25)),
    ClipSpec(
        "pan-fast",
        seed=37,
        pan=(-3.25, 2.0),
        object_start=(0.35, 0.65),
        object_velocity=(3.0, -1.0),
        object_radius=30.0,
    ),
)


class _Texture:
    """A smooth random RGB texture defined on the whole plane (values in [0, 255])."""

    def __init__(self, seed: int, waves: int = 14) -> None:
        rng = np.random.default_rng(seed)
        wavelength = rng.uniform(14.0, 90.0, size=waves)
        angle = rng.uniform(0, np.pi, size=waves)
        self.kx = 2 * np.pi / wavelength * np.cos(angle)
        self.ky = 2 * np.pi / wavelength * np.sin(angle)
        self.phase = rng.uniform(0, 2 * np.pi, size=waves)
        self.color = rng.uniform(-1.0, 1.0, size=(waves, 3))
        self.base = rng.uniform(90, 165, size=3)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.zeros((*x.shape, 3), dtype=np.float64)
        for kx, ky, ph, col in zip(self.kx, self.ky, self.phase, self.color, strict=True):
            # tanh sharpens the waves into edges, which gives flow estimators something to hold.
            out += np.tanh(2.0 * np.sin(kx * x + ky * y + ph))[..., None] * col
        out *= 95.0 / np.sqrt(len(self.kx))
        return np.clip(out + self.base, 0, 255)


class SyntheticScene:
    """Renders the frames, true flows and occlusions of one :class:`ClipSpec`."""

    def __init__(self, spec: ClipSpec) -> None:
        self.spec = spec
        self.background = _Texture(spec.seed)
        self.foreground = _Texture(spec.seed + 1000, waves=8)
        n = spec.size
        self.ys, self.xs = np.mgrid[0:n, 0:n].astype(np.float64)
        self.centre = (n - 1) / 2.0

    # camera: scene point s -> image point p = c + z^t (s - c) + t * pan
    def _camera(self, t: float) -> tuple[float, np.ndarray]:
        return self.spec.zoom**t, np.array(self.spec.pan, dtype=np.float64) * t

    def _object_centre(self, t: float) -> np.ndarray:
        n = self.spec.size
        start = np.array(self.spec.object_start) * (n - 1)
        return start + np.array(self.spec.object_velocity) * t

    def _object_mask(self, t: float) -> np.ndarray:
        cx, cy = self._object_centre(t)
        return (self.xs - cx) ** 2 + (self.ys - cy) ** 2 < self.spec.object_radius**2

    def frame(self, t: int) -> np.ndarray:
        """GT frame ``t`` as uint8 RGB."""
        z, d = self._camera(t)
        sx = self.centre + (self.xs - self.centre - d[0]) / z
        sy = self.centre + (self.ys - self.centre - d[1]) / z
        img = self.background(sx, sy)
        mask = self._object_mask(t)
        cx, cy = self._object_centre(t)
        fg = self.foreground(self.xs[mask] - cx, self.ys[mask] - cy)
        img[mask] = fg
        return np.round(img).astype(np.uint8)

    def flow(self, t: int) -> np.ndarray:
        """True forward flow from frame t to t+1: (H, W, 2) float32 (dx, dy).

        For every pixel x of frame t, x + flow(x) is where the same scene point lies in frame
        t+1, so ``frame(t+1)(x + flow(x)) == frame(t)(x)`` wherever x is not occluded.
        """
        z0, d0 = self._camera(t)
        z1, d1 = self._camera(t + 1)
        r = z1 / z0
        fx = (r - 1) * (self.xs - self.centre - d0[0]) + (d1[0] - d0[0])
        fy = (r - 1) * (self.ys - self.centre - d0[1]) + (d1[1] - d0[1])
        mask = self._object_mask(t)
        vx, vy = self.spec.object_velocity
        fx[mask] = vx
        fy[mask] = vy
        return np.stack([fx, fy], axis=-1).astype(np.float32)

    def occluded(self, t: int) -> np.ndarray:
        """Pixels of frame t whose scene point is not visible in frame t+1 (bool H x W).

        A background point is hidden when it moves under the disc or out of the frame; a disc
        point is hidden when it leaves the frame.
        """
        flow = self.flow(t)
        nx, ny = self.xs + flow[..., 0], self.ys + flow[..., 1]
        n = self.spec.size
        outside = (nx < 0) | (ny < 0) | (nx > n - 1) | (ny > n - 1)
        cx, cy = self._object_centre(t + 1)
        under = (nx - cx) ** 2 + (ny - cy) ** 2 < self.spec.object_radius**2
        return outside | (under & ~self._object_mask(t))


def degrade(frame: np.ndarray, deg: Degradation, rng: np.random.Generator) -> np.ndarray:
    """Blur, area-downsample by ``deg.scale``, add Gaussian noise, JPEG-compress."""
    import cv2

    img = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), deg.blur_sigma, borderType=cv2.BORDER_REFLECT)
    h, w = frame.shape[:2]
    img = cv2.resize(img, (w // deg.scale, h // deg.scale), interpolation=cv2.INTER_AREA)
    img = img + rng.normal(0.0, deg.noise_sigma, size=img.shape)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, deg.jpeg_quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


@lru_cache(maxsize=8)
def _scene(spec: ClipSpec) -> SyntheticScene:
    return SyntheticScene(spec)


class SyntheticDataset(Dataset):
    """Three deterministic 12-frame 256x256 clips with known motion (no files needed)."""

    name = "synthetic"
    version = GENERATOR_VERSION
    summary = "embedded procedural clips with known motion and true flow (no download)"
    has_gt: ClassVar[bool] = True
    scale: ClassVar[int] = 4
    defaults: ClassVar[dict[str, Any]] = {"frames": 12, "size": 256, "seed": 0}
    #: Smallest GT side: the LR frames (size / scale) must keep a few pixels.
    MIN_SIZE: ClassVar[int] = 16

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if int(self.options["frames"]) < 1:
            raise BenchError(f"synthetic.frames must be at least 1, got {self.options['frames']}")
        if int(self.options["size"]) < self.MIN_SIZE:
            raise BenchError(
                f"synthetic.size must be at least {self.MIN_SIZE} (the LR frames are size/{self.scale}), "
                f"got {self.options['size']}"
            )

    def _specs(self) -> dict[str, ClipSpec]:
        n, size = int(self.options["frames"]), int(self.options["size"])
        return {
            c.name: ClipSpec(**{**asdict(c), "frames": n, "size": size})  # type: ignore[arg-type]
            for c in CLIPS
        }

    def clip_names(self) -> list[str]:
        return list(self._specs())

    def load_clip(self, name: str) -> Clip:
        import cv2

        spec = self._specs()[name]
        scene = _scene(spec)
        deg = Degradation()
        seed = int(self.options["seed"])
        key = f"v{GENERATOR_VERSION}:{spec}:{deg}:seed={seed}"
        lr_key = f"{key}:cv2={cv2.__version__}"
        clip_seed = int.from_bytes(hashlib.sha256(f"{name}:{seed}".encode()).digest()[:8], "little")

        def make_lr(t: int) -> np.ndarray:
            rng = np.random.default_rng([clip_seed, t])
            return degrade(scene.frame(t), deg, rng)

        return Clip(
            dataset=self.name,
            name=name,
            lr=GeneratedFrames(spec.frames, make_lr, lr_key, f"synthetic/{name} (LR)"),
            gt=GeneratedFrames(spec.frames, scene.frame, key, f"synthetic/{name} (GT)"),
            fps=24.0,
            scale=deg.scale,
            extras={"true_flow": scene.flow, "occluded": scene.occluded, "spec": spec},
        )
