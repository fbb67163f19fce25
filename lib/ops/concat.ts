// concat along any axis. Inputs and out may be strided channel views (Tensor.sliceChannels of
// a batch): the binding then copies image by image.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor, overlaps } from './checks';
import { batchStrides } from './views';
import type { OutOptions } from './elementwise';

/** One native concat: inputs' [outer, extent] blocks into out, per image when strides are given. */
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
  passes: ConcatPass[];
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
  const strides = batchStrides([...tensors, out]);
  if (strides !== undefined && ax === 0) return { out, passes: batchAxisPasses(tensors, out, inner) };
  // Per image (views) the rows before the axis exclude the batch; contiguous, the whole batch is one image.
  const perImage = strides !== undefined;
  let outer = 1;
  for (let k = perImage ? 1 : 0; k < ax; k++) outer *= first[k];
  const pass: ConcatPass = {
    inputs: tensors.map((t) => t.data), extents: tensors.map((t) => t.shape[ax] * inner), outer, out: out.data,
    strides, images: perImage ? first[0] : 1,
  };
  return { out, passes: [pass] };
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
  const call = prepare('concat', inputs, axis, options);
  for (const p of call.passes) native.concat(p.inputs, p.extents, p.outer, p.out, false, p.strides, p.images);
  return call.out;
}

/** concat() on the libuv thread pool; the inputs stay referenced until it settles. */
export async function concatAsync(inputs: Tensor[], axis: number, options?: OutOptions): Promise<Tensor> {
  const call = prepare('concatAsync', inputs, axis, options);
  for (const p of call.passes) await native.concat(p.inputs, p.extents, p.outer, p.out, true, p.strides, p.images);
  return call.out;
}
