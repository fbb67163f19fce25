// concat along any axis.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, outputFor, overlaps } from './checks';
import type { OutOptions } from './elementwise';

interface ConcatCall {
  inputs: Tensor[];
  extents: number[];
  outer: number;
  out: Tensor;
}

function prepare(op: string, inputs: unknown, axis: unknown, options: OutOptions | undefined): ConcatCall {
  if (!Array.isArray(inputs)) throw typeError(op, `inputs must be an array of Tensors, got ${describeValue(inputs)}`);
  if (inputs.length === 0) throw rangeError(op, 'inputs must hold at least one Tensor');
  const tensors = inputs.map((t, i) => checkTensor(op, `inputs[${i}]`, t));
  const first = tensors[0].shape;
  const rank = first.length;
  if (typeof axis !== 'number' || !Number.isInteger(axis)) throw typeError(op, `axis must be an integer, got ${describeValue(axis)}`);
  if (rank === 0) throw rangeError(op, 'inputs must have rank >= 1 (scalars cannot be concatenated)');
  if (axis < -rank || axis >= rank) throw rangeError(op, `axis ${axis} is out of range for rank ${rank} (allowed ${-rank}..${rank - 1})`);
  const ax = axis < 0 ? axis + rank : axis;
  let axisTotal = 0;
  tensors.forEach((t, i) => {
    const ok = t.shape.length === rank && t.shape.every((d, k) => k === ax || d === first[k]);
    if (!ok) {
      throw rangeError(op, `inputs[${i}] has shape ${formatShape(t.shape)}, which differs from inputs[0] ${formatShape(first)} off axis ${ax}`);
    }
    axisTotal += t.shape[ax];
  });
  const shape = first.slice();
  shape[ax] = axisTotal;
  const out = outputFor(op, options, shape);
  tensors.forEach((t, i) => {
    if (overlaps(out, t)) throw rangeError(op, `out overlaps inputs[${i}] ${formatShape(t.shape)}`);
  });
  let outer = 1;
  for (let k = 0; k < ax; k++) outer *= first[k];
  let inner = 1;
  for (let k = ax + 1; k < rank; k++) inner *= first[k];
  return { inputs: tensors, extents: tensors.map((t) => t.shape[ax] * inner), outer, out };
}

/** Concatenates along `axis` (negative counts from the end). `out` must not overlap any input. */
export function concat(inputs: Tensor[], axis: number, options?: OutOptions): Tensor {
  const call = prepare('concat', inputs, axis, options);
  native.concat(call.inputs.map((t) => t.data), call.extents, call.outer, call.out.data, false);
  return call.out;
}

/** concat() on the libuv thread pool; the inputs stay referenced until it settles. */
export async function concatAsync(inputs: Tensor[], axis: number, options?: OutOptions): Promise<Tensor> {
  const call = prepare('concatAsync', inputs, axis, options);
  await native.concat(call.inputs.map((t) => t.data), call.extents, call.outer, call.out.data, true);
  return call.out;
}
