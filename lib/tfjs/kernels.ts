// tensorfuse kernels for TF.js (NHWC, float32). Each one checks that its inputs fit the
// fast path and otherwise calls tfjs-backend-cpu's kernel with the same arguments (our
// backend is a MathBackendCPU, so the cpu kernels read and write the same storage).
import { backend_util, getKernel, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { Tensor } from '../tensor';
import { add, mul } from '../ops/elementwise';
import { concat } from '../ops/concat';
import { Conv2d } from '../ops/conv2d';
import type { Conv2dActivation } from '../ops/conv2d-options';
import { clip, leakyRelu, relu, sigmoid, softmax } from '../ops/activation';
import { channelAffine } from '../ops/channel-affine';
import { slice } from '../ops/slice';
import { avgPool2d, maxPool2d, poolOutLength } from '../ops/pool';
import type { TensorfuseBackend } from './backend';

export const BACKEND_NAME = 'tensorfuse';

interface Args {
  inputs: Record<string, TensorInfo | undefined> | TensorInfo[];
  backend: TensorfuseBackend;
  attrs?: NamedAttrMap;
}

/** Counts of fast-path runs and cpu fallbacks per kernel (for tests and the bench). */
export const kernelStats: Record<string, { fast: number; fallback: number; reasons: Record<string, number> }> = {};

function count(name: string, fast: boolean, reason = ''): void {
  const s = kernelStats[name] ?? (kernelStats[name] = { fast: 0, fallback: 0, reasons: {} });
  if (fast) s.fast++;
  else {
    s.fallback++;
    s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
  }
}

function fallback(name: string, args: Args, reason: string): TensorInfo | TensorInfo[] {
  count(name, false, reason);
  const k = getKernel(name, 'cpu');
  if (!k) throw new Error(`tensorfuse: no cpu kernel '${name}' to fall back to (is @tensorflow/tfjs-backend-cpu loaded?)`);
  return k.kernelFunc(args as unknown as Parameters<KernelFunc>[0]) as TensorInfo | TensorInfo[];
}

/** The Float32Array of a float32, non-empty tensor, or null when the fast path does not apply. */
function f32(backend: TensorfuseBackend, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.data.get(t.dataId)?.values;
  if (!(v instanceof Float32Array) || v.length === 0 || v.length !== util.sizeFromShape(t.shape)) return null;
  return v;
}

function wrap(backend: TensorfuseBackend, t: TensorInfo): Tensor | null {
  const v = f32(backend, t);
  return v ? Tensor.from(v, t.shape) : null;
}

/** An output tensor on a (possibly reused, so stale) backend buffer: the kernel writes every element. */
function alloc(backend: TensorfuseBackend, shape: readonly number[]): Tensor {
  return Tensor.from(backend.allocF32(util.sizeFromShape(shape as number[])), shape);
}

function output(backend: TensorfuseBackend, t: Tensor): TensorInfo {
  return backend.makeTensorInfo(t.shape as number[], 'float32', t.data);
}

/** True when `shape` has `n` elements, all along its last dim (e.g. [n], [1, 1, n]). */
function alongLastDim(shape: readonly number[], n: number): boolean {
  if (shape.length === 0) return n === 1;
  if (shape[shape.length - 1] !== n) return false;
  for (let i = 0; i < shape.length - 1; i++) if (shape[i] !== 1) return false;
  return true;
}

// ---- element-wise ----

function binary(name: string, op: (a: Tensor, b: Tensor, o: { out: Tensor }) => Tensor): KernelFunc {
  return ((args: Args) => {
    const { a, b } = args.inputs as Record<string, TensorInfo>;
    const ta = wrap(args.backend, a);
    const tb = ta && wrap(args.backend, b);
    if (!ta || !tb) return fallback(name, args, 'dtype not float32 or empty');
    count(name, true);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return output(args.backend, op(ta, tb, { out: alloc(args.backend, shape) }));
  }) as unknown as KernelFunc;
}

function addN(args: Args): TensorInfo | TensorInfo[] {
  const inputs = args.inputs as TensorInfo[];
  if (inputs.length < 2) return fallback('AddN', args, 'fewer than 2 inputs');
  const ts: Tensor[] = [];
  for (const t of inputs) {
    const w = wrap(args.backend, t);
    if (!w || !util.arraysEqual(t.shape, inputs[0].shape)) return fallback('AddN', args, 'dtype/shape');
    ts.push(w);
  }
  count('AddN', true);
  const out = add(ts[0], ts[1], { out: alloc(args.backend, ts[0].shape) });
  for (let i = 2; i < ts.length; i++) add(out, ts[i], { out });
  return output(args.backend, out);
}

function concatKernel(args: Args): TensorInfo | TensorInfo[] {
  const inputs = args.inputs as TensorInfo[];
  if (inputs.length < 2) return fallback('Concat', args, 'fewer than 2 inputs');
  const rank = inputs[0].shape.length;
  const ts: Tensor[] = [];
  for (const t of inputs) {
    const w = wrap(args.backend, t);
    if (!w || t.shape.length !== rank) return fallback('Concat', args, 'dtype, empty or rank');
    ts.push(w);
  }
  const axis = util.parseAxisParam(args.attrs!.axis as number | number[], inputs[0].shape)[0];
  backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  count('Concat', true);
  const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  return output(args.backend, concat(ts, axis, { out: alloc(args.backend, outShape) }));
}

// ---- slicing ----

/** The block of tx from `begin`, `size` long per axis, into a new output (a native strided copy). */
function sliceOut(backend: TensorfuseBackend, tx: Tensor, begin: readonly number[], size: readonly number[]): TensorInfo {
  const out = alloc(backend, size);
  slice(tx, { starts: begin, ends: begin.map((b, i) => b + size[i]) }, { out });
  return output(backend, out);
}

/**
 * TF.js Slice: x[begin, begin + size) on every axis. The cpu kernel walks a strided slice
 * element by element through index arithmetic (a [1,52,52,1] slice of [1,52,52,3]: 1.1 ms);
 * here a native strided copy.
 */
function sliceKernel(args: Args): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const tx = wrap(args.backend, x);
  if (!tx || x.shape.length === 0) return fallback('Slice', args, 'dtype not float32, empty or rank 0');
  const [begin, size] = slice_util.parseSliceParams(x, args.attrs!.begin as number | number[], args.attrs!.size as number | number[]);
  slice_util.assertParamsValid(x, begin, size);
  if (util.sizeFromShape(size) === 0) return fallback('Slice', args, 'empty output');
  count('Slice', true);
  return sliceOut(args.backend, tx, begin, size);
}

