#!/usr/bin/env node
// Builds and runs the C++ kernel tests (native/tests, through CMakeLists.txt; no Node
// headers involved), once in full under the best ISA and then the dispatch-sensitive
// tests once more under every other ISA this CPU supports (TENSORFUSE_ISA caps it).
//
//   node test/native-tests.js                # build-native/, Release   (npm run test:native)
//   node test/native-tests.js --sanitize     # build-asan/, ASan + UBSan (scripts/sanitize.sh)
//   node test/native-tests.js --tsan         # build-tsan/, ThreadSanitizer (scripts/sanitize.sh --tsan)
//   node test/native-tests.js --if-cmake     # skip (exit 0) when cmake is not installed
//   node test/native-tests.js -- binary      # extra arguments after -- filter the tests
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const flags = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
const filters = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
const sanitize = flags.includes('--sanitize');
const tsan = flags.includes('--tsan');
const ifCmake = flags.includes('--if-cmake');
const buildDir = path.join(root, sanitize ? 'build-asan' : tsan ? 'build-tsan' : 'build-native');
// Tests whose result depends on the process-wide dispatch table (TENSORFUSE_ISA); the
// per-ISA micro-kernel tests already cover every ISA in one run.
const perIsaFilters = ['binary', 'ukernels_supported_isas', 'conv_sources'];

function have(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function step(label, cmd, args, env) {
  console.log(`\n--- ${label}: ${[cmd, ...args].join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.error) throw r.error;
  if (r.status !== 0) {
    const how = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    console.error(`--- ${label} failed (${how}) after ${secs} s`);
    process.exit(r.status || 1);
  }
  console.log(`--- ${label} ok (${secs} s)`);
}

if (!have('cmake')) {
  const msg = 'cmake not found: the C++ kernel tests need cmake >= 3.25 and a C++17 compiler';
  if (ifCmake) {
    console.log(`${msg}; skipped`);
    process.exit(0);
  }
  console.error(msg);
  process.exit(1);
}

// Sanitizer settings unless the caller chose their own. allocator_may_return_null: the
// allocator tests ask for absurd sizes and expect nullptr, not a sanitizer abort.
const sanitizerEnv = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:' +
    'detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:allocator_may_return_null=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
  TSAN_OPTIONS: 'halt_on_error=1:second_deadlock_stack=1:allocator_may_return_null=1',
};
for (const [k, v] of Object.entries(sanitizerEnv)) {
  if (process.env[k] === undefined) process.env[k] = v;
}

const configure = [
  '-S', root, '-B', buildDir,
  '-DTENSORFUSE_NATIVE_TESTS_ONLY=ON',
  `-DTENSORFUSE_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
  `-DTENSORFUSE_TSAN=${tsan ? 'ON' : 'OFF'}`,
  `-DCMAKE_BUILD_TYPE=${sanitize || tsan ? 'RelWithDebInfo' : 'Release'}`,
];
if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt')) && have('ninja')) configure.push('-G', 'Ninja');
step('configure', 'cmake', configure);
const jobs = String(Math.max(1, (os.availableParallelism ? os.availableParallelism() : os.cpus().length)));
step('build', 'cmake', ['--build', buildDir, '--parallel', jobs]);

const exe = path.join(buildDir, process.platform === 'win32' ? 'Release/tensorfuse_native_tests.exe' : 'tensorfuse_native_tests');
const isas = spawnSync(exe, ['--isas'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean);
if (isas.length === 0) {
  console.error(`${exe} --isas printed nothing: the test executable did not build or does not run`);
  process.exit(1);
}
const best = isas[isas.length - 1];
const env = { TENSORFUSE_ISA: best };
step(`tests (dispatch isa ${best})`, exe, filters, env);
if (filters.length === 0) {
  for (const isa of isas.slice(0, -1)) {
    step(`dispatch-sensitive tests under TENSORFUSE_ISA=${isa}`, exe, perIsaFilters, { TENSORFUSE_ISA: isa });
  }
}
console.log(`\nC++ kernel tests passed (${sanitize ? 'ASan+UBSan, ' : tsan ? 'TSan, ' : ''}ISAs: ${isas.join(', ')})`);
