// The blocked channel layout (NCHWc) and the convs that keep it: a tensor [N, C, H, W] is
// held as [N, ceil(C / L), H, W, L], channels in blocks of L = blockedLanes() (the active
// ISA's vector lanes), the lanes past C zero. A blocked conv broadcasts each pixel's inputs
// straight from x and stores its tile as y lays it out, so a chain of them pays no packing
// and no transposes (native/kernels/conv2d/conv_blocked.cc). Internal for now: the
// building block of model plans that keep activations blocked from one conv to the next.
import { native, Conv2dAlgorithm, Conv2dHandle } from '../native';
import { Tensor } from '../tensor';
import { checkShape, describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, outputFor } from './checks';
import { overlaps } from './views';
import { checkInPlace } from './activation';
import type { OutOptions } from './elementwise';
import { ACTIVATION_CODES, Conv2dSpec, Conv2dWeightOptions, conv2dGeometry, conv2dOutputSize, resolveConv2dSpec } from './conv2d-options';
import { preparedConvRun } from './conv2d';
import { preparedStep } from './prepared';
import type { PreparedStep } from './prepared';
import type { ConvSkip, ConvSkipSpec, PreparedConvRun } from './conv2d';

let lanes: number | undefined;

/** The channel block L of the blocked layout on this machine (fixed once the addon loads its ISA). */
export function blockedLanes(): number {
  return (lanes ??= native.conv2dBlockedLanes());
}

/** The blocked shape [N, ceil(C / L), H, W, L] of an NCHW shape. */
export function blockedShape(nchwShape: readonly number[]): number[] {
  const l = blockedLanes();
  const [n, c, h, w] = nchwShape;
  return [n, Math.ceil(c / l), h, w, l];
}

function checkNchw(op: string, x: unknown): Tensor {
  const t = checkTensor(op, 'x', x);
  if (t.shape.length !== 4) throw rangeError(op, `x must have rank 4 ([N, C, H, W]), got shape ${formatShape(t.shape)}`);
  return t;
}

function checkDisjoint(op: string, x: Tensor, out: Tensor): void {
  if (overlaps(out, x)) throw rangeError(op, `out ${formatShape(out.shape)} overlaps x ${formatShape(x.shape)}`);
}

/** x [N, C, H, W] in the blocked layout [N, ceil(C / L), H, W, L] (lanes past C zero). */
export function toBlocked(x: Tensor, options?: OutOptions): Tensor {
  const tx = checkNchw('toBlocked', x);
  const out = outputFor('toBlocked', options, blockedShape(tx.shape));
  checkDisjoint('toBlocked', tx, out);
  native.toBlocked(tx.data, tx.shape, out.data);
  return out;
}

/** The first `channels` channels of a blocked x [N, B, H, W, L] as [N, channels, H, W]. */
export function fromBlocked(x: Tensor, channels: number, options?: OutOptions): Tensor {
  const op = 'fromBlocked';
  const tx = checkTensor(op, 'x', x);
  if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1) {
    throw typeError(op, `channels must be a positive integer, got ${describeValue(channels)}`);
  }
  const l = blockedLanes();
  const [n, b, h, w] = tx.shape;
  if (tx.shape.length !== 5 || tx.shape[4] !== l || b !== Math.ceil(channels / l)) {
    throw rangeError(op, `x must be [N, ${Math.ceil(channels / l)}, H, W, ${l}] for ${channels} channels in blocks of ${l}, got shape ${formatShape(tx.shape)}`);
  }
  const nchw = [n, channels, h, w];
  const out = outputFor(op, options, nchw);
  checkDisjoint(op, tx, out);
  native.fromBlocked(tx.data, nchw, out.data);
  return out;
}

/**
 * A reorder between NCHW `nchwShape` and its blocked shape, checked once: run(x, out)
 * hands contiguous x and out (toBlocked: NCHW -> blocked; fromBlocked: blocked -> NCHW) to
 * the binding, which checks their lengths. For a compiled model's layout steps, which run
 * once or twice a run with their checks cold each time (ResNet-50's final reorder of 2048
 * floats: 0.05 ms through fromBlocked).
 */
