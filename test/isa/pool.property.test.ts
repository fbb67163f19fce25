// avgPool2d (NCHW and NHWC), maxPool2d in NHWC (NaN wins or is ignored), globalAvgPool /
// globalMaxPool and lrn against lib/reference over random shapes and attributes (channel
// counts at SIMD widths +-1, where the NHWC and LRN kernels switch between whole vectors
// and tails), outputs fresh or given at awkward offsets, sync and async, and large enough
// for the thread pool. run-all.js runs this file once per ISA the CPU supports.
import * as assert from 'assert';
import * as fc from 'fast-check';
import {
  Tensor, avgPool2d, avgPool2dAsync, globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync, lrn, lrnAsync,
  maxPool2d, maxPool2dAsync,
} from '../../lib';
import type { AvgPool2dOptions, LrnOptions, MaxPool2dOptions } from '../../lib';
import * as ref from '../../lib/reference';
import { expectClose, Tolerance } from '../onnx-cases';
import { rng, viewAt } from '../helpers';
import { SIMD_SIZES, checkIsaSelection, expectSlackUntouched, placedOutput, placedTensor, runs, sizeOf, withThreads } from './generators';

const EXACT: Tolerance = { atol: 0, rtol: 0 };
/** Float32 sums in another order than the float64 reference. */
const ARITH: Tolerance = { atol: 1e-5, rtol: 1e-5 };
/** LRN: float32 square sums, square roots or powf against float64 Math.pow. */
const LRN_TOL: Tolerance = { atol: 1e-6, rtol: 2e-5 };

const offsetArb = fc.integer({ min: 0, max: 3 });
const spatialArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(15, 16, 17));
const channelArb = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constantFrom(...SIMD_SIZES));

/** Moderate finite values (plus signed zeros): sums stay far from float32 cancellation. */
function moderateTensor(shape: readonly number[], seed: number, offset: number): Tensor {
  const r = rng(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = r() < 0.02 ? (r() < 0.5 ? 0 : -0) : (r() - 0.5) * 16;
  return Tensor.from(offset ? viewAt(data, offset) : data, shape);
}

function checkResult(result: Tensor, expected: ref.RefResult, out: Tensor | undefined, tol: Tolerance, label: string): void {
  expectClose(result, expected, tol, label);
  if (out !== undefined) {
    assert.strictEqual(result, out, `${label}: must return out`);
    if (out.data.byteOffset > 0) expectSlackUntouched(out, label);
  }
}

// ---- window pooling -----------------------------------------------------------------------

interface PoolCase {
  /** NCHW or NHWC as o.layout says. */
  shape: number[];
  o: MaxPool2dOptions & AvgPool2dOptions;
  given: boolean;
  offset: number;
  seed: number;
}

/** Windows of up to maxKernel taps per axis over maps of `spatial` sizes. */
const poolCases = (spatial: fc.Arbitrary<number>, maxKernel: number): fc.Arbitrary<PoolCase> => fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: channelArb,
  h: spatial,
  w: spatial,
  layout: fc.constantFrom('NCHW' as const, 'NHWC' as const),
  kernel: fc.tuple(fc.integer({ min: 1, max: maxKernel }), fc.integer({ min: 1, max: maxKernel })),
  strides: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  dilations: fc.oneof({ weight: 3, arbitrary: fc.constant([1, 1] as [number, number]) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })) }),
  padFrac: fc.tuple(fc.nat(4), fc.nat(4), fc.nat(4), fc.nat(4)),
  ceilMode: fc.boolean(),
  countIncludePad: fc.boolean(),
  ignoreNaN: fc.boolean(),
  given: fc.boolean(),
  offset: offsetArb,
  seed: fc.integer(),
}).map((r) => ({
  shape: r.layout === 'NHWC' ? [r.n, r.h, r.w, r.c] : [r.n, r.c, r.h, r.w],
  // Pads below the kernel extent, as ONNX requires.
  o: {
    kernel: r.kernel, strides: r.strides, dilations: r.dilations, ceilMode: r.ceilMode, layout: r.layout,
    pads: [r.padFrac[0] % r.kernel[0], r.padFrac[1] % r.kernel[1], r.padFrac[2] % r.kernel[0], r.padFrac[3] % r.kernel[1]] as [number, number, number, number],
    countIncludePad: r.countIncludePad,
    ignoreNaN: r.layout === 'NHWC' && r.ignoreNaN,
  },
  given: r.given, offset: r.offset, seed: r.seed,
}));
const poolArb = poolCases(spatialArb, 5);
/**
 * Windows (and pads) far wider than the map: the NHWC kernel's row with pad columns would be
 * mostly padding, so it reduces each border window's taps inside the input instead.
 */
