# Fresh machine: `make demo` (set up + run the demo benchmark), `make test` (set up + run tests).
# The venv gets the core install plus the extras the test suite exercises (dev, learned, diffusion);
# `pip install mgld-bench` alone runs the demo (see README, Install).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The demo: two methods (bicubic and nearest-neighbour), fidelity and temporal metrics.
DEMO_ARGS := --methods bicubic,nearest --metrics psnr,ssim,warping-error,tof

.PHONY: demo test lint bench chromium clean-venv

$(BIN)/mgld-bench: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,learned,diffusion,ray]'
	touch $@

demo: $(BIN)/mgld-bench
	$(BIN)/mgld-bench run $(DEMO_ARGS) --out reports/demo
	@echo "Open reports/demo/report.html in a browser."

# The CI regression gate: the demo benchmark, recomputed with an empty cache, must match the
# committed reference results (see docs/reports.md); then the test suite.
test: $(BIN)/mgld-bench chromium
	$(BIN)/ruff check .
	rm -rf reports/ci
	$(BIN)/mgld-bench run $(DEMO_ARGS) --out reports/ci --cache-dir reports/ci/cache --no-progress
	$(BIN)/mgld-bench compare reports/ci reports/reference/demo-synthetic-bicubic.csv \
		--junit reports/ci/compare-junit.xml --report reports/ci/compare.md
	$(BIN)/python -m pytest -q

# The HTML report's browser test needs Debian's chromium (driven by Playwright, never a downloaded
# browser).  CI runs as root on a fresh Debian machine: install it there; elsewhere the test skips.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else echo "chromium missing and not root: the browser test will be skipped (apt-get install chromium)"; fi

bench: $(BIN)/mgld-bench
	$(BIN)/python benchmarks/bench_psnr_ssim.py

clean-venv:
	rm -rf $(VENV)
