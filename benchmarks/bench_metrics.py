"""Speed of the metrics area on CPU.

1. Warping error per 1280x720 frame pair with DIS flow (forward + backward flow, warp, occlusion
   mask, error): target <= 0.1 s per pair.  Farneback is timed in the same run for reference.
2. NIQE and BRISQUE frames per second through mgld-bench (own NumPy code, ``backend=native``,
   and ``backend=pyiqa``) beside pyiqa's own per-image loop, measured in the same run on the
   same frames (target: native >= 3x pyiqa).  Weight files are stand-ins
   written to a temporary folder (timing does not depend on their values).
3. ``--only learned``: seconds per frame of ``dover``, ``clipiqa``, ``maniqa``, ``musiq`` and
   ``mawe`` through mgld-bench beside the reference called directly in the same run on the same
   frames and the same random weights: pyiqa's ``create_metric`` for the pyiqa metrics, the
   official DOVER code for ``dover`` (a checkout given by ``--dover-repo``, run as
   ``tests/reference/dover/regenerate.py`` runs it), and for ``mawe`` torchvision's RAFT-large
   forward on the same pairs (the official ``mawe.py`` reads a video file and downloads RAFT at
   import, so its flow call -- nearly all of its time -- is what is timed).  Ratio > 1: mgld-bench
   slower.  Random weights, CPU, ``--learned-frames`` frames of ``--size`` (H x 4/3 H).

Run:  .venv/bin/python benchmarks/bench_metrics.py [--pairs 10] [--frames 8] [--only warping|nr|learned]
      [--learned-frames 6] [--size 288] [--dover-repo /tmp/DOVER]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _clip_frames(n: int, h: int = 720, w: int = 1280) -> list[np.ndarray]:
    """A textured 720p sequence panning 3 px/frame right and 1 px/frame down."""
    import cv2

    rng = np.random.default_rng(0)
    big = rng.random((h + 4 * n + 8, w + 4 * n + 8, 3)).astype(np.float32)
    big = cv2.GaussianBlur(big, (0, 0), 3.0) * 0.7 + big * 0.3
    big = np.clip((big - big.min()) / (big.max() - big.min()) * 255, 0, 255).astype(np.uint8)
    return [np.ascontiguousarray(big[t : t + h, 3 * t : 3 * t + w]) for t in range(n)]


def bench_warping(pairs: int) -> None:
    from mgld_bench.flow import estimate_flow
    from mgld_bench.metrics.functional.warping import warp_error_pair

    frames = _clip_frames(pairs + 1)
    results = {}
    for backend in ("dis-ultrafast", "dis-fast", "dis-medium", "farneback"):
        estimate_flow(frames[0], frames[1], backend)  # warm-up
        t0 = time.perf_counter()
        for t in range(pairs):
            fwd = estimate_flow(frames[t], frames[t + 1], backend)
            bwd = estimate_flow(frames[t + 1], frames[t], backend)
            warp_error_pair(frames[t], frames[t + 1], fwd, bwd, exclude_outside=True)
        results[backend] = (time.perf_counter() - t0) / pairs
    ref = results["farneback"]
    print(f"warping error, 1280x720, {pairs} pairs, CPU threads: OpenCV default")
    for backend, s in results.items():
        print(f"  {backend:14s} {s * 1000:7.1f} ms/pair  ({s / 0.1:4.2f}x the 0.1 s budget, "
              f"{ref / s:5.2f}x faster than farneback)")


def bench_nr(frames_n: int, rounds: int = 3) -> None:
    import scipy.io
    import torch

    root = Path(tempfile.mkdtemp(prefix="mgld-bench-bench-"))
    os.environ["MGLD_BENCH_WEIGHTS"] = str(root)
    import pyiqa

    from mgld_bench.registry import METRICS
    from mgld_bench.weights import BRISQUE_SVM, NIQE_PARAMS

    rng = np.random.default_rng(1)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path().parent.mkdir(parents=True, exist_ok=True)
    params = {"mu_prisparam": rng.normal(size=(1, 36)), "cov_prisparam": a @ a.T + np.eye(36)}
    scipy.io.savemat(NIQE_PARAMS.path(), params)
    torch.save((torch.randn(700, 1, dtype=torch.float64), torch.rand(700, 36, dtype=torch.float64)), BRISQUE_SVM.path())
    frames = _clip_frames(frames_n)
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]
    print(f"no-reference metrics, 1280x720, {frames_n} frames, best of {rounds} rounds, "
          f"torch threads {torch.get_num_threads()}")
    for name, wf, kw in (("niqe", NIQE_PARAMS, {"color_space": "yiq"}), ("brisque", BRISQUE_SVM, {})):
        opts = {"color_space": "gray"} if name == "niqe" else {}
        ours = {"native": METRICS.create(name, **opts), "backend=pyiqa": METRICS.create(name, backend="pyiqa", **opts)}
        direct = pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(wf.path()), **kw)
        for m in ours.values():
            m.score_batch(frames[:1], None)  # build the model once (not timed)
        direct(tensors[0])
        best: dict[str, float] = {}
        for _ in range(rounds):  # alternate the variants so that machine load hits them alike
            for b, m in ours.items():
                t0 = time.perf_counter()
                for f in frames:
                    m.score_batch([f], None)
                best[b] = max(best.get(b, 0.0), frames_n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for x in tensors:
                direct(x)
            best["pyiqa"] = max(best.get("pyiqa", 0.0), frames_n / (time.perf_counter() - t0))
        ref = best.pop("pyiqa")
        line = "   ".join(f"mgld-bench {k}: {v:5.2f} fps ({v / ref:4.2f}x)" for k, v in best.items())
        print(f"  {name:8s} pyiqa per-image loop: {ref:5.2f} fps   {line}")


def _random_weights(root: Path) -> None:
    """Random weights under the released names of the five metrics (values do not change timings)."""
    import torch
    import torchvision
    from pyiqa.archs import clip_model
    from pyiqa.archs.musiq_arch import MUSIQ

    from mgld_bench.metrics.dover_arch import DOVERNet
    from mgld_bench.weights import CLIP_RN50, DOVER_WEIGHTS, MANIQA_KONIQ, MUSIQ_KONIQ, RAFT_LARGE

    def save(obj: object, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, path)

    torch.manual_seed(0)
    save(DOVERNet().state_dict(), DOVER_WEIGHTS.path(root))
    save(MUSIQ(pretrained=False).state_dict(), MUSIQ_KONIQ.path(root))
    save(torchvision.models.optical_flow.raft_large(weights=None).state_dict(), RAFT_LARGE.path(root))
    import timm
    from pyiqa.archs import maniqa_arch

    real_create = timm.create_model
    maniqa_arch.timm.create_model = lambda *a, **k: real_create(*a, **{**k, "pretrained": False})
    try:
        save(maniqa_arch.MANIQA(pretrained=False, train_dataset="koniq", scale=0.8).state_dict(),
             MANIQA_KONIQ.path(root))
    finally:
        maniqa_arch.timm.create_model = real_create
    # CLIP RN50 as OpenAI ships it: a TorchScript archive (its tensors only, no compiled CLIP code)
    net = clip_model.CLIP(1024, 224, (3, 4, 6, 3), 64, None, 77, 49408, 512, 8, 12)

    class Holder(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    def tensors_only(module: torch.nn.Module) -> torch.nn.Module:
        out = Holder()
        out._parameters.update(module._parameters)
        out._buffers.update(module._buffers)
        for k, child in module._modules.items():
            out._modules[k] = tensors_only(child) if child is not None else None
        return out

    CLIP_RN50.path(root).parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(tensors_only(net)), str(CLIP_RN50.path(root)))


def _official_dover(repo: Path, frames: list[np.ndarray], state: dict) -> object:
    """A callable running the official DOVER pipeline (view decomposition, normalisation, model) on
    ``frames``, as tests/reference/dover/regenerate.py runs it (its stand-ins for decord/skvideo)."""
    import importlib.util

    import torch
    import yaml

    spec = importlib.util.spec_from_file_location(
        "dover_regenerate", Path(__file__).parents[1] / "tests" / "reference" / "dover" / "regenerate.py")
    regen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regen)
    regen._stub_modules()
    sys.path.insert(0, str(repo))
    import evaluate_a_set_of_videos as official_script
    from dover.datasets import dover_datasets as dd
    from dover.models import evaluator as ev

    real_convnext = ev.convnext_3d_tiny
    ev.convnext_3d_tiny = lambda pretrained=True, **kw: real_convnext(pretrained=False, **kw)
    opt = yaml.safe_load((repo / "dover.yml").read_text())
    model = ev.DOVER(**opt["model"]["args"])
    model.load_state_dict(state, strict=True)
    model.eval()
    st = opt["data"]["val-l1080p"]["args"]["sample_types"]
    regen.FRAMES[:] = frames

    def run() -> object:
        samplers = {}
        for stype, so in st.items():
            if "t_frag" not in so:
                samplers[stype] = dd.UnifiedFrameSampler(so["clip_len"], so["num_clips"], so["frame_interval"])
            else:
                samplers[stype] = dd.UnifiedFrameSampler(so["clip_len"] // so["t_frag"], so["t_frag"],
                                                         so["frame_interval"], so["num_clips"])
        views, _ = dd.spatial_temporal_view_decomposition("frames.mp4", st, samplers)
        video = {}
        for k in ("aesthetic", "technical"):
            v = ((views[k].permute(1, 2, 3, 0) - official_script.mean) / official_script.std).permute(3, 0, 1, 2)
            c, t, hh, ww = v.shape
            nc = st[k]["num_clips"]
            video[k] = v.reshape(c, nc, t // nc, hh, ww).permute(1, 0, 2, 3, 4)
        with torch.no_grad():
            return official_script.fuse_results([float(r.mean()) for r in model(video, reduce_scores=False)])

    return run


def bench_learned(n: int, size: int, dover_repo: Path | None, rounds: int = 1) -> None:
    import torch

    root = Path(tempfile.mkdtemp(prefix="mgld-bench-bench-"))
    os.environ["MGLD_BENCH_WEIGHTS"] = str(root)
    import pyiqa
    import torchvision

    from mgld_bench import weight_trust
    from mgld_bench.frames import ArrayFrames, Clip
    from mgld_bench.metrics.base import ScoreContext
    from mgld_bench.registry import METRICS
    from mgld_bench.weights import CLIP_RN50, DOVER_WEIGHTS, MANIQA_KONIQ, MUSIQ_KONIQ, RAFT_LARGE

    weight_trust.CHECK_PUBLISHED_ON_LOAD = False  # random weights under the released names, as the tests do
    _random_weights(root)
    h, w = size, size * 4 // 3
    frames = _clip_frames(n, h, w)
    clip = Clip("bench", "pan", ArrayFrames(np.stack(frames)), None, scale=4)
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]

    def clip_metric(name: str, **opts: object):
        metric = METRICS.create(name, **opts)

        def run() -> None:
            acc = metric.start(ScoreContext(clip))
            for i in range(n):
                acc.update(i, frames[i], None)
            acc.result()

        return run

    #: MANIQA runs 20 ViT-B/8 crops per frame whatever its size (~1.6 TFLOP): one frame is enough
    per_metric = {"maniqa": 1}

    def frame_metric(name: str):
        metric = METRICS.create(name)
        metric.score_batch(frames[:1], None)  # build the model (not timed)
        k = per_metric.get(name, n)
        return lambda: [metric.score_batch([f], None) for f in frames[:k]]

    def direct(name: str, **kw: object):
        from pyiqa.archs import arch_util

        real = arch_util.load_file_from_url
        files = {"maniqa": MANIQA_KONIQ, "musiq": MUSIQ_KONIQ}
        if name in files:  # pyiqa as is, its download pointed at the same file
            arch_util.load_file_from_url = lambda url, *a, **k: str(files[name].path(root))
        if name == "clipiqa":
            clip_model_mod = sys.modules["pyiqa.archs.clip_model"]
            clip_model_mod._download = lambda url, r=None: str(CLIP_RN50.path(root))
        import timm
        from pyiqa.archs import maniqa_arch

        real_create = timm.create_model
        maniqa_arch.timm.create_model = lambda *a, **k: real_create(*a, **{**k, "pretrained": False})
        try:
            m = pyiqa.create_metric(name, device="cpu", **kw)
        finally:
            arch_util.load_file_from_url = real
            maniqa_arch.timm.create_model = real_create
        k = per_metric.get(name, n)
        return lambda: [m(x) for x in tensors[:k]]

    def raft_pairs():
        net = torchvision.models.optical_flow.raft_large(weights=None)
        net.load_state_dict(torch.load(RAFT_LARGE.path(root), weights_only=True))
        net.eval()
        import torchvision.transforms.functional as TF

        def run() -> None:
            vids = [TF.resize(x, [720, 720], antialias=False) * 2 - 1 for x in tensors]
            with torch.no_grad():
                for a, b in itertools.pairwise(vids):
                    net(a, b)

        return run

    pairs: list[tuple[str, object, str, object]] = [
        ("dover", clip_metric("dover"), "official DOVER", None),
        ("clipiqa", frame_metric("clipiqa"), "pyiqa clipiqa", direct("clipiqa")),
        ("maniqa", frame_metric("maniqa"), "pyiqa maniqa", direct("maniqa")),
        ("musiq", frame_metric("musiq"), "pyiqa musiq", direct("musiq")),
        ("mawe", clip_metric("mawe"), "RAFT-large forward (official's flow call)", raft_pairs()),
    ]
    if dover_repo is not None:
        state = torch.load(DOVER_WEIGHTS.path(root), weights_only=True)
        official = _official_dover(dover_repo, frames, state)
        pairs[0] = ("dover", pairs[0][1], "official DOVER (f1ddc96 pipeline)", official)
    print(f"learned metrics, {n} frames of {w}x{h}, random weights, CPU, torch threads {torch.get_num_threads()}, "
          f"best of {rounds} round(s); s/frame (maniqa: 1 frame)")
    for name, ours, ref_name, ref in pairs:
        best: dict[str, float] = {}
        fns = {"ours": ours} if ref is None else {"ours": ours, "ref": ref}
        count = per_metric.get(name, n)
        for _ in range(rounds):  # models are built before the clock starts (DOVER's on first use: small)
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                sec = (time.perf_counter() - t0) / count
                best[k] = min(best.get(k, float("inf")), sec)
        if ref is None:
            print(f"  {name:8s} mgld-bench {best['ours']:7.3f} s/frame   {ref_name}: not measured (pass --dover-repo)")
        else:
            print(f"  {name:8s} mgld-bench {best['ours']:7.3f} s/frame   {ref_name} {best['ref']:7.3f} s/frame   "
                  f"ratio {best['ours'] / best['ref']:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--only", choices=("warping", "nr", "learned"), help="run one part")
    ap.add_argument("--learned-frames", type=int, default=6)
    ap.add_argument("--size", type=int, default=288, help="frame height for --only learned (width 4/3 of it)")
    ap.add_argument("--dover-repo", type=Path, help="a checkout of VQAssessment/DOVER for the official DOVER")
    args = ap.parse_args()
    if args.only in (None, "warping"):
        bench_warping(args.pairs)
    if args.only in (None, "nr"):
        bench_nr(args.frames)
    if args.only in (None, "learned"):
        bench_learned(args.learned_frames, args.size, args.dover_repo)


if __name__ == "__main__":
    main()
