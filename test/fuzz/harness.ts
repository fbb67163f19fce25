// The API fuzzer behind test/fuzz.test.ts (a few seconds in `npm test`) and scripts/fuzz.js
// (>= 10^5 calls in a child process, so a crash shows as a crash).
//
// Contract checked on every call: the op either returns the lib/reference result (bit-exact,
// or within a float32 tolerance for the transcendental / reduction ops) or throws a TypeError
// or RangeError (an async op: rejects with one); nothing else, and the process never dies.
//
// Each case is one op (sync or async) on a valid call built from a seed, then possibly
// corrupted: a wrong type in any argument position, a detached buffer, a "lying" tensor
// (shape / size fields overwritten from JS, dims past 2^31 or NaN: only the native
// re-checks stand between those and the kernels), an `out` that partially overlaps an input.
// Valid variants ride along: SharedArrayBuffer-backed data, subarray views at odd element
// offsets (byte offsets that are not 8/16/32/64-aligned), `out` that is exactly an input,
// and strided channel views (sliceChannels of a batch) wherever an op takes them.
import * as assert from 'assert';
import * as tf from '../../lib';
import * as ref from '../../lib/reference';
import { Conv2d, Tensor } from '../../lib';
import { rng } from '../helpers';

export type Rand = () => number;

// ---- values -----------------------------------------------------------------------------

export type Placement = 'own' | 'offset' | 'shared' | 'sharedOffset';
const PLACEMENTS: readonly Placement[] = ['own', 'own', 'offset', 'shared', 'sharedOffset'];

const SPECIALS = [0, -0, 1, -1, Infinity, -Infinity, NaN, 3.4e38, -3.4e38, 1e-45];

function fillData(a: Float32Array, r: Rand): void {
  for (let i = 0; i < a.length; i++) {
    const u = r();
    a[i] = u < 0.03 ? SPECIALS[Math.floor(r() * SPECIALS.length)] : (r() * 2 - 1) * 4;
  }
}

/** n floats from r, in their own buffer, at an odd offset of a larger one, or in a SharedArrayBuffer. */
export function makeData(n: number, r: Rand, placement: Placement, slack = 3): Float32Array {
  const offset = placement === 'offset' || placement === 'sharedOffset' ? 1 + 2 * Math.floor(r() * 8) : 0;
  const total = offset + n + slack;
  const backing = placement === 'shared' || placement === 'sharedOffset'
    ? new Float32Array(new SharedArrayBuffer(total * 4)) : new Float32Array(total);
  const view = backing.subarray(offset, offset + n);
  fillData(view, r);
  return view;
}

const sizeOf = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

export function makeTensor(shape: readonly number[], r: Rand, placement?: Placement, slack = 3): Tensor {
  const p = placement ?? PLACEMENTS[Math.floor(r() * PLACEMENTS.length)];
  return Tensor.from(makeData(sizeOf(shape), r, p, slack), shape);
}

/** A fresh contiguous copy in its own buffer: what the reference sees (an in-place op overwrites inputs). */
function snapshot(t: Tensor): Tensor {
  return Tensor.from(new Float32Array(t.contiguous().data), t.shape);
}

/** Detaches the tensor's buffer (as postMessage with a transfer list would). */
export function detach(t: Tensor): void {
  const buf = t.data.buffer;
  if (buf instanceof ArrayBuffer && buf.byteLength > 0) structuredClone(buf, { transfer: [buf] });
}

const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function randomShape(r: Rand, minRank: number, maxRank: number, maxDim = 5, minDim = 1): number[] {
  const rank = int(r, minRank, maxRank);
  return Array.from({ length: rank }, () => int(r, minDim, maxDim));
}

/** Things that are not what an argument should be. */
export function junkValue(r: Rand): unknown {
  const f = new Float32Array(4);
  switch (int(r, 0, 21)) {
    case 0: return null;
    case 1: return undefined;
    case 2: return NaN;
    case 3: return -1;
    case 4: return 2 ** 31;
    case 5: return 1.5;
    case 6: return 'x';
    case 7: return {};
    case 8: return [];
    case 9: return f;
    case 10: return { data: f, shape: [4], size: 4 };
    case 11: return Object.create(Tensor.prototype);
    case 12: return [f, f];
    case 13: return [NaN, -1];
    case 14: return 10n;
    case 15: return Symbol('s');
    case 16: return () => 1;
    case 17: return new Float64Array(4);
    case 18: return [2 ** 31, 2 ** 31];
    case 19: return { kernel: [2, 2], strides: [0, -1] };
    case 20: return Infinity;
    default: return [Tensor.from(f, [4]), 'x'];
  }
}

