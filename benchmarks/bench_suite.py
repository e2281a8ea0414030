"""The ten-metric suite through the real CLI beside the same metrics called directly (pyiqa/OpenCV).

Run (small first; every figure is measured in this one run, rounds alternate suite/direct):

    .venv/bin/python benchmarks/bench_suite.py --frames 3 --rounds 2
    .venv/bin/python benchmarks/bench_suite.py --frames 10 --rounds 2 --slope 10,20,40 --methods 3

What it does, on N generated 1280x720 frames (textured, moving; SR = GT + blur + noise; LR =
GT / 4) and stand-in weights written as the tests write them (random backbones/heads under the
real file names; no real weights are needed or read):

* per metric, a cold ``mgld-bench run --datasets folder:LR --methods precomputed:SR --metrics M
  --device cpu`` (fresh cache) and a direct loop in a fresh process (PNG decode + pyiqa/lpips
  call per frame, or OpenCV flows for the temporal metrics); both include process start-up;
  seconds per frame, ratio suite/direct, peak RSS of each process;
* the whole suite (all metrics in one run) beside one direct process doing all of them;
* the PNG-decode floor (decode SR+GT per frame) and the bare network call of each learned metric
  on tensors already in memory, pyiqa's and mgld-bench's own (the compute floor);
* ``--methods K``: K methods on one clip (K precomputed copies) for the learned full-reference
  metrics, against K independent direct calls;
* ``--slope A,B,C``: the whole suite at A, B and C frames (cost per extra frame).

Before timing, the mgld_bench package is byte-compiled (:func:`byte_compile_suite`), as
installing a wheel does, so the suite's cold runs do not compile its sources where
PYTHONDONTWRITEBYTECODE is set.

Targets (issue #15): no metric slower than its direct call; the weight-free suite (psnr, ssim,
niqe, brisque, warping_error, tof) >= 3x faster than the direct loop; with three methods the
learned FR metrics <= 0.6x three direct calls; suite peak RSS <= direct at 10 frames.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ALL = ["psnr", "ssim", "lpips", "dists", "niqe", "brisque", "musiq", "warping_error", "tof", "tlp"]
WEIGHT_FREE = ["psnr", "ssim", "niqe", "brisque", "warping_error", "tof"]
LEARNED = {"lpips": "lpips", "dists": "dists", "musiq": "musiq", "niqe": "niqe", "brisque": "brisque"}
FR_LEARNED = ["lpips", "dists"]


# -- data and stand-in weights ----------------------------------------------------------------
def make_frames(root: Path, n: int, size: tuple[int, int], copies: int = 1) -> None:
    import cv2

    from mgld_bench.frames import write_image

    h, w = size
    rng = np.random.default_rng(0)
    big = rng.random((h + 32 + n // 2 + 32, w + 4 * n + 64, 3)).astype(np.float32)  # room to pan n frames
    tex = cv2.GaussianBlur(big, (0, 0), 3.0) * 0.7 + cv2.GaussianBlur(big, (0, 0), 0.8) * 0.3
    yy, xx = np.mgrid[0 : tex.shape[0], 0 : tex.shape[1]]
    tex += (0.25 * np.sin(xx / 37.0) * np.cos(yy / 23.0))[..., None]
    tex = (tex - tex.min()) / (tex.max() - tex.min())
    for i in range(n):
        gt = (tex[16 + i // 2 : 16 + i // 2 + h, 3 * i : 3 * i + w] * 255).astype(np.uint8)  # pans right and down
        write_image(root / "gt" / "clip" / f"{i:04d}.png", gt)
        lr = cv2.resize(gt, (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        write_image(root / "lr" / "clip" / f"{i:04d}.png", lr)
        for k in range(copies):
            sr = cv2.GaussianBlur(gt, (0, 0), 0.8 + 0.3 * k).astype(np.int16) + rng.integers(-6, 7, gt.shape)
            write_image(root / f"sr{k}" / "clip" / f"{i:04d}.png", np.clip(sr, 0, 255).astype(np.uint8))


def write_standin_weights(root: Path) -> None:
    import scipy.io
    import torch
    import torchvision
    from pyiqa.archs.musiq_arch import MUSIQ

    from mgld_bench.weights import (
        ALEXNET,
        BRISQUE_SVM,
        DISTS_HEAD,
        LPIPS_ALEX_HEAD,
        MUSIQ_KONIQ,
        NIQE_PARAMS,
        VGG16,
    )

    def save(obj, wf) -> None:
        p = wf.path(root)
        p.parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, p)

    torch.manual_seed(0)
    save(torchvision.models.alexnet(weights=None).state_dict(), ALEXNET)
    save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([64, 192, 384, 256, 256])},
         LPIPS_ALEX_HEAD)
    save(torchvision.models.vgg16(weights=None).state_dict(), VGG16)
    save({"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)}, DISTS_HEAD)
    save(MUSIQ(pretrained=False).state_dict(), MUSIQ_KONIQ)
    g = torch.Generator().manual_seed(3)
    save((torch.randn(200, 1, generator=g, dtype=torch.float64) * 20,
          torch.rand(200, 36, generator=g, dtype=torch.float64) * 2 - 1), BRISQUE_SVM)
    rng = np.random.default_rng(5)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path(root).parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(NIQE_PARAMS.path(root), {"mu_prisparam": rng.normal(size=(1, 36)),
                                              "cov_prisparam": a @ a.T / 36 + np.eye(36)})


# -- processes --------------------------------------------------------------------------------
def run_process(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (GB) and CPU seconds (user + system) of one child process.  On a
    shared machine the CPU seconds are the steadier figure: wall time moves with the load."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return wall, usage.ru_maxrss / 1024**2, usage.ru_utime + usage.ru_stime  # ru_maxrss: KiB on Linux


def suite_cmd(root: Path, tag: str, metrics: list[str], n: int, methods: int = 1, device: str = "cpu") -> list[str]:
    lr = root / f"lr{n}" if (root / f"lr{n}").exists() else root / "lr"
    gt = root / f"gt{n}" if (root / f"gt{n}").exists() else root / "gt"
    srs = [root / (f"sr{k}_{n}" if (root / f"sr{k}_{n}").exists() else f"sr{k}") for k in range(methods)]
    return [sys.executable, __file__, "--cli-worker", "--weights-dir", str(root / "weights"), "run",
            "--datasets", f"folder:{lr / 'clip'}", "--set", f"folder.gt={gt / 'clip'}", "--set", "folder.scale=4",
            "--methods", ",".join(f"precomputed:{p}" for p in srs), "--metrics", ",".join(metrics),
            "--cache-dir", str(root / "cache" / tag), "--out", str(root / "out" / tag), "--no-progress",
            "--device", device]


def direct_cmd(root: Path, metrics: list[str], n: int, methods: int = 1, device: str = "cpu") -> list[str]:
    return [sys.executable, __file__, "--direct-worker", str(root), "--metrics", ",".join(metrics),
            "--frames", str(n), "--methods", str(methods), *(["--device", device] if device != "cpu" else [])]


# -- the direct loop (runs in its own process) ------------------------------------------------
def _write_gpu_stats(warm_s: float) -> None:
    """The timed warm pass and this process's peak GPU memory, to ``$BENCH_GPU_STATS`` (CUDA mode)."""
    import torch

    path = os.environ.get("BENCH_GPU_STATS")
    if path:
        Path(path).write_text(json.dumps({"warm_s": warm_s, "peak_gpu": torch.cuda.max_memory_allocated(),
                                          "card": torch.cuda.get_device_name()}))


