"""Infinite PSNR of identical frames (counted, optionally capped) and scene cuts in pair metrics."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from mgld_bench.cli import main
from mgld_bench.metrics.base import ScoreContext, flag_cuts
from mgld_bench.registry import METRICS
from tests.fakes import clip_from_gt, smooth_frames, write_clip


def _y(f: np.ndarray) -> np.ndarray:
    f = f.astype(np.float64)
    return 16.0 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255.0


def _run(tmp_path: Path, lr_dir: Path, gt_dir: Path, metrics: str, *sets: str) -> int:
    args = ["run", "--datasets", f"folder:{lr_dir}", "--set", f"folder.gt={gt_dir}", "--methods", "precomputed:"
            f"{tmp_path / 'sr'}", "--metrics", metrics, "--out", str(tmp_path / "out"), "--no-progress",
            "--no-html", "--cache-dir", str(tmp_path / "cache")]
    for s in sets:
        args += ["--set", s]
    return main(args)


def _black_first_frame(tmp_path: Path) -> tuple[Path, Path, list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(0)
    gt = smooth_frames(4, 32, 48, seed=3)
    gt[0] = np.zeros_like(gt[0])  # a real video starting black
    sr = [np.clip(g.astype(int) + rng.integers(-6, 7, g.shape), 0, 255).astype(np.uint8) for g in gt]
    sr[0] = np.zeros_like(gt[0])  # black in the output too: PSNR inf on frame 0
    write_clip(tmp_path / "lr" / "c", [np.ascontiguousarray(g[::4, ::4]) for g in gt])
    write_clip(tmp_path / "gt" / "c", gt)
    write_clip(tmp_path / "sr" / "c", sr)
    return tmp_path / "lr" / "c", tmp_path / "gt" / "c", sr, gt


def test_black_first_frame_is_inf_counted_in_the_table(tmp_path: Path) -> None:
    lr_dir, gt_dir, _, _ = _black_first_frame(tmp_path)
    assert _run(tmp_path, lr_dir, gt_dir, "psnr") == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    frames = [r[0] for r in db.execute("SELECT value FROM frame_scores ORDER BY frame")]
    assert frames[0] == float("inf") and all(np.isfinite(frames[1:]))
    value, extras = db.execute("SELECT value, extras FROM clip_scores").fetchone()
    assert value == float("inf")  # BasicSR's convention, kept by default
    assert json.loads(extras)["inf_frames"] == 1
    table = (tmp_path / "out" / "table.md").read_text()
    assert "PSNR: 1 per-frame value(s) are inf (precomputed:sr on folder:c: 1)" in table
    assert "psnr.max_db=100" in table


def test_psnr_cap_is_an_option_and_names_the_protocol(tmp_path: Path) -> None:
    lr_dir, gt_dir, sr, gt = _black_first_frame(tmp_path)
    assert _run(tmp_path, lr_dir, gt_dir, "psnr", "psnr.max_db=100") == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    protocol, value = db.execute("SELECT protocol, value FROM clip_scores").fetchone()
    assert protocol == "default[max_db=100.0]"
    want = [100.0] + [min(100.0, peak_signal_noise_ratio(_y(g), _y(s), data_range=255))
                      for s, g in zip(sr[1:], gt[1:], strict=True)]
    assert value == pytest.approx(float(np.mean(want)), abs=1e-4)
    assert "inf" not in (tmp_path / "out" / "table.md").read_text().split("protocol")[0]


def test_flag_cuts_rule() -> None:
    assert flag_cuts({0: 0.05, 1: 0.06, 2: 12.0, 3: 0.04}, 10.0) == [2]
    assert flag_cuts({0: 0.05, 1: 0.4, 2: 0.06}, 10.0) == []  # 0.4 < 10 x median 0.06
    assert flag_cuts({0: 0.05, 1: 12.0}, 10.0) == []  # too few pairs for a median
    assert flag_cuts({0: 0.05, 1: 0.06, 2: 12.0}, 0.0) == []  # ratio 0: off


def _cut_clip(tmp_path: Path) -> tuple[Path, Path]:
    a = smooth_frames(4, 48, 64, seed=11)
    b = [255 - f for f in smooth_frames(4, 48, 64, seed=12)]  # another scene, other colours
    gt = a + b  # the cut is between frames 3 and 4: pair 3
    rng = np.random.default_rng(1)
    sr = [np.clip(g.astype(int) + rng.integers(-3, 4, g.shape), 0, 255).astype(np.uint8) for g in gt]
    write_clip(tmp_path / "lr" / "c", [np.ascontiguousarray(g[::4, ::4]) for g in gt])
    write_clip(tmp_path / "gt" / "c", gt)
    write_clip(tmp_path / "sr" / "c", sr)
    return tmp_path / "lr" / "c", tmp_path / "gt" / "c"


def test_hard_cut_is_flagged_and_exclude_cuts_drops_exactly_it(tmp_path: Path) -> None:
    lr_dir, gt_dir = _cut_clip(tmp_path)
    assert _run(tmp_path, lr_dir, gt_dir, "warping-error") == 0
    assert _run(tmp_path, lr_dir, gt_dir, "warping-error", "warping-error.exclude_cuts=true") == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    rows = {p: (v, json.loads(e)) for p, v, e in db.execute("SELECT protocol, value, extras FROM clip_scores")}
    assert set(rows) == {"default", "default[exclude_cuts=True]"}
    plain, excluded = rows["default"], rows["default[exclude_cuts=True]"]
    assert plain[1]["cut_pairs"] == [3] and excluded[1]["cut_pairs"] == [3]
    pairs = dict(db.execute("SELECT frame, value FROM frame_scores WHERE protocol = 'default'").fetchall())
    assert sorted(pairs) == list(range(7))
    assert pairs[3] > 10 * np.median(list(pairs.values()))  # the cut dominates ...
    assert plain[0] == pytest.approx(np.mean(list(pairs.values())), rel=1e-9)  # ... the plain mean
    assert excluded[0] == pytest.approx(np.mean([v for k, v in pairs.items() if k != 3]), rel=1e-9)
    # every pair stays stored per frame pair, also when excluded from the mean
    assert db.execute("SELECT COUNT(*) FROM frame_scores WHERE protocol LIKE '%exclude%'").fetchone()[0] == 7
    table = (tmp_path / "out" / "table.md").read_text()
    assert "1 frame pair(s) flagged as likely scene cuts" in table
    assert "warping-error.exclude_cuts=true leaves them out" in table and "left out of the mean" in table
    # the HTML page circles the flagged pair on the curve, as the PNG/PDF curves do
    assert main(["report", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]) == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count('class="cut"') == 2  # one per protocol row, both flag pair 3
    assert page.count("likely scene cut at pair 3") == 2 and "likely scene cut at pair 2" not in page


@pytest.mark.parametrize("name", ["tof", "mawe", "tlp", "warping-error-evalcrafter"])
def test_every_pair_metric_has_the_cut_options(name: str) -> None:
    metric = METRICS.create(name)
    assert metric.options["exclude_cuts"] is False and metric.options["cut_ratio"] == 10.0
    assert "exclude_cuts" in metric.facts.protocol_options


def test_tof_shares_the_cut_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    gt = smooth_frames(6, 64, 64, seed=4)
    metric = METRICS.create("tof", exclude_cuts=True)
    values = iter([0.1, 0.12, 5.0, 0.11, 0.09])
    monkeypatch.setattr(type(metric), "_pair", lambda self, ctx, prev, cur: next(values))
    acc = metric.start(ScoreContext(clip_from_gt(gt)))
    for i, g in enumerate(gt):
        acc.update(i, g, g)
    res = acc.result()
    assert res.extras["cut_pairs"] == [2] and len(res.frames) == 5
    assert res.value == pytest.approx(np.mean([0.1, 0.12, 0.11, 0.09]))