/** Overwrites a real tensor's readonly-in-TS fields from JS so its shape lies about its memory. */
export function lie(t: Tensor, r: Rand): Tensor {
  const w = t as unknown as { shape: readonly number[]; size: number; data: Float32Array };
  switch (int(r, 0, 6)) {
    case 0: w.shape = Object.freeze(t.shape.length >= 2 ? [65536, 32768, ...t.shape.slice(2)] : [2 ** 31 + 1]); break; // > 2^31 elements
    case 1: w.shape = Object.freeze(t.shape.map((d, i) => (i === 0 ? NaN : d))); break;
    case 2: w.shape = Object.freeze(t.shape.map((d, i) => (i === 0 ? -d : d))); break;
    case 3: w.shape = Object.freeze(t.shape.map((d, i) => (i === t.shape.length - 1 ? d + 1 : d))); break; // one row too many
    case 4: w.data = t.data.subarray(0, Math.max(0, t.data.length - 1)); w.size = w.data.length; break; // memory one short
    case 5: (w as unknown as { viewStride: number }).viewStride = pick(r, [1, 3, 2 ** 40]); break; // a batch stride that lies
    default: w.shape = Object.freeze([...t.shape, 2 ** 16, 2 ** 16]); break;
  }
  return t;
}

// ---- cases --------------------------------------------------------------------------------

export type Corruption = 'none' | 'junk' | 'detach' | 'lie' | 'overlapOut';

export interface FuzzCase {
  op: string;
  seed: number;
  async: boolean;
  corruption: Corruption;
}

type Expected = { readonly data: Float32Array; readonly shape: readonly number[] };

interface Built {
  run: () => unknown;
  /** The reference result(s); throws when the reference rejects the call. */
  expected: () => Expected | Expected[];
  /** Max |a - e| / (1 + |e|); 0 = bit-exact. */
  tol: number;
  /** Only "returns or throws TypeError/RangeError" is checked (corrupted calls). */
  noCompare?: boolean;
  /** The call must throw (a wrong type, a detached buffer, a partial overlap). */
  mustThrow?: boolean;
}

/** Collects the tensors of a case so a corruption can pick one. */
interface Ctx {
  r: Rand;
  c: FuzzCase;
  /** The tensors a corruption may pick: the call's arguments (not weights packed already). */
  tensors: Tensor[];
  /** Set when an `out` partially overlapping an input was placed (corruption 'overlapOut'). */
  overlapped?: boolean;
}

function T(ctx: Ctx, shape: readonly number[], placement?: Placement, track = true): Tensor {
  // Detaching needs an ArrayBuffer (not shared); overlapping outs need room after the input.
  const overlap = ctx.c.corruption === 'overlapOut';
  const t = makeTensor(shape, ctx.r, ctx.c.corruption === 'detach' ? 'own' : placement, overlap ? 4 * sizeOf(shape) + 64 : 3);
  if (track) ctx.tensors.push(t);
  return t;
}

/**
 * T for an argument the op may take as a strided channel view: for a batch (N > 1), one time
 * in three channels [a, a + C) of a parent with 0-2 more channels on either side.
 */
function V(ctx: Ctx, shape: readonly number[], track = true): Tensor {
  const { r } = ctx;
  if (shape.length < 2 || shape[0] < 2 || r() >= 1 / 3) return T(ctx, shape, undefined, track);
  const before = int(r, 0, 2), after = int(r, before === 0 ? 1 : 0, 2);
  const parentShape = shape.slice();
  parentShape[1] += before + after;
  const v = T(ctx, parentShape, undefined, false).sliceChannels(before, before + shape[1]);
  if (track) ctx.tensors.push(v);
  return v;
}

type OutMode = 'none' | 'fresh' | 'inPlace';
function outMode(r: Rand, inPlaceOk: boolean): OutMode {
  const u = r();
  return u < 0.4 ? 'none' : u < 0.75 || !inPlaceOk ? 'fresh' : 'inPlace';
}

/**
 * The op's options: no out, a fresh out (a strided view too when `views`), out = an input (in
 * place), or, for the 'overlapOut' corruption, an out of the right shape overlapping `src`'s
 * memory in part: one element in, or at a view's first element (a contiguous out is never the
 * same memory as a view, and one element in could fall in the gap between its images).
 */
function outOpts(ctx: Ctx, mode: OutMode, shape: readonly number[], inPlace?: Tensor, src?: Tensor, views = false): { out?: Tensor } | undefined {
  const s = src ?? inPlace;
  if (ctx.c.corruption === 'overlapOut' && s !== undefined && s.size > 1) {
    const n = sizeOf(shape), d = s.data, skip = s.isContiguous ? 4 : 0;
    if (n > 0 && d.byteOffset + skip + 4 * n <= d.buffer.byteLength) {
      ctx.overlapped = true;
      return { out: Tensor.from(new Float32Array(d.buffer, d.byteOffset + skip, n), shape) };
    }
  }
  if (mode === 'none') return undefined;
  if (mode === 'inPlace' && inPlace) return { out: inPlace };
  return { out: views ? V(ctx, shape) : T(ctx, shape) };
}

