"""Progress inside a job: a live status line on a terminal, quiet plain lines elsewhere."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from mgld_bench.runner.jobs import run_infer, run_score_job, score_job
from mgld_bench.runner.progress import Console
from mgld_bench.store.cache import Cache
from tests.fakes import MeanAbsDiff, NearestMethod, make_clip

SMALL = ["--set", "synthetic.frames=4", "--set", "synthetic.size=32", "--clips", "pan", "--no-html"]


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_jobs_report_frames_through_the_callback(tmp_path: Path, rng: np.random.Generator) -> None:
    clip = make_clip(rng, n=3, gt=True)
    calls: list[tuple[str, int, int]] = []
    cache = Cache(tmp_path)
    from mgld_bench.runner.jobs import infer_job, run_infer_job
    from mgld_bench.specs import Ref

    method = NearestMethod()
    job = infer_job(method, Ref.of("method", method.name), Ref.of("dataset", "toy"), clip, 0)
    inf = run_infer_job(job, cache, "cpu", method, clip, progress=lambda *a: calls.append(a))
    assert calls == [("fake-nearest", i, 3) for i in range(4)]
    calls.clear()
    metric = MeanAbsDiff()
    from mgld_bench.protocol import get_protocol

    proto = get_protocol("default")
    sjob = score_job(job, inf.frames.digest(), clip, proto, [metric])
    run_score_job(sjob, inf.frames, clip, cache, proto, "cpu", [metric], progress=lambda *a: calls.append(a))
    assert calls[-1] == ("fake-mad", 3, 3) and all(c[0] == "fake-mad" for c in calls)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
    assert run_infer(method, clip, cache).cached  # a cached job needs no callback


def test_status_line_has_frames_rate_and_eta() -> None:
    clock, out = Clock(), io.StringIO()
    con = Console("tty", out, clock=clock)
    con.dataset("reds4", 2)
    con.job("mgld on 000")
    con.frames("mgld", 0, 100)  # as the jobs call it: 0 first
    clock.t = 10.0
    con.frames("mgld", 5, 100)
    line = con.status()
    assert line == "reds4 job 1/2 mgld on 000 | mgld: 5/100 frames, 0.5 frames/s, ETA 3:10"
    assert "\r" in out.getvalue() and line in out.getvalue()


def test_plain_mode_prints_at_most_one_line_per_interval() -> None:
    clock, out = Clock(), io.StringIO()
    con = Console("plain", out, interval=30.0, clock=clock)
    con.dataset("reds4", 1)
    con.job("mgld on 000")
    for i in range(100):  # 100 frames over 99 s: 3 lines, not 100
        clock.t = float(i)
        con.frames("mgld", i, 100)
    con.dataset_done()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in out.getvalue()
    assert lines[-1].startswith("mgld-bench: reds4: 1/1 jobs in 99.0 s")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mgld_bench.cli", *args]


def test_cli_on_a_pseudo_terminal_shows_frame_progress(tmp_path: Path) -> None:
    import pty
    import select

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "160"}
    proc = subprocess.Popen(
        _cli("run", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"), *SMALL),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave, env=env, cwd=tmp_path,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    text = b"".join(chunks).decode()
    assert "\r" in text
    assert "job 1/1 bicubic on pan | bicubic: 4/4 frames" in text
    assert "frames/s, ETA" in text
    assert "psnr: " in text or "ssim: " in text  # the metric at work
    assert "writing reports to" in text


def test_cli_off_a_terminal_prints_quiet_lines(tmp_path: Path) -> None:
    res = subprocess.run(
        _cli("run", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"), "--no-progress", *SMALL),
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "\r" not in res.stderr and "\x1b" not in res.stderr
    progress = [ln for ln in res.stderr.splitlines() if ln.startswith("mgld-bench: ")]
    assert any(": 1/1 jobs in " in ln for ln in progress)
    assert not any("frames/s" in ln for ln in progress)  # a short run: no periodic line
    assert any(ln.startswith(f"mgld-bench: writing reports to {tmp_path / 'o'}") for ln in progress)
    assert len(progress) <= 4
