"""Methods run as external commands: any repository, any environment, one command per clip.

``external`` writes the clip's LR frames into an input folder, runs a command template such as
``conda run -n mgld python inference.py -i {input} -o {output} --scale {scale}``, waits for it
(with a timeout), keeps its combined stdout/stderr as ``command.log`` beside the cache entry,
and checks the output folder (frame count and size) before anything is cached.

The helpers :func:`write_input_frames`, :func:`run_command` and :func:`validate_outputs` are
reusable by other adapters that drive a separate program (e.g. a method's official repository).
"""

from __future__ import annotations

import math
import os
import shlex
import signal
import string
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError, OutputMismatchError
from mgld_bench.frames import Clip, FrameSequence, list_frame_files, read_image, write_image
from mgld_bench.methods.base import Method, RunContext

#: Placeholders a command template may use.
PLACEHOLDERS = ("input", "output", "scale", "clip", "dataset", "device", "workdir", "seed")


class CommandError(BenchError):
    """An external command failed, timed out, or could not be started."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    seconds: float
    log_path: Path


def template_fields(template: str) -> set[str]:
    """The ``{name}`` placeholders of ``template``; raise on a malformed template."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise BenchError(f"external.command {template!r} is not a valid template: {exc}") from None


def build_command(template: str, values: Mapping[str, Any], shell: bool) -> list[str] | str:
    """Fill ``template``: split into arguments first (paths with spaces stay one argument), or
    quote every value for ``/bin/sh`` when ``shell`` is true."""
    unknown = template_fields(template) - set(values)
    if unknown:
        raise BenchError(
            f"external.command uses unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"available: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        )
    if shell:
        inside = quoted_placeholders(template)
        if inside:
            name = inside[0]
            raise BenchError(
                f"external.command: the placeholder {{{name}}} is inside quotes; with shell=true every value is "
                f"already quoted for the shell, and quoting it again lets $(...), backticks and ; in a clip or "
                f"folder name run as commands. Remove the quotes around {{{name}}}, or write "
                f'"$MGLD_BENCH_{name.upper()}" (the value is also passed in that environment variable)'
            )
        try:
            return template.format(**{k: shlex.quote(str(v)) for k, v in values.items()})
        except (ValueError, IndexError, KeyError) as exc:
            raise BenchError(f"external.command {template!r}: {exc}; under shell=true use plain {{name}} "
                             "placeholders (no format specs)") from None
    try:
        tokens = shlex.split(template)
    except ValueError as exc:
        raise BenchError(f"external.command {template!r} cannot be split into arguments: {exc}") from None
    return [t.format(**{k: str(v) for k, v in values.items()}) for t in tokens]


def quoted_placeholders(template: str) -> list[str]:
    """The placeholders of ``template`` that sit inside single or double quotes (shell rules)."""
    state = ""  # "", "'" or '"'
    found = []
    for literal, name, _, _ in string.Formatter().parse(template):
        escaped = False
        for ch in literal:
            if escaped:
                escaped = False
            elif ch == "\\" and state != "'":
                escaped = True
            elif state == "" and ch in "'\"":
                state = ch
            elif ch == state:
                state = ""
        if name is not None and state:
            found.append(name)
    return found


def log_tail(path: Path, limit: int = 200) -> str:
    """The last non-empty line of a log file, cut to ``limit`` characters (empty if unreadable):
    errors are one line, and the whole log is kept at the path they name."""
    try:
        text = [ln.strip() for ln in path.read_text(errors="replace").splitlines()
                if ln.strip() and not ln.startswith("# ")]  # "# ..." lines are the runner's own notes
    except OSError:
        return ""
    last = text[-1] if text else ""
    return last if len(last) <= limit else last[: limit - 1] + "…"


def keep_failed_log(log_path: Path, what: str) -> Path:
    """Copy a failed command's log to ``$TMPDIR/mgld-bench-logs/`` (the runner deletes the log
    folder of a failed job, so the message must point somewhere that survives)."""
    import re
    import shutil

    folder = Path(tempfile.gettempdir()) / "mgld-bench-logs"
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", what)[:80]
    target = folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        shutil.copyfile(log_path, target)
    except OSError:
        return log_path
    return target


