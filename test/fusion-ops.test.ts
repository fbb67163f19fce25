// API and error behaviour of the fusion-block ops: results on small hand-checked examples,
// `out` and in-place use, async twins, every bad input rejected with a TypeError or
// RangeError naming the argument and shapes, and the native layer's own re-checks.
import * as assert from 'assert';
import * as tf from '../lib';
import { Tensor } from '../lib';
import { native } from '../lib/native';
import { prepareSoftmax } from '../lib/ops/activation';
import { assertError, expectThrows } from './helpers';

const t = (values: number[], shape: number[]): Tensor => Tensor.from(Float32Array.from(values), shape);
const seq = (shape: number[]): Tensor => {
  const n = shape.reduce((p, d) => p * d, 1);
  return t(Array.from({ length: n }, (_, i) => i), shape);
};

async function expectRejects(p: () => Promise<unknown>, cls: typeof TypeError | typeof RangeError, mentions: string[] = []): Promise<void> {
  let promise: Promise<unknown>;
  try {
    promise = p();
  } catch (e) {
    assert.fail(`threw synchronously instead of rejecting: ${String(e)}`);
  }
  await promise.then(
    () => assert.fail(`expected a ${cls.name} rejection`),
    (e: unknown) => assertError(e, cls, mentions),
  );
}

