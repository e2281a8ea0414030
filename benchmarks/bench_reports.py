"""Report speed: the reports `mgld-bench run` writes, and tables/compare on a paper-sized store.

Run: .venv/bin/python benchmarks/bench_reports.py
Figures printed:
1. write_run_reports on the synthetic demo (target: under ~3 s), and its ratio to the
   (fully cached) demo run itself, measured in the same process.
2. table (4 formats/layouts) + compare on a paper-sized store (4 datasets x 10 methods x 50
   clips x 8 metrics = 16,000 clip values) and its ratio to reading the same rows with
   pandas.read_csv (the floor for any tool that reads the results).
"""

from __future__ import annotations

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
    main(["run", "--out", str(root / "warm"), "--no-progress"])  # fill the cache
    import mgld_bench.report.run_reports as rr

    saved = rr.write_run_reports
    rr.write_run_reports = lambda out, store, reference=None: rr.RunReports("")  # the run without its reports
    t0 = time.perf_counter()
    main(["run", "--out", str(root / "demo"), "--no-progress"])
    t_run = time.perf_counter() - t0
    rr.write_run_reports = saved
    t0 = time.perf_counter()
    written = write_run_reports(root / "demo", root / "demo" / "results.sqlite").written
    return time.perf_counter() - t0, t_run, len(written)


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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t_rep, t_run, n = demo_figures(root)
        print(
            f"write_run_reports on the demo: {t_rep:.2f} s for {n} files "
            f"(cached demo run without reports: {t_run:.2f} s; ratio {t_rep / t_run:.2f}x)"
        )
        big_store(root / "big.csv")
        t_tab, t_read = table_compare(root / "big.csv")
        print(
            f"4 tables + compare on 16,000 clip values: {t_tab:.2f} s "
            f"(pandas.read_csv of the same file: {t_read:.3f} s; ratio {t_tab / t_read:.1f}x)"
        )


if __name__ == "__main__":
    main()
