// conv2d against lib/reference over random attributes: strides 1–3, dilations 1–3,
// asymmetric / 'same' / 'valid' pads, dense, grouped and depthwise (with channel
// multiplier) convs, kernels 1x1..7x7 and non-square, odd spatial sizes, channel counts
// at SIMD widths ±1, batch 1–3, both layouts, every activation, with and without bias,
// given or fresh outputs at unaligned offsets, sync and async, 1 and 2 threads.
// run-all.js runs this file once per ISA the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Conv2d, Conv2dActivation, Conv2dOptions, Tensor, conv2d, conv2dAsync, runtime } from '../../lib';
import { conv2dRef } from '../../lib/reference/conv2d';
import { WINOGRAD4_TOLERANCE_SCALE } from '../fusion-util';
import { withWinogradTile } from '../helpers';
import { CONV_ACTIVATIONS, checkIsaSelection, expectSlackUntouched, placedOutput, runs, sizeOf, uniform, withThreads } from './generators';

/** Channel counts around the register tiles (MR 4/6/8 rows, NR 4/16/48 lanes). */
const CHANNELS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49];
const ACTIVATIONS = CONV_ACTIVATIONS;
/** Reference multiply-adds per case are kept under this (the JS oracle is the slow part). */
const MAX_MACS = 250_000;

interface Case {
  layout: 'NCHW' | 'NHWC';
  batch: number;
  cin: number;
  cout: number;
  groups: number;
  kh: number;
  kw: number;
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number] | 'same' | 'valid';
  h: number;
  w: number;
  activation: Conv2dActivation;
  alpha: number;
  bias: boolean;
  givenOut: boolean;
  offsets: [number, number];
  seed: number;
}

const channelArb = fc.constantFrom(...CHANNELS);

/** [cin, cout, groups]: dense, grouped, depthwise, depthwise with a channel multiplier. */
const groupingArb: fc.Arbitrary<[number, number, number]> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(channelArb, channelArb).map(([ci, co]): [number, number, number] => [ci, co, 1]) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }))
      .map(([g, ci, co]): [number, number, number] => [g * ci, g * co, g]),
  },
  { weight: 2, arbitrary: channelArb.map((c): [number, number, number] => [c, c, c]) },
  {
    weight: 1,
    arbitrary: fc.tuple(channelArb, fc.integer({ min: 2, max: 3 })).map(([c, m]): [number, number, number] => [c, c * m, c]),
  },
);

const padsArb = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)) },
  { weight: 1, arbitrary: fc.constantFrom<'same' | 'valid'>('same', 'valid') },
);

function outDim(inSize: number, p0: number, p1: number, k: number, s: number, d: number): number {
  const span = inSize + p0 + p1 - ((k - 1) * d + 1);
  return span < 0 ? 0 : Math.floor(span / s) + 1;
}

function macs(c: Case): number {
  const p = c.pads === 'valid' ? [0, 0, 0, 0] : c.pads === 'same' ? [c.kh * c.dilations[0], c.kw * c.dilations[1], 0, 0] : c.pads;
  const ho = c.pads === 'same' ? Math.ceil(c.h / c.strides[0]) : outDim(c.h, p[0], p[2], c.kh, c.strides[0], c.dilations[0]);
  const wo = c.pads === 'same' ? Math.ceil(c.w / c.strides[1]) : outDim(c.w, p[1], p[3], c.kw, c.strides[1], c.dilations[1]);
  return c.batch * c.cout * ho * wo * (c.cin / c.groups) * c.kh * c.kw;
}

