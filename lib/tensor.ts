// Tensor: a shape over a caller's Float32Array.
//
// Aliasing rule: a Tensor never copies. `Tensor.from(data, shape)` and `t.reshape()` share
// the same memory, so writing through one is visible through the other, and an op's
// `out` may be any tensor the caller owns (reuse it across calls to avoid allocation).
import { allocateFloat32 } from './memory';
import { checkShape, describeValue, expectFloat32Array, formatShape, rangeError, typeError } from './errors';

/**
 * Shapes are interned: tensors of equal shape share one frozen array, so the hot paths of
 * tiny ops compare shapes by identity. Bounded so a stream of distinct shapes cannot grow
 * it without limit (past the bound, shapes are simply not shared).
 */
const SHAPE_INTERN_LIMIT = 4096;
const internedShapes = new Map<string, readonly number[]>();

function intern(shape: readonly number[]): readonly number[] {
  const key = shape.join(',');
  const hit = internedShapes.get(key);
  if (hit !== undefined) return hit;
  if (internedShapes.size < SHAPE_INTERN_LIMIT) internedShapes.set(key, shape);
  return shape;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
  readonly size: number;
  /** data.buffer, read once: the getter costs as much as a tiny op's arithmetic. */
  readonly buffer: ArrayBufferLike;

  private constructor(data: Float32Array, shape: readonly number[]) {
    this.data = data;
    this.shape = intern(shape);
    this.size = data.length;
    this.buffer = data.buffer;
  }

  /** Wraps `data` (no copy). `data.length` must equal the product of `shape`. */
  static from(data: Float32Array, shape: readonly number[]): Tensor {
    expectFloat32Array('Tensor.from', 'data', data);
    const s = checkShape('Tensor.from', 'shape', shape);
    const n = sizeOf(s);
    if (data.length !== n) {
      throw rangeError('Tensor.from', `data has ${data.length} elements but shape ${formatShape(s)} needs ${n}`);
    }
    return new Tensor(data, s);
  }

  /** A new tensor filled with zeros. */
  static zeros(shape: readonly number[]): Tensor {
    const s = checkShape('Tensor.zeros', 'shape', shape);
    const t = new Tensor(allocateFloat32(sizeOf(s)), s);
    t.data.fill(0);
    return t;
  }

  /**
   * A new tensor with unspecified contents (memory may be recycled from an earlier
   * tensorfuse output). Large ones come from tensorfuse's aligned, huge-page allocator.
   */
  static empty(shape: readonly number[]): Tensor {
    const s = checkShape('Tensor.empty', 'shape', shape);
    return new Tensor(allocateFloat32(sizeOf(s)), s);
  }

  /** @internal Wraps memory whose length the caller has already checked. */
  static fromUnchecked(data: Float32Array, shape: readonly number[]): Tensor {
    return new Tensor(data, shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A view with a new shape over the same memory; one dim may be -1 (inferred). */
  reshape(shape: readonly number[]): Tensor {
    if (!Array.isArray(shape)) throw typeError('reshape', `shape must be an array, got ${describeValue(shape)}`);
    const inferred = shape.indexOf(-1);
    if (inferred >= 0 && shape.indexOf(-1, inferred + 1) >= 0) {
      throw rangeError('reshape', `shape ${formatShape(shape)} may hold only one -1 (the inferred dim)`);
    }
    let resolved = shape;
    if (inferred >= 0) {
      // The -1 counts as 1, so a bad dim is reported at its own index.
      const rest = shape.map((d, i) => (i === inferred ? 1 : d));
      const known = sizeOf(checkShape('reshape', 'shape', rest));
      if (known === 0 || this.size % known !== 0) {
        throw rangeError('reshape', `cannot reshape ${formatShape(this.shape)} into ${formatShape(shape)}`);
      }
      resolved = shape.map((d, i) => (i === inferred ? this.size / known : d));
    }
    const s = checkShape('reshape', 'shape', resolved);
    if (sizeOf(s) !== this.size) {
      throw rangeError('reshape', `cannot reshape ${formatShape(this.shape)} (${this.size} elements) into ${formatShape(s)}`);
    }
    return new Tensor(this.data, s);
  }

  /**
   * Channels [start, end) of an NCHW tensor (channel axis 1, rank >= 2) as a view on the
   * same memory: writing through the view writes this tensor. When N = 1 (or the range is
   * every channel) the view is contiguous, an ordinary Tensor that every op takes as input
   * and as `out` — a dense block can write each layer straight into its slice of one
   * preallocated output. A partial channel range of a batch (N > 1) would be strided, which
   * the ops do not take yet: that case is a RangeError.
   */
  sliceChannels(start: number, end: number): Tensor {
    const op = 'sliceChannels';
    if (this.shape.length < 2) throw rangeError(op, `needs a tensor with a channel axis (rank >= 2), got ${formatShape(this.shape)}`);
    for (const [name, v] of [['start', start], ['end', end]] as const) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(op, `${name} must be an integer, got ${describeValue(v)}`);
    }
    const [n, c] = this.shape;
    if (start < 0 || end < start || end > c) {
      throw rangeError(op, `channel range [${start}, ${end}) is not within the ${c} channels of ${formatShape(this.shape)}`);
    }
    if (n > 1 && !(start === 0 && end === c)) {
      throw rangeError(op, `channels [${start}, ${end}) of a batch ${formatShape(this.shape)} (N > 1) would be a strided view, which is not supported yet; use slice() for a copy`);
    }
    if (start === 0 && end === c) return new Tensor(this.data, this.shape);
    const per = sizeOf(this.shape.slice(2));
    const shape = this.shape.slice();
    shape[1] = end - start;
    return new Tensor(this.data.subarray(start * per, end * per), Object.freeze(shape));
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}`;
  }
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
