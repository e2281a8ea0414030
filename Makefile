# Fresh machine: `make demo` (set up + run the demo benchmark), `make test` (set up + run tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean-venv

$(BIN)/mgld-bench: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,ray]'
	touch $@

demo: $(BIN)/mgld-bench
	$(BIN)/mgld-bench run --out reports/demo

# The CI regression gate: the demo benchmark, recomputed with an empty cache, must match the
# committed reference results (see docs/reports.md); then the test suite.
test: $(BIN)/mgld-bench
	$(BIN)/ruff check .
	rm -rf reports/ci
	$(BIN)/mgld-bench run --out reports/ci --cache-dir reports/ci/cache --no-progress
	$(BIN)/mgld-bench compare reports/ci reports/reference/demo-synthetic-bicubic.csv \
		--junit reports/ci/compare-junit.xml --report reports/ci/compare.md
	$(BIN)/python -m pytest -q

bench: $(BIN)/mgld-bench
	$(BIN)/python benchmarks/bench_psnr_ssim.py

clean-venv:
	rm -rf $(VENV)
