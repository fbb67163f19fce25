// Fusion blocks (issue 4): the seed identities on random data, every block against its
// plain-ops reference (lib/reference/fusion.ts), async twins, `out`, and bad input.
import * as assert from 'assert';
import {
  Conv2d, Tensor, add, concat, conv2d, addAsConcatWeight, splitConcatWeight, concatConv, concatConvAsync, addConv,
  addConvAsync, fpnMerge, fpnMergeAsync, asff, asffAsync, asffFuse, asffFuseAsync, createAsffParams, denseBlock,
  denseBlockAsync, residual, residualAsync, convResidual, convResidualAsync, Conv2dWeightOptions, runtime,
} from '../lib';
import { tensorAllocationStats } from '../lib/memory';
import {
  addConvRef, asffFuseRef, asffRef, concatConvRef, conv2dRef, convResidualRef, denseBlockRef, fpnMergeRef, residualRef,
} from '../lib/reference';
import { expectThrows } from './helpers';
import { asffChainK, asffTestWeights, expectNear, tolFor, uniformTensor, weightTensor } from './fusion-util';

const conv = (w: Tensor, o: Conv2dWeightOptions = {}) => ({ c: new Conv2d(w, o), ref: { weight: w, options: o } });

describe('fusion: seed identities', function () {
  it('addAsConcatWeight repeats W along the input channels; conv(a + b + c, W) == conv(concat(a, b, c), [W, W, W])', function () {
    const w = weightTensor(5, 3, 3, 3, 1);
    const wc = addAsConcatWeight(w, 3);
    assert.deepStrictEqual([...wc.shape], [5, 9, 3, 3]);
    for (let o = 0; o < 5; o++) for (let k = 0; k < 3; k++) {
      assert.deepStrictEqual(wc.data.subarray((o * 9 + k * 3) * 9, (o * 9 + k * 3 + 3) * 9), w.data.subarray(o * 27, (o + 1) * 27));
    }
    const xs = [0, 1, 2].map((i) => uniformTensor([2, 3, 6, 7], 10 + i));
    const bias = uniformTensor([5], 9);
    const opts: Conv2dWeightOptions = { pads: [1, 1, 1, 1], bias };
    const viaAdd = conv2d(add(add(xs[0], xs[1]), xs[2]), w, opts);
    const viaConcat = conv2d(concat(xs, 1), wc, opts);
    expectNear(viaConcat, viaAdd, tolFor(81), 'fast path');
    expectNear(conv2dRef(concat(xs, 1), wc, opts), viaAdd, tolFor(81), 'reference');
    expectNear(addConv(xs, new Conv2d(w, opts)), viaConcat, tolFor(81), 'addConv');
    expectNear(concatConv(xs, new Conv2d(wc, opts)), viaAdd, tolFor(81), 'concatConv with the repeated kernel');
  });

  it('splitConcatWeight: concatConv == conv∘concat == Σ conv(part)', function () {
    const channels = [2, 5, 3];
    const w = weightTensor(7, 10, 3, 3, 2);
    const parts = splitConcatWeight(w, channels);
    parts.forEach((p, i) => assert.deepStrictEqual([...p.shape], [7, channels[i], 3, 3]));
    const xs = channels.map((c, i) => uniformTensor([1, c, 8, 5], 20 + i));
    const bias = uniformTensor([7], 3);
    const opts: Conv2dWeightOptions = { pads: 'same', bias };
    const fused = concatConv(xs, new Conv2d(w, opts));
    const unfused = conv2d(concat(xs, 1), w, opts);
    let sum = conv2d(xs[0], parts[0], opts); // the bias in one term only
    for (let i = 1; i < xs.length; i++) sum = add(sum, conv2d(xs[i], parts[i], { pads: 'same' }));
    const tol = tolFor(90);
    expectNear(fused, unfused, tol, 'concatConv vs conv∘concat');
    expectNear(fused, sum, tol, 'concatConv vs Σ conv(part)');
    expectNear(fused, conv2dRef(concat(xs, 1), w, opts), tol, 'vs reference');
    // And the two identities agree: splitting the repeated kernel gives W back, exactly.
    splitConcatWeight(addAsConcatWeight(w, 3), [10, 10, 10]).forEach((p) => assert.deepStrictEqual(p.data, w.data));
  });

  it('rejects bad weights, counts and channel lists', function () {
    const w = weightTensor(2, 4, 1, 1, 1);
    expectThrows(() => addAsConcatWeight(w.reshape([2, 4]), 2), RangeError, ['addAsConcatWeight', 'w', '[2,4]']);
    expectThrows(() => addAsConcatWeight(w, 0), RangeError, ['addAsConcatWeight', 'n', '0']);
    expectThrows(() => addAsConcatWeight(w, 1.5), TypeError, ['n']);
    expectThrows(() => addAsConcatWeight({} as Tensor, 2), TypeError, ['w']);
    expectThrows(() => splitConcatWeight(w, [1, 2]), RangeError, ['splitConcatWeight', '[1,2]', '3', '[2,4,1,1]']);
    expectThrows(() => splitConcatWeight(w, [4, 0]), RangeError, ['channels[1]']);
    expectThrows(() => splitConcatWeight(w, []), RangeError, ['channels']);
    expectThrows(() => splitConcatWeight(w, 4 as unknown as number[]), TypeError, ['channels']);
  });
});