/** Makes the input just large enough for the dilated kernel, then shrinks it to the budget. */
function fit(c: Case, extraH: number, extraW: number): Case {
  const [pt, pl, pb, pr] = c.pads === 'same' ? [0, 0, 0, 0] : c.pads === 'valid' ? [0, 0, 0, 0] : c.pads;
  const needH = c.pads === 'same' ? 1 : Math.max(1, (c.kh - 1) * c.dilations[0] + 1 - pt - pb);
  const needW = c.pads === 'same' ? 1 : Math.max(1, (c.kw - 1) * c.dilations[1] + 1 - pl - pr);
  const out = { ...c, h: needH + extraH, w: needW + extraW };
  while (macs(out) > MAX_MACS) {
    if (out.h > needH || out.w > needW) {
      if (out.h - needH >= out.w - needW) out.h = needH + Math.floor((out.h - needH) / 2);
      else out.w = needW + Math.floor((out.w - needW) / 2);
    } else if (out.batch > 1) out.batch--;
    else if (out.kh > 1 && out.kh >= out.kw && c.pads !== 'valid' && c.pads !== 'same') out.kh--;
    else if (out.kw > 1 && c.pads !== 'valid' && c.pads !== 'same') out.kw--;
    else if (out.groups === 1 && out.cin > 1) out.cin = Math.ceil(out.cin / 2);
    else if (out.groups === 1 && out.cout > 1) out.cout = Math.ceil(out.cout / 2);
    else break;
  }
  return out;
}

/** Activation, bias, output placement and data seed: drawn alike for every kind of case. */
const epilogueAndPlacement = {
  activation: fc.constantFrom(...ACTIVATIONS),
  alpha: fc.constantFrom(0.01, 0.2, -0.3),
  bias: fc.boolean(),
  givenOut: fc.boolean(),
  offsets: fc.tuple(fc.nat(3), fc.nat(3)),
  seed: fc.integer(),
};

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    layout: fc.constantFrom<'NCHW' | 'NHWC'>('NCHW', 'NHWC'),
    batch: fc.integer({ min: 1, max: 3 }),
    grouping: groupingArb,
    kh: fc.integer({ min: 1, max: 7 }),
    kw: fc.integer({ min: 1, max: 7 }),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilations: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    pads: padsArb,
    extraH: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(15, 16, 17, 31, 47, 49)),
    extraW: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(15, 16, 17, 31, 47, 49)),
    ...epilogueAndPlacement,
  })
  .map((r) => {
    const [cin, cout, groups] = r.grouping;
    const c: Case = {
      layout: r.layout, batch: r.batch, cin, cout, groups, kh: r.kh, kw: r.kw, strides: r.strides, dilations: r.dilations,
      pads: r.pads, h: 0, w: 0, activation: r.activation, alpha: r.alpha, bias: r.bias, givenOut: r.givenOut,
      offsets: r.offsets, seed: r.seed,
    };
    return fit(c, r.extraH, r.extraW);
  });

/** Dense 3x3 stride-1 NCHW convs with Cin, Cout >= 8: the Winograd F(2x2, 3x3) path. */
const winogradArb: fc.Arbitrary<Case> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    cin: fc.constantFrom(...CHANNELS.filter((c) => c >= 8)),
    cout: fc.constantFrom(...CHANNELS.filter((c) => c >= 8)),
    pads: padsArb,
    extraH: fc.integer({ min: 0, max: 20 }),
    extraW: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constantFrom(45, 46, 47, 48, 49, 95, 96, 97)),
    activation: fc.constantFrom(...ACTIVATIONS),
    bias: fc.boolean(),
    givenOut: fc.boolean(),
    offsets: fc.tuple(fc.nat(3), fc.nat(3)),
    seed: fc.integer(),
  })
  .map((r) => fit({
    layout: 'NCHW', batch: r.batch, cin: r.cin, cout: r.cout, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1],
    pads: r.pads, h: 0, w: 0, activation: r.activation, alpha: 0.2, bias: r.bias, givenOut: r.givenOut, offsets: r.offsets,
    seed: r.seed,
  }, r.extraH, r.extraW));

/**
 * Dense 3x3 stride-1 NCHW convs on maps of 40x40 and up: Winograd F(4x4, 3x3). Its own
 * budget (the general cases shrink every map below that size).
 */
