// relu, sigmoid, clip, leakyRelu, softmax, weightedSum, maxPool2d, resize, upsampleNearest, slice and split
// against lib/reference over random shapes (dims at SIMD widths ±1 included), outputs fresh,
// given at awkward offsets and in place, sync and async, and large enough for the pool.
// run-all.js runs this file once per ISA the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import * as fc from 'fast-check';
import {
  Tensor, clip, clipAsync, leakyRelu, leakyReluAsync, maxPool2d, maxPool2dAsync, relu, reluAsync, resize, resizeAsync, sigmoid, sigmoidAsync, slice, sliceAsync,
  softmax, softmaxAsync, split, splitAsync, upsampleNearest, upsampleNearestAsync, weightedSum, weightedSumAsync,
} from '../../lib';
import type { MaxPool2dOptions, ResizeOptions, SliceSpec } from '../../lib';
import * as ref from '../../lib/reference';
import { expectClose, Tolerance } from '../onnx-cases';
import { rng, viewAt } from '../helpers';
import {
  SIMD_SIZES, checkIsaSelection, dimArb, expectSlackUntouched, placedOutput, placedTensor, runs, shapeArb, sizeOf, withThreads,
} from './generators';

const EXACT: Tolerance = { atol: 0, rtol: 0 };
/** sigmoid / softmax: a vectorised exp (~2 ulp) and float32 sums. */
const TRANSCENDENTAL: Tolerance = { atol: 1e-7, rtol: 2e-5 };
const ARITH: Tolerance = { atol: 1e-5, rtol: 1e-5 };

type OutMode = 'fresh' | 'given' | 'inplace';
const outModeArb = fc.constantFrom<OutMode>('fresh', 'given', 'inplace');
const offsetArb = fc.integer({ min: 0, max: 3 });

/** Moderate finite values (plus signed zeros): for ops whose float64 reference would round differently on huge ones. */
function moderateTensor(shape: readonly number[], seed: number, offset: number): Tensor {
  const r = rng(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = r() < 0.02 ? (r() < 0.5 ? 0 : -0) : (r() - 0.5) * 16;
  return Tensor.from(offset ? viewAt(data, offset) : data, shape);
}

function outFor(mode: OutMode, x: Tensor, shape: readonly number[], offset: number): Tensor | undefined {
  if (mode === 'given') return placedOutput(shape, offset);
  if (mode === 'inplace') return x;
  return undefined;
}

function checkResult(result: Tensor, expected: ref.RefResult, out: Tensor | undefined, tol: Tolerance, label: string): void {
  expectClose(result, expected, tol, label);
  if (out !== undefined) {
    assert.strictEqual(result, out, `${label}: must return out`);
    if (out.data.byteOffset > 0) expectSlackUntouched(out, label);
  }
}

// ---- relu / sigmoid / softmax ----------------------------------------------------------

type UnaryOpName = 'relu' | 'sigmoid' | 'clip' | 'leakyRelu';
interface UnaryCase { op: UnaryOpName; shape: number[]; out: OutMode; offsets: [number, number]; seed: number; bounds?: [number, number] }
/** clip bounds: ReLU6, one-sided, equal, infinite, around the data's range. */
const boundsArb = fc.constantFrom<[number, number]>([0, 6], [-Infinity, 0.25], [-0.5, Infinity], [0.3, 0.3], [-Infinity, Infinity], [-2, 1.5], [-0, 0]);
const unaryArb: fc.Arbitrary<UnaryCase> = fc.record({
  op: fc.constantFrom<UnaryOpName>('relu', 'sigmoid', 'clip', 'leakyRelu'),
  shape: shapeArb(0, 4, 6000),
  out: outModeArb,
  offsets: fc.tuple(offsetArb, offsetArb),
  seed: fc.integer(),
  bounds: boundsArb,
});

/** The op under test, its async form and its reference, with c's clip bounds (leakyRelu: the first is the slope) bound in. */
function unaryOps(c: UnaryCase): [(x: Tensor, o?: { out: Tensor }) => Tensor, (x: Tensor, o?: { out: Tensor }) => Promise<Tensor>, (x: Tensor) => ref.RefResult] {
  const [lo, hi] = c.bounds ?? [0, 6];
  if (c.op === 'clip') return [(x, o) => clip(x, lo, hi, o), (x, o) => clipAsync(x, lo, hi, o), (x) => ref.clip(x, lo, hi)];
  if (c.op === 'leakyRelu') {
    const a = Number.isFinite(lo) ? lo : 0.1;
    return [(x, o) => leakyRelu(x, a, o), (x, o) => leakyReluAsync(x, a, o), (x) => ref.leakyRelu(x, a)];
  }
  return c.op === 'relu' ? [relu, reluAsync, ref.relu] : [sigmoid, sigmoidAsync, ref.sigmoid];
}

async function runUnary(c: UnaryCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.offsets[0]);
  const [f, fa, r] = unaryOps(c);
  const expected = r(x);
  const before = x.data.slice();
  const out = outFor(c.out, x, c.shape, c.offsets[1]);
  const opts = out ? { out } : undefined;
  const result = async ? await fa(x, opts) : f(x, opts);
  const label = `${async ? 'async' : 'sync'} ${c.op}${c.op === 'clip' ? `(${c.bounds})` : ''} [${c.shape}] out=${c.out}`;
  checkResult(result, expected, out, c.op === 'sigmoid' ? TRANSCENDENTAL : c.op === 'leakyRelu' ? ARITH : EXACT, label);
  if (c.out !== 'inplace') assert.deepStrictEqual(x.data, before, `${label}: x changed`);
}