describe('fusion-block ops: API', () => {
  it('relu / sigmoid on a small example, fresh, given out and in place', async () => {
    const x = t([-2, -0.5, 0, 3], [2, 2]);
    assert.deepStrictEqual(Array.from(tf.relu(x).data), [0, 0, 0, 3]);
    const s = tf.sigmoid(x).data;
    [-2, -0.5, 0, 3].forEach((v, i) => assert.ok(Math.abs(s[i] - 1 / (1 + Math.exp(-v))) < 1e-7));
    const out = Tensor.zeros([2, 2]);
    assert.strictEqual(tf.relu(x, { out }), out);
    const y = t([-1, 2], [2]);
    assert.strictEqual(await tf.reluAsync(y, { out: y }), y);
    assert.deepStrictEqual(Array.from(y.data), [0, 2]);
    assert.strictEqual(tf.sigmoid(x, { out: x }), x);
  });

  it('softmax over the default, a positive and a negative axis', async () => {
    const x = t([1, 2, 3, 1, 1, 1], [2, 3]);
    const e = [1, Math.E, Math.E ** 2];
    const sum = e[0] + e[1] + e[2];
    const y = tf.softmax(x).data;
    e.forEach((v, i) => assert.ok(Math.abs(y[i] - v / sum) < 1e-6));
    assert.ok(Array.from(y.subarray(3)).every((v) => Math.abs(v - 1 / 3) < 1e-6));
    const z = (await tf.softmaxAsync(x, 0)).data;
    assert.ok(Math.abs(z[0] - 0.5) < 1e-6 && Math.abs(z[3] - 0.5) < 1e-6);
    assert.deepStrictEqual(Array.from(tf.softmax(x, -2).data), Array.from(z));
  });

  it('weightedSum broadcasts each [N,1,H,W] map over the channels, in one call', async () => {
    const a = seq([1, 2, 1, 2]); // channels [0,1] and [2,3]
    const b = t([10, 10, 10, 10], [1, 2, 1, 2]);
    const wa = t([1, 0.5], [1, 1, 1, 2]);
    const wb = t([0, 0.5], [1, 1, 1, 2]);
    const expected = [0, 0.5 + 5, 2, 1.5 + 5];
    assert.deepStrictEqual(Array.from(tf.weightedSum([a, b], [wa, wb]).data), expected);
    assert.deepStrictEqual(Array.from((await tf.weightedSumAsync([a, b], [wa, wb])).data), expected);
    assert.strictEqual(tf.weightedSum([a, b], [wa, wb], { out: a }), a);
    assert.deepStrictEqual(Array.from(a.data), expected);
  });

  it('maxPool2d: strides, pads that never win, ceil mode, dilations', async () => {
    const x = t([-1, -2, -3, -4, -5, -6, -7, -8, -9], [1, 1, 3, 3]);
    // All inputs negative: a zero from padding would win if padding took part.
    assert.deepStrictEqual(Array.from(tf.maxPool2d(x, { kernel: [2, 2], pads: [1, 1, 1, 1], strides: [2, 2] }).data), [-1, -2, -4, -5]);
    assert.deepStrictEqual(tf.maxPool2d(x, { kernel: [2, 2], strides: [2, 2], ceilMode: true }).shape, [1, 1, 2, 2]);
    assert.deepStrictEqual(tf.maxPool2d(x, { kernel: [2, 2], strides: [2, 2] }).shape, [1, 1, 1, 1]);
    assert.deepStrictEqual(Array.from((await tf.maxPool2dAsync(x, { kernel: [2, 2], dilations: [2, 2] })).data), [-1]);
  });

  it('upsampleNearest by a scale, per-axis scales and a size; resize modes', async () => {
    const x = t([1, 2, 3, 4], [1, 1, 2, 2]);
    assert.deepStrictEqual(Array.from(tf.upsampleNearest(x, 2).data), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    assert.deepStrictEqual(tf.upsampleNearest(x, [1, 3]).shape, [1, 1, 2, 6]);
    assert.deepStrictEqual((await tf.upsampleNearestAsync(x, { size: [3, 3] })).shape, [1, 1, 3, 3]);
    const lin = tf.resize(x, { sizes: [3, 3], mode: 'linear', coordinateTransformationMode: 'align_corners' });
    assert.deepStrictEqual(Array.from(lin.data), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    const down = await tf.resizeAsync(x, { scales: [0.5, 0.5], mode: 'nearest', coordinateTransformationMode: 'asymmetric' });
    assert.deepStrictEqual(Array.from(down.data), [1]);
    assert.deepStrictEqual(tf.resize(x, { sizes: [0, 2] }).shape, [1, 1, 0, 2]);
  });

  it('slice with negative indices, clamping and negative steps; split by sizes and count', async () => {
    const x = seq([2, 5]);
    assert.deepStrictEqual(Array.from(tf.slice(x, { starts: [-1, 100], ends: [-100, -100], steps: [-1, -2] }).data), [9, 7, 5, 4, 2, 0]);
    assert.deepStrictEqual(tf.slice(x, { starts: [10], ends: [20], axes: [1] }).shape, [2, 0]);
    assert.deepStrictEqual(Array.from((await tf.sliceAsync(x, { starts: [1], ends: [3], axes: [-1] })).data), [1, 2, 6, 7]);
    const [a, b] = tf.split(x, 1, [2, 3]);
    assert.deepStrictEqual(Array.from(a.data), [0, 1, 5, 6]);
    assert.deepStrictEqual(Array.from(b.data), [2, 3, 4, 7, 8, 9]);
    const parts = await tf.splitAsync(x, -1, 2); // ceil(5 / 2) = 3, then 2
    assert.deepStrictEqual(parts.map((p) => p.shape), [[2, 3], [2, 2]]);
    assert.deepStrictEqual(tf.split(x, 0, 2).map((p) => Array.from(p.data)), [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  });

  it('zero-size tensors give empty results', () => {
    assert.deepStrictEqual(tf.relu(Tensor.zeros([0, 3])).shape, [0, 3]);
    assert.deepStrictEqual(tf.softmax(Tensor.zeros([2, 0]), 1).shape, [2, 0]);
    assert.deepStrictEqual(tf.maxPool2d(Tensor.zeros([0, 2, 4, 4]), { kernel: [2, 2] }).shape, [0, 2, 3, 3]);
    assert.deepStrictEqual(tf.upsampleNearest(Tensor.zeros([1, 0, 2, 2]), 2).shape, [1, 0, 4, 4]);
    assert.deepStrictEqual(tf.weightedSum([Tensor.zeros([1, 3, 0, 2])], [Tensor.zeros([1, 1, 0, 2])]).shape, [1, 3, 0, 2]);
  });
});

describe('fusion-block ops: bad input', () => {
  const x4 = seq([1, 2, 3, 3]);

  it('non-Tensor inputs are TypeErrors naming the argument', () => {
    expectThrows(() => tf.relu(new Float32Array(4) as unknown as Tensor), TypeError, ['relu', 'x']);
    expectThrows(() => tf.sigmoid(null as unknown as Tensor), TypeError, ['sigmoid', 'x']);
    expectThrows(() => tf.clip(x4, NaN, 1), TypeError, ['clip', 'min', 'NaN']);
    expectThrows(() => tf.clip(x4, 0, '6' as unknown as number), TypeError, ['clip', 'max']);
    expectThrows(() => tf.leakyRelu(x4, NaN), TypeError, ['leakyRelu', 'alpha', 'NaN']);
    expectThrows(() => tf.softmax(x4, 1.5), TypeError, ['axis']);
    expectThrows(() => tf.weightedSum(x4 as unknown as Tensor[], []), TypeError, ['inputs']);
    expectThrows(() => tf.maxPool2d(x4, undefined as unknown as tf.MaxPool2dOptions), TypeError, ['options']);
    expectThrows(() => tf.maxPool2d(x4, { kernel: [2, 2.5] as [number, number] }), TypeError, ['kernel[1]']);
    expectThrows(() => tf.resize(x4, { sizes: [2, 2], scales: [2, 2] }), TypeError, ['sizes and scales']);
    expectThrows(() => tf.upsampleNearest(x4, 'x2' as unknown as number), TypeError, ['scale']);
    expectThrows(() => tf.slice(x4, { starts: [0.5], ends: [1] }), TypeError, ['starts[0]']);
    expectThrows(() => tf.split(x4, 1, 'two' as unknown as number), TypeError, ['parts']);
  });

  it('bad shapes and values are RangeErrors naming the argument and the shapes', () => {
    expectThrows(() => tf.relu(x4, { out: Tensor.zeros([1, 2, 3]) }), RangeError, ['out', '[1,2,3]', '[1,2,3,3]']);
    expectThrows(() => tf.clip(x4, 1, 0), RangeError, ['clip', 'min 1', 'max 0']);
    expectThrows(() => tf.softmax(x4, 4), RangeError, ['axis 4', '[1,2,3,3]']);
    expectThrows(() => tf.softmax(Tensor.zeros([]), 0), RangeError, ['rank']);
    expectThrows(() => tf.weightedSum([], []), RangeError, ['at least one']);
    expectThrows(() => tf.weightedSum([x4], []), RangeError, ['1 inputs but 0 weights']);
    expectThrows(() => tf.weightedSum([x4], [Tensor.zeros([1, 2, 3, 3])]), RangeError, ['weights[0]', '[1,2,3,3]', '[1,1,3,3]']);
    expectThrows(() => tf.weightedSum([x4, Tensor.zeros([1, 2, 3, 2])], [Tensor.zeros([1, 1, 3, 3]), Tensor.zeros([1, 1, 3, 3])]), RangeError, ['inputs[1]', '[1,2,3,2]']);
    expectThrows(() => tf.weightedSum([seq([2, 3])], [seq([2, 1])]), RangeError, ['NCHW', '[2,3]']);
    expectThrows(() => tf.maxPool2d(seq([2, 3, 3]), { kernel: [2, 2] }), RangeError, ['NCHW', '[2,3,3]']);
    expectThrows(() => tf.maxPool2d(x4, { kernel: [0, 2] }), RangeError, ['kernel[0]']);
    expectThrows(() => tf.maxPool2d(x4, { kernel: [2, 2], pads: [0, 0, -1, 0] }), RangeError, ['pads[2]']);
    expectThrows(() => tf.maxPool2d(x4, { kernel: [5, 5] }), RangeError, ['does not fit', '[1,2,3,3]']);
    expectThrows(() => tf.resize(x4, { scales: [2, -1] }), RangeError, ['scales[1]']);
    expectThrows(() => tf.resize(x4, { sizes: [2, 2], mode: 'cubic' as 'linear' }), RangeError, ['mode', 'cubic']);
    expectThrows(() => tf.resize(x4, { sizes: [2, 2], coordinateTransformationMode: 'tf_crop_and_resize' as 'half_pixel' }), RangeError, ['coordinateTransformationMode']);
    expectThrows(() => tf.resize(seq([3, 3]), { sizes: [2, 2] }), RangeError, ['NCHW']);
    expectThrows(() => tf.upsampleNearest(x4, 0), RangeError, ['scales[0]']);
    expectThrows(() => tf.slice(x4, { starts: [0], ends: [1], steps: [0] }), RangeError, ['steps[0]']);
    expectThrows(() => tf.slice(x4, { starts: [0, 0], ends: [1, 1], axes: [1, -3] }), RangeError, ['repeats axis 1']);
    expectThrows(() => tf.slice(x4, { starts: [0], ends: [1, 2] }), RangeError, ['ends']);
    expectThrows(() => tf.slice(x4, { starts: [0], ends: [1], axes: [4] }), RangeError, ['axis 4', '[1,2,3,3]']);
    expectThrows(() => tf.split(x4, 2, [1, 1]), RangeError, ['add up to 2', '[1,2,3,3]']);
    expectThrows(() => tf.split(x4, 2, 0), RangeError, ['count']);
    expectThrows(() => tf.split(x4, 2, 2 ** 31), RangeError, ['count 2147483648 exceeds the 3 elements of axis 2', '[1,2,3,3]']);
    expectThrows(() => tf.split(x4, -5, 1), RangeError, ['axis -5']);
  });

  it('out may be x itself but never a partial overlap; out never overlaps a pooled/resized/sliced input', () => {
    const buf = new Float32Array(20);
    const x = Tensor.from(buf.subarray(0, 18), [1, 2, 3, 3]);
    const shifted = Tensor.from(buf.subarray(1, 19), [1, 2, 3, 3]);
    expectThrows(() => tf.relu(x, { out: shifted }), RangeError, ['overlaps x']);
    expectThrows(() => tf.softmax(x, 1, { out: shifted }), RangeError, ['overlaps x']);
    expectThrows(() => tf.maxPool2d(x, { kernel: [1, 1], out: x }), RangeError, ['overlaps x']);
    expectThrows(() => tf.resize(x, { scales: [1, 1], out: x }), RangeError, ['overlaps x']);
    expectThrows(() => tf.slice(x, { starts: [0], ends: [1] }, { out: x }), RangeError, ['overlaps x']);
    const w = Tensor.from(buf.subarray(0, 9), [1, 1, 3, 3]);
    expectThrows(() => tf.weightedSum([Tensor.zeros([1, 2, 3, 3])], [w], { out: x }), RangeError, ['overlaps weights[0]']);
  });

  it('async twins reject (never throw synchronously) with the same errors', async () => {
    await expectRejects(() => tf.reluAsync(null as unknown as Tensor), TypeError, ['reluAsync', 'x']);
    await expectRejects(() => tf.sigmoidAsync(x4, { out: Tensor.zeros([2]) }), RangeError, ['out']);
    await expectRejects(() => tf.softmaxAsync(x4, 9), RangeError, ['axis 9']);
    await expectRejects(() => tf.weightedSumAsync([x4], []), RangeError, ['weights']);
    await expectRejects(() => tf.maxPool2dAsync(x4, { kernel: [9, 9] }), RangeError, ['does not fit']);
    await expectRejects(() => tf.resizeAsync(x4, {}), TypeError, ['sizes and scales']);
    await expectRejects(() => tf.upsampleNearestAsync(x4, -1), RangeError, ['scales']);
    await expectRejects(() => tf.sliceAsync(x4, { starts: [0], ends: [1], steps: [0] }), RangeError, ['steps']);
    await expectRejects(() => tf.splitAsync(x4, 1, [5]), RangeError, ['add up to 5']);
  });

  it('the native layer re-checks every size (wrong calls throw, never touch memory out of bounds)', () => {
    const f = (n: number) => new Float32Array(n);
    expectThrows(() => native.unary(0, f(4), f(3), false), RangeError, ['out']);
    expectThrows(() => native.unary(7, f(4), f(4), false), RangeError, ['unary op']);
    expectThrows(() => native.unary(2, f(4), f(4), false), TypeError, ['clip bounds']);
    expectThrows(() => native.unary(2, f(4), f(4), false, undefined, undefined, 2, 1), RangeError, ['lo <= hi']);
    expectThrows(() => native.unary(3, f(4), f(4), false), TypeError, ['slope']);
    expectThrows(() => native.softmax(f(6), 2, 3, 2, f(6), false), RangeError, ['x']);
    expectThrows(() => native.softmax(f(6), -2, -3, 1, f(6), false), RangeError, ['softmax dims']);
    expectThrows(() => native.weightedSum([f(8)], [f(3)], 1, 2, 4, f(8), false), RangeError, ['weights[0]']);
    expectThrows(() => native.weightedSum([f(8)], [f(4), f(4)], 1, 2, 4, f(8), false), RangeError, ['equal length']);
    expectThrows(() => native.weightedSum([{} as Float32Array], [f(4)], 1, 2, 4, f(8), false), TypeError, ['inputs[0]']);
    expectThrows(() => native.pool2d(0, 0, f(9), [1, 1, 3, 3], [2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], f(3), false), RangeError, ['out']);
    expectThrows(() => native.pool2d(0, 0, f(9), [1, 1, 3, 3], [2, 2, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0], f(4), false), RangeError, ['>= 1']);
    expectThrows(() => native.pool2d(0, 0, f(9), [1, 1, 3, 3], [9, 9, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], f(1), false), RangeError, ['does not fit']);
    expectThrows(() => native.resize(f(4), [1, 1, 2, 2], [4, 4], [2, 2], 0, 0, 0, f(15), false), RangeError, ['out']);
    expectThrows(() => native.resize(f(4), [1, 1, 2, 2], [4, 4], [0, 2], 0, 0, 0, f(16), false), RangeError, ['scales']);
    expectThrows(() => native.resize(f(4), [1, 1, 2, 2], [4, 4], [2, 2], 0, 9, 0, f(16), false), RangeError, ['mode']);
    expectThrows(() => native.resize(f(0), [1, 1, 0, 2], [4, 4], [2, 2], 0, 0, 0, f(16), false), RangeError, ['empty axis']);
    expectThrows(() => native.slice(f(10), [2, 5], [0, 3], [1, 1], [2, 3], f(6), false), RangeError, ['axis 1']);
    expectThrows(() => native.slice(f(10), [2, 5], [0, 3], [1, -2], [2, 3], f(6), false), RangeError, ['axis 1']);
    expectThrows(() => native.slice(f(10), [2, 5], [0, 0], [1, 0], [2, 3], f(6), false), RangeError, ['axis 1']);
    expectThrows(() => native.slice(f(10), [2, 5], [0, 0], [1, 2 ** 52], [2, 2], f(4), false), RangeError, ['axis 1']);
    expectThrows(() => native.split(f(10), 2, [2, 2], [f(4), f(4)], false), RangeError, ['x']);
    expectThrows(() => native.split(f(10), 2, [2, 3], [f(4), f(5)], false), RangeError, ['outs[1]']);
    const shared = f(10);
    expectThrows(() => native.split(f(10), 2, [2, 3], [shared.subarray(0, 4), shared.subarray(2, 8)], false), RangeError, ['overlaps']);
  });
});

describe('prepareSoftmax (the softmax step of a compiled model)', () => {
  const x = Tensor.from(Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.cos(i * 0.7) * 3), [2, 3, 5]);

  it('runs as softmax does, on every axis', () => {
    for (const axis of [0, 1, 2, -1]) {
      const expected = tf.softmax(x, axis);
      const out = new Float32Array(x.size);
      prepareSoftmax(x.shape, axis).run(x.data, out);
      assert.deepStrictEqual(Array.from(out), Array.from(expected.data), `axis ${axis}`);
    }
  });

  it('checks the axis when prepared and the buffers in the binding', () => {
    expectThrows(() => prepareSoftmax([2, 3, 5], 3), RangeError, ['axis 3', '[2,3,5]']);
    expectThrows(() => prepareSoftmax([], 0), RangeError, ['rank']);
    const sm = prepareSoftmax([2, 3, 5], 1);
    expectThrows(() => sm.run(x.data.subarray(1), new Float32Array(30)), RangeError);
    expectThrows(() => sm.run(x.data, new Float32Array(29)), RangeError);
  });
});

describe('Tensor.sliceChannels', () => {
  it('is a zero-copy view of a channel range that ops read and write (N = 1)', () => {
    const x = seq([1, 4, 2, 2]);
    const v = x.sliceChannels(1, 3);
    assert.deepStrictEqual(v.shape, [1, 2, 2, 2]);
    assert.strictEqual(v.data.buffer, x.data.buffer);
    assert.deepStrictEqual(Array.from(v.data), [4, 5, 6, 7, 8, 9, 10, 11]);
    // A dense-block style write: each part lands straight in its slice of one output.
    const out = Tensor.zeros([1, 4, 2, 2]);
    tf.relu(t([-1, 1, -2, 2], [1, 1, 2, 2]), { out: out.sliceChannels(0, 1) });
    tf.add(seq([1, 3, 2, 2]), seq([1, 3, 2, 2]), { out: out.sliceChannels(1, 4) });
    assert.deepStrictEqual(Array.from(out.data), [0, 1, 0, 2, ...Array.from({ length: 12 }, (_, i) => 2 * i)]);
    assert.deepStrictEqual(Array.from(tf.maxPool2d(x.sliceChannels(3, 4), { kernel: [2, 2] }).data), [15]);
    assert.deepStrictEqual(x.sliceChannels(2, 2).shape, [1, 0, 2, 2]);
    assert.deepStrictEqual(seq([3, 2, 2]).sliceChannels(0, 2).shape, [3, 2, 2]); // whole range of a batch
  });

  it('rejects bad ranges and rank < 2', () => {
    const x = seq([2, 4, 2, 2]);
    expectThrows(() => x.sliceChannels(1, 5), RangeError, ['[1, 5)', '[2,4,2,2]']);
    expectThrows(() => x.sliceChannels(3, 2), RangeError, ['[3, 2)']);
    expectThrows(() => x.sliceChannels(0.5, 2), TypeError, ['start']);
    expectThrows(() => seq([4]).sliceChannels(0, 1), RangeError, ['rank >= 2']);
    assert.strictEqual(x.sliceChannels(0, 4).data.length, x.size);
  });

  it('of a batch (N > 1) is a strided view: images batchStride apart, data from the first to the last image', () => {
    const x = seq([2, 4, 2, 2]);
    const v = x.sliceChannels(1, 3);
    assert.deepStrictEqual(v.shape, [2, 2, 2, 2]);
    assert.strictEqual(v.isContiguous, false);
    assert.strictEqual(v.batchStride, 16);
    assert.strictEqual(v.size, 16);
    assert.strictEqual(v.data.buffer, x.data.buffer);
    // [image 0's channels 1-2 | channel 3 of image 0, channel 0 of image 1 | image 1's channels 1-2]
    assert.deepStrictEqual(Array.from(v.data), Array.from({ length: 24 }, (_, i) => 4 + i));
    assert.deepStrictEqual(Array.from(v.contiguous().data), [4, 5, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23, 24, 25, 26, 27]);
    assert.strictEqual(v.contiguous().isContiguous, true);
    // A slice of a view is a view of the same parent; contiguous tensors report their image size.
    const w = v.sliceChannels(1, 2);
    assert.deepStrictEqual([w.batchStride, w.data.length], [16, 20]);
    assert.deepStrictEqual(Array.from(w.contiguous().data), [8, 9, 10, 11, 24, 25, 26, 27]);
    assert.deepStrictEqual([x.batchStride, x.isContiguous, x.contiguous() === x], [16, true, true]);
    // One image, no elements, or every channel: contiguous.
    assert.strictEqual(seq([1, 4, 2, 2]).sliceChannels(1, 3).isContiguous, true);
    assert.strictEqual(x.sliceChannels(2, 2).isContiguous, true);
    assert.strictEqual(x.sliceChannels(2, 2).data.length, 0);
    assert.strictEqual(x.sliceChannels(0, 4).isContiguous, true);
  });

  it('a strided view reshapes only keeping its batch dim', () => {
    const v = seq([3, 4, 2, 2]).sliceChannels(1, 3);
    const r = v.reshape([3, -1]);
    assert.deepStrictEqual([r.shape, r.batchStride, r.isContiguous], [[3, 8], 16, false]);
    assert.deepStrictEqual(Array.from(r.contiguous().data), Array.from(v.contiguous().data));
    expectThrows(() => v.reshape([24]), RangeError, ['strided view', 'batch dim 3', 'contiguous()']);
    expectThrows(() => v.reshape([6, 4]), RangeError, ['strided view']);
  });
});
