// weightedSum: out = sum_i inputs[i] * weights[i], each weight a one-channel map [N,1,H,W]
// broadcast over the C channels of its [N,C,H,W] input (ASFF's per-pixel fusion), in one pass.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor, sameShape } from './checks';
import { allContiguous, overlaps, sameMemory, stridesOf } from './views';
import type { OutOptions } from './elementwise';

interface WeightedCall {
  inputs: Tensor[];
  weights: Tensor[];
  out: Tensor;
  dims: [number, number, number];
  /** [...inputs, ...weights, out] batch strides when one is a strided view. */
  strides: number[] | undefined;
}

function prepare(op: string, inputs: unknown, weights: unknown, options: OutOptions | undefined): WeightedCall {
  if (!Array.isArray(inputs)) throw typeError(op, `inputs must be an array of Tensors, got ${describeValue(inputs)}`);
  if (!Array.isArray(weights)) throw typeError(op, `weights must be an array of Tensors, got ${describeValue(weights)}`);
  if (inputs.length === 0) throw rangeError(op, 'inputs must hold at least one Tensor');
  if (weights.length !== inputs.length) {
    throw rangeError(op, `got ${inputs.length} inputs but ${weights.length} weights; they must pair up`);
  }
  const xs = inputs.map((t, i) => checkTensorOrView(op, `inputs[${i}]`, t));
  const ws = weights.map((t, i) => checkTensorOrView(op, `weights[${i}]`, t));
  const shape = xs[0].shape;
  if (shape.length !== 4) throw rangeError(op, `inputs[0] must be NCHW (rank 4), got ${formatShape(shape)}`);
  const [n, c, h, w] = shape;
  xs.forEach((t, i) => {
    if (!sameShape(t.shape, shape)) {
      throw rangeError(op, `inputs[${i}] has shape ${formatShape(t.shape)} but inputs[0] has ${formatShape(shape)}`);
    }
  });
  const mapShape = [n, 1, h, w];
  ws.forEach((t, i) => {
    if (!sameShape(t.shape, mapShape)) {
      throw rangeError(op, `weights[${i}] has shape ${formatShape(t.shape)}, expected a one-channel map ${formatShape(mapShape)} for inputs ${formatShape(shape)}`);
    }
  });
  const out = outputFor(op, options, shape, true);
  xs.forEach((t, i) => {
    if (overlaps(out, t) && !sameMemory(out, t)) {
      throw rangeError(op, `out overlaps inputs[${i}] ${formatShape(t.shape)} without being the same memory`);
    }
  });
  ws.forEach((t, i) => {
    if (overlaps(out, t)) throw rangeError(op, `out overlaps weights[${i}] ${formatShape(t.shape)}`);
  });
  const views = !(allContiguous(xs) && allContiguous(ws) && out.isContiguous);
  return { inputs: xs, weights: ws, out, dims: [n, c, h * w], strides: views ? stridesOf([...xs, ...ws, out]) : undefined };
}

/** sum_i inputs[i] * weights[i] with [N,1,H,W] weights broadcast over channels. `out` may be an input. */
export function weightedSum(inputs: Tensor[], weights: Tensor[], options?: OutOptions): Tensor {
  const c = prepare('weightedSum', inputs, weights, options);
  native.weightedSum(c.inputs.map((t) => t.data), c.weights.map((t) => t.data), ...c.dims, c.out.data, false, c.strides);
  return c.out;
}

/** weightedSum() on the libuv thread pool. */
export async function weightedSumAsync(inputs: Tensor[], weights: Tensor[], options?: OutOptions): Promise<Tensor> {
  const c = prepare('weightedSumAsync', inputs, weights, options);
  await native.weightedSum(c.inputs.map((t) => t.data), c.weights.map((t) => t.data), ...c.dims, c.out.data, true, c.strides);
  return c.out;
}
