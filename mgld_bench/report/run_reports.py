"""Everything ``mgld-bench run`` writes into its output folder besides the store, as a pure
function of the store.

From one consistent read of ``OUT/results.sqlite`` (:meth:`ResultStore.snapshot`), every run
rewrites, each file atomically:

* ``OUT/results.csv`` -- one row per (dataset, method, clip, metric, protocol);
* ``OUT/table.md`` -- the run summary printed on the console;
* ``OUT/tables/``: ``results.{md,tex,csv}`` (per dataset, methods × metrics), ``per_clip.md``,
  and MGLD's ``mgld-table1.{md,tex}`` / ``mgld-table2.{md,tex}`` when the store has
  image-quality / temporal metrics;
* ``OUT/figures/``: per-frame curves of up to :data:`MAX_CURVE_CLIPS` clips (SVG) and temporal
  profiles of up to :data:`MAX_PROFILE_CLIPS` clips per dataset (PNG), drawn without matplotlib
  (``mgld-bench plot`` makes the matplotlib PNG/PDF figures).

Figures are the slow part: ``OUT/.reports-stamp`` records the digest of the results they were
drawn from and the files written, and they are redrawn when the results changed or a listed
file is gone.  With ``report.html``, the page is written first and the profile figure takes the
rows it needs from the page's pass over the frames, so a cold run decodes each frame once; and
the stamp keeps a key of what each profile figure was drawn from (labels and the sources'
content digests), so new results over the same frames keep the profile without decoding.
A figure that cannot be made (frames no longer cached, dataset folder moved) is skipped with a
note -- it never fails a finished run -- and the stamp is then not written, so it is tried again
next time.  Concurrent runs into one folder take turns (a lock file), and each reads the store
after its own rows are in, so the last writer's files equal the store.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_write_text

MAX_CURVE_CLIPS = 2
MAX_PROFILE_CLIPS = 1
#: curves are SVG (the page's chart code); the profile is one PNG (:func:`~mgld_bench.report.profile.profile_image`)
RUN_CURVE_FORMATS = ("svg",)
STAMP_FILE = ".reports-stamp"
#: In the key of a run's profile figure: bump it when :func:`~mgld_bench.report.profile.profile_image` draws otherwise.
PROFILE_FIGURE = 1

CSV_COLUMNS = [
    "dataset", "method", "clip", "metric", "value", "protocol", "n_frames", "higher_is_better", "unit",
    "params", "protocol_fields", "method_identity",
]


@dataclass
class Snapshot:
    """What the reports show, read from the store in one transaction."""

    rows: list[dict[str, Any]]
    unavailable: list[dict[str, Any]]
    clip_df: Any
    unavailable_df: Any
    frame_df: Any
    #: layout_table results already made from this snapshot, by (layout, per_clip, reference)
    tables: dict[tuple[str, bool, str | None], Any] = field(default_factory=dict)

    def table(self, layout: str = "generic", per_clip: bool = False, reference: str | None = None) -> Any:
        """``layout_table`` of this snapshot, made once (unavailable rows as notes unless per clip)."""
        key = (layout, per_clip, reference)
        if key not in self.tables:
            from mgld_bench.report.layouts import layout_table

            na = None if per_clip else self.unavailable_df
            self.tables[key] = layout_table(self.clip_df, layout, per_clip=per_clip, unavailable=na,
                                            reference=reference)
        return self.tables[key]

    def stamp(self) -> str:
        """A digest of everything the reports show (run ids left out)."""
        from mgld_bench import __version__
        from mgld_bench.specs import digest

        def strip(items: list[dict]) -> list[dict]:
            return sorted(({k: v for k, v in r.items() if k != "run_id"} for r in items), key=repr)

        return digest({"version": __version__, "rows": strip(self.rows), "unavailable": strip(self.unavailable)})


@dataclass
class RunReports:
    """What :func:`write_run_reports` did."""

    table: str
    written: list[Path] = field(default_factory=list)
    figures_reused: bool = False
    #: True when some stored value is NaN (n/a).
    has_nan: bool = False
    #: ``OUT/report.html`` when it is there after this call.
    html: Path | None = None


def read_snapshot(store_path: Path) -> Snapshot:
    """Clip rows, unavailable rows and per-frame rows from one consistent read of the store."""
    import pandas as pd

    from mgld_bench.report.aggregate import normalise_clip_frame
    from mgld_bench.report.metric_facts import canonical_metric
    from mgld_bench.report.store_read import frame_frame
    from mgld_bench.store.results import CLIP_COLUMNS, ResultStore

    with ResultStore(store_path, readonly=True) as store, store.snapshot():
        rows = store.clip_rows()
        unavailable = store.unavailable_rows()
        frames = frame_frame(store)
    clip_df = normalise_clip_frame(pd.DataFrame(rows) if rows else pd.DataFrame(columns=CLIP_COLUMNS), str(store_path))
    na = pd.DataFrame(unavailable, columns=["run_id", "dataset", "method", "metric", "reason"])
    na = na[["dataset", "method", "metric", "reason"]].drop_duplicates()
    if not na.empty:
        na["metric"] = na["metric"].map(canonical_metric)
    if not frames.empty:
        frames["metric"] = frames["metric"].map(canonical_metric)
    return Snapshot(rows, unavailable, clip_df, na, frames)


@contextmanager
def _turn(out_dir: Path) -> Iterator[None]:
    """One report writer per output folder at a time (an advisory lock)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".reports.lock", "a+b") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks: writers may interleave
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_run_reports(
    out_dir: Path,
    store_path: Path | None = None,
    reference: str | None = None,
    html: bool = False,
    html_force: bool = False,
) -> RunReports:
    """Rewrite every report file of ``out_dir`` from its store; figures only when stale.

    With ``html``, ``OUT/report.html`` is rewritten too: its images are content-addressed, so
    only those whose inputs changed are encoded again (``html_force`` is accepted for callers
    that predate this and changes nothing).
    """
    out_dir = Path(out_dir)
    store_path = Path(store_path) if store_path is not None else out_dir / "results.sqlite"
    with _turn(out_dir):
        snap = read_snapshot(store_path)
        reports, stamp, previous = _write_tables(out_dir, snap, reference)
        # the page first: its pass over every frame of a clip also keeps the profile figure's rows
        lines: dict[tuple[str, str, int, str], Any] | None = {} if stamp is not None else None
        page = out_dir / "report.html"
        if html:
            _write_html(out_dir, store_path, reference, snap, lines)
        if stamp is not None:
            reports.written += _write_figures(out_dir, store_path, snap, reference, stamp, lines or {},
                                              previous.get("profiles") or {})
        reports.html = page if html and page.is_file() else None
        return reports


