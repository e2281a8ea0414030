"""Make the README's screenshot of OUT/report.html (docs/img/report.png, kept under 150 KB).

Run: .venv/bin/python benchmarks/screenshot_report.py [OUT]
Without OUT it runs the demo of `make demo` into a temporary folder first.  Needs Debian's
chromium (`apt-get install chromium`) and Playwright for Python (the dev extra); it never
downloads a browser.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "img" / "report.png"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEMO_ARGS = ["--methods", "bicubic,nearest", "--metrics", "psnr,ssim,warping_error,tof"]


def screenshot(page_path: Path) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(page_path.resolve().as_uri())
            page.wait_for_load_state("load")
            section = page.locator("section.clip").first
            section.evaluate("(s) => window.scrollTo(0, s.getBoundingClientRect().top + window.scrollY - 8)")
            section.locator(".sel-a").select_option(label="nearest")
            box = section.locator(".viewer").bounding_box()
            handle = section.locator(".divider").bounding_box()
            y = handle["y"] + handle["height"] / 2
            page.mouse.move(handle["x"] + handle["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.42, y, steps=3)
            page.mouse.up()
            page.keyboard.press("ArrowRight")
            page.keyboard.press("ArrowRight")
            return page.screenshot()
        finally:
            browser.close()


def shrink(png: bytes, width: int = 900, colours: int = 256) -> bytes:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    img = img.resize((width, round(img.height * width / img.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
    return out.getvalue()


def main() -> None:
    from mgld_bench.report.html import write_html_report

    if len(sys.argv) > 1:
        out = Path(sys.argv[1])
        page = write_html_report(out)
        data = shrink(screenshot(page))
    else:
        from mgld_bench.cli import main as cli

        with tempfile.TemporaryDirectory() as tmp:
            os.environ["MGLD_BENCH_CACHE"] = str(Path(tmp) / "cache")
            out = Path(tmp) / "demo"
            cli(["run", *DEMO_ARGS, "--out", str(out), "--no-progress"])
            data = shrink(screenshot(out / "report.html"))
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(data)
    print(f"wrote {TARGET} ({len(data) / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
