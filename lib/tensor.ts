// Tensor: a shape over a caller's Float32Array.
//
// Aliasing rule: a Tensor never copies. `Tensor.from(data, shape)` and `t.reshape()` share
// the same memory, so writing through one is visible through the other, and an op's
// `out` may be any tensor the caller owns (reuse it across calls to avoid allocation).
//
// Strided channel views: `t.sliceChannels(start, end)` of a batch (N > 1) over part of the
// channels is a view whose images are `batchStride` floats apart (the parent's C*H*W) while
// each image's block is contiguous. Every other tensor is contiguous (`isContiguous`).
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

/** Floats in one image (one index of axis 0): the product of shape[1:]. */
function imageSizeOf(shape: readonly number[]): number {
  let n = 1;
  for (let k = 1; k < shape.length; k++) n *= shape[k];
  return n;
}

export class Tensor {
  /**
   * The memory. Contiguous tensors: exactly their `size` elements in row-major order. A
   * strided view: from its first element to the last element of its last image, so it also
   * spans the parent's other channels between images (data.length > size); read it image by
   * image (image n starts at n * batchStride) or copy it out with contiguous().
   */
  readonly data: Float32Array;
  readonly shape: readonly number[];
  /** Number of elements (the product of shape). */
  readonly size: number;
  /** data.buffer, read once: the getter costs as much as a tiny op's arithmetic. */
  readonly buffer: ArrayBufferLike;
  /** A strided view's batch stride; 0 for a contiguous tensor (the common case pays nothing). */
  private readonly viewStride: number;

  private constructor(data: Float32Array, shape: readonly number[], size = data.length, viewStride = 0) {
    this.data = data;
    this.shape = intern(shape);
    this.size = size;
    this.buffer = data.buffer;
    this.viewStride = viewStride;
  }

  /** False only for a strided channel view (sliceChannels of part of the channels of a batch, N > 1). */
  get isContiguous(): boolean {
    return this.viewStride === 0;
  }

  /**
   * Floats from the start of image n to the start of image n + 1 (axis 0). A contiguous tensor's
   * is its image size, the product of shape[1:]; a strided view's is its parent's C*H*W.
   */
  get batchStride(): number {
    return this.viewStride !== 0 ? this.viewStride : imageSizeOf(this.shape);
  }

  /** This tensor when contiguous; else a new contiguous copy of its elements. */
  contiguous(): Tensor {
    if (this.viewStride === 0) return this;
    const images = this.shape[0], image = this.size / images;
    if (this.data.length !== (images - 1) * this.viewStride + image) {
      throw rangeError('contiguous', `view ${formatShape(this.shape)} lost its memory (the buffer was detached or shrunk)`);
    }
    const out = Tensor.empty(this.shape);
    for (let n = 0; n < images; n++) {
      const at = n * this.viewStride;
      out.data.set(this.data.subarray(at, at + image), n * image);
    }
    return out;
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
   * tensor). Large ones start on a 64-byte boundary.
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
    if (this.viewStride !== 0) {
      // Only each image is contiguous, so a view keeps its batch axis: images stay images.
      if (s.length < 1 || s[0] !== this.shape[0]) {
        throw rangeError('reshape', `${formatShape(this.shape)} is a strided view (batch stride ${this.viewStride}); it can only be reshaped keeping its batch dim ${this.shape[0]}, not into ${formatShape(s)}; reshape its contiguous() copy instead`);
      }
      return new Tensor(this.data, s, this.size, this.viewStride);
    }
    return new Tensor(this.data, s);
  }

  /**
   * Channels [start, end) of an NCHW tensor (channel axis 1, rank >= 2) as a view on the
   * same memory: writing through the view writes this tensor. When N = 1 (or the range is
   * every channel, or the view is empty) the view is contiguous. For a batch (N > 1) it is a
   * strided view: image n starts n * batchStride floats after image 0 (batchStride = this
   * tensor's C*H*W) and holds (end - start)*H*W contiguous floats. add/mul, concat, conv2d,
   * Conv2d.run, relu/sigmoid, maxPool2d, resize, weightedSum and the fusion blocks take such a
   * view as input and as `out`; other ops reject it with a RangeError (use contiguous()).
   * A dense block can so write each layer straight into its slice of one preallocated output.
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
    if (start === 0 && end === c) return new Tensor(this.data, this.shape, this.size, this.viewStride);
    const per = sizeOf(this.shape.slice(2));
    const shape = this.shape.slice();
    shape[1] = end - start;
    const image = (end - start) * per;
    const size = n * image;
    const first = start * per;
    // A view with one image (or none, or no elements) is contiguous: its data is exactly its elements.
    if (n <= 1 || size === 0) return new Tensor(this.data.subarray(first, first + size), Object.freeze(shape));
    const stride = this.batchStride;
    return new Tensor(this.data.subarray(first, first + (n - 1) * stride + image), Object.freeze(shape), size, stride);
  }

  toString(): string {
    return `Tensor${formatShape(this.shape)}`;
  }
}

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