/** TF.js SplitV (tf.split): consecutive slices along one axis, each a native strided copy. */
function splitVKernel(args: Args): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const tx = wrap(args.backend, x);
  if (!tx) return fallback('SplitV', args, 'dtype not float32 or empty');
  const axis = util.parseAxisParam(args.attrs!.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x, args.attrs!.numOrSizeSplits as number | number[], axis);
  if (sizes.some((n) => n === 0)) return fallback('SplitV', args, 'an empty split');
  count('SplitV', true);
  const begin = x.shape.map(() => 0), size = x.shape.slice();
  return sizes.map((n) => {
    size[axis] = n;
    const t = sliceOut(args.backend, tx, begin, size);
    begin[axis] += n;
    return t;
  });
}

// ---- activations ----

/**
 * A one-input kernel over float32 data: `op` writes x's result into out (attributes from
 * TF.js); `reject` names why attributes the native op does not take go to the cpu kernel.
 */
function unary(name: string, op: (x: Tensor, out: Tensor, attrs: NamedAttrMap) => void,
  reject?: (attrs: NamedAttrMap) => string | null): KernelFunc {
  return ((args: Args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const tx = wrap(args.backend, x);
    if (!tx) return fallback(name, args, 'dtype not float32 or empty');
    const attrs = args.attrs ?? {};
    const why = reject?.(attrs);
    if (why) return fallback(name, args, why);
    count(name, true);
    const out = alloc(args.backend, tx.shape);
    op(tx, out, attrs);
    return output(args.backend, out);
  }) as unknown as KernelFunc;
}

const clipByValue = unary('ClipByValue',
  (x, out, a) => clip(x, a.clipValueMin as number, a.clipValueMax as number, { out }),
  (a) => ((a.clipValueMin as number) <= (a.clipValueMax as number) ? null : 'bounds'));

const leakyReluKernel = unary('LeakyRelu', (x, out, a) => leakyRelu(x, a.alpha as number, { out }),
  (a) => (typeof a.alpha === 'number' && !Number.isNaN(a.alpha) ? null : 'alpha'));

// ---- batch norm (inference): x * a + b per channel, a = scale / sqrt(var + eps), b = offset - mean * a ----

