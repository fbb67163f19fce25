// Fusion blocks against lib/reference/fusion.ts over random shapes: concatConv / addConv
// (1-4 inputs, channel counts at SIMD widths ±1, 1x1 / 3x3, strides, groups on input
// boundaries, batch 1-2, given outputs at unaligned offsets), fpnMerge (with and without
// reduce / smooth convs) and asff at the 3 levels (odd sizes at level 0, both activations),
// sync and async, 1 and 2 pool threads. run-all.js runs this file once per ISA.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Conv2d, Conv2dActivation, Conv2dWeightOptions, Tensor, addConv, addConvAsync, asff, asffAsync, concatConv, concatConvAsync, convResidual, convResidualAsync, createAsffParams, fpnMerge, fpnMergeAsync } from '../../lib';
import { addConvRef, asffRef, concatConvRef, convResidualRef, fpnMergeRef } from '../../lib/reference';
import { asffChainK, asffTestWeights, expectNear, tolFor, uniformTensor, weightTensor } from '../fusion-util';
import { checkIsaSelection, expectSlackUntouched, placedOutput, runs, withThreads } from './generators';

const CH = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];
const chArb = fc.constantFrom(...CH);
const actArb = fc.constantFrom<Conv2dActivation>('none', 'relu', 'leakyRelu', 'relu6');

interface ConvCase {
  n: number;
  chans: number[];
  cout: number;
  k: 1 | 3;
  stride: number;
  groups: number;
  h: number;
  w: number;
  act: Conv2dActivation;
  bias: boolean;
  offset: number;
  async: boolean;
  threads: number;
  /** Pack the conv for this input size: small maps then take the channel-lane GEMM. */
  hint: boolean;
  seed: number;
}

const convCaseArb = (add: boolean): fc.Arbitrary<ConvCase> => fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  chans: add ? fc.tuple(chArb, fc.integer({ min: 1, max: 4 })).map(([c, k]) => new Array<number>(k).fill(c)) : fc.array(chArb, { minLength: 1, maxLength: 4 }),
  cout: chArb,
  k: fc.constantFrom<1 | 3>(1, 3),
  stride: fc.integer({ min: 1, max: 2 }),
  groups: fc.constantFrom(1, 1, 2, 3),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  act: actArb,
  bias: fc.boolean(),
  offset: fc.integer({ min: 0, max: 5 }),
  async: fc.boolean(),
  threads: fc.integer({ min: 1, max: 2 }),
  hint: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
}).map((c) => {
  // Grouped convs: every input must cover whole groups, so a concat takes one input per group;
  // an add takes inputs of groups * c channels.
  if (c.groups === 1) return c;
  const g = c.groups;
  return { ...c, chans: add ? c.chans.map((ch) => g * ch) : new Array<number>(g).fill(c.chans[0]), cout: g * c.cout };
});

async function checkConvCase(c: ConvCase, add: boolean): Promise<void> {
  const xs = c.chans.map((ch, i) => uniformTensor([c.n, ch, c.h, c.w], c.seed + i));
  const cin = add ? c.chans[0] : c.chans.reduce((s, v) => s + v, 0);
  const w = weightTensor(c.cout, cin / c.groups, c.k, c.k, c.seed + 10);
  const p = (c.k - 1) / 2;
  const o: Conv2dWeightOptions = { strides: [c.stride, c.stride], pads: [p, p, p, p], groups: c.groups, activation: c.act, alpha: 0.1 };
  if (c.bias) o.bias = uniformTensor([c.cout], c.seed + 11);
  const conv = new Conv2d(w, c.hint ? { ...o, inputSize: [c.h, c.w] } : o);
  const expected = add ? addConvRef(xs, { weight: w, options: o }) : concatConvRef(xs, { weight: w, options: o });
  const out = c.offset > 0 ? placedOutput(expected.shape, c.offset) : undefined;
  const run = add ? (c.async ? addConvAsync : addConv) : (c.async ? concatConvAsync : concatConv);
  const y = await withThreads(c.threads, () => run(xs, conv, { out }));
  const label = `${add ? 'addConv' : 'concatConv'} ${JSON.stringify(c)}`;
  expectNear(y, expected, tolFor((cin / c.groups) * c.k * c.k * (add ? c.chans.length : 1)), label);
  if (out) {
    assert.strictEqual(y, out);
    expectSlackUntouched(out, label);
  }
}

