#!/usr/bin/env bash
# One command for the JS-level sanitizer run: builds the addon itself with AddressSanitizer +
# UndefinedBehaviorSanitizer (CMake, -DTENSORFUSE_SANITIZE=ON, into build-asan-addon/) and runs
# a subset of the mocha suites against it through TENSORFUSE_ADDON, with libasan preloaded
# (node itself is not instrumented). Any ASan/UBSan report aborts the run non-zero.
#   scripts/sanitize-js.sh                 # build (incremental) + run the default subset
#   scripts/sanitize-js.sh dist/test/x.test.js ...   # other compiled suites
# detect_leaks=0: V8 and node leak on purpose at exit, which would drown LeakSanitizer; the
# leak run for tensorfuse itself is scripts/leak-check.js --valgrind (see README).
# Needs gcc's libasan and cmake. Takes ~3-5 min (build) + ~3 min (tests) on 2 cores: it is
# NOT part of `npm test` or CI (over the time budget); run it by hand after native changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-asan-addon
jobs=$(nproc 2>/dev/null || echo 2)
if [[ -z "${SKIP_BUILD:-}" ]]; then
  npx cmake-js compile --out "$out" --parallel "$jobs" -- -DTENSORFUSE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out.log" 2>&1 \
    || { tail -40 "$out.log"; echo "sanitize-js: build failed (full log: $out.log)"; exit 1; }
fi
addon=$(find "$out" -name tensorfuse.node -type f | head -1)
[[ -n "$addon" ]] || { echo "sanitize-js: no tensorfuse.node under $out"; exit 1; }
[[ -f dist/lib/index.js ]] || npx tsc -p tsconfig.json
libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
[[ -f "$libasan" ]] || { echo "sanitize-js: libasan not found ($libasan)"; exit 1; }
if [[ $# -gt 0 ]]; then suites=("$@"); else
  suites=(dist/test/fuzz.test.js dist/test/hardening-limits.test.js dist/test/concurrency.test.js
          dist/test/ops-errors.test.js dist/test/async.test.js dist/test/fusion-ops.test.js dist/test/fusion.test.js)
fi
echo "sanitize-js: $addon with $libasan; suites: ${suites[*]}"
# FUZZ_RUNS/FUZZ_MS keep the fuzz suite's share modest under ASan (a 'lying' tensor can make an op
# allocate a multi-GiB output, whose shadow ASan poisons: a single such call can take many seconds).
TENSORFUSE_ADDON="$PWD/$addon" FUZZ_RUNS="${FUZZ_RUNS:-400}" FUZZ_MS="${FUZZ_MS:-1500}" \
LD_PRELOAD="$libasan:$libubsan" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
  node --expose-gc node_modules/mocha/bin/mocha.js --timeout 120000 "${suites[@]}"
echo "sanitize-js: clean"