const wideWindowArb = poolCases(fc.integer({ min: 1, max: 3 }), 14);

function outShape(expected: ref.RefResult, layout: string | undefined): { oh: number; ow: number } {
  return layout === 'NHWC' ? { oh: expected.shape[1], ow: expected.shape[2] } : { oh: expected.shape[2], ow: expected.shape[3] };
}

async function runAvgPool(c: PoolCase, async: boolean): Promise<void> {
  const x = moderateTensor(c.shape, c.seed, c.offset);
  const o: AvgPool2dOptions = { ...c.o };
  delete (o as MaxPool2dOptions).ignoreNaN;
  const expected = ref.avgPool2d(x, o);
  const label = `${async ? 'async' : 'sync'} avgPool2d [${c.shape}] ${JSON.stringify(o)}`;
  const { oh, ow } = outShape(expected, o.layout);
  if (oh < 1 || ow < 1) {
    assert.throws(() => avgPool2d(x, o), RangeError, label);
    return;
  }
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const oo = { ...o, out };
  checkResult(async ? await avgPool2dAsync(x, oo) : avgPool2d(x, oo), expected, out, ARITH, label);
}

/** NHWC max (the NCHW one is in pointwise.property.test.ts): NaN, infinities and huge values included, exact. */
async function runMaxPoolNhwc(c: PoolCase, async: boolean): Promise<void> {
  const nhwc = c.o.layout === 'NHWC' ? c.shape : [c.shape[0], c.shape[2], c.shape[3], c.shape[1]];
  const o: MaxPool2dOptions = { ...c.o, layout: 'NHWC' };
  delete (o as AvgPool2dOptions).countIncludePad;
  const x = placedTensor(nhwc, c.seed, c.offset);
  const expected = ref.maxPool2d(x, o);
  const label = `${async ? 'async' : 'sync'} maxPool2d NHWC [${nhwc}] ${JSON.stringify(o)}`;
  const { oh, ow } = outShape(expected, 'NHWC');
  if (oh < 1 || ow < 1) {
    assert.throws(() => maxPool2d(x, o), RangeError, label);
    return;
  }
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const oo = { ...o, out };
  checkResult(async ? await maxPool2dAsync(x, oo) : maxPool2d(x, oo), expected, out, EXACT, label);
}

// ---- global pooling -------------------------------------------------------------------------

interface GlobalCase { shape: number[]; kind: 'avg' | 'max'; given: boolean; offset: number; seed: number }
const globalArb: fc.Arbitrary<GlobalCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: channelArb,
  spatial: fc.array(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(...SIMD_SIZES)), { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom('avg' as const, 'max' as const),
  given: fc.boolean(),
  offset: offsetArb,
  seed: fc.integer(),
}).map((r) => {
  const spatial = r.spatial.slice();
  while (sizeOf(spatial) > 4096) spatial[spatial.indexOf(Math.max(...spatial))] = 3;
  return { shape: [r.n, r.c, ...spatial], kind: r.kind, given: r.given, offset: r.offset, seed: r.seed };
});

