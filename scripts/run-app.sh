#!/usr/bin/env bash
# Installs what is missing, builds the app and starts it on the embedded
# default model. Usage: bash scripts/run-app.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
build=${AUTOGLM_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAUTOGLM_BUILD_GUI=ON >/dev/null
cmake --build "$build" --parallel "$(nproc)" --target autoglm-studio autoglm
exec "$build/ui/autoglm-studio" "$@"
