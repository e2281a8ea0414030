"""Write end_to_end.npz: LR uint8 frames in, SR uint8 frames out, by the official tile script's ``main()``.

The official inference script of the README (``scripts/vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py``)
is imported as a module and its own ``main()`` runs with an argv, on a folder holding one
5-frame sequence of 32x35 PNGs, writing PNGs that are read back.  Everything between reading
and writing is the script's: short side upsampled by ``max(512 / 32, 4) = 16`` (512x560), reflect
padding to the next multiple of 32 on both sides (544x576), RAFT_SR flows on the padded frames
brought back to 136x144, ``resize_flow`` to the latent, the forward-backward occlusion check,
outer tiles (``ImageSpliterTh``), per tile ``seed_everything(42)``, SD-VAE encode (a posterior
sample), x_T from the LR latent, ``sample_canvas`` (latent tiles 64, overlap 32, Gaussian weights,
guidance -10 after every step), video-VAE CFW decode, AdaIN, the bicubic resize back to 4x of
the *padded* size, and ``astype(np.uint8)``.

Stand-ins, here only:

* ``official_env.setup()`` -- the import stand-ins (see its docstring); its ``seed_everything``
  seeds torch's default generator (all the script draws from on a CPU);
* ``load_model_from_config(config, ckpt)`` is replaced by a hook that returns
  ``official_tiny.build()``'s ``LatentDiffusionVSRTextWT`` for ``--ckpt`` and its
  ``VideoAutoencoderKLResi`` for ``--vqgan_ckpt`` (the reduced networks with
  ``_mgld_arch_fixture.seeded_state`` weights; the real loader reads a pickled file and calls
  ``.cuda()``);
* ``OmegaConf.load`` is replaced by a YAML reader giving attribute access (the script reads
  ``model.params.channels`` from it); the video-VAE config path hard-coded in ``main()``
  (``configs/video_autoencoder/...``) does not exist in the repository, which the hook
  ignores anyway.

The argv (stored in the npz as ``argv``): ``--ddpm_steps 3 --dec_w 1.0 --colorfix_type adain
--precision full --seed 42 --n_frames 5 --tile_overlap 32 --vqgantile_size 544
--vqgantile_stride 32`` (plus paths).  The outer tile is shrunk from 960/750 through the
script's own options so that the 544x576 padded frame takes the tiled branch (the script's
non-tiled branch crashes, upstream issue #34) with two tiles across; the stride is a multiple
of 8 so the script's flow tiles (stride ``// 8``) sit at the image tiles' latent offsets.  Each
outer tile's 68x68 latent is cut into 2x2 canvas tiles of 64.

Stored: ``lr`` (5, 32, 35, 3) uint8, ``sr`` (5, 136, 144, 3) uint8 -- the script's files,
whose size comes from the padded frame (the rows/columns past 128x140 are the resized padding;
the port returns 128x140), ``argv``, ``seconds`` (the official run's wall time).

    MGLD_OFFICIAL_REPO=/tmp/MGLD-VSR MGLD_REF_SITE=/tmp/mgld_ref_site \\
        python tests/reference/mgld/make_end_to_end_fixture.py     # ~1 min on 2 busy cores
"""

from __future__ import annotations

import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "methods" / "mgld"))

FRAMES = 5
LR_SIZE = (32, 35)
STEPS = 3
OUTER_TILE, OUTER_STRIDE = 544, 32
SEED = 20261128
#: the script's options other than paths (the port's equivalents are in the test)
OPTIONS = [
    "--ddpm_steps", str(STEPS), "--dec_w", "1.0", "--colorfix_type", "adain", "--precision", "full",
    "--seed", "42", "--n_frames", str(FRAMES), "--tile_overlap", "32",
    "--vqgantile_size", str(OUTER_TILE), "--vqgantile_stride", str(OUTER_STRIDE),
]


def lr_frames() -> np.ndarray:
    """A small moving pattern with texture and noise, uint8 ``(FRAMES, h, w, 3)``."""
    rng = np.random.default_rng(SEED)
    h, w = LR_SIZE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = []
    for k in range(FRAMES):
        x = xx - 0.8 * k
        y = yy - 0.4 * k
        base = 0.5 + 0.3 * np.sin(x / 3.1) * np.cos(y / 4.3) + 0.1 * np.sin((x + y) / 1.7)
        img = np.stack([base, base**1.5, 1.0 - 0.8 * base], axis=-1) + 0.03 * rng.standard_normal((h, w, 3))
        out.append(np.clip(img * 255.0, 0, 255).astype(np.uint8))
    return np.stack(out)


class _Attr(dict):
    """A dict with attribute access (what the script needs of an OmegaConf config)."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _attr(obj: object) -> object:
    if isinstance(obj, dict):
        return _Attr({k: _attr(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [_attr(v) for v in obj]
    return obj


def main() -> None:
    import official_env

    repo = official_env.setup()
    import official_tiny
    import torch
    import vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile as tile_script
    import yaml
    from PIL import Image

    torch.set_num_threads(2)
    model, video = official_tiny.build(repo)
    nets = {"tiny-unet": model, "tiny-vae": video}

    def load_model_from_config(config: object, ckpt: str, verbose: bool = False) -> object:
        return nets[Path(ckpt).name].eval()

    def load_yaml(path: str) -> object:
        p = Path(path)
        return _attr(yaml.safe_load(p.read_text())) if p.is_file() else _Attr()

    tile_script.load_model_from_config = load_model_from_config
    tile_script.OmegaConf = types.SimpleNamespace(load=load_yaml)

    lr = lr_frames()
    with tempfile.TemporaryDirectory() as tmp:
        seqs, out = Path(tmp) / "seqs", Path(tmp) / "out"
        (seqs / "clip").mkdir(parents=True)
        for i, frame in enumerate(lr):
            Image.fromarray(frame).save(seqs / "clip" / f"{i:08d}.png")
        argv = ["--config", str(repo / "configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml"),
                "--ckpt", "tiny-unet", "--vqgan_ckpt", "tiny-vae", *OPTIONS]
        sys.argv = ["vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py", *argv,
                    "--seqs-path", str(seqs), "--outdir", str(out)]
        t0 = time.perf_counter()
        tile_script.main()
        seconds = time.perf_counter() - t0
        sr = np.stack([np.asarray(Image.open(out / "clip" / f"{i:08d}.png").convert("RGB")) for i in range(FRAMES)])
    np.savez_compressed(HERE / "end_to_end.npz", lr=lr, sr=sr, argv=np.array(argv), seconds=np.array(seconds))
    print("wrote", HERE / "end_to_end.npz", "sr", sr.shape, f"official main() {seconds:.1f} s")


if __name__ == "__main__":
    main()
