// Reference add / mul with NumPy broadcasting: the oracle the tests compare the kernels
// against, never the fast path. Written for obvious correctness, independently of lib/ops:
// for every output element, work out its multi-index and read each input at the index
// broadcasting maps it to.

/** A flat row-major Float32Array with a shape. A Tensor satisfies this interface. */
export interface RefTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** The result of a reference op: fresh memory, never shared with an input. */
export interface RefResult {
  data: Float32Array;
  shape: number[];
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides (in elements) of a contiguous array of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k];
  }
  return strides;
}

function checkRef(name: string, t: RefTensor): void {
  if (t.data.length !== sizeOf(t.shape)) {
    throw new RangeError(`reference: ${name} has ${t.data.length} elements but shape [${t.shape.join(',')}] needs ${sizeOf(t.shape)}`);
  }
}

/**
 * The NumPy broadcast of two shapes: align them at the right, pad the shorter one with
 * leading 1s, and in each dim the sizes must be equal or one of them 1.
 */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const pa = [...new Array<number>(rank - a.length).fill(1), ...a];
  const pb = [...new Array<number>(rank - b.length).fill(1), ...b];
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    if (pa[k] === pb[k]) out.push(pa[k]);
    else if (pa[k] === 1) out.push(pb[k]);
    else if (pb[k] === 1) out.push(pa[k]);
    else throw new RangeError(`reference: shapes [${a.join(',')}] and [${b.join(',')}] are not broadcastable`);
  }
  return out;
}

/** Offset into an input of `shape` for the output multi-index `index` (of rank >= shape's). */
function broadcastOffset(index: readonly number[], shape: readonly number[], strides: readonly number[]): number {
  const lead = index.length - shape.length;
  let offset = 0;
  for (let k = 0; k < shape.length; k++) {
    const i = shape[k] === 1 ? 0 : index[lead + k];
    offset += i * strides[k];
  }
  return offset;
}

/** Applies `f` element by element with broadcasting; each result is rounded to float32. */
export function binary(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefResult {
  checkRef('a', a);
  checkRef('b', b);
  const shape = broadcastShape(a.shape, b.shape);
  const n = sizeOf(shape);
  const data = new Float32Array(n);
  const aStrides = stridesOf(a.shape);
  const bStrides = stridesOf(b.shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    // Multi-index of `flat` in `shape`.
    let rest = flat;
    for (let k = shape.length - 1; k >= 0; k--) {
      index[k] = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
    }
    const x = a.data[broadcastOffset(index, a.shape, aStrides)];
    const y = b.data[broadcastOffset(index, b.shape, bStrides)];
    data[flat] = Math.fround(f(x, y));
  }
  return { data, shape };
}

/** a + b in float32 (each sum of two float32 values rounded once to float32). */
export function add(a: RefTensor, b: RefTensor): RefResult {
  return binary(a, b, (x, y) => x + y);
}

/** a * b in float32. */
export function mul(a: RefTensor, b: RefTensor): RefResult {
  return binary(a, b, (x, y) => x * y);
}

/** ONNX Sum: the inputs added left to right with broadcasting; one input is copied. */
export function sum(inputs: readonly RefTensor[]): RefResult {
  if (inputs.length === 0) throw new RangeError('reference: sum needs at least one input');
  checkRef('inputs[0]', inputs[0]);
  let acc: RefResult = { data: Float32Array.from(inputs[0].data), shape: inputs[0].shape.slice() };
  for (let i = 1; i < inputs.length; i++) acc = add(acc, inputs[i]);
  return acc;
}