describe('fusion: concatConv / addConv', function () {
  const cases: { name: string; n: number; chans: number[]; cout: number; k: number; o: Conv2dWeightOptions; h: number; w: number }[] = [
    { name: '1x1, batch 1', n: 1, chans: [3, 5], cout: 6, k: 1, o: {}, h: 7, w: 9 },
    { name: '3x3 pad 1 relu, batch 2, three inputs', n: 2, chans: [4, 1, 3], cout: 5, k: 3, o: { pads: [1, 1, 1, 1], activation: 'relu' }, h: 5, w: 6 },
    { name: '3x3 stride 2 leaky', n: 1, chans: [2, 2], cout: 3, k: 3, o: { strides: [2, 2], pads: 'same', activation: 'leakyRelu', alpha: 0.1 }, h: 9, w: 8 },
    { name: 'groups 3, inputs on group boundaries', n: 1, chans: [2, 4], cout: 6, k: 3, o: { groups: 3, pads: [1, 1, 1, 1] }, h: 4, w: 5 },
  ];
  for (const c of cases) {
    it(`concatConv matches conv(concat) (${c.name}), sync, async, into out`, async function () {
      const cin = c.chans.reduce((s, v) => s + v, 0);
      const xs = c.chans.map((ch, i) => uniformTensor([c.n, ch, c.h, c.w], 100 + i));
      const w = weightTensor(c.cout, cin / (c.o.groups ?? 1), c.k, c.k, 7);
      const o = { ...c.o, bias: uniformTensor([c.cout], 8) };
      const cv = new Conv2d(w, o);
      const expected = concatConvRef(xs, { weight: w, options: o });
      const tol = tolFor(cin * c.k * c.k);
      expectNear(concatConv(xs, cv), expected, tol, 'sync');
      expectNear(await concatConvAsync(xs, cv), expected, tol, 'async');
      const out = Tensor.zeros(expected.shape);
      assert.strictEqual(concatConv(xs, cv, { out }), out);
      expectNear(out, expected, tol, 'out');
    });
  }

  it('addConv matches conv(sum) for 1, 2 and 3 inputs, sync and async', async function () {
    for (const k of [1, 2, 3]) {
      const xs = Array.from({ length: k }, (_, i) => uniformTensor([2, 6, 5, 7], 200 + i));
      const w = weightTensor(4, 6, 3, 3, 9);
      const o: Conv2dWeightOptions = { pads: [1, 0, 1, 2], bias: uniformTensor([4], 10), activation: 'relu6' };
      const cv = new Conv2d(w, o);
      const expected = addConvRef(xs, { weight: w, options: o });
      expectNear(addConv(xs, cv), expected, tolFor(54 * k), `${k} inputs`);
      const out = Tensor.zeros(expected.shape);
      assert.strictEqual(await addConvAsync(xs, cv, { out }), out);
      expectNear(out, expected, tolFor(54 * k), `${k} inputs async`);
    }
  });

  it('takes channel-slice views as inputs and as out (batch 1)', function () {
    const big = uniformTensor([1, 9, 6, 6], 300);
    const xs = [big.sliceChannels(0, 4), big.sliceChannels(4, 9)];
    const w = weightTensor(5, 9, 1, 1, 301);
    const y = Tensor.zeros([1, 8, 6, 6]);
    concatConv(xs, new Conv2d(w), { out: y.sliceChannels(3, 8) });
    expectNear(y.sliceChannels(3, 8), conv2dRef(big, w), tolFor(9));
    assert.ok(y.sliceChannels(0, 3).data.every((v) => v === 0), 'channels outside the slice untouched');
  });

  it('keeps concurrent async calls apart (scratch buffers are not shared in flight)', async function () {
    const w = weightTensor(3, 6, 3, 3, 400);
    const cv = new Conv2d(w, { pads: 'same' });
    const sets = Array.from({ length: 8 }, (_, j) => [uniformTensor([1, 2, 9, 9], 410 + j), uniformTensor([1, 4, 9, 9], 430 + j)]);
    const results = await Promise.all(sets.map((xs) => concatConvAsync(xs, cv)));
    const sums = await Promise.all(sets.map((xs) => addConvAsync([xs[1], xs[1]], new Conv2d(weightTensor(2, 4, 1, 1, 1)))));
    results.forEach((r, j) => expectNear(r, concatConvRef(sets[j], { weight: w, options: { pads: 'same' } }), tolFor(54), `call ${j}`));
    sums.forEach((r, j) => expectNear(r, addConvRef([sets[j][1], sets[j][1]], { weight: weightTensor(2, 4, 1, 1, 1) }), tolFor(8), `add ${j}`));
  });

  it('rejects bad inputs before running, naming the argument and shapes', async function () {
    const cv = new Conv2d(weightTensor(4, 6, 3, 3, 1), { pads: 'same' });
    const a = uniformTensor([1, 2, 5, 5], 1), b = uniformTensor([1, 4, 5, 5], 2);
    expectThrows(() => concatConv([a, uniformTensor([1, 3, 5, 5], 3)], cv), RangeError, ['concatConv', '[2,3]', '5', '6']);
    expectThrows(() => concatConv([a, uniformTensor([1, 4, 5, 6], 3)], cv), RangeError, ['inputs[1]', '[1,4,5,6]', '[1,2,5,5]']);
    expectThrows(() => concatConv([a, uniformTensor([2, 4, 5, 5], 3)], cv), RangeError, ['inputs[1]', 'N, H or W']);
    expectThrows(() => concatConv([a.reshape([2, 5, 5]), b], cv), RangeError, ['inputs[0]', 'rank 4']);
    expectThrows(() => concatConv([], cv), RangeError, ['inputs', 'at least 1']);
    expectThrows(() => concatConv(a as unknown as Tensor[], cv), TypeError, ['inputs']);
    expectThrows(() => concatConv([a, b], {} as Conv2d), TypeError, ['conv', 'Conv2d']);
    expectThrows(() => concatConv([a, b], new Conv2d(weightTensor(1, 1, 1, 6, 1), { layout: 'NHWC' })), RangeError, ['NCHW']);
    expectThrows(() => concatConv([a, b], cv, { out: Tensor.zeros([1, 4, 5, 4]) }), RangeError, ['out', '[1,4,5,4]', '[1,4,5,5]']);
    expectThrows(() => concatConv([a, b], cv, { out: b }), RangeError, ['out', 'overlaps', 'inputs[1]']);
    expectThrows(() => concatConv([a, b], cv, 3 as unknown as object), TypeError, ['options']);
    const grouped = new Conv2d(weightTensor(6, 2, 1, 1, 1), { groups: 3 });
    expectThrows(() => concatConv([uniformTensor([1, 3, 2, 2], 1), uniformTensor([1, 3, 2, 2], 1)], grouped), RangeError, ['inputs[0]', '3 groups of 2']);
    expectThrows(() => concatConv([a, b], new Conv2d(weightTensor(4, 6, 7, 7, 1))), RangeError, ['conv', '[1,6,5,5]']);
    expectThrows(() => addConv([b, a], new Conv2d(weightTensor(4, 4, 1, 1, 1))), RangeError, ['addConv', 'inputs[1]', '[1,2,5,5]', '4']);
    await assert.rejects(concatConvAsync([a], cv), (e: Error) => e instanceof RangeError && e.message.includes('concatConvAsync'));
    await assert.rejects(addConvAsync([a, b], cv), RangeError);
  });
});

