// Strided channel views: what their memory is, exact overlap between slices of one batch, the
// errors ops give for views they do not take or for a view that overlaps or misfits `out`,
// the binding's own checks of batch strides (a lying view never reaches a kernel), and that
// async ops keep a view's parent buffer alive. The numerical properties are in
// test/isa/views.property.test.ts.
import * as assert from 'assert';
import * as tf from '../lib';
import { Conv2d, Tensor } from '../lib';
import { native } from '../lib/native';
import { overlaps, sameMemory } from '../lib/ops/views';
import * as ref from '../lib/reference';
import { collectGarbage, expectThrows, assertError } from './helpers';
import { expectNear, tolFor, uniformTensor, weightTensor } from './fusion-util';

/** [n, c, h, w] holding 0, 1, 2, ... */
const seq = (shape: number[]): Tensor => Tensor.from(Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, (_, i) => i), shape);

describe('strided views: memory and exact overlap', () => {
  it('slices of one batch overlap exactly when they share a channel', () => {
    const p = seq([3, 6, 2, 2]);
    const a = p.sliceChannels(0, 2), b = p.sliceChannels(2, 4), c = p.sliceChannels(1, 3);
    // The data ranges of a and b interleave (a's spans b's first two images), yet no float is shared.
    assert.ok(a.data.byteOffset + a.data.byteLength > b.data.byteOffset);
    assert.strictEqual(overlaps(a, b), false);
    assert.strictEqual(overlaps(a, c), true);
    assert.strictEqual(overlaps(b, c), true);
    assert.strictEqual(overlaps(a, p.sliceChannels(5, 6)), false);
    assert.strictEqual(overlaps(p.sliceChannels(5, 6), p.sliceChannels(0, 1)), false, 'channel 5 of image n, channel 0 of image n + 1: adjacent');
    // A contiguous tensor inside a view's gap does not overlap it; one touching an image does.
    const gap = Tensor.from(p.data.subarray(2 * 4, 6 * 4), [16]);
    assert.strictEqual(overlaps(a, gap), false);
    assert.strictEqual(overlaps(a, Tensor.from(p.data.subarray(7, 9), [2])), true);
    // Same memory: equal geometry, not just an equal data range.
    assert.strictEqual(sameMemory(p.sliceChannels(1, 3), p.sliceChannels(1, 3)), true);
    assert.strictEqual(sameMemory(p.sliceChannels(1, 3), c.reshape([3, 8])), true);
    assert.strictEqual(sameMemory(c, Tensor.from(c.data, [c.data.length])), false);
  });

  it('writes through a view land in the parent; contiguous() copies out', () => {
    const p = Tensor.zeros([2, 3, 1, 2]);
    const v = p.sliceChannels(1, 2);
    tf.add(v, Tensor.from(new Float32Array([1]), [1]), { out: v });
    assert.deepStrictEqual(Array.from(p.data), [0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0]);
    const copy = v.contiguous();
    copy.data.fill(9);
    assert.strictEqual(p.data[2], 1, 'the copy is not a view');
    // A view of a detached buffer has no elements to copy out.
    const lost = Tensor.zeros([2, 3, 1, 2]).sliceChannels(0, 1);
    structuredClone(lost.data.buffer, { transfer: [lost.data.buffer as ArrayBuffer] });
    expectThrows(() => lost.contiguous(), RangeError, ['contiguous', 'lost its memory']);
    expectThrows(() => tf.add(lost, lost), RangeError, ['add', 'a [2,1,1,2] lost its memory']);
  });
});

