// Workers and concurrency (issue 7). The addon keeps no per-JS-environment state: the thread
// pool (ThreadPool::instance), the output-buffer cache (runtime/allocator.cc, one mutex), the
// ISA tables (const after a thread-safe first use) and conv2d's per-OS-thread scratch
// (thread_local) are process-wide and thread-safe, so every worker_thread can load it.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Conv2d, Tensor, add, addAsync, concatAsync, conv2dAsync, runtime } from '../lib';
import * as ref from '../lib/reference';
import { expectBitExact } from './helpers';
import { expectNear, tolFor, uniformTensor, weightTensor } from './fusion-util';

const LIB = path.resolve(__dirname, '..', 'lib', 'index.js');
const REF = path.resolve(__dirname, '..', 'lib', 'reference', 'index.js');

// Runs in each worker: sync and async ops vs the reference, many times; posts a summary.
const WORKER_SRC = `
const { parentPort, workerData } = require('worker_threads');
const tf = require(workerData.lib);
const ref = require(workerData.ref);
const seedData = (n, s) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; a[i] = (s / 2 ** 32) * 2 - 1; } return a; };
(async () => {
  let checked = 0;
  for (let it = 0; it < workerData.iterations; it++) {
    const a = tf.Tensor.from(seedData(2 * 8 * 12 * 12, workerData.id * 1000 + it), [2, 8, 12, 12]);
    const b = tf.Tensor.from(seedData(8, it + 7), [1, 8, 1, 1]);
    const w = tf.Tensor.from(seedData(6 * 8 * 9, it + 3).map((v) => v / 8), [6, 8, 3, 3]);
    const sum = it % 2 ? await tf.addAsync(a, b) : tf.add(a, b);
    const cat = it % 2 ? tf.concat([a, sum], 1) : await tf.concatAsync([a, sum], 1);
    const conv = new tf.Conv2d(w, { pads: [1, 1, 1, 1], activation: 'relu' });
    const y = it % 2 ? await conv.runAsync(a) : conv.run(a);
    conv.dispose();
    const eq = (x, e, tol) => x.data.length === e.data.length && x.data.every((v, i) => Math.abs(v - e.data[i]) <= tol * (1 + Math.abs(e.data[i])));
    if (!eq(sum, ref.add(a, b), 0)) throw new Error('add differs from the reference');
    if (!eq(cat, ref.concat([a, sum], 1), 0)) throw new Error('concat differs from the reference');
    if (!eq(y, ref.conv2dRef(a, w, { pads: [1, 1, 1, 1], activation: 'relu' }), 1e-5)) throw new Error('conv2d differs from the reference');
    checked += 3;
  }
  parentPort.postMessage({ id: workerData.id, checked, isa: tf.runtime.info().isa });
})().catch((e) => { throw e; });
`;

function runWorker(id: number, iterations: number): Promise<{ id: number; checked: number; isa: string }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SRC, { eval: true, workerData: { id, iterations, lib: LIB, ref: REF } });
    let msg: { id: number; checked: number; isa: string } | undefined;
    w.on('message', (m) => { msg = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && msg ? resolve(msg) : reject(new Error(`worker ${id} exited with ${code}`))));
  });
}

/** Runs a node script in a child process (the compiled lib), returning its status and signal. */
function runChild(script: string): { status: number | null; signal: string | null; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000, env: { ...process.env, TENSORFUSE_LIB: LIB } });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

