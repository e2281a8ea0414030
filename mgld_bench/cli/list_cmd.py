"""``mgld-bench list datasets|methods|metrics|protocols``: what is registered and whether it can run."""

from __future__ import annotations

import argparse
import textwrap

#: ``list`` output fits this many columns (the summary is shortened; ``--verbose`` shows all).
WIDTH = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "list", help="list registered datasets, methods, metrics or protocols",
        description=f"A table that fits {WIDTH} columns: name, whether it can run here, what it needs, and a "
        "one-line summary.  --verbose adds the whole summary, why it cannot run here and how to fix it, and "
        "who registered it.",
    )
    p.add_argument("what", choices=["datasets", "methods", "metrics", "protocols"])
    p.add_argument("-v", "--verbose", action="store_true",
                   help="every detail, one field a line: full summary, why not / how to get it (the command to "
                   "run), weight files, needs CUDA, registered by")
    p.set_defaults(func=run)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def needs(row: dict, what: str) -> str:
    """The short marks of a row: ``CUDA`` (needs a CUDA GPU), ``GPU?`` (uses one when present),
    ``weights`` (reads weight files); for metrics, the kind and direction."""
    marks = []
    if what == "methods":
        if row.get("needs_cuda"):
            marks.append("CUDA")
        elif row.get("uses_gpu"):
            marks.append("GPU?")
    if what == "metrics" and "kind" in row:
        kind = {"full-reference": "FR", "no-reference": "NR"}.get(row["kind"], row["kind"])
        marks.append(f"{kind} {'↑' if row['higher_is_better'] else '↓'}")
    if row.get("weights"):
        marks.append("weights")
    return ", ".join(marks)


def table(rows: list[dict], what: str, width: int = WIDTH) -> str:
    """The short table of ``rows`` (from :func:`mgld_bench.api.list_components`), each line at most ``width``."""
    ready = {True: "yes", False: "no", None: "opts"}
    name_w = max([len(what) - 1, *(len(r["name"]) for r in rows)])
    need_w = max([5, *(len(needs(r, what)) for r in rows)])
    head = f"{what[:-1]:<{name_w}}  {'ready':<5}  {'needs':<{need_w}}  "
    lines = [_fit(head + "summary", width), _fit("-" * width, width)]
    for r in rows:
        left = f"{r['name']:<{name_w}}  {ready[r['available']]:<5}  {needs(r, what):<{need_w}}  "
        lines.append(_fit(left + r["summary"], width).rstrip())
    legend = {
        "methods": "needs: CUDA = a CUDA GPU; GPU? = uses a GPU when present; weights = weight files "
        "(`mgld-bench weights list`).",
        "metrics": "needs: FR full-reference (needs GT), NR no-reference; ↑/↓ higher/lower is better; "
        "weights = weight files.",
        "datasets": "",
    }[what]
    notes = [legend] if legend else []
    notes.append(f"ready: opts = needs options (e.g. a path). `mgld-bench list {what} --verbose`: why not and "
                 "how to fix, full summaries.")
    for note in notes:
        lines.extend(textwrap.wrap(note, width))
    return "\n".join(lines)


def verbose(rows: list[dict], what: str, width: int = WIDTH) -> str:
    """Every detail of each row, one field a line (not wrapped, so commands and paths can be copied)."""
    out = []
    ready = {True: "yes", False: "no", None: "needs options"}
    for r in rows:
        out.append(_fit(f"{r['name']}  [{needs(r, what) or '-'}]", width))
        fields = [("summary", r["summary"]), ("can run here", ready[r["available"]])]
        if r["reason"]:
            fields.append(("why not / how to get it", r["reason"]))
        if r.get("weights"):
            fields.append(("weight files", ", ".join(r["weights"])))
        if what == "methods":
            fields.append(("needs CUDA", "yes" if r.get("needs_cuda") else "no"))
        fields.append(("registered by", r["origin"]))
        out.extend(f"  {key}: {value}" for key, value in fields)  # unwrapped: commands and paths stay copyable
        out.append("")
    return "\n".join(out).rstrip()


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from mgld_bench.protocol import PROTOCOLS

    if args.what == "protocols":
        rows = [
            [
                p.name,
                p.color_space,
                p.crop_border,
                p.frames,
                p.warp_definition,
                p.flow_backend,
                p.flow_source,
                p.description,
            ]
            for p in PROTOCOLS.values()
        ]
        print(
            tabulate(
                rows,
                headers=["protocol", "colour", "crop", "frames", "warping", "flow", "flow on", "description"],
                tablefmt="github",
            )
        )
        return 0
    from mgld_bench.api import list_components

    rows = list_components(args.what)
    print(verbose(rows, args.what) if args.verbose else table(rows, args.what))
    return 0
