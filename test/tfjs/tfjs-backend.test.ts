// tensorfuse/tfjs: tfjs-core's own suites (a child process, jasmine), the backend's own
// contracts (notice silenced, packed-conv cache, buffer reuse) and the nsfwjs models
// against tfjs-backend-cpu.
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { registerTensorfuseBackend, TensorfuseBackend, kernelStats } from '../../lib/tfjs';
import { NSFW_MODELS, fixedImage, loadNsfwModel } from './nsfw-models';
import { EXPECTED_PATH } from './make-nsfw-expected';

const root = path.resolve(__dirname, '..', '..', '..');

function backend(): TensorfuseBackend {
  return tf.engine().findBackend('tensorfuse') as TensorfuseBackend;
}

describe('tensorfuse/tfjs', function () {
  this.timeout(60_000);

  before(async () => {
    registerTensorfuseBackend();
    assert.ok(await tf.setBackend('tensorfuse'));
  });

  it("tfjs-core's own test suites (dist/tests.js, jasmine) pass on the 'tensorfuse' backend", () => {
    const r = spawnSync(process.execPath, [path.join(root, 'test', 'tfjs', 'run-tfjs-core-tests.js'), '--all'], {
      cwd: root, encoding: 'utf8', timeout: 55_000,
    });
    const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-12).join('\n');
    assert.equal(r.status, 0, tail);
    assert.match(r.stdout, /^\d+ passed, 0 failed$/m, tail);
  });

  it('is importable as tensorfuse/tfjs and registers once', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.exports['./tfjs'].default, './dist/lib/tfjs/index.js');
    assert.equal(registerTensorfuseBackend(), false);
    assert.equal(tf.getBackend(), 'tensorfuse');
    assert.ok(tf.getKernel('Conv2D', 'tensorfuse'));
    assert.ok(tf.getKernel('Cumsum', 'tensorfuse'), 'cpu kernels are registered for tensorfuse too');
  });

  it('prints no "install tfjs-node" notice', () => {
    const warn = console.warn;
    const seen: unknown[][] = [];
    console.warn = (...a: unknown[]) => void seen.push(a);
    try {
      const b = new TensorfuseBackend();
      b.write(new Float32Array(4), [4], 'float32');
      b.dispose();
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(seen, []);
  });

  it('packs a filter once, reuses it, and drops it when the filter is disposed', () => {
    const x = tf.randomNormal([1, 9, 9, 4]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 4, 8]) as tf.Tensor4D;
    const before = backend().packedConvCount();
    const y1 = tf.conv2d(x, w, 1, 'same');
    const y2 = tf.conv2d(x, w, 1, 'same');
    assert.equal(backend().packedConvCount(), before + 1);
    assert.deepEqual(Array.from(y1.dataSync()), Array.from(y2.dataSync()));
    w.dispose();
    assert.equal(backend().packedConvCount(), before);
    tf.dispose([x, y1, y2]);
  });

  it('fused conv2d: bias and every activation match the cpu kernels', async () => {
    const x = tf.randomNormal([2, 11, 13, 6], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 6, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const dw = tf.randomNormal([3, 3, 6, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    // leakyreluAlpha is always given: without it the cpu kernels give NaN for negatives
    // (alpha undefined), tensorfuse uses tf.leakyRelu's default 0.2.
    const acts = ['linear', 'relu', 'relu6', 'elu', 'prelu', 'leakyrelu', 'sigmoid'] as const;
    const run = (name: string) => {
      const out: Float32Array[] = [];
      for (const activation of acts) {
        for (const pad of ['same', 'valid', [[0, 0], [1, 2], [0, 1], [0, 0]]] as const) {
          const c = tf.fused.conv2d({
            x, filter: w, strides: [2, 1], pad: pad as 'same', bias: tf.tensor1d([0.1, -0.2, 0.3, -0.4, 0.5]), activation,
            preluActivationWeights: tf.tensor1d([0.1, 0.2, 0.3, 0.4, 0.5]), leakyreluAlpha: 0.3,
          });
          const d = tf.fused.depthwiseConv2d({
            x, filter: dw, strides: 1, pad: pad as 'same', dilations: 2, bias: tf.scalar(0.25), activation,
            preluActivationWeights: tf.scalar(0.2), leakyreluAlpha: 0.05,
          });
          out.push(c.dataSync() as Float32Array, d.dataSync() as Float32Array);
        }
      }
      assert.equal(tf.getBackend(), name);
      return out;
    };
    const fast = run('tensorfuse');
    await tf.setBackend('cpu');
    const cpu = run('cpu');
    await tf.setBackend('tensorfuse');
    for (let i = 0; i < cpu.length; i++) {
      assert.equal(fast[i].length, cpu[i].length);
      for (let j = 0; j < cpu[i].length; j++) assert.ok(Math.abs(fast[i][j] - cpu[i][j]) <= 1e-4 * (1 + Math.abs(cpu[i][j])), `case ${i} [${j}]`);
    }
    assert.ok(kernelStats.FusedConv2D.fast > 0 && kernelStats.FusedDepthwiseConv2D.fast > 0);
  });

  it('maxPool / avgPool run the native NHWC kernels and match the cpu kernels (NaN ignored by max, kept by avg)', async () => {
    const x = tf.randomNormal([2, 13, 11, 37], 0, 1, 'float32', 4) as tf.Tensor4D;
    const values = x.dataSync().slice();
    values[5 * 37 + 3] = NaN;  // one NaN in batch 0's channel 3
    const xn = tf.tensor4d(values, x.shape);
    const before = { max: kernelStats.MaxPool?.fast ?? 0, avg: kernelStats.AvgPool?.fast ?? 0 };  // tfjs-core's suites ran first
    const run = () => {
      const out: Float32Array[] = [];
      for (const pad of ['same', 'valid', 1] as const) {
        for (const [k, s] of [[3, 2], [2, 2], [[3, 2], [1, 2]]] as const) {
          out.push(tf.maxPool(xn, k as [number, number], s as [number, number], pad).dataSync() as Float32Array);
          out.push(tf.avgPool(xn, k as [number, number], s as [number, number], pad).dataSync() as Float32Array);
        }
      }
      return out;
    };
    const fast = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await tf.setBackend('tensorfuse');
    for (let i = 0; i < cpu.length; i++) {
      assert.equal(fast[i].length, cpu[i].length);
      for (let j = 0; j < cpu[i].length; j++) {
        const [a, b] = [fast[i][j], cpu[i][j]];
        assert.ok(Number.isNaN(b) ? Number.isNaN(a) : a === b || Math.abs(a - b) <= 1e-5 * (1 + Math.abs(b)), `case ${i} [${j}]: ${a} vs ${b}`);
      }
    }
    assert.ok(cpu.some((o) => o.some((v) => Number.isNaN(v))), 'the NaN reaches some average');
    // All but one geometry: with a numeric pad tfjs sizes the output width with the row stride
    // (pad 1, strides [1, 2]: 11 columns, windows past the input), left to the cpu kernel.
    const stats = `${JSON.stringify(kernelStats.MaxPool)} ${JSON.stringify(kernelStats.AvgPool)}`;
    assert.ok(kernelStats.MaxPool.fast - before.max === 8 && kernelStats.AvgPool.fast - before.avg === 8, `8 of 9 calls each on the native path: ${stats}`);
    tf.dispose([x, xn]);
  });

  it('reuses released output buffers, never one that dataSync() handed out', () => {
    const x = tf.randomNormal([64, 64]);
    const a = tf.relu(x);
    const seen = a.dataSync();
    const copy = Float32Array.from(seen);
    a.dispose();
    const b = tf.sigmoid(x);  // same size: must not land in `seen`
    assert.deepEqual(Array.from(seen), Array.from(copy));
    const pooled = backend().pooledByteCount();
    const c = tf.relu(b);
    b.dispose();
    assert.ok(backend().pooledByteCount() >= pooled, 'b was never read: its buffer goes back to the pool');
    tf.dispose([x, c]);
  });

  it('writes every element of its outputs: results in recycled NaN-filled buffers are unchanged', () => {
    // Output buffers are neither zeroed when new nor cleared when reused: a kernel that
    // skipped an element would show a NaN (or a stale value) here. (Resize runs the cpu
    // kernels: see the exclusions in lib/tfjs/kernels.ts.)
    const x = tf.randomNormal([1, 9, 11, 8], 0, 1, 'float32', 3);
    const y = tf.randomNormal([1, 9, 11, 8], 0, 1, 'float32', 4);
    const w = tf.randomNormal([3, 3, 8, 6], 0, 1, 'float32', 5);
    const dw = tf.randomNormal([3, 3, 8, 1], 0, 1, 'float32', 6);
    const bias6 = tf.randomNormal([6], 0, 1, 'float32', 7);
    const ops: Array<[string, () => tf.Tensor]> = [
      ['add', () => tf.add(x, y)],
      ['addN', () => tf.addN([x, y, x])],
      ['mul', () => tf.mul(x, y)],
      ['concat', () => tf.concat([x, y], 3)],
      ['conv2d', () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')],
      ['fused conv2d', () => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'valid', bias: bias6, activation: 'relu' })],
      ['depthwise', () => tf.depthwiseConv2d(x as tf.Tensor4D, dw as tf.Tensor4D, 1, 'same')],
      ['maxPool', () => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same')],
      ['avgPool', () => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid')],
      ['relu', () => tf.relu(x)],
      ['relu6', () => tf.relu6(x)],
      ['sigmoid', () => tf.sigmoid(x)],
      ['softmax', () => tf.softmax(x)],
    ];
    const valuesOf = (t: tf.Tensor) => (backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;
    for (const [name, op] of ops) {
      const want = op().dataSync();
      const poisoned = op();
      const values = valuesOf(poisoned);
      values.fill(NaN);
      poisoned.dispose();  // never read through TF.js: its buffer goes back to the pool
      const again = op();
      assert.ok(valuesOf(again).buffer === values.buffer, `${name}: the output lands in the poisoned buffer`);
      assert.deepEqual(Array.from(again.dataSync()), Array.from(want), name);
    }
    tf.dispose([x, y, w, dw, bias6]);
  });

  describe('nsfwjs models (shipped in its npm package) vs tfjs-backend-cpu', () => {
    const expected = JSON.parse(fs.readFileSync(EXPECTED_PATH, 'utf8')).probabilities as Record<string, number[]>;
    const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
      assert.equal(got.length, want.length);
      for (let i = 0; i < want.length; i++) {
        const rel = Math.abs(got[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-6);
        assert.ok(rel <= 1e-4, `${what}: class ${i}: ${got[i]} vs ${want[i]} (relative ${rel.toExponential(2)})`);
      }
    };
    for (const m of NSFW_MODELS) {
      // The cpu backend needs ~20 s for Inception v3: its probabilities come from nsfw-expected.json.
      const live = m.name !== 'inception_v3';
      it(`${m.label}: probabilities within 1e-4 relative of the cpu backend${live ? '' : ' (recorded)'}`, async () => {
        const probs: Record<string, Float32Array> = {};
        for (const be of live ? ['tensorfuse', 'cpu'] : ['tensorfuse']) {
          await tf.setBackend(be);
          const model = await loadNsfwModel(m.name);
          const x = tf.tensor(fixedImage(m.size), [1, m.size, m.size, 3]);
          const y = model.predict(x);
          probs[be] = (await y.data()) as Float32Array;
          tf.dispose([x, y]);
          model.dispose();
        }
        await tf.setBackend('tensorfuse');
        close(probs.tensorfuse, expected[m.name], `${m.name} vs recorded cpu`);
        if (live) close(probs.tensorfuse, probs.cpu, `${m.name} vs live cpu`);
      });
    }
  });
});
