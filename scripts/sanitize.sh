#!/usr/bin/env bash
# One command for the sanitizer run: builds the C++ kernel tests with AddressSanitizer +
# UndefinedBehaviorSanitizer (-DTENSORFUSE_SANITIZE=ON, build-asan/) and runs them under
# every ISA this CPU supports, with leak detection on. Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# allocator_may_return_null: the allocator tests ask for absurd sizes and expect nullptr.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
exec node test/native-tests.js --sanitize "$@"
