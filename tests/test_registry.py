"""Registries: lookups, close-match errors, duplicates, and entry-point plugins."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mgld_bench.errors import BenchError, UnknownNameError
from mgld_bench.registry import DATASETS, METHODS, METRICS, Registry


def test_unknown_name_lists_valid_names_and_close_matches() -> None:
    with pytest.raises(UnknownNameError) as err:
        METHODS.get("bicubik")
    msg = str(err.value)
    assert "Did you mean bicubic" in msg and "Valid methods:" in msg and "precomputed" in msg


def test_builtins_and_baseline_entry_point_are_registered() -> None:
    assert {"psnr", "ssim"} <= set(METRICS.names())
    assert "synthetic" in DATASETS.names()
    entry = METHODS.get("bicubic")
    # bicubic lives in baselines/ and arrives through the entry point, like a third-party plugin
    assert entry.origin.startswith("entry point") and entry.target == "baselines.bicubic:Bicubic"


def test_duplicate_registration_names_both_origins() -> None:
    reg = Registry("method", "mgld_bench.test.none")
    reg.register("x", "a.b:C", origin="first")
    reg.register("x", "a.b:C", origin="first")  # the same registration twice is harmless
    with pytest.raises(BenchError, match=r"registered twice: by first \(a.b:C\) and by second \(d.e:F\)"):
        reg.register("x", "d.e:F", origin="second")


def test_third_party_plugin_is_discovered_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "myplugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from mgld_bench.methods.base import Method\n"
        "class Nearest(Method):\n"
        "    name = 'nearest-test'\n"
        "    def run(self, clip, ctx):\n"
        "        for f in clip.lr:\n"
        "            yield f.repeat(clip.scale, 0).repeat(clip.scale, 1)\n"
    )
    dist = tmp_path / "myplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mgld_bench.methods]\nnearest-test = myplugin:Nearest\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("method", "mgld_bench.methods")
    assert "nearest-test" in reg.names()
    entry = reg.get("nearest-test")
    assert entry.origin == "entry point of myplugin"
    assert reg.create("nearest-test").name == "nearest-test"
    sys.modules.pop("myplugin", None)


def test_broken_plugin_fails_with_its_name() -> None:
    reg = Registry("metric", "mgld_bench.test.none")
    reg.register("broken", "no_such_module_xyz:Thing", origin="entry point of brokenpkg")
    with pytest.raises(BenchError, match=r"broken.*brokenpkg.*failed to load"):
        reg.load("broken")


def test_importing_the_package_and_listing_do_not_import_torch() -> None:
    import subprocess

    code = (
        "import sys, io, contextlib\n"
        "from mgld_bench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list', 'metrics']); main(['list', 'datasets'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_build_gives_the_ref_with_absolute_paths_and_a_metric_with_its_protocol(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from mgld_bench.protocol import get_protocol

    monkeypatch.chdir(tmp_path)
    ref, method = METHODS.build("precomputed:outs", {"precomputed": {"label": "mine"}})
    assert ref.spec == f"precomputed:{tmp_path / 'outs'}" and ref.option_dict() == {"label": "mine"}
    assert method.options["path"] == str(tmp_path / "outs")
    cropped = get_protocol("default").__class__(name="p", description="", crop_border=4, color_space="rgb")
    _, psnr = METRICS.build("PSNR", {}, protocol=cropped)
    assert (psnr.name, psnr.options["crop_border"], psnr.options["color_space"]) == ("psnr", 4, "rgb")
    _, user = METRICS.build("psnr", {"psnr": {"crop_border": "2"}}, protocol=cropped)
    assert user.options["crop_border"] == 2  # the user's --set wins over the protocol
