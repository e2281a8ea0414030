"""``mgld-official`` never lets the official script unpickle a checkpoint the suite has not screened.

The official code opens its checkpoints with plain pickle.  A checkpoint whose pickle would run code
must be refused with one line naming the file and the global, before any process starts (not even
the environment probe); the payload must never run.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mgld_bench.frames import ArrayFrames, Clip  # noqa: E402
from mgld_bench.methods.base import RunContext  # noqa: E402
from mgld_bench.methods.mgld.official import MODEL_CONFIG, TILE_SCRIPT, VAE_CONFIG, MGLDOfficial  # noqa: E402
from mgld_bench.safeload import UnsafeWeightsError  # noqa: E402


class _System:
    """Unpickling this calls os.system (a module torch blocks outright)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class _Exec:
    """Unpickling this calls builtins.exec (torch would only stub it; the suite refuses it)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _repo(tmp_path: Path) -> Path:
    """A checkout whose tile script, were it ever started, would leave a file behind."""
    repo = tmp_path / "MGLD-VSR"
    script = repo / TILE_SCRIPT
    script.parent.mkdir(parents=True)
    script.write_text(f"open({str(tmp_path / 'STARTED')!r}, 'w').close()\n")
    for rel in (MODEL_CONFIG, VAE_CONFIG):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("model: {}\n")
    return repo


@pytest.mark.parametrize(("payload", "global_name", "option"), [
    (_System, "system", "ckpt"), (_Exec, "exec", "vqgan_ckpt"), (_System, "system", "raft_ckpt"),
])
def test_a_malicious_official_checkpoint_is_refused_before_any_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, payload, global_name, option
) -> None:
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "weights"))
    started: list[object] = []
    real_popen = subprocess.Popen

    def no_process(*args, **kwargs):
        started.append(args[0] if args else kwargs.get("args"))
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", no_process)
    marker = tmp_path / "MARKER"
    files = {}
    for name in ("ckpt", "vqgan_ckpt", "raft_ckpt"):
        files[name] = tmp_path / f"{name}.ckpt"
        good = {"state_dict": {"w": torch.ones(2)}}
        bad = {"state_dict": {"w": torch.ones(2)}, "callbacks": {"x": payload(marker)}}
        torch.save(bad if name == option else good, files[name])
    method = MGLDOfficial(repo=str(_repo(tmp_path)), python=sys.executable, **{k: str(v) for k, v in files.items()})
    assert method.availability() == (True, "")
    clip = Clip("test", "c", ArrayFrames([np.zeros((8, 8, 3), np.uint8)] * 2, "c LR"), scale=4)
    (tmp_path / "work").mkdir()
    ctx = RunContext(device="cpu", workdir=tmp_path / "work", log_dir=tmp_path / "logs")
    with pytest.raises(UnsafeWeightsError) as info:
        next(iter(method.run(clip, ctx)))
    message = str(info.value)
    assert "\n" not in message and str(files[option]) in message and global_name in message
    assert "--allow-pickle" in message
    assert not marker.exists(), "the payload ran"
    assert started == [] and not (tmp_path / "STARTED").exists(), "a process was started"
    assert not list((tmp_path / "work").rglob(files[option].name)), "a copy of the refused file was written"
