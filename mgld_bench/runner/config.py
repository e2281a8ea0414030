"""A run's configuration: every ``run`` flag as one value, read from a YAML file and/or flags.

``mgld-bench run --config run.yaml`` reads a mapping with the keys below (each mirrors the flag
of the same name, ``-`` written ``_``); flags given on the command line override the file, and
``--set NAME.OPTION=VALUE`` overrides ``options: {NAME: {OPTION: VALUE}}`` option by option.
The resolved configuration is recorded in the run's provenance (``provenance["config"]``), so a
run is reproducible from one committed file::

    datasets: [synthetic]          # or "synthetic,reds4"
    methods: [bicubic]
    metrics: [psnr, ssim]
    protocol: null                 # each dataset's own
    clips: null                    # every clip
    data_root: /data
    options:
      bicubic: {kernel: cv2}
      synthetic: {frames: 16}
    seed: 0
    out: reports/latest
    cache_dir: null
    device: auto
    keep_going: false
    strict: false
    reference: null                # a baseline listed first in tables and figures
    html: true                     # OUT/report.html (--no-html)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

LIST_KEYS = ("datasets", "methods", "metrics", "clips")


@dataclass
class RunConfig:
    """Everything ``run`` is asked to do (names unresolved; see :func:`mgld_bench.runner.plan.build_plan`)."""

    datasets: list[str] = field(default_factory=lambda: ["synthetic"])
    methods: list[str] = field(default_factory=lambda: ["bicubic"])
    metrics: list[str] = field(default_factory=lambda: ["psnr", "ssim"])
    protocol: str | None = None
    clips: list[str] | None = None
    data_root: str | None = None
    #: NAME -> {OPTION: VALUE}, as ``--set NAME.OPTION=VALUE``.
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int = 0
    out: str = "reports/latest"
    cache_dir: str | None = None
    device: str = "auto"
    keep_going: bool = False
    strict: bool = False
    #: a baseline method listed first in tables and figures (e.g. bicubic).
    reference: str | None = None
    #: write OUT/report.html (``--no-html``: false).
    html: bool = True
    #: ``local`` (this process) or ``ray`` (Ray tasks; docs/distributed.md).
    executor: str = "local"
    #: the Ray cluster for ``executor: ray`` (default: RAY_ADDRESS, else a new local Ray).
    ray_address: str | None = None

    @classmethod
    def keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def split_names(text: str | None) -> list[str]:
    """``"a,b, c"`` -> ["a", "b", "c"] (empty entries dropped, duplicates kept once)."""
    return list(dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip()))


def parse_assignments(items: list[str] | None) -> dict[str, dict[str, str]]:
    """Parse ``NAME.key=value`` strings (``--set``) into {NAME: {key: value}}.  NAME may be a whole
    spec with a path holding dots (``precomputed:/data/v1.2/out.label=mine``): the key is after the
    last dot."""
    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        target, sep, value = item.partition("=")
        name, dot, key = target.rpartition(".") if ":" in target else target.partition(".")
        if not sep or not dot or not name or not key:
            raise BenchError(f"--set {item!r}: expected NAME.option=value, e.g. bicubic.kernel=cv2")
        out.setdefault(name.strip().lower(), {})[key.strip()] = value
    return out


def _as_list(key: str, value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return split_names(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        return [str(v) for v in value]
    raise BenchError(f"{where}: {key} must be a list of names or a comma-separated string, got {value!r}")


def _as_options(value: Any, where: str) -> dict[str, dict[str, Any]]:
    """``{NAME: {OPTION: VALUE}}``, or a list of ``"NAME.OPTION=VALUE"`` strings."""
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        return parse_assignments([str(v) for v in value])
    if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
        return {str(k).lower(): {str(o): v for o, v in opts.items()} for k, opts in value.items()}
    raise BenchError(
        f"{where}: options must map each name to its options (bicubic: {{kernel: cv2}}) or list "
        f"NAME.OPTION=VALUE strings, got {value!r}"
    )


def merge_options(
    base: dict[str, dict[str, Any]], over: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``over`` wins option by option."""
    merged = {k: dict(v) for k, v in base.items()}
    for name, opts in over.items():
        merged.setdefault(name, {}).update(opts)
    return merged


def config_from_mapping(data: dict[str, Any], where: str = "run config", base: RunConfig | None = None) -> RunConfig:
    """A :class:`RunConfig` from ``data`` (unknown keys are an error), on top of ``base``."""
    if not isinstance(data, dict):
        raise BenchError(f"{where}: expected a mapping of run settings, got {type(data).__name__}")
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    if "set" in data:  # the flag's own spelling
        data["options"] = merge_options(_as_options(data.get("options"), where), _as_options(data.pop("set"), where))
    valid = RunConfig.keys()
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise BenchError(f"{where}: unknown setting(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    cfg = RunConfig(**(base.to_dict() if base else {}))
    for key, value in data.items():
        if key in LIST_KEYS:
            value = _as_list(key, value, where)
            if value is None and key != "clips":
                continue
        elif key == "options":
            value = merge_options(cfg.options, _as_options(value, where))
        elif key in ("seed",):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise BenchError(f"{where}: seed must be an integer, got {value!r}") from None
        elif key in ("keep_going", "strict", "html"):
            if not isinstance(value, bool):
                raise BenchError(f"{where}: {key} must be true or false, got {value!r}")
        elif value is not None:
            value = str(value)
        if key == "executor" and value not in ("local", "ray"):
            raise BenchError(f"{where}: executor must be local or ray, got {value!r}")
        setattr(cfg, key, value)
    if not cfg.out:
        raise BenchError(f"{where}: out must name an output folder")
    if cfg.ray_address and cfg.executor != "ray":
        raise BenchError(f"{where}: ray_address needs executor ray")
    return cfg


def resolve_config(
    config: str | Path | Mapping[str, Any] | RunConfig | None = None, overrides: Mapping[str, Any] | None = None
) -> RunConfig:
    """Defaults, then ``config`` (a YAML file, a run folder, a mapping or a RunConfig), then
    ``overrides`` (non-None values; ``set``: a list of ``NAME.OPTION=VALUE`` strings, option by option
    over ``options``): every run setting resolved in one place."""
    if isinstance(config, RunConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = config_from_mapping(dict(config))
    elif config is not None:
        cfg = config_from_mapping(load_config_file(config), where=f"run config {config}")
    else:
        cfg = RunConfig()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    return config_from_mapping(given, where="run settings", base=cfg) if given else cfg


def stored_config(store_path: Path) -> dict[str, Any]:
    """The resolved config recorded by the latest run in a result store."""
    from mgld_bench.store.results import ResultStore

    with ResultStore(store_path, readonly=True) as store:
        configs = [r["provenance"].get("config") for r in store.runs()]
    configs = [c for c in configs if isinstance(c, dict)]
    if not configs:
        raise BenchError(f"{store_path} records no run config (made by an older mgld-bench); pass a config file")
    return configs[-1]


def load_config_file(path: Path | str) -> dict[str, Any]:
    """The mapping in a YAML (or JSON) run config file, or the config stored with a run
    (``path`` is a run folder or its ``results.sqlite``)."""
    import yaml

    path = Path(path)
    if path.is_dir() and (path / "results.sqlite").is_file():
        return stored_config(path / "results.sqlite")
    if path.suffix == ".sqlite" and path.is_file():
        return stored_config(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BenchError(f"cannot read run config {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise BenchError(f"run config {path} is not valid YAML: {' '.join(str(exc).split())}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BenchError(f"run config {path}: expected a mapping of run settings at the top level")
    return data
