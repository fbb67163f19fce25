// The blocked channel layout (NCHWc) and the blocked conv against lib/reference over random
// shapes: channel counts around the block (the ISA's lanes) and the tile's panel of blocks,
// 1x1 (pixels as one run) and k x k kernels with row strides 1-3, column strides 1-2,
// dilations 1-2 and asymmetric pads, maps whose rows leave a short last tile, batch 1-3,
// every activation, with and without bias, given or fresh outputs (with slack around them),
// a residual skip (separate or the output itself), x blocked or NCHW (input 'NCHW'), an
// input affine with or without ReLU, 1 and 2 threads. Dense 3x3 stride-1 convs
// run Winograd between reorders; the rest the direct kernel.
// run-all.js runs this file once per ISA the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Conv2dActivation, Tensor } from '../../lib';
import {
  BlockedConv2d, blockedChannelAffine, blockedLanes, blockedShape, fromBlocked, prepareBlockedChannelAffine, prepareReorder, toBlocked,
} from '../../lib/ops/blocked';
import { activationRef, conv2dRef } from '../../lib/reference/conv2d';
import { native } from '../../lib/native';
import { withWinogradTile } from '../helpers';
import { CONV_ACTIVATIONS, checkIsaSelection, expectSlackUntouched, placedOutput, runs, sizeOf, uniform, withThreads } from './generators';

/** Values in [-1, 1) at `offset` elements into a buffer with marked slack. */
function uniformTensor(shape: readonly number[], seed: number, offset: number): Tensor {
  return Tensor.from(uniform(sizeOf(shape), seed, offset), shape);
}

const CHANNELS = [1, 3, 4, 5, 8, 9, 15, 16, 17, 31, 33, 48, 63, 64, 65, 80, 129];
const ACTIVATIONS = CONV_ACTIVATIONS;

const geometryArb = fc.oneof(
  fc.constant({ kh: 1, kw: 1, strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number], pads: [0, 0, 0, 0] as [number, number, number, number] }),
  fc.record({
    kh: fc.integer({ min: 1, max: 5 }),
    kw: fc.integer({ min: 1, max: 5 }),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
    dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
  }),
  // strided 1x1 (unpadded: the picked pixels run as a stride-1 conv)
  fc.record({
    kh: fc.constant(1),
    kw: fc.constant(1),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 })),
    dilations: fc.constant([1, 1] as [number, number]),
    pads: fc.constant([0, 0, 0, 0] as [number, number, number, number]),
  }),
  // dense 3x3 stride 1: Winograd (with 8+ channels each way), drawn as often as the rest
  {
    weight: 3,
    arbitrary: fc.record({
      kh: fc.constant(3),
      kw: fc.constant(3),
      strides: fc.constant([1, 1] as [number, number]),
      dilations: fc.constant([1, 1] as [number, number]),
      pads: fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), fc.nat(1)),
    }),
  },
);

const caseArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  cin: fc.constantFrom(...CHANNELS),
  cout: fc.constantFrom(...CHANNELS),
  geometry: geometryArb,
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 13 }),
  activation: fc.constantFrom(...ACTIVATIONS),
  bias: fc.boolean(),
  givenOut: fc.boolean(),
  skip: fc.constantFrom('none', 'separate', 'out'),
  nchwInput: fc.boolean(),
  nchwOutput: fc.boolean(),  // (not with nchwInput)
  inputSize: fc.boolean(),
  offset: fc.nat(5),
  threads: fc.constantFrom(1, 2),
  affine: fc.constantFrom('none', 'none', 'plain', 'relu'),
  seed: fc.integer(),
});

/** x with the input affine applied channel by channel (the reference's input). */
function affineRef(x: Tensor, scale: Float32Array, shift: Float32Array, relu: boolean): Tensor {
  const [n, c, h, w] = x.shape;
  const out = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const ch = Math.floor(i / (h * w)) % c;
    const v = Math.fround(x.data[i] * scale[ch] + shift[ch]);
    out[i] = relu ? Math.max(0, v) : v;
  }
  return Tensor.from(out, [n, c, h, w]);
}