async function runGlobal(c: GlobalCase, async: boolean): Promise<void> {
  // max: every special value, exact; avg: moderate values, float32 sums.
  const x = c.kind === 'max' ? placedTensor(c.shape, c.seed, c.offset) : moderateTensor(c.shape, c.seed, c.offset);
  const expected = ref.globalPool(x, c.kind);
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const opts = out ? { out } : undefined;
  const [f, fa] = c.kind === 'avg' ? [globalAvgPool, globalAvgPoolAsync] : [globalMaxPool, globalMaxPoolAsync];
  const label = `${async ? 'async' : 'sync'} global ${c.kind} pool [${c.shape}]`;
  checkResult(async ? await fa(x, opts) : f(x, opts), expected, out, c.kind === 'max' ? EXACT : ARITH, label);
}

// ---- LRN --------------------------------------------------------------------------------------

interface LrnCase { shape: number[]; o: LrnOptions; given: boolean; offset: number; seed: number }
const lrnArb: fc.Arbitrary<LrnCase> = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 12 }),
  spatial: fc.array(fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom(...SIMD_SIZES)), { minLength: 0, maxLength: 2 }),
  size: fc.integer({ min: 1, max: 7 }),
  alpha: fc.oneof(fc.constant(1e-4), fc.double({ min: 0, max: 2, noNaN: true }).map(Math.fround)),
  // 0.75, 0.5 and 1 take the vector paths, any other beta the scalar pow.
  beta: fc.oneof(fc.constantFrom(0.75, 0.5, 1), fc.double({ min: 0.1, max: 1.5, noNaN: true }).map(Math.fround)),
  bias: fc.oneof(fc.constant(1), fc.double({ min: 0.5, max: 3, noNaN: true }).map(Math.fround)),
  given: fc.boolean(),
  offset: offsetArb,
  seed: fc.integer(),
}).map((r) => ({
  shape: [r.n, r.c, ...r.spatial],
  o: { size: r.size, alpha: r.alpha, beta: r.beta, bias: r.bias },
  given: r.given, offset: r.offset, seed: r.seed,
}));

async function runLrn(c: LrnCase, async: boolean): Promise<void> {
  const x = moderateTensor(c.shape, c.seed, c.offset);
  const expected = ref.lrn(x, c.o);
  const out = c.given ? placedOutput(expected.shape, (c.offset + 1) % 4) : undefined;
  const o = { ...c.o, out };
  const label = `${async ? 'async' : 'sync'} lrn [${c.shape}] ${JSON.stringify(c.o)}`;
  checkResult(async ? await lrnAsync(x, o) : lrn(x, o), expected, out, LRN_TOL, label);
}

type Property = [string, fc.Arbitrary<unknown>, (c: never, async: boolean) => Promise<void>, number];
const PROPERTIES: Property[] = [
  ['avgPool2d', poolArb, runAvgPool, 150],
  ['maxPool2d NHWC', poolArb, runMaxPoolNhwc, 120],
  ['avgPool2d, windows wider than the map', wideWindowArb, runAvgPool, 60],
  ['maxPool2d NHWC, windows wider than the map', wideWindowArb, runMaxPoolNhwc, 60],
  ['globalAvgPool / globalMaxPool', globalArb, runGlobal, 100],
  ['lrn', lrnArb, runLrn, 120],
];