function batchNorm(args: Args): TensorInfo | TensorInfo[] {
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const be = args.backend;
  const tx = wrap(be, x!);
  const c = x!.shape[x!.shape.length - 1];
  const params = [mean, variance, offset, scale].map((t) => (t ? f32(be, t) : null));
  const [m, v, off, sc] = params;
  const fits = (p: Float32Array | null, optional: boolean) => (p ? p.length === 1 || p.length === c : optional);
  if (!tx || x!.shape.length === 0 || !fits(m, false) || !fits(v, false) || !fits(off, !offset) || !fits(sc, !scale)) {
    return fallback('FusedBatchNorm', args, 'dtype, empty or parameter sizes');
  }
  count('FusedBatchNorm', true);
  const eps = (args.attrs!.varianceEpsilon as number | undefined) ?? 0.001;
  const a = new Float32Array(c), b = new Float32Array(c);
  const at = (p: Float32Array | null, i: number, dflt: number) => (p ? p[p.length === 1 ? 0 : i] : dflt);
  for (let i = 0; i < c; i++) {
    a[i] = at(sc, i, 1) / Math.sqrt(at(v, i, 0) + eps);
    b[i] = at(off, i, 0) - at(m, i, 0) * a[i];
  }
  // One native pass over channels-last rows (a mul and an add took two).
  const rows = [tx.size / c, c];
  const out = alloc(be, tx.shape);
  channelAffine(tx.reshape(rows), a, b, { layout: 'NHWC', out: out.reshape(rows) });
  return output(be, out);
}

// ---- PadV2: a fill, then one TypedArray.set per contiguous run ----