def run_command(
    command: Sequence[str] | str,
    *,
    log_path: Path,
    timeout: float | None,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``command`` (a list of arguments, or a shell string), output appended to ``log_path``.

    stdout and stderr go, interleaved, to ``log_path`` (after a header naming the command).
    On timeout the whole process group is killed.  A failure raises :class:`CommandError`
    naming ``what`` (e.g. the clip), the exit status, the log file and its last line (one line).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    shown = command if isinstance(command, str) else shlex.join(command)
    full_env = {**os.environ, **(env or {})}
    start = time.monotonic()
    with open(log_path, "ab") as log:
        log.write(f"$ {shown}\n# cwd: {cwd or os.getcwd()}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                command,
                shell=isinstance(command, str),
                cwd=cwd,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        except OSError as exc:
            raise CommandError(f"{what}: cannot start {shown!r}: {exc}") from None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            log.write(f"\n# killed after {timeout:g} s (timeout)\n".encode())
            log.flush()
            raise CommandError(
                f"{what}: the command timed out after {timeout:g} s and was killed; raise the timeout "
                f"(external.timeout) or check the log {keep_failed_log(log_path, what)} "
                f"(last line: {log_tail(log_path)!r})"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        seconds = time.monotonic() - start
        log.write(f"\n# exit status {code} after {seconds:.1f} s\n".encode())
    if code != 0:
        kept = keep_failed_log(log_path, what)
        raise CommandError(
            f"{what}: the command exited with status {code}; log {kept} (last line: {log_tail(log_path)!r})"
        )
    return CommandResult(code, seconds, log_path)


def _die_with_parent() -> Any:
    """A ``preexec_fn`` asking Linux to SIGKILL the child when this process dies (even by SIGKILL);
    None elsewhere.  SIGTERM and Ctrl-C are handled by killing the whole process group instead."""
    import sys

    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        import ctypes

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except OSError:
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the process group this module started for ``proc`` (and reap it)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def write_input_frames(frames: FrameSequence, folder: Path, fmt: str = "png") -> list[Path]:
    """Write every frame of ``frames`` into ``folder`` as ``<index:08d>.<fmt>``, in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = folder / f"{i:08d}.{fmt}"
        write_image(path, frame)
        paths.append(path)
    return paths


def validate_outputs(folder: Path, count: int, size: tuple[int, int], what: str) -> list[Path]:
    """The output frame files of ``folder`` in natural order, after checking their count and size.

    Raises :class:`OutputMismatchError` naming ``what`` (the clip) when the folder is missing
    or empty, holds a different number of frames, or a frame is not ``size`` (h, w).
    """
    from PIL import Image

    if not folder.is_dir():
        raise OutputMismatchError(f"{what}: the command wrote no output folder {folder}")
    try:
        files = list_frame_files(folder)
    except BenchError:
        raise OutputMismatchError(f"{what}: the command wrote no image files into {folder}") from None
    if len(files) != count:
        raise OutputMismatchError(f"{what}: the command wrote {len(files)} frames into {folder}, expected {count}")
    from mgld_bench.imagecheck import check_pixels

    for f in files:
        check_pixels(f, f"{f} (output of {what})")
        try:
            with Image.open(f) as im:
                w, h = im.size
        except Exception as exc:  # OSError, or Pillow's DecompressionBombError
            raise OutputMismatchError(f"{what}: output frame {f} cannot be read: {type(exc).__name__}: {exc}") from None
        if (h, w) != tuple(size):
            raise OutputMismatchError(
                f"{what}: output frame {f.name} is {w}x{h}, expected {size[1]}x{size[0]} (scale x LR, or the GT size)"
            )
    return files


class External(Method):
    """Run any SR method as a command per clip (``external:NAME`` files the results as NAME).

    The output is not hashed from the program itself: put anything that changes it (a commit,
    a checkpoint name) into ``tag``, which enters the cache key, or results of an older version
    are reused.  A command whose output varies (a diffusion model) is declared ``stochastic``:
    it then gets the run's seed (``{seed}``, ``MGLD_BENCH_SEED``) and its outputs are cached
    under that seed; only then may the template use ``{seed}``.
    """

    name = "external"
    version = 1
    summary = "any method run by a command template per clip (its own repository and environment)"
    defaults: ClassVar[dict[str, Any]] = {
        "path": "",
        "command": "",
        "timeout": 3600.0,
        "cwd": "",
        "shell": False,
        "input_format": "png",
        "tag": "",
        "label": "",
        "stochastic": False,
    }
    #: how long to wait changes neither what runs nor what it writes
    execution_options: ClassVar[tuple[str, ...]] = ("timeout",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o["command"]:
            fields = template_fields(o["command"])
            missing = {"input", "output"} - fields
            if missing:
                raise BenchError(
                    f"external.command must contain {', '.join('{' + m + '}' for m in sorted(missing))} "
                    "(the folders of LR input frames and of SR output frames)"
                )
            build_command(o["command"], {p: "" for p in PLACEHOLDERS}, bool(o["shell"]))
            if "seed" in fields and not o["stochastic"]:
                raise BenchError(
                    "external.command uses {seed}, but the method is not declared stochastic, so its outputs "
                    f"would be cached without the seed; add --set {self.label}.stochastic=true"
                )
        if o["stochastic"]:
            # outputs vary with the seed (or from call to call): cached under the run's seed
            self.deterministic = False  # type: ignore[misc]
            self.uses_seed = True  # type: ignore[misc]
        if o["input_format"] not in ("png", "bmp", "tif", "tiff"):
            raise BenchError("external.input_format must be a lossless format: png, bmp, tif or tiff")
        timeout = float(o["timeout"])
        if not math.isfinite(timeout) or timeout <= 0:
            raise BenchError(f"external.timeout must be a positive, finite number of seconds, got {o['timeout']!r}")

    @property
    def label(self) -> str:
        return str(self.options["label"] or self.options["path"] or self.name)

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"].pop("label", None)  # names the results, changes nothing they hold
        return ident

    def availability(self) -> tuple[bool, str]:
        if not self.options["command"]:
            return False, f"set the command: --set {self.label}.command='python run.py -i {{input}} -o {{output}}'"
        cwd = self.options["cwd"]
        if cwd and not Path(cwd).expanduser().is_dir():
            return False, f"external.cwd {cwd} is not a folder"
        return True, ""

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        ok, reason = self.availability()
        if not ok:
            raise BenchError(f"{self.label}: {reason}")
        own_tmp = None
        workdir = ctx.workdir
        if workdir is None:
            own_tmp = tempfile.TemporaryDirectory(prefix=f"mgld-bench-external-{os.getpid()}-")
            workdir = Path(own_tmp.name)
        try:
            yield from self._run(clip, ctx, Path(workdir))
        finally:
            if own_tmp is not None:
                own_tmp.cleanup()

    def _run(self, clip: Clip, ctx: RunContext, workdir: Path) -> Iterator[np.ndarray]:
        inp, out = workdir / "input", workdir / "output"
        write_input_frames(clip.lr, inp, self.options["input_format"])
        out.mkdir(parents=True, exist_ok=True)
        values = {
            "input": inp,
            "output": out,
            "scale": clip.scale,
            "clip": clip.name,
            "dataset": clip.dataset,
            "device": ctx.device,
            "workdir": workdir,
        }
        if self.options["stochastic"]:  # only then is the seed part of the cache key
            values["seed"] = ctx.seed
        command = build_command(self.options["command"], values, bool(self.options["shell"]))
        env = {f"MGLD_BENCH_{k.upper()}": str(v) for k, v in values.items()}
        log_dir = ctx.log_dir or workdir
        what = f"{self.label} on clip {clip.label}"
        cwd = Path(self.options["cwd"]).expanduser() if self.options["cwd"] else None
        run_command(
            command,
            log_path=log_dir / "command.log",
            timeout=float(self.options["timeout"]),
            what=what,
            cwd=cwd,
            env=env,
        )
        files = validate_outputs(out, len(clip.lr), clip.expected_sr_size(), what)
        for f in files:
            yield read_image(f)
