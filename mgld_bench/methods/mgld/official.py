"""``mgld-official``: the official MGLD-VSR pipeline (IanYeung/MGLD-VSR), run as it is released.

The user points the suite at a checkout of the official repository, its checkpoints and the
Python of its environment (options below, or a YAML/JSON file given as ``config``).  Per clip
the adapter stages the LR frames, runs the official tile script
``scripts/vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py`` with the paper's settings (50 DDPM
steps, ``dec_w`` 1.0, AdaIN colour fix, seed 42), reads the PNGs it writes back, checks them,
and hands them to the cache.  The known defects of the script are worked around in a scratch
folder without modifying the checkout (see :mod:`mgld_bench.methods.mgld.staging`); the exact
command lines, the patches, the config changes, versions and logs go to the job's log folder.

This is the cross-check for the in-process port ``mgld`` (:mod:`mgld_bench.methods.mgld.method`)
on a GPU machine that has the official environment.

With ``gpus=0,1,...`` a clip is cut at chunk boundaries into one part per GPU, each run by its
own process; the script treats chunks independently, so the frames are the same as with one.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError, FrameError, OutputMismatchError
from mgld_bench.frames import Clip, read_image
from mgld_bench.methods._subprocess import Command, run_parallel
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.methods.mgld import staging
from mgld_bench.methods.mgld.weights import OPTIONAL, REQUIRED
from mgld_bench.options import coerce_like
from mgld_bench.weights import WeightFile

TILE_SCRIPT = "scripts/vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py"
MODEL_CONFIG = "configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml"
VAE_CONFIG = "configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml"

#: Options about where things are on this machine: they do not change the output.
LOCAL_OPTIONS = ("repo", "python", "config", "gpus", "timeout", *REQUIRED, *OPTIONAL)

_PROBE = (
    "import json, sys, importlib.metadata as md, importlib.util as iu, re, os\n"
    "out = {'python': sys.version.split()[0], 'executable': sys.executable}\n"
    "for name in ('torch', 'torchvision', 'pytorch-lightning', 'omegaconf', 'einops', 'open-clip-torch', 'xformers',\n"
    "             'transformers', 'kornia', 'mmcv'):\n"
    "    try:\n"
    "        out[name] = md.version(name)\n"
    "    except md.PackageNotFoundError:\n"
    "        out[name] = None\n"
    "spec = iu.find_spec('torch')\n"
    "if spec and spec.origin:\n"
    "    try:\n"
    "        text = open(os.path.join(os.path.dirname(spec.origin), 'version.py')).read()\n"
    "        m = re.search(r\"^cuda[^=]*=\\s*'?([^'\\n]*)'?\", text, re.M)\n"
    "        out['torch_cuda'] = m.group(1) if m else None\n"
    "    except OSError:\n"
    "        pass\n"
    "print(json.dumps(out))\n"
)


class MGLDOfficial(Method):
    """The official MGLD-VSR tile script, wrapped (needs its own environment and a GPU)."""

    name = "mgld-official"
    version = 1
    summary = "MGLD-VSR, official code and checkpoints (set mgld-official.repo, mgld-official.python; see docs/mgld.md)"
    #: The script's seed is the option ``seed`` (default 42, in the identity), not the run's --seed.
    uses_seed = False
    #: The GPU is used by the official environment's torch, not by this process's, so this
    #: process needs none; the script itself stops without CUDA.
    requires_cuda = False
    defaults: ClassVar[dict[str, Any]] = {
        "config": "",
        "repo": "",
        "python": "",
        "ckpt": "",
        "vqgan_ckpt": "",
        "sd_ckpt": "",
        "raft_ckpt": "",
        "openclip_ckpt": "",
        "spynet_ckpt": "",
        "script": TILE_SCRIPT,
        "model_config": MODEL_CONFIG,
        "vae_config": VAE_CONFIG,
        "steps": 50,
        "dec_w": 1.0,
        "colorfix": "adain",
        "seed": 42,
        "n_frames": 5,
        "upscale": 4.0,
        "tile_overlap": 32,
        "vqgantile_size": 960,
        "vqgantile_stride": 750,
        "precision": "autocast",
        "vae_loss": "identity",
        "gpus": "",
        "timeout": 0.0,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o["colorfix"] not in ("adain", "wavelet", "nofix"):
            raise BenchError(f"mgld-official: colorfix must be adain, wavelet or nofix (got {o['colorfix']!r})")
        if int(o["steps"]) < 1 or int(o["n_frames"]) < 1:
            raise BenchError("mgld-official: steps and n_frames must be at least 1")
        if o["vae_loss"] not in ("identity", "keep"):
            raise BenchError(f"mgld-official: vae_loss must be identity or keep (got {o['vae_loss']!r})")
        if int(o["vqgantile_stride"]) > int(o["vqgantile_size"]):
            raise BenchError("mgld-official: vqgantile_stride must not exceed vqgantile_size")
        self._checkout_digest: str | None = None
        self._versions: dict[str, Any] | None = None

    # -- options ---------------------------------------------------------------------------
    def complete_options(self, values: dict[str, Any], given: Mapping[str, Any]) -> None:
        """Options from the ``config`` file (YAML/JSON); options given directly win over the file."""
        if values["config"]:
            self._apply_config_file(Path(str(values["config"])).expanduser(), values, given)

    def _apply_config_file(self, path: Path, values: dict[str, Any], explicit: Mapping[str, Any]) -> None:
        import yaml

        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise BenchError(f"mgld-official: cannot read the options file {path}: {exc}") from exc
        for section in ("mgld-official", "mgld"):  # "mgld" was this method's name before version 2
            if isinstance(data, dict) and isinstance(data.get(section), dict):
                data = data[section]
                break
        if not isinstance(data, dict):
            raise BenchError(f"mgld-official: the options file {path} must hold a mapping of option: value")
        unknown = sorted(set(data) - set(self.defaults) - {"config"})
        if unknown:
            raise BenchError(
                f"mgld-official: unknown option(s) {', '.join(unknown)} in {path}; "
                f"valid: {', '.join(sorted(self.defaults))}"
            )
        for key, value in data.items():
            if key in explicit or key == "config":
                continue
            value = "" if value is None else value
            if isinstance(value, list | tuple):  # e.g. gpus: [0, 1]
                value = ",".join(str(v) for v in value)
            text = str(value) if not isinstance(value, str) else value
            values[key] = coerce_like(self.defaults[key], text, f"mgld-official.{key}")
        # paths in the file are relative to the file
        for key in ("repo", "python", *REQUIRED, *OPTIONAL):
            if key in data and key not in explicit and values[key]:
                p = Path(str(values[key])).expanduser()
                if not p.is_absolute() and (path.parent / p).exists():
                    values[key] = str((path.parent / p).resolve())

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"] = {k: v for k, v in ident["options"].items() if k not in LOCAL_OPTIONS}
        return ident

    def python_path(self) -> str | None:
        """The environment's python: a path, or a command name found on PATH."""
        import shutil

        value = str(self.options["python"])
        path = Path(value).expanduser()
        if path.is_file():
            return str(path)
        return shutil.which(value) if value and "/" not in value else None

    @property
    def repo(self) -> Path:
        return Path(str(self.options["repo"])).expanduser()

    def _repo_path(self, key: str) -> Path:
        p = Path(str(self.options[key])).expanduser()
        return p if p.is_absolute() else self.repo / p

    def checkpoint(self, option: str) -> Path | None:
        """The file for a checkpoint option: the option's path, else the weights folder's copy."""
        value = str(self.options[option])
        if value:
            return Path(value).expanduser()
        wf = {**REQUIRED, **OPTIONAL}[option]
        path = wf.path()
        return path if path.is_file() or option in REQUIRED else None

    def weight_files(self) -> list[WeightFile]:
        """Declared files read from the weights folder (those given by path are in extra_key)."""
        return [
            wf
            for opt, wf in {**REQUIRED, **OPTIONAL}.items()
            if not self.options[opt] and (opt in REQUIRED or wf.path().is_file())
        ]

    # -- availability ------------------------------------------------------------------------
    def availability(self) -> tuple[bool, str]:
        problems = []
        if not self.options["repo"]:
            problems.append("set mgld-official.repo to a checkout of github.com/IanYeung/MGLD-VSR")
        elif not (self._repo_path("script")).is_file():
            problems.append(f"{self._repo_path('script')} not found: is {self.repo} an MGLD-VSR checkout?")
        if not self.options["python"]:
            problems.append(
                "set mgld-official.python to the python of the official environment "
                "(e.g. ~/miniconda3/envs/mgldvsr/bin/python)"
            )
        elif self.python_path() is None:
            problems.append(f"python {self.options['python']} not found")
        for option, wf in REQUIRED.items():
            path = self.checkpoint(option)
            if path is None or not path.is_file():
                problems.append(
                    f"{wf.name} missing at {path} ({wf.note}; set mgld-official.{option}=PATH or put it there)"
                )
        for option in OPTIONAL:
            path = self.checkpoint(option)
            if self.options[option] and (path is None or not path.is_file()):
                problems.append(f"mgld-official.{option}: {path} not found")
        if self.options["repo"]:
            for key in ("model_config", "vae_config"):
                if not self._repo_path(key).is_file():
                    problems.append(f"config {self._repo_path(key)} not found")
        return (not problems), "; ".join(problems)

    def _require(self) -> None:
        ok, reason = self.availability()
        if not ok:
            raise BenchError(f"mgld-official cannot run: {reason}")

    # -- cache key ----------------------------------------------------------------------------
    def extra_key(self, clip: Clip) -> str | None:
        """Digest of the checkout's code and configs, the patch version and checkpoints given by path."""
        from mgld_bench.fileio import file_sha256

        if self._checkout_digest is None:
            h = hashlib.sha256(f"mgld-checkout-v1 patch={staging.PATCH_VERSION}\n".encode())
            if self.repo.is_dir():
                files = [
                    p
                    for p in self.repo.rglob("*")
                    if p.suffix in (".py", ".yaml", ".yml")
                    and p.is_file()
                    and ".git" not in p.relative_to(self.repo).parts
                ]
                for p in sorted(files):
                    h.update(f"{p.relative_to(self.repo).as_posix()}\0{file_sha256(p)}\n".encode())
            for option in (*REQUIRED, *OPTIONAL):
                if self.options[option]:
                    path = Path(str(self.options[option])).expanduser()
                    digest = file_sha256(path) if path.is_file() else "missing"
                    h.update(f"{option}\0{digest}\n".encode())
            self._checkout_digest = h.hexdigest()
        return self._checkout_digest

    # -- running ------------------------------------------------------------------------------
    def gpu_list(self, device: str) -> list[str]:
        """GPUs to spread a clip over: the ``gpus`` option, else the run's device."""
        text = str(self.options["gpus"]).replace("+", ",")
        gpus = [g.strip() for g in text.split(",") if g.strip()]
        if gpus:
            return gpus
        if device.startswith("cuda:"):
            return [device.split(":", 1)[1]]
        return [""]  # the environment's default visibility

    def versions(self, log_dir: Path) -> dict[str, Any]:
        """Versions in the official environment (probed once per process) + the checkout's commit."""
        if self._versions is None:
            import subprocess

            info: dict[str, Any] = {"adapter_python": sys.version.split()[0]}
            try:
                res = subprocess.run(
                    [self.python_path() or str(self.options["python"]), "-c", _PROBE],
                    capture_output=True,
                    text=True,
                    timeout=300,
                    cwd=str(self.repo),
                )
                info["environment"] = (
                    json.loads(res.stdout.strip().splitlines()[-1])
                    if res.returncode == 0
                    else {"error": res.stderr.strip()[-500:]}
                )
            except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
                info["environment"] = {"error": f"{type(exc).__name__}: {exc}"}
            try:
                commit = subprocess.run(
                    ["git", "-C", str(self.repo), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30
                )
                dirty = subprocess.run(
                    ["git", "-C", str(self.repo), "status", "--porcelain"], capture_output=True, text=True, timeout=30
                )
                if commit.returncode == 0:
                    info["checkout_commit"] = commit.stdout.strip()
                    info["checkout_dirty"] = bool(dirty.stdout.strip())
            except (OSError, subprocess.SubprocessError):
                pass
            self._versions = info
        return self._versions

    def _prepare(self, workdir: Path, log: dict[str, Any]) -> tuple[Path, Path, Path]:
        """Working folder, patched script and model config for this job (inside ``workdir``)."""
        files = {}
        for option, wf in OPTIONAL.items():
            path = self.checkpoint(option)
            if path is not None:
                files[wf.name] = path.resolve()
        model_config = self._repo_path("model_config")
        vae_config = self._repo_path("vae_config")
        changes: dict[str, list[str]] = {}
        cfg_dir = workdir / "configs"
        if files:
            changes["model_config"] = staging.write_config(model_config, cfg_dir / "model.yaml", files)
            model_config = cfg_dir / "model.yaml"
        drop_loss = self.options["vae_loss"] == "identity"
        if files or drop_loss:
            changes["vae_config"] = staging.write_config(vae_config, cfg_dir / "vae.yaml", files, drop_loss)
            vae_config = cfg_dir / "vae.yaml"
        cwd = staging.mirror_checkout(self.repo, workdir, vae_config)
        source = self._repo_path("script").read_text()
        patched, report = staging.patch_tile_script(source)
        script = workdir / "scripts" / Path(str(self.options["script"])).name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(patched)
        log.update(
            config_changes=changes,
            patches_applied=report.applied,
            patches_skipped=report.skipped,
            vae_config_at=str(staging.HARDCODED_VAE_CONFIG),
            vae_config_source=str(vae_config),
        )
        return cwd, script, model_config

    def _argv(self, script: Path, model_config: Path, seqs: Path, outdir: Path) -> list[str]:
        o = self.options
        return [
            self.python_path() or str(o["python"]),
            str(script),
            "--config",
            str(model_config),
            "--ckpt",
            str(self.checkpoint("ckpt")),
            "--vqgan_ckpt",
            str(self.checkpoint("vqgan_ckpt")),
            "--seqs-path",
            str(seqs),
            "--outdir",
            str(outdir),
            "--ddpm_steps",
            str(int(o["steps"])),
            "--dec_w",
            str(float(o["dec_w"])),
            "--colorfix_type",
            str(o["colorfix"]),
            "--seed",
            str(int(o["seed"])),
            "--n_frames",
            str(int(o["n_frames"])),
            "--upscale",
            str(float(o["upscale"])),
            "--tile_overlap",
            str(int(o["tile_overlap"])),
            "--vqgantile_size",
            str(int(o["vqgantile_size"])),
            "--vqgantile_stride",
            str(int(o["vqgantile_stride"])),
            "--precision",
            str(o["precision"]),
            "--select_idx",
            "0",
            "--n_gpus",
            "1",
        ]

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        self._require()
        if abs(float(self.options["upscale"]) - clip.scale) > 1e-9:
            raise BenchError(
                f"mgld-official: clip {clip.label} is x{clip.scale} "
                f"but mgld-official.upscale is {self.options['upscale']}"
            )
        if ctx.workdir is None or ctx.log_dir is None:
            raise BenchError("mgld-official: the runner must provide a work folder and a log folder")
        workdir, log_dir = Path(ctx.workdir), Path(ctx.log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {"clip": clip.label, "options": dict(self.options), "versions": self.versions(log_dir)}
        cwd, script, model_config = self._prepare(workdir, record)

        chunk = int(self.options["n_frames"])
        frames = [clip.lr[i] for i in range(len(clip.lr))]
        gpus = self.gpu_list(ctx.device)
        parts = staging.split_chunks(len(frames), chunk, len(gpus))
        commands, jobs = [], []
        py_path = f"{self.repo.resolve()}:{(self.repo / 'scripts').resolve()}"
        for k, (start, end) in enumerate(parts):
            seqs, outdir = workdir / f"input{k}", workdir / f"output{k}"
            names = staging.stage_sequence(frames[start:end], seqs / "clip", chunk)
            env = {"PYTHONPATH": py_path, "PYTHONUNBUFFERED": "1"}
            if gpus[k]:
                env["CUDA_VISIBLE_DEVICES"] = gpus[k]
            cmd = Command(self._argv(script, model_config, seqs, outdir), cwd, env, name=f"mgld-part{k}")
            commands.append(cmd)
            jobs.append((outdir / "clip", names, start))
        record["commands"] = [c.shell_line() for c in commands]
        record["parts"] = parts
        (log_dir / "command.sh").write_text("\n".join(record["commands"]) + "\n")
        timeout = float(self.options["timeout"]) or None
        try:
            what = f"mgld-official: the official script on clip {clip.label}"
            finished = run_parallel(commands, log_dir, timeout, what)
        finally:
            (log_dir / "mgld.json").write_text(json.dumps(record, indent=1, default=str))
        record["seconds"] = [round(f.seconds, 3) for f in finished]
        (log_dir / "mgld.json").write_text(json.dumps(record, indent=1, default=str))
        expected = clip.expected_sr_size()
        lr_h, lr_w = clip.lr.size
        for outdir, names, start in jobs:
            for j, name in enumerate(names):
                yield self._ingest(outdir / f"{name}.png", expected, (lr_h, lr_w), clip, start + j, record, log_dir)

    def _ingest(
        self,
        path: Path,
        expected: tuple[int, int],
        lr_size: tuple[int, int],
        clip: Clip,
        index: int,
        record: dict[str, Any],
        log_dir: Path,
    ) -> np.ndarray:
        """Read one output PNG and check its size (fixing the script's crop for tiny inputs)."""
        if not path.is_file():
            raise OutputMismatchError(
                f"mgld-official: the official script wrote no output for frame {index} of clip {clip.label} "
                f"(expected {path}); logs in {log_dir}"
            )
        try:
            img = read_image(path)
        except FrameError as exc:
            raise OutputMismatchError(f"mgld-official: clip {clip.label}, frame {index}: {exc}") from exc
        h, w = img.shape[:2]
        if (h, w) == expected:
            return img
        # inputs with a short side < 128 are upsampled by more than x4 and scaled back; the script
        # then crops with the pre-downscale sizes and keeps part of its reflect padding
        if min(lr_size) * 4 < 512 and h >= expected[0] and w >= expected[1]:
            note = f"frame {index}: cropped {w}x{h} -> {expected[1]}x{expected[0]} (the script's small-input crop)"
            record.setdefault("output_fixes", []).append(note)
            (log_dir / "mgld.json").write_text(json.dumps(record, indent=1, default=str))
            return np.ascontiguousarray(img[: expected[0], : expected[1]])
        raise OutputMismatchError(
            f"mgld-official: frame {index} of clip {clip.label} is {w}x{h}, "
            f"expected {expected[1]}x{expected[0]} ({path})"
        )
