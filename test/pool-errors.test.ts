// Bad input to the pooling ops (avgPool2d, maxPool2d in NHWC, globalAvgPool / globalMaxPool,
// lrn): a TypeError or RangeError naming the argument and the shapes, thrown by the sync op
// and the same rejection from its async twin; and the raw native functions re-check every
// size so a wrong call from JS throws instead of touching memory out of bounds.
import * as assert from 'assert';
import {
  Tensor, avgPool2d, avgPool2dAsync, globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync, lrn, lrnAsync,
  maxPool2d, maxPool2dAsync,
} from '../lib';
import { native } from '../lib/native';
import { preparePool2d } from '../lib/ops/pool';
import { prepareLrn } from '../lib/ops/lrn';
import { prepareGlobalPool } from '../lib/ops/global-pool';
import { assertError, expectThrows } from './helpers';

type ErrorClass = typeof TypeError | typeof RangeError;

interface BadCall {
  title: string;
  sync: () => unknown;
  async: () => Promise<unknown>;
  error: ErrorClass;
  mentions: string[];
}

const x4 = Tensor.zeros([1, 2, 3, 3]);
const nhwc = Tensor.zeros([1, 3, 3, 2]);

function pair<O>(title: string, f: (x: Tensor, o: O) => unknown, fa: (x: Tensor, o: O) => Promise<unknown>, x: unknown, o: unknown,
  error: ErrorClass, mentions: string[]): BadCall {
  return { title, sync: () => f(x as Tensor, o as O), async: () => fa(x as Tensor, o as O), error, mentions };
}