function padV2(args: Args): TensorInfo | TensorInfo[] {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const xv = f32(args.backend, x);
  const paddings = args.attrs!.paddings as Array<[number, number]>;
  const value = args.attrs!.constantValue as number;
  if (!xv || x.shape.length === 0 || paddings.some(([p0, p1]) => p0 < 0 || p1 < 0)) {
    return fallback('PadV2', args, 'dtype, empty, rank 0 or negative pads');
  }
  count('PadV2', true);
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
  const out = alloc(args.backend, outShape);
  const o = out.data;
  o.fill(value);  // the buffer may be a reused one
  // The dims after the last padded one are copied whole: an image padded in H and W only
  // copies rows of W * C values (one set() per pixel took 14.7 of nsfwjs MobileNetV2's 78 ms).
  let last = rank - 1;
  while (last > 0 && paddings[last][0] === 0 && paddings[last][1] === 0) last--;
  const run = util.sizeFromShape(x.shape.slice(last));
  const outStrides = [...util.computeStrides(outShape), 1];
  const runs = xv.length / run;
  const idx = new Array<number>(last).fill(0);
  for (let r = 0; r < runs; r++) {
    let off = paddings[last][0] * outStrides[last];
    for (let d = 0; d < last; d++) off += (idx[d] + paddings[d][0]) * outStrides[d];
    o.set(xv.subarray(r * run, (r + 1) * run), off);
    for (let d = last - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return output(args.backend, out);
}

function softmaxKernel(args: Args): TensorInfo | TensorInfo[] {
  const { logits } = args.inputs as Record<string, TensorInfo>;
  const rank = logits.shape.length;
  const dim = args.attrs!.dim as number;
  const tx = wrap(args.backend, logits);
  if (!tx || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback('Softmax', args, 'dtype, empty or axis');
  count('Softmax', true);
  return output(args.backend, softmax(tx, rank - 1, { out: alloc(args.backend, tx.shape) }));
}

// ---- convolutions ----

type TfActivation = 'linear' | 'relu' | 'relu6' | 'elu' | 'prelu' | 'leakyrelu' | 'sigmoid';

const IN_KERNEL: Partial<Record<TfActivation, Conv2dActivation>> = {
  linear: 'none', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', leakyrelu: 'leakyRelu',
};

function convKernel(name: string, depthwise: boolean): KernelFunc {
  return ((args: Args) => {
    const backend = args.backend;
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs!;
    const activation = (attrs.activation ?? 'linear') as TfActivation;
    const xv = f32(backend, x);
    const wv = f32(backend, filter);
    if (!xv || !wv || attrs.dataFormat === 'NCHW' || x!.shape.length !== 4) return fallback(name, args, 'dtype, empty or NCHW');
    const dilations = (attrs.dilations ?? [1, 1]) as number | [number, number];
    const info = backend_util.computeConv2DInfo(
      x!.shape as [number, number, number, number], filter!.shape as [number, number, number, number],
      attrs.strides as number | [number, number], dilations, attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined, depthwise, 'channelsLast');
    const p = info.padInfo;
    const pads = [p.top, p.left, p.bottom, p.right];
    // tensorfuse sizes the output with floor(); a rounding mode that gives another size falls back.
    const outH = Math.floor((info.inHeight + p.top + p.bottom - info.effectiveFilterHeight) / info.strideHeight) + 1;
    const outW = Math.floor((info.inWidth + p.left + p.right - info.effectiveFilterWidth) / info.strideWidth) + 1;
    if (pads.some((v) => v < 0) || outH !== info.outHeight || outW !== info.outWidth || outH < 1 || outW < 1) {
      return fallback(name, args, 'rounding mode / geometry');
    }
    const cout = info.outChannels;

    // Bias: one value per output channel, or one for all, goes into the kernel's epilogue.
    let biasValues: Float32Array | undefined;
    if (bias) {
      const bv = f32(backend, bias);
      if (!bv) return fallback(name, args, 'bias dtype');
      if (bv.length === 1) biasValues = new Float32Array(cout).fill(bv[0]);
      else if (alongLastDim(bias.shape, cout)) biasValues = bv;
      else return fallback(name, args, 'bias shape');
    }
    // Activation: in the kernel's epilogue, or (elu, prelu) one pass over the output.
    let kernelAct = IN_KERNEL[activation];
    let post: ((o: Float32Array) => void) | undefined;
    if (activation === 'elu') {
      kernelAct = 'none';
      post = eluInPlace;
    } else if (activation === 'prelu') {
      const av = f32(backend, preluActivationWeights);
      if (!av) return fallback(name, args, 'prelu weights dtype');
      if (av.length === 1) post = (o) => preluScalar(o, av[0]);
      else if (alongLastDim(preluActivationWeights!.shape, cout)) post = (o) => preluChannels(o, av, cout);
      else return fallback(name, args, 'prelu weights shape');
      kernelAct = 'none';
    }
    if (kernelAct === undefined) return fallback(name, args, 'activation');
    // Without leakyreluAlpha the cpu kernels multiply by undefined (NaN); tf.leakyRelu's default 0.2 here.
    const alpha = activation === 'leakyrelu' ? (attrs.leakyreluAlpha as number | undefined) ?? 0.2 : 0.01;

    count(name, true);
    const inC = info.inChannels;
    const key = `${depthwise ? 'dw' : 'c'}|${info.strideHeight},${info.strideWidth}|${info.dilationHeight},${info.dilationWidth}|` +
      `${pads.join(',')}|${kernelAct}|${alpha}|${bias ? `b${backend.idOf(bias.dataId)}` : '-'}|${inC}`;
    const conv = backend.cachedConv(filter!.dataId, bias ? bias.dataId : null, key, () => {
      const [kh, kw] = filter!.shape;
      const weight = depthwise ? Tensor.from(wv, [kh, kw, 1, cout]) : Tensor.from(wv, filter!.shape);
      return new Conv2d(weight, {
        layout: 'NHWC', groups: depthwise ? inC : 1, strides: [info.strideHeight, info.strideWidth],
        dilations: [info.dilationHeight, info.dilationWidth], pads, activation: kernelAct, alpha, bias: biasValues,
      });
    });
    const xt = Tensor.from(xv, x!.shape);
    const out = conv.run(xt, { out: alloc(backend, conv.outputShape(xt.shape)) });
    if (post) post(out.data);
    return output(backend, out);
  }) as unknown as KernelFunc;
}

function eluInPlace(o: Float32Array): void {
  for (let i = 0; i < o.length; i++) {
    const v = o[i];
    if (v < 0) o[i] = Math.exp(v) - 1;
  }
}

function preluScalar(o: Float32Array, a: number): void {
  for (let i = 0; i < o.length; i++) {
    const v = o[i];
    if (v < 0) o[i] = v * a;
  }
}

function preluChannels(o: Float32Array, a: Float32Array, c: number): void {
  for (let i = 0; i < o.length; i += c) {
    for (let k = 0; k < c; k++) {
      const v = o[i + k];
      if (v < 0) o[i + k] = v * a[k];
    }
  }
}

// ---- pooling (NHWC: the native kernels vectorise over channels) ----

function poolKernel(name: string, type: 'max' | 'avg'): KernelFunc {
  return ((args: Args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const tx = wrap(args.backend, x);
    const attrs = args.attrs!;
    if (!tx || x.shape.length !== 4) return fallback(name, args, 'dtype, empty or rank');
    const info = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number], attrs.filterSize as [number, number] | number,
      attrs.strides as [number, number] | number, 1, attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
    // 1x1 windows with an unchanged shape are an identity in TF.js (whatever the padding says): the cpu kernel's.
    const identity = info.filterHeight === 1 && info.filterWidth === 1 && util.arraysEqual(info.inShape, info.outShape);
    if (identity || util.sizeFromShape(info.outShape) === 0) return fallback(name, args, '1x1 identity or empty output');
    const p = info.padInfo;
    const pads = [p.top, p.left, p.bottom, p.right] as [number, number, number, number];
    // tensorfuse sizes the output with floor(); a rounding mode that gives another size falls back.
    const outH = poolOutLength(info.inHeight, info.filterHeight, info.strideHeight, p.top, p.bottom, 1, false);
    const outW = poolOutLength(info.inWidth, info.filterWidth, info.strideWidth, p.left, p.right, 1, false);
    if (pads.some((v) => v < 0) || outH !== info.outHeight || outW !== info.outWidth) return fallback(name, args, 'rounding mode / geometry');
    count(name, true);
    const options = {
      kernel: [info.filterHeight, info.filterWidth] as [number, number], strides: [info.strideHeight, info.strideWidth] as [number, number],
      pads, layout: 'NHWC' as const, out: alloc(args.backend, info.outShape),
    };
    // TF.js: NaN never wins a max; an average divides by the input pixels in the window only.
    const out = type === 'max' ? maxPool2d(tx, { ...options, ignoreNaN: true }) : avgPool2d(tx, options);
    return output(args.backend, out);
  }) as unknown as KernelFunc;
}

/** Kernels tensorfuse implements (the rest are tfjs-backend-cpu's, registered under 'tensorfuse' too). */
export const TENSORFUSE_KERNELS: ReadonlyArray<Pick<KernelConfig, 'kernelName' | 'kernelFunc'>> = [
  { kernelName: 'Add', kernelFunc: binary('Add', add) },
  { kernelName: 'Multiply', kernelFunc: binary('Multiply', mul) },
  { kernelName: 'AddN', kernelFunc: addN as unknown as KernelFunc },
  { kernelName: 'Concat', kernelFunc: concatKernel as unknown as KernelFunc },
  { kernelName: 'Conv2D', kernelFunc: convKernel('Conv2D', false) },
  { kernelName: 'FusedConv2D', kernelFunc: convKernel('FusedConv2D', false) },
  { kernelName: 'DepthwiseConv2dNative', kernelFunc: convKernel('DepthwiseConv2dNative', true) },
  { kernelName: 'FusedDepthwiseConv2D', kernelFunc: convKernel('FusedDepthwiseConv2D', true) },
  { kernelName: 'MaxPool', kernelFunc: poolKernel('MaxPool', 'max') },
  { kernelName: 'AvgPool', kernelFunc: poolKernel('AvgPool', 'avg') },
  { kernelName: 'Relu', kernelFunc: unary('Relu', (x, out) => relu(x, { out })) },
  { kernelName: 'Relu6', kernelFunc: unary('Relu6', (x, out) => clip(x, 0, 6, { out })) },
  { kernelName: 'ClipByValue', kernelFunc: clipByValue },
  { kernelName: 'LeakyRelu', kernelFunc: leakyReluKernel },
  { kernelName: 'FusedBatchNorm', kernelFunc: batchNorm as unknown as KernelFunc },
  { kernelName: 'PadV2', kernelFunc: padV2 as unknown as KernelFunc },
  { kernelName: 'Sigmoid', kernelFunc: unary('Sigmoid', (x, out) => sigmoid(x, { out })) },
  { kernelName: 'Softmax', kernelFunc: softmaxKernel as unknown as KernelFunc },
  { kernelName: 'Slice', kernelFunc: sliceKernel as unknown as KernelFunc },
  { kernelName: 'SplitV', kernelFunc: splitVKernel as unknown as KernelFunc },
];

/**
 * Kernels the issue lists that stay tfjs-backend-cpu's under 'tensorfuse', and why.
 * (Every kernel above also falls back to the cpu kernel for dtypes other than float32,
 * empty tensors, NCHW data and geometries the native kernel does not size the same way.)
 */
export const CPU_KERNELS_KEPT: Readonly<Record<string, string>> = {
  ResizeBilinear: 'tensorfuse resize is NCHW-only (ONNX modes); NHWC<->NCHW transposes in TS cost about as much as the cpu kernel\'s direct NHWC loop',
  ResizeNearestNeighbor: 'same as ResizeBilinear',
};
