// Window pooling: maxPool2d and avgPool2d over NCHW (ONNX MaxPool / AveragePool: explicit
// pads, dilations, ceil mode) or NHWC (the TF.js layout, vectorised over channels).
import { native } from '../native';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor } from './checks';
import { overlaps, stridesOf } from './views';
import type { OutOptions } from './elementwise';

export type PoolLayout = 'NCHW' | 'NHWC';

export interface Pool2dOptions extends OutOptions {
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  /** [top, left, bottom, right]. */
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  ceilMode?: boolean;
  /** Default 'NCHW'. */
  layout?: PoolLayout;
}

export interface MaxPool2dOptions extends Pool2dOptions {
  /**
   * NHWC only: a NaN never wins the max (TF.js MaxPool). Default false: NaN wins (ONNX).
   * Padded positions never take part in a max either way.
   */
  ignoreNaN?: boolean;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /**
   * Divide by the window positions inside the input and its explicit pads (ONNX
   * count_include_pad = 1; positions past the end pad that ceil mode adds never count),
   * rather than only those inside the input (default false, and TF.js AvgPool).
   */
  countIncludePad?: boolean;
}

/** A list of `n` integers >= `min`, or `fallback` when undefined. */
export function intTuple(op: string, name: string, value: unknown, n: number, min: number, fallback?: number[]): number[] {
  if (value === undefined && fallback !== undefined) return fallback;
  if (!Array.isArray(value) || value.length !== n) {
    throw typeError(op, `${name} must be an array of ${n} integers, got ${describeValue(value)}`);
  }
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, `${name}[${i}] must be an integer, got ${describeValue(v)}`);
    if (v < min) throw rangeError(op, `${name}[${i}] must be >= ${min}, got ${v} in [${value.join(',')}]`);
  });
  return value.slice() as number[];
}

/** ONNX pooling output length along one axis; < 1 when the window does not fit. */
export function poolOutLength(inLen: number, k: number, s: number, p0: number, p1: number, d: number, ceil: boolean): number {
  // As ONNX: a negative span still gives one window in ceil mode when it is short of s.
  const span = inLen + p0 + p1 - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inLen + p0) out--;
  return out;
}

function optionalBoolean(op: string, name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw typeError(op, `${name} must be a boolean, got ${describeValue(value)}`);
  return value === true;
}

const enum PoolOp {
  Max = 0,
  Avg = 1,
}

/** A pooling's options checked against an input shape: the binding's arguments. */
interface CheckedPool {
  layout: number;
  params: number[];
  outShape: number[];
}

function checkPool(op: string, kind: PoolOp, xShape: readonly number[], options: unknown): CheckedPool {
  if (options === null || typeof options !== 'object') throw typeError(op, `options must be an object with a kernel, got ${describeValue(options)}`);
  const o = options as MaxPool2dOptions & AvgPool2dOptions;
  const layout = o.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC') throw typeError(op, `layout must be 'NCHW' or 'NHWC', got ${describeValue(o.layout)}`);
  const nhwc = layout === 'NHWC';
  if (xShape.length !== 4) throw rangeError(op, `x must be ${layout} (rank 4), got ${formatShape(xShape)}`);
  const kernel = intTuple(op, 'kernel', o.kernel, 2, 1);
  const strides = intTuple(op, 'strides', o.strides, 2, 1, [1, 1]);
  const pads = intTuple(op, 'pads', o.pads, 4, 0, [0, 0, 0, 0]);
  const dilations = intTuple(op, 'dilations', o.dilations, 2, 1, [1, 1]);
  const ceil = optionalBoolean(op, 'ceilMode', o.ceilMode);
  let flag = false;
  if (kind === PoolOp.Avg) {
    flag = optionalBoolean(op, 'countIncludePad', o.countIncludePad);
  } else {
    flag = optionalBoolean(op, 'ignoreNaN', o.ignoreNaN);
    if (flag && !nhwc) throw rangeError(op, `ignoreNaN needs layout 'NHWC' (the NCHW max always lets NaN win), x ${formatShape(xShape)}`);
  }
  const [n, h, w, c] = nhwc ? xShape : [xShape[0], xShape[2], xShape[3], xShape[1]];
  const oh = poolOutLength(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil);
  const ow = poolOutLength(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil);
  if (oh < 1 || ow < 1) {
    throw rangeError(op, `kernel [${kernel.join(',')}] (dilations [${dilations.join(',')}]) does not fit x ${formatShape(xShape)} (${layout}) with pads [${pads.join(',')}]`);
  }
  const params = [kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], pads[2], pads[3], dilations[0], dilations[1], ceil ? 1 : 0, flag ? 1 : 0];
  return { layout: nhwc ? 1 : 0, params, outShape: nhwc ? [n, oh, ow, c] : [n, c, oh, ow] };
}

