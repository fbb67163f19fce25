// Checks on Tensor arguments shared by the op wrappers.
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { spanOf, viewRejection } from './views';


function lostMemory(op: string, name: string, t: Tensor): RangeError {
  return rangeError(op, `${name} ${formatShape(t.shape)} lost its memory (the buffer was detached or shrunk)`);
}

/**
 * `value` must be a contiguous Tensor whose buffer still holds all its elements (not
 * detached). A strided channel view is a RangeError naming the argument: ops that take views
 * check with checkTensorOrView instead.
 */
export function checkTensor(op: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw typeError(op, `${name} must be a Tensor, got ${describeValue(value)}`);
  // A view's data is longer than its size, so the common case pays one comparison for both checks.
  if (value.data.length !== value.size) {
    if (!value.isContiguous && value.data.length === spanOf(value)) throw rangeError(op, viewRejection(name, value));
    throw lostMemory(op, name, value);
  }
  return value;
}

/** As checkTensor, but a strided channel view (of intact memory) is accepted too. */
export function checkTensorOrView(op: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw typeError(op, `${name} must be a Tensor, got ${describeValue(value)}`);
  if (value.data.length !== value.size && value.data.length !== spanOf(value)) throw lostMemory(op, name, value);
  return value;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;  // tensor shapes are interned
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Returns `options.out` checked against the expected output shape, or a new tensor. With
 * `acceptViews` the out may be a strided channel view (for ops that pass batch strides on).
 */
export function outputFor(op: string, options: { out?: Tensor } | undefined, shape: readonly number[], acceptViews = false): Tensor {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  const out = options?.out;
  if (out === undefined) return Tensor.empty(shape);
  (acceptViews ? checkTensorOrView : checkTensor)(op, 'out', out);
  if (!sameShape(out.shape, shape)) {
    throw rangeError(op, `out has shape ${formatShape(out.shape)} but the result has shape ${formatShape(shape)}`);
  }
  return out;
}
