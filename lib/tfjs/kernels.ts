// tensorfuse kernels for TF.js (NHWC, float32). Each one checks that its inputs fit the
// fast path and otherwise calls tfjs-backend-cpu's kernel with the same arguments (our
// backend is a MathBackendCPU, so the cpu kernels read and write the same storage).
import { backend_util, getKernel, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { Tensor } from '../tensor';
import { add, mul } from '../ops/elementwise';
import { concat } from '../ops/concat';
import { Conv2d } from '../ops/conv2d';
import type { Conv2dActivation } from '../ops/conv2d-options';
import { relu, sigmoid, softmax } from '../ops/activation';
import type { TensorfuseBackend } from './backend';

export const BACKEND_NAME = 'tensorfuse';

interface Args {
  inputs: Record<string, TensorInfo | undefined> | TensorInfo[];
  backend: TensorfuseBackend;
  attrs?: NamedAttrMap;
}

/** Counts of fast-path runs and cpu fallbacks per kernel (for tests and the bench). */
export const kernelStats: Record<string, { fast: number; fallback: number }> = {};

function count(name: string, fast: boolean): void {
  const s = kernelStats[name] ?? (kernelStats[name] = { fast: 0, fallback: 0 });
  if (fast) s.fast++;
  else s.fallback++;
}

function fallback(name: string, args: Args): TensorInfo | TensorInfo[] {
  count(name, false);
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

function binary(name: string, op: (a: Tensor, b: Tensor) => Tensor): KernelFunc {
  return ((args: Args) => {
    const { a, b } = args.inputs as Record<string, TensorInfo>;
    const ta = wrap(args.backend, a);
    const tb = ta && wrap(args.backend, b);
    if (!ta || !tb) return fallback(name, args);
    count(name, true);
    return output(args.backend, op(ta, tb));
  }) as unknown as KernelFunc;
}

function addN(args: Args): TensorInfo | TensorInfo[] {
  const inputs = args.inputs as TensorInfo[];
  if (inputs.length < 2) return fallback('AddN', args);
  const ts: Tensor[] = [];
  for (const t of inputs) {
    const w = wrap(args.backend, t);
    if (!w || !util.arraysEqual(t.shape, inputs[0].shape)) return fallback('AddN', args);
    ts.push(w);
  }
  count('AddN', true);
  const out = add(ts[0], ts[1]);
  for (let i = 2; i < ts.length; i++) add(out, ts[i], { out });
  return output(args.backend, out);
}

function concatKernel(args: Args): TensorInfo | TensorInfo[] {
  const inputs = args.inputs as TensorInfo[];
  if (inputs.length < 2) return fallback('Concat', args);
  const rank = inputs[0].shape.length;
  const ts: Tensor[] = [];
  for (const t of inputs) {
    const w = wrap(args.backend, t);
    if (!w || t.shape.length !== rank) return fallback('Concat', args);
    ts.push(w);
  }
  const axis = util.parseAxisParam(args.attrs!.axis as number | number[], inputs[0].shape)[0];
  backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  count('Concat', true);
  return output(args.backend, concat(ts, axis));
}

// ---- activations ----

function unary(name: string, op: (x: Tensor, out: Tensor) => void): KernelFunc {
  return ((args: Args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const tx = wrap(args.backend, x);
    if (!tx) return fallback(name, args);
    count(name, true);
    const out = Tensor.empty(tx.shape);
    op(tx, out);
    return output(args.backend, out);
  }) as unknown as KernelFunc;
}

function relu6Into(x: Tensor, out: Tensor): void {
  const a = x.data, o = out.data;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    o[i] = v < 0 ? 0 : v > 6 ? 6 : v;  // NaN stays NaN (both tests false)
  }
}

function softmaxKernel(args: Args): TensorInfo | TensorInfo[] {
  const { logits } = args.inputs as Record<string, TensorInfo>;
  const rank = logits.shape.length;
  const dim = args.attrs!.dim as number;
  const tx = wrap(args.backend, logits);
  if (!tx || rank === 0 || (dim !== -1 && dim !== rank - 1)) return fallback('Softmax', args);
  count('Softmax', true);
  return output(args.backend, softmax(tx, rank - 1));
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
    if (!xv || !wv || attrs.dataFormat === 'NCHW' || x!.shape.length !== 4) return fallback(name, args);
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
      return fallback(name, args);
    }
    const cout = info.outChannels;

    // Bias: one value per output channel, or one for all, goes into the kernel's epilogue.
    let biasValues: Float32Array | undefined;
    if (bias) {
      const bv = f32(backend, bias);
      if (!bv) return fallback(name, args);
      if (bv.length === 1) biasValues = new Float32Array(cout).fill(bv[0]);
      else if (alongLastDim(bias.shape, cout)) biasValues = bv;
      else return fallback(name, args);
    }
    // Activation: in the kernel's epilogue, or (elu, prelu) one pass over the output.
    let kernelAct = IN_KERNEL[activation];
    let post: ((o: Float32Array) => void) | undefined;
    if (activation === 'elu') {
      kernelAct = 'none';
      post = eluInPlace;
    } else if (activation === 'prelu') {
      const av = f32(backend, preluActivationWeights);
      if (!av) return fallback(name, args);
      if (av.length === 1) post = (o) => preluScalar(o, av[0]);
      else if (alongLastDim(preluActivationWeights!.shape, cout)) post = (o) => preluChannels(o, av, cout);
      else return fallback(name, args);
      kernelAct = 'none';
    }
    if (kernelAct === undefined) return fallback(name, args);
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
    const out = conv.run(Tensor.from(xv, x!.shape));
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

// ---- pooling (NHWC, plain TS: the native maxPool2d is NCHW-only) ----

function poolKernel(name: string, type: 'max' | 'avg'): KernelFunc {
  return ((args: Args) => {
    const { x } = args.inputs as Record<string, TensorInfo>;
    const xv = f32(args.backend, x);
    const attrs = args.attrs!;
    if (!xv || x.shape.length !== 4) return fallback(name, args);
    const info = backend_util.computePool2DInfo(
      x.shape as [number, number, number, number], attrs.filterSize as [number, number] | number,
      attrs.strides as [number, number] | number, 1, attrs.pad as 'same' | 'valid' | number,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
    if (util.sizeFromShape(info.outShape) === 0) return fallback(name, args);
    count(name, true);
    const out = Tensor.empty(info.outShape);
    pool2dNHWC(xv, out.data, info, type);
    return output(args.backend, out);
  }) as unknown as KernelFunc;
}

function pool2dNHWC(x: Float32Array, o: Float32Array, info: backend_util.Conv2DInfo, type: 'max' | 'avg'): void {
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const max = type === 'max';
  let oi = 0;
  for (let b = 0; b < batchSize; b++) {
    const xb = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const y0 = oy * sh - top;
      const yMin = Math.max(0, y0), yMax = Math.min(H, y0 + fh);
      for (let ox = 0; ox < OW; ox++, oi += C) {
        const x0 = ox * sw - left;
        const xMin = Math.max(0, x0), xMax = Math.min(W, x0 + fw);
        o.fill(max ? -Infinity : 0, oi, oi + C);
        for (let iy = yMin; iy < yMax; iy++) {
          for (let ix = xMin; ix < xMax; ix++) {
            const base = xb + (iy * W + ix) * C;
            if (max) {
              for (let c = 0; c < C; c++) {
                const v = x[base + c];
                if (v > o[oi + c]) o[oi + c] = v;  // NaN never wins, as in the cpu kernel
              }
            } else {
              for (let c = 0; c < C; c++) o[oi + c] += x[base + c];
            }
          }
        }
        if (!max) {
          const inv = 1 / ((yMax - yMin) * (xMax - xMin));  // padding is not counted, as in TF
          for (let c = 0; c < C; c++) o[oi + c] *= inv;
        }
      }
    }
  }
}

/** Kernels tensorfuse implements (the rest are tfjs-backend-cpu's, registered under 'tensorfuse' too). */
export const TENSORFUSE_KERNELS: ReadonlyArray<Pick<KernelConfig, 'kernelName' | 'kernelFunc'>> = [
  { kernelName: 'Add', kernelFunc: binary('Add', (a, b) => add(a, b)) },
  { kernelName: 'Multiply', kernelFunc: binary('Multiply', (a, b) => mul(a, b)) },
  { kernelName: 'AddN', kernelFunc: addN as unknown as KernelFunc },
  { kernelName: 'Concat', kernelFunc: concatKernel as unknown as KernelFunc },
  { kernelName: 'Conv2D', kernelFunc: convKernel('Conv2D', false) },
  { kernelName: 'FusedConv2D', kernelFunc: convKernel('FusedConv2D', false) },
  { kernelName: 'DepthwiseConv2dNative', kernelFunc: convKernel('DepthwiseConv2dNative', true) },
  { kernelName: 'FusedDepthwiseConv2D', kernelFunc: convKernel('FusedDepthwiseConv2D', true) },
  { kernelName: 'MaxPool', kernelFunc: poolKernel('MaxPool', 'max') },
  { kernelName: 'AvgPool', kernelFunc: poolKernel('AvgPool', 'avg') },
  { kernelName: 'Relu', kernelFunc: unary('Relu', (x, out) => relu(x, { out })) },
  { kernelName: 'Relu6', kernelFunc: unary('Relu6', relu6Into) },
  { kernelName: 'Sigmoid', kernelFunc: unary('Sigmoid', (x, out) => sigmoid(x, { out })) },
  { kernelName: 'Softmax', kernelFunc: softmaxKernel as unknown as KernelFunc },
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
