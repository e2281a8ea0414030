"""One source of truth per fact: declared metric facts, tolerances, protocol values, job specs."""

from __future__ import annotations

import csv
import json
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.registry import DATASETS, METHODS, METRICS
from mgld_bench.specs import KINDS, MetricFacts

#: Direction of every built-in metric, from the papers that define them (independent of the code).
DIRECTIONS = {
    "psnr": True, "ssim": True, "lpips": False, "lpips-vgg": False, "dists": False, "niqe": False,
    "brisque": False, "musiq": True, "warping-error": False, "warping-error-evalcrafter": False,
    "tof": False, "tlp": False,
}


def test_every_registered_metric_declares_its_facts_and_no_two_print_alike() -> None:
    displays = []
    for entry in METRICS.entries():
        facts = METRICS.facts(entry.name)
        assert isinstance(facts, MetricFacts), entry.name
        assert facts.kind in KINDS and facts.display and "sr" in facts.reads
        assert facts.tolerance.reason, f"{entry.name}: a tolerance needs its reason"
        if entry.name in DIRECTIONS:
            assert facts.higher_is_better is DIRECTIONS[entry.name], entry.name
        displays.append(facts.display)
    assert len(displays) == len(set(displays)), displays
    assert set(DIRECTIONS) <= set(METRICS.names())


def test_every_registered_method_and_dataset_declares_its_facts() -> None:
    for registry in (METHODS, DATASETS):
        for entry in registry.entries():
            cls = entry.load()
            assert entry.summary or getattr(cls, "summary", ""), entry.name
            assert isinstance(getattr(cls, "version", None), int), entry.name
    for entry in METHODS.entries():
        cls = entry.load()
        assert isinstance(cls.deterministic, bool) and isinstance(cls.uses_seed, bool), entry.name


def test_variants_are_entries_of_one_class_with_other_parameters() -> None:
    assert METRICS.get("lpips").target == METRICS.get("lpips-vgg").target
    assert METRICS.get("musiq").target == METRICS.get("brisque").target
    assert DATASETS.get("udm10-bd").target == DATASETS.get("udm10").target
    vgg = METRICS.create("lpips-vgg")
    assert vgg.name == "lpips-vgg" and vgg.options["model"] == "lpips-vgg" and not vgg.higher_is_better
    bd = DATASETS.create("udm10-bd")
    assert bd.label == "udm10-bd" and bd.options["lr"] == "bd"


def test_old_spellings_still_resolve() -> None:
    assert METRICS.canonical("warping_error") == "warping-error"
    assert METRICS.canonical("tlpips") == "tlp"
    assert METRICS.create("warping_error").name == "warping-error"


