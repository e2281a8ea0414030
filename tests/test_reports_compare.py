"""Regression report: verdicts, direction, tolerances, missing entries, JUnit XML."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from mgld_bench.errors import BenchError
from mgld_bench.report.aggregate import normalise_clip_frame
from mgld_bench.report.compare import (
    IMPROVED,
    MISMATCH,
    MISSING,
    NEW,
    PASS,
    REGRESSED,
    compare,
    render_junit,
    render_markdown,
)
from mgld_bench.report.tolerances import (
    DEFAULT_TOLERANCES,
    Tolerance,
    apply_flags,
    load_tolerance_file,
    tolerance_for,
)

HIB = {"psnr": True, "ssim": True, "lpips": False}


def frame(rows):
    return normalise_clip_frame(
        pd.DataFrame(
            [
                {
                    "dataset": d,
                    "method": m,
                    "clip": c,
                    "metric": k,
                    "protocol": "default",
                    "value": v,
                    "higher_is_better": HIB[k],
                    "kind": "full-reference",
                    "params": "{}",
                    "protocol_fields": json.dumps({"color_space": "y"}),
                }
                for d, m, c, k, v in rows
            ]
        )
    )


REF = [
    ("syn", "bicubic", "c1", "psnr", 30.0),
    ("syn", "bicubic", "c2", "psnr", 28.0),
    ("syn", "bicubic", "c1", "ssim", 0.80),
    ("syn", "bicubic", "c2", "ssim", 0.70),
    ("syn", "bicubic", "c1", "lpips", 0.30),
    ("syn", "bicubic", "c2", "lpips", 0.40),
]


def by_metric(result):
    return {(r.method, r.metric): r for r in result.rows}


def test_identical_results_pass():
    result = compare(frame(REF), frame(REF))
    assert result.passed and {r.status for r in result.rows} == {PASS}
    assert len(result.rows) == 3  # dataset level: one row per method and metric
    assert "**PASS**" in render_markdown(result)


def test_degraded_copy_fails_on_the_right_rows():
    cur = [list(r) for r in REF]
    cur[0][4] = 29.0  # psnr c1 -1 dB -> dataset mean 28.5 vs 29.0: regressed
    cur[4][4] = 0.50  # lpips c1 up (worse, lower is better): mean 0.45 vs 0.35
    cur[2][4] = 0.80 + 4e-5  # ssim within 1e-4 tolerance: pass
    result = compare(frame([tuple(r) for r in cur]), frame(REF))
    rows = by_metric(result)
    assert rows[("bicubic", "psnr")].status == REGRESSED
    assert rows[("bicubic", "psnr")].delta == pytest.approx(-0.5)
    assert rows[("bicubic", "lpips")].status == REGRESSED
    assert rows[("bicubic", "ssim")].status == PASS
    assert not result.passed and len(result.failures) == 2
    md = render_markdown(result)
    failing = [line for line in md.splitlines() if "FAIL: regressed" in line]
    assert len(failing) == 2 and any("PSNR" in f for f in failing) and any("LPIPS" in f for f in failing)
    assert not any("SSIM" in f for f in failing)


def test_direction_aware_improvement_passes_unless_two_sided():
    cur = [(*r[:4], r[4] - 0.1) if r[3] == "lpips" else r for r in REF]  # lower LPIPS = better
    rows = by_metric(compare(frame(cur), frame(REF)))
    assert rows[("bicubic", "lpips")].status == IMPROVED and not rows[("bicubic", "lpips")].failed
    strict = compare(frame(cur), frame(REF), two_sided=True)
    assert [r.metric for r in strict.failures] == ["lpips"]


def test_missing_and_new_entries():
    cur = [r for r in REF if r[3] != "ssim"] + [("syn", "mgld", "c1", "psnr", 31.0)]
    result = compare(frame(cur), frame(REF))
    rows = by_metric(result)
    assert rows[("bicubic", "ssim")].status == MISSING and rows[("bicubic", "ssim")].failed
    assert rows[("mgld", "psnr")].status == NEW and not rows[("mgld", "psnr")].failed
    # a missing clip makes the dataset mean missing too
    cur2 = [r for r in REF if not (r[2] == "c2" and r[3] == "psnr")]
    assert by_metric(compare(frame(cur2), frame(REF)))[("bicubic", "psnr")].status == MISSING


def test_protocol_field_mismatch_fails():
    cur = frame(REF)
    cur["protocol_fields"] = json.dumps({"color_space": "rgb"})
    result = compare(cur, frame(REF))
    assert {r.status for r in result.rows} == {MISMATCH}
    assert "color_space" in result.rows[0].detail


def test_clip_level_marks_the_clip():
    cur = [list(r) for r in REF]
    cur[1][4] = 27.0  # psnr c2
    result = compare(frame([tuple(r) for r in cur]), frame(REF), level="clip")
    assert [(r.metric, r.clip) for r in result.failures] == [("psnr", "c2")]


def test_tolerances_absolute_relative_and_overrides(tmp_path):
    t = Tolerance(abs=0.01, rel=0.02)
    assert t.allowed(100.0) == pytest.approx(2.0) and t.allowed(0.1) == pytest.approx(0.01)
    cur = [(*r[:4], r[4] - 0.3) if r[3] == "psnr" else r for r in REF]
    assert by_metric(compare(frame(cur), frame(REF)))[("bicubic", "psnr")].status == REGRESSED
    loose = apply_flags(DEFAULT_TOLERANCES, ["psnr=0.5"], None)
    assert by_metric(compare(frame(cur), frame(REF), tolerances=loose))[("bicubic", "psnr")].status == PASS
    path = tmp_path / "tol.yaml"
    path.write_text("psnr:\n  rel: 0.02\n")
    from_file = load_tolerance_file(path)
    assert from_file["psnr"].rel == 0.02 and from_file["psnr"].abs == tolerance_for("psnr").abs == 0.01
    result = compare(frame(cur), frame(REF), tolerances=from_file)
    assert by_metric(result)[("bicubic", "psnr")].status == PASS
    with pytest.raises(BenchError, match="METRIC=VALUE"):
        apply_flags(DEFAULT_TOLERANCES, ["psnr"], None)
    path.write_text("psnr: 3\n")
    with pytest.raises(BenchError, match="mapping"):
        load_tolerance_file(path)


def test_infinite_psnr_equal_passes_and_drop_fails():
    ref = [("syn", "gt", "c1", "psnr", math.inf)]
    assert compare(frame(ref), frame(ref)).passed
    assert not compare(frame([("syn", "gt", "c1", "psnr", 50.0)]), frame(ref)).passed


def test_junit_xml_counts_and_failures():
    cur = [list(r) for r in REF]
    cur[0][4] = 20.0
    result = compare(frame([tuple(r) for r in cur]), frame(REF))
    root = ET.fromstring(render_junit(result))
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
    cases = root.findall("./testsuite/testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["psnr[default]"]
    assert failed[0].get("classname") == "mgld-bench.syn.bicubic"
    assert failed[0].find("failure").get("type") == "regressed"


def test_software_version_is_not_a_mismatch_but_options_are():
    ref = frame(REF)
    ref["params"] = json.dumps({"name": "x", "options": {"crop_border": 0}, "backend": "mgld_bench 0.1.0"})
    cur = ref.copy()
    cur["params"] = json.dumps({"name": "x", "options": {"crop_border": 0}, "backend": "mgld_bench 0.2.0"})
    assert compare(cur, ref).passed
    cur["params"] = json.dumps({"name": "x", "options": {"crop_border": 4}, "backend": "mgld_bench 0.1.0"})
    result = compare(cur, ref)
    assert {r.status for r in result.rows} == {MISMATCH} and "options" in result.rows[0].detail
