"""The figures ``run`` writes without matplotlib: the profile PNG holds the exact rows of every
frame, the page and the figure share one pass over the frames, and the curves SVG draws the
stored per-frame values."""

from __future__ import annotations

import shutil
import threading
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mgld_bench.cli import main
from mgld_bench.report.curves import curves_svg
from mgld_bench.report.profile import profile_image
from tests.fakes import noise_frames

SVG = "{http://www.w3.org/2000/svg}"


def find_block(image: np.ndarray, block: np.ndarray) -> int:
    """The first row of ``image`` where ``block`` (rows x its width) sits at the left edge; -1 if none."""
    h, w = block.shape[:2]
    for y in range(image.shape[0] - h + 1):
        if np.array_equal(image[y : y + h, :w], block):
            return y
    return -1


def stretched(rows: np.ndarray, image: np.ndarray) -> int:
    """The factor k (1..8) at which ``rows`` repeated k times each appears in ``image``; 0 if none."""
    for k in range(1, 9):
        if find_block(image, np.repeat(rows, k, axis=0)) >= 0:
            return k
    return 0


def test_profile_image_panels_are_the_rows_of_every_frame():
    frames = noise_frames(5, 9, 40, seed=3)
    row = 4
    gt_rows = np.stack([f[row] for f in frames])  # by hand: row 4 of each frame, time down
    other = np.stack([f[row][::-1] for f in frames])
    image = profile_image([("GT", gt_rows), ("flipped", other)], frames[0], row, title="d / c")
    assert stretched(gt_rows, image) >= 1
    assert stretched(other, image) >= 1
    # frame 0 is drawn (no scaling at this width) with the sampled row in red
    thumb_at = find_block(image, frames[0][:row])
    assert thumb_at >= 0
    assert (image[thumb_at + row, :40] == (255, 0, 0)).all()
    assert np.array_equal(image[thumb_at + row + 1 : thumb_at + 9, :40], frames[0][row + 1 :])


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One synthetic clip (5 frames of 48x48), bicubic, PSNR; the run itself writes no page."""
    root = tmp_path_factory.mktemp("figs")
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(root / "cache"))
    mp.setenv("TQDM_DISABLE", "1")
    try:
        assert main(["run", "--methods", "bicubic", "--metrics", "psnr", "--clips", "pan", "--set",
                     "synthetic.frames=5", "--set", "synthetic.size=48", "--out", str(root / "out"),
                     "--no-progress", "--no-html"]) == 0
    finally:
        mp.undo()
    return root


def count_reads(mp: pytest.MonkeyPatch) -> Counter:
    """(sequence label, frame index) -> frames decoded, from now on."""
    from mgld_bench.frames import FrameSequence

    reads: Counter = Counter()
    lock = threading.Lock()
    real = FrameSequence.__getitem__

    def counted(self, index):
        with lock:
            reads[(self.label, int(index))] += 1
        return real(self, index)

    mp.setattr(FrameSequence, "__getitem__", counted)
    return reads


def test_page_and_profile_figure_decode_each_frame_once(small_run, tmp_path):
    from mgld_bench.registry import DATASETS
    from mgld_bench.report.run_reports import write_run_reports

    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(small_run / "out" / "results.sqlite", out / "results.sqlite")
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(small_run / "cache"))
    reads = count_reads(mp)
    try:
        written = write_run_reports(out, out / "results.sqlite", html=True)
    finally:
        mp.undo()
    assert written.html is not None
    name = "profile_synthetic_frames_5_size_48_pan.png"
    assert (out / "figures" / name).is_file()
    # every frame of every source (GT, LR, bicubic SR) is read, each once; frame 0 of the first
    # source once more for the figure's thumbnail (before: the figure decoded every frame again)
    labels = {label for label, _ in reads}
    assert len(labels) == 3 and all(reads[(label, t)] >= 1 for label in labels for t in range(5))
    extra = {k: n - 1 for k, n in reads.items() if n > 1}
    assert sum(extra.values()) <= 2, reads

    # the figure drawn from the page's rows equals the one the run drew decoding every frame
    from_page = np.asarray(Image.open(out / "figures" / name).convert("RGB"))
    from_frames = np.asarray(Image.open(small_run / "out" / "figures" / name).convert("RGB"))
    np.testing.assert_array_equal(from_page, from_frames)
    # and its GT panel is row H // 2 of every GT frame, read from the dataset here
    gt = DATASETS.create("synthetic", frames=5, size=48).clip("pan").gt
    expected = np.stack([np.asarray(gt[t])[24] for t in range(5)])
    assert stretched(expected, from_page) >= 1


def test_curves_svg_draws_the_stored_values():
    frames = pd.DataFrame({
        "method": ["a"] * 4 + ["b"] * 4,
        "metric": ["psnr"] * 8,
        "protocol": ["default"] * 8,
        "frame": [0, 1, 2, 3] * 2,
        "value": [30.0, 31.0, float("inf"), 29.0, 25.0, 26.0, 27.0, 28.0],
    })
    root = ET.fromstring(curves_svg(frames, "d / c", directions={"psnr": True}))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "d / c" in texts and "a" in texts and "b" in texts
    assert any(t.startswith("PSNR↑") for t in texts)
    lines = {pl.find(f"{SVG}title").text: pl.get("points") for pl in root.iter(f"{SVG}polyline")}
    ys_b = [float(p.split(",")[1]) for p in lines["b"].split()]
    assert len(ys_b) == 4 and ys_b == sorted(ys_b, reverse=True)  # rising values go up the panel
    # method a: the inf at frame 2 breaks its line (two runs: frames 0-1, and frame 3 alone as a
    # dot) and is marked by a triangle titled "inf"
    assert len(lines["a"].split()) == 2
    infs = [p.find(f"{SVG}title").text for p in root.iter(f"{SVG}path") if p.get("class") == "inf"]
    assert infs == ["a: inf at 2"]


def test_changed_results_over_unchanged_frames_keep_the_profile_figure(small_run, tmp_path):
    import sqlite3

    from mgld_bench.report.run_reports import write_run_reports

    out = tmp_path / "out"
    shutil.copytree(small_run / "out", out)
    figure = out / "figures" / "profile_synthetic_frames_5_size_48_pan.png"
    before = figure.read_bytes()
    curves = out / "figures" / "curves_synthetic_frames_5_size_48_pan.svg"
    with sqlite3.connect(out / "results.sqlite") as db:  # new values, same frames
        db.execute("UPDATE frame_scores SET value = value + 1")
        db.execute("UPDATE clip_scores SET value = value + 1")
    old_curves = curves.read_text()
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(small_run / "cache"))
    reads = count_reads(mp)
    try:
        result = write_run_reports(out, out / "results.sqlite")
    finally:
        mp.undo()
    assert not result.figures_reused and curves.read_text() != old_curves  # the curves are redrawn
    assert figure in result.written and figure.read_bytes() == before
    assert not reads  # the profile's inputs are unchanged: no frame decoded
    # a profile figure that is gone is drawn again from the frames
    figure.unlink()
    with sqlite3.connect(out / "results.sqlite") as db:
        db.execute("UPDATE clip_scores SET value = value + 1")
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(small_run / "cache"))
    try:
        write_run_reports(out, out / "results.sqlite")
    finally:
        mp.undo()
    assert figure.read_bytes() == before
