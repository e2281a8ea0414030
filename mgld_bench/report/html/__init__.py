"""``OUT/report.html``: one offline page to open after a run.

:func:`write_html_report` reads the result store (and, for images, the run's cached SR frames and
the dataset's GT/LR through :mod:`mgld_bench.report.frame_sources`) and writes the page plus its
image files under ``OUT/report_files/``.  No CDN, no server: the stylesheet and the script are
inlined, images are relative files.  The page is a pure function of the store and the options
(no clock, no absolute output path in it): the same store gives the same bytes.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mgld_bench.errors import BenchError

if TYPE_CHECKING:
    from mgld_bench.report.curves import CutMarks

PAGE_NAME = "report.html"
FILES_DIR = "report_files"
PREVIEW_FORMATS = ("jpeg", "webp")


@dataclass(frozen=True)
class HtmlOptions:
    """What bounds the page's size (defaults keep a REDS4 run with 3 methods under ~50 MB)."""

    #: frames per clip shown in the viewer (spread evenly, first and last included); 0 = all
    frames: int = 8
    #: previews are downscaled to at most this width (zoom crops stay at native resolution)
    preview_width: int = 960
    #: previews and profiles: ``jpeg`` (fast to encode) or ``webp`` (~30 % smaller, ~20x slower)
    preview_format: str = "jpeg"
    quality: int = 80
    #: quality of the temporal profiles (native width, every frame)
    profile_quality: int = 90
    #: zoom regions per clip (the boxes where the outputs disagree most), PNG crops at native size
    zoom_regions: int = 2
    zoom_size: int = 160
    #: rows offered for the temporal profiles
    profile_rows: int = 3
    #: clips that get a frame viewer (first ones in dataset/clip order); 0 = every clip
    max_clips: int = 0
    #: threads reading and encoding sources, over all clips (0 = one per CPU core, at most 4)
    workers: int = 0
    #: where to look for the SR frames and the dataset (default: what the run recorded)
    cache_dir: str | None = None
    data_root: str | None = None
    #: a baseline method listed first, standing in for the input panel (``--reference``)
    reference: str | None = None

    def check(self) -> HtmlOptions:
        if self.preview_format not in PREVIEW_FORMATS:
            raise BenchError(
                f"HTML report: preview format {self.preview_format!r} is not one of {', '.join(PREVIEW_FORMATS)}"
            )
        for name in ("frames", "preview_width", "zoom_regions", "zoom_size", "profile_rows", "max_clips", "workers"):
            if int(getattr(self, name)) < 0:
                raise BenchError(f"HTML report: {name} must be >= 0, got {getattr(self, name)}")
        if not 1 <= self.quality <= 100 or not 1 <= self.profile_quality <= 100:
            raise BenchError("HTML report: quality must be between 1 and 100")
        return self