describe('strided views: errors', () => {
  const p = uniformTensor([2, 6, 4, 4], 1);
  const v = p.sliceChannels(1, 4);

  it('ops that take contiguous tensors only reject a view by argument name', async () => {
    const mentions = (name: string) => [name, '[2,3,4,4]', 'strided channel view', 'batch stride 96', `${name}.contiguous()`];
    expectThrows(() => tf.softmax(v, 1), RangeError, ['softmax', ...mentions('x')]);
    expectThrows(() => tf.slice(v, { starts: [0], ends: [1] }), RangeError, ['slice', ...mentions('x')]);
    expectThrows(() => tf.split(v, 1, 3), RangeError, ['split', ...mentions('x')]);
    expectThrows(() => tf.softmax(p, 1, { out: Tensor.zeros([2, 12, 4, 4]).sliceChannels(0, 6) }), RangeError, ['softmax', ...mentions('out').slice(0, 1)]);
    expectThrows(() => new Conv2d(Tensor.zeros([4, 6, 1, 1]).sliceChannels(0, 3)), RangeError, ['Conv2d', 'weight', 'strided channel view']);
    expectThrows(() => tf.conv2d(p, weightTensor(2, 6, 1, 1, 1), { bias: Tensor.zeros([2, 2]).sliceChannels(0, 1).reshape([2, 1]) as Tensor }), RangeError, ['bias', 'strided']);
    expectThrows(() => tf.addAsConcatWeight(Tensor.zeros([2, 4, 1, 1]).sliceChannels(0, 2), 2), RangeError, ['addAsConcatWeight', 'w', 'strided']);
    await assert.rejects(tf.softmaxAsync(v, 1), (e: Error) => (assertError(e, RangeError, ['softmaxAsync', 'x', 'strided']), true));
  });

  it('an out view of the wrong shape names both shapes', () => {
    const out = Tensor.zeros([2, 8, 4, 4]).sliceChannels(0, 2);
    expectThrows(() => tf.add(v, v, { out }), RangeError, ['add', 'out has shape [2,2,4,4]', 'result has shape [2,3,4,4]']);
    expectThrows(() => tf.concat([v, v], 1, { out }), RangeError, ['concat', '[2,2,4,4]', '[2,6,4,4]']);
    expectThrows(() => new Conv2d(weightTensor(3, 3, 1, 1, 2)).run(v, { out }), RangeError, ['Conv2d.run', '[2,2,4,4]', '[2,3,4,4]']);
    expectThrows(() => tf.relu(v, { out }), RangeError, ['relu', '[2,2,4,4]']);
    expectThrows(() => tf.denseBlock(v, [new Conv2d(weightTensor(2, 3, 1, 1, 3))], { out }), RangeError, ['denseBlock', 'out has shape [2,2,4,4]', '[2,5,4,4]']);
  });

  it('an out overlapping an input view is a RangeError; disjoint slices of one batch are fine', async () => {
    const q = uniformTensor([2, 8, 3, 3], 2);
    const [a, b, c] = [q.sliceChannels(0, 3), q.sliceChannels(3, 6), q.sliceChannels(2, 5)];
    expectThrows(() => tf.add(a, a, { out: c }), RangeError, ['add', 'out overlaps a', 'without being the same memory']);
    expectThrows(() => tf.concat([a], 1, { out: c }), RangeError, ['concat', 'out overlaps inputs[0]']);
    expectThrows(() => new Conv2d(weightTensor(3, 3, 3, 3, 3), { pads: 'same' }).run(a, { out: c }), RangeError, ['Conv2d.run', 'overlaps x']);
    expectThrows(() => tf.concatConv([a], new Conv2d(weightTensor(3, 3, 1, 1, 3)), { out: c }), RangeError, ['concatConv', 'overlaps inputs[0]']);
    expectThrows(() => tf.convResidual(b, new Conv2d(weightTensor(3, 3, 1, 1, 3)), a, { out: c }), RangeError, ['convResidual', 'overlaps']);
    expectThrows(() => tf.maxPool2d(a, { kernel: [1, 1], out: c }), RangeError, ['maxPool2d', 'overlaps x']);
    await assert.rejects(tf.addAsync(a, a, { out: c }), RangeError);
    // Writing channels [3, 6) from channels [0, 3) of the same batch: allowed, and correct.
    const expected = ref.conv2dRef(a.contiguous(), weightTensor(3, 3, 3, 3, 3), { pads: 'same' });
    const untouched = q.sliceChannels(6, 8).contiguous();
    new Conv2d(weightTensor(3, 3, 3, 3, 3), { pads: 'same' }).run(a, { out: b });
    expectNear(b.contiguous(), expected, tolFor(27));
    assert.deepStrictEqual(q.sliceChannels(6, 8).contiguous().data, untouched.data);
    // In place through a view (the same view object or an equal one).
    const before = a.contiguous();
    tf.add(a, a, { out: q.sliceChannels(0, 3) });
    expectNear(a.contiguous(), ref.add(before, before), 0);
  });

  it('a view broadcast into a result of higher rank is rejected (its batch axis would fall inside an image)', () => {
    expectThrows(() => tf.add(v, Tensor.zeros([5, 2, 3, 4, 4])), RangeError, ['add', 'a [2,3,4,4]', 'lower rank than the result [5,2,3,4,4]', 'a.contiguous()']);
  });
});