export function prepareReorder(direction: 'toBlocked' | 'fromBlocked', nchwShape: readonly number[]): PreparedStep {
  const shape = checkShape(direction, 'nchwShape', nchwShape);
  if (shape.length !== 4) throw rangeError(direction, `the NCHW shape must have rank 4, got ${formatShape(shape)}`);
  const reorder = direction === 'toBlocked' ? native.toBlocked : native.fromBlocked;
  return preparedStep((x, out, mode) => { reorder(x, shape, out, mode); });
}

/**
 * x * scale[c] + shift[c] for every channel c of a blocked x [N, C / L, H, W, L] (C a
 * multiple of L), then max(0, .) with activation 'relu'; `out` may be x itself. A BatchNorm
 * (-ReLU) between blocked convs that no conv could absorb.
 */
export function blockedChannelAffine(x: Tensor, scale: Float32Array, shift: Float32Array, options?: { activation?: 'none' | 'relu'; out?: Tensor }): Tensor {
  const op = 'blockedChannelAffine';
  const tx = checkTensor(op, 'x', x);
  const affine = checkBlockedAffine(op, tx.shape, scale, shift, options?.activation);
  const out = outputFor(op, options, tx.shape);
  checkInPlace(op, out, tx);
  affine.run(tx.data, out.data);
  return out;
}

/**
 * blockedChannelAffine for x of one shape, checked once (a compiled model's TfAffine steps):
 * run(x, out) hands contiguous floats (out may be x) to the binding, which checks their
 * lengths again.
 */
export function prepareBlockedChannelAffine(xShape: readonly number[], scale: Float32Array, shift: Float32Array,
  activation?: 'none' | 'relu'): PreparedStep {
  return checkBlockedAffine('blockedChannelAffine', xShape, scale, shift, activation);
}

function checkBlockedAffine(op: string, xShape: readonly number[], scale: Float32Array, shift: Float32Array,
  activation: unknown = 'none'): PreparedStep {
  const l = blockedLanes();
  if (xShape.length !== 5 || xShape[4] !== l) throw rangeError(op, `x must be [N, C / ${l}, H, W, ${l}], got shape ${formatShape(xShape)}`);
  const [n, blocks, h, w] = xShape;
  for (const [name, v] of [['scale', scale], ['shift', shift]] as const) {
    if (!(v instanceof Float32Array)) throw typeError(op, `${name} must be a Float32Array, got ${describeValue(v)}`);
    if (v.length !== blocks * l) throw rangeError(op, `${name} has ${v.length} values but x ${formatShape(xShape)} has ${blocks * l} channels`);
  }
  if (activation !== 'none' && activation !== 'relu') throw rangeError(op, `activation must be 'none' or 'relu', got ${describeValue(activation)}`);
  const relu = activation === 'relu';
  return preparedStep((x, out, mode) => { native.channelAffine(x, n, blocks * l, h * w, scale, shift, relu, out, mode, true); });
}

/**
 * What a blocked conv takes besides its OIHW weights (groups are 1). inputSize: the [H, W]
 * it will mostly see (picks Winograd's tile and whether small maps skip it, as Conv2d's).
 * input: 'NCHWc' (default) or 'NCHW': x in NCHW, y blocked (a blocked region's first conv
 * over an input whose channels fill no block, such as an image's 3; no Winograd).
 * output: 'NCHWc' (default) or 'NCHW': x blocked, y (and a skip) in NCHW (a region's last
 * conv, whose output channels fill no whole block: a classifier's 1000, a YOLO head's 255;
 * the blocked tiles are reordered inside the call; no Winograd). Not with input 'NCHW'.
 * inputAffine: as Conv2d's (a pre-activation BatchNorm-ReLU); a 1x1 stride-1 unpadded conv
 * of blocked x applies it as its tiles go, any other takes an activated copy of x first.
 */