def write_html_report(
    out_dir: Path | str,
    store_path: Path | str | None = None,
    options: HtmlOptions | None = None,
    *,
    snapshot: Any = None,
    profile_lines: dict[tuple[str, str, int, str], Any] | None = None,
) -> Path:
    """Write ``out_dir/report.html`` (and ``out_dir/report_files/``) from the store; return the page's path.

    ``snapshot``: a :class:`~mgld_bench.report.run_reports.Snapshot` of this store already read
    (``run`` passes the one its tables came from, with the tables made), so nothing is read twice.
    ``profile_lines``: filled, for each source whose frames this call decodes in full (a missing
    profile image), with its exact middle-row profile (row H // 2, (T, W, 3) uint8), keyed by
    (dataset, clip, source index, label): ``run`` draws its profile figure from them.
    """
    from mgld_bench.report.aggregate import load_clip_scores, load_unavailable
    from mgld_bench.report.curves import cut_marks
    from mgld_bench.report.html import page
    from mgld_bench.report.html.assets import write_file
    from mgld_bench.report.layouts import fill_kinds, layout_table
    from mgld_bench.report.store_read import frame_scores, runs

    out_dir = Path(out_dir)
    store_path = Path(store_path) if store_path is not None else out_dir / "results.sqlite"
    if not store_path.is_file():
        raise BenchError(f"{store_path} does not exist; pass the OUT folder of a `mgld-bench run`")
    opts = (options or HtmlOptions()).check()
    if snapshot is not None:
        df, na, frames_df = fill_kinds(snapshot.clip_df), snapshot.unavailable_df, snapshot.frame_df
    else:
        df, na, frames_df = fill_kinds(load_clip_scores(store_path)), load_unavailable(store_path), None
    run_rows = runs(store_path)
    pairs = sorted(set(zip(df["dataset"], df["clip"], strict=True)))
    methods = sorted(set(df["method"]), key=lambda n: (n != opts.reference, n))
    colours = {m: page.PALETTE[i % len(page.PALETTE)] for i, m in enumerate(methods)}

    notes: list[str] = []
    means_html = clips_html = ""
    table = None
    if df.empty:
        means_html = clips_html = "<p>The store holds no results yet.</p>"
    else:
        try:
            if snapshot is not None:
                table, per_clip = snapshot.table("generic"), snapshot.table("generic", per_clip=True)
            else:
                table = layout_table(df, "generic", unavailable=na)
                per_clip = layout_table(df, "generic", per_clip=True)
            means_html = page.means_tables(table)
            clips_html = page.per_clip_tables(per_clip, pairs)
            notes = table.notes
        except BenchError as exc:
            means_html = clips_html = f'<p class="error">{page.esc(exc)}</p>'

    problems = _problems(na, run_rows)
    files_root = out_dir / FILES_DIR
    referenced: set[str] = set()
    if frames_df is None:  # as read_snapshot reads them
        from mgld_bench.report.metric_facts import canonical_metric

        frames_df = frame_scores(store_path)
        if not frames_df.empty:
            frames_df["metric"] = frames_df["metric"].map(canonical_metric)
    columns = table.columns if table is not None else []
    # every clip's files are named first (nothing decoded when they exist), then the missing ones
    # are made by one bounded pool of threads over all clips' sources
    jobs: list[Any] = []
    errors: list[str] = []
    for index, (dataset, clip) in enumerate(pairs):
        job, error = None, ""
        if opts.max_clips and index >= opts.max_clips:
            error = f"no frame viewer: only the first {opts.max_clips} clips get one (option max_clips)"
        else:
            try:
                job = _clip_job(store_path, dataset, clip, files_root, opts, profile_lines)
            except Exception as exc:  # frames evicted, dataset moved: the rest of the page still helps
                error = _frames_problem(problems, dataset, clip, exc)
        jobs.append(job)
        errors.append(error)
    from mgld_bench.report.html.assets import run_tasks

    owners = [i for i, job in enumerate(jobs) if job is not None for _ in job.tasks]
    failures = run_tasks([t for job in jobs if job is not None for t in job.tasks], opts.workers)
    for i, exc in zip(owners, failures, strict=True):
        if exc is not None and jobs[i] is not None:
            errors[i] = _frames_problem(problems, *pairs[i], exc)
            jobs[i] = None
    cuts = cut_marks(df)
    sections, toc, clip_data = [], [], []
    for index, ((dataset, clip), job, error) in enumerate(zip(pairs, jobs, errors, strict=True)):
        anchor = f"clip-{index}"
        toc.append((anchor, f"{dataset} / {clip}"))
        sub = frames_df[(frames_df["dataset"] == dataset) & (frames_df["clip"] == clip)]
        assets = None
        if job is not None:
            referenced.update(job.files)
            assets = _page_names(job.assets)
        section, data = _clip_section(index, anchor, dataset, clip, assets, error, sub, columns, colours, cuts)
        sections.append(section)
        clip_data.append(data)

    title = "mgld-bench report"
    if pairs:
        title += f": {', '.join(dict.fromkeys(d for d, _ in pairs))} · {', '.join(methods)}"
    text = page.render_page(
        title=title,
        means_html=means_html,
        clips_html=clips_html,
        notes_html=page.notes_list(notes) + (
            page.weights_notes(run_rows, methods, list(dict.fromkeys(c.metric for c in columns))) if columns else ""
        ),
        problems_html=page.problems_block(problems),
        provenance_html=page.provenance_block(run_rows),
        clip_sections=sections,
        toc=toc,
        data={"files": FILES_DIR, "clips": clip_data},
    )
    path = write_file(out_dir / PAGE_NAME, text.encode("utf-8"))
    _remove_stale(files_root, referenced)
    return path


