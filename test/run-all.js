#!/usr/bin/env node
// `npm test`: the mocha suites once, the ISA-sensitive suites (test/isa/) once per ISA this
// machine supports (TENSORFUSE_ISA caps the kernels chosen), and the C++ kernel tests if
// cmake is there. Exits non-zero when any run fails.
//
// The runs are single-threaded processes, so they go in two lanes at once: the unit suites
// in one, a unit file or two, the C++ tests and the ISA suites in the other (about the same
// length each; the whole suite took 234 s in one lane on a 2-core machine). The first lane
// prints as it goes; the second's output is held and printed, in order, when it ends.
// TENSORFUSE_TEST_LANES=1 runs everything in one lane, in that order.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..');
const mocha = require.resolve('mocha/bin/mocha.js');
const dist = path.join(root, 'dist', 'test');

/** One step: a label, node arguments and extra environment. */
function mochaStep(label, args, env = {}, nodeFlags = []) {
  return { label, args: [...nodeFlags, mocha, ...args], env };
}

function supportedIsas() {
  const { native } = require(path.join(root, 'dist', 'lib', 'native.js'));
  const best = native.info().bestIsa;
  const ladder = { scalar: ['scalar'], avx2: ['scalar', 'avx2'], avx512: ['scalar', 'avx2', 'avx512'], neon: ['scalar', 'neon'] };
  return ladder[best] || ['scalar'];
}

// Unit files run in the second lane, to even the lanes out (in contended fresh-clone runs
// the unit suites took 157-179 s, the C++ and ISA suites 142-163 s).
const SECOND_LANE_UNIT_FILES = ['cli-bench.test.js', 'server.test.js'];

// --expose-gc: the leak and async tests collect garbage before measuring / while work is in flight.
const unitSteps = [
  mochaStep('unit tests', ['--recursive', '--exclude', path.join(dist, 'isa', '**'),
    ...SECOND_LANE_UNIT_FILES.flatMap((f) => ['--exclude', path.join(dist, f)]),
    path.join(dist, '*.test.js'), path.join(dist, 'tfjs', '*.test.js')], {}, ['--expose-gc']),
];

const otherSteps = [
  mochaStep(`unit tests (${SECOND_LANE_UNIT_FILES.join(', ')})`, SECOND_LANE_UNIT_FILES.map((f) => path.join(dist, f)), {},
    ['--expose-gc']),
];
// The C++ kernel tests (build-native/ through CMake, every ISA); skipped without cmake.
// TENSORFUSE_SKIP_NATIVE_TESTS=1 leaves them out (npm run test:native runs them alone).
if (!process.env.TENSORFUSE_SKIP_NATIVE_TESTS) {
  otherSteps.push({ label: 'C++ kernel tests (test/native-tests.js)', args: [path.join(root, 'test', 'native-tests.js'), '--if-cmake'], env: {} });
}
if (fs.existsSync(path.join(dist, 'isa'))) {
  // The ISA the addon picks by default gets the full property runs; the lower ones share the
  // same templated kernels, so 40 % of the random cases each (TENSORFUSE_PROPERTY_RUNS_SCALE,
  // when set, applies to all) keeps the suite inside CI's time.
  const isas = supportedIsas();
  for (const isa of isas) {
    const scale = process.env.TENSORFUSE_PROPERTY_RUNS_SCALE ?? (isa === isas[isas.length - 1] ? '1' : '0.4');
    otherSteps.push(mochaStep(`ISA suites under TENSORFUSE_ISA=${isa}`, [path.join(dist, 'isa', '*.test.js')],
      { TENSORFUSE_ISA: isa, TENSORFUSE_PROPERTY_RUNS_SCALE: scale }));
  }
}

/** Runs the steps in turn; resolves to [ok, held output] (output streams live when !hold). */
async function runLane(steps, hold) {
  let ok = true;
  const out = [];
  const write = (s) => (hold ? out.push(s) : process.stdout.write(s));
  for (const s of steps) {
    const t0 = Date.now();
    write(`\n=== ${s.label} ===\n`);
    const child = spawn(process.execPath, s.args, {
      stdio: hold ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      env: { ...process.env, ...s.env },
      cwd: root,
    });
    if (hold) {
      child.stdout.on('data', (d) => out.push(d.toString()));
      child.stderr.on('data', (d) => out.push(d.toString()));
    }
    const [code, signal] = await new Promise((resolve) => child.on('close', (c, sig) => resolve([c, sig])));
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const passed = code === 0;
    write(`=== ${s.label}: ${passed ? 'ok' : `FAILED (${signal ? `signal ${signal}` : `exit ${code}`})`} in ${secs} s ===\n`);
    ok = passed && ok;
  }
  return [ok, out.join('')];
}

(async () => {
  const t0 = Date.now();
  let ok;
  if (process.env.TENSORFUSE_TEST_LANES === '1') {
    [ok] = await runLane([...unitSteps, ...otherSteps], false);
  } else {
    const [[okUnit], [okOther, held]] = await Promise.all([runLane(unitSteps, false), runLane(otherSteps, true)]);
    process.stdout.write(held);
    ok = okUnit && okOther;
  }
  console.log(`\nnpm test: ${ok ? 'all passed' : 'FAILURES above'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(ok ? 0 : 1);
})();
