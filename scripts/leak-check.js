#!/usr/bin/env node
// Memory soak (issue 7): 10^6 small ops and 10^4 large ones (fresh outputs, given outputs,
// in place, async, conv with prepacked and one-shot weights, fusion blocks), reporting RSS
// against a stated bound. test/leak.test.ts does the 10^5 / 10^3 version inside `npm test`.
//   node --expose-gc scripts/leak-check.js              # full run (~1-2 min on 2 cores)
//   node --expose-gc scripts/leak-check.js --small 100000 --large 1000
//   node scripts/leak-check.js --valgrind               # a small run under valgrind --leak-check=full
//   node scripts/leak-check.js --lsan                   # the same under the ASan build's LeakSanitizer
// --valgrind / --lsan pass when no leak record has a tensorfuse frame (tensorfuse.node, tf::):
// node and V8 keep memory reachable (or leak by design) at exit, which are not ours.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const MiB = 1024 * 1024;
// Bounds over the warmed-up baseline (see the README's "Memory" section for measured values).
const SMALL_BOUND = 48 * MiB;
const LARGE_BOUND = 192 * MiB;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function gc() {
  if (typeof global.gc === 'function') for (let i = 0; i < 3; i++) global.gc();
}

async function settle() {
  gc();
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().rss;
}

async function workload(small, large, log) {
  const tf = require(path.join(root, 'dist', 'lib'));
  tf.runtime.setInlineLimit(0); // every small op goes through the native binding
  const a = tf.Tensor.from(new Float32Array(64).fill(1), [1, 4, 4, 4]);
  const b = tf.Tensor.from(new Float32Array(4).fill(2), [1, 4, 1, 1]);
  const out = tf.Tensor.empty([1, 4, 4, 4]);
  const w = tf.Tensor.from(new Float32Array(4 * 4 * 9).fill(0.1), [4, 4, 3, 3]);
  const conv = new tf.Conv2d(w, { pads: 'same' });
  const smallRound = async (i) => {
    switch (i % 10) {
      case 0: tf.add(a, b); break;
      case 1: tf.mul(a, b, { out }); break;
      case 2: tf.concat([a, a], 1); break;
      case 3: tf.relu(a, { out }); break;
      case 4: tf.softmax(a, 1); break;
      case 5: conv.run(a, { out }); break;
      case 6: tf.conv2d(a, w, { pads: 'same' }); break; // packs and disposes per call
      case 7: tf.slice(a, { starts: [1], ends: [3], axes: [1] }); break;
      case 8: try { tf.add(a, tf.Tensor.from(new Float32Array(3), [3])); } catch { /* error path */ } break;
      default: await tf.addAsync(a, b, { out }); break;
    }
  };
  const bigA = tf.Tensor.from(new Float32Array(1 * 64 * 64 * 64).fill(0.5), [1, 64, 64, 64]); // 1 MiB
  const bigW = tf.Tensor.from(new Float32Array(64 * 64 * 9).fill(0.01), [64, 64, 3, 3]);
  const bigConv = new tf.Conv2d(bigW, { pads: 'same' });
  const bigOut = tf.Tensor.empty([1, 64, 64, 64]);
  const fpn = { lateralConv: new tf.Conv2d(tf.Tensor.from(new Float32Array(64 * 64).fill(0.01), [64, 64, 1, 1])) };
  const top = tf.Tensor.from(new Float32Array(64 * 32 * 32).fill(1), [1, 64, 32, 32]);
  const largeRound = async (i) => {
    switch (i % 6) {
      case 0: tf.add(bigA, bigA); break; // fresh 1 MiB output from the native allocator
      case 1: await tf.concatAsync([bigA, bigA], 1); break;
      case 2: bigConv.run(bigA, { out: bigOut }); break;
      case 3: await bigConv.runAsync(bigA); break;
      case 4: tf.fpnMerge(top, bigA, fpn); break;
      default: tf.upsampleNearest(top, 2); break;
    }
  };
  // Warm up (JIT, allocator cache, scratch pools), then measure.
  for (let i = 0; i < 2000; i++) await smallRound(i);
  for (let i = 0; i < 60; i++) await largeRound(i);
  const base = await settle();
  log(`baseline RSS ${(base / MiB).toFixed(1)} MiB`);
  let t = Date.now();
  for (let i = 0; i < small; i++) await smallRound(i);
  const afterSmall = await settle();
  log(`${small} small ops in ${((Date.now() - t) / 1000).toFixed(1)} s: RSS ${(afterSmall / MiB).toFixed(1)} MiB (${((afterSmall - base) / MiB).toFixed(1)} MiB over baseline, bound ${SMALL_BOUND / MiB} MiB)`);
  t = Date.now();
  let peak = 0;
  for (let i = 0; i < large; i++) {
    await largeRound(i);
    if (i % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const afterLarge = await settle();
  log(`${large} large ops in ${((Date.now() - t) / 1000).toFixed(1)} s: RSS ${(afterLarge / MiB).toFixed(1)} MiB (${((afterLarge - base) / MiB).toFixed(1)} MiB over baseline, bound ${LARGE_BOUND / MiB} MiB; peak ${(peak / MiB).toFixed(1)} MiB)`);
  bigConv.dispose(); conv.dispose();
  return { base, afterSmall, afterLarge, peak };
}

/** Runs a small workload under a leak checker; returns the leak records that name tensorfuse. */
function underChecker(kind) {
  const script = path.join(os.tmpdir(), `tensorfuse-leak-${process.pid}.js`);
  fs.writeFileSync(script, `
    require(${JSON.stringify(__filename)}).workload(${kind === 'valgrind' ? 300 : 20000}, ${kind === 'valgrind' ? 12 : 200}, () => {})
      .then(() => { if (global.gc) { global.gc(); global.gc(); } require(${JSON.stringify(path.join(root, 'dist', 'lib', 'native.js'))}).native.allocatorTrim(); });`);
  let r;
  if (kind === 'valgrind') {
    r = spawnSync('valgrind', ['--leak-check=full', '--show-leak-kinds=definite,indirect', '--num-callers=30', '--error-exitcode=0',
      process.execPath, '--expose-gc', '--jitless', script], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, TENSORFUSE_THREADS: '2' } });
  } else {
    const addon = path.join(root, 'build-asan-addon', 'Release', 'tensorfuse.node');
    if (!fs.existsSync(addon)) throw new Error(`no ASan addon at ${addon}: run scripts/sanitize-js.sh first`);
    const gcc = (n) => spawnSync('gcc', [`-print-file-name=${n}`], { encoding: 'utf8' }).stdout.trim();
    r = spawnSync(process.execPath, ['--expose-gc', script], {
      encoding: 'utf8', maxBuffer: 1 << 28,
      env: { ...process.env, TENSORFUSE_ADDON: addon, LD_PRELOAD: `${gcc('libasan.so')}:${gcc('libubsan.so')}`,
        ASAN_OPTIONS: 'detect_leaks=1:detect_odr_violation=0:allocator_may_return_null=1', LSAN_OPTIONS: 'report_objects=0' },
    });
  }
  fs.unlinkSync(script);
  const text = r.stderr || '';
  // valgrind: records start "N bytes in M blocks are definitely lost"; LSan: "Direct leak of N byte(s)".
  const records = text.split(/\n(?===\d+== \S|\s*\n)/).join('\n').split(/\n\s*\n/)
    .filter((rec) => /are (definitely|indirectly) lost|(Direct|Indirect) leak of/.test(rec));
  const ours = records.filter((rec) => /tensorfuse\.node|tf::/.test(rec));
  const summary = text.split('\n').filter((l) => /definitely lost:|indirectly lost:|possibly lost:|SUMMARY: AddressSanitizer/.test(l));
  return { status: r.status, signal: r.signal, records: records.length, ours, summary, tail: text.slice(-3000) };
}

