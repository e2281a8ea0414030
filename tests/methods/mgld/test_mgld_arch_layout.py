"""The MGLD port's networks have exactly the official keys and shapes, and load strictly.

The reference listing ``tests/reference/mgld/official_keys.json.gz`` was produced by building
the official classes (IanYeung/MGLD-VSR 9aa7731) on the meta device; see the README there.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from mgld_bench.errors import BenchError  # noqa: E402
from mgld_bench.methods.mgld import layout  # noqa: E402
from mgld_bench.methods.mgld.config import MGLDConfig  # noqa: E402

REFERENCE = Path(__file__).parents[2] / "reference" / "mgld" / "official_keys.json.gz"

# (tensors, parameters in millions) of the official classes at full size (issue #10)
OFFICIAL_COUNTS = {
    "unet": (876, 935.32), "encoder": (200, 52.49), "vae": (248, 83.65), "text": (294, 354.03),
    "raft": (179, 5.26), "video_vae": (363, 114.97),
}


@pytest.fixture(scope="module")
def official() -> dict:
    with gzip.open(REFERENCE, "rb") as fh:
        return json.loads(fh.read())


@pytest.mark.parametrize("component", layout.COMPONENTS)
def test_full_size_keys_and_shapes_are_the_official_ones(official: dict, component: str) -> None:
    module = layout.build(component)  # meta device: nothing allocated
    mine = {k: list(v.shape) for k, v in module.state_dict().items()}
    ref = official["keys"][component]
    assert sorted(set(ref) - set(mine)) == []
    assert sorted(set(mine) - set(ref)) == []
    assert {k: v for k, v in mine.items() if ref[k] != v} == {}
    tensors, params = OFFICIAL_COUNTS[component]
    assert len(mine) == tensors == official["counts"][component]["tensors"]
    n = sum(p.numel() for p in module.parameters())
    assert n == official["counts"][component]["params"]
    assert round(n / 1e6, 2) == params


def test_video_vae_encoder_and_decoder_sizes(official: dict) -> None:
    video = layout.build("video_vae")
    enc = sum(p.numel() for p in video.encoder.parameters())
    dec = sum(p.numel() for p in video.decoder.parameters())
    assert (round(enc / 1e6, 2), round(dec / 1e6, 2)) == (34.16, 80.81)
    assert enc == official["counts"]["video_vae.encoder"]["params"]
    assert dec == official["counts"]["video_vae.decoder"]["params"]


def test_checkpoint_prefixes_and_ignored_keys_are_the_official_ones(official: dict) -> None:
    assert sorted(layout.UNET_CKPT_IGNORED) == sorted(official["keys"]["unet_ckpt_top_level"])
    assert set(layout.UNET_CKPT_PREFIXES) == {"unet", "encoder", "vae", "text", "raft"}
    video_tops = {k.split(".")[0] + "." for k in official["keys"]["video_vae"]}
    assert video_tops == set(layout.VIDEO_VAE_MODULES)


def _tiny_state(component: str, prefix: str) -> tuple[torch.nn.Module, dict]:
    module = layout.build(component, MGLDConfig.tiny(), device="cpu")
    state = {prefix + k: v.clone() + 1 for k, v in module.state_dict().items()}
    state["betas"] = torch.zeros(3)  # a key outside the prefix is not looked at
    return layout.build(component, MGLDConfig.tiny(), device="cpu"), state


def test_load_component_strips_the_prefix_and_loads_everything() -> None:
    prefix = layout.UNET_CKPT_PREFIXES["encoder"]
    module, state = _tiny_state("encoder", prefix)
    layout.load_component(module, state, prefix)
    for k, v in module.state_dict().items():
        assert torch.equal(v, state[prefix + k])


def test_load_component_names_the_first_missing_unexpected_and_wrong_shape_keys() -> None:
    prefix = layout.UNET_CKPT_PREFIXES["unet"]
    module, state = _tiny_state("unet", prefix)
    keys = [k for k in state if k.startswith(prefix)]
    del state[keys[0]]
    state[prefix + "input_blocks.99.weight"] = torch.zeros(1)
    state[keys[5]] = torch.zeros(2, 2)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    with pytest.raises(BenchError) as err:
        layout.load_component(module, state, prefix, what="mgldvsr_unet.ckpt")
    msg = str(err.value)
    assert "mgldvsr_unet.ckpt" in msg
    assert f"1 missing (first: {keys[0][len(prefix):]})" in msg
    assert "1 unexpected (first: input_blocks.99.weight)" in msg
    assert f"1 of wrong shape (first: {keys[5][len(prefix):]} is (2, 2)" in msg
    assert all(torch.equal(v, before[k]) for k, v in module.state_dict().items())  # nothing copied


def test_load_component_assigns_into_a_meta_skeleton() -> None:
    _, state = _tiny_state("raft", "flownet_model.")
    skeleton = layout.build("raft", MGLDConfig.tiny())
    layout.load_component(skeleton, state, "flownet_model.", assign=True)
    assert all(not t.is_meta for t in skeleton.state_dict().values())


def test_raft_refuses_exactly_the_sizes_where_the_official_one_gives_nan() -> None:
    """Official RAFT_SR (checked once by hand): NaN at 64x64 and 120x200, finite at 121x200 (padded to 128)."""
    raft = layout.build("raft", MGLDConfig.tiny(), device="cpu")
    for h, w in ((64, 64), (120, 200), (200, 120)):
        img = torch.rand(1, 3, h, w)
        with pytest.raises(ValueError, match="at least 128x128"):
            raft(img, img)
    img = torch.rand(1, 3, 121, 136)
    with torch.no_grad():
        assert torch.isfinite(raft(img, img.roll(1, -1), iters=1)).all()


def test_importing_config_and_layout_does_not_import_torch() -> None:
    code = ("import sys, mgld_bench.methods.mgld.layout, mgld_bench.methods.mgld.config; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