export type BlockedConv2dOptions = Pick<Conv2dWeightOptions, 'bias' | 'activation' | 'alpha' | 'strides' | 'pads' | 'dilations' | 'inputSize' | 'inputAffine'> & {
  input?: 'NCHW' | 'NCHWc';
  output?: 'NCHW' | 'NCHWc';
};

/** BlockedConv2d.run's options: `skip` adds a residual in the epilogue (see run). */
export interface BlockedRunOptions extends OutOptions {
  skip?: ConvSkip;
}

/**
 * A convolution (groups 1, column stride 1 or 2; any kernel, row stride, dilation and
 * pads) from blocked x [N, ceil(Cin / L), H, W, L] to blocked y [N, ceil(Cout / L), Hout,
 * Wout, L] (or from NCHW x, or to NCHW y: options.input, options.output); weights OIHW
 * [Cout, Cin, kh, kw], packed once.
 */
export class BlockedConv2d {
  readonly cin: number;
  readonly cout: number;
  /** x is NCHW (options.input 'NCHW'), y blocked. */
  readonly nchwInput: boolean;
  /** y is NCHW (options.output 'NCHW'), x blocked. */
  readonly nchwOutput: boolean;
  private readonly spec: Conv2dSpec;
  private readonly handle: Conv2dHandle;

  constructor(weight: Tensor, options?: BlockedConv2dOptions) {
    const op = 'BlockedConv2d';
    const groups = options !== null && typeof options === 'object' ? (options as { groups?: unknown }).groups : undefined;
    if (groups !== undefined && groups !== 1) {
      throw rangeError(op, `the blocked layout runs convs with groups 1 only, got groups ${typeof groups === 'number' ? groups : describeValue(groups)}`);
    }
    const input = options !== null && typeof options === 'object' ? options.input ?? 'NCHWc' : 'NCHWc';
    if (input !== 'NCHW' && input !== 'NCHWc') throw typeError(op, `input must be 'NCHW' or 'NCHWc', got ${describeValue(input)}`);
    this.nchwInput = input === 'NCHW';
    const output = options !== null && typeof options === 'object' ? options.output ?? 'NCHWc' : 'NCHWc';
    if (output !== 'NCHW' && output !== 'NCHWc') throw typeError(op, `output must be 'NCHW' or 'NCHWc', got ${describeValue(output)}`);
    this.nchwOutput = output === 'NCHW';
    if (this.nchwInput && this.nchwOutput) throw rangeError(op, "input 'NCHW' and output 'NCHW' is a plain Conv2d, not a blocked one");
    // (the weight options ignore `input` and `output`)
    const spec = resolveConv2dSpec(op, weight, options === undefined ? undefined : { ...options, layout: 'NCHW' });
    if (spec.strides[1] > 2) throw rangeError(op, `the blocked layout runs column strides 1 and 2 only, got strides [${spec.strides.join(', ')}]`);
    this.spec = spec;
    this.cin = spec.cinPerGroup;
    this.cout = spec.cout;
    const [hintH, hintW] = spec.inputSize ? conv2dOutputSize(op, spec, spec.inputSize) : [0, 0];
    const params = [this.nchwInput ? 3 : this.nchwOutput ? 4 : 2, 1, spec.strides[0], spec.strides[1], spec.dilations[0], spec.dilations[1], ACTIVATION_CODES[spec.activation], spec.alpha, hintH, hintW];
    const affine = spec.inputAffine;
    this.handle = native.conv2dCreate(weight.data, weight.shape, spec.bias, params, affine?.scale ?? null, affine?.shift ?? null, affine?.relu ?? false);
  }

  /** The output shape for a blocked input of shape `xShape` (throws when x does not fit). */
  outputShape(xShape: readonly number[]): number[] {
    return this.geometry('BlockedConv2d.outputShape', xShape).outShape;
  }

