// Local response normalisation across channels (ONNX LRN) over [N, C, ...spatial]:
//   y = x / (bias + alpha / size * (sum of x^2 over the size channels around c))^beta
import { native } from '../native';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, outputFor } from './checks';
import { overlaps } from './views';
import type { OutOptions } from './elementwise';

export interface LrnOptions extends OutOptions {
  /** Channels in the window (ONNX `size`, required): floor((size-1)/2) before c, ceil((size-1)/2) after. */
  size: number;
  /** Default 1e-4. */
  alpha?: number;
  /** Default 0.75. */
  beta?: number;
  /** Default 1. */
  bias?: number;
}

interface LrnCall {
  x: Tensor;
  out: Tensor;
  n: number;
  c: number;
  inner: number;
  size: number;
  coefficients: number[];
}

function finite(op: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(op, `${name} must be a number, got ${describeValue(value)}`);
  if (!Number.isFinite(value)) throw rangeError(op, `${name} must be finite, got ${value}`);
  return value;
}

/** The options checked against x's shape: the binding's arguments but the buffers. */
function checkLrn(op: string, xShape: readonly number[], options: unknown): Omit<LrnCall, 'x' | 'out'> {
  if (options === null || typeof options !== 'object') throw typeError(op, `options must be an object with a size, got ${describeValue(options)}`);
  const o = options as LrnOptions;
  if (xShape.length < 2) throw rangeError(op, `x must be [N, C, ...spatial] (rank >= 2), got ${formatShape(xShape)}`);
  if (typeof o.size !== 'number' || !Number.isInteger(o.size)) throw typeError(op, `size must be an integer, got ${describeValue(o.size)}`);
  if (o.size < 1 || o.size > 2 ** 31) throw rangeError(op, `size must be in [1, 2^31], got ${o.size}`);
  const coefficients = [finite(op, 'alpha', o.alpha, 1e-4), finite(op, 'beta', o.beta, 0.75), finite(op, 'bias', o.bias, 1)];
  const [n, c, ...spatial] = xShape;
  return { n, c, inner: spatial.reduce((p, d) => p * d, 1), size: o.size, coefficients };
}

function prepare(op: string, x: unknown, options: unknown): LrnCall {
  const tx = checkTensor(op, 'x', x);
  const checked = checkLrn(op, tx.shape, options);
  const out = outputFor(op, options as LrnOptions, tx.shape);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)} (each channel reads its neighbours)`);
  return { ...checked, x: tx, out };
}

/**
 * lrn() for x of one shape, checked once (a compiled model's LRN steps): run(x, out) hands
 * contiguous, disjoint floats to the binding, which checks their lengths and overlap again.
 */
export function prepareLrn(xShape: readonly number[], options: Omit<LrnOptions, 'out'>): PreparedStep {
  const c = checkLrn('lrn', xShape, options);
  return preparedStep((x, out, mode) => { native.lrn(x, c.n, c.c, c.inner, c.size, c.coefficients, out, mode); });
}

/** LRN across channels (ONNX LRN). out may not overlap x. */
export function lrn(x: Tensor, options: LrnOptions): Tensor {
  const c = prepare('lrn', x, options);
  native.lrn(c.x.data, c.n, c.c, c.inner, c.size, c.coefficients, c.out.data, false);
  return c.out;
}

/** lrn() on the libuv thread pool. */
export async function lrnAsync(x: Tensor, options: LrnOptions): Promise<Tensor> {
  const c = prepare('lrnAsync', x, options);
  await native.lrn(c.x.data, c.n, c.c, c.inner, c.size, c.coefficients, c.out.data, true);
  return c.out;
}