/** The NCHW value of channel c, pixel q of image n in a blocked array. */
function blockedAt(b: Float32Array, shape: readonly number[], n: number, c: number, q: number): number {
  const [, blocks, h, w, l] = shape;
  return b[((n * blocks + Math.floor(c / l)) * h * w + q) * l + (c % l)];
}

describe(`blocked layout and conv (isa ${process.env.TENSORFUSE_ISA ?? 'best'})`, function () {
  this.timeout(20000);
  before(checkIsaSelection);

  it('toBlocked puts channel c of pixel q at lane c % L of block c / L, zero past C, and fromBlocked inverts it', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const shape = [c.batch, c.cin, c.h, c.w];
      const x = uniformTensor(shape, c.seed, c.offset);
      const out = c.givenOut ? placedOutput(blockedShape(shape), c.offset) : undefined;
      const b = toBlocked(x, { out });
      const l = blockedLanes();
      assert.deepStrictEqual(b.shape, [c.batch, Math.ceil(c.cin / l), c.h, c.w, l]);
      const hw = c.h * c.w;
      for (let n = 0; n < c.batch; n++) {
        for (let ch = 0; ch < b.shape[1] * l; ch++) {
          for (let q = 0; q < hw; q++) {
            const want = ch < c.cin ? x.data[(n * c.cin + ch) * hw + q] : 0;
            assert.strictEqual(blockedAt(b.data, b.shape, n, ch, q), want, `image ${n} channel ${ch} pixel ${q}`);
          }
        }
      }
      if (out) expectSlackUntouched(out, 'toBlocked out');
      const back = fromBlocked(b, c.cin);
      assert.deepStrictEqual(Array.from(back.data), Array.from(x.data));
    }), { numRuns: runs(60) });
  });

  it('prepareReorder (a compiled model\'s layout steps) reorders as toBlocked / fromBlocked; the binding checks the buffers', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const shape = [c.batch, c.cin, c.h, c.w];
      const x = uniformTensor(shape, c.seed, 0);
      const want = toBlocked(x);
      const b = new Float32Array(want.size);
      prepareReorder('toBlocked', shape).run(x.data, b);
      assert.deepStrictEqual(Array.from(b), Array.from(want.data));
      const back = new Float32Array(x.size);
      prepareReorder('fromBlocked', shape).run(b, back);
      assert.deepStrictEqual(Array.from(back), Array.from(x.data));
    }), { numRuns: runs(30) });
    assert.throws(() => prepareReorder('toBlocked', [1, 4, 2]), (e: Error) => e instanceof RangeError && /rank 4/.test(e.message));
    const to = prepareReorder('toBlocked', [1, 4, 2, 2]);
    assert.throws(() => to.run(new Float32Array(15), new Float32Array(sizeOf(blockedShape([1, 4, 2, 2])))), RangeError);
    assert.throws(() => to.run(new Float32Array(16), new Float32Array(sizeOf(blockedShape([1, 4, 2, 2])) - 1)), RangeError);
  });

  it('prepareBlockedChannelAffine (a compiled model\'s TfAffine steps) is blockedChannelAffine, in place too; checked once, then by the binding', () => {
    const l = blockedLanes();
    const x = toBlocked(uniformTensor([2, 2 * l, 3, 5], 9, 0));
    const scale = uniformTensor([2 * l], 10, 0).data, shift = uniformTensor([2 * l], 11, 0).data;
    const want = blockedChannelAffine(x, scale, shift, { activation: 'relu' });
    const prepared = prepareBlockedChannelAffine(x.shape, scale, shift, 'relu');
    const got = new Float32Array(x.size);
    prepared.run(x.data, got);
    assert.deepStrictEqual(Array.from(got), Array.from(want.data));
    const inPlace = x.data.slice();
    prepared.run(inPlace, inPlace);
    assert.deepStrictEqual(Array.from(inPlace), Array.from(want.data));
    assert.throws(() => prepareBlockedChannelAffine(x.shape, scale.subarray(1), shift, 'relu'), (e: Error) => e instanceof RangeError && /scale/.test(e.message));
    assert.throws(() => prepareBlockedChannelAffine(x.shape, scale, shift, 'sigmoid' as never), (e: Error) => e instanceof RangeError && /activation/.test(e.message));
    assert.throws(() => prepared.run(x.data, got.subarray(1)), RangeError);
  });

  it('BlockedConv2d.prepareRun (a compiled model\'s conv steps) computes what run() does, skip included; the binding checks the buffers', async () => {
    const x = toBlocked(uniformTensor([1, 20, 9, 7], 5, 0));
    const conv = new BlockedConv2d(uniformTensor([24, 20, 3, 3], 6, 0), { bias: uniformTensor([24], 7, 0).data, pads: [1, 1, 1, 1], strides: [2, 1] });
    const skip = uniformTensor(conv.outputShape(x.shape), 8, 0);
    const want = conv.run(x, { skip: { skip, activation: 'relu', alpha: 0.01 } });
    const p = conv.prepareRun(x.shape, { activation: 'relu', alpha: 0.01 });
    assert.deepStrictEqual(p.outShape, want.shape);
    const got = new Float32Array(want.size);
    p.run(x.data, got, skip.data);
    assert.deepStrictEqual(Array.from(got), Array.from(want.data));
    const got2 = new Float32Array(want.size);
    await p.runAsync(x.data, got2, skip.data);
    assert.deepStrictEqual(Array.from(got2), Array.from(want.data));
    assert.throws(() => conv.prepareRun([1, 2, 9, 7, 3]), RangeError);
    assert.throws(() => p.run(x.data.subarray(1), got, skip.data), RangeError);
    assert.throws(() => p.run(x.data, got.subarray(1), skip.data), RangeError);
  });

  it('BlockedConv2d of a blocked x is the reference conv, blocked', async () => {
    let winogradCases = 0, cases = 0;
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const g = c.geometry;
      // Grow the map until the (dilated) kernel fits.
      const h = Math.max(c.h, (g.kh - 1) * g.dilations[0] + 1 - g.pads[0] - g.pads[2]);
      const w = Math.max(c.w, (g.kw - 1) * g.dilations[1] + 1 - g.pads[1] - g.pads[3]);
      const xShape = [c.batch, c.cin, h, w];
      const x = uniformTensor(xShape, c.seed, 0);
      const weight = uniformTensor([c.cout, c.cin, g.kh, g.kw], c.seed + 1, 0);
      const bias = c.bias ? uniformTensor([c.cout], c.seed + 2, 0).data : undefined;
      const residual = c.skip !== 'none';
      // With a residual the activation follows the skip: the conv's own is 'none'.
      const nchwOutput = c.nchwOutput && !c.nchwInput;
      const options = {
        bias, activation: residual ? 'none' as const : c.activation, alpha: 0.2, strides: g.strides, dilations: g.dilations, pads: g.pads,
        inputSize: c.inputSize ? [h, w] : undefined, input: c.nchwInput ? 'NCHW' as const : undefined, output: nchwOutput ? 'NCHW' as const : undefined,
      };
      // The input affine: 1x1 stride-1 unpadded convs of blocked x apply it tile run by tile
      // run, the rest to a copy of x; scales of both signs, so the ReLU clips some channels.
      const affine = c.affine === 'none' ? undefined : {
        scale: uniformTensor([c.cin], c.seed + 4, 0).data.map((v) => 2 * v),
        shift: uniformTensor([c.cin], c.seed + 5, 0).data,
        activation: c.affine === 'relu' ? 'relu' as const : 'none' as const,
      };
      const expected = conv2dRef(affine ? affineRef(x, affine.scale, affine.shift, c.affine === 'relu') : x, weight, options);
      const conv = new BlockedConv2d(weight, { ...options, inputAffine: affine });
      // Winograd only for dense 3x3 stride-1 convs (small maps with few outputs stay direct)
      const eligible = g.kh === 3 && g.kw === 3 && g.strides.every((s) => s === 1) && g.dilations.every((d) => d === 1) && c.cin >= 8 && c.cout >= 8;
      const winograd = /^winograd-f[24]x[24]-3x3$/.test(conv.algorithm);
      cases++;
      if (winograd) winogradCases++;
      // NCHW input or output: always the direct kernel (NCHW input: one input lane per reduction block)
      const direct = c.nchwInput || nchwOutput;
      assert.ok(winograd ? eligible && !direct : conv.algorithm === 'blocked-direct', `${conv.algorithm} for ${JSON.stringify(c)}`);
      // without a size hint nothing steers an eligible blocked conv off Winograd
      if (eligible && !direct && !c.inputSize) assert.ok(winograd, `${conv.algorithm} for ${JSON.stringify(c)}`);
      const yShape = conv.outputShape(c.nchwInput ? xShape : blockedShape(xShape));
      assert.deepStrictEqual(yShape, nchwOutput ? expected.shape : blockedShape(expected.shape));
      const out = c.givenOut || c.skip === 'out' ? placedOutput(yShape, c.offset) : undefined;
      let skipTensor: Tensor | undefined;
      if (residual) {
        const skipNchw = uniformTensor(expected.shape, c.seed + 3, 0);
        if (nchwOutput) {
          skipTensor = c.skip === 'out' ? out! : skipNchw;
          if (c.skip === 'out') out!.data.set(skipNchw.data);
        } else {
          skipTensor = toBlocked(skipNchw, c.skip === 'out' ? { out } : undefined);
        }
        for (let i = 0; i < expected.size; i++) expected.data[i] = activationRef(expected.data[i] + skipNchw.data[i], c.activation, 0.2);
      }
      const skip = skipTensor ? { skip: skipTensor, activation: c.activation, alpha: 0.2 } : undefined;
      const y = await withThreads(c.threads, () => conv.run(c.nchwInput ? x : toBlocked(x), { out, skip }));
      if (out) {
        assert.strictEqual(y, out);
        expectSlackUntouched(out, 'BlockedConv2d out');
      }
      const got = nchwOutput ? y : fromBlocked(y, c.cout);
      const tol = (winograd ? 1e-4 : 1e-5) * Math.max(1, c.cin * g.kh * g.kw);
      for (let i = 0; i < got.size; i++) {
        const e = expected.data[i];
        assert.ok(Math.abs(got.data[i] - e) <= tol * Math.max(1, Math.abs(e)), `element ${i}: ${got.data[i]} vs ${e} (${JSON.stringify(c)})`);
      }
      // Lanes past Cout hold finite values (the next blocked conv multiplies them by zero weights).
      for (const v of y.data) assert.ok(Number.isFinite(v), `a lane of y is ${v} (${JSON.stringify(c)})`);
      conv.dispose();
    }), { numRuns: runs(90) });
    assert.ok(winogradCases > 0, `none of ${cases} cases ran Winograd`);
  });

  it('Winograd F(4x4) over blocked maps of 16+ (band copies and output rows with tails of 1-3 tiles)', async () => {
    const arb = fc.record({
      cin: fc.constantFrom(8, 16, 17, 33),
      cout: fc.constantFrom(8, 16, 17, 33),
      h: fc.integer({ min: 18, max: 30 }),  // outputs of 16+ (pad 0): tails of 1-3 tiles
      w: fc.integer({ min: 18, max: 30 }),
      pad: fc.constantFrom(0, 1),
      skip: fc.constantFrom('none', 'separate', 'out'),
      threads: fc.constantFrom(1, 2),
      seed: fc.integer(),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const x = uniformTensor([1, c.cin, c.h, c.w], c.seed, 0);
      const weight = uniformTensor([c.cout, c.cin, 3, 3], c.seed + 1, 0);
      const bias = uniformTensor([c.cout], c.seed + 2, 0).data;
      const p = c.pad;
      const options = { bias, pads: [p, p, p, p] as [number, number, number, number], inputSize: [c.h, c.w] };
      // Forced: the automatic choice keeps convs of <= 64 output channels on maps of <= 28 on F(2x2).
      const conv = withWinogradTile(4, () => new BlockedConv2d(weight, { ...options, activation: c.skip === 'none' ? 'relu' : 'none' }));
      assert.strictEqual(conv.algorithm, 'winograd-f4x4-3x3');
      const expected = conv2dRef(x, weight, { ...options, activation: 'none' });
      const yShape = conv.outputShape(blockedShape(x.shape));
      const out = c.skip === 'out' ? placedOutput(yShape, 0) : undefined;
      const skipNchw = uniformTensor(expected.shape, c.seed + 3, 0);
      const skip = c.skip === 'none' ? undefined : { skip: toBlocked(skipNchw, c.skip === 'out' ? { out } : undefined), activation: 'relu' as const, alpha: 0 };
      for (let i = 0; i < expected.size; i++) expected.data[i] = Math.max(0, expected.data[i] + (skip ? skipNchw.data[i] : 0));
      const got = fromBlocked(await withThreads(c.threads, () => conv.run(toBlocked(x), { out, skip })), c.cout);
      const tol = 2e-4 * c.cin * 9;
      for (let i = 0; i < got.size; i++) {
        assert.ok(Math.abs(got.data[i] - expected.data[i]) <= tol * Math.max(1, Math.abs(expected.data[i])), `element ${i}: ${got.data[i]} vs ${expected.data[i]} (${JSON.stringify(c)})`);
      }
      conv.dispose();
    }), { numRuns: runs(16) });
  });

  it('blockedChannelAffine is the per-channel affine (+ReLU) of the NCHW tensor, blocked; in place too', () => {
    const l = blockedLanes();
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.boolean(), fc.integer(), (blocks, n, h, w, relu, inPlace, seed) => {
      const c = blocks * l;
      const x = uniformTensor([n, c, h, w], seed, 0);
      const scale = uniformTensor([c], seed + 1, 0).data.map((v) => 2 * v), shift = uniformTensor([c], seed + 2, 0).data;
      const xb = toBlocked(x);
      const y = blockedChannelAffine(xb, scale, shift, { activation: relu ? 'relu' : 'none', out: inPlace ? xb : undefined });
      if (inPlace) assert.strictEqual(y, xb);
      const got = fromBlocked(y, c), want = affineRef(x, scale, shift, relu);
      for (let i = 0; i < got.size; i++) assert.ok(Math.abs(got.data[i] - want.data[i]) <= 1e-6 * Math.max(1, Math.abs(want.data[i])), `element ${i}: ${got.data[i]} vs ${want.data[i]}`);
    }), { numRuns: runs(30) });
    const xb = Tensor.zeros([1, 2, 3, 3, l]);
    const s2 = new Float32Array(2 * l);
    assert.throws(() => blockedChannelAffine(Tensor.zeros([1, 2 * l, 3, 3]), s2, s2), (e: Error) => e instanceof RangeError && /x must be \[N, C \/ \d+, H, W, \d+\]/.test(e.message));
    assert.throws(() => blockedChannelAffine(xb, new Float32Array(l), s2), (e: Error) => e instanceof RangeError && /scale has \d+ values/.test(e.message));
    assert.throws(() => blockedChannelAffine(xb, s2, [0] as never), TypeError);
    assert.throws(() => blockedChannelAffine(xb, s2, s2, { activation: 'sigmoid' as never }), (e: Error) => e instanceof RangeError && /activation/.test(e.message));
    // the binding checks again: channels in whole blocks, lengths
    if (l > 1) assert.throws(() => native.channelAffine(new Float32Array(9 * (l + 1)), 1, l + 1, 9, new Float32Array(l + 1), new Float32Array(l + 1), false, new Float32Array(9 * (l + 1)), false, true), (e: Error) => e instanceof RangeError && /whole blocks/.test(e.message));
    assert.throws(() => native.channelAffine(new Float32Array(9 * l), 1, l, 9, new Float32Array(l), new Float32Array(l), false, new Float32Array(9 * l - 1), false, true), RangeError);
  });

  it('rejects what it does not run, naming the shapes', () => {
    const l = blockedLanes();
    const w3 = Tensor.zeros([8, 4, 3, 3]);
    assert.throws(() => new BlockedConv2d(w3, { strides: [1, 3] }), (e: Error) => e instanceof RangeError && /column strides 1 and 2/.test(e.message) && /\[1, 3\]/.test(e.message));
    assert.throws(() => new BlockedConv2d(w3, { groups: 2 } as never), (e: Error) => e instanceof RangeError && /groups 1 only, got groups 2/.test(e.message));
    new BlockedConv2d(w3, { groups: 1 } as never).dispose();
    const c3 = new BlockedConv2d(w3);
    assert.throws(() => c3.run(Tensor.zeros(blockedShape([1, 4, 2, 5]))), (e: Error) => e instanceof RangeError && /does not fit/.test(e.message));
    c3.dispose();
    const conv = new BlockedConv2d(Tensor.zeros([8, 4, 1, 1]));
    assert.throws(() => conv.run(Tensor.zeros([1, 4, 3, 3])), (e: Error) => e instanceof RangeError && /x must be \[N, \d+, H, W, \d+\]/.test(e.message) && /\[1,4,3,3\]/.test(e.message));
    assert.throws(() => conv.run(Tensor.zeros([1, Math.ceil(4 / l) + 1, 3, 3, l])), RangeError);
    const x = Tensor.zeros(blockedShape([1, 4, 3, 3]));
    assert.throws(() => conv.run(x, { out: Tensor.zeros([1, Math.ceil(8 / l) + 1, 3, 3, l]) }), (e: Error) => e instanceof RangeError && /out has shape/.test(e.message));
    const square = new BlockedConv2d(Tensor.zeros([4, 4, 1, 1]));
    assert.throws(() => square.run(x, { out: x }), (e: Error) => e instanceof RangeError && /overlaps/.test(e.message));
    const skipShape = square.outputShape(x.shape);
    assert.throws(() => square.run(x, { skip: { skip: Tensor.zeros([1, 4, 3, 3]), activation: 'relu', alpha: 0 } }), (e: Error) => e instanceof RangeError && /skip must have the output's shape/.test(e.message));
    assert.throws(() => square.run(x, { skip: { skip: x, activation: 'relu', alpha: 0 } }), (e: Error) => e instanceof RangeError && /skip .* overlaps x/.test(e.message));
    assert.throws(() => square.run(x, { skip: { skip: Tensor.zeros(skipShape), activation: 'tanh' as never, alpha: 0 } }), (e: Error) => e instanceof RangeError && /skip.activation/.test(e.message));
    const withRelu = new BlockedConv2d(Tensor.zeros([4, 4, 1, 1]), { activation: 'relu' });
    assert.throws(() => withRelu.run(x, { skip: { skip: Tensor.zeros(skipShape), activation: 'none', alpha: 0 } }), (e: Error) => e instanceof RangeError && /own activation/.test(e.message));
    withRelu.dispose();
    square.dispose();
    assert.throws(() => toBlocked(Tensor.zeros([2, 3, 4])), (e: Error) => e instanceof RangeError && /rank 4/.test(e.message));
    assert.throws(() => fromBlocked(x, 40), (e: Error) => e instanceof RangeError && /40 channels/.test(e.message));
    assert.throws(() => fromBlocked(x, 0), TypeError);
    conv.dispose();
    assert.throws(() => conv.run(x), TypeError);
    assert.strictEqual(sizeOf(conv.outputShape(x.shape)), Math.ceil(8 / l) * l * 9);
  });

  it('the binding checks again: no call from JS reads or writes out of bounds', () => {
    const l = blockedLanes();
    const params = (sw: number, groups = 1) => [2, groups, 1, sw, 1, 1, 0, 0, 0, 0];
    assert.throws(() => native.conv2dCreate(new Float32Array(8 * 4 * 9), [8, 4, 3, 3], null, params(3)), (e: Error) => e instanceof RangeError && /blocked/.test(e.message));
    assert.throws(() => native.conv2dCreate(new Float32Array(8 * 2), [8, 2, 1, 1], null, params(1, 2)), (e: Error) => e instanceof RangeError && /blocked/.test(e.message));
    const h = native.conv2dCreate(new Float32Array(8 * 4), [8, 4, 1, 1], null, params(1));
    const xs = [1, Math.ceil(4 / l), 2, 2, l];
    const ys = [1, Math.ceil(8 / l), 2, 2, l];
    const x = new Float32Array(sizeOf(xs));
    const y = new Float32Array(sizeOf(ys));
    native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false);
    native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, undefined, new Float32Array(sizeOf(ys)), 1, 0);
    native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, undefined, y, 1, 0);
    assert.throws(() => native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, undefined, new Float32Array(sizeOf(ys) - 1), 1, 0), (e: Error) => e instanceof RangeError && /skip/.test(e.message));
    assert.throws(() => native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, undefined, y.subarray(1), 1, 0), RangeError);
    assert.throws(() => native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, undefined, y, 9, 0), (e: Error) => e instanceof RangeError && /act/.test(e.message));
    assert.throws(() => native.conv2dRun(h, x, xs, [0, 0, 0, 0], y, false, [0, 0], y, 1, 0), (e: Error) => e instanceof RangeError && /strides/.test(e.message));
    assert.throws(() => native.conv2dRun(h, x, xs, [0, 0, 0, 0], y.subarray(1), false), RangeError);
    assert.throws(() => native.conv2dRun(h, x, xs, [1, 0, 0, 0], y, false), (e: Error) => e instanceof RangeError && /out has/.test(e.message));
    const k5 = native.conv2dCreate(new Float32Array(8 * 4 * 25), [8, 4, 5, 5], null, params(1));
    assert.throws(() => native.conv2dRun(k5, x, xs, [0, 0, 0, 0], y, false), (e: Error) => e instanceof RangeError && /does not fit/.test(e.message));
    native.conv2dDispose(k5);
    assert.throws(() => native.conv2dRun(h, x, [1, xs[1], 2, 2, l + 1], [0, 0, 0, 0], y, false), RangeError);
    assert.throws(() => native.conv2dRun(h, x, [1, xs[1], 2, 2], [0, 0, 0, 0], y, false), (e: Error) => e instanceof RangeError && /rank 5/.test(e.message));
    assert.throws(() => native.toBlocked(new Float32Array(16), [1, 4, 2, 2], new Float32Array(sizeOf(xs) - 1)), RangeError);
    assert.throws(() => native.fromBlocked(new Float32Array(sizeOf(xs) - 1), [1, 4, 2, 2], new Float32Array(16)), RangeError);
    assert.throws(() => native.toBlocked(new Float32Array(16), [1, 4, 2], new Float32Array(16)), RangeError);
    native.conv2dDispose(h);
  });
});
