"""Named protocols configure the temporal and no-reference metrics (and user options override them)."""

from __future__ import annotations

from mgld_bench.protocol import get_protocol
from mgld_bench.runner.plan import build_metric


def test_protocol_fields_reach_metrics(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    default, videolq, evalcrafter = (get_protocol(n) for n in ("default", "videolq", "evalcrafter"))
    we = build_metric("warping_error", default, {})
    assert (we.options["warp_definition"], we.options["flow_backend"], we.options["flow_source"]) == (
        "lai", "dis-medium", "auto")
    assert we.availability() == (True, "")
    we_lq = build_metric("warping_error", videolq, {})
    assert we_lq.options["flow_source"] == "sr" and we_lq.options["flow_backend"] == "raft-large"
    ok, reason = we_lq.availability()
    assert not ok and "raft_large_C_T_SKHT_V2-ff5fadd5.pth" in reason
    assert build_metric("warping_error", evalcrafter, {}).options["warp_definition"] == "evalcrafter"
    # the EvalCrafter column keeps its definition under any protocol; only the flow backend follows
    ec = build_metric("warping-error-evalcrafter", default, {})
    assert ec.options["warp_definition"] == "evalcrafter" and ec.options["flow_source"] == "sr"
    user = build_metric("warping_error", videolq, {"warping_error": {"flow_backend": "dis-fast"}})
    assert user.options["flow_backend"] == "dis-fast" and user.availability()[0]
    assert build_metric("niqe", default, {}).options["color_space"] == "y"
    assert videolq.frame_indices(100) == [0, 50, 99]


def test_metric_and_flow_modules_import_without_torch_or_opencv() -> None:
    import subprocess
    import sys

    code = ("import sys, mgld_bench.flow, mgld_bench.flow.cached, mgld_bench.metrics.temporal, "
            "mgld_bench.metrics.learned, mgld_bench.cli.weights_cmd, mgld_bench.weights_fetch; "
            "print(sorted(m for m in ('torch', 'cv2', 'pyiqa', 'lpips') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
