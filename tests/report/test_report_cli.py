"""The table / compare / plot commands end to end, and the reports a run writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mgld_bench.cli import main
from mgld_bench.store.results import ClipRecord, ResultStore

# (method, clip, metric) -> clip value; per-frame values are [v - 1, v + 1] so the clip mean is v
VALUES = {
    ("bicubic", "a", "psnr"): 24.0,
    ("bicubic", "b", "psnr"): 26.0,
    ("real_esr", "a", "psnr"): 25.0,
    ("real_esr", "b", "psnr"): 27.0,
    ("mgld", "a", "psnr"): 26.0,
    ("mgld", "b", "psnr"): 26.5,
    ("bicubic", "a", "lpips"): 0.50,
    ("bicubic", "b", "lpips"): 0.40,
    ("real_esr", "a", "lpips"): 0.30,
    ("real_esr", "b", "lpips"): 0.20,
    ("mgld", "a", "lpips"): 0.28,
    ("mgld", "b", "lpips"): 0.26,
    ("bicubic", "a", "warping-error"): 2.0,
    ("bicubic", "b", "warping-error"): 2.2,
    ("real_esr", "a", "warping-error"): 5.0,
    ("real_esr", "b", "warping-error"): 4.0,
    ("mgld", "a", "warping-error"): 3.0,
    ("mgld", "b", "warping-error"): 3.2,
}
META = {
    "psnr": (True, "full-reference", "dB"),
    "lpips": (False, "full-reference", ""),
    "warping-error": (False, "temporal", "x1e3"),
}


def make_store(folder: Path, values: dict, unavailable: tuple[str, str] | None = None) -> Path:
    with ResultStore(folder / "results.sqlite") as store:
        run_id = store.start_run(["test"], {})
        if unavailable:
            store.mark_unavailable(run_id, "syn", "mgld", *unavailable)
        for (method, clip, metric), v in values.items():
            hib, kind, unit = META[metric]
            store.write(
                run_id,
                ClipRecord(
                    dataset="syn",
                    method=method,
                    clip=clip,
                    metric=metric,
                    protocol="default",
                    value=v,
                    frames={0: v - 1, 1: v + 1},
                    higher_is_better=hib,
                    kind=kind,
                    unit=unit,
                    params={"name": metric},
                    protocol_fields={"name": "default", "color_space": "y"},
                ),
            )
    return folder


def test_table_mgld_layouts_in_latex(tmp_path, capsys):
    src = make_store(tmp_path / "run", VALUES)
    assert (
        main(["table", str(src), "--format", "tex", "--layout", "mgld-table1", "--methods", "bicubic,real_esr,mgld"])
        == 0
    )
    tex = capsys.readouterr().out
    # means: psnr bicubic 25.0, real_esr 26.0, mgld 26.25; lpips 0.45, 0.25, 0.27
    psnr = next(line for line in tex.splitlines() if "PSNR" in line)
    assert psnr.split(" & ")[2:] == ["25.00", r"\underline{26.00}", r"\textbf{26.25} \\"]
    lpips = next(line for line in tex.splitlines() if "LPIPS" in line)
    assert lpips.split(" & ")[2:] == ["0.4500", r"\textbf{0.2500}", r"\underline{0.2700} \\"]
    assert "warping" not in tex.lower() and r"real\_esr" in tex
    assert main(["table", str(src), "--format", "tex", "--layout", "mgld-table2"]) == 0
    tex2 = capsys.readouterr().out
    we = next(line for line in tex2.splitlines() if "E*warp" in line)
    # means: bicubic 2.1, mgld 3.1, real_esr 4.5 (default order: bicubic first, then alphabetical)
    assert we.split(" & ")[2:] == [r"\textbf{2.10}", r"\underline{3.10}", r"4.50 \\"]
    assert "PSNR" not in tex2


def test_table_notes_unavailable_metrics(tmp_path, capsys):
    src = make_store(tmp_path / "run", VALUES, unavailable=("dists", "weights missing: dists.pth"))
    assert main(["table", str(src)]) == 0
    assert "* n/a: dists on syn (mgld): weights missing: dists.pth" in capsys.readouterr().out
    assert main(["table", str(src), "--layout", "mgld-table1", "--methods", "bicubic"]) == 0
    assert "n/a" not in capsys.readouterr().out  # not about a method in this table


def test_table_all_formats_to_folder(tmp_path, capsys):
    src = make_store(tmp_path / "run", VALUES)
    assert main(["table", str(src / "results.sqlite"), "--format", "all", "--out", str(tmp_path / "t")]) == 0
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["generic.csv", "generic.md", "generic.tex"]
    csv_lines = (tmp_path / "t" / "generic.csv").read_text().splitlines()
    assert csv_lines[0] == "dataset,method,PSNR↑ (dB),LPIPS↓,E*warp↓ (x1e3)"
    assert "syn,mgld,26.25,0.27,3.1" in csv_lines


def test_table_bad_input_is_one_clear_error(tmp_path, capsys):
    assert main(["table", str(tmp_path / "nope")]) != 0
    err = capsys.readouterr().err
    assert "do not exist" in err and "Traceback" not in err
    src = make_store(tmp_path / "run", VALUES)
    assert main(["table", str(src), "--metrics", "psnr,nosuch"]) != 0
    assert "nosuch" in capsys.readouterr().err


def failing_rows(report: str) -> list[str]:
    """method/metric of the report's failing rows."""
    return sorted(
        line.split("|")[1].strip() + "/" + line.split("|")[2].strip()
        for line in report.splitlines()
        if "FAIL" in line and line.startswith("|")
    )


