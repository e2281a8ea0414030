"""The Python API, used as from a notebook (a fresh interpreter that never imports the CLI module):
its store equals the one the CLI writes for the same settings; ``score`` agrees with scikit-image."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

SMALL = {"synthetic": {"frames": 3, "size": 32}}

NOTEBOOK = textwrap.dedent(
    """
    import json, sys
    import mgld_bench as mb
    heavy_after_import = sorted(m for m in ("torch", "pandas", "cv2", "mgld_bench.api") if m in sys.modules)

    out, cache = sys.argv[1], sys.argv[2]
    df = mb.evaluate(methods=["bicubic"], datasets="synthetic", metrics="psnr,ssim,warping-error",
                     options={"synthetic": {"frames": 3, "size": 32}}, clips=["pan", "zoom"],
                     out=out, cache_dir=cache)
    again = mb.load_results(out)
    frames = mb.load_results(out, frames=True)
    metrics, methods, datasets = mb.list_metrics(), mb.list_methods(), mb.list_datasets()
    print("RESULT " + json.dumps({
        "heavy_after_import": heavy_after_import,
        "cli_imported": any(m == "mgld_bench.cli" or m.startswith("mgld_bench.cli.") for m in sys.modules),
        "rows": json.loads(df.drop(columns=["run_id"]).to_json(orient="records")),
        "same_as_load_results": df.equals(again),
        "n_frame_rows": len(frames),
        "metrics": sorted(metrics["name"]), "psnr_ok": bool(metrics.set_index("name").loc["psnr", "available"]),
        "methods": sorted(methods["name"]), "datasets": sorted(datasets["name"]),
    }))
    """
)


def _store_rows(path: Path) -> list[dict]:
    """The clip rows of a result store, read with sqlite3 directly (run ids left out)."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM clip_scores ORDER BY dataset, method, clip, metric")]
    for r in rows:
        r.pop("run_id")
    return rows


def test_notebook_round_trip_equals_the_cli_store(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", NOTEBOOK, str(tmp_path / "api"), str(tmp_path / "cache-api")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr
    nb = json.loads(lines[-1][7:])
    assert nb["heavy_after_import"] == []  # import mgld_bench is cheap
    assert nb["cli_imported"] is False
    assert nb["same_as_load_results"]
    assert {"psnr", "ssim", "warping-error", "lpips"} <= set(nb["metrics"]) and nb["psnr_ok"]
    assert "bicubic" in nb["methods"] and "synthetic" in nb["datasets"]

    # the same run through the CLI, with its own cache: every stored row is identical
    from mgld_bench.cli import main

    argv = ["run", "--methods", "bicubic", "--datasets", "synthetic", "--metrics", "psnr,ssim,warping-error",
            "--set", "synthetic.frames=3", "--set", "synthetic.size=32", "--clips", "pan,zoom",
            "--out", str(tmp_path / "cli"), "--cache-dir", str(tmp_path / "cache-cli"), "--no-progress"]
    assert main(argv) == 0
    api_rows = _store_rows(tmp_path / "api" / "results.sqlite")
    cli_rows = _store_rows(tmp_path / "cli" / "results.sqlite")
    assert len(cli_rows) == 2 * 3 and api_rows == cli_rows
    # and the DataFrame evaluate() returned holds exactly those rows
    returned = {(r["dataset"], r["clip"], r["metric"]): r["value"] for r in nb["rows"]}
    assert returned == pytest.approx({(r["dataset"], r["clip"], r["metric"]): r["value"] for r in cli_rows})
    assert nb["n_frame_rows"] == 2 * (3 + 3 + 2)  # psnr, ssim per frame; warping error per pair


def test_score_agrees_with_skimage(rng: np.random.Generator) -> None:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    import mgld_bench as mb

    gt = rng.integers(0, 256, (3, 24, 32, 3), dtype=np.uint8)
    sr = np.clip(gt.astype(int) + rng.integers(-20, 21, gt.shape), 0, 255).astype(np.uint8)
    got = mb.score(sr, gt, metrics=["psnr", "ssim"], color_space="rgb", use_cache=False)
    psnr = np.mean([peak_signal_noise_ratio(g, s, data_range=255) for g, s in zip(gt, sr, strict=True)])
    ssim = np.mean([
        np.mean([structural_similarity(g[..., c], s[..., c], gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=255) for c in range(3)])
        for g, s in zip(gt, sr, strict=True)
    ])
    assert got["psnr"] == pytest.approx(psnr, abs=1e-4)
    assert got["ssim"] == pytest.approx(ssim, abs=1e-4)
    per = mb.score(list(sr), list(gt), metrics="psnr", color_space="rgb", per_frame=True, use_cache=False)
    assert len(per["psnr"]["frames"]) == 3 and per["psnr"]["mean"] == pytest.approx(psnr, abs=1e-4)


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "mgld_bench", "--version"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("mgld-bench ")
