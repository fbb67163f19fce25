// maxPool2d over NCHW (ONNX MaxPool: explicit pads, dilations, ceil mode).
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor } from './checks';
import { overlaps, stridesOf } from './views';
import type { OutOptions } from './elementwise';

export interface MaxPool2dOptions extends OutOptions {
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  /** [top, left, bottom, right]; padded positions never win a max. */
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  ceilMode?: boolean;
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

function outLength(inLen: number, k: number, s: number, p0: number, p1: number, d: number, ceil: boolean): number {
  // As ONNX: a negative span still gives one window in ceil mode when it is short of s.
  const span = inLen + p0 + p1 - ((k - 1) * d + 1);
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= inLen + p0) out--;
  return out;
}

interface PoolCall {
  x: Tensor;
  out: Tensor;
  params: number[];
  /** [x, out] batch strides when either is a strided view. */
  strides: number[] | undefined;
}

function prepare(op: string, x: unknown, options: unknown): PoolCall {
  const tx = checkTensorOrView(op, 'x', x);
  if (tx.shape.length !== 4) throw rangeError(op, `x must be NCHW (rank 4), got ${formatShape(tx.shape)}`);
  if (options === null || typeof options !== 'object') throw typeError(op, `options must be an object with a kernel, got ${describeValue(options)}`);
  const o = options as MaxPool2dOptions;
  const kernel = intTuple(op, 'kernel', o.kernel, 2, 1);
  const strides = intTuple(op, 'strides', o.strides, 2, 1, [1, 1]);
  const pads = intTuple(op, 'pads', o.pads, 4, 0, [0, 0, 0, 0]);
  const dilations = intTuple(op, 'dilations', o.dilations, 2, 1, [1, 1]);
  if (o.ceilMode !== undefined && typeof o.ceilMode !== 'boolean') throw typeError(op, `ceilMode must be a boolean, got ${describeValue(o.ceilMode)}`);
  const ceil = o.ceilMode === true;
  const [n, c, h, w] = tx.shape;
  const oh = outLength(h, kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil);
  const ow = outLength(w, kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil);
  if (oh < 1 || ow < 1) {
    throw rangeError(op, `kernel [${kernel.join(',')}] (dilations [${dilations.join(',')}]) does not fit x ${formatShape(tx.shape)} with pads [${pads.join(',')}]`);
  }
  const out = outputFor(op, o, [n, c, oh, ow], true);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  const params = [kernel[0], kernel[1], strides[0], strides[1], pads[0], pads[1], pads[2], pads[3], dilations[0], dilations[1], ceil ? 1 : 0];
  return { x: tx, out, params, strides: tx.isContiguous && out.isContiguous ? undefined : stridesOf([tx, out]) };
}

/** 2-D max pooling of an NCHW tensor. */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  const c = prepare('maxPool2d', x, options);
  native.maxPool2d(c.x.data, c.x.shape, c.params, c.out.data, false, c.strides);
  return c.out;
}

/** maxPool2d() on the libuv thread pool. */
export async function maxPool2dAsync(x: Tensor, options: MaxPool2dOptions): Promise<Tensor> {
  const c = prepare('maxPool2dAsync', x, options);
  await native.maxPool2d(c.x.data, c.x.shape, c.params, c.out.data, true, c.strides);
  return c.out;
}
