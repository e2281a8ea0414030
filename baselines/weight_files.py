"""The weight files of the baseline adapters (declared without importing torch).

Importing this module registers them with :mod:`mgld_bench.weights`, so ``mgld-bench list
methods`` and the ``weights`` commands know their names, URLs and (where known) sha256.
"""

from __future__ import annotations

from pathlib import Path

from mgld_bench.weights import WeightFile, register_weight

REALBASICVSR_X4 = register_weight(
    WeightFile(
        name="RealBasicVSR_x4.pth",
        url="https://huggingface.co/akhaliq/RealBasicVSR_x4/resolve/main/RealBasicVSR_x4.pth",
        sha256="f2d73c0fe3e33869c812f608be77cbdbfc356443b718b78c9a6cb97027ce5de7",
        size=210_479_802,
        used_by=("realbasicvsr",),
        note=(
            "official RealBasicVSR x4 release (README: Dropbox "
            "https://www.dropbox.com/s/eufigxmmkv5woop/RealBasicVSR.pth?dl=1 or Google Drive "
            "1OYR1J2GXE90Zu2gVU5xc0t0P_UmKH7ID); the URL is the Hugging Face copy used by the authors' demo, "
            "whose sha256 is given"
        ),
    )
)

REALBASICVSR_MMEDIT = register_weight(
    WeightFile(
        name="realbasicvsr_c64b20_1x30x8_lr5e-5_150k_reds_20211104-52f77c2c.pth",
        url=(
            "https://download.openmmlab.com/mmediting/restorers/real_basicvsr/"
            "realbasicvsr_c64b20_1x30x8_lr5e-5_150k_reds_20211104-52f77c2c.pth"
        ),
        used_by=("realbasicvsr",),
        note="OpenMMLab model-zoo RealBasicVSR (use with --set realbasicvsr.weights=<this name>)",
    )
)

REALESRGAN_X4PLUS = register_weight(
    WeightFile(
        name="RealESRGAN_x4plus.pth",
        url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
        sha256="4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1",
        size=67_040_989,
        used_by=("realesrgan",),
        note="Real-ESRGAN x4plus (RRDBNet, 23 blocks), loaded through spandrel",
    )
)

REALESRNET_X4PLUS = register_weight(
    WeightFile(
        name="RealESRNet_x4plus.pth",
        url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.1/RealESRNet_x4plus.pth",
        used_by=("realesrgan",),
        note="Real-ESRNet x4plus (no GAN loss; use with --set realesrgan.weights=RealESRNet_x4plus.pth)",
    )
)

REALESR_GENERAL_X4V3 = register_weight(
    WeightFile(
        name="realesr-general-x4v3.pth",
        url="https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-general-x4v3.pth",
        size=4_885_111,
        used_by=("realesrgan",),
        note="Real-ESRGAN general x4 v3 (SRVGGNetCompact; use with --set realesrgan.weights=realesr-general-x4v3.pth)",
    )
)


def resolve_weight(value: str, default: WeightFile, used_by: str) -> tuple[WeightFile | None, Path]:
    """Turn a ``weights`` option into (declared file or None, path on disk).

    A bare file name is looked up in the weights folder (and declared if it is not yet, so the
    missing-file message says where it must lie); anything with a folder part is a path the user
    chose, which is hashed as an extra input instead of a declared weight file.
    """
    from mgld_bench.weights import known_weights

    value = value or default.name
    if Path(value).name != value:
        return None, Path(value).expanduser()
    wf = known_weights().get(value) or register_weight(WeightFile(name=value, url=None, used_by=(used_by,)))
    return wf, wf.path()


class UsesCheckpoint:
    """Mixin for methods whose ``weights`` option names a declared file or a path of the user's.

    A declared file enters the cache key through ``weight_files()``; a user's path through
    ``extra_key()`` (its content hash).  The subclass sets ``weight_file`` and ``weight_path``
    with :func:`resolve_weight`.
    """

    name: str
    weight_file: WeightFile | None
    weight_path: Path

    def weight_files(self) -> list[WeightFile]:
        return [self.weight_file] if self.weight_file is not None else []

    def extra_key(self, clip: object) -> str | None:
        if self.weight_file is None and self.weight_path.is_file():
            from mgld_bench.fileio import file_sha256

            return file_sha256(self.weight_path)
        return None

    def availability(self) -> tuple[bool, str]:
        if self.weight_file is None and not self.weight_path.is_file():
            return False, f"checkpoint {self.weight_path} ({self.name}.weights) does not exist"
        return super().availability()  # type: ignore[misc]
