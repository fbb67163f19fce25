// concatConv / addConv: a convolution over the concat (or the sum) of its inputs, as one call.
// The blocks validate; the computation is native-path.ts's concatConvInto / addConvInto (which
// materialise the concat / sum in reused scratch until the native multi-source conv lands).
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { formatShape, rangeError } from '../errors';
import type { OutOptions } from '../ops/elementwise';
import { checkConv, checkOptions, checkOut, checkSameNhw, convCin, convOutShape } from './common';
import { addConvInto, addConvIntoAsync, concatConvInto, concatConvIntoAsync } from './native-path';

interface Call {
  conv: Conv2d;
  inputs: Tensor[];
  out: Tensor;
}

function names(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `inputs[${i}]`);
}

function prepareConcat(op: string, inputs: unknown, conv: unknown, options: unknown): Call {
  const c = checkConv(op, 'conv', conv);
  const xs = checkSameNhw(op, 'inputs', inputs);
  const cin = convCin(c);
  const channels = xs.map((t) => t.shape[1]);
  const total = channels.reduce((s, v) => s + v, 0);
  if (total !== cin) {
    throw rangeError(op, `the inputs' channels [${channels.join(',')}] add up to ${total} but conv (weight ${formatShape(c.weightShape)}, groups ${c.groups}) expects ${cin}`);
  }
  if (c.groups > 1) {
    // Each input must cover whole groups so that the parts map to whole blocks of the GEMM.
    const per = cin / c.groups;
    let at = 0;
    channels.forEach((ch, i) => {
      if (at % per !== 0 || ch % per !== 0) {
        throw rangeError(op, `inputs[${i}] covers channels [${at}, ${at + ch}) of the concat, which does not align with conv's ${c.groups} groups of ${per} channels`);
      }
      at += ch;
    });
  }
  const [n, , h, w] = xs[0].shape;
  const outShape = convOutShape(op, 'conv', c, [n, cin, h, w], 'the concat of inputs');
  const o = checkOptions<OutOptions>(op, options);
  const out = checkOut(op, o, outShape, xs, names(xs.length)) ?? Tensor.empty(outShape);
  return { conv: c, inputs: xs, out };
}

function prepareAdd(op: string, inputs: unknown, conv: unknown, options: unknown): Call {
  const c = checkConv(op, 'conv', conv);
  const xs = checkSameNhw(op, 'inputs', inputs);
  const cin = convCin(c);
  xs.forEach((t, i) => {
    if (t.shape[1] !== cin) {
      throw rangeError(op, `inputs[${i}] ${formatShape(t.shape)} has ${t.shape[1]} channels but conv (weight ${formatShape(c.weightShape)}, groups ${c.groups}) expects ${cin}`);
    }
  });
  const outShape = convOutShape(op, 'conv', c, xs[0].shape, 'the sum of inputs');
  const o = checkOptions<OutOptions>(op, options);
  const out = checkOut(op, o, outShape, xs, names(xs.length)) ?? Tensor.empty(outShape);
  return { conv: c, inputs: xs, out };
}

/**
 * conv.run(concat(inputs, 1)): the inputs are NCHW with the same N, H, W and channels adding
 * up to the conv's Cin (with groups > 1, every input must cover whole groups). `out` must not
 * overlap an input.
 */
export function concatConv(inputs: Tensor[], conv: Conv2d, options?: OutOptions): Tensor {
  const c = prepareConcat('concatConv', inputs, conv, options);
  return concatConvInto(c.conv, c.inputs, c.out);
}

/** concatConv() off the main thread. */
export async function concatConvAsync(inputs: Tensor[], conv: Conv2d, options?: OutOptions): Promise<Tensor> {
  const c = prepareConcat('concatConvAsync', inputs, conv, options);
  return concatConvIntoAsync(c.conv, c.inputs, c.out);
}

/** conv.run(inputs[0] + inputs[1] + ...): every input is [N, Cin, H, W]. `out` must not overlap an input. */
export function addConv(inputs: Tensor[], conv: Conv2d, options?: OutOptions): Tensor {
  const c = prepareAdd('addConv', inputs, conv, options);
  return addConvInto(c.conv, c.inputs, c.out);
}

/** addConv() off the main thread. */
export async function addConvAsync(inputs: Tensor[], conv: Conv2d, options?: OutOptions): Promise<Tensor> {
  const c = prepareAdd('addConvAsync', inputs, conv, options);
  return addConvIntoAsync(c.conv, c.inputs, c.out);
}