interface SoftmaxCase { shape: number[]; axis: number; out: OutMode; offsets: [number, number]; seed: number }
const softmaxArb: fc.Arbitrary<SoftmaxCase> = shapeArb(1, 4, 6000).chain((shape) => fc.record({
  shape: fc.constant(shape),
  axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
  out: outModeArb,
  offsets: fc.tuple(offsetArb, offsetArb),
  seed: fc.integer(),
}));

async function runSoftmax(c: SoftmaxCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.offsets[0]);
  const expected = ref.softmax(x, c.axis);
  const out = outFor(c.out, x, c.shape, c.offsets[1]);
  const opts = out ? { out } : undefined;
  const result = async ? await softmaxAsync(x, c.axis, opts) : softmax(x, c.axis, opts);
  checkResult(result, expected, out, TRANSCENDENTAL, `${async ? 'async' : 'sync'} softmax [${c.shape}] axis ${c.axis} out=${c.out}`);
}

// ---- weightedSum ------------------------------------------------------------------------

interface WeightedCase { shape: number[]; count: number; out: OutMode; offset: number; seed: number }
const weightedArb: fc.Arbitrary<WeightedCase> = fc.record({
  shape: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 }), dimArb, dimArb).map((s) => s.slice()),
  count: fc.integer({ min: 1, max: 4 }),
  out: outModeArb,
  offset: offsetArb,
  seed: fc.integer(),
});

async function runWeighted(c: WeightedCase, async: boolean): Promise<void> {
  const [n, , h, w] = c.shape;
  const xs = Array.from({ length: c.count }, (_, i) => moderateTensor(c.shape, c.seed + i, (c.offset + i) % 4));
  const ws = Array.from({ length: c.count }, (_, i) => moderateTensor([n, 1, h, w], c.seed ^ (0x9e3779b9 + i), (c.offset + i + 1) % 4));
  const expected = ref.weightedSum(xs, ws);
  const out = outFor(c.out, xs[0], c.shape, c.offset);
  const opts = out ? { out } : undefined;
  const result = async ? await weightedSumAsync(xs, ws, opts) : weightedSum(xs, ws, opts);
  checkResult(result, expected, out, ARITH, `${async ? 'async' : 'sync'} weightedSum ${c.count} x [${c.shape}] out=${c.out}`);
}

// ---- maxPool2d ----------------------------------------------------------------------------

