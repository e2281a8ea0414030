"""Regenerate ``dover_official.json`` by running the official DOVER code (not part of the suite).

Usage::

    git clone https://github.com/VQAssessment/DOVER /tmp/DOVER   # commit f1ddc96 was used
    .venv/bin/python tests/reference/dover/regenerate.py /tmp/DOVER

Needs torch, torchvision, timm, einops and pyyaml.  Stand-ins (this script only): ``decord``
(its ``VideoReader`` serves the synthetic frames of ``tests/metrics/_dover_fixture.py`` as torch uint8
tensors, as decord's torch bridge does), ``skvideo`` (unused for non-YUV input) and the ImageNet
ConvNeXt download (the aesthetic backbone is built with ``pretrained=False``: every weight is
then replaced by ``reference_weights`` and loaded with ``strict=True``).  The random offsets the
official samplers draw (``np.random.randint``, ``torch.randint``) are recorded so the port can
replay them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for tests.metrics._dover_fixture
from tests.metrics._dover_fixture import CASES, SEED, reference_frames, reference_weights  # noqa: E402

FRAMES: list[np.ndarray] = []


class _VideoReader:
    def __init__(self, path: str, *a: object, **k: object) -> None:
        self.frames = [torch.from_numpy(f.copy()) for f in FRAMES]

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.frames[int(i)]


def _stub_modules() -> None:
    decord = types.ModuleType("decord")
    decord.VideoReader = _VideoReader
    decord.cpu = decord.gpu = lambda *a, **k: None
    decord.bridge = types.SimpleNamespace(set_bridge=lambda *a, **k: None)
    sys.modules["decord"] = decord
    skvideo = types.ModuleType("skvideo")
    skvideo.io = types.ModuleType("skvideo.io")
    sys.modules["skvideo"] = skvideo
    sys.modules["skvideo.io"] = skvideo.io


def _replay(indices: np.ndarray):
    def sampler(total: int, train: bool = False) -> np.ndarray:
        return indices

    return sampler


def main(src: Path) -> None:
    _stub_modules()
    sys.path.insert(0, str(src))
    import evaluate_a_set_of_videos as official_script
    import yaml
    from dover.datasets import dover_datasets as dd
    from dover.models import evaluator as ev

    orig_convnext = ev.convnext_3d_tiny
    ev.convnext_3d_tiny = lambda pretrained=True, **kw: orig_convnext(pretrained=False, **kw)
    opt = yaml.safe_load((src / "dover.yml").read_text())
    model = ev.DOVER(**opt["model"]["args"])
    state = model.state_dict()
    weights = {k: torch.from_numpy(v) for k, v in reference_weights(state).items()}
    full = {k: weights.get(k, v) for k, v in state.items()}
    model.load_state_dict(full, strict=True)
    model.eval()
    keys = {k: list(v.shape) for k, v in state.items()}
    int_buffers = hashlib.sha256(b"".join(
        state[k].numpy().astype(np.int64).tobytes() for k in sorted(state) if not state[k].is_floating_point()
    )).hexdigest()

    # record the samplers' random draws
    log: list[np.ndarray] = []
    real_np_randint, real_torch_randint = np.random.randint, torch.randint

    def np_randint(*a, **k):
        out = real_np_randint(*a, **k)
        log.append(("np", np.asarray(out)))
        return out

    def torch_randint(*a, **k):
        out = real_torch_randint(*a, **k)
        log.append(("torch", out.numpy()))
        return out

    np.random.randint = np_randint
    torch.randint = torch_randint

    out: dict[str, object] = {"source": "VQAssessment/DOVER f1ddc96", "weights_seed": SEED,
                              "state_dict": keys, "int_buffers_sha256": int_buffers, "cases": {}}
    base = opt["data"]["val-l1080p"]["args"]["sample_types"]
    for name, case in CASES.items():
        n, h, w, fseed = case["frames"]
        FRAMES[:] = reference_frames(n, h, w, fseed)
        s = dict(case["sampling"])
        if s:
            st = {"technical": {"fragments_h": s["grid"], "fragments_w": s["grid"], "fsize_h": s["fragment"],
                                "fsize_w": s["fragment"], "aligned": s["clip_len"], "clip_len": s["clip_len"],
                                "frame_interval": s["frame_interval"], "num_clips": s["clips"]},
                  "aesthetic": {"size_h": s["aesthetic_size"], "size_w": s["aesthetic_size"],
                                "clip_len": s["aesthetic_clip_len"], "frame_interval": s["frame_interval"],
                                "t_frag": s["aesthetic_frames"], "num_clips": 1}}
        else:
            st = base
        samplers = {}
        for stype, sopt in st.items():  # as ViewDecompositionDataset builds them
            if "t_frag" not in sopt:
                samplers[stype] = dd.UnifiedFrameSampler(sopt["clip_len"], sopt["num_clips"], sopt["frame_interval"])
            else:
                samplers[stype] = dd.UnifiedFrameSampler(sopt["clip_len"] // sopt["t_frag"], sopt["t_frag"],
                                                         sopt["frame_interval"], sopt["num_clips"])
        np.random.seed(7)
        torch.manual_seed(7)
        record: dict[str, object] = {}
        for stype in samplers:  # temporal offsets, one sampler call per branch (as the decomposition does)
            log.clear()
            sampler = samplers[stype]
            idx = sampler(n)
            segs = sampler.fragments_t
            draws = [d for kind, d in log if kind == "np"]
            offs = np.concatenate([d.reshape(-1) for d in draws]) if draws else np.zeros(segs * sampler.num_clips)
            record[f"{stype}_offsets"] = offs.astype(int).tolist()
            record[f"{stype}_indices"] = np.asarray(idx).astype(int).tolist()
        fixed = {k: _replay(np.asarray(record[f"{k}_indices"])) for k in samplers}
        log.clear()
        views, _ = dd.spatial_temporal_view_decomposition("synthetic.mp4", st, fixed)
        tech = st["technical"]
        cell_h, cell_w = h // tech["fragments_h"], w // tech["fragments_w"]
        draws = [d for kind, d in log if kind == "torch"]
        chunks = (tech["clip_len"] * tech["num_clips"]) // tech["aligned"]
        zeros = np.zeros((tech["fragments_h"], tech["fragments_w"], chunks), dtype=int)
        oh = draws.pop(0) if cell_h > tech["fsize_h"] else zeros
        ow = draws.pop(0) if cell_w > tech["fsize_w"] else zeros
        record["fragment_offsets_h"] = np.asarray(oh).astype(int).tolist()
        record["fragment_offsets_w"] = np.asarray(ow).astype(int).tolist()
        mean, std = official_script.mean, official_script.std
        video = {}
        for k in ("aesthetic", "technical"):  # evaluate_a_set_of_videos' order and reshaping
            v = ((views[k].permute(1, 2, 3, 0) - mean) / std).permute(3, 0, 1, 2)
            c, t, hh, ww = v.shape
            nc = st[k]["num_clips"]
            video[k] = v.reshape(c, nc, t // nc, hh, ww).permute(1, 0, 2, 3, 4)
            record[f"{k}_view_sum"] = float(video[k].double().sum())
            record[f"{k}_view_sumsq"] = float((video[k].double() ** 2).sum())
            record[f"{k}_view_shape"] = list(video[k].shape)
        with torch.no_grad():
            results = [float(np.mean(r.cpu().numpy())) for r in model(video, reduce_scores=False)]
        record["raw"] = {"aesthetic": results[0], "technical": results[1]}
        record["fused"] = {k: float(v) for k, v in official_script.fuse_results(results).items()}
        out["cases"][name] = record
        print(name, record["raw"], record["fused"], flush=True)
    (HERE / "dover_official.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
