"""The ``mgld-official`` adapter against a stand-in of the official tile script (tests/methods/mgld/mgld_standin/).

The stand-in honours the official command line and folder layout and has the official script's
defects; each work-around is exercised, and each defect is first shown to be real.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import yaml

from mgld_bench.errors import BenchError
from mgld_bench.methods.base import RunContext
from mgld_bench.methods.mgld.official import TILE_SCRIPT, MGLDOfficial
from mgld_bench.methods.mgld.staging import patch_tile_script, rewrite_config, stage_sequence
from tests.fakes import clip_of, noise_frames

STANDIN = Path(__file__).parent / "mgld_standin" / "vsr_tile_standin.py"
AUTHOR_DIR = "/home/notebook/code/personal/xxxxxxxx/MGLD-VSR/checkpoints"


@pytest.fixture
def fake_repo(tmp_path):
    repo = tmp_path / "MGLD-VSR"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(STANDIN, repo / TILE_SCRIPT)
    (repo / "scripts" / "util_image.py").write_text("# helper module of the checkout\n")
    (repo / "ldm").mkdir()
    (repo / "ldm" / "__init__.py").write_text("")
    (repo / "configs" / "mgldvsr").mkdir(parents=True)
    (repo / "configs" / "video_vae").mkdir(parents=True)
    (repo / "configs" / "mgldvsr" / "mgldvsr_512_realbasicvsr_deg.yaml").write_text(
        "model:\n  target: ldm.models.diffusion.ddpm.LatentDiffusionVSRTextWT\n  params:\n"
        f"    ckpt_path: {AUTHOR_DIR}/v2-1_512-ema-pruned.ckpt\n"
        "    cond_stage_config:\n      target: ldm.modules.encoders.modules.FrozenOpenCLIPEmbedder\n"
        "      params:\n        freeze: true\n"
        "    flownet_config:\n      target: basicsr.archs.raft_arch.RAFT_SR\n"
        f"      params:\n        model: normal\n        load_path: {AUTHOR_DIR}/flownets/raft-things.pth\n"
    )
    (repo / "configs" / "video_vae" / "video_autoencoder_kl_64x64x4_resi.yaml").write_text(
        "model:\n  target: ldm.models.autoencoder.VideoAutoencoderKLResi\n  params:\n"
        f"    ckpt_path: {AUTHOR_DIR}/v2-1_512-ema-pruned.ckpt\n"
        "    lossconfig:\n      target: ldm.modules.losses.LPIPSWithDiscriminator\n      params:\n"
        "        flownet_config:\n          target: basicsr.archs.spynet_arch.SpyNet\n"
        f"          params:\n            load_path: {AUTHOR_DIR}/flownets/spynet_sintel_final-3d2a1287.pth\n"
    )
    ckpts = tmp_path / "ckpts"
    ckpts.mkdir()
    for name in (
        "mgldvsr_unet.ckpt",
        "video_vae_cfw.ckpt",
        "v2-1_512-ema-pruned.ckpt",
        "raft-things.pth",
        "spynet_sintel_final-3d2a1287.pth",
        "open_clip_pytorch_model.bin",
    ):
        _save(ckpts / name, {"state_dict": {"w": torch.full((2,), float(len(name)))}})
    return repo, ckpts


def _save(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return path


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    import tempfile

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # job folders, kept failure logs
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("MGLD_BENCH_CACHE", str(tmp_path / "cache"))


def _options(repo, ckpts, **extra):
    opts = dict(
        repo=str(repo),
        python=sys.executable,
        ckpt=str(ckpts / "mgldvsr_unet.ckpt"),
        vqgan_ckpt=str(ckpts / "video_vae_cfw.ckpt"),
        sd_ckpt=str(ckpts / "v2-1_512-ema-pruned.ckpt"),
        raft_ckpt=str(ckpts / "raft-things.pth"),
        spynet_ckpt=str(ckpts / "spynet_sintel_final-3d2a1287.pth"),
        timeout=120.0,
    )
    opts.update(extra)
    return opts


def _expected(frames, chunk=5):
    """What the stand-in writes for each real frame when nothing goes wrong (nearest x4 + 10 x
    its position in the chunk, the +0.7 truncated away)."""
    out = []
    for i, f in enumerate(frames):
        up = cv2.resize(f, (f.shape[1] * 4, f.shape[0] * 4), interpolation=cv2.INTER_NEAREST).astype(int)
        out.append(np.clip(up + 10 * (i % chunk), 0, 255).astype(np.uint8))
    return out


def _json_lines(log):
    """The JSON lines the stand-in printed, from a combined command log."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def _run(method, clip, tmp_path, seed=0):
    from mgld_bench.runner.jobs import run_infer
    from mgld_bench.store.cache import Cache

    cache = Cache(tmp_path / "cache")
    res = run_infer(method, clip, cache, RunContext(device="cpu", seed=seed))
    return res, cache.log_dir(res.key)


