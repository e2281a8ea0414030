"""``mgldvsr_unet.ckpt`` as a Lightning file may hold more than the networks: what is ignored by
name (explicitly), what is refused, and where the user is told to get the two files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from mgld_bench.errors import BenchError
from mgld_bench.methods.mgld import checkpoint as ckpt_mod
from mgld_bench.methods.mgld.config import MGLDConfig
from mgld_bench.methods.mgld.layout import UNET_CKPT_PREFIXES
from mgld_bench.testing.tiny_mgld import write_tiny_checkpoints

OFFICIAL_KEYS = Path(__file__).resolve().parents[2] / "reference" / "mgld" / "official_keys.json.gz"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    return write_tiny_checkpoints(tmp_path_factory.mktemp("mgld-ckpt"))


def _rewrite(src: Path, folder: Path, change) -> Path:
    """A copy of ``src`` under the real file name in ``folder``, its state_dict changed by ``change``."""
    obj = torch.load(src, weights_only=True)
    change(obj["state_dict"])
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / "mgldvsr_unet.ckpt"
    obj.update(optimizer_states=[{"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": [{"lr": 5e-5}]}],
               lr_schedulers=[], callbacks={"ModelCheckpoint": {"best_model_score": torch.tensor(0.1)}})
    torch.save(obj, dest)
    return dest


def test_entries_of_other_config_settings_are_ignored_by_name(tiny, tmp_path) -> None:
    unet, vae = tiny

    def add(sd: dict) -> None:  # what use_ema / learn_logvar / scale_by_std would have saved
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(1000, dtype=torch.int32)
        sd["model_ema.diffusion_modelout2weight"] = torch.zeros(4, 32, 3, 3)
        sd["logvar"] = torch.zeros(1000)
        sd["scale_factor"] = torch.tensor(0.18215)

    path = _rewrite(unet, tmp_path / "w", add)
    mods = ckpt_mod.load_checkpoints(path, vae, MGLDConfig.tiny())
    ref = ckpt_mod.load_checkpoints(unet, vae, MGLDConfig.tiny())
    for a, b in zip(mods.unet.state_dict().values(), ref.unet.state_dict().values(), strict=True):
        assert torch.equal(a, b)  # the networks' own weights, not the EMA shadows


def test_the_ignore_list_hides_no_key_of_the_official_networks() -> None:
    official = json.loads(gzip.decompress(OFFICIAL_KEYS.read_bytes()))["keys"]
    names = [UNET_CKPT_PREFIXES[c] + k for c in UNET_CKPT_PREFIXES for k in official[c]]
    names += list(official["unet_ckpt_top_level"])
    hidden = set(names) - set(ckpt_mod.stray_keys(dict.fromkeys(names), (), ckpt_mod.UNET_FILE_IGNORE))
    assert hidden == set(), hidden


@pytest.mark.parametrize(("change", "expected"), [
    (lambda sd: sd.__setitem__("model_emb.decay", torch.zeros(())), r"unexpected key.*first: model_emb\.decay"),
    (lambda sd: sd.__setitem__("first_stage_model.encoder.conv_in.weight", torch.zeros(2, 2)),
     r"first_stage_model\..*wrong shape \(first: encoder\.conv_in\.weight is \(2, 2\)"),
])
def test_a_wrong_file_is_one_line_naming_the_key(tiny, tmp_path, change, expected) -> None:
    unet, vae = tiny
    path = _rewrite(unet, tmp_path / "w", change)
    with pytest.raises(BenchError, match=expected) as info:
        ckpt_mod.load_checkpoints(path, vae, MGLDConfig.tiny())
    assert "\n" not in str(info.value) and "mgldvsr_unet.ckpt" in str(info.value)


def test_weights_list_and_errors_say_where_to_get_the_files(tmp_path, monkeypatch, capsys) -> None:
    from mgld_bench.cli import main
    from mgld_bench.methods.mgld.method import MGLD
    from mgld_bench.weights_fetch import fetch

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    assert main(["weights", "list"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "mgldvsr_unet.ckpt" in line
            or "video_vae_cfw.ckpt" in line]
    assert len(rows) == 2 and all("huggingface.co/ianyeung/MGLD-VSR" in r and "pan.baidu.com" in r for r in rows)
    ok, why = MGLD().availability()
    assert not ok and "huggingface.co/ianyeung/MGLD-VSR" in why
    from mgld_bench.methods.mgld.weights import MGLD_UNET

    with pytest.raises(BenchError, match=r"by hand \(get it from https://huggingface.co/ianyeung/MGLD-VSR"):
        fetch(MGLD_UNET, root=tmp_path, progress=False)