def test_listing_metrics_imports_no_implementation(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mgld_bench.registry import METRICS\n"
        "facts = [METRICS.facts(n) for n in METRICS.names()]\n"
        "assert not [m for m in sys.modules if m.startswith('mgld_bench.metrics.')], sorted(sys.modules)\n"
        "from mgld_bench.report.metric_facts import display_name\n"
        "assert display_name('warping_error') == 'E*warp'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)


def _we_rows(value: float) -> pd.DataFrame:
    from mgld_bench.report.aggregate import normalise_clip_frame

    return normalise_clip_frame(
        pd.DataFrame(
            [{"dataset": "d", "method": "m", "clip": "c", "metric": "warping_error", "protocol": "default",
              "value": value, "higher_is_better": False, "kind": "temporal"}]
        )
    )


@pytest.mark.parametrize(("change", "passes"), [(0.005, True), (0.02, False)])
def test_compare_applies_the_declared_warping_error_tolerance(change: float, passes: bool) -> None:
    from mgld_bench.report.compare import compare

    reference = 5.0  # x1e3; the declared tolerance is max(0.01, 1 % relative) = 0.05
    result = compare(_we_rows(reference * (1 + change)), _we_rows(reference))
    assert result.passed is passes
    assert result.rows[0].allowed == pytest.approx(0.05)


def test_a_tolerance_file_still_overrides_the_declared_one(tmp_path: Path) -> None:
    from mgld_bench.report.compare import compare
    from mgld_bench.report.tolerances import load_tolerance_file

    path = tmp_path / "tol.json"
    path.write_text(json.dumps({"warping-error": {"rel": 0.05}}))
    result = compare(_we_rows(5.1), _we_rows(5.0), tolerances=load_tolerance_file(path))
    assert result.passed


def _run(tmp_path: Path, *extra: str) -> int:
    return main(["run", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--no-progress",
                 "--clips", "pan", *extra])


def test_set_crop_border_is_what_the_store_records(tmp_path: Path) -> None:
    assert _run(tmp_path, "--metrics", "psnr,ssim", "--set", "psnr.crop_border=4") == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    rows = dict(db.execute("SELECT metric, protocol_fields FROM clip_scores").fetchall())
    psnr, ssim = json.loads(rows["psnr"]), json.loads(rows["ssim"])
    assert psnr["crop_border"] == 4 and psnr["name"] == "default[crop_border=4]"
    assert ssim["crop_border"] == 0 and ssim["name"] == "default"
    (params,) = db.execute("SELECT params FROM clip_scores WHERE metric = 'psnr'").fetchone()
    assert json.loads(params)["options"]["crop_border"] == 4


def test_score_overrides_go_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mgld_bench.datasets.synthetic import SyntheticDataset
    from tests.fakes import write_frames

    clip = SyntheticDataset(frames=3).clip("pan")
    write_frames(tmp_path / "gt", list(clip.gt))
    common = ["score", str(tmp_path / "gt"), str(tmp_path / "gt"), "--metrics", "psnr", "--json", "--no-cache"]
    assert main([*common, "--crop-border", "4"]) == 0
    by_flag = json.loads(capsys.readouterr().out)
    assert main([*common, "--set", "psnr.crop_border=4"]) == 0
    by_set = json.loads(capsys.readouterr().out)
    assert by_flag["metrics"]["psnr"]["params"]["options"]["crop_border"] == 4
    assert by_set["metrics"]["psnr"]["params"] == by_flag["metrics"]["psnr"]["params"]


@pytest.mark.parametrize("typo", ["psrn.crop_border=4", "bicubik.kernel=cv2", "lpips.backend=lpips"])
def test_a_set_option_for_no_component_of_the_run_is_an_error(
    tmp_path: Path, typo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, "--metrics", "psnr", "--set", typo) != 0
    err = capsys.readouterr().err
    assert typo.partition(".")[0] in err and "not a dataset, method or metric of this run" in err
    if typo.startswith("psrn"):
        assert "Did you mean psnr" in err
    assert not (tmp_path / "out" / "results.sqlite").exists()


def test_jobs_are_hashable_picklable_values_whose_key_is_stable(tmp_path: Path) -> None:
    from mgld_bench.datasets.synthetic import SyntheticDataset
    from mgld_bench.runner.jobs import infer_job, score_job
    from mgld_bench.specs import Ref

    ds = SyntheticDataset(frames=3)
    clip = ds.clip("pan")
    method = METHODS.create("bicubic")
    job = infer_job(method, Ref.of("method", "bicubic"), Ref.of("dataset", "synthetic", {"frames": 3}), clip, 0)
    again = pickle.loads(pickle.dumps(job))
    assert again == job and hash(again) == hash(job) and again.key() == job.key()
    assert job.seed is None  # bicubic neither uses the seed nor is stochastic
    from mgld_bench.protocol import DEFAULT

    sjob = score_job(job, "sr-digest", clip, DEFAULT, [METRICS.create("psnr"), METRICS.create("warping-error")])
    psnr, we = sjob.metrics
    assert pickle.loads(pickle.dumps(sjob)) == sjob
    # a metric's key covers exactly the inputs it reads: PSNR ignores the LR, warping error does not
    other_lr = type(sjob)(sjob.infer, sjob.protocol, sjob.frames, (("sr", "sr-digest"), ("gt", dict(sjob.inputs)["gt"]),
                                                                     ("lr", "another")), sjob.metrics)
    assert other_lr.metric_key(psnr) == sjob.metric_key(psnr)
    assert other_lr.metric_key(we) != sjob.metric_key(we)


def test_a_method_that_is_not_deterministic_is_cached_under_its_seed() -> None:
    from mgld_bench.datasets.synthetic import SyntheticDataset
    from mgld_bench.runner.jobs import infer_job
    from mgld_bench.specs import Ref

    clip = SyntheticDataset(frames=3).clip("pan")
    method = METHODS.create("bicubic")
    method.deterministic = False  # type: ignore[misc]
    refs = (Ref.of("method", "bicubic"), Ref.of("dataset", "synthetic"))
    a, b = infer_job(method, *refs, clip, 0), infer_job(method, *refs, clip, 1)
    assert a.seed == 0 and b.seed == 1 and a.key() != b.key()


def test_methods_that_claim_determinism_give_the_same_frames_twice(tmp_path: Path) -> None:
    """Every registered method that can run here without options and says it is deterministic."""
    import numpy as np

    from mgld_bench.datasets.synthetic import SyntheticDataset
    from mgld_bench.methods.base import RunContext

    clip = SyntheticDataset(frames=2, size=32).clip("pan")
    checked = []
    for entry in METHODS.entries():
        try:
            method = entry.create()
        except BenchError:
            continue  # needs options (a path, a command): nothing to run without them
        if not method.deterministic or method.requires_cuda or not method.availability()[0]:
            continue
        runs = []
        for i in range(2):
            work = tmp_path / f"{entry.name}-{i}"
            work.mkdir()
            runs.append(list(method.run(clip, RunContext("cpu", 0, work, work))))
        assert len(runs[0]) == len(runs[1]) == len(clip.lr), entry.name
        for a, b in zip(*runs, strict=True):
            assert np.array_equal(a, b), f"{entry.name} claims determinism but gave other frames"
        checked.append(entry.name)
    assert "bicubic" in checked


@pytest.mark.parametrize(
    ("name", "options"),
    [
        pytest.param("mgld", {"config": "tiny", "steps": 2, "chunk": 2}, marks=pytest.mark.slow),
        ("sd-x4", {"steps": 2, "tile": 0}),
        ("mgld-sd", {"steps": 2, "tile": 0}),
    ],
)
def test_diffusion_methods_that_claim_determinism_give_the_same_frames_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, options: dict
) -> None:
    """The methods the test above cannot run without weights, on tiny random stand-in weights."""
    import numpy as np

    from mgld_bench.methods.base import RunContext
    from mgld_bench.testing.tiny_mgld import write_tiny_checkpoints
    from mgld_bench.testing.tiny_upscaler import save_tiny_upscaler
    from tests.fakes import clip_of, noise_frames

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    if name == "mgld":
        write_tiny_checkpoints(tmp_path / "weights" / "mgld_bench")
    else:
        options = {**options, "model": str(save_tiny_upscaler(tmp_path / "tiny-x4"))}
    method = METHODS.create(name, **options)
    assert method.deterministic and method.availability() == (True, "")
    clip = clip_of(noise_frames(2, 16, 16))
    runs = [list(method.run(clip, RunContext("cpu", 0, tmp_path / f"w{i}", tmp_path / f"w{i}"))) for i in range(2)]
    assert len(runs[0]) == len(runs[1]) == 2
    for a, b in zip(*runs, strict=True):
        assert np.array_equal(a, b), f"{name} claims determinism but gave other frames"