const BAD: BadCall[] = [
  pair('avgPool2d: x is not a Tensor', avgPool2d, avgPool2dAsync, new Float32Array(4), { kernel: [1, 1] }, TypeError, ['x', 'Float32Array']),
  pair('avgPool2d: options missing', avgPool2d, avgPool2dAsync, x4, undefined, TypeError, ['options']),
  pair('avgPool2d: kernel not an array', avgPool2d, avgPool2dAsync, x4, { kernel: 2 }, TypeError, ['kernel']),
  pair('avgPool2d: fractional stride', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], strides: [1, 1.5] }, TypeError, ['strides[1]']),
  pair('avgPool2d: negative pad', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], pads: [0, -1, 0, 0] }, RangeError, ['pads[1]']),
  pair('avgPool2d: zero dilation', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], dilations: [0, 1] }, RangeError, ['dilations[0]']),
  pair('avgPool2d: countIncludePad not a boolean', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], countIncludePad: 1 }, TypeError, ['countIncludePad']),
  pair('avgPool2d: unknown layout', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], layout: 'NWHC' }, TypeError, ['layout', 'NWHC']),
  pair('avgPool2d: rank 3', avgPool2d, avgPool2dAsync, Tensor.zeros([2, 3, 3]), { kernel: [2, 2] }, RangeError, ['rank 4', '[2,3,3]']),
  pair('avgPool2d: window does not fit', avgPool2d, avgPool2dAsync, x4, { kernel: [4, 2] }, RangeError, ['does not fit', '[1,2,3,3]']),
  pair('avgPool2d NHWC: window does not fit the H, W of NHWC', avgPool2d, avgPool2dAsync, Tensor.zeros([1, 3, 3, 8]), { kernel: [4, 4], layout: 'NHWC' },
    RangeError, ['does not fit', '[1,3,3,8]', 'NHWC']),
  pair('avgPool2d: out of the wrong shape', avgPool2d, avgPool2dAsync, x4, { kernel: [2, 2], out: Tensor.zeros([1, 2, 3, 3]) }, RangeError, ['out', '[1,2,3,3]', '[1,2,2,2]']),
  pair('avgPool2d: out overlapping x', avgPool2d, avgPool2dAsync, x4, { kernel: [1, 1], out: x4 }, RangeError, ['overlaps', '[1,2,3,3]']),
  pair('maxPool2d: ignoreNaN on NCHW', maxPool2d, maxPool2dAsync, x4, { kernel: [2, 2], ignoreNaN: true }, RangeError, ['ignoreNaN', 'NHWC']),
  pair('maxPool2d NHWC: ignoreNaN not a boolean', maxPool2d, maxPool2dAsync, nhwc, { kernel: [2, 2], layout: 'NHWC', ignoreNaN: 'yes' }, TypeError, ['ignoreNaN']),
  pair('maxPool2d NHWC: out of the NCHW shape', maxPool2d, maxPool2dAsync, nhwc, { kernel: [2, 2], layout: 'NHWC', out: Tensor.zeros([1, 3, 2, 2]) },
    RangeError, ['out', '[1,3,2,2]', '[1,2,2,2]']),
  pair('globalAvgPool: rank 2', (x: Tensor) => globalAvgPool(x), (x: Tensor) => globalAvgPoolAsync(x), Tensor.zeros([2, 3]), undefined, RangeError, ['rank >= 3', '[2,3]']),
  pair('globalMaxPool: empty spatial dim', (x: Tensor) => globalMaxPool(x), (x: Tensor) => globalMaxPoolAsync(x), Tensor.zeros([1, 2, 0, 3]), undefined, RangeError, ['empty', '[1,2,0,3]']),
  pair('globalAvgPool: out of the wrong shape', (x: Tensor, o: { out: Tensor }) => globalAvgPool(x, o), (x: Tensor, o: { out: Tensor }) => globalAvgPoolAsync(x, o),
    x4, { out: Tensor.zeros([1, 2]) }, RangeError, ['out', '[1,2]', '[1,2,1,1]']),
  pair('globalMaxPool: x is a number', (x: Tensor) => globalMaxPool(x), (x: Tensor) => globalMaxPoolAsync(x), 3, undefined, TypeError, ['x']),
  pair('lrn: size missing', lrn, lrnAsync, x4, {}, TypeError, ['size']),
  pair('lrn: size 0', lrn, lrnAsync, x4, { size: 0 }, RangeError, ['size', '0']),
  pair('lrn: alpha a string', lrn, lrnAsync, x4, { size: 3, alpha: '1e-4' }, TypeError, ['alpha']),
  pair('lrn: beta infinite', lrn, lrnAsync, x4, { size: 3, beta: Infinity }, RangeError, ['beta', 'Infinity']),
  pair('lrn: bias NaN', lrn, lrnAsync, x4, { size: 3, bias: NaN }, RangeError, ['bias']),
  pair('lrn: rank 1', lrn, lrnAsync, Tensor.zeros([4]), { size: 3 }, RangeError, ['rank >= 2', '[4]']),
  pair('lrn: out is x (each channel reads its neighbours)', lrn, lrnAsync, x4, { size: 3, out: x4 }, RangeError, ['overlaps', '[1,2,3,3]']),
];

describe('pooling ops: bad input', () => {
  for (const call of BAD) {
    it(`${call.title} → ${call.error.name} (sync throws, async rejects)`, async () => {
      expectThrows(call.sync, call.error, call.mentions);
      await assert.rejects(call.async(), (e: unknown) => {
        assertError(e, call.error, call.mentions);
        return true;
      });
    });
  }

  it('a rejected call leaves out untouched', () => {
    const out = Tensor.from(new Float32Array(8).fill(3), [1, 2, 2, 2]);
    expectThrows(() => avgPool2d(x4, { kernel: [2, 2], pads: [0, 0, 0, -1], out }), RangeError, ['pads[3]']);
    assert.ok(out.data.every((v) => v === 3));
  });
});

