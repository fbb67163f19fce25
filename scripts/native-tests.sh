#!/usr/bin/env bash
# Configures, builds (build-native/, no Node headers) and runs the C++ kernel tests under
# every ISA this CPU supports. Arguments after -- filter the tests by name.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node test/native-tests.js "$@"