describe('fusion: residual / convResidual', function () {
  it('residual(x, f) = f(x) + x, sync and async; out may be x', async function () {
    const x = uniformTensor([2, 3, 4, 5], 1);
    const cv = new Conv2d(weightTensor(3, 3, 3, 3, 2), { pads: 'same' });
    const f = (t: Tensor) => cv.run(t);
    const expected = residualRef(x, (t) => conv2dRef(t, weightTensor(3, 3, 3, 3, 2), { pads: 'same' }));
    expectNear(residual(x, f), expected, tolFor(27));
    expectNear(await residualAsync(x, async (t) => cv.runAsync(t)), expected, tolFor(27));
    const y = Tensor.from(Float32Array.from(x.data), x.shape);
    assert.strictEqual(residual(y, f, { out: y }), y);
    expectNear(y, expected, tolFor(27), 'in place');
    expectThrows(() => residual(x, () => Tensor.zeros([2, 3, 4, 4])), RangeError, ['residual', 'f(x)', '[2,3,4,4]', '[2,3,4,5]']);
    expectThrows(() => residual(x, 5 as unknown as (t: Tensor) => Tensor), TypeError, ['f']);
  });

  for (const activation of ['none', 'relu', 'relu6', 'leakyRelu', 'sigmoid', 'silu'] as const) {
    it(`convResidual = ${activation}(conv(x) + skip), sync and async`, async function () {
      const x = uniformTensor([1, 4, 6, 6], 10, 3);
      const skip = uniformTensor([1, 5, 3, 3], 11, 3);
      const w = weightTensor(5, 4, 3, 3, 12);
      const o: Conv2dWeightOptions = { strides: [2, 2], pads: [1, 1, 0, 0], bias: uniformTensor([5], 13) };
      const cv = new Conv2d(w, o);
      const expected = convResidualRef(x, { weight: w, options: o }, skip, activation, 0.2);
      expectNear(convResidual(x, cv, skip, { activation, alpha: 0.2 }), expected, tolFor(36));
      const out = Tensor.zeros(skip.shape);
      assert.strictEqual(await convResidualAsync(x, cv, skip, { activation, alpha: 0.2, out }), out);
      expectNear(out, expected, tolFor(36), 'async');
    });
  }

  it('convResidual rejects mismatched skip, unknown activations and aliasing outputs', function () {
    const x = uniformTensor([1, 4, 6, 6], 10);
    const cv = new Conv2d(weightTensor(4, 4, 3, 3, 12), { pads: 'same' });
    expectThrows(() => convResidual(x, cv, Tensor.zeros([1, 4, 5, 6])), RangeError, ['convResidual', 'skip', '[1,4,5,6]', '[1,4,6,6]']);
    expectThrows(() => convResidual(x, cv, x, { activation: 'gelu' as 'relu' }), RangeError, ['gelu']);
    const skip = uniformTensor([1, 4, 6, 6], 1);
    expectThrows(() => convResidual(x, cv, skip, { out: skip }), RangeError, ['out', 'skip']);
    expectThrows(() => convResidual(x, cv, skip, { out: x }), RangeError, ['out', 'x']);
  });
});

