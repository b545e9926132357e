#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test (CTest over
# Qt Test executables, offscreen). Usage: bash scripts/run-tests.sh [ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
build=${AUTOGLM_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAUTOGLM_BUILD_GUI=ON -DAUTOGLM_BUILD_TESTS=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "$build" --output-on-failure --timeout 900 "$@"
# Sanitizers and fuzzers: core's tests under ASan+UBSan, each fuzzer 60 s.
bash scripts/run-sanitizers.sh
