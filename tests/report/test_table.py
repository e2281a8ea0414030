"""Aggregation and table rendering: marks, ties, missing values, escaping, protocol split."""

from __future__ import annotations

import json
import math
import sqlite3

import pandas as pd
import pytest

from mgld_bench.errors import BenchError
from mgld_bench.report.aggregate import dataset_means, load_clip_scores, normalise_clip_frame
from mgld_bench.report.table import (
    BEST,
    SECOND,
    build_table,
    latex_escape,
    rank_marks,
    render_csv,
    render_latex,
    render_markdown,
)


def clip_rows(rows):
    """rows: (dataset, method, clip, metric, value[, protocol]) -> normalised clip frame."""
    hib = {"psnr": True, "ssim": True, "lpips": False, "warping-error": False, "niqe": False}
    kind = {
        "psnr": "full-reference",
        "ssim": "full-reference",
        "lpips": "full-reference",
        "warping-error": "temporal",
        "niqe": "no-reference",
    }
    recs = []
    for r in rows:
        ds, m, c, met, v = r[:5]
        proto = r[5] if len(r) > 5 else "default"
        recs.append(
            {
                "dataset": ds,
                "method": m,
                "clip": c,
                "metric": met,
                "value": v,
                "protocol": proto,
                "higher_is_better": hib[met],
                "kind": kind[met],
                "unit": "x1e3" if met == "warping-error" else "",
                "params": "{}",
                "protocol_fields": json.dumps({"color_space": "y"}),
            }
        )
    return normalise_clip_frame(pd.DataFrame(recs))


# -- marks ---------------------------------------------------------------------------------------
def test_rank_marks_higher_is_better():
    assert rank_marks({"a": 30.0, "b": 31.0, "c": 29.0}, True, 2) == {"b": BEST, "a": SECOND}


def test_rank_marks_lower_is_better():
    assert rank_marks({"a": 0.3, "b": 0.1, "c": 0.2}, False, 4) == {"b": BEST, "c": SECOND}


def test_rank_marks_ties_share_marks_on_printed_value():
    # 30.001 and 30.004 both print as 30.00: tied for best; 29.5 is the next distinct value.
    marks = rank_marks({"a": 30.001, "b": 30.004, "c": 29.5, "d": 28.0}, True, 2)
    assert marks == {"a": BEST, "b": BEST, "c": SECOND}
    # With 3 decimals they are no longer tied.
    assert rank_marks({"a": 30.001, "b": 30.004, "c": 29.5}, True, 3) == {"b": BEST, "a": SECOND}


def test_rank_marks_missing_and_single():
    marks = rank_marks({"a": float("nan"), "b": 1.0, "c": 2.0, "d": 0.5}, True, 2)
    assert marks == {"c": BEST, "b": SECOND}
    assert rank_marks({"a": float("nan"), "b": 1.0}, True, 2) == {}
    assert rank_marks({"a": 2.0, "b": 1.0}, True, 2) == {"a": BEST}  # two values: no "second"
    assert rank_marks({"a": math.inf, "b": 40.0, "c": 30.0}, True, 2) == {"a": BEST, "b": SECOND}


# -- aggregation --------------------------------------------------------------------------------
def test_dataset_mean_is_unweighted_mean_of_clips_and_missing_clip_gives_missing():
    df = clip_rows(
        [
            ("syn", "a", "c1", "psnr", 30.0),
            ("syn", "a", "c2", "psnr", 20.0),
            ("syn", "b", "c1", "psnr", 31.0),  # b lacks c2
        ]
    )
    agg = dataset_means(df).set_index("method")
    assert agg.loc["a", "value"] == pytest.approx(25.0)
    assert math.isnan(agg.loc["b", "value"])
    assert (agg.loc["b", "n_clips"], agg.loc["b", "n_expected"]) == (1, 2)


def test_dataset_mean_refuses_mixed_params_in_one_column():
    df = clip_rows([("syn", "a", "c1", "psnr", 30.0), ("syn", "b", "c1", "psnr", 31.0)])
    df.loc[1, "protocol_fields"] = json.dumps({"color_space": "rgb"})
    with pytest.raises(BenchError, match="color_space"):
        dataset_means(df)