describe(`fusion block properties vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(60000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  it('concatConv == conv(concat(inputs))', async function () {
    await fc.assert(fc.asyncProperty(convCaseArb(false), (c) => checkConvCase(c, false)), { numRuns: runs(150) });
  });

  it('addConv == conv(sum(inputs))', async function () {
    await fc.assert(fc.asyncProperty(convCaseArb(true), (c) => checkConvCase(c, true)), { numRuns: runs(100) });
  });

  // The native fused paths the generic cases above reach rarely: Winograd (3x3 s1, Cin and
  // Cout >= 8, larger images), depthwise (groups = Cin) and the residual epilogue.
  it('concatConv / addConv on the Winograd and depthwise paths', async function () {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }), chans: fc.array(chArb, { minLength: 1, maxLength: 4 }), cout: fc.constantFrom(8, 9, 16, 17),
      depthwise: fc.boolean(), add: fc.boolean(), stride: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 1, max: 20 }), w: fc.integer({ min: 1, max: 20 }), act: actArb, async: fc.boolean(),
      threads: fc.integer({ min: 1, max: 2 }), seed: fc.integer({ min: 1, max: 1e6 }),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const chans = c.add ? new Array<number>(c.chans.length).fill(Math.max(8, c.chans[0])) : c.chans.length === 1 ? [Math.max(8, c.chans[0])] : c.chans;
      const xs = chans.map((ch, i) => uniformTensor([c.n, ch, c.h, c.w], c.seed + i));
      const cin = c.add ? chans[0] : chans.reduce((s, v) => s + v, 0);
      const groups = c.depthwise ? cin : 1;
      const cout = c.depthwise ? cin : c.cout;
      const w = weightTensor(cout, cin / groups, 3, 3, c.seed + 10);
      const o: Conv2dWeightOptions = { strides: c.depthwise ? [c.stride, c.stride] : [1, 1], pads: [1, 1, 1, 1], groups, activation: c.act, alpha: 0.1, bias: uniformTensor([cout], c.seed + 11) };
      const conv = new Conv2d(w, o);
      const expected = c.add ? addConvRef(xs, { weight: w, options: o }) : concatConvRef(xs, { weight: w, options: o });
      const run = c.add ? (c.async ? addConvAsync : addConv) : (c.async ? concatConvAsync : concatConv);
      const y = await withThreads(c.threads, () => run(xs, conv));
      expectNear(y, expected, tolFor((cin / groups) * 9 * (c.add ? chans.length : 1)), `${JSON.stringify(c)}`);
    }), { numRuns: runs(80) });
  });

  it('convResidual == act(conv(x) + skip) (the epilogue on every conv path)', async function () {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }), cin: chArb, cout: chArb, k: fc.constantFrom(1, 3), stride: fc.integer({ min: 1, max: 2 }),
      pad: fc.boolean(), depthwise: fc.boolean(), h: fc.integer({ min: 1, max: 12 }), w: fc.integer({ min: 1, max: 12 }),
      convAct: fc.constantFrom<Conv2dActivation>('none', 'none', 'relu'),
      act: fc.constantFrom<Conv2dActivation>('none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'), bias: fc.boolean(),
      async: fc.boolean(), threads: fc.integer({ min: 1, max: 2 }), hint: fc.boolean(), seed: fc.integer({ min: 1, max: 1e6 }),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const p = c.pad ? (c.k - 1) / 2 : 0;
      if (c.h + 2 * p < c.k || c.w + 2 * p < c.k) return;
      const groups = c.depthwise ? c.cin : 1;
      const cout = c.depthwise ? c.cin : c.cout;
      const x = uniformTensor([c.n, c.cin, c.h, c.w], c.seed);
      const w = weightTensor(cout, c.cin / groups, c.k, c.k, c.seed + 1);
      const o: Conv2dWeightOptions = { strides: [c.stride, c.stride], pads: [p, p, p, p], groups, activation: c.convAct };
      if (c.bias) o.bias = uniformTensor([cout], c.seed + 2);
      const conv = new Conv2d(w, c.hint ? { ...o, inputSize: [c.h, c.w] } : o);
      const skip = uniformTensor(conv.outputShape(x.shape), c.seed + 3);
      const expected = convResidualRef(x, { weight: w, options: o }, skip, c.act, 0.2);
      const y = await withThreads(c.threads, () => (c.async ? convResidualAsync : convResidual)(x, conv, skip, { activation: c.act, alpha: 0.2 }));
      expectNear(y, expected, tolFor((c.cin / groups) * c.k * c.k), `convResidual ${JSON.stringify(c)}`);
    }), { numRuns: runs(120) });
  });

  it('fpnMerge == smooth(up2(reduce(top)) + lateral(l))', async function () {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }),
      ct: chArb, cl: chArb, cm: chArb, cs: chArb, reduce: fc.boolean(), smooth: fc.boolean(),
      async: fc.boolean(), threads: fc.integer({ min: 1, max: 2 }), seed: fc.integer({ min: 1, max: 1e6 }),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const ct = c.reduce ? c.ct : c.cm;
      const top = uniformTensor([c.n, ct, c.h, c.w], c.seed);
      const lateral = uniformTensor([c.n, c.cl, 2 * c.h, 2 * c.w], c.seed + 1);
      const mk = (cout: number, cin: number, k: number, s: number, act: Conv2dActivation = 'none') => {
        const p = (k - 1) / 2;
        const o: Conv2dWeightOptions = { pads: [p, p, p, p], bias: uniformTensor([cout], s + 1), activation: act };
        const weight = weightTensor(cout, cin, k, k, s);
        return { c: new Conv2d(weight, o), ref: { weight, options: o } };
      };
      const lat = mk(c.cm, c.cl, 1, c.seed + 2), red = mk(c.cm, ct, 1, c.seed + 4, 'relu'), smo = mk(c.cs, c.cm, 3, c.seed + 6);
      const expected = fpnMergeRef(top, lateral, { lateralConv: lat.ref, reduceConv: c.reduce ? red.ref : undefined, smoothConv: c.smooth ? smo.ref : undefined });
      const opts = { lateralConv: lat.c, reduceConv: c.reduce ? red.c : undefined, smoothConv: c.smooth ? smo.c : undefined };
      const y = await withThreads(c.threads, () => (c.async ? fpnMergeAsync : fpnMerge)(top, lateral, opts));
      expectNear(y, expected, tolFor(ct + c.cl + 9 * c.cm), `fpnMerge ${JSON.stringify(c)}`);
    }), { numRuns: runs(80) });
  });

  for (const level of [0, 1, 2] as const) {
    it(`asff at level ${level} == the reference transcription`, async function () {
      const small = fc.integer({ min: 1, max: 6 });
      const arb = fc.record({
        n: fc.integer({ min: 1, max: 2 }), h: fc.integer({ min: 1, max: 3 }), w: fc.integer({ min: 1, max: 3 }),
        c: fc.tuple(small, small, small), compress: fc.integer({ min: 1, max: 4 }), outC: small, odd: fc.boolean(),
        relu6: fc.boolean(), compress1: fc.boolean(), async: fc.boolean(), threads: fc.integer({ min: 1, max: 2 }),
        seed: fc.integer({ min: 1, max: 1e6 }),
      });
      await fc.assert(fc.asyncProperty(arb, async (c) => {
        // Level 0 may take odd finer sizes: the stride-2 conv and the max-pool round up.
        const odd = level === 0 && c.odd;
        const h1 = odd ? 2 * c.h - 1 : 2 * c.h, w1 = odd ? 2 * c.w - 1 : 2 * c.w;
        const h2 = odd ? 2 * h1 - 1 : 2 * h1, w2 = odd ? 2 * w1 - 1 : 2 * w1;
        const levels: [Tensor, Tensor, Tensor] = [
          uniformTensor([c.n, c.c[0], c.h, c.w], c.seed, 2), uniformTensor([c.n, c.c[1], h1, w1], c.seed + 1, 2), uniformTensor([c.n, c.c[2], h2, w2], c.seed + 2, 2),
        ];
        const weights = asffTestWeights(level, c.c, c.compress, c.outC, c.seed + 3, c.compress1);
        const options = { activation: c.relu6 ? 'relu6' as const : 'leakyRelu' as const };
        const expected = asffRef(levels, weights, level, options);
        const params = createAsffParams(weights, level, options);
        const y = await withThreads(c.threads, () => (c.async ? asffAsync : asff)(levels, params, level));
        expectNear(y, expected, tolFor(asffChainK(c.c, level, c.compress)), `asff level ${level} ${JSON.stringify(c)}`);
      }), { numRuns: runs(60) });
    });
  }
});
