"""The full metric list through ``mgld-bench run``: missing weights are reported, the rest is computed."""

from __future__ import annotations

import sqlite3

import numpy as np
import scipy.io

from mgld_bench.cli import main
from mgld_bench.metrics.backends.base import clear_models
from mgld_bench.weights import NIQE_PARAMS

METRICS = "psnr,ssim,lpips,dists,niqe,brisque,musiq,warping_error,tlp,tof"


def test_run_all_metrics_offline(tmp_path, monkeypatch, capsys) -> None:
    weights = tmp_path / "weights"
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(weights))
    monkeypatch.setenv("MGLD_BENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # any download attempt would fail fast
    clear_models()
    rng = np.random.default_rng(0)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path(weights).parent.mkdir(parents=True)
    scipy.io.savemat(NIQE_PARAMS.path(weights), {"mu_prisparam": rng.normal(size=(1, 36)),
                                                 "cov_prisparam": a @ a.T / 36 + np.eye(36)})
    out = tmp_path / "out"
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "elsewhere"))  # --weights-dir wins
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "elsewhere"))
    argv = ["--weights-dir", str(weights), "run", "--metrics", METRICS, "--out", str(out), "--no-progress",
            "--clips", "pan", "--set", "synthetic.frames=3", "--set", "synthetic.size=128"]
    assert main(argv) == 0
    con = sqlite3.connect(out / "results.sqlite")
    got = {m: v for m, v in con.execute("SELECT metric, value FROM clip_scores")}
    unavailable = {m: r for m, r in con.execute("SELECT metric, reason FROM unavailable")}
    assert set(got) == {"psnr", "ssim", "niqe", "warping-error", "tof"}
    assert all(np.isfinite(v) for v in got.values())
    assert set(unavailable) == {"lpips", "dists", "brisque", "musiq", "tlp"}
    assert "alexnet-owt-7be5be79.pth" in unavailable["lpips"] and "weights fetch" in unavailable["lpips"]
    assert "musiq_koniq_ckpt-e95806b9.pth" in unavailable["musiq"]
    protocols = {p for (p,) in con.execute("SELECT DISTINCT protocol FROM clip_scores")}
    assert protocols == {"default"}
    assert "Traceback" not in capsys.readouterr().err
