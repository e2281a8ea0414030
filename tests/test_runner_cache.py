"""The runner and its cache: nothing is computed twice, failures leave nothing behind."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from baselines.bicubic import Bicubic
from mgld_bench.cli import main
from mgld_bench.metrics.fidelity import PSNR, SSIM
from tests.conftest import write_frames


class Counter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.infer = 0
        self.score = 0
        run, batch_psnr, batch_ssim = Bicubic.run, PSNR.score_batch, SSIM.score_batch

        def counted_run(method, clip, ctx):  # type: ignore[no-untyped-def]
            self.infer += 1
            yield from run(method, clip, ctx)

        def counted(fn):  # type: ignore[no-untyped-def]
            def wrapper(metric, srs, gts):  # type: ignore[no-untyped-def]
                self.score += len(srs)
                return fn(metric, srs, gts)

            return wrapper

        monkeypatch.setattr(Bicubic, "run", counted_run)
        monkeypatch.setattr(PSNR, "score_batch", counted(batch_psnr))
        monkeypatch.setattr(SSIM, "score_batch", counted(batch_ssim))


def _run(tmp_path: Path, *extra: str) -> int:
    return main(
        ["run", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--no-progress", *extra]
    )


def _csv(tmp_path: Path) -> list[dict[str, str]]:
    with open(tmp_path / "out" / "results.csv") as fh:
        return list(csv.DictReader(fh))


def test_rerun_performs_no_inference_and_no_metric_computation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count = Counter(monkeypatch)
    assert _run(tmp_path) == 0
    assert count.infer == 3 and count.score == 2 * 3 * 12
    first = _csv(tmp_path)
    assert _run(tmp_path) == 0
    assert count.infer == 3 and count.score == 72  # unchanged: everything came from the cache
    assert _csv(tmp_path) == first
    assert {r["metric"] for r in first} == {"psnr", "ssim"} and len(first) == 6
    assert all(r["protocol"] == "default" for r in first)


def test_changing_one_method_option_recomputes_only_that_method(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mgld_bench.datasets.synthetic import SyntheticDataset

    # a second method: bicubic frames made with another kernel, served as precomputed outputs
    outputs = tmp_path / "outputs"
    ds = SyntheticDataset()
    for name in ds.clip_names():
        clip = ds.clip(name)
        write_frames(outputs / name, list(Bicubic(kernel="torch").run(clip, None)))  # type: ignore[arg-type]
    count = Counter(monkeypatch)
    methods = f"bicubic,precomputed:{outputs}"
    assert _run(tmp_path, "--methods", methods) == 0
    assert count.infer == 3 and count.score == 2 * 2 * 3 * 12
    assert _run(tmp_path, "--methods", methods, "--set", "bicubic.kernel=cv2") == 0
    assert count.infer == 6  # bicubic ran again ...
    assert count.score == 144 + 72  # ... and only its outputs were rescored
    rows = _csv(tmp_path)
    assert {r["method"] for r in rows} == {"bicubic", "precomputed:outputs"}


def test_metric_values_in_results_match_skimage(tmp_path: Path) -> None:
    from skimage.metrics import peak_signal_noise_ratio

    from mgld_bench.datasets.synthetic import SyntheticDataset

    assert _run(tmp_path, "--metrics", "psnr", "--set", "psnr.color_space=rgb") == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    clip = SyntheticDataset().clip("zoom")
    sr = list(Bicubic().run(clip, None))  # type: ignore[arg-type]
    expected = [peak_signal_noise_ratio(g, s, data_range=255) for g, s in zip(clip.gt, sr, strict=True)]
    stored = [
        v for (v,) in db.execute("SELECT value FROM frame_scores WHERE clip='zoom' AND metric='psnr' ORDER BY frame")
    ]
    assert stored == pytest.approx(expected, abs=1e-4)
    (clip_value,) = db.execute("SELECT value FROM clip_scores WHERE clip='zoom' AND metric='psnr'").fetchone()
    assert clip_value == pytest.approx(np.mean(expected), abs=1e-4)
    (params,) = db.execute("SELECT params FROM clip_scores WHERE clip='zoom'").fetchone()
    assert '"color_space": "rgb"' in params
    (prov,) = db.execute("SELECT provenance FROM runs").fetchone()
    assert '"packages"' in prov and '"device": "cpu"' in prov


def test_a_method_failing_midway_leaves_nothing_in_cache_or_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = Bicubic.run

    def dies(method, clip, ctx):  # type: ignore[no-untyped-def]
        for i, frame in enumerate(original(method, clip, ctx)):
            if i == 5:
                raise KeyboardInterrupt  # a run killed in the middle of a clip
            yield frame

    monkeypatch.setattr(Bicubic, "run", dies)
    assert _run(tmp_path) == 130  # the CLI reports the interruption and exits 130
    cache = tmp_path / "cache"
    assert not list(cache.glob("infer/*/*.json"))
    assert not list(cache.glob("blobs/*/*"))
    assert not list(cache.glob("tmp/*"))
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    assert db.execute("SELECT COUNT(*) FROM clip_scores").fetchone() == (0,)
    monkeypatch.setattr(Bicubic, "run", original)
    assert _run(tmp_path) == 0  # resumes cleanly
    assert len(_csv(tmp_path)) == 6


def test_cache_location_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MGLD_BENCH_CACHE", str(tmp_path / "envcache"))
    assert main(["run", "--out", str(tmp_path / "out"), "--no-progress", "--clips", "pan"]) == 0
    assert list((tmp_path / "envcache").glob("infer/*/*.json"))


def test_a_fully_cached_run_does_not_import_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    args = ["run", "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "o"), "--no-progress", "--clips", "pan"]
    assert main(args) == 0
    code = (
        "import sys, io, contextlib\n"
        "from mgld_bench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main({args!r}) == 0\n"
        "assert 'torch' not in sys.modules, 'a warm run imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dataset_variants_are_filed_under_distinct_labels(tmp_path: Path) -> None:
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr") == 0
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr", "--set", "synthetic.seed=1") == 0
    rows = _csv(tmp_path)
    assert sorted(r["dataset"] for r in rows) == ["synthetic", "synthetic[seed=1]"]
    values = {r["dataset"]: float(r["value"]) for r in rows}
    assert values["synthetic"] != values["synthetic[seed=1]"]  # other noise, other LR, other score


def test_videolq_protocol_scores_frames_0_50_99_and_the_last_frame_of_short_clips() -> None:
    from mgld_bench.protocol import get_protocol

    proto = get_protocol("videolq")
    assert proto.frame_indices(100) == [0, 50, 99]
    assert proto.frame_indices(120) == [0, 50, 99]
    assert proto.frame_indices(41) == [0, 40]  # Vid4's calendar: frame 50 and 99 fall on the last frame
    assert proto.frame_indices(60) == [0, 50, 59]
    with pytest.raises(Exception, match="only 41 frames"):
        get_protocol("default").__class__(name="x", description="", frames="0,50").frame_indices(41)


def test_reports_are_a_function_of_the_store(tmp_path: Path) -> None:
    """results.csv and tables are rewritten on every run; figures only when results change."""
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr") == 0
    out = tmp_path / "out"
    expected = (out / "results.csv").read_text()
    figure = next((out / "figures").glob("*.png"))
    first = figure.stat().st_mtime_ns
    (out / "results.csv").unlink()
    (out / "table.md").write_text("edited by hand\n")
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr") == 0
    assert (out / "results.csv").read_text() == expected  # a deleted CSV comes back
    assert "PSNR" in (out / "table.md").read_text()  # an edited table is rewritten
    assert figure.stat().st_mtime_ns == first  # same results: figures kept as they are
    figure.unlink()
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr") == 0
    assert figure.is_file()  # a missing figure is drawn again
    assert _run(tmp_path, "--clips", "pan", "--metrics", "psnr,ssim") == 0
    assert "SSIM" in (out / "table.md").read_text()  # new results: reports rewritten
