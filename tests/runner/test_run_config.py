"""``run --config FILE``: a config-file run equals the flag run; flags override the file; the resolved
config is stored with the run and printable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from mgld_bench.cli import main

CONFIG = """\
datasets: [synthetic]
methods: bicubic
metrics: [psnr, ssim]
protocol: default
clips: [pan]
options:
  synthetic: {frames: 3, size: 32}
  bicubic: {kernel: cv2}
seed: 3
"""

FLAGS = ["--datasets", "synthetic", "--methods", "bicubic", "--metrics", "psnr,ssim", "--protocol", "default",
         "--clips", "pan", "--set", "synthetic.frames=3", "--set", "synthetic.size=32", "--set", "bicubic.kernel=cv2",
         "--seed", "3"]


def _rows(out: Path) -> list[dict]:
    with sqlite3.connect(out / "results.sqlite") as db:
        db.row_factory = sqlite3.Row
        rows = [dict(r) for r in db.execute("SELECT * FROM clip_scores ORDER BY dataset, method, clip, metric")]
    return [{k: v for k, v in r.items() if k != "run_id"} for r in rows]


def _config_of_run(out: Path) -> dict:
    with sqlite3.connect(out / "results.sqlite") as db:
        (prov,) = db.execute("SELECT provenance FROM runs").fetchone()
    return json.loads(prov)["config"]


def test_config_file_run_equals_flag_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(CONFIG)
    common = ["--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    assert main(["run", "--config", str(cfg), "--out", str(tmp_path / "a"), *common]) == 0
    assert main(["run", *FLAGS, "--out", str(tmp_path / "b"), *common]) == 0
    a, b = _rows(tmp_path / "a"), _rows(tmp_path / "b")
    assert len(a) == 2 and a == b
    assert json.loads(a[0]["method_identity"])["options"]["kernel"] == "cv2"
    ca, cb = _config_of_run(tmp_path / "a"), _config_of_run(tmp_path / "b")
    assert ca["seed"] == 3 and ca["options"]["bicubic"] == {"kernel": "cv2"}
    assert {k: v for k, v in ca.items() if k not in ("out", "options")} == {
        k: v for k, v in cb.items() if k not in ("out", "options")
    }
    # a run folder is itself a config: the one stored with its latest run
    capsys.readouterr()
    assert main(["run", "--config", str(tmp_path / "a"), "--print-config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == ca


def test_flags_override_the_file_and_print_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "run.yaml"
    cfg.write_text(CONFIG)
    argv = ["run", "--config", str(cfg), "--metrics", "psnr", "--set", "bicubic.kernel=pil", "--strict",
            "--print-config"]
    assert main(argv) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["metrics"] == ["psnr"]  # the flag wins
    assert printed["options"] == {"synthetic": {"frames": 3, "size": 32}, "bicubic": {"kernel": "pil"}}
    assert printed["seed"] == 3 and printed["clips"] == ["pan"] and printed["strict"] is True
    assert printed["out"] == "reports/latest"  # the default, untouched
    # the printed config is itself a valid config file that resolves to the same settings
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(printed))
    assert main(["run", "--config", str(again), "--print-config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == printed


def test_config_file_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("methodz: [bicubic]\n")
    assert main(["run", "--config", str(bad), "--print-config"]) == 1
    err = capsys.readouterr().err
    assert "methodz" in err and "valid: datasets" in err
    bad.write_text("seed: [1\n")
    assert main(["run", "--config", str(bad)]) == 1
    assert "not valid YAML" in capsys.readouterr().err
    assert main(["run", "--config", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read run config" in capsys.readouterr().err


def test_api_resolves_a_config_the_way_the_cli_does(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from mgld_bench.api import resolve_config

    cfg = tmp_path / "run.yaml"
    cfg.write_text(CONFIG)
    api = resolve_config(cfg, {"metrics": ["psnr"], "options": {"bicubic": {"kernel": "pil"}}, "seed": None})
    assert main(["run", "--config", str(cfg), "--metrics", "psnr", "--set", "bicubic.kernel=pil",
                 "--print-config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == api.to_dict()
