"""safeload: weight files never run code; Lightning training state loads as inert placeholders."""

from __future__ import annotations

import os
import sys
import types

import pytest

torch = pytest.importorskip("torch")

from mgld_bench.errors import BenchError  # noqa: E402
from mgld_bench.safeload import Inert, UnsafeWeightsError, load_weights  # noqa: E402


class _Payload:
    """Pickles as a call to os.system (blocked module): must never load, not even as a stub."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _foreign_class(marker):
    """A class of a module the loader cannot import, whose __setstate__ would write a marker."""
    mod = types.ModuleType("not_installed_lightning")

    class Callback:
        def __init__(self, x):
            self.x = x

        def __setstate__(self, state):  # would run under plain pickle
            marker.write_text("ran")
            self.__dict__.update(state)

    Callback.__module__ = mod.__name__
    Callback.__qualname__ = "Callback"
    mod.Callback = Callback
    return mod, Callback


@pytest.mark.parametrize("zipfile", [True, False])
def test_payload_refused_and_never_runs(tmp_path, zipfile):
    marker = tmp_path / "MARK"
    path = tmp_path / "evil.pth"
    torch.save({"w": torch.ones(2), "x": _Payload(str(marker))}, path, _use_new_zipfile_serialization=zipfile)
    for inert in (False, True):
        with pytest.raises(UnsafeWeightsError) as info:
            load_weights(path, inert_globals=inert)
        assert str(path) in str(info.value) and "system" in str(info.value)
        assert "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("zipfile", [True, False])
def test_lightning_state_loads_inert(tmp_path, zipfile):
    marker = tmp_path / "MARK"
    mod, cls = _foreign_class(marker)
    sys.modules[mod.__name__] = mod
    try:
        path = tmp_path / "model.ckpt"
        torch.save({"state_dict": {"a": torch.arange(3.0)}, "callbacks": {"cb": cls(3)}}, path,
                   _use_new_zipfile_serialization=zipfile)
    finally:
        del sys.modules[mod.__name__]
    with pytest.raises(UnsafeWeightsError, match=r"not_installed_lightning\.Callback"):
        load_weights(path)
    obj = load_weights(path, inert_globals=True)
    assert torch.equal(obj["state_dict"]["a"], torch.arange(3.0))
    cb = obj["callbacks"]["cb"]
    assert isinstance(cb, Inert) and cb.state == {"x": 3}
    assert not marker.exists()


def test_plain_and_safetensors(tmp_path):
    from safetensors.torch import save_file

    torch.save({"a": torch.arange(4)}, tmp_path / "a.pth")
    assert torch.equal(load_weights(tmp_path / "a.pth")["a"], torch.arange(4))
    save_file({"b": torch.ones(2, 2)}, str(tmp_path / "b.safetensors"))
    assert torch.equal(load_weights(tmp_path / "b.safetensors")["b"], torch.ones(2, 2))


def test_corrupt_and_missing_name_the_file(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(BenchError, match=r"bad\.pth"):
        load_weights(bad)
    with pytest.raises(BenchError, match=r"nope\.pth"):
        load_weights(tmp_path / "nope.pth")


def test_load_arrays_reads_tensors_without_torch_and_refuses_the_rest(tmp_path) -> None:
    import pickle
    import zipfile

    import numpy as np
    import torch

    from mgld_bench.safeload import load_arrays

    g = torch.Generator().manual_seed(0)
    obj = (torch.randn(7, 1, generator=g, dtype=torch.float64), {"w": torch.arange(12.0).reshape(3, 4).t(),
                                                                  "i": torch.arange(10)[2:7]})
    torch.save(obj, tmp_path / "t.pth")
    got = load_arrays(tmp_path / "t.pth")
    want = torch.load(tmp_path / "t.pth", weights_only=True)  # the reference reader
    np.testing.assert_array_equal(got[0], want[0].numpy())
    np.testing.assert_array_equal(got[1]["w"], want[1]["w"].numpy())
    np.testing.assert_array_equal(got[1]["i"], want[1]["i"].numpy())

    class Evil:
        def __reduce__(self):
            return (print, ("ran",))

    torch.save({"x": torch.zeros(2)}, tmp_path / "evil.pth")  # same zip, data.pkl replaced by a code-running pickle
    with zipfile.ZipFile(tmp_path / "evil.pth") as src, zipfile.ZipFile(tmp_path / "evil2.pth", "w") as dst:
        for info in src.infolist():
            data = pickle.dumps(Evil(), protocol=2) if info.filename.endswith("data.pkl") else src.read(info)
            dst.writestr(info, data)
    with pytest.raises(BenchError, match="without torch"):
        load_arrays(tmp_path / "evil2.pth")
    (tmp_path / "legacy.pth").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(BenchError, match="zip format"):
        load_arrays(tmp_path / "legacy.pth")
