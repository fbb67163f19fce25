// slice (ONNX Slice-13 semantics) and split along one axis.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, outputFor } from './checks';
import { overlaps } from './views';
import { resolveAxis } from './activation';
import type { OutOptions } from './elementwise';

export interface SliceSpec {
  starts: readonly number[];
  ends: readonly number[];
  /** Default: 0 .. starts.length - 1; negative counts from the end. */
  axes?: readonly number[];
  /** Default: all 1; negative walks backwards; never 0. */
  steps?: readonly number[];
}

function intList(op: string, name: string, value: unknown, length?: number): number[] {
  if (!Array.isArray(value)) throw typeError(op, `${name} must be an array of integers, got ${describeValue(value)}`);
  if (length !== undefined && value.length !== length) {
    throw rangeError(op, `${name} has ${value.length} entries but starts has ${length}`);
  }
  value.forEach((v: unknown, i) => {
    // ONNX uses int64 sentinels such as INT64_MAX for "to the end"; any integral number is fine.
    if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, `${name}[${i}] must be an integer, got ${describeValue(v)}`);
  });
  return value.slice() as number[];
}

interface SliceCall {
  x: Tensor;
  out: Tensor;
  starts: number[];
  steps: number[];
  shape: number[];
}

function prepareSlice(op: string, x: unknown, spec: unknown, options: OutOptions | undefined): SliceCall {
  const tx = checkTensor(op, 'x', x);
  if (spec === null || typeof spec !== 'object') throw typeError(op, `spec must be an object { starts, ends, axes?, steps? }, got ${describeValue(spec)}`);
  const s = spec as SliceSpec;
  const starts = intList(op, 'starts', s.starts);
  const ends = intList(op, 'ends', s.ends, starts.length);
  const axes = s.axes === undefined ? starts.map((_, i) => i) : intList(op, 'axes', s.axes, starts.length);
  const steps = s.steps === undefined ? starts.map(() => 1) : intList(op, 'steps', s.steps, starts.length);
  const begin = tx.shape.map(() => 0);
  const step = tx.shape.map(() => 1);
  const shape = tx.shape.slice();
  const seen = new Set<number>();
  axes.forEach((a, i) => {
    const axis = resolveAxis(op, a, tx.shape);
    if (seen.has(axis)) throw rangeError(op, `axes repeats axis ${axis} in [${axes.join(',')}]`);
    seen.add(axis);
    if (steps[i] === 0) throw rangeError(op, `steps[${i}] must not be 0`);
    const dim = tx.shape[axis];
    let b = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (steps[i] > 0) {
      b = Math.min(Math.max(b, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      b = Math.min(Math.max(b, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    begin[axis] = b;
    step[axis] = steps[i];
    shape[axis] = Math.max(0, Math.ceil((e - b) / steps[i]));
  });
  const out = outputFor(op, options, shape);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  // Clamp the starts of empty outputs so the native checks (which only look at non-empty
  // slices) see in-range values either way.
  return { x: tx, out, starts: begin.map((b, k) => Math.min(b, Math.max(tx.shape[k] - 1, 0))), steps: step, shape };
}

/** ONNX Slice: negative starts/ends count from the end, out-of-range values clamp, steps may be negative. */
export function slice(x: Tensor, spec: SliceSpec, options?: OutOptions): Tensor {
  const c = prepareSlice('slice', x, spec, options);
  native.slice(c.x.data, c.x.shape, c.starts, c.steps, c.shape, c.out.data, false);
  return c.out;
}

/** slice() on the libuv thread pool. */
export async function sliceAsync(x: Tensor, spec: SliceSpec, options?: OutOptions): Promise<Tensor> {
  const c = prepareSlice('sliceAsync', x, spec, options);
  await native.slice(c.x.data, c.x.shape, c.starts, c.steps, c.shape, c.out.data, true);
  return c.out;
}

interface SplitCall {
  x: Tensor;
  outs: Tensor[];
  outer: number;
  extents: number[];
}

function prepareSplit(op: string, x: unknown, axis: unknown, parts: unknown): SplitCall {
  const tx = checkTensor(op, 'x', x);
  if (tx.shape.length === 0) throw rangeError(op, 'x must have rank >= 1');
  const ax = resolveAxis(op, axis, tx.shape);
  const len = tx.shape[ax];
  let sizes: number[];
  if (typeof parts === 'number') {
    if (!Number.isInteger(parts)) throw typeError(op, `count must be an integer, got ${parts}`);
    if (parts < 1) throw rangeError(op, `count must be >= 1, got ${parts}`);
    // Bounded so a huge count is an error, not 2^31 empty tensors (the fuzzer's crash).
    if (parts > Math.max(len, 1)) throw rangeError(op, `count ${parts} exceeds the ${len} elements of axis ${ax} of x ${formatShape(tx.shape)}`);
    // Equal parts when they divide the axis, else ceil(len / count) each and a smaller
    // last part (ONNX Split-18 num_outputs).
    const chunk = Math.ceil(len / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, len - i * chunk)));
  } else if (Array.isArray(parts)) {
    if (parts.length === 0) throw rangeError(op, 'sizes must hold at least one part');
    sizes = parts.map((v: unknown, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, `sizes[${i}] must be an integer, got ${describeValue(v)}`);
      if (v < 0) throw rangeError(op, `sizes[${i}] must be >= 0, got ${v}`);
      return v;
    });
    const total = sizes.reduce((p, v) => p + v, 0);
    if (total !== len) {
      throw rangeError(op, `sizes [${sizes.join(',')}] add up to ${total} but axis ${ax} of x ${formatShape(tx.shape)} has ${len}`);
    }
  } else {
    throw typeError(op, `parts must be a count or an array of sizes, got ${describeValue(parts)}`);
  }
  let outer = 1;
  for (let k = 0; k < ax; k++) outer *= tx.shape[k];
  let inner = 1;
  for (let k = ax + 1; k < tx.shape.length; k++) inner *= tx.shape[k];
  const outs = sizes.map((s) => {
    const shape = tx.shape.slice();
    shape[ax] = s;
    return Tensor.empty(shape);
  });
  return { x: tx, outs, outer, extents: sizes.map((s) => s * inner) };
}

/** Splits x along `axis` into parts of the given sizes, or into `count` parts. */
export function split(x: Tensor, axis: number, parts: number | readonly number[]): Tensor[] {
  const c = prepareSplit('split', x, axis, parts);
  native.split(c.x.data, c.outer, c.extents, c.outs.map((t) => t.data), false);
  return c.outs;
}

/** split() on the libuv thread pool. */
export async function splitAsync(x: Tensor, axis: number, parts: number | readonly number[]): Promise<Tensor[]> {
  const c = prepareSplit('splitAsync', x, axis, parts);
  await native.split(c.x.data, c.outer, c.extents, c.outs.map((t) => t.data), true);
  return c.outs;
}