interface PoolCase { shape: number[]; o: MaxPool2dOptions; given: boolean; offset: number; seed: number }
/** Kernels up to `k`, strides up to `s`, dilations up to `d`. */
const poolArbOf = (k: number, s: number, d: number): fc.Arbitrary<PoolCase> => fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(...SIMD_SIZES)),
    fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(...SIMD_SIZES))).map((sh) => sh.slice()),
  kernel: fc.tuple(fc.integer({ min: 1, max: k }), fc.integer({ min: 1, max: k })),
  strides: fc.tuple(fc.integer({ min: 1, max: s }), fc.integer({ min: 1, max: s })),
  dilations: fc.tuple(fc.integer({ min: 1, max: d }), fc.integer({ min: 1, max: d })),
  padFrac: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
  ceilMode: fc.boolean(),
  given: fc.boolean(),
  offset: offsetArb,
  seed: fc.integer(),
}).map((r) => ({
  shape: r.shape,
  // Pads below the kernel extent, as ONNX requires.
  o: {
    kernel: r.kernel, strides: r.strides, dilations: r.dilations, ceilMode: r.ceilMode,
    pads: [r.padFrac[0] % r.kernel[0], r.padFrac[1] % r.kernel[1], r.padFrac[2] % r.kernel[0], r.padFrac[3] % r.kernel[1]] as [number, number, number, number],
  },
  given: r.given, offset: r.offset, seed: r.seed,
}));
const poolArb = poolArbOf(5, 3, 2);
/** 3x3 at stride 1 padded by 1 all round (the output the input's size): the whole-plane kernel. */
const samePoolArb = poolArbOf(3, 1, 1).map((c) => ({ ...c, o: { ...c.o, kernel: [3, 3], pads: [1, 1, 1, 1] } as MaxPool2dOptions }));
/** 3x3 at stride 2, pads 0-1 (ceil mode either way): the even/odd column kernel. */
const stride2PoolArb = poolArbOf(3, 1, 1).map((c) => ({
  ...c,
  o: { ...c.o, kernel: [3, 3], strides: [2, 2], pads: c.o.pads && [c.o.pads[0] % 2, c.o.pads[1] % 2, c.o.pads[2] % 2, c.o.pads[3] % 2] } as MaxPool2dOptions,
}));

async function runPool(c: PoolCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.offset);
  const expected = ref.maxPool2d(x, c.o);
  const label = `${async ? 'async' : 'sync'} maxPool2d [${c.shape}] ${JSON.stringify(c.o)}`;
  if (expected.shape[2] < 1 || expected.shape[3] < 1) {
    assert.throws(() => maxPool2d(x, c.o), RangeError, label);
    return;
  }
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const o = { ...c.o, out };
  checkResult(async ? await maxPool2dAsync(x, o) : maxPool2d(x, o), expected, out, EXACT, label);
}

// ---- resize / upsampleNearest -----------------------------------------------------------

interface ResizeCase { shape: number[]; o: ResizeOptions; given: boolean; offset: number; seed: number }
const spatialArb = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(7, 8, 9, 15, 16, 17));
const scaleArb = fc.oneof(fc.constantFrom(0.5, 0.6, 1, 1.5, 2, 2.5, 3, 4), fc.double({ min: 0.3, max: 4, noNaN: true }).map(Math.fround));
const resizeArb: fc.Arbitrary<ResizeCase> = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), spatialArb, spatialArb).map((s) => s.slice()),
  mode: fc.constantFrom('nearest' as const, 'linear' as const),
  ctm: fc.constantFrom('half_pixel' as const, 'asymmetric' as const, 'align_corners' as const, 'pytorch_half_pixel' as const, 'half_pixel_symmetric' as const),
  nearest: fc.constantFrom('round_prefer_floor' as const, 'round_prefer_ceil' as const, 'floor' as const, 'ceil' as const),
  bySize: fc.boolean(),
  sizes: fc.tuple(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(...SIMD_SIZES)), fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(...SIMD_SIZES))),
  scales: fc.tuple(scaleArb, scaleArb),
  given: fc.boolean(),
  offset: offsetArb,
  seed: fc.integer(),
}).map((r) => ({
  shape: r.shape,
  o: {
    mode: r.mode, coordinateTransformationMode: r.ctm, nearestMode: r.nearest,
    ...(r.bySize ? { sizes: r.sizes } : { scales: r.scales }),
  },
  given: r.given, offset: r.offset, seed: r.seed,
}));