const TRANSC = 3e-5;
const convTol = (k: number): number => 2e-6 + 1.5e-7 * k;

function convWeight(ctx: Ctx, cout: number, cinG: number, kh: number, kw: number, track = true): Tensor {
  const w = T(ctx, [cout, cinG, kh, kw], 'own', track);
  const s = 1 / Math.sqrt(cinG * kh * kw);
  for (let i = 0; i < w.data.length; i++) w.data[i] = Number.isFinite(w.data[i]) && Math.abs(w.data[i]) < 1e4 ? w.data[i] * s * 0.25 : 0.5;
  return w;
}

/** Finite inputs for the ops whose tolerance check needs them (convs, softmax). */
function finite(t: Tensor): Tensor {
  for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i]) || Math.abs(t.data[i]) > 1e4) t.data[i] = 0.25;
  return t;
}

type Builder = (ctx: Ctx) => Built;

const both = <A extends unknown[], R>(ctx: Ctx, sync: (...a: A) => R, asyncFn: (...a: A) => Promise<R>) =>
  (...a: A): unknown => (ctx.c.async ? asyncFn(...a) : sync(...a));

/** A random pooling window: kernel and strides 1-3, pads 0-1. */
function poolWindow(r: Rand): { kernel: [number, number]; strides: [number, number]; pads: [number, number, number, number] } {
  return {
    kernel: [int(r, 1, 3), int(r, 1, 3)], strides: [int(r, 1, 3), int(r, 1, 3)],
    pads: [int(r, 0, 1), int(r, 0, 1), int(r, 0, 1), int(r, 0, 1)],
  };
}

/** A pooling op's case: the expected result is a RangeError when the window does not fit x. */
function poolCase<O>(ctx: Ctx, x: Tensor, o: O, sync: (x: Tensor, o: O) => Tensor, async: (x: Tensor, o: O) => Promise<Tensor>,
  reference: (x: ref.RefTensor, o: O) => ref.RefResult, tol: number): Built {
  const sx = snapshot(x);
  return {
    run: () => both(ctx, sync, async)(x, o),
    expected: () => {
      const e = reference(sx, o);
      if (e.shape.some((d) => d < 1)) throw new RangeError('window does not fit');
      return e;
    },
    tol,
  };
}