# -- rendering ----------------------------------------------------------------------------------
@pytest.fixture
def table():
    df = clip_rows(
        [
            ("syn", "bicubic", "c1", "psnr", 25.0),
            ("syn", "mgld", "c1", "psnr", 27.5),
            ("syn", "x_net", "c1", "psnr", 26.0),
            ("syn", "bicubic", "c1", "lpips", 0.5),
            ("syn", "mgld", "c1", "lpips", 0.2),
            ("syn", "x_net", "c1", "lpips", 0.3),
        ]
    )
    return build_table(dataset_means(df), title="Table 1")


def test_markdown_marks_and_arrows(table):
    md = render_markdown(table)
    lines = {line.split("|")[1].strip(): line for line in md.splitlines() if line.startswith("| ")}
    assert "PSNR↑" in md and "LPIPS↓" in md
    assert "**27.50**" in lines["mgld"] and "**0.2000**" in lines["mgld"]
    assert "<ins>26.00</ins>" in lines["x_net"] and "<ins>0.3000</ins>" in lines["x_net"]
    assert "**" not in lines["bicubic"] and "<ins>" not in lines["bicubic"]


def test_latex_booktabs_marks_and_escaping(table):
    tex = render_latex(table, caption="50% of R&D")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\textbf{27.50}" in tex and r"\underline{26.00}" in tex
    assert r"\textbf{0.2000}" in tex and r"\underline{0.3000}" in tex
    assert r"x\_net" in tex and r"50\% of R\&D" in tex
    assert r"PSNR$\uparrow$" in tex and r"LPIPS$\downarrow$" in tex
    # the body rows have as many cells as the header
    rows = [line for line in tex.splitlines() if line.endswith(r"\\") and "&" in line]
    assert len({line.count(" & ") for line in rows}) == 1


def test_latex_escape_every_special():
    assert latex_escape(r"a_b&c%d$e#f{g}h~i^j\k") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )


def test_missing_value_printed_as_dash_and_unmarked():
    df = clip_rows(
        [
            ("syn", "a", "c1", "psnr", 30.0),
            ("syn", "b", "c1", "psnr", 31.0),
            ("syn", "c", "c1", "psnr", 29.0),
            ("syn", "c", "c1", "ssim", 0.9),
            ("syn", "a", "c1", "ssim", float("nan")),
        ]
    )
    t = build_table(dataset_means(df))
    md = render_markdown(t)
    row_a = next(line for line in md.splitlines() if line.startswith("| a "))
    assert "—" in row_a
    assert "\\textbf{0.9000}" not in render_latex(t)  # only one SSIM value: nothing marked
    csv_text = render_csv(t)
    assert "a,30.0," in csv_text.replace(" ", "")


def test_protocols_get_separate_columns():
    df = clip_rows(
        [
            ("syn", "a", "c1", "psnr", 30.0, "default"),
            ("syn", "a", "c1", "psnr", 32.0, "rgb"),
            ("syn", "b", "c1", "psnr", 31.0, "default"),
            ("syn", "b", "c1", "psnr", 29.0, "rgb"),
        ]
    )
    t = build_table(dataset_means(df))
    assert [c.label() for c in t.columns] == ["PSNR↑ [default]", "PSNR↑ [rgb]"]
    md = render_markdown(t)
    row_a = next(line for line in md.splitlines() if line.startswith("| a "))
    # a is second under default (30 < 31) and best under rgb (32 > 29)
    assert "<ins>30.00</ins>" not in row_a  # only two values: the other is not underlined
    assert "**32.00**" in row_a and "**31.00**" not in row_a


