// Checks shared by the fusion blocks: NCHW inputs, Conv2d arguments, channel counts. Every
// block takes strided channel views (Tensor.sliceChannels of a batch) as inputs and as out.
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView } from '../ops/checks';
import { overlaps } from '../ops/views';
import type { OutOptions } from '../ops/elementwise';

/** `value` must be a rank-4 (NCHW) Tensor or strided channel view. */
export function checkNchw(op: string, name: string, value: unknown): Tensor {
  const t = checkTensorOrView(op, name, value);
  if (t.shape.length !== 4) throw rangeError(op, `${name} must be NCHW (rank 4), got ${formatShape(t.shape)}`);
  return t;
}

/** `value` must be an NCHW Conv2d (the blocks work on channel axis 1). */
export function checkConv(op: string, name: string, value: unknown): Conv2d {
  if (!(value instanceof Conv2d)) throw typeError(op, `${name} must be a Conv2d, got ${describeValue(value)}`);
  if (value.layout !== 'NCHW') throw rangeError(op, `${name} must be an NCHW Conv2d (OIHW weights), got layout ${value.layout}`);
  return value;
}

/** Input channels a (NCHW) Conv2d expects: Cin/groups * groups. */
export function convCin(conv: Conv2d): number {
  return conv.weightShape[1] * conv.groups;
}

/** Output channels of a (NCHW) Conv2d. */
export function convCout(conv: Conv2d): number {
  return conv.weightShape[0];
}

/** A conv's output shape for `xShape`, its errors re-raised under the block's name. */
export function convOutShape(op: string, name: string, conv: Conv2d, xShape: readonly number[], what: string): number[] {
  const cin = convCin(conv);
  if (xShape[1] !== cin) {
    throw rangeError(op, `${name} (weight ${formatShape(conv.weightShape)}, groups ${conv.groups}) expects ${cin} input channels but ${what} has shape ${formatShape(xShape)}`);
  }
  try {
    return conv.outputShape(xShape);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw rangeError(op, `${name} (weight ${formatShape(conv.weightShape)}) cannot take ${what} ${formatShape(xShape)}: ${msg}`);
  }
}

/** options must be undefined or an object. */
export function checkOptions<T extends object>(op: string, options: unknown): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object') throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  return options as T;
}

/** options.out checked against `shape` and against overlapping any of `inputs`; undefined when not given. */
export function checkOut(op: string, options: OutOptions | undefined, shape: readonly number[], inputs: readonly Tensor[], names: readonly string[]): Tensor | undefined {
  const out = options?.out;
  if (out === undefined) return undefined;
  checkTensorOrView(op, 'out', out);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    throw rangeError(op, `out has shape ${formatShape(out.shape)} but the result has shape ${formatShape(shape)}`);
  }
  inputs.forEach((t, i) => {
    if (overlaps(out, t)) throw rangeError(op, `out ${formatShape(out.shape)} overlaps ${names[i]} ${formatShape(t.shape)}`);
  });
  return out;
}

/** An array of NCHW tensors with the same N, H and W (at least `min` of them). */
export function checkSameNhw(op: string, name: string, value: unknown, min = 1): Tensor[] {
  if (!Array.isArray(value)) throw typeError(op, `${name} must be an array of Tensors, got ${describeValue(value)}`);
  if (value.length < min) throw rangeError(op, `${name} must hold at least ${min} Tensor${min === 1 ? '' : 's'}, got ${value.length}`);
  const ts = value.map((t, i) => checkNchw(op, `${name}[${i}]`, t));
  const [n, , h, w] = ts[0].shape;
  ts.forEach((t, i) => {
    if (t.shape[0] !== n || t.shape[2] !== h || t.shape[3] !== w) {
      throw rangeError(op, `${name}[${i}] ${formatShape(t.shape)} differs from ${name}[0] ${formatShape(ts[0].shape)} in N, H or W (all must match)`);
    }
  });
  return ts;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * One step of a block: the same work as a sync call and as an async call. A block's body is a
 * generator of steps, run by runSteps (sync) or runStepsAsync, so the sequence is written
 * once; its try/finally (scratch release) runs on success and on error.
 */
export type Step = readonly [() => unknown, () => Promise<unknown>];

export function runSteps<T>(body: Generator<Step, T, void>): T {
  let r = body.next();
  while (!r.done) {
    try {
      r.value[0]();
    } catch (e) {
      r = body.throw(e);
      continue;
    }
    r = body.next();
  }
  return r.value;
}

export async function runStepsAsync<T>(body: Generator<Step, T, void>): Promise<T> {
  let r = body.next();
  while (!r.done) {
    try {
      await r.value[1]();
    } catch (e) {
      r = body.throw(e);
      continue;
    }
    r = body.next();
  }
  return r.value;
}
