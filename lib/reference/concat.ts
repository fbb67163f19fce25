// Reference concat: for every output element, find the input it comes from by its
// coordinate along the axis. The oracle for the concat kernels, never the fast path.
import { RefResult, RefTensor, sizeOf, stridesOf } from './elementwise';

/** Concatenates along `axis` (negative counts from the end), as ONNX Concat / np.concatenate. */
export function concat(inputs: readonly RefTensor[], axis: number): RefResult {
  if (inputs.length === 0) throw new RangeError('reference: concat needs at least one input');
  const rank = inputs[0].shape.length;
  if (rank === 0) throw new RangeError('reference: concat needs inputs of rank >= 1');
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`reference: axis ${axis} is out of range for rank ${rank}`);
  }
  const ax = axis < 0 ? axis + rank : axis;
  const starts: number[] = []; // where each input begins along the axis of the output
  let total = 0;
  inputs.forEach((t, i) => {
    if (t.data.length !== sizeOf(t.shape)) throw new RangeError(`reference: inputs[${i}] length does not match its shape`);
    const ok = t.shape.length === rank && t.shape.every((d, k) => k === ax || d === inputs[0].shape[k]);
    if (!ok) throw new RangeError(`reference: inputs[${i}] [${t.shape.join(',')}] differs off axis ${ax}`);
    starts.push(total);
    total += t.shape[ax];
  });
  const shape = inputs[0].shape.slice();
  shape[ax] = total;
  const n = sizeOf(shape);
  const data = new Float32Array(n);
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < n; flat++) {
    let rest = flat;
    for (let k = rank - 1; k >= 0; k--) {
      index[k] = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
    }
    // The one input whose range along the axis holds this coordinate.
    let which = -1;
    for (let i = 0; i < inputs.length; i++) {
      if (starts[i] <= index[ax] && index[ax] < starts[i] + inputs[i].shape[ax]) which = i;
    }
    const src = inputs[which];
    const strides = stridesOf(src.shape);
    let offset = 0;
    for (let k = 0; k < rank; k++) offset += (k === ax ? index[k] - starts[which] : index[k]) * strides[k];
    data[flat] = src.data[offset];
  }
  return { data, shape };
}
