"""``mgld-bench data fetch|verify|prepare NAME --root DIR``: get, check and synthesise datasets."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data", help="download, verify and prepare datasets (REDS4, VideoLQ, UDM10, SPMCS)")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("name", help="dataset: reds4, reds4-bicubic, videolq, udm10, spmcs")
        q.add_argument("--root", help="data root (default $MGLD_BENCH_DATA); the same folder as run --data-root")

    f = dsub.add_parser("fetch", help="download and extract a dataset (resumes; checks sha256)")
    common(f)
    f.add_argument("--mirror", help="base URL to download the archives from instead of the manifest's")
    f.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a connection (default 10)")
    f.set_defaults(func=run_fetch)

    v = dsub.add_parser("verify", help="check frame counts, sizes and checksums; list what is missing or extra")
    common(v)
    v.add_argument("--record", action="store_true", help="record sha256 of every frame where none are recorded yet")
    v.set_defaults(func=run_verify)

    r = dsub.add_parser("prepare", help="synthesise the seeded LR set from the GT")
    common(r)
    r.add_argument("--seed", type=int, default=0, help="seed of the degradation (default 0)")
    r.add_argument("--degradation", default="realbasicvsr", help="realbasicvsr (default), mgld or bicubic")
    r.add_argument("--force", action="store_true", help="remake the set even if it exists")
    r.set_defaults(func=run_prepare)


def _dataset(args: argparse.Namespace):
    from mgld_bench.datasets.standard import ManifestDataset
    from mgld_bench.errors import BenchError
    from mgld_bench.registry import DATASETS

    cls = DATASETS.load(args.name)
    if not (isinstance(cls, type) and issubclass(cls, ManifestDataset)):
        raise BenchError(
            f"`data` works on the datasets with manifests (reds4, reds4-bicubic, videolq, udm10, spmcs, ...); "
            f"{args.name!r} reads its files directly"
        )
    ds = DATASETS.create(args.name, root=args.root or "")  # an entry's parameters (lr=bd) included
    ds.root  # noqa: B018 - raises when neither --root nor $MGLD_BENCH_DATA is set
    return ds


def run_fetch(args: argparse.Namespace) -> int:
    from mgld_bench.datasets.fetch import fetch

    ds = _dataset(args)
    for line in fetch(ds.manifest, ds.root, mirror=args.mirror, timeout=args.timeout, lr=ds.options["lr"]):
        print(line)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from mgld_bench.datasets.verify import verify

    ds = _dataset(args)
    report = verify(ds, record=args.record)
    for line in report.info:
        print(line)
    for line in report.problems:
        print(f"PROBLEM: {line}")
    print(f"{ds.manifest.name}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}")
    return 0 if report.ok else 1


def run_prepare(args: argparse.Namespace) -> int:
    from mgld_bench.datasets.prepare import prepare

    ds = _dataset(args)
    folder = prepare(ds, degradation=args.degradation, seed=args.seed, force=args.force)
    print(f"prepared {Path(folder)}")
    return 0
