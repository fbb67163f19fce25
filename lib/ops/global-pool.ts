// Global pooling (ONNX GlobalAveragePool / GlobalMaxPool): [N, C, ...spatial] -> [N, C, 1, ...].
import { native } from '../native';
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

function prepare(op: string, x: unknown, options: OutOptions | undefined): GlobalPoolCall {
  const tx = checkTensor(op, 'x', x);
  if (tx.shape.length < 3) throw rangeError(op, `x must be [N, C, ...spatial] (rank >= 3), got ${formatShape(tx.shape)}`);
  const [n, c, ...spatial] = tx.shape;
  const inner = spatial.reduce((p, d) => p * d, 1);
  if (inner === 0 && n * c > 0) throw rangeError(op, `x ${formatShape(tx.shape)} has an empty spatial dim: nothing to pool`);
  const out = outputFor(op, options, [n, c, ...spatial.map(() => 1)]);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  return { x: tx, out, planes: n * c, inner };
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
