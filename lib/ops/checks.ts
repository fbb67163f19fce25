// Checks on Tensor arguments shared by the op wrappers.
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';

/** `value` must be a Tensor whose buffer still holds all its elements (not detached). */
export function checkTensor(op: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw typeError(op, `${name} must be a Tensor, got ${describeValue(value)}`);
  if (value.data.length !== value.size) {
    throw rangeError(op, `${name} ${formatShape(value.shape)} lost its memory (the buffer was detached or shrunk)`);
  }
  return value;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;  // tensor shapes are interned
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when two tensors share any byte of memory. */
export function overlaps(a: Tensor, b: Tensor): boolean {
  if (a.buffer !== b.buffer || a.size === 0 || b.size === 0) return false;
  const x = a.data, y = b.data;
  return x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/** True when two tensors cover exactly the same memory. */
export function sameMemory(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.data.byteOffset === b.data.byteOffset && a.size === b.size;
}

/** Returns `options.out` checked against the expected output shape, or a new tensor. */
export function outputFor(op: string, options: { out?: Tensor } | undefined, shape: readonly number[]): Tensor {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  const out = options?.out;
  if (out === undefined) return Tensor.empty(shape);
  checkTensor(op, 'out', out);
  if (!sameShape(out.shape, shape)) {
    throw rangeError(op, `out has shape ${formatShape(out.shape)} but the result has shape ${formatShape(shape)}`);
  }
  return out;
}