const winograd4Arb: fc.Arbitrary<Case> = fc
  .record({
    batch: fc.constantFrom(1, 1, 2),
    cin: fc.constantFrom(8, 9, 12),  // the transforms' lanes run over tiles, not channels
    cout: fc.constantFrom(8, 9, 17),  // whole and partial MR-row panels
    pads: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2), fc.nat(2)),
    h: fc.integer({ min: 18, max: 30 }),  // outputs of 16+ with any pads
    w: fc.integer({ min: 18, max: 34 }),
    ...epilogueAndPlacement,
  })
  .map((r): Case => ({
    layout: 'NCHW', batch: r.batch, cin: r.cin, cout: r.cout, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1],
    pads: r.pads, h: r.h, w: r.w, activation: r.activation, alpha: r.alpha, bias: r.bias, givenOut: r.givenOut,
    offsets: r.offsets, seed: r.seed,
  }));

function runWinograd4(c: Case): void {
  const p = prepare(c);
  // Forced: the automatic choice keeps convs of <= 64 output channels on maps of <= 28 on F(2x2).
  const conv = withWinogradTile(4, () => new Conv2d(p.weight, { ...p.options, inputSize: [c.h, c.w] }));
  assert.strictEqual(conv.algorithm, 'winograd-f4x4-3x3', describeCase(c));
  // prepare() allows for the transforms' larger rounding error (mayTakeWinograd4).
  verify(c, p, conv.run(p.x, { out: p.out }), 'F(4x4)');
}

/**
 * NCHW k x k convs (not 3x3 stride 1: Winograd's) with 32+ input channels per group and an
 * output channel count per group that fills the indirect tile's lanes: the gathering GEMM.
 */
const gatherArb: fc.Arbitrary<Case> = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    groups: fc.constantFrom(1, 1, 2),
    cinG: fc.constantFrom(32, 33, 47, 48),
    coutG: fc.constantFrom(24, 31, 32, 48),
    kh: fc.integer({ min: 1, max: 5 }),
    kw: fc.integer({ min: 2, max: 5 }),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pads: padsArb,
    extraH: fc.integer({ min: 0, max: 6 }),
    extraW: fc.integer({ min: 0, max: 8 }),
    activation: fc.constantFrom(...ACTIVATIONS),
    bias: fc.boolean(),
    givenOut: fc.boolean(),
    offsets: fc.tuple(fc.nat(3), fc.nat(3)),
    seed: fc.integer(),
  })
  .filter((r) => !(r.kh === 3 && r.kw === 3 && r.strides[0] === 1 && r.strides[1] === 1 && r.dilations[0] === 1 && r.dilations[1] === 1))
  .map((r) => fit({
    layout: 'NCHW', batch: r.batch, cin: r.cinG * r.groups, cout: r.coutG * r.groups, groups: r.groups, kh: r.kh, kw: r.kw,
    strides: r.strides, dilations: r.dilations, pads: r.pads, h: 0, w: 0, activation: r.activation, alpha: 0.2, bias: r.bias,
    givenOut: r.givenOut, offsets: r.offsets, seed: r.seed,
  }, r.extraH, r.extraW));

/**
 * NCHW k x k convs with column stride 2, 32+ input channels and output channels that mostly
 * fill the blocked kernel's panels: the blocked kernel, x reordered into a padded blocked
 * copy and y back inside the call.
 */
const blockedNchwArb: fc.Arbitrary<Case> = fc
  .record({
    batch: fc.integer({ min: 1, max: 2 }),
    cin: fc.constantFrom(32, 33, 47),
    cout: fc.constantFrom(40, 48, 64, 65, 96),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 2, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    dilations: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    pads: padsArb,
    extraH: fc.integer({ min: 0, max: 5 }),
    extraW: fc.integer({ min: 0, max: 14 }),
    ...epilogueAndPlacement,
  })
  .map((r) => fit({
    layout: 'NCHW', batch: r.batch, cin: r.cin, cout: r.cout, groups: 1, kh: r.kh, kw: r.kw, strides: [r.sh, 2],
    dilations: r.dilations, pads: r.pads, h: 0, w: 0, activation: r.activation, alpha: r.alpha, bias: r.bias,
    givenOut: r.givenOut, offsets: r.offsets, seed: r.seed,
  }, r.extraH, r.extraW));

