// channelAffine: x * scale[c] + shift[c] per channel of contiguous [N, C, ...] data (or, with
// layout 'NHWC', of data whose last dim is the channels), then ReLU on request, in one native
// pass (an inference BatchNormalization, alone or with its ReLU). `out` may be x itself.
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor, outputFor } from './checks';
import { checkInPlace } from './activation';

export interface ChannelAffineOptions {
  /** 'none' (the default) or 'relu' (max(0, .) after the affine). */
  activation?: 'none' | 'relu';
  /** 'NCHW' (the default: channels are dim 1) or 'NHWC' (channels are the last dim). */
  layout?: 'NCHW' | 'NHWC';
  out?: Tensor;
}

interface AffineCall {
  x: Tensor;
  out: Tensor;
  dims: [number, number, number];
  relu: boolean;
}

function affineCall(op: string, x: unknown, scale: unknown, shift: unknown, options: ChannelAffineOptions | undefined): AffineCall {
  const tx = checkTensor(op, 'x', x);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  const layout = options?.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC') throw rangeError(op, `layout must be 'NCHW' or 'NHWC', got ${describeValue(layout)}`);
  const rank = tx.shape.length;
  if (rank < 2) throw rangeError(op, `x must be [N, C, ...] or, NHWC, [N, ..., C] (rank >= 2), got shape ${formatShape(tx.shape)}`);
  const c = layout === 'NCHW' ? tx.shape[1] : tx.shape[rank - 1];
  for (const [name, v] of [['scale', scale], ['shift', shift]] as const) {
    if (!(v instanceof Float32Array)) throw typeError(op, `${name} must be a Float32Array, got ${describeValue(v)}`);
    if (v.length !== c) throw rangeError(op, `${name} has ${v.length} values but x ${formatShape(tx.shape)} has ${c} channels (${layout})`);
  }
  const activation = options?.activation ?? 'none';
  if (activation !== 'none' && activation !== 'relu') throw rangeError(op, `activation must be 'none' or 'relu', got ${describeValue(activation)}`);
  const out = outputFor(op, options, tx.shape, false);
  checkInPlace(op, out, tx);
  // The native pass takes [outer, C, inner]: NCHW [N, C, HW], channels last [rows, C, 1].
  const n = layout === 'NCHW' ? tx.shape[0] : (c === 0 ? 0 : tx.size / c);
  const inner = layout === 'NHWC' ? 1 : c === 0 || n === 0 ? 0 : tx.size / (n * c);
  return { x: tx, out, dims: [n, c, inner], relu: activation === 'relu' };
}

/**
 * x * scale[c] + shift[c] for every channel c of x: [N, C, ...], or [N, ..., C] with layout
 * 'NHWC' (then max(0, .) with activation 'relu').
 */
export function channelAffine(x: Tensor, scale: Float32Array, shift: Float32Array, options?: ChannelAffineOptions): Tensor {
  const c = affineCall('channelAffine', x, scale, shift, options);
  native.channelAffine(c.x.data, c.dims[0], c.dims[1], c.dims[2], scale, shift, c.relu, c.out.data, false);
  return c.out;
}

/** channelAffine() on the libuv thread pool. */
export async function channelAffineAsync(x: Tensor, scale: Float32Array, shift: Float32Array, options?: ChannelAffineOptions): Promise<Tensor> {
  const c = affineCall('channelAffineAsync', x, scale, shift, options);
  await native.channelAffine(c.x.data, c.dims[0], c.dims[1], c.dims[2], scale, shift, c.relu, c.out.data, true);
  return c.out;
}