describe('pooling: the native functions check their arguments again', () => {
  const f = (n: number) => new Float32Array(n);
  const P = (...q: number[]) => q;  // [kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil, flag]
  const cases: Array<[string, () => unknown, ErrorClass, string[]]> = [
    ['pool2d: unknown op', () => native.pool2d(2, 0, f(9), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), f(4), false), RangeError, ['pool op']],
    ['pool2d: unknown layout', () => native.pool2d(1, 2, f(9), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), f(4), false), RangeError, ['layout']],
    ['pool2d: 11 params', () => native.pool2d(1, 0, f(9), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0), f(4), false), RangeError, ['12 params']],
    ['pool2d: x shorter than its shape', () => native.pool2d(1, 0, f(8), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), f(4), false), RangeError, ['x']],
    ['pool2d NHWC: out sized for NCHW of another shape', () => native.pool2d(1, 1, f(18), [1, 3, 3, 2], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), f(4), false), RangeError, ['out']],
    ['pool2d: negative pad', () => native.pool2d(1, 0, f(9), [1, 1, 3, 3], P(2, 2, 1, 1, -1, 0, 0, 0, 1, 1, 0, 0), f(4), false), RangeError, ['pads >= 0']],
    ['pool2d: window past the padded input', () => native.pool2d(1, 1, f(9), [1, 3, 3, 1], P(5, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), f(3), false), RangeError, ['does not fit']],
    ['pool2d: NCHW max with the NaN-ignoring flag', () => native.pool2d(0, 0, f(9), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 1), f(4), false), RangeError, ['NaN']],
    ['pool2d: out overlaps x', () => { const b = f(13); return native.pool2d(1, 0, b.subarray(0, 9), [1, 1, 3, 3], P(2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0), b.subarray(8, 12), false); }, RangeError, ['overlaps']],
    ['globalPool: unknown op', () => native.globalPool(3, f(4), 1, 4, f(1), false), RangeError, ['global pool op']],
    ['globalPool: out of the wrong size', () => native.globalPool(0, f(8), 2, 4, f(1), false), RangeError, ['out']],
    ['globalPool: planes * inner past x', () => native.globalPool(0, f(8), 3, 4, f(3), false), RangeError, ['x']],
    ['lrn: size 0', () => native.lrn(f(4), 1, 4, 1, 0, [1e-4, 0.75, 1], f(4), false), RangeError, ['size']],
    ['lrn: coefficients not finite', () => native.lrn(f(4), 1, 4, 1, 3, [NaN, 0.75, 1], f(4), false), RangeError, ['finite']],
    ['lrn: two coefficients', () => native.lrn(f(4), 1, 4, 1, 3, [1e-4, 0.75], f(4), false), TypeError, ['alpha, beta, bias']],
    ['lrn: out shorter than x', () => native.lrn(f(4), 1, 4, 1, 3, [1e-4, 0.75, 1], f(3), false), RangeError, ['out']],
    ['lrn: out is x', () => { const b = f(4); return native.lrn(b, 1, 4, 1, 3, [1e-4, 0.75, 1], b, false); }, RangeError, ['overlaps']],
  ];
  for (const [title, call, cls, mentions] of cases) {
    it(`${title} → ${cls.name}`, () => {
      expectThrows(call, cls, mentions);
    });
  }

  it('a 2^31 kernel and pads over a 1x1 input: one window holding the one pixel (scratch sized by the input, not the kernel)', () => {
    const q = [2 ** 31, 2 ** 31, 2 ** 31, 2 ** 31, 2 ** 31 - 1, 2 ** 31 - 1, 0, 0, 1, 1, 0, 0];
    for (const [op, layout] of [[0, 1], [1, 1], [0, 0], [1, 0]]) {
      const out = f(1);
      native.pool2d(op, layout, Float32Array.of(5), [1, 1, 1, 1], q, out, false);
      assert.strictEqual(out[0], 5, `op ${op} layout ${layout}`);
    }
  });
});