describe('fusion: fpnMerge', function () {
  const variants = [
    { name: 'lateral only', reduce: false, smooth: false, n: 1 },
    { name: 'smooth 3x3', reduce: false, smooth: true, n: 2 },
    { name: 'reduce + smooth (CPN)', reduce: true, smooth: true, n: 1 },
    { name: 'reduce only', reduce: true, smooth: false, n: 2 },
  ];
  for (const v of variants) {
    it(`matches smooth(up2(reduce(top)) + lateral(l)) (${v.name}), sync and async`, async function () {
      const ct = v.reduce ? 12 : 6, cl = 5, cm = 6, cs = 7;
      const top = uniformTensor([v.n, ct, 3, 4], 1);
      const lateral = uniformTensor([v.n, cl, 6, 8], 2);
      const lat = conv(weightTensor(cm, cl, 1, 1, 3), { bias: uniformTensor([cm], 4) });
      const red = conv(weightTensor(cm, ct, 1, 1, 5), { bias: uniformTensor([cm], 6), activation: 'relu' });
      const smo = conv(weightTensor(cs, cm, 3, 3, 7), { pads: [1, 1, 1, 1], bias: uniformTensor([cs], 8) });
      const opts = { lateralConv: lat.c, ...(v.reduce ? { reduceConv: red.c } : {}), ...(v.smooth ? { smoothConv: smo.c } : {}) };
      const expected = fpnMergeRef(top, lateral, { lateralConv: lat.ref, ...(v.reduce ? { reduceConv: red.ref } : {}), ...(v.smooth ? { smoothConv: smo.ref } : {}) });
      const tol = tolFor(ct + cl + 9 * cm);
      expectNear(fpnMerge(top, lateral, opts), expected, tol, 'sync');
      const out = Tensor.zeros(expected.shape);
      assert.strictEqual(await fpnMergeAsync(top, lateral, { ...opts, out }), out);
      expectNear(out, expected, tol, 'async');
    });
  }

  it('rejects mismatched spatial sizes and channel counts', function () {
    const top = uniformTensor([1, 6, 3, 4], 1), lateral = uniformTensor([1, 5, 6, 8], 2);
    const lat = new Conv2d(weightTensor(6, 5, 1, 1, 3));
    expectThrows(() => fpnMerge(top, uniformTensor([1, 5, 6, 7], 2), { lateralConv: lat }), RangeError, ['fpnMerge', 'lateral', '[1,5,6,7]', '[1,6,3,4]']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: new Conv2d(weightTensor(4, 5, 1, 1, 3)) }), RangeError, ['lateralConv', '4 channels', 'top has 6']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: new Conv2d(weightTensor(6, 3, 1, 1, 3)) }), RangeError, ['lateralConv', 'expects 3', '[1,5,6,8]']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: new Conv2d(weightTensor(6, 5, 3, 3, 3)) }), RangeError, ['lateralConv', 'spatial']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: lat, reduceConv: new Conv2d(weightTensor(6, 6, 1, 1, 3), { strides: [2, 2] }) }), RangeError, ['reduceConv', 'spatial']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: lat, smoothConv: new Conv2d(weightTensor(6, 5, 3, 3, 3)) }), RangeError, ['smoothConv', 'expects 5']);
    expectThrows(() => fpnMerge(top, lateral, undefined as unknown as { lateralConv: Conv2d }), TypeError, ['options', 'lateralConv']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: undefined as unknown as Conv2d }), TypeError, ['lateralConv']);
    expectThrows(() => fpnMerge(top, lateral, { lateralConv: lat, out: lateral.reshape([1, 6, 5, 8]) }), RangeError, ['out', '[1,6,5,8]']);
  });
});

