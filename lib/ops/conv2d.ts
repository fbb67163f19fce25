// conv2d: NCHW (weights OIHW) or NHWC (weights HWIO) convolution with groups, strides,
// dilations, pads, bias and a fused activation, on packed-GEMM SIMD kernels.
import { native, Conv2dAlgorithm, Conv2dHandle, KernelBatch } from '../native';
import { Tensor } from '../tensor';
import { formatShape, rangeError, typeError, describeValue } from '../errors';
import { checkTensorOrView, outputFor } from './checks';
import { allContiguous, overlaps, stridesOf } from './views';
import type { OutOptions } from './elementwise';
import {
  ACTIVATION_CODES, Conv2dOptions, Conv2dSpec, Conv2dWeightOptions, conv2dGeometry, conv2dOutputSize, resolveConv2dSpec,
} from './conv2d-options';

export type { Conv2dActivation, Conv2dLayout, Conv2dOptions, Conv2dWeightOptions } from './conv2d-options';
export type { Conv2dAlgorithm } from '../native';
import type { Conv2dActivation } from './conv2d-options';

interface Conv2dCall {
  x: Tensor;
  pads: number[];
  out: Tensor;
  /** [x, out] batch strides when either is a strided view (the conv then runs per image). */
  strides: number[] | undefined;
}

/**
 * @internal A conv run for inputs of fixed shapes, checked once (a compiled model's conv
 * steps, where run()'s checks each run cost more than a small conv: ResNet-50's first runs
 * in a fresh process spent ~4 ms a run in them before the JIT had optimised them). run
 * hands contiguous x, out (outShape) and the skip (outShape too, or null: then no residual)
 * straight to the binding, which checks every length and overlap again.
 */
export interface PreparedConvRun {
  readonly outShape: readonly number[];
  run(x: Float32Array, out: Float32Array, skip: Float32Array | null): void;
  runAsync(x: Float32Array, out: Float32Array, skip: Float32Array | null): Promise<unknown>;
  /** Records the run into `batch` (see KernelBatch) instead of running it. */
  record(x: Float32Array, out: Float32Array, skip: Float32Array | null, batch: KernelBatch): void;
}

/** @internal runSources prepared the same way: the sources' floats in order. */
export interface PreparedSourcesRun {
  run(sources: readonly Float32Array[], out: Float32Array, skip: Float32Array | null): void;
  runAsync(sources: readonly Float32Array[], out: Float32Array, skip: Float32Array | null): Promise<unknown>;
  record(sources: readonly Float32Array[], out: Float32Array, skip: Float32Array | null, batch: KernelBatch): void;
}

/** @internal The residual epilogue a prepared run applies: out = act(conv + skip). */
export type ConvSkipSpec = Pick<ConvSkip, 'activation' | 'alpha'>;

/**
 * @internal The prepared run of the conv `handle` over contiguous x of shape xShape, whose
 * geometry (pads, outShape) the caller has checked; own: the conv's own activation.
 */
export function preparedConvRun(op: string, handle: Conv2dHandle, xShape: readonly number[], geo: { pads: number[]; outShape: number[] },
  own: Conv2dActivation, skip: ConvSkipSpec | undefined): PreparedConvRun {
  const shape = xShape.slice();
  const [act, alpha] = skipCodes(op, own, skip);
  return {
    outShape: geo.outShape,
    run: (x, out, s) => { native.conv2dRun(handle, x, shape, geo.pads, out, false, undefined, s, act, alpha); },
    runAsync: (x, out, s) => native.conv2dRun(handle, x, shape, geo.pads, out, true, undefined, s, act, alpha),
    record: (x, out, s, batch) => { native.conv2dRun(handle, x, shape, geo.pads, out, batch, undefined, s, act, alpha); },
  };
}