def test_compare_identical_passes_and_degraded_fails(tmp_path, capsys):
    ref = make_store(tmp_path / "ref", VALUES)
    same = make_store(tmp_path / "same", VALUES)
    assert main(["compare", str(same), str(ref / "results.sqlite")]) == 0
    assert "**PASS**" in capsys.readouterr().out
    worse = dict(VALUES)
    worse[("mgld", "a", "psnr")] -= 0.5  # PSNR down: regression
    worse[("real_esr", "b", "warping-error")] -= 1.0  # warping error down: improvement
    del worse[("bicubic", "a", "lpips")]  # a clip lost: missing
    cur = make_store(tmp_path / "cur", worse)
    junit = tmp_path / "junit.xml"
    assert main(["compare", str(cur), str(ref), "--junit", str(junit)]) == 1
    assert failing_rows(capsys.readouterr().out) == ["bicubic/LPIPS↓", "mgld/PSNR↑"]
    root = ET.parse(junit).getroot()
    failed = sorted(
        c.get("classname") + ":" + c.get("name") for c in root.iter("testcase") if c.find("failure") is not None
    )
    assert failed == ["mgld-bench.syn.bicubic:lpips[default]", "mgld-bench.syn.mgld:psnr[default]"]
    # a loose tolerance lets the PSNR drop pass; the missing clip still fails
    assert main(["compare", str(cur), str(ref), "--abs-tol", "psnr=0.5"]) == 1
    assert failing_rows(capsys.readouterr().out) == ["bicubic/LPIPS↓"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(root / "cache"))
    mp.setenv("TQDM_DISABLE", "1")
    try:
        assert main(["run", "--clips", "pan", "--out", str(root / "out"), "--no-progress"]) == 0
    finally:
        mp.undo()
    return root


def test_run_writes_tables_and_figures(demo_run):
    out = demo_run / "out"
    assert (out / "tables" / "results.tex").read_text().count(r"\toprule") == 1
    assert (out / "tables" / "mgld-table1.tex").is_file()
    assert (out / "figures" / "curves_synthetic_pan.svg").read_text().startswith("<svg xmlns=")
    assert (out / "figures" / "profile_synthetic_pan.png").is_file()


def test_plot_profile_matches_gt_rows(demo_run, monkeypatch, capsys):
    from mgld_bench.registry import DATASETS

    monkeypatch.setenv("MGLD_BENCH_CACHE", str(demo_run / "cache"))
    figs = demo_run / "figs"
    assert main(["plot", "profile", str(demo_run / "out"), "--row", "40", "--out", str(figs)]) == 0
    clip = DATASETS.create("synthetic").clip("pan")
    expected = np.stack([np.asarray(clip.gt[t])[40] for t in range(len(clip.gt))])
    got = np.asarray(Image.open(figs / "profile_synthetic_pan_GT.png").convert("RGB"))
    np.testing.assert_array_equal(got, expected)
    assert (figs / "profile_synthetic_pan.pdf").read_bytes().startswith(b"%PDF")
    assert (figs / "profile_synthetic_pan_bicubic.png").is_file()


