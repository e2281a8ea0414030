"""No code runs from a weight file; files are checked by published or first-use sha256 (issue 11, point 1)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from mgld_bench.cli import main
from mgld_bench.safeload import UnsafeWeightsError, load_weights, routed_torch_load, trust_pickle
from mgld_bench.weight_trust import WeightsMismatchError, check, recorded, status
from mgld_bench.weights import WeightFile


class _Payload:
    """Unpickling this calls os.system, which would create the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch '{self.marker}'",))


def _evil(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"weight": torch.zeros(2), "x": _Payload(marker)}, path)
    return path


def test_a_pickle_payload_is_refused_naming_file_and_global(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    bad = _evil(tmp_path / "w.pth", marker)
    with pytest.raises(UnsafeWeightsError) as err:
        load_weights(bad)
    assert str(bad) in str(err.value) and "system" in str(err.value) and "--allow-pickle" in str(err.value)
    assert not marker.exists()


def test_a_library_asking_for_plain_pickle_is_routed_through_safeload(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    bad = _evil(tmp_path / "w.pth", marker)
    with routed_torch_load(), pytest.raises(UnsafeWeightsError, match="system"):
        torch.load(bad, map_location="cpu", weights_only=False)  # what pyiqa and torch hub do
    assert not marker.exists()
    assert torch.load is not None and not hasattr(torch.load, "_mgld_original")  # restored


def test_pyiqa_brisque_never_sees_a_malicious_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mgld_bench.metrics.backends.base import clear_models, load_model
    from mgld_bench.registry import METRICS
    from mgld_bench.weights import BRISQUE_SVM

    root = tmp_path / "weights"
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(root))
    marker = tmp_path / "MARKER"
    _evil(BRISQUE_SVM.path(root), marker)
    clear_models()
    with pytest.raises(UnsafeWeightsError) as err:
        load_model(METRICS.create("brisque").spec(), "pyiqa", "cpu")
    assert "brisque_svm_weights.pth" in str(err.value) and "system" in str(err.value)
    assert not marker.exists()
    clear_models()


def test_allow_pickle_is_the_users_explicit_trust(tmp_path: Path) -> None:
    import argparse

    path = tmp_path / "ns.pth"
    torch.save({"ns": argparse.Namespace(a=1)}, path)
    with pytest.raises(UnsafeWeightsError, match=r"argparse\.Namespace"):
        load_weights(path)
    trust_pickle([path])
    assert load_weights(path)["ns"].a == 1


def test_allow_pickle_is_accepted_by_run_score_and_weights(tmp_path: Path) -> None:
    from mgld_bench.cli import build_parser

    parser = build_parser()
    for argv in (["run"], ["score", "--sr", "x"], ["weights", "list"], ["weights", "import", "d"]):
        args = parser.parse_known_args([*argv, "--allow-pickle", str(tmp_path / "f.pth")])[0]
        assert args.allow_pickle == [tmp_path / "f.pth"]


def test_first_use_digest_is_recorded_then_enforced(tmp_path: Path) -> None:
    wf = WeightFile("head.pth", None, "mgld_bench")
    path = wf.path(tmp_path)
    path.parent.mkdir(parents=True)
    torch.save({"w": torch.ones(3)}, path)
    assert status(wf, tmp_path) == "not recorded"
    sha = check(wf, root=tmp_path)
    assert recorded(tmp_path)["head.pth"]["sha256"] == sha
    assert status(wf, tmp_path).startswith("recorded")
    check(wf, root=tmp_path)  # unchanged: fine
    torch.save({"w": torch.zeros(3)}, path)  # replaced behind the suite's back
    with pytest.raises(WeightsMismatchError, match=r"head\.pth changed since its sha256 was recorded"):
        check(wf, root=tmp_path)


@pytest.mark.published_digests
def test_a_file_not_matching_its_published_digest_is_refused(tmp_path: Path, monkeypatch) -> None:
    from mgld_bench.weights import LPIPS_ALEX_HEAD, require_weights

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    path = LPIPS_ALEX_HEAD.path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * 6009)
    with pytest.raises(WeightsMismatchError, match="published sha256"):
        require_weights([LPIPS_ALEX_HEAD])


def test_weights_import_knows_method_files_and_records_digests(tmp_path: Path, capsys) -> None:
    src = tmp_path / "carry"
    src.mkdir()
    (src / "RealBasicVSR_x4.pth").write_bytes(b"too small")  # declared by a method, with a published size
    torch.save({"w": torch.ones(1)}, src / "raft-things.pth")  # declared by mgld, no published digest
    wdir = tmp_path / "w"
    assert main(["--weights-dir", str(wdir), "weights", "import", str(src)]) == 1  # one skipped
    out = capsys.readouterr().out
    assert "RealBasicVSR_x4.pth: skipped" in out and "raft-things.pth: imported" in out
    assert "raft-things.pth" in recorded(wdir)
    assert main(["--weights-dir", str(wdir), "weights", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(x for x in listing.splitlines() if x.startswith("| raft-things.pth"))
    assert "recorded" in line and "(first use)" in line
    assert "published sha256" in next(x for x in listing.splitlines() if x.startswith("| RealBasicVSR_x4.pth"))
    # a replaced file is reported at load time, and importing it again records the new digest
    shutil.copyfile(src / "raft-things.pth", tmp_path / "old.pth")
    torch.save({"w": torch.zeros(1)}, src / "raft-things.pth")
    assert main(["--weights-dir", str(wdir), "weights", "import", str(src)]) == 1
    assert "replaces the file recorded" in capsys.readouterr().out


def test_run_provenance_takes_the_recorded_digest_of_an_unchanged_file(tmp_path: Path, monkeypatch) -> None:
    import hashlib

    from mgld_bench.runner.plan import weight_digests

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    wf = WeightFile("head.pth", None, "mgld_bench")
    path = wf.path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"stand-in head")
    sha = check(wf)  # recorded on first use
    assert sha == hashlib.sha256(b"stand-in head").hexdigest()
    calls = []
    import mgld_bench.fileio as fileio

    real = fileio.file_sha256
    monkeypatch.setattr(fileio, "file_sha256", lambda p, memo=True: calls.append(p) or real(p, memo=False))
    assert weight_digests([wf]) == {"head.pth": sha} and calls == []  # unchanged: not read again
    path.write_bytes(b"another head, longer")  # size and mtime differ: hashed again, record untouched
    assert weight_digests([wf]) == {"head.pth": hashlib.sha256(b"another head, longer").hexdigest()}
    assert len(calls) == 1 and recorded()["head.pth"]["sha256"] == sha
