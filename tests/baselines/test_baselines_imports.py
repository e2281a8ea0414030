"""Adapter modules load without torch or spandrel, so ``mgld-bench list`` stays fast."""

from __future__ import annotations

import subprocess
import sys


def test_adapter_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import baselines.realbasicvsr.adapter, baselines.spandrel_models, mgld_bench.methods.external\n"
        "from mgld_bench.weights import known_weights\n"
        "bad = [m for m in ('torch', 'spandrel', 'cv2') if m in sys.modules]\n"
        "assert not bad, bad\n"
        "names = set(known_weights())\n"
        "assert {'RealBasicVSR_x4.pth', 'RealESRGAN_x4plus.pth'} <= names, names\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