def _write_html(
    out_dir: Path, store_path: Path, reference: str | None, snap: Snapshot,
    lines: dict[tuple[str, str, int, str], Any] | None = None,
) -> None:
    """OUT/report.html from the snapshot the other files came from; a page that cannot be
    written is a note, never a failed run.  ``lines``: filled with the middle-row profiles of
    the clips the page decodes in full (see :func:`write_html_report`)."""
    from mgld_bench.report.html import HtmlOptions, write_html_report

    try:
        write_html_report(out_dir, store_path, HtmlOptions(reference=reference), snapshot=snap, profile_lines=lines)
    except (BenchError, OSError) as exc:
        _note(f"report.html not written: {exc}")


def _write_tables(
    out_dir: Path, snap: Snapshot, reference: str | None
) -> tuple[RunReports, str | None, dict[str, Any]]:
    """Tables and CSV; the stamp of the figures when they are stale (None: up to date), and
    the stamp file as the last writer left it.  The caller holds the folder's lock."""
    table = summary_table(snap, reference)
    written = [
        write_text(out_dir / "results.csv", results_csv(snap.rows)),
        write_text(out_dir / "table.md", table),
    ]
    written += write_run_tables(out_dir / "tables", snap, reference)
    previous = _read_stamp(out_dir / STAMP_FILE)
    stamp = snap.stamp()
    has_nan = any(math.isnan(float(r["value"])) for r in snap.rows)
    if previous.get("stamp") == stamp and all((out_dir / f).is_file() for f in previous.get("figures", [])):
        return RunReports(table, written, figures_reused=True, has_nan=has_nan), None, previous
    return RunReports(table, written, has_nan=has_nan), stamp, previous


def _write_figures(
    out_dir: Path, store_path: Path, snap: Snapshot, reference: str | None, stamp: str,
    lines: dict[tuple[str, str, int, str], Any], profiles: dict[str, str],
) -> list[Path]:
    """The figures, then the stamp (only when every figure was made), with the input key of
    each profile figure (``profiles``: the last stamp's, by file name)."""
    stamp_file = out_dir / STAMP_FILE
    keys = dict(profiles)
    figures, complete = write_run_figures(out_dir / "figures", store_path, snap, reference, lines, keys)
    if complete:
        listed = [str(p.relative_to(out_dir)) for p in figures]
        kept = {name: key for name, key in keys.items() if f"figures/{name}" in listed}
        atomic_write_text(stamp_file, json.dumps({"stamp": stamp, "figures": listed, "profiles": kept}, indent=1))
    else:
        stamp_file.unlink(missing_ok=True)
    return figures


def write_text(path: Path, text: str) -> Path:
    """Write ``path`` atomically unless it already holds exactly ``text`` (a deleted or edited
    file comes back; an unchanged one is not rewritten and synced again)."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass
    return atomic_write_text(path, text)


def _read_stamp(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def results_csv(rows: list[dict[str, Any]]) -> str:
    """One row per dataset, method, clip and metric, with the protocol that produced it."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (r["dataset"], r["method"], r["clip"], r["metric"], r["protocol"])):
        out = dict(row)
        out["value"] = repr(float(row["value"]))
        out["higher_is_better"] = int(bool(row["higher_is_better"]))
        for key in ("params", "protocol_fields", "method_identity"):
            if not isinstance(out.get(key), str):
                out[key] = json.dumps(out.get(key), sort_keys=True)
        writer.writerow(out)
    return buf.getvalue()


