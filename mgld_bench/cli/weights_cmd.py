"""``mgld-bench weights list|fetch|import``: the weight files metrics and methods need."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="list, download or import weight files")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION")
    wsub.required = True
    lp = wsub.add_parser("list", help="every known weight file, who needs it, and whether it is present")
    lp.add_argument("--verify", action="store_true", help="also check sha256 of present files (slow when large)")
    lp.add_argument("--missing", action="store_true", help="show only files that are not present")
    lp.set_defaults(func=run_list)
    fp = wsub.add_parser("fetch", help="download weight files (needs network); default: every missing file")
    fp.add_argument("names", nargs="*", metavar="NAME", help="file names, or metric/method names (e.g. lpips)")
    fp.add_argument("--no-progress", action="store_true", help="no progress bar")
    fp.set_defaults(func=run_fetch)
    ip = wsub.add_parser("import", help="copy weight files carried over from another machine into place")
    ip.add_argument("folder", type=Path, metavar="DIR")
    ip.set_defaults(func=run_import)


def _declared():
    """Every declared weight file: the suite's own, and those of every registered method/metric."""
    import mgld_bench.flow.raft  # noqa: F401 - declarations live with their users
    from mgld_bench.errors import BenchError
    from mgld_bench.registry import METHODS, METRICS
    from mgld_bench.weights import known_weights, register_weight

    for registry in (METHODS, METRICS):
        for entry in registry.entries():
            try:
                obj = entry.create()  # importing declares module-level files; defaults give the rest
                for wf in obj.weight_files():
                    register_weight(wf)
            except (BenchError, TypeError, ValueError, AttributeError, ImportError):
                continue  # needs options (e.g. a path): its files are listed once it is configured
    return known_weights()


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def run_list(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from mgld_bench.weight_trust import status as trust_status
    from mgld_bench.weights import weights_dir
    from mgld_bench.weights_fetch import verify

    rows = []
    for wf in _declared().values():
        path = wf.path()
        if path.is_file():
            status = "present"
            if args.verify:
                problem = verify(wf, path, recorded_too=True)
                status = "ok" if problem is None else f"BAD: {problem}"
            elif wf.size is not None and path.stat().st_size != wf.size:
                status = "BAD: wrong size"
        else:
            status = "missing"
        if args.missing and status != "missing":
            continue
        size = _human(path.stat().st_size if path.is_file() else wf.size)
        where = wf.url or wf.source  # a page to download from by hand when there is no direct URL
        rows.append([wf.name, ", ".join(wf.used_by), status, trust_status(wf), size, str(path.parent), where])
    print(f"weights folder: {weights_dir()}")
    print(tabulate(rows, headers=["file", "needed by", "status", "digest", "size", "folder", "url"],
                   tablefmt="github"))
    print("digest: 'published sha256' / 'sha256 prefix in name' are checked against the release; 'recorded' "
          "files were trusted on first use (fetch, import or first load) and are checked against that record.")
    return 0


def _select(names: list[str]):
    from mgld_bench.errors import UnknownNameError

    decl = _declared()
    if not names:
        return [wf for wf in decl.values() if not wf.path().is_file()]
    out = []
    for name in names:
        if name.startswith(("https://", "http://")):  # a file a library asked for that no one declared
            out.append(_from_url(name))
            continue
        if name in decl:
            out.append(decl[name])
            continue
        users = [wf for wf in decl.values() if name in wf.used_by or f"flow:{name}" in wf.used_by]
        if not users and name.partition(":")[0] in _metric_names():
            # pyiqa:topiq_nr, mawe (its flow backend's file): the configured metric names its files
            from mgld_bench.protocol import DEFAULT
            from mgld_bench.runner.plan import build_metric

            users = build_metric(name, DEFAULT, {}).weight_files()
        if not users:
            raise UnknownNameError(
                f"weights fetch: {name!r} is neither a weight file nor a metric/method that needs one; "
                "see `mgld-bench weights list`"
            )
        out.extend(users)
    return list({wf.name: wf for wf in out}.values())


def _metric_names() -> set[str]:
    from mgld_bench.registry import METRICS

    return set(METRICS.names())


def _from_url(url: str):
    """A weight file known only by its URL: folder chosen by host (pyiqa, CLIP, torchvision)."""
    import os
    from urllib.parse import urlparse

    from mgld_bench.weights import PYIQA_URL, WeightFile, register_weight

    name = os.path.basename(urlparse(url).path)
    if "openaipublic" in url:
        location = "clip"
    elif url.startswith("https://download.pytorch.org/"):
        location = "torchvision"
    elif url.startswith(PYIQA_URL) or "IQA-PyTorch" in url:
        location = "pyiqa"
    else:
        location = "mgld_bench"
    return register_weight(WeightFile(name, url, location))


def run_fetch(args: argparse.Namespace) -> int:
    from mgld_bench.errors import BenchError
    from mgld_bench.weights_fetch import fetch

    todo = _select(args.names)
    if not todo:
        print("every known weight file is present")
        return 0
    failed = []
    for wf in todo:
        try:
            path = fetch(wf, progress=not args.no_progress)
            print(f"{wf.name}: ok ({path})")
        except BenchError as exc:
            failed.append(str(exc))
            print(f"{wf.name}: FAILED: {exc}")
    if failed:
        raise BenchError(f"{len(failed)} of {len(todo)} weight files could not be fetched (see above)")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from mgld_bench.weights import weights_dir
    from mgld_bench.weights_fetch import import_folder

    report = import_folder(args.folder, files=_declared().values())
    if not report:
        print(f"no known weight file found under {args.folder} (see `mgld-bench weights list` for the names)")
        return 1
    for name, what in report:
        print(f"{name}: {what}")
    print(f"weights folder: {weights_dir()}")
    return 1 if any(w.startswith("skipped") for _, w in report) else 0