  private geometry(op: string, xShape: readonly number[]): { pads: number[]; outShape: number[] } {
    const l = blockedLanes();
    const blocks = Math.ceil(this.cin / l);
    if (this.nchwInput) {
      if (xShape.length !== 4 || xShape[1] !== this.cin) throw rangeError(op, `x must be NCHW [N, ${this.cin}, H, W], got shape ${formatShape(xShape)}`);
    } else if (xShape.length !== 5 || xShape[1] !== blocks || xShape[4] !== l) {
      throw rangeError(op, `x must be [N, ${blocks}, H, W, ${l}] (${this.cin} input channels in blocks of ${l}), got shape ${formatShape(xShape)}`);
    }
    const geo = conv2dGeometry(op, this.spec, Tensor.fromUnchecked(new Float32Array(0), [xShape[0], this.cin, xShape[2], xShape[3]]));
    return { pads: geo.pads, outShape: this.nchwOutput ? geo.outShape : blockedShape(geo.outShape) };
  }

  /**
   * Convolves blocked x; writes into `options.out` when given (it must not overlap x). With
   * `options.skip` (blocked, the output's shape; out itself or disjoint from it), out =
   * act(conv + skip.skip) with skip.activation: the residual in the epilogue (the conv's own
   * activation must be 'none').
   */
  run(x: Tensor, options?: BlockedRunOptions): Tensor {
    const c = this.prepare('BlockedConv2d.run', x, options);
    native.conv2dRun(this.handle, c.x.data, c.x.shape, c.pads, c.out.data, false, undefined, c.skip, c.act, c.alpha);
    return c.out;
  }

  /** run() on the libuv pool; x, out and the skip are kept alive until it is done. */
  async runAsync(x: Tensor, options?: BlockedRunOptions): Promise<Tensor> {
    const c = this.prepare('BlockedConv2d.runAsync', x, options);
    await native.conv2dRun(this.handle, c.x.data, c.x.shape, c.pads, c.out.data, true, undefined, c.skip, c.act, c.alpha);
    return c.out;
  }

  private prepare(op: string, x: unknown, options: BlockedRunOptions | undefined) {
    const tx = checkTensor(op, 'x', x);
    const geo = this.geometry(op, tx.shape);
    const out = outputFor(op, options, geo.outShape);
    checkDisjoint(op, tx, out);
    const skip = options?.skip;
    if (skip === undefined) return { x: tx, pads: geo.pads, out, skip: null, act: 0, alpha: 0 };
    const s = checkTensor(op, 'skip.skip', skip.skip);
    if (s.shape.length !== geo.outShape.length || s.shape.some((d, i) => d !== geo.outShape[i])) {
      throw rangeError(op, `skip must have the output's shape ${formatShape(geo.outShape)}, got ${formatShape(s.shape)}`);
    }
    if (this.spec.activation !== 'none') throw rangeError(op, `a residual skip needs the conv's own activation to be 'none', got '${this.spec.activation}'`);
    if (overlaps(s, tx)) throw rangeError(op, `skip ${formatShape(s.shape)} overlaps x ${formatShape(tx.shape)}`);
    if (!Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, skip.activation)) {
      throw rangeError(op, `skip.activation must be one of ${Object.keys(ACTIVATION_CODES).join(', ')}, got ${describeValue(skip.activation)}`);
    }
    return { x: tx, pads: geo.pads, out, skip: s.data, act: ACTIVATION_CODES[skip.activation], alpha: skip.alpha ?? 0.01 };
  }

  /** @internal run() for contiguous inputs of shape xShape (see PreparedConvRun). */
  prepareRun(xShape: readonly number[], skip?: ConvSkipSpec): PreparedConvRun {
    const op = 'BlockedConv2d.prepareRun';
    return preparedConvRun(op, this.handle, xShape, this.geometry(op, xShape), this.spec.activation, skip);
  }

  /** Frees the packed weights now (see Conv2d.dispose). */
  dispose(): void {
    native.conv2dDispose(this.handle);
  }

  get algorithm(): Conv2dAlgorithm {
    return native.conv2dAlgorithm(this.handle);
  }
}
