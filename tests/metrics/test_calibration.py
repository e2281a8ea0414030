"""The learned metrics on pyiqa's calibration pairs, with the released weights (opt-in).

pyiqa ships five TID2013 pairs (``site-packages/ResultsCalibra/{ref_dir,dist_dir}/Ixx.bmp``) and
publishes, in its repository's ``ResultsCalibra/calibration_summary.csv``, its own score of each
("(ours)" rows; pyiqa's test holds them to the official implementations' values).  With the
released weights in the folder named by ``MGLD_BENCH_REAL_WEIGHTS`` (laid out like the weights
folder), each metric below must give pyiqa's values within pyiqa's own tolerances.  The released
weights cannot be downloaded in CI, so without that variable every case skips, saying which files
it needs.

pyiqa publishes no calibration values for CLIP-IQA or MANIQA (nor DOVER, which is not in pyiqa),
so they have none here; their equality with pyiqa / the official code on random weights is tested
in test_pyiqa_backend.py, test_maniqa.py and test_dover.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

#: pyiqa's calibration_summary.csv at IQA-PyTorch commit 01ae427 (2026-05-14; the file last changed
#: 2026-03-18), "(ours)" rows, images I03 I04 I06 I08 I19.  suite metric -> (pyiqa row, values).
CALIBRATION = {
    "lpips": ("lpips", [0.7236, 0.2572, 0.0508, 0.0521, 0.4253]),
    "dists": ("dists", [0.4742, 0.1424, 0.0683, 0.0287, 0.3123]),
    "musiq": ("musiq", [12.4785, 75.7772, 73.7454, 75.4609, 38.0257]),
    "musiq-koniq": ("musiq-koniq", [12.4773, 75.7764, 73.7459, 75.4604, 38.0248]),
    "musiq-ava": ("musiq-ava", [3.4085, 5.6933, 4.697, 5.1964, 4.1957]),
    "musiq-spaq": ("musiq-spaq", [17.6808, 70.6541, 79.0371, 79.3199, 50.455]),
    "musiq-paq2piq": ("musiq-paq2piq", [46.0196, 72.6655, 73.7657, 74.388, 69.7233]),
    "pyiqa:ckdn": ("ckdn", [0.284, 0.565, 0.6263, 0.6414, 0.5935]),
    "pyiqa:paq2piq": ("paq2piq", [44.1328, 73.6013, 74.3302, 76.8752, 70.9178]),
    "pyiqa:laion_aes": ("laion_aes", [3.7204, 5.5917, 5.0756, 4.6551, 3.0973]),
    "pyiqa:nrqm": ("nrqm", [1.3932, 8.9419, 8.9721, 6.8309, 6.3031]),
    "pyiqa:pi": ("pi", [11.9287, 3.073, 2.6357, 2.7979, 6.9546]),
}
#: pyiqa's tests/test_metric_general.py: (atol, rtol) per row; others 1e-2, 1e-2.
TOLERANCE = {"ckdn": (1e-2, 3e-2), "laion_aes": (1e-2, 2e-2), "pi": (1e-2, 3e-2),
             **{m: (1e-2, 3e-2) for m in ("musiq", "musiq-ava", "musiq-koniq", "musiq-paq2piq", "musiq-spaq")}}
IMAGES = ("I03", "I04", "I06", "I08", "I19")
REAL = os.environ.get("MGLD_BENCH_REAL_WEIGHTS")


@pytest.mark.parametrize("name", sorted(CALIBRATION))
def test_learned_metrics_reproduce_pyiqa_calibration(monkeypatch, name) -> None:
    pytest.importorskip("pyiqa")
    from PIL import Image

    from mgld_bench.metrics.backends.base import clear_models
    from mgld_bench.protocol import DEFAULT
    from mgld_bench.runner.plan import build_metric

    if REAL:
        monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(REAL))
    metric = build_metric(name, DEFAULT, {})
    files = ", ".join(sorted(wf.name for wf in metric.weight_files())) or "the files pyiqa names when it builds it"
    if not REAL:
        pytest.skip(f"set MGLD_BENCH_REAL_WEIGHTS to a weights folder holding the released files of {name}: {files}")
    ok, why = metric.availability()
    if not ok:
        pytest.skip(f"MGLD_BENCH_REAL_WEIGHTS={REAL} lacks the released files of {name}: {why}")
    import pyiqa

    from mgld_bench.errors import WeightsMissingError

    clear_models()
    root = Path(pyiqa.__file__).parent.parent / "ResultsCalibra"

    def read(folder: str, image: str) -> np.ndarray:
        return np.asarray(Image.open(root / folder / f"{image}.bmp").convert("RGB"))

    try:
        got = [metric.score_batch([read("dist_dir", i)], [read("ref_dir", i)] if metric.needs_gt else None)[0]
               for i in IMAGES]
    except WeightsMissingError as exc:  # a backbone file pyiqa names only when it builds the model
        pytest.skip(f"MGLD_BENCH_REAL_WEIGHTS={REAL} lacks a released file of {name}: {exc}")
    row, want = CALIBRATION[name]
    atol, rtol = TOLERANCE.get(row, (1e-2, 1e-2))
    np.testing.assert_allclose(got, want, atol=atol, rtol=rtol)
    clear_models()
