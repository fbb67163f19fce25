#!/usr/bin/env bash
# One command for the sanitizer run: builds the C++ kernel tests with AddressSanitizer +
# UndefinedBehaviorSanitizer (-DTENSORFUSE_SANITIZE=ON, build-asan/) and runs them under
# every ISA this CPU supports, with LeakSanitizer on; any report fails the run.
#   scripts/sanitize.sh          # ASan + UBSan + LSan
#   scripts/sanitize.sh --tsan   # ThreadSanitizer instead (build-tsan/)
# ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS from the environment override the defaults
# in test/native-tests.js.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=--sanitize
for a in "$@"; do [[ "$a" == "--tsan" ]] && mode=; done
exec node test/native-tests.js $mode "$@"