def _clip_job(
    store_path: Path, dataset: str, clip: str, files_root: Path, opts: HtmlOptions,
    profile_lines: dict[tuple[str, str, int, str], Any] | None = None,
) -> Any:
    from mgld_bench.report.frame_sources import GT_LABEL, clip_sources
    from mgld_bench.report.html.assets import file_key, plan_clip

    sources = clip_sources(
        store_path,
        dataset,
        clip,
        cache_dir=Path(opts.cache_dir) if opts.cache_dir else None,
        data_root=opts.data_root,
        reference=opts.reference,
    )
    methods = _method_labels(store_path, dataset, clip)
    kinds = ["gt" if label == GT_LABEL and i == 0 else "method" if label in methods else "input"
             for i, (label, _) in enumerate(sources)]
    keep = None
    if profile_lines is not None:
        def keep(i: int, label: str, profile: Any) -> None:
            profile_lines[(dataset, clip, i, label)] = profile
    return plan_clip(sources, kinds, files_root, f"{file_key(dataset)}/{file_key(clip)}", opts, keep)


def _page_names(assets: Any) -> Any:
    """``assets`` with file names relative to the page."""
    from dataclasses import replace

    sources = [
        replace(
            src,
            previews=[f"{FILES_DIR}/{p}" for p in src.previews],
            crops=[[f"{FILES_DIR}/{p}" for p in row] for row in src.crops],
            profiles=[f"{FILES_DIR}/{p}" for p in src.profiles],
        )
        for src in assets.sources
    ]
    return replace(assets, sources=sources)


def _frames_problem(problems: list[tuple[str, str, str]], dataset: str, clip: str, exc: BaseException) -> str:
    """Record that a clip's frames could not be shown; the text for its section."""
    error = str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"
    problems.append(
        (f"frames of {dataset}/{clip}", error, "rerun the same <code>mgld-bench run</code> to recreate "
         "the cached outputs, or pass <code>--cache-dir</code> / <code>--data-root</code> to "
         "<code>mgld-bench report</code>")
    )
    return error


def _method_labels(store_path: Path, dataset: str, clip: str) -> set[str]:
    from mgld_bench.report.store_read import query

    df = query(store_path, "SELECT DISTINCT method FROM clip_scores WHERE dataset = ? AND clip = ?", (dataset, clip))
    return set(df["method"])