/** @internal The binding's [act, alpha] for a prepared run's skip (a residual needs the conv's own activation 'none'). */
export function skipCodes(op: string, own: Conv2dActivation, skip: ConvSkipSpec | undefined): [number, number] {
  if (skip === undefined) return [0, 0];
  if (own !== 'none') throw rangeError(op, `a residual skip needs the conv's own activation to be 'none', got '${own}'`);
  if (!Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, skip.activation)) {
    throw rangeError(op, `skip activation must be one of ${Object.keys(ACTIVATION_CODES).join(', ')}, got ${describeValue(skip.activation)}`);
  }
  return [ACTIVATION_CODES[skip.activation], skip.alpha];
}

/**
 * A convolution whose weights are packed once, at construction, into the layout the
 * micro-kernel reads (the weight and bias are copied: later changes to them do not
 * affect this object). run() may be called any number of times, with any input size.
 */
export class Conv2d {
  readonly layout: Conv2dSpec['layout'];
  readonly weightShape: readonly number[];
  readonly groups: number;
  private readonly spec: Conv2dSpec;
  private readonly handle: Conv2dHandle;

  /**
   * @param op @internal the name errors report (conv2d() passes its own).
   * @param xShape @internal the input a one-shot conv2d() runs on: its size is the hint.
   */
  constructor(weight: Tensor, options?: Conv2dWeightOptions, op = 'Conv2d', xShape?: readonly number[]) {
    const spec = resolveConv2dSpec(op, weight, options);
    this.spec = spec;
    this.layout = spec.layout;
    this.weightShape = spec.weightShape;
    this.groups = spec.groups;
    const params = [
      spec.layout === 'NCHW' ? 0 : 1, spec.groups, spec.strides[0], spec.strides[1], spec.dilations[0], spec.dilations[1],
      ACTIVATION_CODES[spec.activation], spec.alpha, ...outputSizeHint(op, spec, xShape),
    ];
    const affine = spec.inputAffine;
    this.handle = native.conv2dCreate(weight.data, weight.shape, spec.bias, params, affine?.scale ?? null, affine?.shift ?? null, affine?.relu ?? false);
  }

  /** The output shape for an input of shape `xShape` (throws when x does not fit). */
  outputShape(xShape: readonly number[]): number[] {
    return conv2dGeometry('Conv2d.outputShape', this.spec, Tensor.fromUnchecked(new Float32Array(0), xShape)).outShape;
  }

  private prepare(op: string, x: unknown, options: OutOptions | undefined): Conv2dCall {
    const tx = checkTensorOrView(op, 'x', x);
    const geo = conv2dGeometry(op, this.spec, tx);
    const out = outputFor(op, options, geo.outShape, true);
    if (overlaps(out, tx)) throw rangeError(op, `out ${formatShape(out.shape)} overlaps x ${formatShape(tx.shape)}`);
    return { x: tx, pads: geo.pads, out, strides: tx.isContiguous && out.isContiguous ? undefined : stridesOf([tx, out]) };
  }

  /** Convolves x; writes into `options.out` when given (it must not overlap x). */
  run(x: Tensor, options?: OutOptions): Tensor {
    return this.runAs('Conv2d.run', x, options);
  }

  /** @internal */
  runAs(op: string, x: unknown, options: OutOptions | undefined): Tensor {
    const c = this.prepare(op, x, options);
    native.conv2dRun(this.handle, c.x.data, c.x.shape, c.pads, c.out.data, false, c.strides);
    return c.out;
  }

  /** run() on the libuv thread pool; x, out and the packed weights stay referenced until it settles. */
  runAsync(x: Tensor, options?: OutOptions): Promise<Tensor> {
    return this.runAsyncAs('Conv2d.runAsync', x, options);
  }

  /**
   * Frees the packed weights now rather than when the garbage collector finds this object
   * (runs already in flight finish first). Later calls to run() throw a TypeError. Without
   * it the weights outlive the object until the event loop turns (Node runs native
   * finalizers from there): a loop that never yields and makes Conv2d objects should
   * dispose of them (400 undisposed 256 -> 256 3x3 convs held 1.7 GB until it yielded).
   */
  dispose(): void {
    native.conv2dDispose(this.handle);
  }

