"""The method interface."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.frames import Clip
from mgld_bench.options import Configurable
from mgld_bench.specs import CPU, Resources
from mgld_bench.weights import WeightFile, missing_weights


@dataclass
class RunContext:
    """What a method may use while running one clip.

    ``workdir`` is an empty scratch folder owned by this job (deleted afterwards);
    ``log_dir`` is kept beside the cache entry (write logs of external processes there);
    ``cache`` is the run's content-addressed cache (a ``store.cache.Cache``, or None), for
    intermediate values a method derives from its weights (e.g. MGLD's text context).
    """

    device: str = "cpu"
    seed: int = 0
    workdir: Path | None = None
    log_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    cache: Any = None


#: Option lists longer than this are shortened in labels (the digest keeps them distinct).
LABEL_OPTIONS_MAX = 48


def option_label(name: str, options: dict[str, Any], defaults: Any) -> str:
    """``name[k=v,...]`` for the options that differ from ``defaults`` (paths by file name and digest)."""
    import hashlib

    def show(v: Any) -> str:  # a path by its file name and a digest of the whole path
        if isinstance(v, str) and ("/" in v or "\\" in v):
            return f"{Path(v).name}#{hashlib.sha256(v.encode()).hexdigest()[:4]}"
        return str(v)

    changed = [f"{k}={show(v)}" for k, v in sorted(options.items()) if k in defaults and v != defaults[k]]
    if not changed:
        return name
    text = ",".join(changed)
    if len(text) > LABEL_OPTIONS_MAX:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6]
        text = f"{text[: LABEL_OPTIONS_MAX - 8]}..#{digest}"
    return f"{name}[{text}]"


class Method(Configurable):
    """A super-resolution method.

    Subclasses implement :meth:`run`, yielding the SR frames of a clip in order as uint8 RGB
    arrays.  The runner checks count and size, caches the frames, and never calls ``run`` again
    for the same inputs.  Anything that changes the output must be in ``options``, in
    :meth:`weight_files`, or in :meth:`extra_key`, since those make the cache key.
    """

    #: False for methods whose output changes from call to call even with a fixed seed.
    deterministic: ClassVar[bool] = True
    #: True for methods whose output depends on the seed (diffusion); the seed then enters the key.
    uses_seed: ClassVar[bool] = False
    #: True when the method cannot run without a GPU.
    requires_cuda: ClassVar[bool] = False
    #: What one inference job asks a scheduler for (``specs.ONE_GPU`` for a GPU model).
    resources: ClassVar[Resources] = CPU
    #: When set, the output of frames ``[k*n, (k+1)*n)`` depends only on those LR frames
    #: (``n = chunk_frames``), so an executor may run the chunks of a clip as separate jobs and
    #: join them; the result must equal one run over the whole clip.  None: the clip is one job.
    chunk_frames: ClassVar[int | None] = None
    #: True when the output depends on the kind of device the job runs on ("cpu" or "cuda"),
    #: e.g. a precision resolved per device: the inference key then holds the device kind and
    #: :meth:`device_options` for it (see :func:`mgld_bench.runner.jobs.infer_job`).
    device_dependent: ClassVar[bool] = False

    def device_options(self, device_kind: str) -> dict[str, Any]:
        """The options as resolved on a ``device_kind`` ("cpu" or "cuda") that change the output
        (e.g. ``{"precision": "fp16"}``).  Only asked of ``device_dependent`` methods; the method's
        run must resolve them with this same function."""
        return {}

    @property
    def label(self) -> str:
        """The name results are filed under: the method name and every option of its identity that
        differs from the default (``bicubic[kernel=cv2]``), so runs with other options never
        overwrite each other's rows.  Paths are left out; a long list is shortened with a digest."""
        return option_label(self.name, self.identity().get("options", {}), self.defaults)

    def weight_files(self) -> list[WeightFile]:
        """The weight files this method loads (their sha256 goes into the cache key)."""
        return []

    def extra_key(self, clip: Clip) -> str | None:
        """Any further input that determines the output (e.g. a folder of precomputed frames)."""
        return None

    def frame_files(self, clip: Clip) -> list[Path] | None:
        """Image files that already are this method's output for ``clip``, in order (or None).

        The runner then stores their bytes as they are when they are 8-bit RGB PNGs (hash and
        copy, no decode/re-encode) and decodes only the others."""
        return None

    def availability(self) -> tuple[bool, str]:
        """(True, "") if the method can run here; else (False, the reason and the fix)."""
        missing = missing_weights(self.weight_files())
        if missing:
            return False, "; ".join(missing)
        from mgld_bench.errors import BenchError
        from mgld_bench.weight_trust import check_all

        try:
            check_all(self.weight_files())  # published or first-use sha256
        except BenchError as exc:
            return False, str(exc)
        return True, ""

    def run(self, clip: Clip, ctx: RunContext) -> Iterable[np.ndarray]:
        raise NotImplementedError