describe('fusion: asff', function () {
  // Channels as the reference's dim = [512, 256, 256] scaled down; spatial 2 / 4 / 8 (and odd sizes).
  const C: [number, number, number] = [8, 4, 4];
  for (const level of [0, 1, 2] as const) {
    for (const n of [1, 2]) {
      it(`level ${level}, batch ${n}: matches the reference (leaky 0.1), sync and async`, async function () {
        const levels: [Tensor, Tensor, Tensor] = [uniformTensor([n, C[0], 3, 2], 1), uniformTensor([n, C[1], 6, 4], 2), uniformTensor([n, C[2], 12, 8], 3)];
        const w = asffTestWeights(level, C, 4, 6, 50 + level);
        const params = createAsffParams(w, level);
        const expected = asffRef(levels, w, level);
        const tol = tolFor(asffChainK(C, level, 4));
        expectNear(asff(levels, params, level), expected, tol, 'sync');
        const out = Tensor.zeros(expected.shape);
        assert.strictEqual(await asffAsync(levels, params, level, { out }), out);
        expectNear(out, expected, tol, 'async');
      });
    }
  }

  it('relu6 option, odd sizes at level 0 (max-pool and stride-2 convs round up), compressLevel1 at level 2', function () {
    const levels: [Tensor, Tensor, Tensor] = [uniformTensor([1, 6, 2, 3], 1, 4), uniformTensor([1, 5, 3, 5], 2, 4), uniformTensor([1, 3, 5, 9], 3, 4)];
    const w0 = asffTestWeights(0, [6, 5, 3], 3, 4, 70);
    expectNear(asff(levels, createAsffParams(w0, 0, { activation: 'relu6' }), 0), asffRef(levels, w0, 0, { activation: 'relu6' }), tolFor(asffChainK([6, 5, 3], 0, 3)));
    const l2: [Tensor, Tensor, Tensor] = [uniformTensor([1, 6, 2, 2], 1), uniformTensor([1, 5, 4, 4], 2), uniformTensor([1, 3, 8, 8], 3)];
    const w2 = asffTestWeights(2, [6, 5, 3], 2, 4, 80);
    assert.ok(w2.compressLevel1, 'C1 != inter needs compressLevel1');
    expectNear(asff(l2, createAsffParams(w2, 2), 2), asffRef(l2, w2, 2), tolFor(asffChainK([6, 5, 3], 2, 2)));
  });

  it('asffFuse (the ASFF3 workload) matches the reference for batch 1 and 2, sync and async', async function () {
    for (const n of [1, 2]) {
      const levels = [0, 1, 2].map((i) => uniformTensor([n, 10, 5, 7], 90 + i));
      const wl = [0, 1, 2].map((i) => conv(weightTensor(4, 10, 1, 1, 95 + i), { bias: uniformTensor([4], 99 + i), activation: 'relu' }));
      const ws = conv(weightTensor(3, 12, 1, 1, 105), { bias: uniformTensor([3], 106) });
      const expected = asffFuseRef(levels, { weightLevel: wl.map((x) => x.ref), weightLevels: ws.ref });
      const convs = { weightLevel: wl.map((x) => x.c), weightLevels: ws.c };
      expectNear(asffFuse(levels, convs), expected, tolFor(30), `batch ${n}`);
      expectNear(await asffFuseAsync(levels, convs), expected, tolFor(30), `batch ${n} async`);
    }
  });

  it('rejects wrong params, levels and sizes', function () {
    const levels: [Tensor, Tensor, Tensor] = [uniformTensor([1, 8, 3, 2], 1), uniformTensor([1, 4, 6, 4], 2), uniformTensor([1, 4, 12, 8], 3)];
    const w1 = asffTestWeights(1, C, 4, 6, 1);
    const p1 = createAsffParams(w1, 1);
    expectThrows(() => asff(levels, p1, 2), RangeError, ['asff', 'level 1', 'level is 2']);
    expectThrows(() => asff(levels, p1, 3 as 0), RangeError, ['level', '3']);
    expectThrows(() => createAsffParams({ ...w1, strideLevel1: w1.strideLevel2 }, 1), RangeError, ['strideLevel1', 'not used at level 1']);
    expectThrows(() => createAsffParams({ ...w1, strideLevel2: undefined }, 1), RangeError, ['strideLevel2', 'required at level 1']);
    expectThrows(() => createAsffParams(w1, 1, { activation: 'relu' as 'relu6' }), RangeError, ['activation']);
    expectThrows(() => createAsffParams({ ...w1, expand: { weight: weightTensor(6, 4, 3, 3, 1).reshape([6, 36]) } }, 1), RangeError, ['weights.expand', 'OIHW']);
    expectThrows(() => asff([levels[0], levels[1], uniformTensor([1, 4, 10, 8], 3)], p1, 1), RangeError, ['levels[2]', '[1,4,10,8]', 'resizes to', 'levels[1]']);
    expectThrows(() => asff([levels[0], uniformTensor([1, 5, 6, 4], 2), levels[2]], p1, 1), RangeError, ['levels[1]', '5 channels', 'params.expand', 'takes 4']);
    expectThrows(() => asff([uniformTensor([1, 7, 3, 2], 1), levels[1], levels[2]], p1, 1), RangeError, ['params.compressLevel0', 'expects 8', '[1,7,3,2]']);
    expectThrows(() => asff([levels[0], levels[1], uniformTensor([2, 4, 12, 8], 3)], p1, 1), RangeError, ['levels[2]', 'batch']);
    expectThrows(() => asff(levels.slice(0, 2) as unknown as [Tensor, Tensor, Tensor], p1, 1), TypeError, ['levels', '3']);
    expectThrows(() => asff(levels, { ...p1, weightLevels: new Conv2d(weightTensor(3, 11, 1, 1, 1)) }, 1), RangeError, ['params.weightLevels', '12', '3 logits']);
    const wl = [0, 1, 2].map((i) => new Conv2d(weightTensor(2, 4, 1, 1, i)));
    expectThrows(() => asffFuse([levels[1], levels[1], levels[2]], { weightLevel: wl, weightLevels: new Conv2d(weightTensor(3, 6, 1, 1, 1)) }), RangeError, ['asffFuse', 'levels[2]', '[1,4,12,8]']);
    expectThrows(() => asffFuse([levels[1], levels[1]], { weightLevel: wl, weightLevels: new Conv2d(weightTensor(3, 6, 1, 1, 1)) }), RangeError, ['weightLevel', '(2)']);
    expectThrows(() => asffFuse([levels[1], levels[1], levels[1]], { weightLevel: wl, weightLevels: new Conv2d(weightTensor(2, 6, 1, 1, 1)) }), RangeError, ['weightLevels', '3 logits']);
  });
});