def no_results_text(unavailable: Any) -> str:
    """``no results``, and why: each (dataset, metric) the store says was skipped, with its reason."""
    if unavailable is None or unavailable.empty:
        return "no results\n"
    seen = unavailable.drop_duplicates(["dataset", "metric", "reason"])
    lines = [f"no results: every metric was skipped ({len(seen)} reason(s)):"]
    lines += [f"- {r.metric} on {r.dataset}: {r.reason}" for r in seen.itertuples()]
    return "\n".join(lines) + "\n"


def summary_table(snap: Snapshot, reference: str | None = None) -> str:
    """The generic results table (markdown) the run prints."""
    from mgld_bench.report.table import render

    if snap.clip_df.empty:
        return no_results_text(snap.unavailable_df)
    return render(snap.table("generic", reference=reference), "md")


def write_run_tables(folder: Path, snap: Snapshot, reference: str | None = None) -> list[Path]:
    """Generic, per-clip and MGLD-layout tables of the snapshot."""
    from mgld_bench.report.layouts import LAYOUTS
    from mgld_bench.report.table import render

    df = snap.clip_df
    if df.empty:
        return []
    written = []
    try:
        generic = snap.table("generic", reference=reference)
        for fmt in ("md", "tex", "csv"):
            written.append(write_text(folder / f"results.{fmt}", render(generic, fmt)))
        per_clip = snap.table("generic", per_clip=True, reference=reference)
        written.append(write_text(folder / "per_clip.md", render(per_clip, "md")))
    except BenchError as exc:
        _note(f"tables not written: {exc}")
        return written
    for name in ("mgld-table1", "mgld-table2"):
        kinds = LAYOUTS[name].kinds or ()
        if not df["kind"].isin(kinds).any():
            continue
        table = snap.table(name, reference=reference)
        for fmt in ("md", "tex"):
            written.append(write_text(folder / f"{name}.{fmt}", render(table, fmt, LAYOUTS[name].orientation)))
    return written


def write_run_figures(
    folder: Path, store_path: Path, snap: Snapshot, reference: str | None = None,
    lines: dict[tuple[str, str, int, str], Any] | None = None,
    profile_keys: dict[str, str] | None = None,
) -> tuple[list[Path], bool]:
    """Per-frame curves and temporal profiles of the first few clips; and whether all succeeded.

    ``lines``: middle-row profiles already made, by (dataset, clip, source index, label) (the
    page's pass over the frames); a source without one has its frames decoded here.
    ``profile_keys``: file name -> digest of what the profile figure was drawn from (labels,
    the sources' content digests, title); a figure whose key is unchanged and whose file is
    there is kept as it is (no frame decoded), and the keys of the figures drawn are put there.
    """
    keys = profile_keys if profile_keys is not None else {}
    written: list[Path] = []
    complete = True
    df = snap.clip_df
    pairs = sorted(set(zip(df["dataset"], df["clip"], strict=True))) if not df.empty else []
    if not pairs:
        return written, complete
    frames = snap.frame_df
    try:
        from mgld_bench.report.curves import cut_marks, write_clip_curves

        if not frames.empty:
            directions = {m: bool(h) for m, h in zip(df["metric"], df["higher_is_better"], strict=True)}
            with_frames = sorted(set(zip(frames["dataset"], frames["clip"], strict=True)))
            written += write_clip_curves(
                frames, folder, RUN_CURVE_FORMATS, clips=with_frames[:MAX_CURVE_CLIPS], directions=directions,
                cuts=cut_marks(df),
            )
    except Exception as exc:  # a figure must never fail a finished run; say what went wrong
        complete = False
        _note(f"per-frame curves not written: {_describe(exc)}")
    from mgld_bench.report.figures import safe_name
    from mgld_bench.report.frame_sources import clip_sources
    from mgld_bench.report.html.assets import source_digest
    from mgld_bench.report.profile import profile_title, write_profile_image
    from mgld_bench.specs import digest

    per_dataset: dict[str, int] = {}
    for dataset, clip in pairs:
        if per_dataset.get(dataset, 0) >= MAX_PROFILE_CLIPS:
            continue
        per_dataset[dataset] = per_dataset.get(dataset, 0) + 1
        try:
            sources = clip_sources(store_path, dataset, clip, reference=reference)
            path = folder / f"profile_{safe_name(dataset)}_{safe_name(clip)}.png"
            title = profile_title(dataset, clip)
            key = digest({"figure": PROFILE_FIGURE, "title": title,
                          "sources": [[label, source_digest(seq)] for label, seq in sources]})
            if keys.get(path.name) == key and path.is_file():
                written.append(path)
                continue
            made = lines or {}
            written.append(write_profile_image(
                sources, path, title=title,
                profiles=[made.get((dataset, clip, i, label)) for i, (label, _) in enumerate(sources)],
            ))
            keys[path.name] = key
        except Exception as exc:  # as above: the run's results are already safe
            complete = False
            _note(f"temporal profile of {dataset}/{clip} not written: {_describe(exc)}")
    return written, complete


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"


def _note(text: str) -> None:
    print(f"mgld-bench: note: {text}", file=sys.stderr)
