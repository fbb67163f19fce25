// concat along any axis. Inputs and out may be strided channel views (Tensor.sliceChannels of
// a batch): the binding then copies image by image.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor } from './checks';
import { allContiguous, overlaps, stridesOf } from './views';
import type { OutOptions } from './elementwise';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';

/** A native concat of inputs' [outer, extent] blocks into out, image by image when strides are given. */
interface ConcatPass {
  inputs: Float32Array[];
  extents: number[];
  outer: number;
  out: Float32Array;
  strides: number[] | undefined;
  images: number;
}

interface ConcatCall {
  out: Tensor;
  /** One pass (all contiguous, or views on axis >= 1); one per input for views on the batch axis. */
  passes: ConcatPass | ConcatPass[];
}

function prepare(op: string, inputs: unknown, axis: unknown, options: OutOptions | undefined): ConcatCall {
  if (!Array.isArray(inputs)) throw typeError(op, `inputs must be an array of Tensors, got ${describeValue(inputs)}`);
  if (inputs.length === 0) throw rangeError(op, 'inputs must hold at least one Tensor');
  const tensors = inputs.map((t, i) => checkTensorOrView(op, `inputs[${i}]`, t));
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
  const out = outputFor(op, options, shape, true);
  tensors.forEach((t, i) => {
    if (overlaps(out, t)) throw rangeError(op, `out overlaps inputs[${i}] ${formatShape(t.shape)}`);
  });
  let inner = 1;
  for (let k = ax + 1; k < rank; k++) inner *= first[k];
  const views = !(allContiguous(tensors) && out.isContiguous);
  if (views && ax === 0) return { out, passes: batchAxisPasses(tensors, out, inner) };
  // With views the binding runs image by image, so the rows before the axis exclude the batch.
  let outer = 1;
  for (let k = views ? 1 : 0; k < ax; k++) outer *= first[k];
  const passes: ConcatPass = {
    inputs: tensors.map((t) => t.data), extents: tensors.map((t) => t.shape[ax] * inner), outer, out: out.data,
    strides: views ? stridesOf([...tensors, out]) : undefined, images: views ? first[0] : 1,
  };
  return { out, passes };
}

/**
 * Concat along the batch axis with a strided view among the tensors: out's images are the
 * inputs' images in turn, so each input is one batched copy into its run of out's images.
 */
function batchAxisPasses(tensors: readonly Tensor[], out: Tensor, image: number): ConcatPass[] {
  const stride = out.batchStride;
  let at = 0;
  return tensors.map((t) => {
    const images = t.shape[0];
    const span = images === 0 ? 0 : (images - 1) * stride + image;
    const pass: ConcatPass = {
      inputs: [t.data], extents: [image], outer: 1, out: out.data.subarray(at * stride, at * stride + span),
      strides: [t.batchStride, stride], images,
    };
    at += images;
    return pass;
  });
}

/** Concatenates along `axis` (negative counts from the end). `out` must not overlap any input. */
export function concat(inputs: Tensor[], axis: number, options?: OutOptions): Tensor {
  const { out, passes } = prepare('concat', inputs, axis, options);
  if (!Array.isArray(passes)) native.concat(passes.inputs, passes.extents, passes.outer, passes.out, false, passes.strides, passes.images);
  else for (const p of passes) native.concat(p.inputs, p.extents, p.outer, p.out, false, p.strides, p.images);
  return out;
}

/** concat() on the libuv thread pool; the inputs stay referenced until it settles. */
export async function concatAsync(inputs: Tensor[], axis: number, options?: OutOptions): Promise<Tensor> {
  const { out, passes } = prepare('concatAsync', inputs, axis, options);
  for (const p of Array.isArray(passes) ? passes : [passes]) await native.concat(p.inputs, p.extents, p.outer, p.out, true, p.strides, p.images);
  return out;
}

/**
 * The copy of `length` floats into out at `offset` (a compiled model's concat input that is
 * not written in place), as a one-input concat so that it can be recorded into a batch:
 * run(x, out) hands x (length floats) and out to the binding, which checks the lengths.
 */
export function prepareCopyInto(offset: number, length: number): PreparedStep {
  return preparedStep((x, out, mode) => {
    const dst = out.subarray(offset, offset + length);
    if (mode === false) native.concat([x], [length], 1, dst, false);
    else native.concat([x], [length], 1, dst, mode);
  });
}