describe('fusion: denseBlock', function () {
  const makeLayers = (c0: number, g: number, count: number, bottleneck: boolean, seed: number) => {
    const fast = [], ref = [];
    for (let l = 0; l < count; l++) {
      const cin = c0 + l * g;
      const c3 = conv(weightTensor(g, bottleneck ? 2 * g : cin, 3, 3, seed + 2 * l), { pads: [1, 1, 1, 1], activation: 'relu', bias: uniformTensor([g], seed + 50 + l) });
      if (bottleneck) {
        const b = conv(weightTensor(2 * g, cin, 1, 1, seed + 2 * l + 1), { activation: 'relu' });
        fast.push({ bottleneck: b.c, conv: c3.c });
        ref.push({ bottleneck: b.ref, conv: c3.ref });
      } else {
        fast.push(c3.c);
        ref.push(c3.ref);
      }
    }
    return { fast, ref };
  };

  for (const bottleneck of [false, true]) {
    it(`batch 1 writes each layer into its slice of one output: no concat buffers (${bottleneck ? 'bottleneck + 3x3' : '3x3'})`, async function () {
      const x = uniformTensor([1, 5, 6, 7], 1);
      const { fast, ref } = makeLayers(5, 3, 4, bottleneck, 10);
      const expected = denseBlockRef(x, ref);
      const tol = tolFor(9 * (5 + 4 * 3) * 2);
      const r = denseBlock(x, fast);
      expectNear(r.output, expected, tol, 'sync');
      assert.strictEqual(r.concatBytes, 0);
      const outBytes = 17 * 42 * 4;
      assert.ok(r.allocatedBytes >= outBytes && r.allocatedBytes <= outBytes + (bottleneck ? 6 * 42 * 4 : 0), `allocated ${r.allocatedBytes}`);
      // Given an out (and with the scratch pool warm), the block allocates nothing.
      const out = Tensor.zeros([1, 17, 6, 7]);
      const r2 = await denseBlockAsync(x, fast, { out });
      assert.strictEqual(r2.output, out);
      expectNear(out, expected, tol, 'async');
      assert.strictEqual(r2.allocatedBytes, 0);
      assert.strictEqual(r2.concatBytes, 0);
    });
  }

  for (const bottleneck of [false, true]) {
    it(`batch 2 writes each layer into its strided slice of one output: the output is the only tensor memory (${bottleneck ? 'bottleneck + 3x3' : '3x3'})`, async function () {
      // Sizes where every buffer (output, a concat of the earlier features, a layer's features)
      // is large enough to come from the native allocator as well.
      const [n, c0, g, layers, h, w] = [2, 16, 8, 4, 24, 24];
      const x = uniformTensor([n, c0, h, w], 2);
      const { fast, ref } = makeLayers(c0, g, layers, bottleneck, 30);
      const expected = denseBlockRef(x, ref);
      const tol = tolFor(9 * (c0 + layers * g) * 2);
      const outBytes = n * (c0 + layers * g) * h * w * 4;
      denseBlock(x, fast); // warms the block's scratch pool (the bottleneck's output)
      const tensors0 = tensorAllocationStats();
      const r = denseBlock(x, fast);
      const tensors1 = tensorAllocationStats();
      expectNear(r.output, expected, tol, 'sync');
      assert.strictEqual(tensors1.bytes - tensors0.bytes, outBytes, 'tensor bytes allocated by the call: the output alone');
      assert.strictEqual(tensors1.allocations - tensors0.allocations, 1, 'one tensor allocated: the output');
      assert.strictEqual(r.allocatedBytes, outBytes);
      assert.strictEqual(r.concatBytes, 0);
      // Into a given out (sync and async): no tensor memory at all. Sync, on this thread whose
      // conv scratch the calls above have grown, nothing new from the OS either (a libuv thread
      // may still grow its own scratch on first use, so the async call is not counted there).
      const out = Tensor.zeros(r.output.shape);
      const tensors2 = tensorAllocationStats();
      const os0 = runtime.allocatorStats().allocated;
      denseBlock(x, fast, { out });
      assert.strictEqual(runtime.allocatorStats().allocated - os0, 0, 'native allocations that went to the OS');
      const r2 = await denseBlockAsync(x, fast, { out });
      assert.strictEqual(tensorAllocationStats().bytes - tensors2.bytes, 0, 'tensor bytes allocated with a given out');
      assert.strictEqual(r2.output, out);
      assert.strictEqual(r2.allocatedBytes, 0);
      expectNear(out, expected, tol, 'async into out');
    });
  }

  it('batch 3 into a strided view as out: writes only its channels of the parent', async function () {
    const x = uniformTensor([3, 4, 5, 5], 5);
    const { fast, ref } = makeLayers(4, 2, 3, true, 40);
    const expected = denseBlockRef(x, ref);
    for (const run of [(o: Tensor) => denseBlock(x, fast, { out: o }), (o: Tensor) => denseBlockAsync(x, fast, { out: o })]) {
      const parent = Tensor.zeros([3, 13, 5, 5]);
      const out = parent.sliceChannels(2, 12);
      const r = await run(out);
      assert.strictEqual(r.output, out);
      expectNear(out.contiguous(), expected, tolFor(9 * 10 * 2));
      for (const [a, b] of [[0, 2], [12, 13]]) assert.ok(parent.sliceChannels(a, b).contiguous().data.every((v) => v === 0), `channels [${a}, ${b}) untouched`);
    }
  });

  it('rejects layers whose channels do not chain', function () {
    const x = uniformTensor([1, 4, 5, 5], 2);
    const l0 = new Conv2d(weightTensor(2, 4, 3, 3, 1), { pads: 'same' });
    expectThrows(() => denseBlock(x, [l0, new Conv2d(weightTensor(2, 4, 3, 3, 1), { pads: 'same' })]), RangeError, ['denseBlock', 'layers[1]', 'expects 4', 'the 6 features']);
    expectThrows(() => denseBlock(x, [new Conv2d(weightTensor(2, 4, 3, 3, 1))]), RangeError, ['layers[0]', 'spatial']);
    expectThrows(() => denseBlock(x, [{ conv: l0, bottleneck: new Conv2d(weightTensor(8, 3, 1, 1, 1)) }]), RangeError, ['layers[0].bottleneck', 'expects 3']);
    expectThrows(() => denseBlock(x, [5 as unknown as Conv2d]), TypeError, ['layers[0]']);
    expectThrows(() => denseBlock(x, [l0], { out: Tensor.zeros([1, 5, 5, 5]) }), RangeError, ['out', '[1,6,5,5]']);
  });
});