interface PoolCall extends CheckedPool {
  x: Tensor;
  out: Tensor;
  /** [x, out] batch strides when either is a strided view. */
  strides: number[] | undefined;
}

function prepare(op: string, kind: PoolOp, x: unknown, options: unknown): PoolCall {
  const tx = checkTensorOrView(op, 'x', x);
  const checked = checkPool(op, kind, tx.shape, options);
  // A batch-strided view (x or out) runs one image at a time, in either layout.
  const out = outputFor(op, options as OutOptions, checked.outShape, true);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  return { ...checked, x: tx, out, strides: tx.isContiguous && out.isContiguous ? undefined : stridesOf([tx, out]) };
}

function runSync(op: string, kind: PoolOp, x: Tensor, options: Pool2dOptions): Tensor {
  const c = prepare(op, kind, x, options);
  native.pool2d(kind, c.layout, c.x.data, c.x.shape, c.params, c.out.data, false, c.strides);
  return c.out;
}

async function runAsync(op: string, kind: PoolOp, x: Tensor, options: Pool2dOptions): Promise<Tensor> {
  const c = prepare(op, kind, x, options);
  await native.pool2d(kind, c.layout, c.x.data, c.x.shape, c.params, c.out.data, true, c.strides);
  return c.out;
}

/**
 * A pooling of one input shape, its options checked once: run(x, out) hands the contiguous
 * floats of x (xShape) and out (outShape) to the binding, which checks their lengths. For
 * a compiled model's steps: there a pool runs once a run, and the checks' code, cold each
 * time after the convs between, cost more than the pooling (ResNet-50's final 7x7
 * AveragePool: 0.097 ms a run through avgPool2d, 0.034 straight to the binding).
 */
export interface PreparedPool2d extends PreparedStep {
  readonly outShape: readonly number[];
}

export function preparePool2d(kind: 'max' | 'avg', xShape: readonly number[], options: MaxPool2dOptions & AvgPool2dOptions): PreparedPool2d {
  const op = kind === 'max' ? 'maxPool2d' : 'avgPool2d';
  const k = kind === 'max' ? PoolOp.Max : PoolOp.Avg;
  const shape = xShape.slice();
  const c = checkPool(op, k, shape, options);
  return { outShape: c.outShape, ...preparedStep((x, out, mode) => { native.pool2d(k, c.layout, x, shape, c.params, out, mode, undefined); }) };
}

/** 2-D max pooling; padded positions never win. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  return runSync('maxPool2d', PoolOp.Max, x, options);
}

/** maxPool2d() on the libuv thread pool. */
export function maxPool2dAsync(x: Tensor, options: MaxPool2dOptions): Promise<Tensor> {
  return runAsync('maxPool2dAsync', PoolOp.Max, x, options);
}

/**
 * 2-D average pooling (ONNX AveragePool). A window whose divisor is 0 (it lies wholly in
 * the padding, without countIncludePad) gives NaN.
 */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return runSync('avgPool2d', PoolOp.Avg, x, options);
}

/** avgPool2d() on the libuv thread pool. */
export function avgPool2dAsync(x: Tensor, options: AvgPool2dOptions): Promise<Tensor> {
  return runAsync('avgPool2dAsync', PoolOp.Avg, x, options);
}