def test_concurrent_runs_into_one_folder_leave_a_csv_equal_to_the_store(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "out"
    base = [sys.executable, "-m", "mgld_bench.cli", "run", "--out", str(out), "--no-progress", "--clips", "pan"]
    procs = [
        subprocess.Popen([*base, "--cache-dir", str(tmp_path / f"c{i}"), "--metrics", m],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for i, m in enumerate(["psnr", "ssim"])
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with open(out / "results.csv") as fh:
        csv_rows = {(r["metric"], r["value"]) for r in csv.DictReader(fh)}
    db = sqlite3.connect(out / "results.sqlite")
    store_rows = {(m, repr(float(v))) for m, v in db.execute("SELECT metric, value FROM clip_scores")}
    assert csv_rows == store_rows and {m for m, _ in csv_rows} == {"psnr", "ssim"}


def test_a_plugin_metric_declares_its_facts_on_its_class() -> None:
    from mgld_bench.registry import Registry
    from tests.fakes import MeanAbsDiff, clip_from_gt

    reg = Registry("metric", "mgld_bench.tests-none")
    reg.register("fake-mad", "tests.fakes:MeanAbsDiff", origin="a plugin")
    assert reg.facts("fake-mad") is MeanAbsDiff.facts
    metric = reg.create("fake-mad")
    assert metric.kind == "full-reference" and metric.needs_gt and not metric.higher_is_better
    rng = np.random.default_rng(0)
    gt = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(2)]
    from mgld_bench.metrics.base import ScoreContext

    acc = metric.start(ScoreContext(clip=clip_from_gt(gt)))
    for i, g in enumerate(gt):
        acc.update(i, g, g)
    assert acc.result().value == 0.0


def test_an_old_store_spelling_reads_as_todays_metric() -> None:
    from mgld_bench.report.layouts import layout_table
    from mgld_bench.report.table import render

    df = _we_rows(5.0)
    assert list(df["metric"]) == ["warping-error"]
    md = render(layout_table(df, "generic", metrics=["warping_error"]), "md")
    assert "E*warp" in md and "5.00" in md
    table2 = render(layout_table(df, "mgld-table2"), "md")
    assert "E*warp" in table2


def test_an_unavailable_temporal_metric_stays_out_of_table_1() -> None:
    from mgld_bench.report.aggregate import normalise_clip_frame
    from mgld_bench.report.layouts import layout_table

    df = normalise_clip_frame(pd.DataFrame([{"dataset": "d", "method": "m", "clip": "c", "metric": "psnr",
                                             "protocol": "default", "value": 30.0, "kind": "full-reference"}]))
    na = pd.DataFrame([{"dataset": "d", "method": "m", "metric": "tlp", "reason": "weight file x missing"},
                       {"dataset": "d", "method": "m", "metric": "lpips", "reason": "weight file y missing"}])
    notes = " ".join(layout_table(df, "mgld-table1", unavailable=na).notes)
    assert "lpips" in notes and "tlp" not in notes


def test_data_commands_build_the_registered_variant(tmp_path: Path) -> None:
    import argparse

    from mgld_bench.cli.data_cmd import _dataset

    ds = _dataset(argparse.Namespace(name="udm10-bd", root=str(tmp_path)))
    assert ds.options["lr"] == "bd" and ds.label == "udm10-bd"
