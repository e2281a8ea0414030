"""Loading RealBasicVSR checkpoints: official wrapper format, branch choice, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from baselines.realbasicvsr.checkpoint import CheckpointError, load_realbasicvsr, select_branch
from mgld_bench.errors import BenchError
from tests.baselines._rbv_layout import expected_layout


def _net_state(fill: float) -> dict[str, torch.Tensor]:
    """A state dict in the documented layout, built from the reference table, every entry = fill."""
    return {k: torch.full(shape, fill) for k, shape in expected_layout().items()}


def write_wrapper(path: Path, ema: bool = True) -> Path:
    """The official wrapper layout: state_dict with generator., generator_ema., discriminator. entries."""
    sd: dict[str, torch.Tensor] = {f"generator.{k}": v for k, v in _net_state(1.0).items()}
    if ema:
        sd.update({f"generator_ema.{k}": v for k, v in _net_state(2.0).items()})
    sd["discriminator.conv_0.weight"] = torch.zeros(64, 3, 3, 3)
    sd["discriminator.conv_0.bias"] = torch.zeros(64)
    sd["perceptual_loss.vgg.vgg_layers.0.weight"] = torch.zeros(64, 3, 3, 3)
    sd["step_counter"] = torch.tensor([5])
    torch.save({"meta": {"iter": 150000, "mmedit_version": "0.12.0"}, "state_dict": sd}, path)
    return path


def test_wrapper_checkpoint_loads_strictly_and_takes_ema(tmp_path: Path) -> None:
    net, sel = load_realbasicvsr(write_wrapper(tmp_path / "w.pth"))
    assert sel.branch == "ema" and sel.prefix == "generator_ema."
    assert "EMA" in sel.describe()
    sd = net.state_dict()
    assert len(sd) == 320
    assert all(torch.all(v == 2.0) for v in sd.values())  # every entry from generator_ema.


def test_plain_generator_when_no_ema_or_when_asked(tmp_path: Path) -> None:
    net, sel = load_realbasicvsr(write_wrapper(tmp_path / "g.pth", ema=False))
    assert sel.branch == "generator"
    assert all(torch.all(v == 1.0) for v in net.state_dict().values())
    net2, sel2 = load_realbasicvsr(write_wrapper(tmp_path / "w.pth"), branch="generator")
    assert sel2.branch == "generator"
    assert all(torch.all(v == 1.0) for v in net2.state_dict().values())
    with pytest.raises(CheckpointError, match="no generator_ema"):
        load_realbasicvsr(tmp_path / "g.pth", branch="ema")


def test_bare_network_and_module_prefix(tmp_path: Path) -> None:
    torch.save({f"module.{k}": v for k, v in _net_state(3.0).items()}, tmp_path / "bare.pth")
    net, sel = load_realbasicvsr(tmp_path / "bare.pth")
    assert sel.branch == "bare"
    assert all(torch.all(v == 3.0) for v in net.state_dict().values())


def test_wrong_architecture_names_first_mismatched_keys(tmp_path: Path) -> None:
    """A BasicSR-style BasicVSR (backward_trunk, plain SpyNet convs) is refused with its keys named."""
    sd = _net_state(1.0)
    renamed = {k.replace("backward_resblocks", "backward_trunk"): v for k, v in sd.items()}
    renamed["basicvsr.fusion.weight"] = torch.zeros(64, 64, 1, 1)
    torch.save({"state_dict": {f"generator.{k}": v for k, v in renamed.items()}}, tmp_path / "wrong.pth")
    with pytest.raises(CheckpointError) as err:
        load_realbasicvsr(tmp_path / "wrong.pth")
    msg = str(err.value)
    assert "wrong.pth" in msg
    assert "82 missing: basicvsr.backward_resblocks.main.0.weight" in msg
    assert "82 unexpected: basicvsr.backward_trunk.main.0.weight" in msg
    assert "basicvsr.fusion.weight (64, 64, 1, 1) != (64, 128, 1, 1)" in msg


def test_corrupted_checkpoint_gives_clear_error(tmp_path: Path) -> None:
    good = write_wrapper(tmp_path / "good.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(good.read_bytes()[:4096])
    with pytest.raises(BenchError, match=r"cannot read checkpoint .*bad\.pth.*corrupt or truncated"):
        load_realbasicvsr(bad)
    with pytest.raises(BenchError, match="does not exist"):
        load_realbasicvsr(tmp_path / "nothing.pth")


def test_non_tensor_pickle_is_refused_unless_allowed(tmp_path: Path) -> None:
    from fractions import Fraction

    sd = {f"generator_ema.{k}": v for k, v in _net_state(1.0).items()}
    torch.save({"state_dict": sd, "meta": {"obj": Fraction(1, 3)}}, tmp_path / "odd.pth")
    with pytest.raises(BenchError, match="allow_pickle"):
        load_realbasicvsr(tmp_path / "odd.pth")
    _, sel = load_realbasicvsr(tmp_path / "odd.pth", allow_pickle=True)
    assert sel.branch == "ema"


def test_select_branch_rejects_unknown_branch() -> None:
    with pytest.raises(BenchError, match="unknown branch"):
        select_branch({}, "best")
