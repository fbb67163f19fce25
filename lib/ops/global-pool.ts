// Global pooling (ONNX GlobalAveragePool / GlobalMaxPool): [N, C, ...spatial] -> [N, C, 1, ...].
import { native } from '../native';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';
import { Tensor } from '../tensor';
import { formatShape, rangeError } from '../errors';
import { checkTensor, outputFor } from './checks';
import { overlaps } from './views';
import type { OutOptions } from './elementwise';

const enum GlobalPoolOp {
  Avg = 0,
  Max = 1,
}

interface GlobalPoolCall {
  x: Tensor;
  out: Tensor;
  planes: number;
  inner: number;
}

/** x's shape checked: the planes and their size, and the output shape. */
function checkGlobalPool(op: string, xShape: readonly number[]): { planes: number; inner: number; outShape: number[] } {
  if (xShape.length < 3) throw rangeError(op, `x must be [N, C, ...spatial] (rank >= 3), got ${formatShape(xShape)}`);
  const [n, c, ...spatial] = xShape;
  const inner = spatial.reduce((p, d) => p * d, 1);
  if (inner === 0 && n * c > 0) throw rangeError(op, `x ${formatShape(xShape)} has an empty spatial dim: nothing to pool`);
  return { planes: n * c, inner, outShape: [n, c, ...spatial.map(() => 1)] };
}

function prepare(op: string, x: unknown, options: OutOptions | undefined): GlobalPoolCall {
  const tx = checkTensor(op, 'x', x);
  const { planes, inner, outShape } = checkGlobalPool(op, tx.shape);
  const out = outputFor(op, options, outShape);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  return { x: tx, out, planes, inner };
}

/**
 * A global pooling of x of one shape, checked once (a compiled model's step): run(x, out)
 * hands contiguous, disjoint floats to the binding, which checks their lengths again.
 */
export function prepareGlobalPool(kind: 'avg' | 'max', xShape: readonly number[]): PreparedStep {
  const { planes, inner } = checkGlobalPool(kind === 'avg' ? 'globalAvgPool' : 'globalMaxPool', xShape);
  const k = kind === 'avg' ? GlobalPoolOp.Avg : GlobalPoolOp.Max;
  return preparedStep((x, out, mode) => { native.globalPool(k, x, planes, inner, out, mode); });
}

function runSync(op: string, kind: GlobalPoolOp, x: Tensor, options?: OutOptions): Tensor {
  const c = prepare(op, x, options);
  native.globalPool(kind, c.x.data, c.planes, c.inner, c.out.data, false);
  return c.out;
}

async function runAsync(op: string, kind: GlobalPoolOp, x: Tensor, options?: OutOptions): Promise<Tensor> {
  const c = prepare(op, x, options);
  await native.globalPool(kind, c.x.data, c.planes, c.inner, c.out.data, true);
  return c.out;
}

/** The mean of each [n, c] plane over all spatial positions. */
export function globalAvgPool(x: Tensor, options?: OutOptions): Tensor {
  return runSync('globalAvgPool', GlobalPoolOp.Avg, x, options);
}

/** The max of each [n, c] plane over all spatial positions (NaN wins). */
export function globalMaxPool(x: Tensor, options?: OutOptions): Tensor {
  return runSync('globalMaxPool', GlobalPoolOp.Max, x, options);
}

/** globalAvgPool() on the libuv thread pool. */
export function globalAvgPoolAsync(x: Tensor, options?: OutOptions): Promise<Tensor> {
  return runAsync('globalAvgPoolAsync', GlobalPoolOp.Avg, x, options);
}

/** globalMaxPool() on the libuv thread pool. */
export function globalMaxPoolAsync(x: Tensor, options?: OutOptions): Promise<Tensor> {
  return runAsync('globalMaxPoolAsync', GlobalPoolOp.Max, x, options);
}
