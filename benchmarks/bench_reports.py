"""Report speed: the reports `mgld-bench run` writes, and tables/compare on a paper-sized store.

Run: .venv/bin/python benchmarks/bench_reports.py [--work DIR] [--only-reds]
(``--work`` keeps the generated fake REDS4 run, which takes minutes to make, for the next call)
Figures printed:
0. OUT/report.html (mgld_bench.report.html.write_html_report) on the demo of `make demo` and on a
   REDS4-sized fake run (4 clips x 100 frames x 3 methods at 1280x720, frames generated and put
   straight into a store and cache): time and size (targets: under 60 s and 50 MB with the
   default options), and the ratio to decoding every frame the page draws from once (the floor).
1. write_run_reports on the synthetic demo (target: under ~3 s), and its ratio to the
   (fully cached) demo run itself, measured in the same process.
2. table (4 formats/layouts) + compare on a paper-sized store (4 datasets x 10 methods x 50
   clips x 8 metrics = 16,000 clip values) and its ratio to reading the same rows with
   pandas.read_csv (the floor for any tool that reads the results).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def demo_figures(root: Path) -> tuple[float, float, int]:
    from mgld_bench.cli import main
    from mgld_bench.report.run_reports import write_run_reports

    os.environ["MGLD_BENCH_CACHE"] = str(root / "cache")
    os.environ["TQDM_DISABLE"] = "1"
    main(["run", "--out", str(root / "warm"), "--no-progress", "--no-html"])  # fill the cache
    import mgld_bench.report.run_reports as rr

    saved = rr.write_run_reports
    rr.write_run_reports = lambda out, store, reference=None: rr.RunReports("")  # the run without its reports
    t0 = time.perf_counter()
    main(["run", "--out", str(root / "demo"), "--no-progress", "--no-html"])
    t_run = time.perf_counter() - t0
    rr.write_run_reports = saved
    t0 = time.perf_counter()
    written = write_run_reports(root / "demo", root / "demo" / "results.sqlite").written
    return time.perf_counter() - t0, t_run, len(written)


DEMO_ARGS = ["--methods", "bicubic,nearest", "--metrics", "psnr,ssim,warping_error,tof"]
REDS_SIZE = (720, 1280)


def folder_size(*paths: Path) -> int:
    total = 0
    for path in paths:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files)
    return total


def decode_floor(store: Path) -> float:
    """Seconds to read every frame of every source once (what any page of these frames must do)."""
    from mgld_bench.report.frame_sources import clip_sources
    from mgld_bench.report.store_read import query

    pairs = query(store, "SELECT DISTINCT dataset, clip FROM clip_scores")
    t0 = time.perf_counter()
    for dataset, clip in zip(pairs["dataset"], pairs["clip"], strict=True):
        for _, frames in clip_sources(store, dataset, clip):
            for i in range(len(frames)):
                frames[i]
    return time.perf_counter() - t0


def html_report(out: Path) -> tuple[float, int, float]:
    from mgld_bench.report.html import write_html_report

    t0 = time.perf_counter()
    page = write_html_report(out, out / "results.sqlite")
    elapsed = time.perf_counter() - t0
    return elapsed, folder_size(page, out / "report_files"), decode_floor(out / "results.sqlite")


def html_demo(root: Path) -> tuple[float, int, float]:
    from mgld_bench.cli import main

    os.environ["MGLD_BENCH_CACHE"] = str(root / "cache")
    os.environ["TQDM_DISABLE"] = "1"
    main(["run", *DEMO_ARGS, "--out", str(root / "html-demo"), "--no-progress", "--no-html"])
    return html_report(root / "html-demo")


def fake_frame(texture: np.ndarray, t: int) -> np.ndarray:
    h, w = REDS_SIZE
    return texture[t // 2 : t // 2 + h, 2 * t : 2 * t + w]  # pans right and down


def fake_reds4(root: Path, clips: int = 4, frames: int = 100) -> Path:
    """A REDS4-sized store: GT/LR folders, three methods' 720p outputs in the cache, per-frame values."""
    import cv2

    from mgld_bench.frames import encode_png
    from mgld_bench.registry import DATASETS
    from mgld_bench.runner.plan import create
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.results import ClipRecord, ResultStore

    cache = Cache(root / "cache")
    h, w = REDS_SIZE
    methods = {
        "blurry": lambda f, rng: cv2.GaussianBlur(f, (0, 0), 1.2),
        "noisy": lambda f, rng: np.clip(f + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8),
        "blocky": lambda f, rng: cv2.resize(cv2.resize(f, (w // 4, h // 4), interpolation=cv2.INTER_AREA), (w, h),
                                       interpolation=cv2.INTER_NEAREST),
    }
    out = root / "reds"
    store = ResultStore(out / "results.sqlite")
    def one_clip(c: int) -> list[ClipRecord]:
        name = f"{c:03d}"
        rng = np.random.default_rng(c)
        coarse = rng.uniform(0, 255, ((h + frames) // 16 + 2, (w + 2 * frames) // 16 + 2, 3)).astype(np.float32)
        texture = cv2.resize(coarse, (coarse.shape[1] * 16, coarse.shape[0] * 16), interpolation=cv2.INTER_CUBIC)
        texture += rng.normal(0, 6, texture.shape).astype(np.float32)  # fine detail, as in real footage
        texture = np.clip(texture, 0, 255).astype(np.uint8)
        outputs: dict[str, list[str]] = {m: [] for m in methods}
        for t in range(frames):
            gt = np.ascontiguousarray(fake_frame(texture, t))
            for folder, frame in (("gt", gt), ("lr", cv2.resize(gt, (w // 4, h // 4), interpolation=cv2.INTER_AREA))):
                (root / folder / name).mkdir(parents=True, exist_ok=True)
                (root / folder / name / f"{t:08d}.png").write_bytes(encode_png(frame))
            for m, degrade in methods.items():
                outputs[m].append(cache.put_blob(encode_png(degrade(gt, rng))))
        records = []
        for m, shas in outputs.items():
            key = f"fake-{m}-{name}"
            digest = hashlib.sha256("".join(shas).encode()).hexdigest()
            cache.put_json("infer", key, {"format": 1, "frames": shas, "digest": digest, "size": [h, w]})
            for metric, hib in (("psnr", True), ("ssim", True), ("warping_error", False)):
                values = {t: float(rng.uniform(20, 30)) for t in range(frames)}
                mean = float(np.mean(list(values.values())))
                records.append(
                    ClipRecord("x", m, name, metric, "default", mean, values, higher_is_better=hib, infer_key=key)
                )
        return records

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(clips, os.cpu_count() or 1)) as pool:
        records = [r for recs in pool.map(one_clip, range(clips)) for r in recs]
    spec = f"folder:{root / 'lr'}"
    label = create(DATASETS, spec, {"folder": {"gt": str(root / "gt")}}).label
    records = [ClipRecord(**{**r.__dict__, "dataset": label}) for r in records]
    run_id = store.start_run(["mgld-bench", "run", "(fake)"], {
        "cache_dir": str(cache.root),
        "datasets": {label: {"spec": spec, "options": {"gt": str(root / "gt")}, "root": None}},
    })
    for rec in records:
        store.write(run_id, rec)
    store.finish_run(run_id)
    store.close()
    return out


def big_store(path: Path) -> None:
    import pandas as pd

    rng = np.random.default_rng(0)
    metrics = {"psnr": 1, "ssim": 1, "lpips": 0, "dists": 0, "niqe": 0, "brisque": 0, "musiq": 1, "warping-error": 0}
    rows = []
    for d in ("reds4", "udm10", "spmcs", "videolq"):
        for m in range(10):
            for c in range(50):
                for metric, hib in metrics.items():
                    rows.append(
                        {
                            "dataset": d,
                            "method": f"method_{m}",
                            "clip": f"{c:03d}",
                            "metric": metric,
                            "value": float(rng.uniform(0, 30)),
                            "protocol": "default",
                            "n_frames": 100,
                            "higher_is_better": hib,
                            "unit": "",
                            "params": "{}",
                            "protocol_fields": json.dumps({"color_space": "y"}),
                        }
                    )
    pd.DataFrame(rows).to_csv(path, index=False)


def table_compare(path: Path) -> tuple[float, float]:
    import pandas as pd

    from mgld_bench.report.aggregate import load_clip_scores
    from mgld_bench.report.compare import compare, render_junit, render_markdown
    from mgld_bench.report.layouts import layout_table
    from mgld_bench.report.table import render

    t0 = time.perf_counter()
    pd.read_csv(path)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = load_clip_scores(path)
    for layout, fmt in (("generic", "md"), ("generic", "tex"), ("mgld-table1", "tex"), ("mgld-table2", "csv")):
        render(layout_table(df, layout), fmt)
    result = compare(df, df)
    render_markdown(result)
    render_junit(result)
    return time.perf_counter() - t0, t_read


def reds_html(root: Path) -> None:
    reds = root / "fake" / "reds"
    if not (reds / "results.sqlite").is_file():
        t0 = time.perf_counter()
        reds = fake_reds4(root / "fake")
        print(f"(made the REDS4-sized fake run in {time.perf_counter() - t0:.1f} s)")
    t_html, size, t_floor = html_report(reds)
    print(
        f"report.html on a REDS4-sized run (4 clips x 100 frames x 3 methods, 1280x720): {t_html:.1f} s "
        f"(target < 60 s), {size / 1e6:.1f} MB (target < 50 MB) "
        f"(decoding every frame once: {t_floor:.1f} s; ratio {t_html / t_floor:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="keep the generated runs here and reuse them next time")
    parser.add_argument("--only-reds", action="store_true", help="only the REDS4-sized report.html figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.work or Path(tmp)
        os.environ.setdefault("TQDM_DISABLE", "1")
        if not args.only_reds:
            t_rep, t_run, n = demo_figures(root)
            print(
                f"write_run_reports on the demo: {t_rep:.2f} s for {n} files "
                f"(cached demo run without reports: {t_run:.2f} s; ratio {t_rep / t_run:.2f}x)"
            )
            t_html, size, t_floor = html_demo(root)
            print(
                f"report.html on the demo ({' '.join(DEMO_ARGS)}): {t_html:.2f} s, {size / 1e6:.2f} MB "
                f"(decoding every frame once: {t_floor:.2f} s; ratio {t_html / t_floor:.1f}x)"
            )
        reds_html(root)
        if not args.only_reds:
            big_store(root / "big.csv")
            t_tab, t_read = table_compare(root / "big.csv")
            print(
                f"4 tables + compare on 16,000 clip values: {t_tab:.2f} s "
                f"(pandas.read_csv of the same file: {t_read:.3f} s; ratio {t_tab / t_read:.1f}x)"
            )


if __name__ == "__main__":
    main()
