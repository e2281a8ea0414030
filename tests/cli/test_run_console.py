"""What ``run`` says before any work: every unusable method and skipped metric, with the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from tests.fakes import random_frames, write_frames

SMALL = ["--set", "synthetic.frames=2", "--set", "synthetic.size=32", "--clips", "pan", "--no-html", "--no-progress"]


def test_two_unusable_methods_are_named_in_one_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "o"
    rc = main(["--weights-dir", str(tmp_path / "w"), "run", "--methods", "mgld,realbasicvsr",
               "--out", str(out), "--cache-dir", str(tmp_path / "c"), *SMALL])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1
    assert "2 methods cannot run" in err[0]
    assert "mgldvsr_unet.ckpt missing" in err[0] and "RealBasicVSR_x4.pth missing" in err[0]
    assert "mgld-bench weights fetch RealBasicVSR_x4.pth" in err[0]
    assert not out.exists()  # refused before anything was written


def test_keep_going_lists_both_then_runs_the_rest(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["--weights-dir", str(tmp_path / "w"), "run", "--methods", "mgld,realbasicvsr,bicubic",
               "--keep-going", "--metrics", "psnr", "--out", str(tmp_path / "o"),
               "--cache-dir", str(tmp_path / "c"), *SMALL])
    cap = capsys.readouterr()
    lines = cap.err.splitlines()
    first = [i for i, ln in enumerate(lines) if "cannot run" in ln]
    started = next(i for i, ln in enumerate(lines) if "jobs in" in ln)
    assert rc == 1 and len(first) >= 2 and max(first[:2]) < started  # named before the work
    assert any("method mgld cannot run" in ln for ln in lines[:started])
    assert any("method realbasicvsr cannot run" in ln for ln in lines[:started])
    assert "bicubic" in cap.out


def test_lr_only_run_says_why_there_are_no_results(tmp_path: Path, rng: np.random.Generator,
                                                    capsys: pytest.CaptureFixture) -> None:
    write_frames(tmp_path / "lr", random_frames(rng, 2, 12, 16))
    rc = main(["run", "--datasets", f"folder:{tmp_path / 'lr'}", "--out", str(tmp_path / "o"),
               "--cache-dir", str(tmp_path / "c"), "--no-progress", "--no-html"])
    cap = capsys.readouterr()
    assert rc == 0
    before = cap.err.split("jobs in")[0]
    for metric in ("psnr", "ssim"):
        assert f"metric {metric} skipped on folder:lr: {metric} needs ground truth (GT); dataset folder:lr " \
               f"has no GT; use metrics without GT, e.g. --metrics niqe" in before
    assert cap.out.startswith("no results: every metric was skipped")
    assert "- psnr on folder:lr: psnr needs ground truth" in cap.out
    assert "--metrics niqe," in cap.out


def test_duplicate_labels_hint_the_set_syntax_that_works(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import shlex

    a, b = tmp_path / "a" / "out", tmp_path / "v1.2" / "out"  # one base name; a dot in a path
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    common = ["run", "--methods", f"precomputed:{a},precomputed:{b}", "--out", str(tmp_path / "o"),
              "--cache-dir", str(tmp_path / "c"), *SMALL]
    assert main(common) != 0
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "two methods would be filed under the same name precomputed:out" in err
    hint = err.split("give each its own label: ")[1]
    sets = shlex.split(hint)
    assert sets == ["--set", f"precomputed:{a}.label=precomputed-1", "--set", f"precomputed:{b}.label=precomputed-2"]
    from mgld_bench.runner.config import parse_assignments
    from mgld_bench.runner.plan import build_plan

    plan = build_plan(["synthetic"], [f"precomputed:{a}", f"precomputed:{b}"], ["psnr"],
                      parse_assignments(sets[1::2]))  # the hint as given: the labels now differ
    assert [m.label for _, m in plan.methods] == ["precomputed-1", "precomputed-2"]
