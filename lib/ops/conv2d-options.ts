// conv2d options: checking and resolving them into one spec. Pure TS (no native calls), so
// the fast path (ops/conv2d.ts) and the reference (reference/conv2d.ts) agree on the
// meaning of every option and on the output shape.
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor } from './checks';

export type Conv2dActivation = 'none' | 'relu' | 'relu6' | 'sigmoid' | 'silu' | 'leakyRelu';
export type Conv2dLayout = 'NCHW' | 'NHWC';

/** Options of `new Conv2d(weight, options)` (and of conv2d() without `out`). */
export interface Conv2dWeightOptions {
  /** One value per output channel. */
  bias?: Tensor | Float32Array;
  /** [strideH, strideW] (or one number for both); default [1, 1]. */
  strides?: readonly number[] | number;
  /** [top, left, bottom, right], 'same' (SAME_UPPER: output = ceil(input / stride)) or 'valid' (no padding, the default). */
  pads?: readonly number[] | 'same' | 'valid';
  /** [dilationH, dilationW] (or one number for both); default [1, 1]. */
  dilations?: readonly number[] | number;
  /** Channel groups; must divide Cin and Cout. groups = Cin is a depthwise conv. Default 1. */
  groups?: number;
  /** Applied to conv + bias in the kernel's epilogue. Default 'none'. */
  activation?: Conv2dActivation;
  /** leakyRelu slope; default 0.01. */
  alpha?: number;
  /** 'NCHW' (weights OIHW, the default) or 'NHWC' (weights HWIO). */
  layout?: Conv2dLayout;
  /**
   * [H, W] of the inputs this conv will mostly run on. Packing then picks the GEMM layout
   * that suits the output size (small maps such as 7x7 or 14x14 put output channels on the
   * vector lanes instead of pixels). Only speed depends on it: any input size still runs.
   */
  inputSize?: readonly number[];
  /**
   * A per-channel affine of the input, then ReLU with activation 'relu', applied inside the
   * conv where it copies or packs x: y = conv(act(x * scale + shift)), padding still zero.
   * A pre-activation BatchNorm-ReLU (DenseNet, pre-activation ResNets) without a pass that
   * writes the normalised tensor. NCHW only; scale and shift hold Cin values each.
   */
  inputAffine?: Conv2dInputAffine;
}

export interface Conv2dInputAffine {
  scale: Float32Array;
  shift: Float32Array;
  /** 'none' (the default) or 'relu'. */
  activation?: 'none' | 'relu';
}

export interface Conv2dOptions extends Conv2dWeightOptions {
  out?: Tensor;
}

export const ACTIVATION_CODES: Readonly<Record<Conv2dActivation, number>> = Object.freeze({
  none: 0, relu: 1, relu6: 2, sigmoid: 3, silu: 4, leakyRelu: 5,
});

/** Everything about a conv that does not depend on the input tensor. */
export interface Conv2dSpec {
  layout: Conv2dLayout;
  weightShape: readonly number[];
  cout: number;
  cinPerGroup: number;
  kh: number;
  kw: number;
  groups: number;
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number] | 'same' | 'valid';
  activation: Conv2dActivation;
  alpha: number;
  bias: Float32Array | null;
  /** From options.inputSize, or null. */
  inputSize: [number, number] | null;
  /** From options.inputAffine, or null. */
  inputAffine: { scale: Float32Array; shift: Float32Array; relu: boolean } | null;
}

/** The input-dependent rest: resolved pads and the output shape. */
export interface Conv2dGeometry {
  n: number;
  cin: number;
  h: number;
  w: number;
  pads: [number, number, number, number];
  outShape: number[];
}

const MAX_ATTR = 2 ** 31;

function pair(op: string, name: string, value: unknown): [number, number] {
  if (value === undefined) return [1, 1];
  const arr = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(arr) || arr.length !== 2) {
    throw typeError(op, `${name} must be [${name === 'strides' ? 'sh, sw' : 'dh, dw'}] (two positive integers), got ${describeValue(value)}`);
  }
  for (const d of arr) {
    if (typeof d !== 'number' || !Number.isInteger(d)) throw typeError(op, `${name} must hold integers, got [${arr.join(', ')}]`);
    if (d < 1 || d > MAX_ATTR) throw rangeError(op, `${name} must hold integers in [1, 2^31], got [${arr.join(', ')}]`);
  }
  return [arr[0], arr[1]];
}