describe('strided views: the binding checks batch strides itself', () => {
  const f = (n: number) => new Float32Array(n);

  it('rejects strides that do not fit the arrays, whatever JS claims', () => {
    // A view [2, 2, 2, 2] of a [2, 4, 2, 2] parent: 2 images of 8 floats, 16 apart, spanning 24.
    const x = f(24), y = f(16), shape = [2, 2, 2, 2];
    native.binary(0, x, shape, x, shape, y, false, [16, 16, 8]); // fits
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [4, 16, 8]), RangeError, ['a', 'batch stride 4', 'smaller than an image (8 floats)']);
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [17, 16, 8]), RangeError, ['a has 24 elements', 'batch stride 17 spans 25']);
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [2 ** 52, 16, 8]), RangeError, ['a has 24 elements']);
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [16, 16]), RangeError, ['strides must hold 3']);
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [16, -16, 8]), RangeError, ['strides']);
    expectThrows(() => native.binary(0, x, shape, x, shape, y, false, [16, 0.5, 8] as number[]), RangeError, ['strides']);
    expectThrows(() => native.binary(0, y, shape, f(6), [2, 2], f(16), false, [8, 4, 8]), RangeError, ['b [2,2] is a strided view that is broadcast']);
    const h = native.conv2dCreate(new Float32Array(4).fill(1), [2, 2, 1, 1], null, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
    native.conv2dRun(h, x, shape, [0, 0, 0, 0], y, false, [16, 8]);
    expectThrows(() => native.conv2dRun(h, x, shape, [0, 0, 0, 0], y, false, [16, 7]), RangeError, ['out', 'batch stride 7']);
    expectThrows(() => native.conv2dRun(h, x, shape, [0, 0, 0, 0], f(41), false, [16, 32]), RangeError, ['out has 41 elements', 'spans 40']);
    expectThrows(() => native.conv2dRunSources(h, [x], shape, 0, [0, 0, 0, 0], y, null, 0, 0, false, [15, 8, 0]), RangeError, ['sources[0]', 'batch stride 15']);
    expectThrows(() => native.concat([x], [8], 1, y, false, [16, 8], 3), RangeError, ['inputs[0] has 24 elements']);
    expectThrows(() => native.concat([x], [8], 1, y, false, [16, 8], -1), RangeError, ['images']);
    expectThrows(() => native.unary(0, x, y, false, [16, 8], 0), RangeError, ['images must be >= 1']);
    expectThrows(() => native.unary(0, x, y, false, [2 ** 50, 8], 2), RangeError, ['x is shorter than 2 images']);
    expectThrows(() => native.unary(0, x, f(21), false, [16, 12], 2), RangeError, ['out has 21 elements']);
    expectThrows(() => native.weightedSum([x], [f(8)], 2, 2, 4, y, false, [16, 3, 8]), RangeError, ['weights[0]', 'batch stride 3', 'smaller than an image (4 floats)']);
    expectThrows(() => native.pool2d(0, 0, x, shape, [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], y, false, [15, 8]), RangeError, ['x', 'batch stride 15']);
    expectThrows(() => native.resize(x, shape, [2, 2], [1, 1], 0, 0, 0, y, false, [16, 9]), RangeError, ['out', 'batch stride 9']);
  });

  it('checks overlap exactly: interleaved disjoint views pass, a shared float does not', () => {
    const parent = f(32); // [2, 4, 2, 2]
    const a = parent.subarray(0, 24), b = parent.subarray(8, 32), c = parent.subarray(4, 28);
    native.binary(0, a, [2, 2, 2, 2], a, [2, 2, 2, 2], b, false, [16, 16, 16]);
    expectThrows(() => native.binary(0, a, [2, 2, 2, 2], a, [2, 2, 2, 2], c, false, [16, 16, 16]), RangeError, ['out overlaps a']);
    expectThrows(() => native.concat([a], [8], 1, c, false, [16, 16], 2), RangeError, ['out overlaps inputs[0]']);
  });

  it('a Tensor whose batch stride was overwritten from JS gets a RangeError, never a bad access', () => {
    const v = Tensor.zeros([3, 4, 2, 2]).sliceChannels(1, 3);
    for (const lie of [1, 7, 2 ** 40]) {
      (v as unknown as { viewStride: number }).viewStride = lie;
      expectThrows(() => tf.add(v, v), RangeError);
      expectThrows(() => tf.relu(v), RangeError);
      expectThrows(() => new Conv2d(weightTensor(2, 2, 1, 1, 1)).run(v), RangeError);
    }
  });
});

describe('strided views: async ops keep the parent alive', function () {
  this.timeout(30000);

  it('a view whose parent Tensor is dropped stays valid until the op settles (gc while in flight)', async function () {
    if (!collectGarbage()) this.skip();
    const w = weightTensor(8, 8, 3, 3, 5);
    const conv = new Conv2d(w, { pads: 'same' });
    const jobs: Promise<void>[] = [];
    for (let k = 0; k < 8; k++) {
      // Only the views escape this scope: the parents' Tensors (and their typed arrays) are garbage.
      const { x, out, expected, sum } = (() => {
        const parent = uniformTensor([3, 12, 40, 40], 100 + k);
        const outParent = Tensor.zeros([3, 20, 40, 40]);
        const view = parent.sliceChannels(2, 10);
        const plain = view.contiguous();
        return {
          x: view, out: outParent.sliceChannels(5, 13), expected: ref.conv2dRef(plain, w, { pads: 'same' }), sum: ref.add(plain, plain),
        };
      })();
      const sumOut = Tensor.zeros([3, 9, 40, 40]).sliceChannels(1, 9);
      const p1 = conv.runAsync(x, { out });
      const p2 = tf.addAsync(x, x, { out: sumOut });
      collectGarbage();
      jobs.push(p1.then((y) => { assert.strictEqual(y, out); expectNear(y.contiguous(), expected, tolFor(72)); }));
      jobs.push(p2.then((y) => expectNear(y.contiguous(), sum, 0)));
    }
    collectGarbage();
    await Promise.all(jobs);
  });
});