def test_plot_crops_and_curves(demo_run, monkeypatch, capsys):
    from mgld_bench.registry import DATASETS

    monkeypatch.setenv("MGLD_BENCH_CACHE", str(demo_run / "cache"))
    figs = demo_run / "figs2"
    assert (
        main(
            [
                "plot",
                "crops",
                str(demo_run / "out"),
                "--frame",
                "3",
                "--box",
                "10,20,30,16",
                "--out",
                str(figs),
                "--format",
                "png",
            ]
        )
        == 0
    )
    gt = np.asarray(DATASETS.create("synthetic").clip("pan").gt[3])
    got = np.asarray(Image.open(figs / "crops_synthetic_pan_f3_GT.png").convert("RGB"))
    np.testing.assert_array_equal(got, gt[20:36, 10:40])
    assert main(["plot", "curves", str(demo_run / "out"), "--out", str(figs), "--format", "pdf"]) == 0
    assert (figs / "curves_synthetic_pan.pdf").is_file()
    assert main(["plot", "crops", str(demo_run / "out"), "--frame", "99"]) != 0
    assert "outside" in capsys.readouterr().err


def test_run_reports_skip_a_figure_whose_frames_are_gone(demo_run, tmp_path, capsys):
    import shutil

    from mgld_bench.report.run_reports import write_run_reports

    out = tmp_path / "copy"
    shutil.copytree(demo_run / "out", out, ignore=shutil.ignore_patterns("tables", "figures"))
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(tmp_path / "empty-cache"))
    try:
        # the run's recorded cache is still there, so point the store's provenance away from it
        import sqlite3

        with sqlite3.connect(out / "results.sqlite") as db:
            db.execute("UPDATE runs SET provenance = '{}'")
        written = write_run_reports(out, out / "results.sqlite").written
    finally:
        mp.undo()
    names = {p.name for p in written}
    assert "results.tex" in names and "curves_synthetic_pan.svg" in names
    assert "profile_synthetic_pan.png" not in names
    assert "temporal profile of synthetic/pan not written" in capsys.readouterr().err
    assert not (out / ".reports-stamp").exists()  # a figure failed: the next run tries it again
    again = write_run_reports(out, out / "results.sqlite")
    assert not again.figures_reused


def test_dataset_spec_is_read_back_from_the_run_provenance(tmp_path):
    from mgld_bench.report.frame_sources import open_dataset, run_info

    out = tmp_path / "run"
    args = ["run", "--out", str(out), "--no-progress", "--clips", "pan", "--set", "synthetic.frames=5"]
    assert main([*args, "--cache-dir", str(tmp_path / "c")]) == 0
    info = run_info(out / "results.sqlite")
    spec, options, root = info.datasets["synthetic[frames=5]"]
    assert spec == "synthetic" and options["synthetic"]["frames"] == 5 and root is None
    assert len(open_dataset("synthetic[frames=5]", info).clip("pan").gt) == 5
    assert str(tmp_path / "c") in info.cache_dirs



def test_table_combines_runs_and_refuses_duplicates(tmp_path, capsys):
    baselines = make_store(tmp_path / "baselines", {k: v for k, v in VALUES.items() if k[0] != "mgld"})
    ours = make_store(tmp_path / "ours", {k: v for k, v in VALUES.items() if k[0] == "mgld"})
    assert main(["table", str(baselines), str(ours), "--metrics", "psnr", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines[1:]) == ["syn,bicubic,25.0", "syn,mgld,26.25", "syn,real_esr,26.0"]
    assert main(["table", str(baselines), str(tmp_path / "baselines" / "results.sqlite")]) != 0
    assert "more than one source" in capsys.readouterr().err
    assert main(["table", str(ours), "--protocols", "rgb"]) != 0
    assert "no results under protocol(s) rgb" in capsys.readouterr().err