  /**
   * The algorithm the packing chose: 'gemm-pixel-lanes' (implicit GEMM, output pixels on
   * the vector lanes), 'gemm-channel-lanes' (output channels on the lanes; small maps, chosen
   * from options.inputSize), 'gemm-gather' (NCHW k x k convs with 32+ input channels per
   * group: output channels on the lanes, each pixel's inputs read in place from a padded
   * copy), 'blocked-direct' (those with a column stride of 2: x reordered into a padded
   * blocked layout and a direct kernel over it, the output reordered back), 'winograd-f2x2-3x3' / 'winograd-f4x4-3x3' (dense 3x3 stride 1; F(4x4) on maps of
   * 16x16 and up, 29x29 and up with <= 64 output channels) or 'depthwise'.
   * For performance diagnostics; every algorithm computes the same conv.
   */
  get algorithm(): Conv2dAlgorithm {
    return native.conv2dAlgorithm(this.handle);
  }

  /** @internal True when runSources can run this conv (NCHW). */
  get runsSources(): boolean {
    return this.spec.layout === 'NCHW';
  }

  /**
   * @internal The conv over the concat (mode Concat) or the sum (mode Sum) of NCHW `sources`
   * sharing N, H, W, computed without materialising it; with `skip`, out = act(conv + skip) in
   * the conv's epilogue (the conv's own activation must be 'none'). The callers (the fusion
   * blocks) have validated shapes and overlaps; the binding checks every length again. Any
   * tensor may be a strided channel view (the binding then runs the conv per image).
   */
  runSources(sources: readonly Tensor[], mode: SourceMode, out: Tensor, skip: ConvSkip | null, async: false): void;
  runSources(sources: readonly Tensor[], mode: SourceMode, out: Tensor, skip: ConvSkip | null, async: true): Promise<Float32Array>;
  runSources(sources: readonly Tensor[], mode: SourceMode, out: Tensor, skip: ConvSkip | null, async: boolean): void | Promise<Float32Array> {
    const [n, , h, w] = sources[0].shape;
    const c = mode === SourceMode.Sum ? sources[0].shape[1] : sources.reduce((s, t) => s + t.shape[1], 0);
    const pads = conv2dGeometry('Conv2d.runSources', this.spec, Tensor.fromUnchecked(new Float32Array(0), [n, c, h, w])).pads;
    const shapes = sources.flatMap((t) => t.shape);
    const data = sources.map((t) => t.data);
    const act = skip === null ? 0 : ACTIVATION_CODES[skip.activation];
    const alpha = skip === null ? 0 : skip.alpha;
    const skipData = skip === null ? null : skip.skip.data;
    const tensors = [...sources, out, skip === null ? null : skip.skip];
    const strides = allContiguous(tensors) ? undefined : stridesOf(tensors);
    if (async) return native.conv2dRunSources(this.handle, data, shapes, mode, pads, out.data, skipData, act, alpha, true, strides);
    native.conv2dRunSources(this.handle, data, shapes, mode, pads, out.data, skipData, act, alpha, false, strides);
  }

  /** @internal run() for contiguous inputs of shape xShape (see PreparedConvRun). */
  prepareRun(xShape: readonly number[], skip?: ConvSkipSpec): PreparedConvRun {
    const op = 'Conv2d.prepareRun';
    const geo = conv2dGeometry(op, this.spec, Tensor.fromUnchecked(new Float32Array(0), xShape.slice()));
    return preparedConvRun(op, this.handle, xShape, geo, this.spec.activation, skip);
  }