const BUILDERS: Record<string, Builder> = {
  add: (ctx) => binaryCase(ctx, 'add'),
  mul: (ctx) => binaryCase(ctx, 'mul'),
  concat: (ctx) => {
    const { r } = ctx;
    const base = randomShape(r, 1, 4);
    const rank = base.length;
    const axis = int(r, -rank, rank - 1);
    const ax = axis < 0 ? axis + rank : axis;
    const inputs = Array.from({ length: int(r, 1, 3) }, () => {
      const s = base.slice();
      s[ax] = int(r, 0, 4);
      if (r() < 0.05) s[(ax + 1) % rank] += 1; // a mismatch off the axis (rank 1: on it, still valid)
      return V(ctx, s);
    });
    const outShape = inputs[0].shape.slice();
    outShape[ax] = inputs.reduce((p, t) => p + t.shape[ax], 0);
    const opts = outOpts(ctx, outMode(r, false), outShape, undefined, inputs[0], true);
    const snaps = inputs.map(snapshot);
    return { run: () => both(ctx, tf.concat, tf.concatAsync)(inputs, axis, opts), expected: () => ref.concat(snaps, axis), tol: 0 };
  },
  relu: (ctx) => unaryCase(ctx, 'relu'),
  sigmoid: (ctx) => unaryCase(ctx, 'sigmoid'),
  softmax: (ctx) => {
    const { r } = ctx;
    const x = finite(T(ctx, randomShape(r, 1, 4)));
    const axis = int(r, -x.shape.length, x.shape.length - 1);
    const opts = outOpts(ctx, outMode(r, true), x.shape, x);
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.softmax, tf.softmaxAsync)(x, axis, opts), expected: () => ref.softmax(sx, axis), tol: TRANSC };
  },
  maxPool2d: (ctx) => {
    const { r } = ctx;
    const x = V(ctx, [int(r, 1, 2), int(r, 1, 3), int(r, 1, 7), int(r, 1, 7)]);
    return poolCase(ctx, x, { ...poolWindow(r), ceilMode: r() < 0.3 }, tf.maxPool2d, tf.maxPool2dAsync, ref.maxPool2d, 0);
  },
  avgPool2d: (ctx) => {
    const { r } = ctx;
    const layout = r() < 0.5 ? 'NCHW' as const : 'NHWC' as const;
    const x = finite(V(ctx, [int(r, 1, 2), int(r, 1, 7), int(r, 1, 7), int(r, 1, 7)]));
    const o = { ...poolWindow(r), ceilMode: r() < 0.3, countIncludePad: r() < 0.5, layout };
    return poolCase(ctx, x, o, tf.avgPool2d, tf.avgPool2dAsync, ref.avgPool2d, TRANSC);
  },
  maxPool2dNhwc: (ctx) => {
    const { r } = ctx;
    const x = V(ctx, [int(r, 1, 2), int(r, 1, 7), int(r, 1, 7), int(r, 1, 20)]);
    const o = { ...poolWindow(r), layout: 'NHWC' as const, ignoreNaN: r() < 0.5 };
    return poolCase(ctx, x, o, tf.maxPool2d, tf.maxPool2dAsync, ref.maxPool2d, 0);
  },
  globalPool: (ctx) => {
    const { r } = ctx;
    const avg = r() < 0.5;
    const x = avg ? finite(T(ctx, randomShape(r, 3, 5))) : T(ctx, randomShape(r, 3, 5));
    const sx = snapshot(x);
    const [f, fa] = avg ? [tf.globalAvgPool, tf.globalAvgPoolAsync] : [tf.globalMaxPool, tf.globalMaxPoolAsync];
    return {
      run: () => both(ctx, f, fa)(x),
      expected: () => {
        if (x.shape.slice(2).some((d) => d === 0) && x.shape[0] * x.shape[1] > 0) throw new RangeError('empty spatial dim');
        return ref.globalPool(sx, avg ? 'avg' : 'max');
      },
      tol: avg ? TRANSC : 0,
    };
  },
  lrn: (ctx) => {
    const { r } = ctx;
    const x = finite(T(ctx, randomShape(r, 2, 4)));
    const o = { size: int(r, 1, 6), alpha: r() < 0.5 ? 1e-4 : r(), beta: pick(r, [0.75, 0.5, 1, 0.6]), bias: 1 + r() };
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.lrn, tf.lrnAsync)(x, o), expected: () => ref.lrn(sx, o), tol: TRANSC };
  },
  upsampleNearest: (ctx) => {
    const { r } = ctx;
    const x = V(ctx, [int(r, 1, 2), int(r, 1, 3), int(r, 1, 4), int(r, 1, 4)]);
    const scale = r() < 0.7 ? int(r, 1, 3) : { size: [int(r, 1, 9), int(r, 1, 9)] as [number, number] };
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.upsampleNearest, tf.upsampleNearestAsync)(x, scale), expected: () => ref.upsampleNearest(sx, scale), tol: 0 };
  },
  resize: (ctx) => {
    const { r } = ctx;
    const x = finite(V(ctx, [int(r, 1, 2), int(r, 1, 2), int(r, 1, 5), int(r, 1, 5)]));
    const o: tf.ResizeOptions = {
      sizes: [int(r, 1, 8), int(r, 1, 8)],
      mode: pick(r, ['nearest', 'linear'] as const),
      coordinateTransformationMode: pick(r, ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'half_pixel_symmetric'] as const),
      nearestMode: pick(r, ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const),
    };
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.resize, tf.resizeAsync)(x, o), expected: () => ref.resize(sx, o), tol: o.mode === 'linear' ? 1e-5 : 0 };
  },
  slice: (ctx) => {
    const { r } = ctx;
    const x = T(ctx, randomShape(r, 1, 4));
    const rank = x.shape.length;
    const k = int(r, 1, rank);
    const spec: tf.SliceSpec = {
      starts: Array.from({ length: k }, () => int(r, -6, 6)),
      ends: Array.from({ length: k }, () => (r() < 0.1 ? 2 ** 53 - 1 : int(r, -6, 6))),
      axes: Array.from({ length: k }, (_, i) => (r() < 0.5 ? i : i - rank)),
      steps: Array.from({ length: k }, () => pick(r, [1, 1, 2, -1, -2, 3])),
    };
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.slice, tf.sliceAsync)(x, spec), expected: () => ref.slice(sx, spec), tol: 0 };
  },
  split: (ctx) => {
    const { r } = ctx;
    const x = T(ctx, randomShape(r, 1, 4));
    const axis = int(r, -x.shape.length, x.shape.length - 1);
    const ax = axis < 0 ? axis + x.shape.length : axis;
    const dim = x.shape[ax];
    const sizes: number[] = [];
    for (let left = dim; left > 0;) { const s = int(r, 1, left); sizes.push(s); left -= s; }
    if (sizes.length === 0) sizes.push(0);
    const sx = snapshot(x);
    return { run: () => both(ctx, tf.split, tf.splitAsync)(x, axis, sizes), expected: () => ref.split(sx, axis, sizes), tol: 0 };
  },
  weightedSum: (ctx) => {
    const { r } = ctx;
    const shape = [int(r, 1, 2), int(r, 1, 3), int(r, 1, 4), int(r, 1, 4)];
    const n = int(r, 1, 3);
    const inputs = Array.from({ length: n }, () => finite(V(ctx, shape)));
    const weights = Array.from({ length: n }, () => finite(V(ctx, [shape[0], 1, shape[2], shape[3]])));
    const opts = outOpts(ctx, outMode(r, true), shape, inputs[0], undefined, true);
    const si = inputs.map(snapshot), sw = weights.map(snapshot);
    return { run: () => both(ctx, tf.weightedSum, tf.weightedSumAsync)(inputs, weights, opts), expected: () => ref.weightedSum(si, sw), tol: 1e-6 };
  },
  conv2d: (ctx) => convCase(ctx, false),
  Conv2d: (ctx) => convCase(ctx, true),
  concatConv: (ctx) => fusionConvCase(ctx, 'concat'),
  addConv: (ctx) => fusionConvCase(ctx, 'add'),
  fpnMerge: (ctx) => {
    const { r } = ctx;
    const [n, h, w, ct, cl, c] = [int(r, 1, 2), int(r, 1, 3), int(r, 1, 3), int(r, 1, 3), int(r, 1, 3), int(r, 1, 3)];
    const top = finite(V(ctx, [n, ct, h, w])), lateral = finite(V(ctx, [n, cl, 2 * h, 2 * w]));
    const reduceW = convWeight(ctx, c, ct, 1, 1, false), latW = convWeight(ctx, c, cl, 1, 1, false), smoothW = convWeight(ctx, c, c, 3, 3, false);
    const o = {
      reduceConv: new Conv2d(reduceW), lateralConv: new Conv2d(latW), smoothConv: new Conv2d(smoothW, { pads: [1, 1, 1, 1] }),
    };
    const st = snapshot(top), sl = snapshot(lateral);
    return {
      run: () => both(ctx, tf.fpnMerge, tf.fpnMergeAsync)(top, lateral, o),
      expected: () => ref.fpnMergeRef(st, sl, {
        reduceConv: { weight: reduceW }, lateralConv: { weight: latW }, smoothConv: { weight: smoothW, options: { pads: [1, 1, 1, 1] } },
      }),
      tol: convTol(ct + cl + 9 * c),
    };
  },
  asffFuse: (ctx) => {
    const { r } = ctx;
    const shape = [int(r, 1, 2), int(r, 1, 3), int(r, 1, 4), int(r, 1, 4)];
    const levels = [0, 1, 2].map(() => finite(V(ctx, shape)));
    const cc = int(r, 1, 3);
    const wl = [0, 1, 2].map(() => convWeight(ctx, cc, shape[1], 1, 1, false));
    const wls = convWeight(ctx, 3, 3 * cc, 1, 1, false);
    const convs = { weightLevel: wl.map((w) => new Conv2d(w)), weightLevels: new Conv2d(wls) };
    const sl = levels.map(snapshot);
    return {
      run: () => both(ctx, tf.asffFuse, tf.asffFuseAsync)(levels, convs),
      expected: () => ref.asffFuseRef(sl, { weightLevel: wl.map((weight) => ({ weight })), weightLevels: { weight: wls } }),
      tol: 1e-4,
    };
  },
};