def _standin(args, cwd, env=None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def _standin_args(repo, ckpts, seqs, out, cfg=None, **kw):
    args = [
        str(repo / TILE_SCRIPT),
        "--config",
        str(cfg or repo / "configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml"),
        "--ckpt",
        str(ckpts / "mgldvsr_unet.ckpt"),
        "--vqgan_ckpt",
        str(ckpts / "video_vae_cfw.ckpt"),
        "--seqs-path",
        str(seqs),
        "--outdir",
        str(out),
    ]
    for k, v in kw.items():
        args += [f"--{k}", str(v)]
    return args


def test_end_to_end_small_clip_all_workarounds(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    # 16x16 LR -> 512x512 padded: the non-tiled branch; 6 frames: padded to 10
    frames = noise_frames(6, 16, 16, high=200)
    method = MGLDOfficial(**_options(repo, ckpts))
    assert method.availability() == (True, "")
    res, log_dir = _run(method, clip_of(frames), tmp_path)
    got = list(res.frames)
    for i, (g, e) in enumerate(zip(got, _expected(frames), strict=True)):
        np.testing.assert_array_equal(g, e, err_msg=f"frame {i}")
    record = json.loads((log_dir / "mgld.json").read_text())
    assert len(record["patches_applied"]) == 2 and not record["patches_skipped"]
    changes = " ".join(record["config_changes"]["model_config"] + record["config_changes"]["vae_config"])
    sd_copy = Path(record["checkpoints"]["sd_ckpt"]["path"]).resolve()  # the plain copy of the SD checkpoint
    assert record["checkpoints"]["sd_ckpt"]["source"] == str(ckpts / "v2-1_512-ema-pruned.ckpt")
    assert f"{AUTHOR_DIR}/v2-1_512-ema-pruned.ckpt -> {sd_copy}" in changes
    command = (log_dir / "command.sh").read_text()
    for flag in ("--ddpm_steps 50", "--dec_w 1.0", "--colorfix_type adain", "--seed 42", "--n_frames 5"):
        assert flag in command
    assert "PYTHONPATH=" in command
    # the patched copy re-seeds before each non-tiled chunk, like the tiled branch does per tile
    assert _json_lines(log_dir / "mgld.log")[-1]["seeds"] == [42, 42, 42]
    assert record["versions"]["environment"]["python"] == sys.version.split()[0]
    # the checkout is untouched
    assert (repo / TILE_SCRIPT).read_text() == STANDIN.read_text()
    assert not (repo / "configs" / "video_autoencoder").exists()


def test_the_defects_are_real_in_the_standin(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    seqs = tmp_path / "seqs"
    frames = noise_frames(7, 16, 16, high=200)
    for i, f in enumerate(frames):
        (seqs / "s").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(seqs / "s" / f"{i:03d}.png"), f[..., ::-1])
    cfg = tmp_path / "model.yaml"
    cfg.write_text("model: {}\n")
    # 1. the VAE config path the script opens does not exist in the checkout
    r = _standin(_standin_args(repo, ckpts, seqs, tmp_path / "o1", cfg), cwd=repo)
    assert r.returncode != 0 and "configs/video_autoencoder" in r.stderr
    # 2. the non-tiled branch (small input) fails on undefined variables
    mirror = tmp_path / "mirror"
    (mirror / "configs" / "video_autoencoder").mkdir(parents=True)
    shutil.copy(
        repo / "configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml",
        mirror / "configs/video_autoencoder/video_autoencoder_kl_64x64x4_resi.yaml",
    )
    (mirror / "configs/video_autoencoder/video_autoencoder_kl_64x64x4_resi.yaml").write_text("model: {}\n")
    r = _standin(_standin_args(repo, ckpts, seqs, tmp_path / "o2", cfg), cwd=mirror)
    assert r.returncode != 0 and "flow_f" in r.stderr
    # 3. the tiled branch runs, but the script's padding overwrites the last real frame's output
    r = _standin(
        _standin_args(repo, ckpts, seqs, tmp_path / "o3", cfg, vqgantile_size=256, vqgantile_stride=200), cwd=mirror
    )
    assert r.returncode == 0, r.stderr
    last = cv2.imread(str(tmp_path / "o3" / "s" / "006.png"))[..., ::-1]
    exp = _expected(frames)[6]  # frame 6 is position 1 of its chunk: +10; the file holds position 4: +40
    assert np.array_equal(last.astype(int), np.clip(exp.astype(int) + 30, 0, 255))


def test_padded_duplicates_do_not_overwrite_with_tiled_branch(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    frames = noise_frames(7, 16, 16, high=200)
    method = MGLDOfficial(**_options(repo, ckpts, vqgantile_size=256, vqgantile_stride=200))
    res, _ = _run(method, clip_of(frames), tmp_path)
    for i, (g, e) in enumerate(zip(list(res.frames), _expected(frames), strict=True)):
        np.testing.assert_array_equal(g, e, err_msg=f"frame {i}")


def test_tiny_input_crop_is_fixed_and_recorded(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    frames = noise_frames(2, 13, 15, high=200)
    res, log_dir = _run(MGLDOfficial(**_options(repo, ckpts)), clip_of(frames), tmp_path)
    assert [f.shape for f in res.frames] == [(52, 60, 3)] * 2
    record = json.loads((log_dir / "mgld.json").read_text())
    assert any("61x52 -> 60x52" in note for note in record["output_fixes"])


def test_chunks_run_apart_equal_the_whole_clip(fake_repo, tmp_path):
    """``chunk_frames`` (= n_frames) lets an executor run a clip's chunks as separate jobs
    (``--executor ray``); joined, they equal one run over the whole clip."""
    from mgld_bench.runner.jobs import chunk_bounds, infer_job, join_infer_chunks, run_infer_chunk
    from mgld_bench.specs import Ref
    from mgld_bench.store.cache import Cache

    repo, ckpts = fake_repo
    frames = noise_frames(12, 16, 16, high=200)
    method = MGLDOfficial(**_options(repo, ckpts))
    assert method.chunk_frames == 5 and MGLDOfficial(n_frames=3).chunk_frames == 3
    whole, _ = _run(method, clip_of(frames), tmp_path / "a")
    clip = clip_of(frames)
    job = infer_job(method, Ref.of("method", method.name, method.options), Ref.of("dataset", clip.dataset), clip, 0)
    cache = Cache(tmp_path / "b")
    bounds = chunk_bounds(len(frames), method.chunk_frames)
    assert bounds == [(0, 5), (5, 10), (10, 12)]
    parts = [run_infer_chunk(job, clip, a, b, "cpu", method, cache) for a, b in bounds]
    joined = join_infer_chunks(job, clip, parts, cache)
    assert joined.key == whole.key
    for a, b in zip(list(whole.frames), list(joined.frames), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_removed_gpus_option_points_to_ray(fake_repo, tmp_path, monkeypatch):
    with pytest.raises(BenchError, match=r"^mgld-official.gpus was removed: run with --executor ray") as info:
        MGLDOfficial(gpus="0,1")
    assert "\n" not in str(info.value)
    cfg = tmp_path / "m.yaml"
    cfg.write_text(yaml.safe_dump({"mgld-official": {"gpus": [0, 1]}}))
    with pytest.raises(BenchError, match=r"--executor ray.*m\.yaml"):
        MGLDOfficial(config=str(cfg))
    # one GPU: --device cuda:N, counted among the GPUs this process sees (a Ray worker's)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert MGLDOfficial.visible_gpu("cuda:1") == "1" and MGLDOfficial.visible_gpu("cpu") is None
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert MGLDOfficial.visible_gpu("cuda:1") == "5" and MGLDOfficial.visible_gpu("cuda") is None


def test_script_failure_is_one_clear_error(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    (repo / TILE_SCRIPT).write_text("import sys\nsys.exit('CUDA out of memory')\n")
    with pytest.raises(BenchError, match=r"(?s)official script on clip toy/c.*status 1.*CUDA out of memory"):
        _run(MGLDOfficial(**_options(repo, ckpts)), clip_of(noise_frames(2, 16, 16, high=200)), tmp_path)
    kept = list((tmp_path / "tmp" / "mgld-bench-logs").iterdir())
    assert len(kept) == 1 and "CUDA out of memory" in kept[0].read_text()


def test_missing_output_is_one_clear_error(fake_repo, tmp_path):
    repo, ckpts = fake_repo
    (repo / TILE_SCRIPT).write_text("print('did nothing')\n")
    with pytest.raises(BenchError, match="wrote no output for frame 0 of clip toy/c"):
        _run(MGLDOfficial(**_options(repo, ckpts)), clip_of(noise_frames(2, 16, 16, high=200)), tmp_path)


def test_availability_names_what_is_missing(fake_repo, tmp_path):
    ok, reason = MGLDOfficial().availability()
    assert not ok and "mgld-official.repo" in reason and "mgld-official.python" in reason
    assert "mgldvsr_unet.ckpt" in reason
    repo, ckpts = fake_repo
    assert MGLDOfficial(**_options(repo, ckpts, python="python3")).availability() == (True, "")  # on PATH
    ok, reason = MGLDOfficial(**_options(repo, ckpts, python="no-such-python-xyz")).availability()
    assert not ok and "no-such-python-xyz not found" in reason
    ok, reason = MGLDOfficial(**_options(repo, ckpts, ckpt=str(tmp_path / "none.ckpt"))).availability()
    assert not ok and "none.ckpt" in reason
    # checkpoints in the weights folder are found without options
    wdir = tmp_path / "weights" / "mgld_bench"
    wdir.mkdir(parents=True)
    for name in ("mgldvsr_unet.ckpt", "video_vae_cfw.ckpt"):
        shutil.copy(ckpts / name, wdir / name)
    m = MGLDOfficial(repo=str(repo), python=sys.executable)
    assert m.availability() == (True, "")
    assert sorted(w.name for w in m.weight_files()) == ["mgldvsr_unet.ckpt", "video_vae_cfw.ckpt"]


def test_options_file_and_identity(fake_repo, tmp_path):
    repo, _ = fake_repo
    cfg = tmp_path / "mgld.yaml"
    opts = {
        "repo": "MGLD-VSR",
        "python": sys.executable,
        "ckpt": "ckpts/mgldvsr_unet.ckpt",
        "vqgan_ckpt": "ckpts/video_vae_cfw.ckpt",
        "steps": 20,
    }
    cfg.write_text(yaml.safe_dump({"mgld-official": opts}))
    m = MGLDOfficial(config=str(cfg), steps=30)
    assert m.options["repo"] == str(repo.resolve()) and m.options["steps"] == 30  # explicit option wins
    assert m.availability() == (True, "")
    assert MGLDOfficial(config=str(cfg)).options["steps"] == 20
    assert MGLDOfficial(repo="/a").identity() == MGLDOfficial(repo="/b", timeout=5.0).identity()
    assert MGLDOfficial(steps=50).identity() != MGLDOfficial(steps=20).identity()
    bad = tmp_path / "bad.yaml"
    bad.write_text("stepz: 3\n")
    with pytest.raises(BenchError, match=r"unknown option.*stepz"):
        MGLDOfficial(config=str(bad))
    with pytest.raises(BenchError, match="colorfix"):
        MGLDOfficial(colorfix="nope")


def test_patch_report_when_the_script_differs():
    text, report = patch_tile_script("print('another version')\n")
    assert text == "print('another version')\n" and report.skipped and not report.applied
    patched, report = patch_tile_script(STANDIN.read_text())
    assert len(report.applied) == 2
    compile(patched, "patched", "exec")


def test_config_rewrite_and_openclip_version(tmp_path):
    cfg = {
        "model": {
            "params": {
                "ckpt_path": "/x/v2-1_512-ema-pruned.ckpt",
                "other": "/x/keep.ckpt",
                "cond_stage_config": {"target": "a.FrozenOpenCLIPEmbedder", "params": {"layer": "p"}},
                "list": ["/y/raft-things.pth", 3],
            }
        }
    }
    files = {
        "v2-1_512-ema-pruned.ckpt": Path("/w/sd.ckpt"),
        "raft-things.pth": Path("/w/raft.pth"),
        "open_clip_pytorch_model.bin": Path("/w/clip.bin"),
    }
    new, changes = rewrite_config(cfg, files)
    p = new["model"]["params"]
    assert p["ckpt_path"] == "/w/sd.ckpt" and p["other"] == "/x/keep.ckpt" and p["list"] == ["/w/raft.pth", 3]
    assert p["cond_stage_config"]["params"] == {"layer": "p", "version": "/w/clip.bin"}
    assert len(changes) == 3


def test_staging_helpers_by_hand(tmp_path):
    names = stage_sequence(noise_frames(7, 16, 16, high=200), tmp_path / "s", 5)
    assert names == [f"{i:08d}" for i in range(7)]
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [f"{i:08d}.png" for i in range(10)]


def test_vae_training_loss_is_dropped_unless_kept(fake_repo, tmp_path):
    """The VAE's training loss needs SpyNet (and LPIPS downloads); by default it is replaced."""
    repo, ckpts = fake_repo
    opts = _options(repo, ckpts)
    del opts["spynet_ckpt"]  # the config still names the authors' SpyNet path
    res, log_dir = _run(MGLDOfficial(**opts), clip_of(noise_frames(2, 16, 16, high=200)), tmp_path / "a")
    assert len(res.frames) == 2
    changes = json.loads((log_dir / "mgld.json").read_text())["config_changes"]["vae_config"]
    assert any("LPIPSWithDiscriminator -> torch.nn.Identity" in c for c in changes)
    with pytest.raises(BenchError, match="spynet_sintel_final"):
        _run(MGLDOfficial(**opts, vae_loss="keep"), clip_of(noise_frames(2, 16, 16, high=200)), tmp_path / "b")


class _TrainingState:
    """Stands for Lightning's training state (a callback object) inside a checkpoint."""

    def __init__(self, monitor):
        self.monitor = monitor


def _lightning_like(path, seed):
    """A Lightning-like checkpoint: a state_dict plus training state of a class the loader lacks."""
    g = torch.Generator().manual_seed(seed)
    sd = {"model.w": torch.randn(3, 2, generator=g), "model.b": torch.randn(4, generator=g)}
    _save(path, {"state_dict": sd, "global_step": 7, "callbacks": {"ModelCheckpoint": _TrainingState("val/loss")},
                 "optimizer_states": [{"state": {0: {"exp_avg": torch.ones(2)}}}]})
    return sd


def test_the_script_gets_plain_copies_of_every_checkpoint(fake_repo, tmp_path, monkeypatch):
    """The official script unpickles whatever it is given; it is given copies holding only tensors and
    plain containers (written once into the cache, keyed by the source's sha256), with the same tensors."""
    from mgld_bench.safeload import trust_pickle

    repo, ckpts = fake_repo
    unet = _lightning_like(ckpts / "mgldvsr_unet.ckpt", 1)
    vae = _lightning_like(ckpts / "video_vae_cfw.ckpt", 2)
    monkeypatch.setenv("MGLD_STANDIN_UNPICKLE", "1")
    res, log_dir = _run(MGLDOfficial(**_options(repo, ckpts)), clip_of(noise_frames(2, 16, 16, high=200)), tmp_path)
    assert len(res.frames) == 2
    argv = _json_lines(log_dir / "mgld.log")[0]["argv"]
    handed = {flag: argv[argv.index(flag) + 1] for flag in ("--ckpt", "--vqgan_ckpt")}
    plain_root = tmp_path / "cache" / "weights-plain"
    unpickled = next(line for line in _json_lines(log_dir / "mgld.log") if "unpickled" in line)["unpickled"]
    for flag, sd in (("--ckpt", unet), ("--vqgan_ckpt", vae)):
        path = Path(handed[flag])
        assert plain_root in path.parents and path.name == Path(_options(repo, ckpts)[flag[2:]]).name
        assert torch.serialization.get_unsafe_globals_in_checkpoint(str(path)) == []
        copy = torch.load(path, weights_only=True)
        assert set(copy) == {"state_dict", "global_step", "callbacks", "optimizer_states"}
        assert copy["callbacks"] == {} and copy["global_step"] == 7
        for k, v in sd.items():
            assert torch.equal(copy["state_dict"][k], v)
            assert unpickled[str(path)][k] == v.flatten().tolist()  # what the script itself read
    full = json.loads((log_dir / "mgld.json").read_text())
    record = full["checkpoints"]
    assert record["ckpt"]["dropped"] == ["/callbacks/ModelCheckpoint: test_mgld_official._TrainingState"]
    # the configs point at plain copies too
    changes = " ".join(full["config_changes"]["model_config"] + full["config_changes"]["vae_config"])
    for option in ("sd_ckpt", "raft_ckpt", "spynet_ckpt"):
        assert plain_root in Path(record[option]["path"]).parents
        assert f"-> {Path(record[option]['path']).resolve()}" in changes
    # written once: a second run (another clip) reuses the copies; a file the user trusts
    # (--allow-pickle) is handed over as it is (the stand-in's plain pickle would now need the
    # training-state class, so it does not unpickle this time)
    inode = Path(handed["--ckpt"]).stat().st_ino  # a rewrite (temp file + rename) is a new inode
    monkeypatch.delenv("MGLD_STANDIN_UNPICKLE")
    trust_pickle([ckpts / "video_vae_cfw.ckpt"])
    try:
        clip_b = clip_of(noise_frames(2, 16, 16, seed=1, high=200), name="clip-b")
        _, log2 = _run(MGLDOfficial(**_options(repo, ckpts)), clip_b, tmp_path)
    finally:
        from mgld_bench import safeload

        safeload._PICKLE_TRUSTED.clear()
    again = json.loads((log2 / "mgld.json").read_text())["checkpoints"]
    assert again["ckpt"]["reused"] and again["ckpt"]["path"] == handed["--ckpt"]
    assert Path(handed["--ckpt"]).stat().st_ino == inode
    argv = _json_lines(log2 / "mgld.log")[0]["argv"]
    assert argv[argv.index("--vqgan_ckpt") + 1] == str(ckpts / "video_vae_cfw.ckpt")
    assert again["vqgan_ckpt"]["trusted"]