module.exports = { workload };

if (require.main === module) {
  const kind = process.argv.includes('--valgrind') ? 'valgrind' : process.argv.includes('--lsan') ? 'lsan' : null;
  if (kind) {
    console.log(`leak-check: a small workload under ${kind === 'valgrind' ? 'valgrind --leak-check=full (node --jitless; several minutes)' : 'the ASan build with LeakSanitizer'}`);
    const r = underChecker(kind);
    for (const l of r.summary) console.log(`  ${l.trim()}`);
    console.log(`leak-check: ${r.records} leak records in all, ${r.ours.length} with a tensorfuse frame`);
    if (r.signal || (kind === 'valgrind' && r.status !== 0 && r.records === 0)) {
      console.log(`leak-check: the checked process ended with ${r.signal || r.status}\n${r.tail}`);
      process.exit(1);
    }
    for (const rec of r.ours.slice(0, 5)) console.log(rec);
    process.exit(r.ours.length ? 1 : 0);
  }
  if (typeof global.gc !== 'function') console.log('leak-check: run with node --expose-gc for stable figures');
  workload(arg('--small', 1e6), arg('--large', 1e4), (m) => console.log(`leak-check: ${m}`)).then((r) => {
    const ok = r.afterSmall - r.base <= SMALL_BOUND && r.afterLarge - r.base <= LARGE_BOUND;
    console.log(ok ? 'leak-check: within bounds' : 'leak-check: OVER BOUND');
    process.exit(ok ? 0 : 1);
  });
}