function binaryCase(ctx: Ctx, op: 'add' | 'mul'): Built {
  const { r } = ctx;
  const as = randomShape(r, 0, 4, 4);
  // b: a broadcastable shape (a's dims, some set to 1, leading ones dropped), or rarely any shape.
  let bs = as.map((d) => (r() < 0.3 ? 1 : d)).slice(int(r, 0, as.length));
  if (r() < 0.05) bs = randomShape(r, 0, 3, 4);
  // Views only at the result's rank: a view's batch axis must be the result's.
  const top = Math.max(as.length, bs.length);
  const a = as.length === top ? V(ctx, as) : T(ctx, as);
  const b = bs.length === top ? V(ctx, bs) : T(ctx, bs);
  const [x, y] = r() < 0.5 ? [a, b] : [b, a];
  const rank = Math.max(x.shape.length, y.shape.length);
  const outShape: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dx = x.shape[i - rank + x.shape.length] ?? 1, dy = y.shape[i - rank + y.shape.length] ?? 1;
    outShape.push(dx === 1 ? dy : dx);
  }
  const inPlace = x.shape.length === rank && x.shape.every((d, i) => d === outShape[i]) ? x : undefined;
  const opts = outOpts(ctx, outMode(r, inPlace !== undefined), outShape, inPlace, sizeOf(x.shape) >= sizeOf(y.shape) ? x : y, true);
  const sx = snapshot(x), sy = snapshot(y);
  const fn = op === 'add' ? both(ctx, tf.add, tf.addAsync) : both(ctx, tf.mul, tf.mulAsync);
  return { run: () => fn(x, y, opts), expected: () => (op === 'add' ? ref.add : ref.mul)(sx, sy), tol: 0 };
}