def test_methods_columns_orientation_and_selection():
    df = clip_rows(
        [
            ("syn", "a", "c1", "psnr", 30.0),
            ("syn", "b", "c1", "psnr", 31.0),
            ("syn", "c", "c1", "psnr", 29.0),
            ("lq", "a", "c9", "niqe", 4.0),
            ("lq", "b", "c9", "niqe", 3.0),
            ("lq", "c", "c9", "niqe", 5.0),
        ]
    )
    t = build_table(dataset_means(df), methods=["c", "a", "b"], groups=["syn", "lq"])
    md = render_markdown(t, "methods-columns")
    header = next(line for line in md.splitlines() if line.startswith("| Dataset"))
    assert [h.strip() for h in header.strip("|").split("|")] == ["Dataset", "Metric", "c", "a", "b"]
    niqe = next(line for line in md.splitlines() if "NIQE" in line)
    cells = [h.strip() for h in niqe.strip("|").split("|")]
    assert cells == ["lq", "NIQE↓", "5.000", "<ins>4.000</ins>", "**3.000**"]
    with pytest.raises(BenchError, match="unknown method"):
        build_table(dataset_means(df), methods=["zzz"])


def test_load_from_sqlite_and_csv(tmp_path):
    db = sqlite3.connect(tmp_path / "results.sqlite")
    db.execute(
        "CREATE TABLE clip_scores (run_id, dataset, method, clip, metric, protocol, value REAL, "
        "n_frames, higher_is_better, kind, unit, params, protocol_fields, method_identity, "
        "infer_key, score_key)"
    )
    db.execute(
        "INSERT INTO clip_scores VALUES ('r','syn','a','c1','lpips','default',NULL,3,0,"
        "'full-reference','','{}','{}','{}','k','s')"
    )
    db.commit()
    db.close()
    df = load_clip_scores(tmp_path)
    assert math.isnan(df["value"].iloc[0]) and not df["higher_is_better"].iloc[0]
    csv_text = "dataset,method,clip,metric,protocol,value\nsyn,a,001,psnr,default,30\n"
    (tmp_path / "only.csv").write_text(csv_text)
    df2 = load_clip_scores(tmp_path / "only.csv")
    assert df2["clip"].iloc[0] == "001" and df2["value"].iloc[0] == 30.0
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchError, match=r"neither results\.sqlite"):
        load_clip_scores(tmp_path / "empty")
    with pytest.raises(BenchError, match="do not exist"):
        load_clip_scores(tmp_path / "absent.sqlite")


def test_latex_ties_and_missing():
    df = clip_rows(
        [
            ("syn", "a", "c1", "lpips", 0.20004),
            ("syn", "b", "c1", "lpips", 0.19996),
            ("syn", "c", "c1", "lpips", 0.25),
            ("syn", "d", "c1", "lpips", float("nan")),
        ]
    )
    tex = render_latex(build_table(dataset_means(df)))
    body = {
        line.split(" & ")[0]: line.split(" & ")[1]
        for line in tex.splitlines()
        if " & " in line and not line.startswith("Method")
    }
    # a and b both print 0.2000: tied for best; c is the next distinct value; d is missing
    assert body == {
        "a": r"\textbf{0.2000} \\",
        "b": r"\textbf{0.2000} \\",
        "c": r"\underline{0.2500} \\",
        "d": r"--- \\",
    }


def test_table_command_does_not_import_torch(tmp_path):
    import subprocess
    import sys

    (tmp_path / "r.csv").write_text("dataset,method,clip,metric,protocol,value\nsyn,a,c,psnr,default,30\n")
    code = (
        "import sys\nfrom mgld_bench.cli import main\n"
        f"assert main(['table', {str(tmp_path / 'r.csv')!r}, '--format', 'tex']) == 0\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "30.00" in proc.stdout


def test_metric_options_are_printed_under_the_table():
    df = clip_rows([("syn", "a", "c1", "psnr", 30.0), ("syn", "b", "c1", "psnr", 31.0)])
    df["params"] = json.dumps({"name": "psnr", "options": {"crop_border": 4}, "version": 2})
    md = render_markdown(build_table(dataset_means(df)))
    assert "* PSNR: crop_border=4; version 2" in md
    assert "* protocol default: color_space=y" in md
