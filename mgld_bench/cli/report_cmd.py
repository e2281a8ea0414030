"""``mgld-bench report OUT``: (re)write the offline HTML page of a run, ``OUT/report.html``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from mgld_bench.report.html import HtmlOptions

    d = HtmlOptions()
    p = sub.add_parser(
        "report",
        help="write OUT/report.html: tables, frame viewer, temporal profiles, per-frame curves",
        description="Write the offline HTML page of a run (OUT/report.html, images under OUT/report_files/) "
        "from its result store and cached frames; `mgld-bench run` writes it too (unless --no-html).",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the run folder (--out of `mgld-bench run`)")
    p.add_argument("--frames", type=int, default=d.frames, help=f"frames per clip in the viewer, 0 = all ({d.frames})")
    p.add_argument("--preview-width", type=int, default=d.preview_width, help=f"max preview px ({d.preview_width})")
    p.add_argument("--image-format", choices=("webp", "jpeg"), default=d.preview_format, help="previews and profiles")
    p.add_argument("--quality", type=int, default=d.quality, help=f"preview quality 1-100 (default {d.quality})")
    p.add_argument(
        "--zoom-regions", type=int, default=d.zoom_regions, help=f"zoom regions per clip (default {d.zoom_regions})"
    )
    p.add_argument("--zoom-size", type=int, default=d.zoom_size, help=f"zoom region side in px (default {d.zoom_size})")
    p.add_argument(
        "--profile-rows", type=int, default=d.profile_rows, help=f"rows offered for profiles (default {d.profile_rows})"
    )
    p.add_argument("--max-clips", type=int, default=0, help="only the first N clips get a frame viewer (default all)")
    p.add_argument("--cache-dir", help="where the SR frames are cached (default: the run's)")
    p.add_argument("--data-root", help="where the datasets are (default: the run's)")
    p.add_argument(
        "--reference", metavar="METHOD", help="a baseline method listed first; it stands in for the input panel"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.report.aggregate import resolve_store
    from mgld_bench.report.html import HtmlOptions, write_html_report

    store = resolve_store(args.out)
    options = HtmlOptions(
        frames=args.frames,
        preview_width=args.preview_width,
        preview_format=args.image_format,
        quality=args.quality,
        zoom_regions=args.zoom_regions,
        zoom_size=args.zoom_size,
        profile_rows=args.profile_rows,
        max_clips=args.max_clips,
        cache_dir=args.cache_dir,
        data_root=args.data_root,
        reference=args.reference,
    )
    out_dir = args.out if args.out.is_dir() else store.parent
    if store.suffix.lower() == ".csv":
        from mgld_bench.errors import BenchError

        raise BenchError(f"{store}: the HTML report needs results.sqlite (per-frame values, cache keys), not a CSV")
    path = write_html_report(out_dir, store, options)
    print(path.resolve())
    print(f"open {path.resolve().as_uri()} in a browser", file=sys.stderr)
    return 0
