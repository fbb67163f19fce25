// Reference fusion blocks, composed only of the lib/reference ops (conv2dRef, concat, sum/add,
// upsampleNearest, maxPool2d, softmax, slice, weightedSum): the plain-ops oracle for
// lib/fusion in tests, never the fast path. Convs are given as raw weights + options.
import { Tensor } from '../tensor';
import type { Conv2dActivation, Conv2dWeightOptions } from '../ops/conv2d-options';
import { activationRef, conv2dRef } from './conv2d';
import { RefResult, RefTensor, add, sum } from './elementwise';
import { concat } from './concat';
import { softmax } from './activation';
import { maxPool2d } from './pool';
import { upsampleNearest } from './resize';
import { slice } from './slice';
import { weightedSum } from './weighted';

/** A conv as the reference sees it: the weight and the Conv2d options it was packed with. */
export interface RefConv {
  weight: Tensor;
  options?: Conv2dWeightOptions;
}

const T = (r: RefResult | RefTensor): Tensor => (r instanceof Tensor ? r : Tensor.from(r.data, r.shape));
const conv = (x: RefTensor, c: RefConv): Tensor => conv2dRef(T(x), c.weight, c.options);

/** conv(concat(inputs, axis 1)). */
export function concatConvRef(inputs: readonly RefTensor[], c: RefConv): Tensor {
  return conv(concat(inputs, 1), c);
}

/** conv(inputs[0] + inputs[1] + ...). */
export function addConvRef(inputs: readonly RefTensor[], c: RefConv): Tensor {
  return conv(sum(inputs), c);
}

/** f(x) + x. */
export function residualRef(x: RefTensor, f: (x: Tensor) => RefTensor): Tensor {
  return T(add(f(T(x)), x));
}

/** act(conv(x) + skip). */
export function convResidualRef(x: RefTensor, c: RefConv, skip: RefTensor, activation: Conv2dActivation = 'none', alpha = 0.01): Tensor {
  const s = add(conv(x, c), skip);
  for (let i = 0; i < s.data.length; i++) s.data[i] = activationRef(s.data[i], activation, alpha);
  return T(s);
}

/** smooth(up2(reduce(top)) + lateralConv(lateral)). */
export function fpnMergeRef(top: RefTensor, lateral: RefTensor, o: { lateralConv: RefConv; smoothConv?: RefConv; reduceConv?: RefConv }): Tensor {
  const t = o.reduceConv ? conv(top, o.reduceConv) : top;
  const merged = add(upsampleNearest(t, 2), conv(lateral, o.lateralConv));
  return o.smoothConv ? conv(merged, o.smoothConv) : T(merged);
}

/** sum_i levels[i] * softmax_over_i(weightLevels(concat_i(weightLevel[i](levels[i]))))[:, i]. */
export function asffFuseRef(levels: readonly RefTensor[], c: { weightLevel: readonly RefConv[]; weightLevels: RefConv }): Tensor {
  const v = levels.map((x, i) => conv(x, c.weightLevel[i]));
  const s = softmax(conv(concat(v, 1), c.weightLevels), 1);
  const maps = levels.map((_, i) => slice(s, { starts: [i], ends: [i + 1], axes: [1] }));
  return T(weightedSum(levels, maps));
}

/** Folded-BN weights of one ASFF conv (as lib/fusion/asff's ConvWeights). */
export interface RefConvWeights {
  weight: Tensor;
  bias?: Tensor | Float32Array;
}

export interface RefAsffWeights {
  compressLevel0?: RefConvWeights;
  compressLevel1?: RefConvWeights;
  strideLevel1?: RefConvWeights;
  strideLevel2?: RefConvWeights;
  weightLevel: readonly [RefConvWeights, RefConvWeights, RefConvWeights];
  weightLevels: RefConvWeights;
  expand: RefConvWeights;
}

/**
 * ASFF at `level`, transcribing ASFF/models/network_blocks.py (class ASFF, add_conv): add_conv
 * = conv (pad (k - 1) // 2) + folded BN + LeakyReLU(0.1) or ReLU6; weight_levels is a plain conv.
 */
export function asffRef(
  levels: readonly [RefTensor, RefTensor, RefTensor], w: RefAsffWeights, level: 0 | 1 | 2,
  options: { activation?: 'leakyRelu' | 'relu6'; alpha?: number } = {},
): Tensor {
  const activation = options.activation ?? 'leakyRelu';
  const alpha = options.alpha ?? 0.1;
  const addConv = (x: RefTensor, cw: RefConvWeights, stride: number, act = true): Tensor => {
    const ph = Math.floor((cw.weight.shape[2] - 1) / 2), pw = Math.floor((cw.weight.shape[3] - 1) / 2);
    return conv(x, { weight: cw.weight, options: { bias: cw.bias, strides: [stride, stride], pads: [ph, pw, ph, pw], ...(act ? { activation, alpha } : {}) } });
  };
  const [x0, x1, x2] = levels;
  let r0: RefTensor, r1: RefTensor, r2: RefTensor;
  if (level === 0) {
    r0 = x0;
    r1 = addConv(x1, w.strideLevel1!, 2);
    r2 = addConv(maxPool2d(x2, { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }), w.strideLevel2!, 2);
  } else if (level === 1) {
    r0 = upsampleNearest(w.compressLevel0 ? addConv(x0, w.compressLevel0, 1) : x0, 2);
    r1 = x1;
    r2 = addConv(x2, w.strideLevel2!, 2);
  } else {
    r0 = upsampleNearest(w.compressLevel0 ? addConv(x0, w.compressLevel0, 1) : x0, 4);
    r1 = upsampleNearest(w.compressLevel1 ? addConv(x1, w.compressLevel1, 1) : x1, 2);
    r2 = x2;
  }
  const resized = [r0, r1, r2];
  const v = resized.map((r, i) => addConv(r, w.weightLevel[i], 1));
  const s = softmax(addConv(concat(v, 1), w.weightLevels, 1, false), 1);
  const maps = [0, 1, 2].map((i) => slice(s, { starts: [i], ends: [i + 1], axes: [1] }));
  return addConv(weightedSum(resized, maps), w.expand, 1);
}

/** Dense block: features = [x]; each layer appends conv(bottleneck?(concat(features))); returns concat(features). */
export function denseBlockRef(x: RefTensor, layers: readonly (RefConv | { bottleneck?: RefConv; conv: RefConv })[]): Tensor {
  const features: RefTensor[] = [x];
  for (const layer of layers) {
    const input = concat(features, 1);
    if ('conv' in layer) features.push(conv(layer.bottleneck ? conv(input, layer.bottleneck) : input, layer.conv));
    else features.push(conv(input, layer));
  }
  return T(concat(features, 1));
}