describe('preparePool2d (the pooling step of a compiled model): options checked once, buffers by the binding', () => {
  const data = Float32Array.from({ length: 2 * 5 * 7 * 3 }, (_, i) => Math.sin(i * 1.3) * 4);

  it('checks the options against the input shape when prepared', () => {
    expectThrows(() => preparePool2d('max', [1, 2, 3, 3], {} as never), TypeError, ['kernel']);
    expectThrows(() => preparePool2d('avg', [1, 2, 3, 3], { kernel: [5, 5] }), RangeError, ['[1,2,3,3]', 'kernel [5,5]']);
    expectThrows(() => preparePool2d('max', [1, 3, 3], { kernel: [2, 2] }), RangeError, ['rank 4']);
  });

  it('runs as maxPool2d / avgPool2d do, in both layouts', () => {
    const o = { kernel: [3, 2] as [number, number], strides: [2, 1] as [number, number], pads: [1, 0, 1, 1] as [number, number, number, number] };
    for (const layout of ['NCHW', 'NHWC'] as const) {
      const x = Tensor.from(data, [2, 5, 7, 3]);
      for (const [kind, op] of [['max', maxPool2d], ['avg', avgPool2d]] as const) {
        const expected = op(x, { ...o, layout });
        const prepared = preparePool2d(kind, x.shape, { ...o, layout });
        assert.deepStrictEqual(prepared.outShape, expected.shape, `${kind} ${layout}`);
        const out = new Float32Array(expected.size);
        prepared.run(x.data, out);
        assert.deepStrictEqual(Array.from(out), Array.from(expected.data), `${kind} ${layout}`);
      }
    }
  });

  it('a buffer of the wrong length throws from the binding instead of being read or written past its end', () => {
    const prepared = preparePool2d('max', [2, 5, 7, 3], { kernel: [2, 2], layout: 'NHWC' });
    const outFloats = prepared.outShape.reduce((a, b) => a * b);
    expectThrows(() => prepared.run(data.subarray(1), new Float32Array(outFloats)), RangeError, []);
    expectThrows(() => prepared.run(data, new Float32Array(outFloats - 1)), RangeError, []);
  });
});

describe('prepareLrn (the LRN step of a compiled model)', () => {
  it('runs as lrn does; checks the options when prepared and the buffers in the binding', () => {
    const x = Tensor.from(Float32Array.from({ length: 2 * 7 * 3 * 2 }, (_, i) => Math.sin(i) * 2), [2, 7, 3, 2]);
    const o = { size: 3, alpha: 2e-4, beta: 0.75, bias: 1.5 };
    const want = lrn(x, o);
    const got = new Float32Array(x.size);
    const prepared = prepareLrn(x.shape, o);
    prepared.run(x.data, got);
    assert.deepStrictEqual(Array.from(got), Array.from(want.data));
    expectThrows(() => prepareLrn([2, 7, 3, 2], { size: 0 }), RangeError, ['size']);
    expectThrows(() => prepareLrn([7], { size: 3 }), RangeError, ['rank >= 2']);
    expectThrows(() => prepared.run(x.data, got.subarray(1)), RangeError);
    expectThrows(() => prepared.run(got, got), RangeError);
  });
});

describe('prepareGlobalPool (the NCHW global pooling step of a compiled model)', () => {
  it('runs as globalAvgPool / globalMaxPool do; checks the shape when prepared and the buffers in the binding', () => {
    const x = Tensor.from(Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.cos(i) * 3), [2, 3, 4, 5]);
    for (const [kind, op] of [['avg', globalAvgPool], ['max', globalMaxPool]] as const) {
      const got = new Float32Array(6);
      prepareGlobalPool(kind, x.shape).run(x.data, got);
      assert.deepStrictEqual(Array.from(got), Array.from(op(x).data), kind);
    }
    expectThrows(() => prepareGlobalPool('avg', [2, 3]), RangeError, ['rank >= 3']);
    const p = prepareGlobalPool('max', x.shape);
    expectThrows(() => p.run(x.data.subarray(1), new Float32Array(6)), RangeError);
    expectThrows(() => p.run(x.data, new Float32Array(5)), RangeError);
  });
});
