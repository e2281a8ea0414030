"""Per-frame curves: y units from the metric facts, pairs on the x axis of temporal metrics, inf marked."""

from __future__ import annotations

import math

import pandas as pd

from mgld_bench.registry import METRICS
from mgld_bench.report.curves import curves_figure
from mgld_bench.report.html.page import curve_svg


def _frames() -> pd.DataFrame:
    rows = []
    for f, v in enumerate([math.inf, 31.0, 30.5, 30.8]):
        rows.append({"method": "m", "metric": "psnr", "protocol": "default", "frame": f, "value": v})
    for f, v in enumerate([0.05, 12.0, 0.06]):
        rows.append({"method": "m", "metric": "warping-error", "protocol": "default", "frame": f, "value": v})
    return pd.DataFrame(rows)


def test_curve_axes_carry_units_and_pairs_and_inf_is_marked() -> None:
    fig = curves_figure(_frames(), "d / c", directions={"psnr": True, "warping-error": False})
    try:
        psnr_ax, warp_ax = fig.axes[:2]
        assert psnr_ax.get_ylabel() == f"PSNR↑ ({METRICS.facts('psnr').unit})"
        assert warp_ax.get_ylabel() == f"E*warp↓ ({METRICS.facts('warping-error').unit})"
        assert psnr_ax.get_xlabel() == "frame"
        assert warp_ax.get_xlabel() == "frame pair t→t+1"
        # frame 0 (inf) is marked by a triangle at the top of the panel and an "inf" label
        marks = [ln for ln in psnr_ax.get_lines() if ln.get_marker() == "^"]
        assert len(marks) == 1 and list(marks[0].get_xdata()) == [0]
        assert marks[0].get_ydata()[0] == psnr_ax.get_ylim()[1]
        assert [t.get_text() for t in psnr_ax.texts] == ["inf"]
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_flagged_scene_cut_pairs_are_circled() -> None:
    import json

    from mgld_bench.report.curves import cut_marks

    clip_df = pd.DataFrame([{"dataset": "d", "clip": "c", "method": "m", "metric": "warping_error",
                             "protocol": "default", "extras": json.dumps({"cut_pairs": [1]})}])
    marks = cut_marks(clip_df)
    assert marks == {("d", "c", "m", "warping-error", "default"): [1]}  # old spelling -> today's name
    fig = curves_figure(_frames(), cuts={k[2:]: v for k, v in marks.items()})
    try:
        warp_ax = fig.axes[1]
        (circle,) = [ln for ln in warp_ax.get_lines() if ln.get_marker() == "o" and ln.get_linestyle() == "None"]
        assert list(circle.get_xdata()) == [1] and list(circle.get_ydata()) == [12.0]
        assert circle.get_label() == "likely scene cut"
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def test_html_curve_marks_inf_and_names_the_x_axis() -> None:
    svg = curve_svg("PSNR↑ (dB)", [("m", "#000", [(0, math.inf), (1, 31.0), (2, 30.0)])], 3, x_label="frame")
    assert svg.count('class="inf"') == 1 and "inf at 0" in svg and ">frame<" in svg
    pairs = curve_svg("E*warp↓ (x1e3)", [("m", "#000", [(0, 0.1), (1, 0.2)])], 3, x_label="frame pair t→t+1")
    assert "frame pair t→t+1" in pairs and 'class="inf"' not in pairs