async function runResize(c: ResizeCase, async: boolean): Promise<void> {
  const x = c.o.mode === 'linear' ? moderateTensor(c.shape, c.seed, c.offset) : placedTensor(c.shape, c.seed, c.offset);
  const expected = ref.resize(x, c.o);
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const o = { ...c.o, out };
  const label = `${async ? 'async' : 'sync'} resize [${c.shape}] ${JSON.stringify(c.o)}`;
  checkResult(async ? await resizeAsync(x, o) : resize(x, o), expected, out, c.o.mode === 'linear' ? ARITH : EXACT, label);
}

interface UpsampleCase { shape: number[]; scale: number | [number, number] | { size: [number, number] }; seed: number }
const upsampleArb: fc.Arbitrary<UpsampleCase> = fc.record({
  shape: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), spatialArb, spatialArb).map((s) => s.slice()),
  scale: fc.oneof(
    fc.integer({ min: 1, max: 4 }),
    fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 })).map((size) => ({ size })),
  ),
  seed: fc.integer(),
});

async function runUpsample(c: UpsampleCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.seed & 3);
  const expected = ref.upsampleNearest(x, c.scale);
  const result = async ? await upsampleNearestAsync(x, c.scale) : upsampleNearest(x, c.scale);
  checkResult(result, expected, undefined, EXACT, `${async ? 'async' : 'sync'} upsampleNearest [${c.shape}] ${JSON.stringify(c.scale)}`);
}

// ---- slice / split ----------------------------------------------------------------------

interface SliceCase { shape: number[]; spec: SliceSpec; given: boolean; offset: number; seed: number }
const sliceArb: fc.Arbitrary<SliceCase> = shapeArb(1, 4, 4000).chain((shape) => {
  const rank = shape.length;
  return fc.record({
    shape: fc.constant(shape),
    axes: fc.shuffledSubarray([...Array(rank).keys()], { minLength: 1 }),
    bounds: fc.array(fc.tuple(fc.integer({ min: -80, max: 80 }), fc.integer({ min: -80, max: 80 }), fc.constantFrom(-3, -2, -1, 1, 1, 2, 3)), { minLength: rank, maxLength: rank }),
    negativeAxes: fc.boolean(),
    given: fc.boolean(),
    offset: offsetArb,
    seed: fc.integer(),
  }).map((r) => ({
    shape,
    spec: {
      starts: r.axes.map((a) => r.bounds[a][0]),
      ends: r.axes.map((a) => r.bounds[a][1]),
      axes: r.axes.map((a) => (r.negativeAxes ? a - rank : a)),
      steps: r.axes.map((a) => r.bounds[a][2]),
    },
    given: r.given, offset: r.offset, seed: r.seed,
  }));
});

async function runSlice(c: SliceCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.offset);
  const expected = ref.slice(x, c.spec);
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const opts = out ? { out } : undefined;
  const label = `${async ? 'async' : 'sync'} slice [${c.shape}] ${JSON.stringify(c.spec)}`;
  checkResult(async ? await sliceAsync(x, c.spec, opts) : slice(x, c.spec, opts), expected, out, EXACT, label);
}

interface SplitCase { shape: number[]; axis: number; parts: number | number[]; seed: number }
const splitArb: fc.Arbitrary<SplitCase> = shapeArb(1, 4, 4000).chain((shape) => fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((axis) => {
  const len = shape[axis < 0 ? axis + shape.length : axis];
  const cuts = fc.array(fc.integer({ min: 0, max: len }), { maxLength: 4 }).map((cs) => {
    const sorted = [0, ...cs.sort((a, b) => a - b), len];
    return sorted.slice(1).map((v, i) => v - sorted[i]);
  });
  return fc.record({
    shape: fc.constant(shape), axis: fc.constant(axis),
    parts: fc.oneof(fc.integer({ min: 1, max: 5 }), cuts),
    seed: fc.integer(),
  });
}));