function unaryCase(ctx: Ctx, op: 'relu' | 'sigmoid'): Built {
  const { r } = ctx;
  const x = V(ctx, randomShape(r, 0, 4));
  const opts = outOpts(ctx, outMode(r, true), x.shape, x, undefined, true);
  const sx = snapshot(x);
  const fn = op === 'relu' ? both(ctx, tf.relu, tf.reluAsync) : both(ctx, tf.sigmoid, tf.sigmoidAsync);
  return { run: () => fn(x, opts), expected: () => (op === 'relu' ? ref.relu : ref.sigmoid)(sx), tol: op === 'relu' ? 0 : TRANSC };
}

function convCase(ctx: Ctx, packed: boolean): Built {
  const { r } = ctx;
  const groups = pick(r, [1, 1, 1, 2]);
  const cinG = int(r, 1, 3), coutG = int(r, 1, 3);
  const kh = int(r, 1, 3), kw = int(r, 1, 3);
  const x = finite(V(ctx, [int(r, 1, 2), cinG * groups, int(r, 1, 7), int(r, 1, 7)]));
  const weight = convWeight(ctx, coutG * groups, cinG, kh, kw);
  const options: tf.Conv2dWeightOptions = {
    groups,
    strides: [int(r, 1, 2), int(r, 1, 2)],
    dilations: [int(r, 1, 2), int(r, 1, 2)],
    pads: r() < 0.3 ? pick(r, ['same', 'valid'] as const) : [int(r, 0, 2), int(r, 0, 2), int(r, 0, 2), int(r, 0, 2)],
    activation: pick(r, ['none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'] as const),
    bias: r() < 0.5 ? finite(T(ctx, [coutG * groups])) : undefined,
  };
  const sx = snapshot(x), sw = snapshot(weight);
  const refOpts = { ...options, bias: options.bias ? snapshot(options.bias as Tensor) : undefined };
  const tol = convTol(cinG * kh * kw);
  const expected = () => {
    const e = ref.conv2dRef(sx, sw, refOpts);
    if (e.shape.some((d) => d < 1)) throw new RangeError('the kernel does not fit');
    return e;
  };
  if (!packed) return { run: () => both(ctx, tf.conv2d, tf.conv2dAsync)(x, weight, options), expected, tol };
  return {
    run: () => {
      const conv = new Conv2d(weight, options);
      return ctx.c.async ? conv.runAsync(x) : conv.run(x);
    },
    expected,
    tol,
  };
}

function fusionConvCase(ctx: Ctx, kind: 'concat' | 'add'): Built {
  const { r } = ctx;
  const [n, h, w] = [int(r, 1, 2), int(r, 1, 5), int(r, 1, 5)];
  const k = int(r, 1, 3);
  const cs = Array.from({ length: k }, () => int(r, 1, 3));
  if (kind === 'add') cs.fill(cs[0]);
  const inputs = cs.map((c) => finite(V(ctx, [n, c, h, w])));
  const cin = kind === 'add' ? cs[0] : cs.reduce((p, c) => p + c, 0);
  const kk = pick(r, [1, 3]);
  const weight = convWeight(ctx, int(r, 1, 4), cin, kk, kk, false);
  const options: tf.Conv2dWeightOptions = { pads: kk === 3 ? [1, 1, 1, 1] : 'valid', activation: pick(r, ['none', 'relu'] as const) };
  const conv = new Conv2d(weight, options);
  const si = inputs.map(snapshot), sw = snapshot(weight);
  return {
    run: () => (kind === 'concat' ? both(ctx, tf.concatConv, tf.concatConvAsync) : both(ctx, tf.addConv, tf.addConvAsync))(inputs, conv),
    expected: () => (kind === 'concat' ? ref.concatConvRef : ref.addConvRef)(si, { weight: sw, options }),
    tol: convTol(cin * kk * kk * k),
  };
}

export const OPS = Object.keys(BUILDERS);

/** Applies the case's corruption to a built call: its args come from `ctx.tensors`. */
function corrupt(ctx: Ctx, built: Built): Built {
  const { r, c, tensors } = ctx;
  if (c.corruption === 'none' || tensors.length === 0) return built;
  const victim = pick(r, tensors);
  switch (c.corruption) {
    case 'detach': {
      // Valid up to the detach; every op must notice the lost memory. (A detached empty
      // tensor is still a valid empty tensor.)
      const full = tensors.filter((t) => t.size > 0);
      if (full.length === 0) return built;
      detach(pick(r, full));
      return { ...built, mustThrow: true, noCompare: true };
    }
    case 'lie':
      lie(victim, r);
      return { ...built, noCompare: true };
    case 'overlapOut':
      // Placed by outOpts (ops with an `out`); elsewhere the case runs uncorrupted.
      return ctx.overlapped ? { ...built, mustThrow: true, noCompare: true } : built;
    case 'junk':
    default:
      // Replace one tensor argument by junk: mutate the victim's slot in place of its identity.
      return { ...built, run: () => withJunk(built.run, victim, junkValue(r)), mustThrow: true, noCompare: true };
  }
}