/**
 * NHWC depthwise 3x3 and 5x5, dilation 1, column stride 1 or 2 (any row stride): outputs
 * whose window is inside the image run through the row kernel, the others (padding) through
 * per-tap pointers; widths around its 4-pixel groups, channels around the 2-vector blocks.
 */
const depthwiseRowsArb: fc.Arbitrary<Case> = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    k: fc.constantFrom(3, 5),
    strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1, 2)),
    channels: fc.constantFrom(...CHANNELS, 63, 64, 65, 96),
    pads: padsArb,
    extraH: fc.integer({ min: 0, max: 6 }),
    extraW: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(15, 16, 17, 31)),
    ...epilogueAndPlacement,
  })
  .map((r) => fit({
    layout: 'NHWC', batch: r.batch, cin: r.channels, cout: r.channels, groups: r.channels, kh: r.k, kw: r.k, strides: r.strides,
    dilations: [1, 1], pads: r.pads, h: 0, w: 0, activation: r.activation, alpha: r.alpha, bias: r.bias, givenOut: r.givenOut,
    offsets: r.offsets, seed: r.seed,
  }, r.extraH, r.extraW));

interface Prepared {
  x: Tensor;
  weight: Tensor;
  options: Conv2dOptions;
  expected: Tensor;
  out?: Tensor;
  tol: number;
}

function prepare(c: Case): Prepared {
  const nchw = c.layout === 'NCHW';
  const xShape = nchw ? [c.batch, c.cin, c.h, c.w] : [c.batch, c.h, c.w, c.cin];
  const cinG = c.cin / c.groups;
  const wShape = nchw ? [c.cout, cinG, c.kh, c.kw] : [c.kh, c.kw, cinG, c.cout];
  const x = Tensor.from(uniform(sizeOf(xShape), c.seed, c.offsets[0]), xShape);
  const weight = Tensor.from(uniform(sizeOf(wShape), c.seed + 1), wShape);
  const options: Conv2dOptions = {
    layout: c.layout, groups: c.groups, strides: c.strides, dilations: c.dilations, pads: c.pads,
    activation: c.activation, alpha: c.alpha,
  };
  if (c.bias) options.bias = uniform(c.cout, c.seed + 2);
  const expected = conv2dRef(x, weight, options);
  const out = c.givenOut ? placedOutput(expected.shape, c.offsets[1]) : undefined;
  // float32 accumulation of K products of values in [-1, 1] vs the float64 oracle.
  const k = cinG * c.kh * c.kw;
  const tol = (2e-6 + 1.5e-7 * k) * (mayTakeWinograd4(c, expected.shape) ? WINOGRAD4_TOLERANCE_SCALE : 1);
  return { x, weight, options, expected, out, tol };
}

/**
 * Whether the packing may pick Winograd F(4x4) for the case: a dense NCHW 3x3 stride-1
 * conv with 8+ channels each way whose output map (known to conv2d(), hinted to Conv2d)
 * is 16x16 or larger. Its larger rounding error: see WINOGRAD4_TOLERANCE_SCALE.
 */
function mayTakeWinograd4(c: Case, outShape: readonly number[]): boolean {
  const dense3x3 = c.layout === 'NCHW' && c.groups === 1 && c.kh === 3 && c.kw === 3 &&
    c.strides.every((s) => s === 1) && c.dilations.every((d) => d === 1);
  return dense3x3 && c.cin >= 8 && c.cout >= 8 && outShape[2] >= 16 && outShape[3] >= 16;
}

function describeCase(c: Case): string {
  return `${c.layout} x[${c.batch},${c.cin},${c.h},${c.w}] cout ${c.cout} groups ${c.groups} k ${c.kh}x${c.kw} ` +
    `s [${c.strides}] d [${c.dilations}] pads ${JSON.stringify(c.pads)} ${c.activation}${c.bias ? ' +bias' : ''}`;
}

