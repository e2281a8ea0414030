"""The ``external`` method: a command per clip, logs kept, outputs validated before caching."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.errors import BenchError, OutputMismatchError
from mgld_bench.methods.base import RunContext
from mgld_bench.methods.external import CommandError, External
from tests.fakes import make_clip

SCRIPT = """
import sys, time
from pathlib import Path
import cv2
import numpy as np

src, dst, scale, mode = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print("upscaling", src, flush=True)
files = sorted(src.glob("*.png"))
if mode == "fail":
    print("something broke", file=sys.stderr)
    sys.exit(3)
if mode == "sleep":
    time.sleep(60)
if mode == "fewer":
    files = files[:-1]
for f in files:
    img = cv2.imread(str(f))
    up = img.repeat(scale, axis=0).repeat(scale, axis=1)
    if mode == "small":
        up = up[:-1]
    cv2.imwrite(str(dst / f.name), up)
print("done", len(files))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "tool dir" / "upscale.py"
    path.parent.mkdir()
    path.write_text(SCRIPT)
    return path


def command(script: Path, mode: str = "ok") -> str:
    return f'"{sys.executable}" "{script}" {{input}} {{output}} {{scale}} {mode}'


def test_runs_a_script_and_returns_its_frames(script: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    clip = make_clip(rng)
    ctx = RunContext(workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    out = list(External(command=command(script)).run(clip, ctx))
    assert len(out) == 3
    for sr, lr in zip(out, clip.lr, strict=True):
        np.testing.assert_array_equal(sr, lr.repeat(4, axis=0).repeat(4, axis=1))
    log = (tmp_path / "logs" / "command.log").read_text()
    assert "upscaling" in log and "done 3" in log and "exit status 0" in log


def test_shell_mode_quotes_values(script: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    clip = make_clip(rng, n=2)
    ctx = RunContext(workdir=tmp_path / "work dir with spaces", log_dir=tmp_path / "logs")
    method = External(command=command(script) + " && echo $MGLD_BENCH_CLIP", shell=True)
    assert len(list(method.run(clip, ctx))) == 2
    assert "c0" in (tmp_path / "logs" / "command.log").read_text()


@pytest.mark.parametrize(
    "mode,pattern",
    [("fewer", r"toy/c0: the command wrote 2 frames .* expected 3"), ("small", r"toy/c0: output frame .* is 48x39")],
)
def test_wrong_outputs_are_rejected(
    script: Path, tmp_path: Path, rng: np.random.Generator, mode: str, pattern: str
) -> None:
    ctx = RunContext(workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    with pytest.raises(OutputMismatchError, match=pattern):
        list(External(command=command(script, mode)).run(make_clip(rng), ctx))


@pytest.fixture(autouse=True)
def _private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))


def test_failure_quotes_the_log_and_keeps_a_copy(script: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    ctx = RunContext(workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    with pytest.raises(CommandError, match=r"(?s)clip toy/c0: the command exited with status 3.*something broke") as e:
        list(External(command=command(script, "fail")).run(make_clip(rng), ctx))
    assert "something broke" in (tmp_path / "logs" / "command.log").read_text()
    (kept,) = (tmp_path / "tmp" / "mgld-bench-logs").iterdir()
    assert str(kept) in str(e.value) and "something broke" in kept.read_text()
    assert "\n" not in str(e.value)  # one line; the whole log is at the path it names


def test_timeout_kills_the_command(script: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    ctx = RunContext(workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    start = time.monotonic()
    with pytest.raises(CommandError, match=r"timed out after 1 s"):
        list(External(command=command(script, "sleep"), timeout=1).run(make_clip(rng), ctx))
    assert time.monotonic() - start < 20


def test_template_errors() -> None:
    with pytest.raises(BenchError, match=r"must contain \{output\}"):
        External(command="tool {input}")
    with pytest.raises(BenchError, match=r"unknown placeholder\(s\) outdir"):
        External(command="tool {input} {output} {outdir}")
    assert External().availability()[0] is False
    with pytest.raises(BenchError, match="set the command"):
        list(External().run(make_clip(np.random.default_rng(0)), RunContext()))


def test_through_the_runner_label_cache_and_kept_log(script: Path, tmp_path: Path, rng: np.random.Generator) -> None:
    from mgld_bench.registry import METHODS
    from mgld_bench.runner.jobs import run_infer
    from mgld_bench.runner.plan import create
    from mgld_bench.store.cache import Cache

    method = create(METHODS, "external:mytool", {"external:mytool": {"command": command(script)}})
    assert method.label == "mytool"
    cache = Cache(tmp_path / "cache")
    clip = make_clip(rng, n=2)
    res = run_infer(method, clip, cache, RunContext())
    assert not res.cached and len(res.frames) == 2
    assert "done 2" in (cache.log_dir(res.key) / "command.log").read_text()
    assert run_infer(method, clip, cache, RunContext()).cached
    tagged = create(METHODS, "external:mytool", {"external:mytool": {"command": command(script), "tag": "v2"}})
    assert run_infer(tagged, clip, cache, RunContext()).key != res.key
    bad = create(METHODS, "external:bad", {"external:bad": {"command": command(script, "fewer")}})
    with pytest.raises(OutputMismatchError):
        run_infer(bad, clip, cache, RunContext())


SEEDED = """
import sys
from pathlib import Path
import cv2
import numpy as np

src, dst, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
for f in sorted(src.glob("*.png")):
    img = cv2.imread(str(f)).repeat(4, axis=0).repeat(4, axis=1)
    cv2.imwrite(str(dst / f.name), np.clip(img.astype(int) + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8))
"""


def test_a_stochastic_command_gets_the_seed_and_is_cached_under_it(tmp_path: Path, rng: np.random.Generator) -> None:
    from mgld_bench.runner.jobs import run_infer
    from mgld_bench.store.cache import Cache

    path = tmp_path / "noisy.py"
    path.write_text(SEEDED)
    template = f'"{sys.executable}" "{path}" {{input}} {{output}} {{seed}}'
    with pytest.raises(BenchError, match=r"uses \{seed\}.*stochastic=true"):  # else a new seed would hit the cache
        External(command=template)
    method = External(command=template, stochastic=True)
    assert not method.deterministic and method.uses_seed
    cache, clip = Cache(tmp_path / "cache"), make_clip(rng, n=2)
    one = run_infer(method, clip, cache, RunContext(seed=1))
    two = run_infer(method, clip, cache, RunContext(seed=2))
    assert one.key != two.key and not two.cached
    # the command saw each seed: its outputs are the ones numpy draws for it
    for res, seed in ((one, 1), (two, 2)):
        noise = np.random.default_rng(seed)
        for lr, sr in zip(clip.lr, res.frames, strict=True):
            bgr = lr[..., ::-1].repeat(4, axis=0).repeat(4, axis=1).astype(int)
            expected = np.clip(bgr + noise.integers(-8, 9, bgr.shape), 0, 255).astype(np.uint8)[..., ::-1]
            np.testing.assert_array_equal(sr, expected)
    assert run_infer(method, clip, cache, RunContext(seed=1)).cached
    # a deterministic command's key does not hold the seed; the timeout is execution-only
    plain = External(command=f'"{sys.executable}" "{path}" {{input}} {{output}} 0')
    slow = External(command=f'"{sys.executable}" "{path}" {{input}} {{output}} 0', timeout=10.0)
    from mgld_bench.runner.jobs import infer_key

    assert infer_key(plain, clip, 1) == infer_key(plain, clip, 2) == infer_key(slow, clip, 1)