// The builders close over their tensors; to swap one argument for junk, the tensor's own
// fields are made junk (data becomes a non-Float32Array, shape junk), so the op sees a
// corrupt argument in that position.
function withJunk(run: () => unknown, victim: Tensor, junk: unknown): unknown {
  const w = victim as unknown as Record<string, unknown>;
  Object.setPrototypeOf(victim, typeof junk === 'object' && junk !== null ? Object.getPrototypeOf(junk) : Object.prototype);
  w.data = junk;
  return run();
}


// ---- checking ------------------------------------------------------------------------------

export interface FuzzStats {
  calls: number;
  returned: number;
  typeErrors: number;
  rangeErrors: number;
  compared: number;
}

export function newStats(): FuzzStats {
  return { calls: 0, returned: 0, typeErrors: 0, rangeErrors: 0, compared: 0 };
}

function describeCase(c: FuzzCase): string {
  return `${c.async ? 'async ' : ''}${c.op} seed=${c.seed} corruption=${c.corruption}`;
}

function compare(actual: unknown, expected: Expected | Expected[], tol: number, label: string): void {
  const as = Array.isArray(actual) ? actual : [actual];
  const es = Array.isArray(expected) ? expected : [expected];
  assert.strictEqual(as.length, es.length, `${label}: ${as.length} results, expected ${es.length}`);
  as.forEach((a, k) => {
    assert.ok(a instanceof Tensor, `${label}: result ${k} is not a Tensor`);
    const e = es[k];
    assert.deepStrictEqual([...a.shape], [...e.shape], `${label}: shape of result ${k}`);
    const got = a.contiguous().data; // an out that is a strided view: its elements in order
    assert.strictEqual(got.length, e.data.length, `${label}: length of result ${k}`);
    for (let i = 0; i < e.data.length; i++) {
      const x: number = got[i], y: number = e.data[i];
      if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
      if (tol > 0 && Math.abs(x - y) <= tol * (1 + Math.abs(y))) continue;
      if (x === y) continue; // +0 vs -0 (relu(-0)): the ISA property tests pin signed zeros
      assert.fail(`${label}: result ${k} element ${i} is ${x}, expected ${y} (tol ${tol})`);
    }
  });
}

function classify(err: unknown, stats: FuzzStats, label: string): void {
  if (err instanceof TypeError) stats.typeErrors++;
  else if (err instanceof RangeError) stats.rangeErrors++;
  else {
    const what = err instanceof Error ? `${err.constructor.name}: ${err.message}\n${err.stack}` : String(err);
    assert.fail(`${label}: threw something other than a TypeError/RangeError: ${what}`);
  }
}

/** Runs one case and checks the contract; throws an AssertionError on a violation. */
export async function runCase(c: FuzzCase, stats: FuzzStats): Promise<void> {
  const ctx: Ctx = { r: rng(c.seed), c, tensors: [] };
  const label = describeCase(c);
  let built: Built;
  try {
    built = corrupt(ctx, BUILDERS[c.op](ctx));
  } catch (err) {
    // Building a case only makes tensors and packs weights, which must not fail here.
    throw new Error(`${label}: building the case failed: ${String(err)}`);
  }
  let expected: Expected | Expected[] | undefined;
  let refError: unknown;
  if (!built.noCompare && !built.mustThrow) {
    try {
      expected = built.expected();
    } catch (e) {
      refError = e;
    }
  }
  stats.calls++;
  let result: unknown;
  try {
    result = built.run();
    if (c.async) {
      if (!(result instanceof Promise)) assert.fail(`${label}: the async op did not return a Promise`);
      result = await result;
    }
  } catch (err) {
    classify(err, stats, label);
    if (built.mustThrow || built.noCompare || refError !== undefined) return;
    assert.fail(`${label}: rejected a call the reference computes: ${(err as Error).message}`);
  }
  stats.returned++;
  if (built.mustThrow) assert.fail(`${label}: returned where it must throw`);
  if (built.noCompare) return;
  if (refError !== undefined) assert.fail(`${label}: returned where the reference throws ${String(refError)}`);
  compare(result, expected!, built.tol, label);
  stats.compared++;
}

const CORRUPTIONS: readonly Corruption[] = ['none', 'none', 'none', 'none', 'none', 'junk', 'detach', 'lie', 'overlapOut'];

