// Residual connections: residual(x, f) = f(x) + x, and convResidual = act(conv(x) + skip), the
// add that a conv's epilogue can absorb. convResidual computes through native-path.ts's
// convAddActInto (conv, then add, then activation, until the conv add-epilogue lands).
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { add, addAsync } from '../ops/elementwise';
import type { OutOptions } from '../ops/elementwise';
import { ACTIVATION_CODES } from '../ops/conv2d-options';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView } from '../ops/checks';
import { checkConv, checkNchw, checkOptions, checkOut, convOutShape } from './common';
import { ResidualActivation, convAddActInto, convAddActIntoAsync } from './native-path';

export type { ResidualActivation } from './native-path';

export interface ConvResidualOptions extends OutOptions {
  /** Applied after the add: act(conv(x) + skip). Default 'none'. */
  activation?: ResidualActivation;
  /** leakyRelu slope; default 0.01. */
  alpha?: number;
}

function checkBranch(op: string, x: Tensor, fx: unknown): Tensor {
  const t = checkTensorOrView(op, 'f(x)', fx);
  if (t.shape.length !== x.shape.length || t.shape.some((d, i) => d !== x.shape[i])) {
    throw rangeError(op, `f(x) has shape ${formatShape(t.shape)} but x has ${formatShape(x.shape)}; a residual branch must keep the shape`);
  }
  return t;
}

function checkF(op: string, f: unknown): void {
  if (typeof f !== 'function') throw typeError(op, `f must be a function (x: Tensor) => Tensor, got ${describeValue(f)}`);
}

/** f(x) + x. `out` may be x or f(x) (the add runs in place then). */
export function residual(x: Tensor, f: (x: Tensor) => Tensor, options?: OutOptions): Tensor {
  const op = 'residual';
  const tx = checkTensorOrView(op, 'x', x);
  checkF(op, f);
  const o = checkOptions<OutOptions>(op, options);
  const fx = checkBranch(op, tx, f(tx));
  return add(fx, tx, o.out === undefined ? undefined : { out: o.out });
}

/** residual() with a branch that may be async; the add runs off the main thread. */
export async function residualAsync(x: Tensor, f: (x: Tensor) => Tensor | Promise<Tensor>, options?: OutOptions): Promise<Tensor> {
  const op = 'residualAsync';
  const tx = checkTensorOrView(op, 'x', x);
  checkF(op, f);
  const o = checkOptions<OutOptions>(op, options);
  const fx = checkBranch(op, tx, await f(tx));
  return addAsync(fx, tx, o.out === undefined ? undefined : { out: o.out });
}

interface ResidualCall {
  conv: Conv2d;
  x: Tensor;
  skip: Tensor;
  activation: ResidualActivation;
  alpha: number;
  out: Tensor;
}

function prepare(op: string, x: unknown, conv: unknown, skip: unknown, options: unknown): ResidualCall {
  const tx = checkNchw(op, 'x', x);
  const c = checkConv(op, 'conv', conv);
  const ts = checkNchw(op, 'skip', skip);
  const o = checkOptions<ConvResidualOptions>(op, options);
  const shape = convOutShape(op, 'conv', c, tx.shape, 'x');
  if (shape.some((d, i) => d !== ts.shape[i])) {
    throw rangeError(op, `conv(x) has shape ${formatShape(shape)} (x ${formatShape(tx.shape)}, weight ${formatShape(c.weightShape)}) but skip has ${formatShape(ts.shape)}`);
  }
  const activation = o.activation ?? 'none';
  if (typeof activation !== 'string') throw typeError(op, `activation must be a string, got ${describeValue(activation)}`);
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, activation)) {
    throw rangeError(op, `unknown activation '${activation}' (expected one of ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  }
  const alpha = o.alpha ?? 0.01;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw typeError(op, `alpha must be a finite number, got ${describeValue(alpha)}`);
  // out may overlap neither x (the conv reads it while writing) nor skip (read after the conv writes out).
  const out = checkOut(op, o, shape, [tx, ts], ['x', 'skip']) ?? Tensor.empty(shape);
  return { conv: c, x: tx, skip: ts, activation, alpha, out };
}

/** act(conv.run(x) + skip): the conv's own bias and activation first, then the add, then `activation`. */
export function convResidual(x: Tensor, conv: Conv2d, skip: Tensor, options?: ConvResidualOptions): Tensor {
  const c = prepare('convResidual', x, conv, skip, options);
  return convAddActInto(c.conv, c.x, c.skip, c.activation, c.alpha, c.out);
}

/** convResidual() off the main thread. */
export async function convResidualAsync(x: Tensor, conv: Conv2d, skip: Tensor, options?: ConvResidualOptions): Promise<Tensor> {
  const c = prepare('convResidualAsync', x, conv, skip, options);
  return convAddActIntoAsync(c.conv, c.x, c.skip, c.activation, c.alpha, c.out);
}