export function resolveConv2dSpec(op: string, weight: unknown, options: Conv2dWeightOptions | undefined): Conv2dSpec {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  const o = options ?? {};
  const layout = o.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC') throw rangeError(op, `layout must be 'NCHW' or 'NHWC', got ${describeValue(layout)}`);
  const w = checkTensor(op, 'weight', weight);
  const nchw = layout === 'NCHW';
  const order = nchw ? '[Cout, Cin/groups, kh, kw] (OIHW)' : '[kh, kw, Cin/groups, Cout] (HWIO)';
  if (w.shape.length !== 4) throw rangeError(op, `weight must have rank 4, ${order} for ${layout}, got shape ${formatShape(w.shape)}`);
  const [cout, cinPerGroup, kh, kw] = nchw ? [w.shape[0], w.shape[1], w.shape[2], w.shape[3]] : [w.shape[3], w.shape[2], w.shape[0], w.shape[1]];
  if (cout < 1 || cinPerGroup < 1 || kh < 1 || kw < 1) {
    throw rangeError(op, `weight ${formatShape(w.shape)} ${order} must have every dim >= 1`);
  }
  if (kh > MAX_ATTR || kw > MAX_ATTR) throw rangeError(op, `weight ${formatShape(w.shape)} has a kernel too large`);

  const groups = o.groups ?? 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups)) throw typeError(op, `groups must be an integer, got ${describeValue(groups)}`);
  if (groups < 1) throw rangeError(op, `groups must be >= 1, got ${groups}`);
  if (cout % groups !== 0) {
    throw rangeError(op, `groups ${groups} does not divide the ${cout} output channels of weight ${formatShape(w.shape)}`);
  }
  const strides = pair(op, 'strides', o.strides);
  const dilations = pair(op, 'dilations', o.dilations);

  let pads: Conv2dSpec['pads'];
  const p = o.pads ?? 'valid';
  if (p === 'same' || p === 'valid') {
    pads = p;
  } else if (typeof p === 'string') {
    throw rangeError(op, `pads must be [top, left, bottom, right], 'same' or 'valid', got '${p}'`);
  } else if (Array.isArray(p) && p.length === 4) {
    for (const d of p) {
      if (typeof d !== 'number' || !Number.isInteger(d)) throw typeError(op, `pads must hold integers, got [${p.join(', ')}]`);
      if (d < 0 || d > MAX_ATTR) throw rangeError(op, `pads must hold integers in [0, 2^31], got [${p.join(', ')}]`);
    }
    pads = [p[0], p[1], p[2], p[3]];
  } else {
    throw typeError(op, `pads must be [top, left, bottom, right], 'same' or 'valid', got ${describeValue(p)}`);
  }

  const activation = o.activation ?? 'none';
  if (typeof activation !== 'string') throw typeError(op, `activation must be a string, got ${describeValue(activation)}`);
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, activation)) {
    throw rangeError(op, `unknown activation '${activation}' (expected one of ${Object.keys(ACTIVATION_CODES).join(', ')})`);
  }
  const alpha = o.alpha ?? 0.01;
  if (typeof alpha !== 'number') throw typeError(op, `alpha must be a number, got ${describeValue(alpha)}`);
  if (!Number.isFinite(alpha)) throw rangeError(op, `alpha must be finite, got ${alpha}`);

  let bias: Float32Array | null = null;
  if (o.bias !== undefined && o.bias !== null) {
    if (o.bias instanceof Tensor) bias = checkTensor(op, 'bias', o.bias).data;
    else if (o.bias instanceof Float32Array) bias = o.bias;
    else throw typeError(op, `bias must be a Tensor or a Float32Array, got ${describeValue(o.bias)}`);
    if (bias.length !== cout) {
      throw rangeError(op, `bias has ${bias.length} elements but weight ${formatShape(w.shape)} has ${cout} output channels`);
    }
  }
  let inputSize: [number, number] | null = null;
  if (o.inputSize !== undefined) {
    const s = o.inputSize;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => typeof d === 'number' && Number.isInteger(d))) {
      throw typeError(op, `inputSize must be [H, W] (two integers), got ${describeValue(s)}`);
    }
    if (s[0] < 1 || s[1] < 1 || s[0] > MAX_ATTR || s[1] > MAX_ATTR) throw rangeError(op, `inputSize must hold integers in [1, 2^31], got [${s.join(', ')}]`);
    inputSize = [s[0], s[1]];
  }
  const spec: Conv2dSpec = {
    layout, weightShape: w.shape, cout, cinPerGroup, kh, kw, groups, strides, dilations, pads,
    activation: activation as Conv2dActivation, alpha, bias, inputSize,
    inputAffine: o.inputAffine === undefined ? null : resolveInputAffine(op, o.inputAffine, layout, cinPerGroup * groups),
  };
  // The conv must fit inputSize (checked now, with the same message a run would give).
  if (inputSize) conv2dOutputSize(op, spec, inputSize);
  return spec;
}

