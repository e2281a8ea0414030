"""Probe methods for tests/runner/test_runner_ray.py: they log each call, and can kill their own worker
process once (SIGKILL), raise on one clip, ask for a custom Ray resource, or declare an
execution-only option."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.specs import Resources


class Probe(Method):
    """Nearest-neighbour upsampling that logs ``clip pid start end`` to ``log/calls.txt``."""

    name = "probe"
    version = 1
    summary = "test probe"
    defaults: ClassVar[dict[str, Any]] = {"log": "", "kill_once": False, "fail_clip": "", "sleep": 0.0}

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        log = Path(self.options["log"])
        start = time.time()
        if clip.name == self.options["fail_clip"]:
            _append(log / "calls.txt", f"{clip.name} {os.getpid()} {start} {start}\n")
            raise RuntimeError("probe failed on purpose")
        for i, frame in enumerate(clip.lr):
            marker = log / f"killed-{clip.name}"
            if i == 1 and self.options["kill_once"] and not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)  # the worker dies mid-clip, once
            yield np.repeat(np.repeat(frame, clip.scale, axis=0), clip.scale, axis=1)
        time.sleep(float(self.options["sleep"]))
        _append(log / "calls.txt", f"{clip.name} {os.getpid()} {start} {time.time()}\n")


class AccelProbe(Probe):
    """A probe that asks for one unit of the custom resource ``accel`` (a stand-in for a GPU)."""

    name = "accel-probe"
    resources: ClassVar[Resources] = Resources(num_cpus=0.5, custom=(("accel", 1.0),))


class BatchedProbe(Probe):
    """A probe with an execution-only option whose value as used depends on the device kind (as
    a learned metric's batch size does)."""

    name = "batched-probe"
    defaults: ClassVar[dict[str, Any]] = {**Probe.defaults, "batch": 4}
    execution_options = ("batch",)

    def execution(self, device_kind: str | None = None) -> dict[str, Any]:
        return {"batch": 1 if device_kind == "cpu" else self.options["batch"], "kind": device_kind}


class InstanceProbe(Probe):
    """A probe that logs ``pid id(self)`` to ``log/instances.txt`` per clip (which instance ran it)."""

    name = "instance-probe"

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        _append(Path(self.options["log"]) / "instances.txt", f"{os.getpid()} {id(self)}\n")
        yield from super().run(clip, ctx)


def _append(path: Path, line: str) -> None:
    with path.open("a") as f:
        f.write(line)
