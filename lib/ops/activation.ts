// relu, sigmoid, clip, leakyRelu and softmax over any axis. `out` may be x itself (in place).
import { native } from '../native';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, checkTensorOrView, outputFor } from './checks';
import { overlaps, sameMemory, stridesOf } from './views';
import type { OutOptions } from './elementwise';

const enum UnaryOp {
  Relu = 0,
  Sigmoid = 1,
  Clip = 2,
  LeakyRelu = 3,
}

interface UnaryCall {
  x: Tensor;
  out: Tensor;
  /** [x, out] batch strides when either is a strided view, and their number of images. */
  strides: number[] | undefined;
  images: number;
}

function unaryCall(op: string, x: unknown, options: OutOptions | undefined): UnaryCall {
  const tx = checkTensorOrView(op, 'x', x);
  const out = outputFor(op, options, tx.shape, true);
  checkInPlace(op, out, tx);
  if (tx.isContiguous && out.isContiguous) return { x: tx, out, strides: undefined, images: 1 };
  return { x: tx, out, strides: stridesOf([tx, out]), images: tx.shape[0] };
}

/** out may be x's exact memory, never a partial overlap. */
export function checkInPlace(op: string, out: Tensor, x: Tensor): void {
  if (overlaps(out, x) && !sameMemory(out, x)) {
    throw rangeError(op, `out overlaps x ${formatShape(x.shape)} without being the same memory`);
  }
}

/** max(x, 0) element-wise (NaN stays NaN). */
export function relu(x: Tensor, options?: OutOptions): Tensor {
  const c = unaryCall('relu', x, options);
  native.unary(UnaryOp.Relu, c.x.data, c.out.data, false, c.strides, c.images);
  return c.out;
}

/** 1 / (1 + exp(-x)) element-wise; sigmoid(-inf) = 0, sigmoid(inf) = 1, NaN stays NaN. */
export function sigmoid(x: Tensor, options?: OutOptions): Tensor {
  const c = unaryCall('sigmoid', x, options);
  native.unary(UnaryOp.Sigmoid, c.x.data, c.out.data, false, c.strides, c.images);
  return c.out;
}