function resolveInputAffine(op: string, a: unknown, layout: Conv2dLayout, cin: number): NonNullable<Conv2dSpec['inputAffine']> {
  if (a === null || typeof a !== 'object') throw typeError(op, `inputAffine must be { scale, shift, activation? }, got ${describeValue(a)}`);
  const { scale, shift, activation = 'none' } = a as Conv2dInputAffine;
  if (layout !== 'NCHW') throw rangeError(op, 'inputAffine needs the NCHW layout');
  for (const [name, v] of [['scale', scale], ['shift', shift]] as const) {
    if (!(v instanceof Float32Array)) throw typeError(op, `inputAffine.${name} must be a Float32Array, got ${describeValue(v)}`);
    if (v.length !== cin) throw rangeError(op, `inputAffine.${name} has ${v.length} values but the conv has ${cin} input channels`);
  }
  if (activation !== 'none' && activation !== 'relu') {
    throw rangeError(op, `inputAffine.activation must be 'none' or 'relu', got ${describeValue(activation)}`);
  }
  return { scale, shift, relu: activation === 'relu' };
}

/** SAME_UPPER padding of one dim: output ceil(in / stride), the odd pixel at the end. */
function samePads(inSize: number, k: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max(0, (out - 1) * stride + (k - 1) * dilation + 1 - inSize);
  const begin = Math.floor(total / 2);
  return [begin, total - begin];
}

/** [Hout, Wout] of the conv over an input of spatial size [h, w] (throws when it does not fit). */
export function conv2dOutputSize(op: string, spec: Conv2dSpec, size: readonly [number, number]): [number, number] {
  const xShape = spec.layout === 'NCHW' ? [1, spec.cinPerGroup * spec.groups, size[0], size[1]] : [1, size[0], size[1], spec.cinPerGroup * spec.groups];
  const o = conv2dGeometry(op, spec, Tensor.fromUnchecked(new Float32Array(0), xShape)).outShape;
  return spec.layout === 'NCHW' ? [o[2], o[3]] : [o[1], o[2]];
}

export function conv2dGeometry(op: string, spec: Conv2dSpec, x: Tensor): Conv2dGeometry {
  const nchw = spec.layout === 'NCHW';
  if (x.shape.length !== 4) {
    throw rangeError(op, `x must have rank 4 (${nchw ? '[N, C, H, W]' : '[N, H, W, C]'} for ${spec.layout}), got shape ${formatShape(x.shape)}`);
  }
  const [n, cin, h, w] = nchw ? [x.shape[0], x.shape[1], x.shape[2], x.shape[3]] : [x.shape[0], x.shape[3], x.shape[1], x.shape[2]];
  const ws = formatShape(spec.weightShape);
  if (cin % spec.groups !== 0) {
    throw rangeError(op, `groups ${spec.groups} does not divide the ${cin} input channels of x ${formatShape(x.shape)}`);
  }
  if (cin / spec.groups !== spec.cinPerGroup) {
    throw rangeError(op, `weight ${ws} has ${spec.cinPerGroup} input channels per group but x ${formatShape(x.shape)} ` +
      `has ${cin} channels in ${spec.groups} group(s), i.e. ${cin / spec.groups} per group`);
  }
  const [sh, sw] = spec.strides;
  const [dh, dw] = spec.dilations;
  let pads: [number, number, number, number];
  if (spec.pads === 'valid') pads = [0, 0, 0, 0];
  else if (spec.pads === 'same') {
    const [t, b] = samePads(h, spec.kh, sh, dh);
    const [l, r] = samePads(w, spec.kw, sw, dw);
    pads = [t, l, b, r];
  } else pads = spec.pads;
  const span = (size: number, p0: number, p1: number, k: number, d: number) => size + p0 + p1 - ((k - 1) * d + 1);
  const sH = span(h, pads[0], pads[2], spec.kh, dh);
  const sW = span(w, pads[1], pads[3], spec.kw, dw);
  const hout = sH < 0 ? 0 : Math.floor(sH / sh) + 1;
  const wout = sW < 0 ? 0 : Math.floor(sW / sw) + 1;
  if (hout < 1 || wout < 1) {
    throw rangeError(op, `output size ${hout}x${wout} <= 0: kernel ${spec.kh}x${spec.kw} (dilations [${dh}, ${dw}]) ` +
      `does not fit x ${formatShape(x.shape)} with pads [${pads.join(', ')}]`);
  }
  const outShape = nchw ? [n, spec.cout, hout, wout] : [n, hout, wout, spec.cout];
  return { n, cin, h, w, pads, outShape };
}