describe('concurrency: worker_threads, many async ops, setThreads in flight, exit with pending work', function () {
  this.timeout(60000);

  it('loads in 4 worker_threads at once and computes the reference result in each', async () => {
    const results = await Promise.all([0, 1, 2, 3].map((id) => runWorker(id, 6)));
    for (const r of results) {
      assert.strictEqual(r.checked, 18);
      assert.strictEqual(r.isa, runtime.info().isa);
    }
  });

  it('a worker terminated with async work in flight does not take the process down', async () => {
    const src = `
      const { parentPort, workerData } = require('worker_threads');
      const tf = require(workerData.lib);
      const x = tf.Tensor.from(new Float32Array(1 * 32 * 64 * 64).fill(0.5), [1, 32, 64, 64]);
      const conv = new tf.Conv2d(tf.Tensor.from(new Float32Array(32 * 32 * 9).fill(0.01), [32, 32, 3, 3]), { pads: 'same' });
      for (let i = 0; i < 20; i++) conv.runAsync(x);
      parentPort.postMessage('started');
      setInterval(() => {}, 1000);`;
    for (let k = 0; k < 3; k++) {
      const w = new Worker(src, { eval: true, workerData: { lib: LIB } });
      await new Promise((resolve) => w.once('message', resolve));
      await w.terminate();
    }
    // Still healthy afterwards.
    const a = uniformTensor([1, 4, 8, 8], 3);
    expectBitExact(add(a, a), ref.add(a, a));
  });

  it('1,000 concurrent async ops from one thread all settle with the right results', async () => {
    const x = uniformTensor([1, 16, 24, 24], 11);
    const w = weightTensor(16, 16, 3, 3, 12);
    const conv = new Conv2d(w, { pads: [1, 1, 1, 1] });
    const expectedConv = ref.conv2dRef(x, w, { pads: [1, 1, 1, 1] });
    const b = uniformTensor([1, 16, 1, 1], 13);
    const expectedAdd = ref.add(x, b);
    const expectedCat = ref.concat([x, x], 1);
    const jobs: Promise<Tensor>[] = [];
    for (let i = 0; i < 1000; i++) {
      switch (i % 4) {
        case 0: jobs.push(conv.runAsync(x)); break;
        case 1: jobs.push(addAsync(x, b)); break;
        case 2: jobs.push(concatAsync([x, x], 1)); break;
        default: jobs.push(conv2dAsync(x, w, { pads: [1, 1, 1, 1] })); break;
      }
    }
    const results = await Promise.all(jobs);
    assert.strictEqual(results.length, 1000);
    results.forEach((r, i) => {
      if (i % 4 === 0 || i % 4 === 3) { if (i % 40 === 0 || i % 40 === 3) expectNear(r, expectedConv, tolFor(16 * 9), `op ${i}`); }
      else if (i % 4 === 1) { if (i % 40 === 1) expectBitExact(r, expectedAdd, `op ${i}`); }
      else if (i % 40 === 2) expectBitExact(r, expectedCat, `op ${i}`);
    });
    conv.dispose();
  });

  it('setThreads while async work is in flight is safe and results stay correct', async () => {
    const saved = runtime.info().threads;
    const x = uniformTensor([1, 32, 40, 40], 21);
    const w = weightTensor(32, 32, 3, 3, 22);
    const conv = new Conv2d(w, { pads: [1, 1, 1, 1], activation: 'relu' });
    const expected = ref.conv2dRef(x, w, { pads: [1, 1, 1, 1], activation: 'relu' });
    const big = uniformTensor([1, 64, 128, 128], 23);
    try {
      const jobs: Promise<Tensor>[] = [];
      for (let i = 0; i < 60; i++) {
        jobs.push(conv.runAsync(x));
        jobs.push(addAsync(big, big));
        runtime.setThreads(1 + (i % 4));
        if (i % 10 === 0) await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(jobs);
      for (let i = 0; i < results.length; i += 2) expectNear(results[i], expected, tolFor(32 * 9), `conv ${i / 2}`);
      expectBitExact(results[1], ref.add(big, big));
      // Synchronous ops racing with a resize from async completions.
      for (let i = 0; i < 20; i++) {
        runtime.setThreads(1 + (i % 3));
        expectNear(conv.run(x), expected, tolFor(32 * 9), `sync conv ${i}`);
      }
    } finally {
      runtime.setThreads(saved);
      conv.dispose();
    }
  });

  it('a process that exits with async work pending exits cleanly (code 0, no signal)', () => {
    const start = `
      const tf = require(process.env.TENSORFUSE_LIB);
      const x = tf.Tensor.from(new Float32Array(1 * 32 * 48 * 48).fill(0.5), [1, 32, 48, 48]);
      const conv = new tf.Conv2d(tf.Tensor.from(new Float32Array(32 * 32 * 9).fill(0.01), [32, 32, 3, 3]), { pads: 'same' });
      for (let i = 0; i < 12; i++) { conv.runAsync(x); tf.addAsync(x, x); tf.concatAsync([x, x], 1); }`;
    for (const [label, script] of [
      ['process.exit(0) right after queueing', `${start}; process.exit(0);`],
      ['process.exit(0) from a timer mid-flight', `${start}; setTimeout(() => process.exit(0), 5);`],
      ['the event loop draining normally', start],
      ['a worker_thread exiting with work pending', `
        const { Worker } = require('worker_threads');
        const w = new Worker(${JSON.stringify(start + '; process.exit(0);')}, { eval: true });
        w.on('exit', (c) => process.exit(c));`],
    ]) {
      const r = runChild(script);
      assert.strictEqual(r.signal, null, `${label}: killed by ${r.signal}\n${r.stderr}`);
      assert.strictEqual(r.status, 0, `${label}: exit code ${r.status}\n${r.stderr}`);
    }
  });

  it('sync and async ops interleave on one conv from many promises without a deadlock', async () => {
    const x = uniformTensor([2, 8, 16, 16], 31);
    const w = weightTensor(8, 8, 3, 3, 32);
    const conv = new Conv2d(w, { pads: 'same' });
    const expected = ref.conv2dRef(x, w, { pads: 'same' });
    const outs = Array.from({ length: 8 }, () => Tensor.empty([2, 8, 16, 16]));
    for (let round = 0; round < 10; round++) {
      const pending = outs.map((out) => conv.runAsync(x, { out }));
      expectNear(conv.run(x), expected, tolFor(72), 'sync while async in flight');
      for (const r of await Promise.all(pending)) expectNear(r, expected, tolFor(72), 'async');
    }
  });
});