  /** @internal runSources() for contiguous sources of the given NCHW shapes (see PreparedConvRun). */
  prepareRunSources(sourceShapes: readonly (readonly number[])[], mode: SourceMode, skip?: ConvSkipSpec): PreparedSourcesRun {
    const op = 'Conv2d.prepareRunSources';
    const [n, , h, w] = sourceShapes[0];
    const c = mode === SourceMode.Sum ? sourceShapes[0][1] : sourceShapes.reduce((t, q) => t + q[1], 0);
    const pads = conv2dGeometry(op, this.spec, Tensor.fromUnchecked(new Float32Array(0), [n, c, h, w])).pads;
    const shapes = sourceShapes.flat();
    const [act, alpha] = skipCodes(op, this.spec.activation, skip);
    const { handle } = this;
    return {
      run: (xs, out, s) => { native.conv2dRunSources(handle, xs, shapes, mode, pads, out, s, act, alpha, false, undefined); },
      runAsync: (xs, out, s) => native.conv2dRunSources(handle, xs, shapes, mode, pads, out, s, act, alpha, true, undefined),
      record: (xs, out, s, batch) => { native.conv2dRunSources(handle, xs, shapes, mode, pads, out, s, act, alpha, batch, undefined); },
    };
  }

  /** @internal Whether the conv applies an input affine (runSources then takes concat sources only). */
  get hasInputAffine(): boolean {
    return this.spec.inputAffine !== null;
  }

  /** @internal The conv's own activation. */
  get activation(): Conv2dActivation {
    return this.spec.activation;
  }

  /** @internal */
  async runAsyncAs(op: string, x: unknown, options: OutOptions | undefined): Promise<Tensor> {
    const c = this.prepare(op, x, options);
    await native.conv2dRun(this.handle, c.x.data, c.x.shape, c.pads, c.out.data, true, c.strides);
    return c.out;
  }
}

/** @internal What runSources' input is made of: 0 the channel concat of the sources, 1 their sum. */
export const enum SourceMode { Concat = 0, Sum = 1 }

/** @internal The residual epilogue of runSources: out = act(conv(x) + skip). */
export interface ConvSkip {
  skip: Tensor;
  activation: Conv2dActivation;
  alpha: number;
}

function split(op: string, options: Conv2dOptions | undefined): OutOptions | undefined {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  return options?.out === undefined ? undefined : { out: options.out };
}

/** The output size the conv is packed for: from options.inputSize, else from a one-shot call's x. */
function outputSizeHint(op: string, spec: Conv2dSpec, xShape: readonly number[] | undefined): [number, number] {
  if (spec.inputSize) return conv2dOutputSize(op, spec, spec.inputSize);
  if (!xShape || xShape.length !== 4) return [0, 0];
  try {
    return conv2dOutputSize(op, spec, spec.layout === 'NCHW' ? [xShape[2], xShape[3]] : [xShape[1], xShape[2]]);
  } catch {
    return [0, 0];  // x does not fit: the run reports it, naming x
  }
}

/** One-shot convolution (packs the weights on every call; keep a Conv2d to reuse them). */
export function conv2d(x: Tensor, weight: Tensor, options?: Conv2dOptions): Tensor {
  const out = split('conv2d', options);
  checkTensorOrView('conv2d', 'x', x);
  // Disposed right away: the next one-shot conv of the same size reuses the packed block.
  const conv = new Conv2d(weight, options, 'conv2d', x.shape);
  try {
    return conv.runAs('conv2d', x, out);
  } finally {
    conv.dispose();
  }
}

/** conv2d() off the main thread (the weights are packed on the calling thread). */
export async function conv2dAsync(x: Tensor, weight: Tensor, options?: Conv2dOptions): Promise<Tensor> {
  const out = split('conv2dAsync', options);
  checkTensorOrView('conv2dAsync', 'x', x);
  const conv = new Conv2d(weight, options, 'conv2dAsync', x.shape);
  try {
    return await conv.runAsyncAs('conv2dAsync', x, out);
  } finally {
    conv.dispose();
  }
}
