"""Report speed: the reports `mgld-bench run` writes, and tables/compare on a paper-sized store.

Run: .venv/bin/python benchmarks/bench_reports.py [--work DIR] [--only-reds]
(``--work`` keeps the generated fake REDS4 run, which takes minutes to make, for the next call)
Figures printed:
0. The reports a `make demo` run writes (write_run_reports with report.html: tables, figures,
   page and its images) into a new folder (cold) and again with nothing changed (warm; target
   <= 1 s), the warm `mgld-bench report OUT`, and the (fully cached) demo run without its reports,
   measured in the same process.
1. OUT/report.html (mgld_bench.report.html.write_html_report) on a REDS4-sized fake run (4 clips
   x 100 frames x 3 methods at 1280x720, frames generated and put straight into a store and
   cache), cold into a new folder and warm: time and size (targets: cold under 60 s and 50 MB
   with the default options), and the ratio to decoding every frame the page draws from once
   (the floor).
2. table (4 formats/layouts) + compare on a paper-sized store (4 datasets x 10 methods x 50
   clips x 8 metrics = 16,000 clip values) and its ratio to reading the same rows with
   pandas.read_csv (the floor for any tool that reads the results).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

DEMO_ARGS = ["--methods", "bicubic,nearest", "--metrics", "psnr,ssim,warping-error,tof"]
REDS_SIZE = (720, 1280)


def demo_figures(root: Path) -> dict[str, float]:
    """The reports of the `make demo` run: cold (a new folder), warm (nothing changed), and the run itself."""
    import shutil

    from mgld_bench.cli import main
    from mgld_bench.report.html import write_html_report
    from mgld_bench.report.run_reports import write_run_reports

    os.environ["MGLD_BENCH_CACHE"] = str(root / "cache")
    os.environ["TQDM_DISABLE"] = "1"
    main(["run", *DEMO_ARGS, "--out", str(root / "warm"), "--no-progress", "--no-html"])  # fill the cache
    import mgld_bench.report.run_reports as rr

    saved = rr.write_run_reports
    rr.write_run_reports = lambda out, store, **kw: rr.RunReports("")  # the run without its reports
    t0 = time.perf_counter()
    main(["run", *DEMO_ARGS, "--out", str(root / "warm"), "--no-progress"])
    t_run = time.perf_counter() - t0
    rr.write_run_reports = saved
    out = root / "demo"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(root / "warm" / "results.sqlite", out / "results.sqlite")
    t0 = time.perf_counter()
    written = write_run_reports(out, out / "results.sqlite", html=True).written
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_run_reports(out, out / "results.sqlite", html=True)
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_html_report(out, out / "results.sqlite")
    t_page = time.perf_counter() - t0
    return {"cold": t_cold, "warm": t_warm, "page_warm": t_page, "run": t_run, "files": len(written),
            "size": folder_size(out / "report.html", out / "report_files"),
            "floor": decode_floor(out / "results.sqlite")}


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


def html_report(store_dir: Path, out: Path) -> dict[str, float]:
    """report.html of the store in ``store_dir`` written into a new folder ``out`` (cold), then again (warm)."""
    import shutil

    from mgld_bench.report.html import write_html_report

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    shutil.copy(store_dir / "results.sqlite", out / "results.sqlite")
    t0 = time.perf_counter()
    page = write_html_report(out, out / "results.sqlite")
    t_cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_html_report(out, out / "results.sqlite")
    t_warm = time.perf_counter() - t0
    return {"cold": t_cold, "warm": t_warm, "size": folder_size(page, out / "report_files"),
            "floor": decode_floor(out / "results.sqlite")}


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
    from mgld_bench.store.outputs import save_infer
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
        for t in range(frames):
            gt = np.ascontiguousarray(fake_frame(texture, t))
            for folder, frame in (("gt", gt), ("lr", cv2.resize(gt, (w // 4, h // 4), interpolation=cv2.INTER_AREA))):
                (root / folder / name).mkdir(parents=True, exist_ok=True)
                (root / folder / name / f"{t:08d}.png").write_bytes(encode_png(frame))
        records = []
        for m, degrade in methods.items():
            key = f"fake-{m}-{name}"
            outputs = (encode_png(degrade(np.ascontiguousarray(fake_frame(texture, t)), rng)) for t in range(frames))
            save_infer(cache, key, outputs, frames, (h, w), f"{m} on {name}", {})
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
    r = html_report(reds, root / "reds-page")
    print(
        f"report.html on a REDS4-sized run (4 clips x 100 frames x 3 methods, 1280x720): cold {r['cold']:.1f} s "
        f"(target < 60 s), {r['size'] / 1e6:.1f} MB (target < 50 MB); warm {r['warm']:.2f} s "
        f"(decoding every frame once: {r['floor']:.1f} s; cold/floor {r['cold'] / r['floor']:.2f}x)"
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
            d = demo_figures(root)
            print(
                f"reports of the demo ({' '.join(DEMO_ARGS)}; tables, figures, report.html, {d['files']} files + "
                f"{d['size'] / 1e6:.2f} MB of page): cold {d['cold']:.2f} s, warm {d['warm']:.2f} s (target <= 1 s), "
                f"`report OUT` warm {d['page_warm']:.2f} s; cached demo run without reports {d['run']:.2f} s "
                f"(warm/run {d['warm'] / d['run']:.2f}x); decoding every frame once: {d['floor']:.2f} s"
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