async function runSplit(c: SplitCase, async: boolean): Promise<void> {
  const x = placedTensor(c.shape, c.seed, c.seed & 3);
  const len = c.shape[c.axis < 0 ? c.axis + c.shape.length : c.axis];
  const sizes = typeof c.parts === 'number'
    ? Array.from({ length: c.parts }, (_, i) => Math.max(0, Math.min(Math.ceil(len / (c.parts as number)), len - i * Math.ceil(len / (c.parts as number)))))
    : c.parts;
  if (typeof c.parts === 'number' && c.parts > Math.max(len, 1)) {
    // A count past the axis length is a RangeError (main 706ed12: no 2^31 empty tensors).
    const call = () => (async ? splitAsync(x, c.axis, c.parts) : split(x, c.axis, c.parts));
    await assert.rejects(async () => call(), RangeError);
    return;
  }
  const expected = ref.split(x, c.axis, sizes);
  const result = async ? await splitAsync(x, c.axis, c.parts) : split(x, c.axis, c.parts);
  assert.strictEqual(result.length, expected.length);
  result.forEach((t, i) => expectClose(t, expected[i], EXACT, `split [${c.shape}] axis ${c.axis} ${JSON.stringify(c.parts)} part ${i}`));
}

// ---- the suite ----------------------------------------------------------------------------

const PROPERTIES: [string, fc.Arbitrary<never>, (c: never, async: boolean) => Promise<void>, number][] = [
  ['relu / sigmoid / clip / leakyRelu', unaryArb as fc.Arbitrary<never>, runUnary as never, 150],
  ['softmax', softmaxArb as fc.Arbitrary<never>, runSoftmax as never, 150],
  ['weightedSum', weightedArb as fc.Arbitrary<never>, runWeighted as never, 120],
  ['maxPool2d', poolArb as fc.Arbitrary<never>, runPool as never, 150],
  ['maxPool2d, 3x3 / stride 1 / pad 1', samePoolArb as fc.Arbitrary<never>, runPool as never, 100],
  ['maxPool2d, 3x3 / stride 2 / pads 0-1', stride2PoolArb as fc.Arbitrary<never>, runPool as never, 100],
  ['resize', resizeArb as fc.Arbitrary<never>, runResize as never, 120],
  ['upsampleNearest', upsampleArb as fc.Arbitrary<never>, runUpsample as never, 100],
  ['slice', sliceArb as fc.Arbitrary<never>, runSlice as never, 150],
  ['split', splitArb as fc.Arbitrary<never>, runSplit as never, 100],
];