/** The i-th case of a deterministic stream from `seed`. */
export function caseAt(seed: number, i: number): FuzzCase {
  const r = rng((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  return {
    op: pick(r, OPS),
    seed: Math.floor(r() * 2 ** 32),
    async: r() < 0.35,
    corruption: pick(r, CORRUPTIONS),
  };
}

// ---- arbitrary arguments to every public function -------------------------------------------

/** Every public function and method, called with arbitrary arguments (mostly junk). */
const PUBLIC_FNS: Record<string, (...a: unknown[]) => unknown> = {};
for (const [name, v] of Object.entries(tf)) {
  if (typeof v !== 'function' || name === 'Tensor' || name === 'Conv2d' || name === 'Model' || name === 'UnsupportedModelError') continue;
  PUBLIC_FNS[name] = v as (...a: unknown[]) => unknown;
}
Object.assign(PUBLIC_FNS, {
  'Tensor.from': (...a: unknown[]) => (Tensor.from as (...x: unknown[]) => unknown)(...a),
  'Tensor.zeros': (...a: unknown[]) => (Tensor.zeros as (...x: unknown[]) => unknown)(...a),
  'Tensor.empty': (...a: unknown[]) => (Tensor.empty as (...x: unknown[]) => unknown)(...a),
  'Tensor#reshape': (t: unknown, ...a: unknown[]) => (t instanceof Tensor ? (t.reshape as (...x: unknown[]) => unknown).apply(t, a) : undefined),
  'Tensor#sliceChannels': (t: unknown, ...a: unknown[]) => (t instanceof Tensor ? (t.sliceChannels as (...x: unknown[]) => unknown).apply(t, a) : undefined),
  'new Conv2d': (...a: unknown[]) => new (Conv2d as unknown as new (...x: unknown[]) => unknown)(...a),
  'Conv2d#run': (...a: unknown[]) => (packedConv().run as (...x: unknown[]) => unknown).apply(packedConv(), a),
  'Conv2d#runAsync': (...a: unknown[]) => (packedConv().runAsync as (...x: unknown[]) => unknown).apply(packedConv(), a),
  'disposed Conv2d#run': (...a: unknown[]) => { const c = new Conv2d(Tensor.from(new Float32Array(4).fill(0.5), [1, 4, 1, 1])); c.dispose(); return (c.run as (...x: unknown[]) => unknown).apply(c, a); },
  'runtime.setThreads': (...a: unknown[]) => (tf.runtime.setThreads as (...x: unknown[]) => unknown)(...a),
  'runtime.setInlineLimit': (...a: unknown[]) => (tf.runtime.setInlineLimit as (...x: unknown[]) => unknown)(...a),
});
// ONNX loaders read files and parse bytes: they may also throw their own load errors.
const ANY_ERROR_OK = new Set(['loadOnnx', 'loadOnnxSync']);
export const PUBLIC_FN_NAMES = Object.keys(PUBLIC_FNS);

let conv4: Conv2d | undefined;
function packedConv(): Conv2d {
  conv4 ??= new Conv2d(Tensor.from(new Float32Array(8).fill(0.25), [2, 4, 1, 1]));
  return conv4;
}

function argValue(r: Rand): unknown {
  const u = r();
  if (u < 0.45) return junkValue(r);
  if (u < 0.75) return makeTensor(pick(r, [[1, 4, 2, 2], [1, 4, 1, 1], [4], [2, 2], [1, 2, 4, 4], [0, 3]]), r);
  if (u < 0.85) return pick(r, [0, 1, 2, -1, 3]);
  if (u < 0.92) return [makeTensor([1, 4, 2, 2], r), makeTensor([1, 4, 2, 2], r)];
  const t = makeTensor([1, 4, 2, 2], r, 'own');
  if (r() < 0.5) detach(t); else lie(t, r);
  return t;
}

/** Calls a public function with 0-4 arbitrary arguments: it returns or throws TypeError/RangeError. */
export async function runJunkCall(name: string, seed: number, stats: FuzzStats): Promise<void> {
  const r = rng(seed);
  const args = Array.from({ length: int(r, 0, 4) }, () => argValue(r));
  const label = `${name}(${args.map((a) => (a instanceof Tensor ? `Tensor[${a.shape}]` : typeof a === 'symbol' ? 'symbol' : typeof a)).join(', ')}) seed=${seed}`;
  stats.calls++;
  const threads = tf.runtime.info().threads, inline = tf.runtime.inlineLimit();
  try {
    let result = PUBLIC_FNS[name](...args);
    if (result instanceof Promise) result = await result;
    stats.returned++;
  } catch (err) {
    if (ANY_ERROR_OK.has(name) && err instanceof Error) stats.rangeErrors++;
    else classify(err, stats, label);
  } finally {
    if (tf.runtime.info().threads !== threads) tf.runtime.setThreads(threads);
    if (tf.runtime.inlineLimit() !== inline) tf.runtime.setInlineLimit(inline);
  }
}

/** Case i of the mixed stream: 3 of 4 are op cases (reference-checked), 1 of 4 a junk call. */
export async function runMixed(seed: number, i: number, stats: FuzzStats): Promise<void> {
  if (i % 4 === 3) {
    const r = rng((seed ^ Math.imul(i + 7, 0x85ebca6b)) >>> 0);
    return runJunkCall(pick(r, PUBLIC_FN_NAMES), Math.floor(r() * 2 ** 32), stats);
  }
  return runCase(caseAt(seed, i), stats);
}
