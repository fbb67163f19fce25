#!/usr/bin/env node
// `npm test`: the mocha suites once, then the ISA-sensitive suites (test/isa/) once per
// ISA this machine supports (TENSORFUSE_ISA caps the kernels chosen), then the C++
// kernel tests if they were built. Exits non-zero when any run fails.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..');
const mocha = require.resolve('mocha/bin/mocha.js');
const dist = path.join(root, 'dist', 'test');

function run(label, args, env, nodeFlags = []) {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(process.execPath, [...nodeFlags, mocha, ...args], { stdio: 'inherit', env: { ...process.env, ...env }, cwd: root });
  return r.status === 0;
}

function supportedIsas() {
  const { native } = require(path.join(root, 'dist', 'lib', 'native.js'));
  const best = native.info().bestIsa;
  const ladder = { scalar: ['scalar'], avx2: ['scalar', 'avx2'], avx512: ['scalar', 'avx2', 'avx512'], neon: ['scalar', 'neon'] };
  return ladder[best] || ['scalar'];
}

// --expose-gc: the leak and async tests collect garbage before measuring / while work is in flight.
let ok = run('unit tests', ['--recursive', '--exclude', path.join(dist, 'isa', '**'), path.join(dist, '*.test.js'), path.join(dist, 'tfjs', '*.test.js')], {}, ['--expose-gc']);
if (fs.existsSync(path.join(dist, 'isa'))) {
  // The ISA the addon picks by default gets the full property runs; the lower ones share the
  // same templated kernels, so 40 % of the random cases each (TENSORFUSE_PROPERTY_RUNS_SCALE,
  // when set, applies to all) keeps the suite inside CI's time.
  const isas = supportedIsas();
  for (const isa of isas) {
    const scale = process.env.TENSORFUSE_PROPERTY_RUNS_SCALE ?? (isa === isas[isas.length - 1] ? '1' : '0.4');
    ok = run(`ISA suites under TENSORFUSE_ISA=${isa}`, [path.join(dist, 'isa', '*.test.js')], { TENSORFUSE_ISA: isa, TENSORFUSE_PROPERTY_RUNS_SCALE: scale }) && ok;
  }
}
// Last: the C++ kernel tests (build-native/ through CMake, every ISA); skipped without cmake.
// TENSORFUSE_SKIP_NATIVE_TESTS=1 leaves them out (npm run test:native runs them alone).
if (!process.env.TENSORFUSE_SKIP_NATIVE_TESTS) {
  console.log('\n=== C++ kernel tests (test/native-tests.js) ===');
  const r = spawnSync(process.execPath, [path.join(root, 'test', 'native-tests.js'), '--if-cmake'], { stdio: 'inherit', cwd: root });
  ok = r.status === 0 && ok;
}
process.exit(ok ? 0 : 1);