function clipBounds(op: string, min: unknown, max: unknown): [number, number] {
  for (const [name, v] of [['min', min], ['max', max]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw typeError(op, `${name} must be a number (not NaN), got ${describeValue(v)}`);
  }
  if ((min as number) > (max as number)) throw rangeError(op, `min ${min} is greater than max ${max}`);
  return [min as number, max as number];
}

/**
 * min(max(x, min), max) element-wise (NaN stays NaN); min <= max, either may be infinite.
 * ReLU6 is clip(x, 0, 6).
 */
export function clip(x: Tensor, min: number, max: number, options?: OutOptions): Tensor {
  const [lo, hi] = clipBounds('clip', min, max);
  const c = unaryCall('clip', x, options);
  native.unary(UnaryOp.Clip, c.x.data, c.out.data, false, c.strides, c.images, lo, hi);
  return c.out;
}

/** clip() on the libuv thread pool. */
export async function clipAsync(x: Tensor, min: number, max: number, options?: OutOptions): Promise<Tensor> {
  const [lo, hi] = clipBounds('clipAsync', min, max);
  const c = unaryCall('clipAsync', x, options);
  await native.unary(UnaryOp.Clip, c.x.data, c.out.data, true, c.strides, c.images, lo, hi);
  return c.out;
}

function slope(op: string, alpha: unknown): number {
  if (typeof alpha !== 'number' || Number.isNaN(alpha)) throw typeError(op, `alpha must be a number (not NaN), got ${describeValue(alpha)}`);
  return alpha;
}

/** x < 0 ? alpha * x : x element-wise (NaN stays NaN); alpha defaults to 0.01 (ONNX, PyTorch). */
export function leakyRelu(x: Tensor, alpha = 0.01, options?: OutOptions): Tensor {
  const a = slope('leakyRelu', alpha);
  const c = unaryCall('leakyRelu', x, options);
  native.unary(UnaryOp.LeakyRelu, c.x.data, c.out.data, false, c.strides, c.images, a);
  return c.out;
}

/** leakyRelu() on the libuv thread pool. */
export async function leakyReluAsync(x: Tensor, alpha = 0.01, options?: OutOptions): Promise<Tensor> {
  const a = slope('leakyReluAsync', alpha);
  const c = unaryCall('leakyReluAsync', x, options);
  await native.unary(UnaryOp.LeakyRelu, c.x.data, c.out.data, true, c.strides, c.images, a);
  return c.out;
}

/** relu() on the libuv thread pool. */
export async function reluAsync(x: Tensor, options?: OutOptions): Promise<Tensor> {
  const c = unaryCall('reluAsync', x, options);
  await native.unary(UnaryOp.Relu, c.x.data, c.out.data, true, c.strides, c.images);
  return c.out;
}

/** sigmoid() on the libuv thread pool. */
export async function sigmoidAsync(x: Tensor, options?: OutOptions): Promise<Tensor> {
  const c = unaryCall('sigmoidAsync', x, options);
  await native.unary(UnaryOp.Sigmoid, c.x.data, c.out.data, true, c.strides, c.images);
  return c.out;
}

/** Resolves a possibly negative axis of a rank-`rank` tensor, with a RangeError naming the shape. */
export function resolveAxis(op: string, axis: unknown, shape: readonly number[]): number {
  const rank = shape.length;
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw typeError(op, `axis must be an integer, got ${describeValue(axis)}`);
  if (axis < -rank || axis >= rank) {
    throw rangeError(op, `axis ${axis} is out of range for x ${formatShape(shape)} (allowed ${-rank}..${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}

interface SoftmaxCall {
  x: Tensor;
  out: Tensor;
  outer: number;
  len: number;
  inner: number;
}

function softmaxCall(op: string, x: unknown, axis: unknown, options: OutOptions | undefined): SoftmaxCall {
  const tx = checkTensor(op, 'x', x);
  if (tx.shape.length === 0) throw rangeError(op, 'x must have rank >= 1');
  const ax = resolveAxis(op, axis === undefined ? -1 : axis, tx.shape);
  const out = outputFor(op, options, tx.shape);
  checkInPlace(op, out, tx);
  let outer = 1;
  for (let k = 0; k < ax; k++) outer *= tx.shape[k];
  let inner = 1;
  for (let k = ax + 1; k < tx.shape.length; k++) inner *= tx.shape[k];
  return { x: tx, out, outer, len: tx.shape[ax], inner };
}

/**
 * exp(x - max) / sum(exp(x - max)) along `axis` (default -1; negative counts from the
 * end), as ONNX Softmax-13.
 */
export function softmax(x: Tensor, axis = -1, options?: OutOptions): Tensor {
  const c = softmaxCall('softmax', x, axis, options);
  native.softmax(c.x.data, c.outer, c.len, c.inner, c.out.data, false);
  return c.out;
}

/**
 * Softmax along `axis` of one input shape, checked once: run(x, out) hands the contiguous
 * floats of x and out (both `shape`) to the binding, which checks their lengths. For a
 * compiled model's step, where it runs once a run and softmax()'s checks, cold each time,
 * cost more than the 1000-way softmax of a classifier (ResNet-50: 0.037 ms a run).
 */
export function prepareSoftmax(shape: readonly number[], axis: number): PreparedStep {
  const op = 'softmax';
  if (shape.length === 0) throw rangeError(op, 'x must have rank >= 1');
  const ax = resolveAxis(op, axis, shape);
  const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1), inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const len = shape[ax];
  return preparedStep((x, out, mode) => { native.softmax(x, outer, len, inner, out, mode); });
}

/** softmax() on the libuv thread pool. */
export async function softmaxAsync(x: Tensor, axis = -1, options?: OutOptions): Promise<Tensor> {
  const c = softmaxCall('softmaxAsync', x, axis, options);
  await native.softmax(c.x.data, c.outer, c.len, c.inner, c.out.data, true);
  return c.out;
}
