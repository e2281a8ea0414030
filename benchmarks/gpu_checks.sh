#!/usr/bin/env bash
# The GPU checks of issue #15 as one short script (about 6-8 minutes on one H200, 16 cores).
#
# 1. Where the network is (the CPU machine), once:   bash benchmarks/gpu_checks.sh --prepare
#    downloads the pure-Python wheels the GPU image lacks (pyiqa, lpips, piq, platformdirs) and a
#    wheel of mgld-bench itself (for its entry points) into .whl/ (git-ignored through
#    .git/info/exclude).
# 2. On the GPU machine (no network; its python3 holds torch):  bash benchmarks/gpu_checks.sh
#    With the session's `run` device tool: command `bash benchmarks/gpu_checks.sh`, carry [".whl"],
#    timeout_s 600.  It installs nothing from the network: the wheels go to /tmp/site, and the
#    working tree comes first on PYTHONPATH (the wheel only provides metadata and entry points).
#    Output goes to stdout and, when $OUT is set, to $OUT/gpu_checks.log and $OUT/bench_suite_cuda.md.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ "${1:-}" = "--prepare" ]; then
    set -e
    PIP=${PIP:-.venv/bin/python -m pip}
    rm -rf .whl && mkdir -p .whl
    exclude=$(git rev-parse --git-path info/exclude)
    grep -qx '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >>"$exclude"
    $PIP download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl pyiqa==0.1.16 lpips==0.1.4 piq==0.8.0 platformdirs==4.14.8
    $PIP wheel -q --no-deps -w .whl .
    ls -la .whl
    echo "now: run tool, command 'bash benchmarks/gpu_checks.sh', carry ['.whl'], timeout_s 600"
    exit 0
fi

LOG=/dev/null
if [ -n "${OUT:-}" ]; then LOG="$OUT/gpu_checks.log"; fi
exec > >(tee -a "$LOG") 2>&1
export PYTHONUNBUFFERED=1 HF_ENDPOINT=http://127.0.0.1:9 BENCH_THREADS=$(nproc)
step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }

step "setup"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || echo "pip install of .whl failed"
fi
export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import torch, mgld_bench, pyiqa, lpips; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), \
torch.cuda.get_device_name() if torch.cuda.is_available() else '-'); print('mgld_bench from', mgld_bench.__file__)" \
    || { echo "setup failed: run 'bash benchmarks/gpu_checks.sh --prepare' on the CPU machine and carry .whl"; exit 1; }

step "pytest -m cuda (tests that need a CUDA device)"
timeout 120 $PY -m pytest -q -m cuda -p no:cacheprovider --continue-on-collection-errors tests/metrics/test_device_inputs.py
echo "pytest rc=$?"

step "bench_suite --device cuda: learned metrics and the whole suite beside pyiqa on CUDA (720p)"
SUITE_LOG=/dev/null
if [ -n "${OUT:-}" ]; then SUITE_LOG="$OUT/bench_suite_cuda.md"; fi
timeout 300 $PY benchmarks/bench_suite.py --device cuda --frames "${SUITE_FRAMES:-8}" --rounds 1 | tee "$SUITE_LOG"
echo "bench_suite rc=$?"

step "bench_baselines (RealBasicVSR fp32/fp16 on CUDA)"
timeout 90 $PY benchmarks/bench_baselines.py --frames 1 --cuda-frames 30
echo "bench_baselines rc=$?"

step "bench_mgld --mgld --device cuda (tiny random checkpoints)"
timeout 90 $PY benchmarks/bench_mgld.py --mgld --device cuda --precisions fp32,fp16
echo "bench_mgld rc=$?"
step "done"
