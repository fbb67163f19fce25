#!/usr/bin/env node
// The long API fuzz run (issue 7): >= 10^5 calls of every public op with arbitrary arguments
// (test/fuzz/harness.ts), in child processes so that a crash (a signal, an abort, a non-zero
// exit) is reported as a crash rather than taking the runner down with it.
//   npm run fuzz                         # 10^5 calls, 2 children, random seed
//   node scripts/fuzz.js --calls 1000000 --jobs 2 --seed 42
// Needs the compiled tree (npx tsc -p .). Exit 0 only when every child ran clean.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const os = require('os');

const root = path.resolve(__dirname, '..');
const harness = path.join(root, 'dist', 'test', 'fuzz', 'harness.js');

function flag(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

if (process.argv.includes('--child')) {
  // One child: calls [from, to) of the seed's stream.
  const { runMixed, newStats } = require(harness);
  const seed = flag('--seed', 1), from = flag('--from', 0), to = flag('--to', 1000);
  (async () => {
    const stats = newStats();
    for (let i = from; i < to; i++) {
      try {
        await runMixed(seed, i, stats);
      } catch (err) {
        process.stderr.write(`fuzz: contract violation at case ${i} of seed ${seed}:\n${err && err.stack || err}\n`);
        process.exit(1);
      }
    }
    process.stdout.write(JSON.stringify(stats) + '\n');
  })();
} else {
  const calls = flag('--calls', 100000);
  const jobs = Math.max(1, flag('--jobs', Math.min(2, os.cpus().length)));
  const seed = flag('--seed', Math.floor(Math.random() * 2 ** 31));
  const chunk = 5000; // cases per child: a crash names a small range to replay
  const ranges = [];
  for (let i = 0; i < calls; i += chunk) ranges.push([i, Math.min(calls, i + chunk)]);
  const total = { calls: 0, returned: 0, typeErrors: 0, rangeErrors: 0, compared: 0 };
  const failures = [];
  const start = Date.now();
  console.log(`fuzz: ${calls} calls, seed ${seed}, ${jobs} child processes of ${chunk} calls`);
  let next = 0;
  const runOne = () => new Promise((resolve) => {
    if (next >= ranges.length) return resolve(false);
    const [from, to] = ranges[next++];
    const child = spawn(process.execPath, ['--expose-gc', __filename, '--child', '--seed', String(seed), '--from', String(from), '--to', String(to)],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code, signal) => {
      if (code === 0) {
        const s = JSON.parse(out.trim().split('\n').pop());
        for (const k of Object.keys(total)) total[k] += s[k];
      } else {
        failures.push(`cases [${from}, ${to}) of seed ${seed}: ${signal ? `CRASHED with ${signal}` : `exit code ${code}`}\n${err.slice(-4000)}`);
      }
      resolve(true);
    });
  });
  const worker = async () => { while (await runOne()); };
  Promise.all(Array.from({ length: jobs }, worker)).then(() => {
    const secs = (Date.now() - start) / 1000;
    console.log(`fuzz: ${total.calls} calls in ${secs.toFixed(1)} s: ${total.compared} results compared with lib/reference, ` +
      `${total.returned - total.compared} returned uncompared (corrupted-but-harmless or arbitrary-argument calls), ` +
      `${total.typeErrors} TypeError, ${total.rangeErrors} RangeError`);
    if (failures.length) {
      console.log(`fuzz: ${failures.length} failing range(s):\n${failures.join('\n')}`);
      process.exit(1);
    }
    console.log('fuzz: clean (no crash, every call returned the reference result or threw TypeError/RangeError)');
  });
}