describe(`fusion-block ops vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(20000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  for (const [name, arb, run, n] of PROPERTIES) {
    it(`${name}: sync`, async () => {
      await fc.assert(fc.asyncProperty(arb, (c) => run(c, false)), { numRuns: runs(n) });
    });
    it(`${name}: async`, async () => {
      await fc.assert(fc.asyncProperty(arb, (c) => run(c, true)), { numRuns: runs(Math.ceil(n / 3)) });
    });
  }

  it('relu / sigmoid / clip / leakyRelu / softmax rows at every length 0..70 (SIMD tails), in place and not', async () => {
    for (let n = 0; n <= 70; n++) {
      for (const op of ['relu', 'sigmoid', 'clip', 'leakyRelu'] as const) {
        for (const out of ['fresh', 'given', 'inplace'] as const) await runUnary({ op, shape: [n], out, offsets: [n % 4, (n + 1) % 4], seed: n }, false);
      }
      if (n > 0) {
        await runSoftmax({ shape: [2, n], axis: 1, out: 'given', offsets: [1, 2], seed: n }, false);
        await runSoftmax({ shape: [3, 2, n], axis: 1, out: 'inplace', offsets: [3, 0], seed: n }, false);
      }
      await runWeighted({ shape: [1, 2, 1, n], count: 3, out: 'given', offset: n % 4, seed: n }, false);
    }
  });

  it('sigmoid: relative error <= 2e-6 over [-87, 87], exact limits, NaN propagates', () => {
    const n = 200001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -87 + (174 * i) / (n - 1);
    const y = sigmoid(Tensor.from(x, [n])).data;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const e = 1 / (1 + Math.exp(-x[i]));
      worst = Math.max(worst, Math.abs(y[i] - e) / e);
    }
    assert.ok(worst <= 2e-6, `worst relative error ${worst}`);
    const special = sigmoid(Tensor.from(new Float32Array([-Infinity, Infinity, NaN, -1e30, 1e30, -200, 200, 0, -0]), [9])).data;
    assert.deepStrictEqual(Array.from(special).slice(0, 2), [0, 1]);
    assert.ok(Number.isNaN(special[2]));
    assert.deepStrictEqual(Array.from(special).slice(3), [0, 1, 0, 1, 0.5, 0.5]);
  });

  it('softmax: large magnitudes stay finite (max subtracted), a NaN poisons only its row', () => {
    const x = Tensor.from(new Float32Array([1e30, 1e30, -1e30, 3e38, NaN, 1, 2, 3, 4]), [3, 3]);
    const y = softmax(x, 1).data;
    expectClose({ data: y.subarray(0, 3), shape: [3] }, { data: [0.5, 0.5, 0], shape: [3] }, TRANSCENDENTAL);
    assert.ok(Array.from(y.subarray(3, 6)).every(Number.isNaN));
    expectClose({ data: y.subarray(6), shape: [3] }, ref.softmax(Tensor.from(new Float32Array([2, 3, 4]), [3])), TRANSCENDENTAL);
  });

  describe('large tensors (> 2^18 elements: the thread pool runs), 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      it(`every op, ${threads} thread(s), sync and async`, async () => {
        await withThreads(threads, async () => {
          const x = placedTensor([1, 8, 160, 208], 5, 1);
          for (const op of ['relu', 'sigmoid', 'clip', 'leakyRelu'] as const) {
            const [f, fa, r] = unaryOps({ op, shape: [], out: 'fresh', offsets: [0, 0], seed: 0, bounds: [-0.25, 0.5] });
            const e = r(x);
            expectClose(f(x), e, TRANSCENDENTAL);
            expectClose(await fa(x), e, TRANSCENDENTAL);
          }
          for (const axis of [1, 3]) expectClose(await softmaxAsync(x, axis), ref.softmax(x, axis), TRANSCENDENTAL);
          const xs = [0, 1, 2].map((i) => moderateTensor([2, 16, 96, 96], 20 + i, i));
          const ws = [0, 1, 2].map((i) => moderateTensor([2, 1, 96, 96], 30 + i, i));
          expectClose(weightedSum(xs, ws), ref.weightedSum(xs, ws), ARITH);
          const pool = { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } as const;
          expectClose(await maxPool2dAsync(x, pool), ref.maxPool2d(x, pool), EXACT);
          const pool5 = { kernel: [5, 5], pads: [2, 2, 2, 2] } as const;
          expectClose(maxPool2d(x, pool5), ref.maxPool2d(x, pool5), EXACT);
          expectClose(upsampleNearest(x, 2), ref.upsampleNearest(x, 2), EXACT);
          const s = x.reshape([8, 160, 208]);
          const spec = { starts: [7, -1, 1], ends: [-100, -200, 200], steps: [-1, -1, 2] };
          expectClose(await sliceAsync(s, spec), ref.slice(s, spec), EXACT);
          const parts = split(s, 1, [60, 100]);
          parts.forEach((p, i) => expectClose(p, ref.split(s, 1, [60, 100])[i], EXACT));
          // Bilinear: compare with the single-call result on a small crop (the float64 reference is slow).
          const big = moderateTensor([1, 8, 128, 128], 9, 0);
          const up = await resizeAsync(big, { scales: [2, 2], mode: 'linear' });
          const crop = Tensor.from(big.data.slice(0, 128 * 128), [1, 1, 128, 128]);
          expectClose({ data: up.data.subarray(0, 256 * 256), shape: [1, 1, 256, 256] }, resize(crop, { scales: [2, 2], mode: 'linear' }), EXACT);
          const small = Tensor.from(big.data.slice(0, 24 * 24), [1, 1, 24, 24]);
          expectClose(resize(small, { sizes: [37, 53], mode: 'linear' }), ref.resize(small, { sizes: [37, 53], mode: 'linear' }), ARITH);
        });
      });
    }
  });
});