describe(`pooling ops vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(30000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  for (const [name, arb, run, n] of PROPERTIES) {
    it(`${name}: sync`, async () => {
      await fc.assert(fc.asyncProperty(arb, (c) => run(c as never, false)), { numRuns: runs(n) });
    });
    it(`${name}: async`, async () => {
      await fc.assert(fc.asyncProperty(arb, (c) => run(c as never, true)), { numRuns: runs(Math.ceil(n / 3)) });
    });
  }

  it('NaN: wins the NCHW and default NHWC max, never wins an ignoreNaN max, poisons an average and an LRN window', () => {
    const v = [1, NaN, 3, 4];
    const x = Tensor.from(Float32Array.from(v), [1, 1, 2, 2]);
    const xh = Tensor.from(Float32Array.from(v), [1, 2, 2, 1]);
    assert.ok(Number.isNaN(maxPool2d(x, { kernel: [2, 2] }).data[0]));
    assert.ok(Number.isNaN(maxPool2d(xh, { kernel: [2, 2], layout: 'NHWC' }).data[0]));
    assert.strictEqual(maxPool2d(xh, { kernel: [2, 2], layout: 'NHWC', ignoreNaN: true }).data[0], 4);
    assert.strictEqual(maxPool2d(Tensor.from(new Float32Array([NaN]), [1, 1, 1, 1]), { kernel: [1, 1], layout: 'NHWC', ignoreNaN: true }).data[0], -Infinity);
    assert.ok(Number.isNaN(avgPool2d(x, { kernel: [2, 2] }).data[0]));
    assert.ok(Number.isNaN(avgPool2d(xh, { kernel: [2, 2], layout: 'NHWC' }).data[0]));
    assert.ok(Number.isNaN(globalAvgPool(x).data[0]) && Number.isNaN(globalMaxPool(x).data[0]));
    const l = lrn(Tensor.from(Float32Array.from([1, NaN, 2]), [1, 3, 1]), { size: 3 }).data;
    assert.ok(l.every((e) => Number.isNaN(e)), `every channel window holds the NaN: ${Array.from(l)}`);
    assert.ok(Number.isFinite(lrn(Tensor.from(Float32Array.from([1, 2, NaN]), [1, 3, 1]), { size: 1 }).data[0]));
  });

  it('one window over the whole plane (the global-pool path): max and average match the reference, NaN wins', () => {
    for (const [c, h, w] of [[1, 1, 1], [3, 7, 7], [17, 1, 33], [2048, 7, 7], [5, 15, 16]]) {
      const x = moderateTensor([2, c, h, w], c * 31 + h, c % 4);
      const o = { kernel: [h, w] as [number, number] };
      const label = `[2,${c},${h},${w}] kernel [${h},${w}]`;
      checkResult(maxPool2d(x, o), ref.maxPool2d(x, o), undefined, EXACT, `max ${label}`);
      checkResult(avgPool2d(x, o), ref.avgPool2d(x, o), undefined, ARITH, `avg ${label}`);
      checkResult(avgPool2d(x, { ...o, countIncludePad: true }), ref.avgPool2d(x, { ...o, countIncludePad: true }), undefined, ARITH, `avg incl. pad ${label}`);
    }
    const nan = Tensor.from(Float32Array.from([1, 2, NaN, 4, 5, 6]), [1, 1, 2, 3]);
    assert.ok(Number.isNaN(maxPool2d(nan, { kernel: [2, 3] }).data[0]) && Number.isNaN(avgPool2d(nan, { kernel: [2, 3] }).data[0]));
  });

  it('2x2 windows at stride 2 (the pair path): odd and SIMD-edge sizes, ceil mode, NaN, vs the reference', () => {
    for (const [c, h, w] of [[1, 2, 2], [3, 5, 7], [2, 16, 33], [4, 56, 56], [1, 3, 65]]) {
      for (const ceilMode of [false, true]) {
        const x = moderateTensor([2, c, h, w], c * 7 + h + w, (h + w) % 4);
        const o = { kernel: [2, 2] as [number, number], strides: [2, 2] as [number, number], ceilMode };
        const label = `[2,${c},${h},${w}] 2x2/2${ceilMode ? ' ceil' : ''}`;
        checkResult(maxPool2d(x, o), ref.maxPool2d(x, o), undefined, EXACT, `max ${label}`);
        checkResult(avgPool2d(x, o), ref.avgPool2d(x, o), undefined, ARITH, `avg ${label}`);
      }
    }
    const v = Float32Array.from([1, NaN, 3, 4, 5, 6, 7, 8]);
    const y = maxPool2d(Tensor.from(v, [1, 1, 2, 4]), { kernel: [2, 2], strides: [2, 2] }).data;
    assert.ok(Number.isNaN(y[0]) && y[1] === 8, `${Array.from(y)}`);
    const a = avgPool2d(Tensor.from(v, [1, 1, 2, 4]), { kernel: [2, 2], strides: [2, 2] }).data;
    assert.ok(Number.isNaN(a[0]) && a[1] === 5.5, `${Array.from(a)}`);
  });

  it('3x3 max at stride 2 with pads <= 1 (the three-column path): every width 1..40, pads per side, ceil mode, NaN, vs the reference', () => {
    for (let w = 1; w <= 40; w++) {
      for (const [pt, pl, pb, pr] of [[0, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0], [1, 0, 0, 1]]) {
        for (const ceilMode of [false, true]) {
          const h = 3 + (w % 5);
          if (Math.floor((w + pl + pr - 3) / 2) < 0) continue;
          const x = placedTensor([1, 2, h, w], w * 31 + pt * 7 + pl, w % 4);
          const o = { kernel: [3, 3] as [number, number], strides: [2, 2] as [number, number], pads: [pt, pl, pb, pr] as [number, number, number, number], ceilMode };
          checkResult(maxPool2d(x, o), ref.maxPool2d(x, o), undefined, EXACT, `[1,2,${h},${w}] 3x3/2 pads ${[pt, pl, pb, pr]}${ceilMode ? ' ceil' : ''}`);
        }
      }
    }
  });

  it('a window wholly in the padding: -inf for max, NaN for an average without countIncludePad, 0 with it', () => {
    const x = Tensor.from(new Float32Array([5, 6]), [1, 1, 1, 2]);
    const o = { kernel: [1, 1] as [number, number], pads: [0, 2, 0, 0] as [number, number, number, number], strides: [1, 1] as [number, number] };
    assert.deepStrictEqual(Array.from(maxPool2d(x, o).data), [-Infinity, -Infinity, 5, 6]);
    const a = avgPool2d(x, o).data;
    assert.ok(Number.isNaN(a[0]) && Number.isNaN(a[1]) && a[2] === 5 && a[3] === 6, `${Array.from(a)}`);
    assert.deepStrictEqual(Array.from(avgPool2d(x, { ...o, countIncludePad: true }).data), [0, 0, 5, 6]);
  });

  describe('large tensors (> 2^18 elements: the thread pool runs), 1 and 2 threads', () => {
    for (const threads of [1, 2]) {
      it(`every pooling op, ${threads} thread(s), sync and async`, async () => {
        await withThreads(threads, async () => {
          const x = moderateTensor([1, 16, 96, 96], 5, 1);
          const o = { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true } as const;
          expectClose(avgPool2d(x, o), ref.avgPool2d(x, o), ARITH);
          expectClose(await avgPool2dAsync(x, { kernel: [2, 2], strides: [2, 2] }), ref.avgPool2d(x, { kernel: [2, 2], strides: [2, 2] }), ARITH);
          const xh = placedTensor([2, 40, 40, 96], 6, 2);
          const oh = { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], layout: 'NHWC' } as const;
          expectClose(maxPool2d(xh, { ...oh, ignoreNaN: true }), ref.maxPool2d(xh, { ...oh, ignoreNaN: true }), EXACT);
          expectClose(await maxPool2dAsync(xh, oh), ref.maxPool2d(xh, oh), EXACT);
          const xm = moderateTensor([2, 40, 40, 96], 7, 0);
          expectClose(await avgPool2dAsync(xm, oh), ref.avgPool2d(xm, oh), ARITH);
          const g = moderateTensor([2, 512, 17, 17], 8, 0);
          expectClose(globalAvgPool(g), ref.globalPool(g, 'avg'), ARITH);
          expectClose(await globalMaxPoolAsync(g), ref.globalPool(g, 'max'), EXACT);
          const l = moderateTensor([1, 24, 120, 100], 9, 3);
          expectClose(lrn(l, { size: 5, alpha: 1e-2 }), ref.lrn(l, { size: 5, alpha: 1e-2 }), LRN_TOL);
          expectClose(await lrnAsync(l, { size: 4, beta: 0.6 }), ref.lrn(l, { size: 4, beta: 0.6 }), LRN_TOL);
        });
      });
    }
  });
});