def _problems(na: Any, run_rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    from mgld_bench.report.html.page import fix_for

    out: list[tuple[str, str, str]] = []
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for r in na.to_dict("records"):
        grouped.setdefault((str(r["metric"]), str(r["dataset"]), str(r["reason"])), []).append(str(r["method"]))
    for (metric, dataset, reason), methods in sorted(grouped.items()):
        out.append((f"{metric} on {dataset} ({', '.join(sorted(set(methods)))})", reason, fix_for(reason)))
    if run_rows:
        last = run_rows[-1]
        failures = (last.get("provenance") or {}).get("failures") or []
        for failure in failures:
            out.append(("failed job", str(failure), fix_for(str(failure), last.get("argv"))))
    return out


def _clip_section(
    index: int, anchor: str, dataset: str, clip: str, assets: Any, error: str, frames_df: Any, columns: list[Any],
    colours: dict[str, str], cuts: CutMarks,
) -> tuple[str, dict[str, Any]]:
    """The section of one clip (viewer, zoom, profiles, curves) and the data its script reads."""
    from mgld_bench.report.html import page
    from mgld_bench.report.metric_facts import axis_labels

    esc = page.esc
    by_key: dict[tuple[str, str, str], dict[int, float]] = {}
    for row in frames_df.itertuples(index=False):
        by_key.setdefault((row.method, row.metric, row.protocol), {})[int(row.frame)] = float(row.value)
    cols = [c for c in columns if any((m, c.metric, c.protocol) in by_key for m in colours)]
    n_frames = assets.n_frames if assets is not None else (int(frames_df["frame"].max()) + 1 if len(frames_df) else 0)
    methods = [m for m in colours if any((m, c.metric, c.protocol) in by_key for c in cols)]

    curves = []
    for col in cols:
        series = [
            (m, colours[m], sorted(by_key[(m, col.metric, col.protocol)].items()))
            for m in methods
            if (m, col.metric, col.protocol) in by_key
        ]
        flagged = {m: cuts[key] for m in methods if (key := (dataset, clip, m, col.metric, col.protocol)) in cuts}
        curves.append(page.curve_svg(col.label(), series, max(n_frames, 1), x_label=axis_labels(col.metric)[0],
                                     cuts=flagged))
    curves_html = ""
    if curves:
        curves_html = (
            "<h4>Per-frame metrics</h4>"
            + page.legend([(m, colours[m]) for m in methods])
            + f'<div class="curves">{"".join(curves)}</div>'
        )

    data: dict[str, Any] = {"anchor": anchor, "viewer": assets is not None}
    parts = [f'<section class="clip" id="{anchor}" data-clip="{index}" tabindex="-1">',
             f"<h2>{esc(dataset)} / <span class=\"clip-name\">{esc(clip)}</span></h2>"]
    if error:
        parts.append(f'<p class="note">{page.code_spans(error)}</p>')
    if assets is not None:
        sources = assets.sources
        h, w = assets.size
        method_idx = [i for i, s in enumerate(sources) if s.kind == "method"]
        a = method_idx[0] if method_idx else 0
        if sources[0].kind == "gt" and a != 0:
            b = 0
        else:
            b = method_idx[1] if len(method_idx) > 1 else min(1, len(sources) - 1)
        values = {}
        for i in method_idx:
            label = sources[i].label
            values[str(i)] = [
                [page.json_number(by_key.get((label, c.metric, c.protocol), {}).get(t)) for c in cols]
                for t in assets.frames
            ]
        data.update(
            {
                "frames": assets.frames,
                "nFrames": assets.n_frames,
                "size": [h, w],
                "regions": [list(r) for r in assets.regions],
                "rows": assets.rows,
                "sources": [
                    {"label": s.label, "kind": s.kind, "previews": s.previews, "crops": s.crops, "profiles": s.profiles}
                    for s in sources
                ],
                "metrics": [{"label": c.label(), "decimals": c.decimals, "hib": c.higher_is_better} for c in cols],
                "values": values,
                "a": a,
                "b": b,
            }
        )

        def options(selected: int) -> str:
            return "".join(
                f'<option value="{i}"{" selected" if i == selected else ""}>{esc(s.label)}</option>'
                for i, s in enumerate(sources)
            )

        boxes = "".join(
            f'<button type="button" class="region" data-r="{r}" title="zoom region {r + 1}" '
            f'style="left:{100 * x / w:.3f}%;top:{100 * y / h:.3f}%;'
            f'width:{100 * bw / w:.3f}%;height:{100 * bh / h:.3f}%">'
            f"{r + 1}</button>"
            for r, (x, y, bw, bh) in enumerate(assets.regions)
        )
        last = len(assets.frames) - 1
        parts.append(
            '<div class="controls">'
            f'<label>left <select class="sel-a">{options(a)}</select></label>'
            f'<label>right <select class="sel-b">{options(b)}</select></label>'
            f'<label>frame <input type="range" class="frame" min="0" max="{last}" value="0" step="1"></label>'
            f'<output class="frame-label">frame {assets.frames[0]} '
            f"(1 of {last + 1} shown, {assets.n_frames} in the clip)</output>"
            '<span class="hint">← → change frame; drag the divider; click a numbered box to zoom</span>'
            "</div>"
            '<div class="viewer-row">'
            f'<div class="viewer" style="aspect-ratio:{w}/{h};max-width:{max(w, 640)}px">'
            f'<img class="img-a" alt="left" src="{esc(sources[a].previews[0])}">'
            f'<img class="img-b" alt="right" src="{esc(sources[b].previews[0])}" style="clip-path:inset(0 0 0 50%)">'
            f"{boxes}"
            '<div class="divider" style="left:50%" role="slider" aria-label="divider" aria-valuemin="0" '
            'aria-valuemax="100" aria-valuenow="50" tabindex="0"></div>'
            f'<span class="tag tag-a">{esc(sources[a].label)}</span>'
            f'<span class="tag tag-b">{esc(sources[b].label)}</span></div>'
            f'<div class="side"><h4>This frame</h4><table class="frame-metrics"><tbody></tbody></table>'
            f'<p class="dims">{w}×{h} px output frames</p></div>'
            "</div>"
        )
        if assets.regions:
            region_buttons = "".join(
                f'<button type="button" data-r="{r}" aria-pressed="{"true" if r == 0 else "false"}">'
                f"{r + 1}: x={x} y={y} {bw}×{bh}</button>"
                for r, (x, y, bw, bh) in enumerate(assets.regions)
            )
            crops = "".join(
                f'<figure><img alt="" src="{esc(s.crops[0][0])}"><figcaption>{esc(s.label)}</figcaption></figure>'
                for s in sources
            )
            parts.append(
                '<h4>Zoom (native resolution)</h4><div class="zoom-controls">'
                f'<span class="regions" role="group" aria-label="region">{region_buttons}</span>'
                '<label>scale <select class="zoom-scale"><option value="1">1×</option>'
                '<option value="2" selected>2×</option><option value="4">4×</option></select></label></div>'
                f'<div class="crops" style="--zoom:2">{crops}</div>'
            )
        if assets.rows:
            row_buttons = "".join(
                f'<button type="button" data-row="{i}" aria-pressed="{str(i == 0).lower()}">row {row}</button>'
                for i, row in enumerate(assets.rows)
            )
            stretch = max(1, min(8, -(-w // (4 * max(assets.n_frames, 1)))))
            profiles = "".join(
                f'<figure><figcaption>{esc(s.label)}</figcaption><div class="pbox" '
                f'style="aspect-ratio:{w}/{assets.n_frames * stretch};max-width:{max(w, 640)}px">'
                f'<img alt="" src="{esc(s.profiles[0])}"></div></figure>'
                for s in sources
            )
            parts.append(
                "<h4>Temporal profiles</h4>"
                '<p class="hint">one image row of every frame, stacked (time runs down): smooth streaks mean '
                "temporally consistent output, broken or noisy streaks mean flicker</p>"
                f'<p class="rows" role="group" aria-label="profile row">{row_buttons}</p>'
                f'<div class="profiles">{profiles}</div>'
            )
    parts.append(curves_html)
    parts.append("</section>")
    return "\n".join(parts), data


def _remove_stale(root: Path, referenced: set[str]) -> None:
    """Delete files under ``root`` the page no longer links to (a previous report's images)."""
    if not root.is_dir():
        return
    keep = set(referenced)
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if not any(root.iterdir()):
        shutil.rmtree(root, ignore_errors=True)


def note(text: str) -> None:
    print(f"mgld-bench: note: {text}", file=sys.stderr)
