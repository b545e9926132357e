#!/usr/bin/env bash
# Sanitizer checks for CI (called by the test script):
#  1. preset "asan": core's tests (tst_safetensors, tst_tokenizer, tst_vision,
#     tst_shapes, tst_engine) built with AddressSanitizer + UndefinedBehaviorSanitizer
#     (gcc) and run with CTest;
#  2. preset "fuzz": the libFuzzer targets (clang, ASan + UBSan), each run for
#     AUTOGLM_FUZZ_SECONDS (default 60) on a copy of its seed corpus (ctest -L fuzz).
# Idempotent (incremental builds in build-asan/ and build-fuzz/), prints one
# line on success, the log of the failing step otherwise; exit status non-zero
# on any failure. Environment: AUTOGLM_JOBS (default nproc), AUTOGLM_FUZZ_SECONDS,
# AUTOGLM_SANITIZE_TORCH (0: skip tst_engine).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${AUTOGLM_JOBS:-$(nproc)}
fuzz_seconds=${AUTOGLM_FUZZ_SECONDS:-60}
log=$(mktemp "${TMPDIR:-/tmp}/run-sanitizers.XXXXXX")
trap 'rm -f "$log"' EXIT
start=$SECONDS

times=""
step() {  # step NAME COMMAND...
  local what=$1 t0=$SECONDS
  shift
  : >"$log"
  if ! "$@" >"$log" 2>&1; then
    echo "run-sanitizers: FAILED: $what" >&2
    echo "  command: $*" >&2
    tail -n 150 "$log" >&2
    exit 1
  fi
  times+="${times:+, }$what $((SECONDS - t0)) s"
}

bash scripts/setup-deps.sh

# Torch-free tests; tst_engine (libtorch, which is not instrumented) is clean
# under ASan+UBSan too but needs core's torch half built with the sanitizers
# (about 8 CPU-minutes the first time): AUTOGLM_SANITIZE_TORCH=0 leaves it out.
asan_tests=(tst_safetensors tst_tokenizer tst_vision tst_shapes)
if [ "${AUTOGLM_SANITIZE_TORCH:-1}" != 0 ]; then asan_tests+=(tst_engine); fi
step "asan configure" cmake --preset asan
step "asan build" cmake --build build-asan --parallel "$jobs" --target "${asan_tests[@]}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export QT_QPA_PLATFORM=offscreen
step "asan tests" ctest --test-dir build-asan --output-on-failure --no-tests=error \
  --parallel "$jobs" -R "^($(IFS='|'; echo "${asan_tests[*]}"))\$"
unset ASAN_OPTIONS UBSAN_OPTIONS

fuzzers=(fuzz_safetensors fuzz_torch_zip fuzz_config fuzz_tokenizer fuzz_image)
step "fuzz configure" cmake --preset fuzz -DAUTOGLM_FUZZ_SECONDS="$fuzz_seconds"
step "fuzz build" cmake --build build-fuzz --parallel "$jobs" --target "${fuzzers[@]}"
step "fuzzers" ctest --test-dir build-fuzz --output-on-failure --no-tests=error \
  --parallel "$jobs" -L fuzz

echo "run-sanitizers: ok in $((SECONDS - start)) s: ${#asan_tests[@]} tests under ASan+UBSan, ${#fuzzers[@]} fuzzers x ${fuzz_seconds} s ($times)"