def _read(path: Path) -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def direct_worker(root: Path, metrics: list[str], n: int, methods: int, device: str = "cpu") -> None:
    """Per frame: decode, convert, call pyiqa (or OpenCV flows); what a user would write.  On CUDA
    the models and tensors are on the device, and the loop runs twice: the second pass is timed
    (between ``torch.cuda.synchronize()`` calls) and written to ``$BENCH_GPU_STATS`` with the peak
    GPU memory."""
    import cv2
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    os.environ["TORCH_HOME"] = str(root / "weights")
    torch.hub.set_dir(str(root / "weights" / "hub"))
    import pyiqa

    from mgld_bench.weights import BRISQUE_SVM, DISTS_HEAD, LPIPS_ALEX_HEAD, MUSIQ_KONIQ, NIQE_PARAMS

    w = root / "weights"
    wp = {f: str(f.path(w)) for f in (LPIPS_ALEX_HEAD, DISTS_HEAD, NIQE_PARAMS, BRISQUE_SVM, MUSIQ_KONIQ)}
    made = {
        "psnr": lambda: pyiqa.create_metric("psnr", test_y_channel=True, color_space="ycbcr", device=device),
        "ssim": lambda: pyiqa.create_metric("ssim", test_y_channel=True, color_space="ycbcr", device=device),
        "lpips": lambda: pyiqa.create_metric("lpips", device=device, pretrained_model_path=wp[LPIPS_ALEX_HEAD]),
        "dists": lambda: pyiqa.create_metric("dists", device=device, pretrained_model_path=wp[DISTS_HEAD]),
        "niqe": lambda: pyiqa.create_metric("niqe", device=device, color_space="ycbcr",
                                            pretrained_model_path=wp[NIQE_PARAMS]),
        "brisque": lambda: pyiqa.create_metric("brisque", device=device, pretrained_model_path=wp[BRISQUE_SVM]),
        "musiq": lambda: pyiqa.create_metric("musiq", device=device, pretrained_model_path=wp[MUSIQ_KONIQ]),
    }
    models = {m: made[m]() for m in metrics if m in made}
    if "tlp" in metrics and "lpips" not in models:
        models["lpips"] = made["lpips"]()

    def t(x: np.ndarray) -> torch.Tensor:
        return (torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255.0).to(device)

    def gray(x: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(gray(a), gray(b), None, 0.5, 3, 15, 3, 5, 1.2, 0)

    def warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
        h, wd = flow.shape[:2]
        gx, gy = np.meshgrid(np.arange(wd, dtype=np.float32), np.arange(h, dtype=np.float32))
        return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def one_pass() -> None:
        gt_prev = None
        sr_prev: list[np.ndarray | None] = [None] * methods
        with torch.inference_mode():
            for i in range(n):
                gt = _read(root / "gt" / "clip" / f"{i:04d}.png")
                for k in range(methods):
                    sr = _read(root / f"sr{k}" / "clip" / f"{i:04d}.png")
                    x, y = t(sr), t(gt)
                    for m, model in models.items():
                        if m in metrics:
                            model(x, y) if model.metric_mode == "FR" else model(x)
                    if i > 0 and "warping_error" in metrics:  # Lai: GT flows both ways, mask, error on SR
                        fwd = dis.calc(gray(gt_prev), gray(gt), None)
                        bwd = dis.calc(gray(gt), gray(gt_prev), None)
                        back = warp(bwd, fwd)
                        mask = (np.sum((fwd + back) ** 2, -1) < 0.01 * (np.sum(fwd**2, -1) + np.sum(back**2, -1)) + 0.5)
                        a = sr_prev[k].astype(np.float32) / 255
                        b = warp(sr.astype(np.float32) / 255, fwd)
                        float(np.sum(mask[..., None] * (b - a) ** 2) / max(1, 3 * mask.sum()))
                    if i > 0 and "tof" in metrics:
                        d = farneback(sr_prev[k], sr) - farneback(gt_prev, gt)
                        float(np.mean(np.sqrt(np.sum(d * d, -1))))
                    if i > 0 and "tlp" in metrics:
                        lp = models["lpips"]
                        abs(float(lp(t(gt_prev), y)) - float(lp(t(sr_prev[k]), x)))
                    sr_prev[k] = sr
                gt_prev = gt

    if device == "cpu":
        one_pass()
        return
    one_pass()  # warm-up: CUDA kernels chosen, caches filled
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    one_pass()
    torch.cuda.synchronize()
    _write_gpu_stats(time.perf_counter() - t0)


# -- in-process floors ------------------------------------------------------------------------
def decode_floor(root: Path, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        _read(root / "gt" / "clip" / f"{i:04d}.png")
        _read(root / "sr0" / "clip" / f"{i:04d}.png")
    return (time.perf_counter() - t0) / n


def forward_floor(root: Path, n: int, metrics: list[str]) -> dict[str, float]:
    """Seconds per frame of the bare pyiqa call on tensors already in memory, and of the same
    metric's own network (``M native``, the suite's default backend)."""
    out: dict[str, float] = {}
    code = (
        "import sys, time, json, os, torch\n"
        "root, n, ms = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(',')\n"
        "torch.set_num_threads(int(os.environ.get('BENCH_THREADS', '2')))\n"
        "os.environ['TORCH_HOME'] = root + '/weights'; torch.hub.set_dir(root + '/weights/hub')\n"
        "import pyiqa, cv2, numpy as np\n"
        "from mgld_bench import weights as W\n"
        "os.environ['MGLD_BENCH_WEIGHTS'] = root + '/weights'\n"
        "import mgld_bench.weight_trust as trust; trust.CHECK_PUBLISHED_ON_LOAD = False\n"
        "from mgld_bench.registry import METRICS\n"
        "from mgld_bench.metrics.backends.native_nets import load_native\n"
        "files = {'lpips': W.LPIPS_ALEX_HEAD, 'dists': W.DISTS_HEAD, 'musiq': W.MUSIQ_KONIQ}\n"
        "def rd(p):\n"
        "    return torch.from_numpy(cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)).permute(2,0,1)[None] / 255.0\n"
        "xs = [rd(f'{root}/sr0/clip/{i:04d}.png') for i in range(n)]\n"
        "ys = [rd(f'{root}/gt/clip/{i:04d}.png') for i in range(n)]\n"
        "res = {}\n"
        "for m in ms:\n"
        "    path = str(files[m].path(root + '/weights'))\n"
        "    model = pyiqa.create_metric(m, device='cpu', pretrained_model_path=path)\n"
        "    with torch.inference_mode():\n"
        "        t0 = time.perf_counter()\n"
        "        for x, y in zip(xs, ys): model(x, y) if model.metric_mode == 'FR' else model(x)\n"
        "    res[m] = (time.perf_counter() - t0) / n\n"
        "    native = load_native(METRICS.create(m).spec(), 'cpu')  # the suite's default network\n"
        "    with torch.inference_mode():\n"
        "        t0 = time.perf_counter()\n"
        "        for x, y in zip(xs, ys): native._fn(x, y)\n"
        "    res[m + ' native'] = (time.perf_counter() - t0) / n\n"
        "print(json.dumps(res))\n"
    )
    ms = [m for m in ("lpips", "dists", "musiq") if m in metrics]
    if ms:
        r = subprocess.run([sys.executable, "-c", code, str(root), str(n), ",".join(ms)], check=True,
                           capture_output=True, text=True)
        out.update(json.loads(r.stdout.strip().splitlines()[-1]))
    return out


def link_subset(root: Path, n: int, methods: int) -> None:
    """Folders holding only the first n frames (hard links) for the slope runs."""
    for name in ["lr", "gt", *[f"sr{k}" for k in range(methods)]]:
        dst = root / f"{name}_{n}" if name.startswith("sr") else root / f"{name}{n}"
        (dst / "clip").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            target = dst / "clip" / f"{i:04d}.png"
            if not target.exists():
                os.link(root / name / "clip" / f"{i:04d}.png", target)


def whole_suite(args: argparse.Namespace, root: Path, env: dict[str, str], metrics: list[str], n: int,
                counter, best) -> None:
    """All metrics in one run beside one direct process; floors; K methods on one clip."""
    print(f"\n## whole suite ({len(metrics)} metrics in one run), {n} frames, best of {args.rounds} alternating")
    (s, s_cpu, s_rss), (d, d_cpu, d_rss) = best(
        lambda: suite_cmd(root, f"all-{next(counter)}", metrics, n), lambda: direct_cmd(root, metrics, n), args.rounds)
    print(f"suite {s:.1f} s wall, {s_cpu:.1f} CPU-s ({s / n:.2f} s/frame, peak RSS {s_rss:.2f} GB); direct {d:.1f} s "
          f"wall, {d_cpu:.1f} CPU-s ({d / n:.2f} s/frame, peak RSS {d_rss:.2f} GB); suite/direct = {s / d:.2f} wall, "
          f"{s_cpu / d_cpu:.2f} CPU")
    wf_metrics = [m for m in metrics if m in WEIGHT_FREE]
    if wf_metrics and wf_metrics != metrics:
        (ws, ws_cpu, _), (wd, wd_cpu, _) = best(lambda: suite_cmd(root, f"wf-{next(counter)}", wf_metrics, n),
                                                lambda: direct_cmd(root, wf_metrics, n), args.rounds)
        print(f"weight-free suite ({','.join(wf_metrics)}) in one run: {ws:.1f} s ({ws_cpu:.1f} CPU-s) vs direct "
              f"{wd:.1f} s ({wd_cpu:.1f} CPU-s): direct/suite = {wd / ws:.2f}x wall, {wd_cpu / ws_cpu:.2f}x CPU "
              "(target >= 3x)")

    print(f"\nPNG-decode floor (SR + GT, cv2): {decode_floor(root, n) * 1000:.0f} ms per frame")
    fl = forward_floor(root, n, metrics)
    for m, v in fl.items():
        if not m.endswith(" native"):
            print(f"bare network call on in-memory tensors, {m}: pyiqa {v:.3f} s/frame, "
                  f"mgld-bench's own network {fl[m + ' native']:.3f} s/frame")

    fr = [m for m in metrics if m in FR_LEARNED]
    if args.methods > 1 and fr:
        k = args.methods
        (s, s_cpu, _), (d1, d1_cpu, _) = best(lambda: suite_cmd(root, f"k-{next(counter)}", fr, n, methods=k),
                                              lambda: direct_cmd(root, fr, n), args.rounds)
        print(f"\n{k} methods on one clip, {','.join(fr)}: suite {s:.1f} s ({s_cpu:.1f} CPU-s) vs {k} independent "
              f"direct runs {k * d1:.1f} s ({k * d1_cpu:.1f} CPU-s): {s / (k * d1):.2f}x wall, "
              f"{s_cpu / (k * d1_cpu):.2f}x CPU (target <= 0.6x)")


# -- CUDA mode (--device cuda) ---------------------------------------------------------------
CUDA_LEARNED = ["lpips", "dists", "musiq", "tlp"]

_CUDA_FORWARD = """
import json, os, sys, time, torch
root, n, ms = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(',')
os.environ['TORCH_HOME'] = root + '/weights'; torch.hub.set_dir(root + '/weights/hub')
import cv2, pyiqa
from mgld_bench import weights as W
from mgld_bench.registry import METRICS
files = {'lpips': W.LPIPS_ALEX_HEAD, 'dists': W.DISTS_HEAD, 'musiq': W.MUSIQ_KONIQ}
def rd(p):
    a = cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB)
    return (torch.from_numpy(a).permute(2, 0, 1)[None] / 255.0).cuda()
xs = [rd(f'{root}/sr0/clip/{i:04d}.png') for i in range(n)]
ys = [rd(f'{root}/gt/clip/{i:04d}.png') for i in range(n)]
res = {}
for m in ms:
    model = pyiqa.create_metric(m, device='cuda', pretrained_model_path=str(files[m].path(root + '/weights')))
    fr = model.metric_mode == 'FR'
    def call(x, y):
        return model(x, y) if fr else model(x)
    row = {}
    with torch.inference_mode():
        for batch in (1, 4):
            xb = [torch.cat(xs[i:i + batch]) for i in range(0, n, batch)]
            yb = [torch.cat(ys[i:i + batch]) for i in range(0, n, batch)]
            call(xb[0], yb[0])  # warm-up
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            for x, y in zip(xb, yb):
                call(x, y)
            torch.cuda.synchronize()
            row[f'fps{batch}'] = n / (time.perf_counter() - t0)
            row[f'peak{batch}'] = torch.cuda.max_memory_allocated()
        # how far fp16 / bf16 autocast would move the value (stand-in weights: not a verdict)
        ref = torch.cat([call(x, y).reshape(-1).double() for x, y in zip(xs, ys)])
        tol = METRICS.create(m).facts.tolerance
        for dt in ('float16', 'bfloat16'):
            with torch.autocast('cuda', dtype=getattr(torch, dt)):
                got = torch.cat([call(x, y).reshape(-1).double() for x, y in zip(xs, ys)])
            move = (got - ref).abs()
            allowed = torch.tensor([tol.allowed(float(v)) for v in ref], dtype=torch.float64, device=move.device)
            row[dt] = [float(move.max()), bool((move <= allowed).all())]
        row['tolerance'] = [tol.abs, tol.rel]
    res[m] = row
    del model; torch.cuda.empty_cache()
print(json.dumps(res))
"""


def cuda_forward(root: Path, n: int, metrics: list[str]) -> dict[str, dict]:
    """Bare pyiqa forward on CUDA, tensors already on the device: frames/s at batch 1 and 4, peak
    GPU memory, and the value movement of fp16/bf16 autocast against fp32."""
    ms = [m for m in ("lpips", "dists", "musiq") if m in metrics]
    if not ms:
        return {}
    r = subprocess.run([sys.executable, "-c", _CUDA_FORWARD, str(root), str(n), ",".join(ms)], check=True,
                       capture_output=True, text=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_gpu_process(cmd: list[str], env: dict[str, str], stats: Path) -> tuple[float, dict]:
    """Cold wall seconds of a CUDA-mode child and what it wrote to ``$BENCH_GPU_STATS``."""
    stats.unlink(missing_ok=True)
    wall, _, _ = run_process(cmd, {**env, "BENCH_GPU_STATS": str(stats)})
    return wall, json.loads(stats.read_text())


def cuda_report(args: argparse.Namespace, root: Path, env: dict[str, str], metrics: list[str], n: int) -> None:
    """Frames/s of each learned metric and of the whole suite, suite (real CLI, --device cuda)
    beside pyiqa called directly on CUDA; warm pass of each process timed between
    torch.cuda.synchronize() calls; peak GPU memory of each side."""
    import torch

    print(f"# CUDA: {torch.cuda.get_device_name()}, torch {torch.__version__}; {n} frames of {args.size}, "
          f"best of {args.rounds} alternating runs; frames/s of the warm pass (second pass in the same "
          "process, synchronised), cold = whole process incl. start-up and model loading")
    print("| metric | suite frames/s | pyiqa frames/s | suite/pyiqa | suite cold s | pyiqa cold s "
          "| suite peak GPU GB | pyiqa peak GPU GB |")
    print("|---|---|---|---|---|---|---|---|")
    stats = root / "gpu-stats.json"
    rows = [[m] for m in metrics if m in CUDA_LEARNED]
    if len(metrics) > 1:
        rows.append(metrics)
    for ms in rows:
        best: list[tuple[float, float, float]] = []
        for side in ("suite", "direct"):
            walls, warms, peaks = [], [], []
            for r in range(args.rounds):
                cmd = (suite_cmd(root, f"cuda-{'-'.join(ms)}-{r}", ms, n, device="cuda") if side == "suite"
                       else direct_cmd(root, ms, n, device="cuda"))
                wall, st = run_gpu_process(cmd, env, stats)
                walls.append(wall)
                warms.append(st["warm_s"])
                peaks.append(st["peak_gpu"])
            best.append((min(warms), min(walls), max(peaks) / 1024**3))
        (sw, sc, sp), (dw, dc, dp) = best
        name = ms[0] if len(ms) == 1 else f"whole suite ({len(ms)} metrics)"
        print(f"| {name} | {n / sw:.1f} | {n / dw:.1f} | {dw / sw:.2f}x | {sc:.1f} | {dc:.1f} | {sp:.2f} | {dp:.2f} |",
              flush=True)
    fw = cuda_forward(root, n, metrics)
    if fw:
        print("\nbare pyiqa forward on CUDA, tensors already on the device (the compute floor):")
        print("| metric | frames/s batch 1 | frames/s batch 4 | peak GPU GB b1 | peak GPU GB b4 "
              "| fp16 max move (within tolerance) | bf16 max move (within tolerance) | tolerance abs, rel |")
        print("|---|---|---|---|---|---|---|---|")
        for m, r in fw.items():
            gb1, gb4 = r["peak1"] / 1024**3, r["peak4"] / 1024**3
            print(f"| {m} | {r['fps1']:.1f} | {r['fps4']:.1f} | {gb1:.2f} | {gb4:.2f} "
                  f"| {r['float16'][0]:.2e} ({'yes' if r['float16'][1] else 'NO'}) "
                  f"| {r['bfloat16'][0]:.2e} ({'yes' if r['bfloat16'][1] else 'NO'}) "
                  f"| {r['tolerance'][0]:g}, {r['tolerance'][1]:g} |")
        print("(fp16/bf16 moves are measured with stand-in random weights: evidence, not a verdict; "
              "metrics run in fp32, docs/metrics.md)")


def cli_worker(argv: list[str]) -> int:
    """``mgld-bench ARGV`` with the stand-in weights accepted: they carry the released file names
    but not the released bytes, so the published-sha256 check is off in this child (first-use
    records still apply), as the tests do."""
    import mgld_bench.weight_trust as trust
    from mgld_bench.cli import main as cli_main

    trust.CHECK_PUBLISHED_ON_LOAD = False
    if "BENCH_GPU_STATS" not in os.environ or "--device" not in argv or argv[argv.index("--device") + 1] == "cpu":
        return int(cli_main(argv) or 0)
    # CUDA mode: a cold run (models built, CUDA kernels chosen), then the same run into a fresh
    # cache and output folder, timed between torch.cuda.synchronize() calls: the steady state
    import torch

    rc = int(cli_main(argv) or 0)
    if rc:
        return rc
    again = list(argv)
    for flag in ("--cache-dir", "--out"):
        again[again.index(flag) + 1] += "-warm"
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    rc = int(cli_main(again) or 0)
    torch.cuda.synchronize()
    _write_gpu_stats(time.perf_counter() - t0)
    return rc


def byte_compile_suite() -> str:
    """Byte-compile the mgld_bench package the suite's children import, as installing a wheel
    does (pyiqa and torch come with theirs).  Where PYTHONDONTWRITEBYTECODE is set, an
    editable checkout is otherwise compiled from source by every cold run (about 0.1-0.15
    CPU-s on 2 cores), which the direct loop never pays."""
    import importlib.util

    spec = importlib.util.find_spec("mgld_bench")  # finds it without importing it
    folder = (spec.submodule_search_locations or [None])[0] if spec is not None else None
    if folder is None:
        return "mgld_bench not found to byte-compile"
    done = subprocess.run([sys.executable, "-m", "compileall", "-q", folder], stdout=subprocess.DEVNULL).returncode == 0
    return f"mgld_bench byte-compiled in {folder}" if done else f"mgld_bench not byte-compiled ({folder} not writable?)"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--cli-worker":
        raise SystemExit(cli_worker(sys.argv[2:]))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--metrics", default=",".join(ALL))
    ap.add_argument("--size", default="720x1280", help="HxW of the frames")
    ap.add_argument("--methods", type=int, default=1, help="K methods on one clip for the learned FR metrics")
    ap.add_argument("--slope", default="", help="frame counts for the whole-suite slope, e.g. 10,20,40")
    ap.add_argument("--no-per-metric", action="store_true", help="only the whole suite")
    ap.add_argument("--slope-only", action="store_true",
                    help="only the --slope runs (time and peak RSS per frame count, direct RSS at the first)")
    ap.add_argument("--keep", default="", help="keep the generated data in this folder")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="cuda: frames/s of the learned metrics and the whole suite beside pyiqa on CUDA")
    ap.add_argument("--direct-worker", default="", help=argparse.SUPPRESS)
    ap.add_argument("--prepare-worker", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    metrics = [m for m in args.metrics.split(",") if m]
    if args.direct_worker:
        direct_worker(Path(args.direct_worker), metrics, args.frames, args.methods, args.device)
        return
    if args.device == "cuda" and not args.prepare_worker:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("bench_suite --device cuda: torch sees no CUDA device here (run it where a GPU is, "
                             "e.g. benchmarks/gpu_checks.sh); the CPU figures come from --device cpu")
    if args.prepare_worker:
        h, w = (int(v) for v in args.size.split("x"))
        make_frames(Path(args.prepare_worker), args.frames, (h, w), copies=args.methods)
        write_standin_weights(Path(args.prepare_worker) / "weights")
        return
    h, w = (int(v) for v in args.size.split("x"))
    slope = [int(v) for v in args.slope.split(",") if v]
    n_max = max([args.frames, *slope])
    tmp = tempfile.TemporaryDirectory() if not args.keep else None
    root = Path(args.keep or tmp.name)  # type: ignore[union-attr]
    env = {**os.environ, "MGLD_BENCH_WEIGHTS": str(root / "weights"), "HF_ENDPOINT": "http://127.0.0.1:9"}
    t0 = time.perf_counter()
    # in a child: this process must stay small, since a child's peak RSS starts from its parent's
    subprocess.run([sys.executable, __file__, "--prepare-worker", str(root), "--frames", str(n_max),
                    "--size", args.size, "--methods", str(max(1, args.methods))], check=True)
    print(f"# {n_max} frames {w}x{h} and stand-in weights written in {time.perf_counter() - t0:.1f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"# {byte_compile_suite()}")
    n = args.frames
    if n != n_max:
        link_subset(root, n, max(1, args.methods))

    def best(suite_of, direct_of, rounds: int) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """Alternating rounds of two commands: (best wall, best CPU seconds, peak RSS) of each."""
        runs: list[list[tuple[float, float, float]]] = [[], []]
        for _ in range(rounds):
            for j, cmd_of in enumerate((suite_of, direct_of)):
                runs[j].append(run_process(cmd_of(), env))
        return tuple((min(r[0] for r in rs), min(r[2] for r in rs), max(r[1] for r in rs)) for rs in runs)  # type: ignore[return-value]

    if args.device == "cuda":
        cuda_report(args, root, env, metrics, n)
        if tmp is not None:
            tmp.cleanup()
        return
    counter = iter(range(10**6))
    rows = []
    if args.slope_only:
        args.no_per_metric, args.methods = True, 1
    if not args.no_per_metric:
        print(f"\n## per metric, {n} frames, best of {args.rounds} alternating cold runs (incl. start-up)")
        print("| metric | suite s/frame | direct s/frame | suite/direct | suite CPU-s | direct CPU-s | CPU ratio "
              "| suite peak RSS GB | direct peak RSS GB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for m in metrics:
            (s, s_cpu, s_rss), (d, d_cpu, d_rss) = best(
                lambda m=m: suite_cmd(root, f"{m}-{next(counter)}", [m], n), lambda m=m: direct_cmd(root, [m], n),
                args.rounds)
            s, d = s / n, d / n
            rows.append((m, s, d))
            print(f"| {m} | {s:.3f} | {d:.3f} | {s / d:.2f} | {s_cpu:.1f} | {d_cpu:.1f} | {s_cpu / d_cpu:.2f} "
                  f"| {s_rss:.2f} | {d_rss:.2f} |", flush=True)
        wf = [r for r in rows if r[0] in WEIGHT_FREE]
        if wf:
            s, d = sum(r[1] for r in wf), sum(r[2] for r in wf)
            names = ", ".join(r[0] for r in wf)
            print(f"\nweight-free metrics ({names}), sum of separate runs: suite {s:.3f} s/frame, "
                  f"direct {d:.3f} s/frame, direct/suite = {d / s:.2f}x (target >= 3x)")

    if not args.slope_only:
        whole_suite(args, root, env, metrics, n, counter, best)
    if slope:
        print(f"\n## whole-suite slope ({','.join(metrics)})")
        times, peaks = [], []
        for m_n in slope:
            if m_n != n_max:
                link_subset(root, m_n, 1)
            wall, peak, cpu = run_process(suite_cmd(root, f"slope-{m_n}-{next(counter)}", metrics, m_n), env)
            times.append(wall)
            print(f"{m_n} frames: {wall:.1f} s, {cpu:.1f} CPU-s, peak RSS {peak:.2f} GB, load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
            peaks.append(peak)
        for j in range(1, len(slope)):
            a, ta, b, tb = slope[j - 1], times[j - 1], slope[j], times[j]
            print(f"{a}->{b} frames: {(tb - ta) / (b - a):.2f} s per extra frame")
        _, d_peak, _ = run_process(direct_cmd(root, metrics, slope[0]), env)
        print(f"peak RSS: suite {min(peaks):.2f}-{max(peaks):.2f} GB over {slope[0]}-{slope[-1]} frames "
              f"(+{(max(peaks) - min(peaks)) * 1024:.0f} MB); direct at {slope[0]} frames {d_peak:.2f} GB "
              "(targets: <= direct at 10 frames, <= 3 GB at 100)")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
