// add / mul with NumPy broadcasting.
import { native } from '../native';
import { Tensor } from '../tensor';
import { formatShape, rangeError } from '../errors';
import { checkTensorOrView, outputFor, sameShape } from './checks';
import { overlaps, sameMemory, stridesOf } from './views';

export interface OutOptions {
  out?: Tensor;
}

const enum BinaryOp {
  Add = 0,
  Mul = 1,
}

/**
 * Same-shape ops up to this many elements run as a JS loop: a native call's fixed cost
 * (≈250 ns here, mostly napi_get_typedarray_info) exceeds a JS loop over this many floats.
 * Results are bit-identical: one float32 add or mul rounds the same through a double.
 * runtime.setInlineLimit(0) sends every size to the native kernels (tests do).
 */
let inlineLimit = 256;

export function setInlineLimit(elements: number): void {
  inlineLimit = elements;
}

export function getInlineLimit(): number {
  return inlineLimit;
}

export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
    const db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw rangeError(op, `shapes ${formatShape(a)} and ${formatShape(b)} are not broadcastable (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

interface BinaryCall {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  same: boolean;
  /** Batch strides of [a, b, out] when one is a strided view (the binding runs image by image). */
  strides: number[] | undefined;
}

function prepare(op: string, a: unknown, b: unknown, options: OutOptions | undefined): BinaryCall {
  const ta = checkTensorOrView(op, 'a', a);
  const tb = checkTensorOrView(op, 'b', b);
  const same = sameShape(ta.shape, tb.shape);
  const shape = same ? ta.shape : broadcastShapes(op, ta.shape, tb.shape);
  const out = outputFor(op, options, shape, true);
  for (const [name, t] of [['a', ta], ['b', tb]] as const) {
    if (overlaps(out, t) && !sameMemory(out, t)) {
      throw rangeError(op, `out overlaps ${name} ${formatShape(t.shape)} without being the same memory`);
    }
    // A view's images are its axis 0; broadcast into a result of higher rank, that axis would
    // fall inside the result's images.
    if (!t.isContiguous && t.shape.length !== shape.length) {
      throw rangeError(op, `${name} ${formatShape(t.shape)} is a strided view of lower rank than the result ${formatShape(shape)}; only a view's own batch axis may be strided: pass ${name}.contiguous()`);
    }
  }
  const views = !(ta.isContiguous && tb.isContiguous && out.isContiguous);
  return { a: ta, b: tb, out, same, strides: views ? stridesOf([ta, tb, out]) : undefined };
}

function runSync(op: string, code: BinaryOp, a: unknown, b: unknown, options?: OutOptions): Tensor {
  const call = prepare(op, a, b, options);
  const x = call.a.data, y = call.b.data, z = call.out.data;
  if (call.same && call.strides === undefined) {
    const n = z.length;
    if (n <= inlineLimit) {
      if (code === BinaryOp.Add) for (let i = 0; i < n; i++) z[i] = x[i] + y[i];
      else for (let i = 0; i < n; i++) z[i] = x[i] * y[i];
    } else {
      native.binarySame(code, x, y, z);
    }
  } else {
    native.binary(code, x, call.a.shape, y, call.b.shape, z, false, call.strides);
  }
  return call.out;
}

async function runAsync(op: string, code: BinaryOp, a: unknown, b: unknown, options?: OutOptions): Promise<Tensor> {
  const call = prepare(op, a, b, options);
  await native.binary(code, call.a.data, call.a.shape, call.b.data, call.b.shape, call.out.data, true, call.strides);
  return call.out;
}

/**
 * The tiny-op fast path: same shapes, a given `out`, at most `inlineLimit` elements, no
 * shared buffers. Returns `out`, or undefined to take the checked path.
 * Every condition the checked path would verify holds here, so results are identical.
 */
function inlineTarget(a: unknown, b: unknown, options: OutOptions | undefined): Tensor | undefined {
  const out = options !== undefined && options !== null ? options.out : undefined;
  if (!(out instanceof Tensor) || !(a instanceof Tensor) || !(b instanceof Tensor)) return undefined;
  // Interned shapes: identity means equal shapes (and so equal sizes).
  if (a.shape !== out.shape || b.shape !== out.shape || out.size > inlineLimit) return undefined;
  if (out.buffer === a.buffer || out.buffer === b.buffer) return undefined;
  const n = out.size;
  // A detached or shrunk buffer, and a strided view (whose data is longer than its size), fail
  // here and take the checked path.
  if (out.data.length !== n || a.data.length !== n || b.data.length !== n) return undefined;
  return out;
}

/** a + b with NumPy broadcasting. `out` may be a or b itself (in place). */
export function add(a: Tensor, b: Tensor, options?: OutOptions): Tensor {
  const out = inlineTarget(a, b, options);
  if (out === undefined) return runSync('add', BinaryOp.Add, a, b, options);
  const x = a.data, y = b.data, z = out.data;
  for (let i = 0; i < z.length; i++) z[i] = x[i] + y[i];
  return out;
}

/** a * b with NumPy broadcasting. `out` may be a or b itself (in place). */
export function mul(a: Tensor, b: Tensor, options?: OutOptions): Tensor {
  const out = inlineTarget(a, b, options);
  if (out === undefined) return runSync('mul', BinaryOp.Mul, a, b, options);
  const x = a.data, y = b.data, z = out.data;
  for (let i = 0; i < z.length; i++) z[i] = x[i] * y[i];
  return out;
}

/** add() on the libuv thread pool; the inputs stay referenced until it settles. */
export function addAsync(a: Tensor, b: Tensor, options?: OutOptions): Promise<Tensor> {
  return runAsync('addAsync', BinaryOp.Add, a, b, options);
}

/** mul() on the libuv thread pool; the inputs stay referenced until it settles. */
export function mulAsync(a: Tensor, b: Tensor, options?: OutOptions): Promise<Tensor> {
  return runAsync('mulAsync', BinaryOp.Mul, a, b, options);
}