function verify(c: Case, p: Prepared, result: Tensor, label: string): void {
  const what = `${label} ${describeCase(c)}`;
  assert.deepStrictEqual([...result.shape], [...p.expected.shape], `${what}: shape`);
  for (let i = 0; i < p.expected.size; i++) {
    const e = p.expected.data[i];
    const a = result.data[i];
    if (!(Math.abs(a - e) <= p.tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}: element ${i} is ${a}, expected ${e} (tolerance ${p.tol})`);
    }
  }
  if (p.out !== undefined) {
    assert.strictEqual(result, p.out, `${what}: must return out`);
    expectSlackUntouched(result, what);
  }
  if (p.x.data.byteOffset > 0) expectSlackUntouched(p.x, `${what}: x`);
}

function runSync(c: Case): void {
  const p = prepare(c);
  const result = c.seed % 2 === 0
    ? conv2d(p.x, p.weight, { ...p.options, out: p.out })
    : new Conv2d(p.weight, p.options).run(p.x, { out: p.out });
  verify(c, p, result, 'sync');
}

async function runAsync(c: Case): Promise<void> {
  const p = prepare(c);
  const result = c.seed % 2 === 0
    ? await conv2dAsync(p.x, p.weight, { ...p.options, out: p.out })
    : await new Conv2d(p.weight, p.options).runAsync(p.x, { out: p.out });
  verify(c, p, result, 'async');
}

/** The smallest input the case's kernel fits: a hint for a 1x1 output map. */
function smallestInput(c: Case): [number, number] {
  if (c.pads === 'same') return [1, 1];
  const [pt, pl, pb, pr] = c.pads === 'valid' ? [0, 0, 0, 0] : c.pads;
  return [Math.max(1, (c.kh - 1) * c.dilations[0] + 1 - pt - pb), Math.max(1, (c.kw - 1) * c.dilations[1] + 1 - pl - pr)];
}

/**
 * A Conv2d packed for a small map (the smallest input, or the case's own size), run on the
 * case's input: dense NCHW convs then take the channel-lane GEMM. Returns the algorithm.
 */
function runPackedFor(c: Case, inputSize: [number, number], threads: number): string {
  const p = prepare(c);
  const conv = new Conv2d(p.weight, { ...p.options, inputSize });
  verify(c, p, conv.run(p.x, { out: p.out }), `packed for ${inputSize.join('x')}, ${threads} thread(s)`);
  return conv.algorithm;
}


/**
 * Runs `syncRuns` cases sync on 1 thread and half as many async on 2, each against the
 * reference, and asserts that more than half of them packed as `algorithm`.
 */
async function runMostlyOn(arb: fc.Arbitrary<Case>, algorithm: string, syncRuns: number): Promise<void> {
  let hits = 0, total = 0;
  const count = (c: Case) => {
    total++;
    const p = prepare(c);
    const conv = new Conv2d(p.weight, p.options);
    if (conv.algorithm === algorithm) hits++;
    return { p, conv };
  };
  await withThreads(1, () => fc.assert(fc.property(arb, (c) => {
    const { p, conv } = count(c);
    verify(c, p, conv.run(p.x, { out: p.out }), 'sync, 1 thread');
  }), { numRuns: runs(syncRuns) }));
  await withThreads(2, () => fc.assert(fc.asyncProperty(arb, async (c) => {
    const { p, conv } = count(c);
    verify(c, p, await conv.runAsync(p.x, { out: p.out }), 'async, 2 threads');
  }), { numRuns: runs(syncRuns / 2) }));
  assert.ok(hits > total / 2, `${algorithm} ran in ${hits} of ${total} cases`);
}

describe(`conv2d properties vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(60000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  it('sync, 1 thread', async () => {
    await withThreads(1, () => fc.assert(fc.property(caseArb, runSync), { numRuns: runs(400) }));
  });

  it('sync, 2 threads', async () => {
    await withThreads(2, () => fc.assert(fc.property(caseArb, runSync), { numRuns: runs(250) }));
  });

  it('async (Conv2d.runAsync and conv2dAsync), 2 threads', async () => {
    await withThreads(2, () => fc.assert(fc.asyncProperty(caseArb, runAsync), { numRuns: runs(150) }));
  });

  it('dense 3x3 stride 1 (Winograd F(2x2, 3x3) path), 1 and 2 threads', async () => {
    await withThreads(1, () => fc.assert(fc.property(winogradArb, runSync), { numRuns: runs(100) }));
    await withThreads(2, () => fc.assert(fc.asyncProperty(winogradArb, runAsync), { numRuns: runs(60) }));
  });

  it('dense 3x3 stride 1 on maps >= 40x40 (Winograd F(4x4, 3x3) path), 1 and 2 threads', async () => {
    await withThreads(1, () => fc.assert(fc.property(winograd4Arb, runWinograd4), { numRuns: runs(10) }));
    await withThreads(2, () => fc.assert(fc.property(winograd4Arb, runWinograd4), { numRuns: runs(6) }));
  });

  it('NHWC depthwise 3x3 and 5x5, column stride 1 or 2 (the row kernel inside, pointers at the padding), 1 and 2 threads', async () => {
    await withThreads(1, () => fc.assert(fc.property(depthwiseRowsArb, runSync), { numRuns: runs(120) }));
    await withThreads(2, () => fc.assert(fc.asyncProperty(depthwiseRowsArb, runAsync), { numRuns: runs(60) }));
  });

  it('gathering GEMM (NCHW k x k, 32+ input channels per group), sync 1 thread and async 2 threads', async () => {
    // fit() may halve Cin below 32 to stay in the reference's budget: most cases keep it.
    await runMostlyOn(gatherArb, 'gemm-gather', 120);
  });

  it('blocked kernel inside an NCHW call (k x k, column stride 2), sync 1 thread and async 2 threads', async () => {
    await runMostlyOn(blockedNchwArb, 'blocked-direct', 80);
  });

  it('channel-lane GEMM (packed for a small map, run on any input size), 1 and 2 threads', async () => {
    const denseNchw = caseArb.filter((c) => c.layout === 'NCHW' && c.cin / c.groups > 1);
    for (const threads of [1, 2]) {
      let hits = 0, total = 0;
      await withThreads(threads, () => fc.assert(fc.property(denseNchw, (c) => {
        total++;
        if (runPackedFor(c, smallestInput(c), threads) === 'gemm-channel-lanes') hits++;
      }), { numRuns: runs(threads === 1 ? 250 : 120) }));
      // A hint of a 1-pixel output picks channel lanes unless Cout per group fills few of
      // their lanes or Winograd does better (about a quarter of the random cases on AVX-512's
      // 48 lanes, more on narrower ISAs): enough to test the path on every run.
      assert.ok(hits > total / 8, `channel lanes ran in ${hits} of ${total} cases`);
    }
  });

  it('channel-lane GEMM on ResNet-like small maps (a 3x3 with 4 MiB of Winograd weights, strided 1x1 and 3x3), sync and async', async () => {
    const cases: Case[] = [
      // Winograd's transformed weights for 256 -> 260 channels exceed 4 MiB with 4 tiles to
      // reuse them: the map takes channel lanes, as ResNet's 512x7x7 layers do (3x3 rather
      // than 7x7 keeps the reference conv cheap; 9 pixels are a full 7-row block and a tail).
      { layout: 'NCHW', batch: 1, cin: 256, cout: 260, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], h: 3, w: 3,
        activation: 'relu', alpha: 0.01, bias: true, givenOut: true, offsets: [1, 2], seed: 21 },
      { layout: 'NCHW', batch: 2, cin: 96, cout: 130, groups: 1, kh: 1, kw: 1, strides: [2, 2], dilations: [1, 1], pads: 'valid', h: 14, w: 13,
        activation: 'none', alpha: 0.01, bias: true, givenOut: false, offsets: [0, 0], seed: 22 },
      // A 9x8 output reads 9 padded rows of 9 (81 lanes: two 48-lane tiles); 72 pixels fill 72 of 77 channel-tile rows.
      { layout: 'NCHW', batch: 1, cin: 48, cout: 96, groups: 2, kh: 3, kw: 3, strides: [2, 2], dilations: [1, 1], pads: [1, 1, 0, 1], h: 18, w: 15,
        activation: 'silu', alpha: 0.01, bias: false, givenOut: true, offsets: [3, 1], seed: 23 },
    ];
    for (const threads of [1, 2]) {
      await withThreads(threads, async () => {
        for (const c of cases) {
          const algorithm = runPackedFor(c, [c.h, c.w], threads);
          // AVX-512's 48-lane tile is the one small maps leave empty; AVX2 (16 lanes) and
          // scalar fill theirs and may keep pixel lanes here.
          if (runtime.info().isa === 'avx512') assert.strictEqual(algorithm, 'gemm-channel-lanes', describeCase(c));
          const p = prepare({ ...c, seed: c.seed + 1 });
          const conv = new Conv2d(p.weight, { ...p.options, inputSize: [c.h, c.w] });
          verify(c, p, await conv.runAsync(p.x, { out: p.out }), `async, ${threads} thread(s)`);
        }
      });
    }
  });

  it('every spatial width 1..50 around the register tile (3x3 pad 1, dense and depthwise, both layouts)', () => {
    for (let w = 1; w <= 50; w++) {
      for (const layout of ['NCHW', 'NHWC'] as const) {
        const base: Case = {
          layout, batch: 1, cin: 9, cout: 10, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1],
          h: 3, w, activation: 'none', alpha: 0.01, bias: true, givenOut: w % 2 === 0, offsets: [w % 4, (w + 1) % 4], seed: w,
        };
        runSync(base);
        runSync({ ...base, cin: 17, cout: 17, groups: 17, strides: [1, 2] });
        runSync({ ...base, cin: 33, cout: 33, groups: 33 });
        if (layout === 'NCHW') runSync({ ...base, cin: 32, cout: 24, strides: [2, 1] });  // the gathering GEMM
      }
    }
  });

  describe('bench-like shapes (several tiles, the pool splits the work)', () => {
    const shapes: Case[] = [
      { layout: 'NCHW', batch: 1, cin: 32, cout: 40, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], h: 20, w: 22,
        activation: 'relu', alpha: 0.01, bias: true, givenOut: true, offsets: [1, 2], seed: 11 },
      { layout: 'NCHW', batch: 2, cin: 64, cout: 24, groups: 1, kh: 1, kw: 1, strides: [1, 1], dilations: [1, 1], pads: 'valid', h: 19, w: 21,
        activation: 'silu', alpha: 0.01, bias: true, givenOut: false, offsets: [0, 0], seed: 12 },
      { layout: 'NCHW', batch: 1, cin: 24, cout: 72, groups: 1, kh: 3, kw: 3, strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], h: 28, w: 28,
        activation: 'none', alpha: 0.01, bias: true, givenOut: true, offsets: [3, 1], seed: 13 },
      { layout: 'NCHW', batch: 2, cin: 64, cout: 64, groups: 64, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], h: 30, w: 30,
        activation: 'relu6', alpha: 0.01, bias: true, givenOut: true, offsets: [2, 2], seed: 14 },
      { layout: 'NCHW', batch: 1, cin: 48, cout: 40, groups: 1, kh: 3, kw: 3, strides: [2, 2], dilations: [1, 1], pads: [1, 1, 1, 1], h: 28, w: 27,
        activation: 'relu', alpha: 0.01, bias: true, givenOut: true, offsets: [1, 1], seed: 17 },
      { layout: 'NHWC', batch: 1, cin: 32, cout: 40, groups: 1, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: 'same', h: 20, w: 22,
        activation: 'leakyRelu', alpha: 0.1, bias: true, givenOut: true, offsets: [1, 3], seed: 15 },
      { layout: 'NHWC', batch: 2, cin: 64, cout: 64, groups: 64, kh: 3, kw: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], h: 30, w: 30,
        activation: 'sigmoid', alpha: 0.01, bias: true, givenOut: false, offsets: [0, 0], seed: 16 },
    ];
    for (const threads of [1, 2]) {
      for (const c of shapes) {
        it(`${describeCase(c)}, ${threads} thread(s), sync and async`, async () => {
          await withThreads(threads, async () => {
            runSync(c);
            await runAsync({ ...c, seed: c.seed + 1 });
          });
        });
      }
    }
  });
});
