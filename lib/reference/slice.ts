// Reference Slice (ONNX-13: negative indices, clamping, negative steps) and Split.
import type { RefResult, RefTensor } from './elementwise';

export interface RefSliceSpec {
  starts: readonly number[];
  ends: readonly number[];
  axes?: readonly number[];
  steps?: readonly number[];
}

export function slice(x: RefTensor, spec: RefSliceSpec): RefResult {
  const rank = x.shape.length;
  const start = x.shape.map(() => 0);
  const step = x.shape.map(() => 1);
  const len = [...x.shape];
  spec.starts.forEach((s0, i) => {
    const axis = spec.axes ? (spec.axes[i] < 0 ? spec.axes[i] + rank : spec.axes[i]) : i;
    const dim = x.shape[axis];
    const st = spec.steps ? spec.steps[i] : 1;
    let s = s0 < 0 ? s0 + dim : s0;
    let e = spec.ends[i] < 0 ? spec.ends[i] + dim : spec.ends[i];
    if (st > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    start[axis] = s;
    step[axis] = st;
    len[axis] = Math.max(0, Math.ceil((e - s) / st));
  });
  const total = len.reduce((p, d) => p * d, 1);
  const data = new Float32Array(total);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let rem = i;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = rem % len[k];
      rem = Math.floor(rem / len[k]);
    }
    let src = 0;
    for (let k = 0; k < rank; k++) src = src * x.shape[k] + start[k] + idx[k] * step[k];
    data[i] = x.data[src];
  }
  return { data, shape: len };
}

/** Split along `axis` into parts of the given sizes. */
export function split(x: RefTensor, axis: number, sizes: readonly number[]): RefResult[] {
  const ax = axis < 0 ? axis + x.shape.length : axis;
  let begin = 0;
  return sizes.map((size) => {
    const r = slice(x, { starts: [begin], ends: [begin + size], axes: [ax] });
    begin += size;
    return r;
  });
}
