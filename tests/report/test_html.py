"""OUT/report.html: built from the store only, deterministic, escaped, and working in a real browser.

The browser test drives Debian's ``chromium`` headless through Playwright for Python (never a
downloaded browser).  ``make test`` installs chromium when it is missing; the test is skipped,
with the reason, only where no chromium or no playwright is installed.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from mgld_bench.report.html import HtmlOptions, write_html_report
from mgld_bench.report.html.assets import pick_regions, profile_rows, sample_frames
from mgld_bench.report.html.page import esc, json_for_script

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVIL_CLIP = "<script>alert(1)</script>"
EVIL_METHOD = "<img src=x onerror=alert(2)>"


def no_run_figures(mp: pytest.MonkeyPatch) -> None:
    """Leave out the run's matplotlib figures (OUT/figures/, tested in test_report_cli): most of a
    small run's time, and nothing the page uses."""
    import mgld_bench.report.run_reports as rr

    mp.setattr(rr, "write_run_figures", lambda *a, **k: ([], True))


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Two methods on two small synthetic clips (6 frames of 64x64), psnr, ssim, warping error.

    Made once per module, on the CPU (no torch import), without the run's matplotlib figures.
    """
    root = tmp_path_factory.mktemp("html")
    mp = pytest.MonkeyPatch()
    mp.setenv("MGLD_BENCH_CACHE", str(root / "cache"))
    mp.setenv("TQDM_DISABLE", "1")
    no_run_figures(mp)
    try:
        args = ["run", "--methods", "bicubic,nearest", "--metrics", "psnr,ssim,warping_error",
                "--set", "synthetic.size=64", "--set", "synthetic.frames=6", "--clips", "pan,zoom",
                "--out", str(root / "out"), "--no-progress", "--device", "cpu"]
        assert main(args) == 0
    finally:
        mp.undo()
    return root


def evil_copy(src: Path, dest: Path) -> Path:
    """A copy of the run whose clip ``pan`` and method ``nearest`` carry HTML in their names."""
    dest.mkdir(parents=True)
    shutil.copy(src / "results.sqlite", dest / "results.sqlite")
    db = sqlite3.connect(dest / "results.sqlite")
    with db:
        for table in ("clip_scores", "frame_scores"):
            db.execute(f"UPDATE {table} SET clip = ? WHERE clip = 'pan'", (EVIL_CLIP,))
            db.execute(f"UPDATE {table} SET method = ? WHERE method = 'nearest'", (EVIL_METHOD,))
    db.close()
    return dest


# -- pure functions ------------------------------------------------------------------------------
def test_sampling_rows_and_escaping():
    assert sample_frames(100, 5) == [0, 25, 50, 74, 99]  # round(i * 99 / 4), first and last kept
    assert sample_frames(4, 8) == [0, 1, 2, 3]
    assert sample_frames(10, 0) == list(range(10))
    assert profile_rows(100, 3) == [25, 50, 75]
    assert esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    text = json_for_script({"name": "</script><script>alert(1)</script>", "v": 1.5})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "v": 1.5}


def test_zoom_region_is_where_the_outputs_differ():
    gt = np.zeros((96, 128, 3), np.uint8)
    sr = gt.copy()
    sr[40:72, 80:112] = 200  # the only difference: a 32x32 block at x=80, y=40
    (x, y, w, h), *_ = pick_regions([sr], gt, 2, 32)
    assert (w, h) == (32, 32)
    assert abs(x - 80) <= 8 and abs(y - 40) <= 8  # found on the search grid (step side/4)


def test_zoom_regions_rank_boxes_by_numpy_float32_channel_means():
    """The regions are those of the plain float32 formula (mean over channels, |SR - GT| mean
    over frames, box sums on the search grid), searched here by brute force."""
    rng = np.random.default_rng(4)
    gt = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    srs = [np.clip(gt.astype(int) + rng.integers(-9, 10, gt.shape), 0, 255).astype(np.uint8) for _ in range(2)]
    srs[1][8:24, 36:52] = 255 - srs[1][8:24, 36:52]
    err = np.abs(np.stack([s.astype(np.float32).mean(axis=2) for s in srs]) - gt.astype(np.float32).mean(axis=2))
    err = err.mean(axis=0).astype(np.float64)
    side, step = 16, 4
    sums = {(x, y): err[y : y + side, x : x + side].sum() for y in range(0, 48 - side + 1, step)
            for x in range(0, 64 - side + 1, step)}
    best = max(sums, key=sums.get)
    (x, y, w, h), *_ = pick_regions(srs, gt, 2, side)
    assert (x, y, w, h) == (*best, side, side)


# -- the page --------------------------------------------------------------------------------------
def test_run_writes_the_page_and_report_rewrites_it_identically(small_run, tmp_path, capsys):
    out = small_run / "out"
    page = out / "report.html"
    assert page.is_file()
    text = page.read_text()
    # the results table shows the store's values, best marked, with the metric's arrow
    db = sqlite3.connect(out / "results.sqlite")
    means = dict(db.execute("SELECT method, AVG(value) FROM clip_scores WHERE metric='psnr' GROUP BY method"))
    db.close()
    assert f"<strong>{means['bicubic']:.2f}</strong>" in text and f"{means['nearest']:.2f}" in text
    assert "PSNR↑ (dB)" in text and "E*warp↓" in text  # display names from the declared facts
    files = sorted(p.relative_to(out).as_posix() for p in (out / "report_files").rglob("*") if p.is_file())
    linked = set(re.findall(r'"(report_files/[^"]+)"', text.replace("\\u002f", "/")))
    assert linked and linked <= set(files)
    # same store -> same bytes, wherever it is written
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(out / "results.sqlite", copy / "results.sqlite")
    assert main(["report", str(copy)]) == 0
    assert Path(capsys.readouterr().out.strip()) == (copy / "report.html").resolve()
    assert (copy / "report.html").read_bytes() == page.read_bytes()
    for rel in files:
        assert (copy / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_options_bound_the_assets_and_stale_files_go(small_run, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    shutil.copy(small_run / "out" / "results.sqlite", out / "results.sqlite")
    write_html_report(out, options=HtmlOptions(frames=2, preview_width=32, zoom_regions=1, profile_rows=1,
                                               reference="bicubic"))  # bicubic stands in for the input panel
    previews = sorted((out / "report_files").rglob("f*.jpg"))
    assert len(previews) == 2 * 3 * 2  # 2 clips x (GT + 2 methods) x 2 frames
    from PIL import Image

    assert {Image.open(p).size for p in previews} == {(32, 32)}
    assert len(list((out / "report_files").rglob("*_r*.png"))) == 2 * 3 * 2
    write_html_report(out, options=HtmlOptions(frames=1, reference="bicubic"))
    assert len(list((out / "report_files").rglob("f*.jpg"))) == 2 * 3 * 1  # the old frames were removed
    with pytest.raises(Exception, match="preview format"):
        write_html_report(out, options=HtmlOptions(preview_format="gif"))


def test_a_warm_report_decodes_nothing_and_a_changed_input_rewrites_its_files(small_run, tmp_path, monkeypatch):
    import mgld_bench.report.html.assets as assets
    from mgld_bench.frames import FrameSequence

    monkeypatch.setenv("MGLD_BENCH_CACHE", str(small_run / "cache"))
    out = tmp_path / "inc"
    out.mkdir()
    shutil.copy(small_run / "out" / "results.sqlite", out / "results.sqlite")
    write_html_report(out)
    files = lambda root: {p.relative_to(root).as_posix(): p for p in root.rglob("report_files/**/*") if p.is_file()}  # noqa: E731
    first = {rel: p.stat().st_mtime_ns for rel, p in files(out).items()}
    encoded: list[str] = []
    real_encode = assets.encode
    monkeypatch.setattr(
        assets, "encode", lambda image, fmt, *a, **k: encoded.append(fmt) or real_encode(image, fmt, *a, **k)
    )

    def no_decoding(self, index):
        raise AssertionError(f"{self.label}: frame {index} decoded by a warm report")

    with monkeypatch.context() as m:
        m.setattr(FrameSequence, "__getitem__", no_decoding)
        write_html_report(out)  # nothing changed: no frame decoded, no file written
    assert encoded == [] and {rel: p.stat().st_mtime_ns for rel, p in files(out).items()} == first

    # an input changes: bicubic's results now point at nearest's cached outputs
    db = sqlite3.connect(out / "results.sqlite")
    with db:
        db.execute("UPDATE clip_scores SET infer_key = (SELECT n.infer_key FROM clip_scores n WHERE n.method = "
                   "'nearest' AND n.clip = clip_scores.clip LIMIT 1) WHERE method = 'bicubic'")
    db.close()
    write_html_report(out)
    after = files(out)
    assert encoded and len(encoded) < len(after)  # only what depends on bicubic's frames (and the new crops)
    gt_previews = [rel for rel in after if "/gt-" in rel and rel.endswith(".jpg")]
    assert gt_previews and all(first.get(rel) == after[rel].stat().st_mtime_ns for rel in gt_previews)
    # ... and the folder equals a report written from scratch of the changed store
    cold = tmp_path / "cold"
    cold.mkdir()
    shutil.copy(out / "results.sqlite", cold / "results.sqlite")
    write_html_report(cold)
    assert set(files(cold)) == set(after)
    assert all(p.read_bytes() == (cold / rel).read_bytes() for rel, p in after.items())
    assert (cold / "report.html").read_bytes() == (out / "report.html").read_bytes()


def test_weight_digests_under_the_table(small_run, tmp_path):
    import hashlib
    from types import SimpleNamespace

    from mgld_bench.runner.plan import weight_digests

    # the run records a declared file's sha256 (hashlib over its bytes is the reference)
    blob = tmp_path / "net.pth"
    blob.write_bytes(b"stand-in weights")
    sha = hashlib.sha256(b"stand-in weights").hexdigest()
    files = [SimpleNamespace(name="net.pth", path=lambda: blob), SimpleNamespace(name="gone.pth",
                                                                                path=lambda: tmp_path / "gone.pth")]
    assert weight_digests(files) == {"gone.pth": "missing", "net.pth": sha}
    # the demo-like run recorded that its methods and metrics load no weights
    text = (small_run / "out" / "report.html").read_text()
    assert "no weight files: bicubic, nearest, psnr, ssim, warping-error" in text
    # a store whose run recorded a digest: 12 digits shown, all 64 in the tooltip
    out = tmp_path / "w"
    out.mkdir()
    shutil.copy(small_run / "out" / "results.sqlite", out / "results.sqlite")
    db = sqlite3.connect(out / "results.sqlite")
    with db:
        (prov,) = db.execute("SELECT provenance FROM runs").fetchone()
        prov = json.loads(prov)
        prov["weights"]["methods"]["bicubic"] = {"net.pth": sha}
        db.execute("UPDATE runs SET provenance = ?", (json.dumps(prov),))
    db.close()
    text = write_html_report(out).read_text()
    notes = text[text.index('class="note weights"') : text.index('id="problems"')]
    assert f'title="sha256 {sha}">sha256:{sha[:12]}</code>' in notes and "method <strong>bicubic</strong>" in notes
    assert "no weight files: nearest, psnr" in notes


def test_no_html_and_missing_frames(tmp_path, capsys, monkeypatch):
    out = tmp_path / "nohtml"
    no_run_figures(monkeypatch)
    args = ["run", "--methods", "bicubic", "--metrics", "psnr", "--set", "synthetic.size=64", "--set",
            "synthetic.frames=6", "--clips", "pan", "--out", str(out), "--no-progress", "--no-html",
            "--device", "cpu", "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    assert not (out / "report.html").exists() and "report page" not in capsys.readouterr().err
    # frames gone from the cache: the page still comes, naming the clip and the fix
    shutil.rmtree(tmp_path / "c")
    write_html_report(out)
    text = (out / "report.html").read_text()
    assert re.search(r"frames of synthetic[^<]*/pan", text) and "not in the cache" in text and "--cache-dir" in text
    assert 'class="viewer"' not in text and "<svg" in text  # the curves need only the store


def test_names_from_the_store_are_escaped(small_run, tmp_path):
    out = evil_copy(small_run / "out", tmp_path / "evil")
    import os

    os.environ["MGLD_BENCH_CACHE"] = str(small_run / "cache")
    text = write_html_report(out).read_text()
    assert EVIL_CLIP not in text and EVIL_METHOD not in text
    assert esc(EVIL_CLIP) in text and esc(EVIL_METHOD) in text
    assert text.count("<script") == 2  # the data block and the page's own script


# -- in a real browser ------------------------------------------------------------------------------
def browser():
    if not CHROMIUM.is_file():
        pytest.skip("no /usr/bin/chromium: install it with `apt-get install -y chromium` (make test does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[dev]'")
    return sync_playwright


def test_page_in_chromium(small_run, tmp_path):
    sync_playwright = browser()
    import os

    os.environ["MGLD_BENCH_CACHE"] = str(small_run / "cache")
    out = evil_copy(small_run / "out", tmp_path / "page")
    page_path = write_html_report(out)
    db = sqlite3.connect(out / "results.sqlite")
    psnr = dict(db.execute("SELECT method, AVG(value) FROM clip_scores WHERE metric='psnr' GROUP BY method"))
    db.close()
    problems, dialogs = [], []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = b.new_page(viewport={"width": 1280, "height": 800})
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(tmp_path / "report-1280x800.png"))

            # the table sorts: PSNR clicked twice = ascending, the worse method first
            table = page.locator("#results .view[data-view=means] table").first
            header = table.locator("thead th", has_text="PSNR")
            order = lambda: table.locator("tbody th[scope=row]").all_text_contents()  # noqa: E731
            header.click()
            assert order() == sorted(psnr, key=lambda m: -psnr[m])
            header.click()
            assert order() == sorted(psnr, key=lambda m: psnr[m])
            assert header.get_attribute("aria-sort") == "ascending"
            # per-clip view: sorting keeps numbers monotone
            page.locator(".toggle button[data-view=clips]").click()
            clip_table = page.locator("#results .view[data-view=clips] table").first
            clip_table.locator("thead th", has_text="SSIM").click()
            values = [float(v) for v in clip_table.locator("tbody td[data-v]").evaluate_all(
                "(tds) => tds.filter(td => td.cellIndex === 3).map(td => td.dataset.v)")]
            assert values == sorted(values, reverse=True) and len(values) == 4

            # the malicious clip name is text, and nothing ran
            names = page.locator("section.clip h2 .clip-name").all_text_contents()
            assert EVIL_CLIP in names
            assert page.locator("img[src=x]").count() == 0 and dialogs == []
            assert EVIL_METHOD in page.locator("section.clip select.sel-a").first.inner_text()

            # a clip with frames: drag the divider, change the frame
            section = page.locator("section.clip", has=page.locator(".viewer")).first
            section.scroll_into_view_if_needed()
            box = section.locator(".viewer").bounding_box()
            handle = section.locator(".divider").bounding_box()  # grab the divider itself
            y = handle["y"] + handle["height"] / 2
            page.mouse.move(handle["x"] + handle["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=4)
            page.mouse.up()
            left = float(section.locator(".divider").evaluate("(d) => parseFloat(d.style.left)"))
            assert 15 < left < 25, left
            clip = section.locator(".img-b").evaluate("(i) => i.style.clipPath")
            assert re.fullmatch(r"inset\(0(px)? 0(px)? 0(px)? (\d+(\.\d+)?)%\)", clip), clip
            assert abs(float(re.findall(r"([\d.]+)%", clip)[0]) - left) < 0.01
            before = section.locator(".img-a").get_attribute("src")
            crop_before = section.locator(".crops img").first.get_attribute("src")
            section.hover()
            page.keyboard.press("ArrowRight")
            after = section.locator(".img-a").get_attribute("src")
            assert after != before and re.search(r"/f00001-[0-9a-f]{12}\.jpg$", after), (before, after)
            assert section.locator(".crops img").first.get_attribute("src") != crop_before
            assert "frame 1" in section.locator(".frame-label").inner_text()
            # the per-frame table shows this frame's value from the store
            db = sqlite3.connect(out / "results.sqlite")
            clip_name = section.locator("h2 .clip-name").inner_text()
            (v,) = db.execute(
                "SELECT value FROM frame_scores WHERE clip=? AND method='bicubic' AND metric='psnr' AND frame=1",
                (clip_name,),
            ).fetchone()
            db.close()
            cells = section.locator(".frame-metrics tr", has_text="bicubic").locator("td").all_text_contents()
            assert f"{v:.2f}" in cells or (math.isinf(v) and "inf" in cells)
            # the profile row buttons swap the profile images
            src = section.locator(".profiles img").first.get_attribute("src")
            section.locator(".rows button").nth(1).click()
            assert section.locator(".profiles img").first.get_attribute("src") != src
            page.screenshot(path=str(tmp_path / "report-viewer-1280x800.png"))
        finally:
            b.close()
    assert problems == [], problems
    assert (tmp_path / "report-1280x800.png").stat().st_size > 0


def test_nearest_baseline_replicates_pixels(rng):
    from PIL import Image

    from baselines.bicubic import Nearest
    from mgld_bench.methods.base import RunContext
    from tests.fakes import clip_of

    lr = rng.integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    clip = clip_of(list(lr), dataset="d")
    out = list(Nearest().run(clip, RunContext()))
    for frame, sr in zip(lr, out, strict=True):  # Pillow's nearest resize is the independent reference
        assert np.array_equal(sr, np.asarray(Image.fromarray(frame).resize((28, 20), Image.Resampling.NEAREST)))


def test_unavailable_metrics_and_failed_jobs_come_with_their_fix(small_run, tmp_path):
    out = tmp_path / "problems"
    out.mkdir()
    shutil.copy(small_run / "out" / "results.sqlite", out / "results.sqlite")
    db = sqlite3.connect(out / "results.sqlite")
    with db:
        db.execute(
            "INSERT INTO unavailable VALUES ('r', 'synthetic', 'bicubic', 'lpips', ?)",
            ("weight file a.pth missing at /w/a.pth: run `mgld-bench weights fetch a.pth` from https://x",),
        )
        (prov,) = db.execute("SELECT provenance FROM runs").fetchone()
        failures = ["method realbasicvsr cannot run: <weights> missing"]
        argv = ["/venv/bin/mgld-bench", "run", "--methods", "bicubic,nearest", "--out", "o u t"]
        db.execute(
            "UPDATE runs SET provenance = ?, argv = ?",
            (json.dumps({**json.loads(prov), "failures": failures}), json.dumps(argv)),
        )
    db.close()
    text = write_html_report(out, options=HtmlOptions(max_clips=1)).read_text()
    problems = text[text.index('id="problems"') : text.index('id="provenance"')]
    assert "lpips on synthetic (bicubic)" in problems
    assert "<code>mgld-bench weights fetch a.pth</code>" in problems
    assert "method realbasicvsr cannot run: &lt;weights&gt; missing" in problems
    assert "<code>mgld-bench run --methods bicubic,nearest --out &#x27;o u t&#x27;</code>" in problems  # rerun
    assert text.count('class="viewer"') == 1  # max_clips
