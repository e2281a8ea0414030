"""The MGLD port computes what the official classes compute (reduced sizes, seeded weights).

``tests/reference/mgld/numerics.npz`` holds outputs of the official classes (IanYeung/MGLD-VSR
9aa7731) run in float32 on the CPU with the weights of ``_mgld_arch_fixture.seeded_state``; the
port gets the same weights (regenerated from the seed) and inputs.  Tolerance: float32, the
largest absolute difference at most ``RTOL`` times the largest absolute reference value.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import _mgld_arch_fixture as fx  # noqa: E402

from mgld_bench.methods.mgld import layout  # noqa: E402
from mgld_bench.methods.mgld.config import EncoderConfig, MGLDConfig, UNetConfig  # noqa: E402
from mgld_bench.methods.mgld.text import MGLDTextEncoder  # noqa: E402

FIXTURE = Path(__file__).parents[2] / "reference" / "mgld" / "numerics.npz"

# float32 tolerances, relative to the largest reference magnitude (measured differences are
# reported by the failures; RAFT's 10 recurrent iterations amplify rounding the most)
RTOL = {"unet": 1e-5, "encoder": 1e-5, "vae": 1e-5, "video": 1e-5, "text": 1e-5, "raft": 1e-4}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The shared 2-core machine runs these small networks ~5x faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ref() -> dict:
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def inp() -> dict:
    return {k: torch.from_numpy(v).float() if v.dtype.kind == "f" else torch.from_numpy(v).long()
            for k, v in fx.inputs().items()}


def _port(component: str, ref: dict, cfg: MGLDConfig | None = None, digest: str | None = None) -> torch.nn.Module:
    module = layout.build(component, cfg or MGLDConfig.tiny(), device="cpu")
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    assert fx.layout_digest(shapes) == json.loads(str(ref["digests"]))[digest or component], \
        "the reduced port's layout differs from the official one"
    dtypes = {k: v.dtype for k, v in module.state_dict().items()}
    state = {k: torch.from_numpy(v).to(dtypes[k]) for k, v in fx.seeded_state(shapes).items()}
    return layout.load_component(module, state).eval()


def _close(got: torch.Tensor, want: np.ndarray, rtol: float) -> None:
    got_np = got.detach().numpy()
    assert got_np.shape == want.shape
    err = float(np.abs(got_np - want).max())
    scale = float(np.abs(want).max())
    assert err <= rtol * scale, f"max abs error {err:.3g} > {rtol:g} x {scale:.3g}"


@pytest.mark.parametrize("case", ["one", "each"])
def test_unet_and_lr_encoder_match_the_official_classes(ref: dict, inp: dict, case: str) -> None:
    unet, encoder = _port("unet", ref), _port("encoder", ref)
    t = inp[f"unet_t_{case}"]
    with torch.no_grad():
        feats = encoder(inp["unet_lr"], t)
        assert sorted(feats) == [8, 16]
        for width, f in feats.items():
            key = f"encoder_{case}_{width}"
            if key in ref:  # stored at every second row and column
                _close(f[..., ::2, ::2], ref[key], RTOL["encoder"])
        eps = unet(inp["unet_x"], t, inp["unet_context"], feats, num_frames=fx.FRAMES)
    _close(eps, ref[f"unet_{case}"], RTOL["unet"])


def test_full_structure_unet_and_encoder_match(ref: dict, inp: dict) -> None:
    """Four levels, two residual blocks per level, no attention at the deepest level, 2x narrower."""
    cfg = dataclasses.replace(MGLDConfig.tiny(), unet=UNetConfig(**fx.DEEP_UNET),
                              encoder=EncoderConfig(**fx.DEEP_ENCODER))
    unet = _port("unet", ref, cfg, "deep_unet")
    encoder = _port("encoder", ref, cfg, "deep_encoder")
    t = inp["unet_t_each"]
    with torch.no_grad():
        feats = encoder(inp["unet_lr"], t)
        assert sorted(feats) == [2, 4, 8, 16]
        eps = unet(inp["unet_x"], t, inp["unet_context"], feats, num_frames=fx.FRAMES)
    _close(eps, ref["deep_unet_each"], RTOL["unet"])


def test_sd_vae_posterior_matches(ref: dict, inp: dict) -> None:
    vae = _port("vae", ref)
    with torch.no_grad():
        mean, logvar = vae.encode_moments(inp["vae_lr"])
    _close(mean, ref["vae_mean"], RTOL["vae"])
    _close(logvar, ref["vae_logvar"], RTOL["vae"])


def test_video_vae_cfw_features_and_decode_match(ref: dict, inp: dict) -> None:
    video = _port("video_vae", ref)
    with torch.no_grad():
        feats = video.encode_features(inp["vae_lr"])
        for i, f in enumerate(feats):  # stored at every second row and column
            _close(f[..., ::2, ::2], ref[f"video_feat_{i}"], RTOL["video"])
        for w in (1.0, 0.5):
            out = video.decode(inp["vae_z"], feats, dec_w=w, num_frames=fx.FRAMES)
            _close(out, ref[f"video_decode_{w}"], RTOL["video"])


def test_raft_flow_matches_at_128px(ref: dict, inp: dict) -> None:
    raft = _port("raft", ref)
    with torch.no_grad():
        flow = raft(inp["raft_img1"], inp["raft_img2"], iters=10)
    _close(flow, ref["raft_flow"], RTOL["raft"])


def test_text_tower_empty_prompt_matches(ref: dict) -> None:
    assert np.array_equal(MGLDTextEncoder.empty_tokens().numpy(), ref["text_tokens"])  # OpenCLIP's tokenizer
    text = _port("text", ref)
    with torch.no_grad():
        ctx = text.encode_empty()
    assert ctx.shape == (1, 77, 32)
    _close(ctx, ref["text_empty"], RTOL["text"])


def test_clips_stacked_in_one_batch_stay_independent(ref: dict, inp: dict) -> None:
    """Two 5-frame clips in one call give each clip's own result (temporal layers stay in a clip)."""
    unet, encoder, video = _port("unet", ref), _port("encoder", ref), _port("video_vae", ref)
    x, lr, ctx, t = inp["unet_x"], inp["unet_lr"], inp["unet_context"], inp["unet_t_one"]
    x2, lr2 = torch.cat([x, x.flip(0)]), torch.cat([lr, lr.flip(0)])
    with torch.no_grad():
        both = unet(x2, t, ctx, encoder(lr2, t), num_frames=fx.FRAMES)
        second = unet(x.flip(0), t, ctx, encoder(lr.flip(0), t), num_frames=fx.FRAMES)
        img, z = inp["vae_lr"], inp["vae_z"]
        dec2 = video.decode(torch.cat([z, z.flip(0)]), video.encode_features(torch.cat([img, img.flip(0)])),
                            1.0, fx.FRAMES)
        dec_second = video.decode(z.flip(0), video.encode_features(img.flip(0)), 1.0, fx.FRAMES)
    _close(both[: fx.FRAMES], ref["unet_one"], RTOL["unet"])
    _close(both[fx.FRAMES:], second.numpy(), RTOL["unet"])
    _close(dec2[: fx.FRAMES], ref["video_decode_1.0"], RTOL["video"])
    _close(dec2[fx.FRAMES:], dec_second.numpy(), RTOL["video"])
    with pytest.raises(ValueError, match="whole number"):
        unet(x[:4], t, ctx, encoder(lr[:4], t), num_frames=fx.FRAMES)
