// resize / upsampleNearest over the two spatial axes of NCHW (ONNX Resize-19 semantics for
// nearest and linear modes).
import { native } from '../native';
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensorOrView, outputFor } from './checks';
import { overlaps, stridesOf } from './views';
import type { OutOptions } from './elementwise';

export type CoordinateTransformationMode = 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel' | 'half_pixel_symmetric';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface ResizeOptions extends OutOptions {
  /** Output [h, w]; exactly one of sizes and scales. */
  sizes?: readonly [number, number];
  /** [scaleH, scaleW] > 0; the output is floor(in * scale) and coordinates divide by the scale. */
  scales?: readonly [number, number];
  mode?: 'nearest' | 'linear';
  coordinateTransformationMode?: CoordinateTransformationMode;
  nearestMode?: NearestMode;
}

const MODES = ['nearest', 'linear'];
const COORD_MODES = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'half_pixel_symmetric'];
const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

function choice(op: string, name: string, value: unknown, allowed: string[], fallback: string): number {
  if (value === undefined) return allowed.indexOf(fallback);
  const i = typeof value === 'string' ? allowed.indexOf(value) : -1;
  if (i < 0) throw (typeof value === 'string' ? rangeError : typeError)(op, `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`);
  return i;
}

function pair(op: string, name: string, value: unknown, check: (v: number) => boolean, what: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw typeError(op, `${name} must be an array [h, w], got ${describeValue(value)}`);
  value.forEach((v: unknown, i) => {
    if (typeof v !== 'number') throw typeError(op, `${name}[${i}] must be a number, got ${describeValue(v)}`);
    if (!check(v)) throw rangeError(op, `${name}[${i}] must be ${what}, got ${v}`);
  });
  return [value[0], value[1]];
}

interface ResizeCall {
  x: Tensor;
  out: Tensor;
  size: number[];
  scales: number[];
  modes: [number, number, number];
  /** [x, out] batch strides when either is a strided view. */
  strides: number[] | undefined;
}

function prepare(op: string, x: unknown, o: ResizeOptions, modes: [number, number, number]): ResizeCall {
  const tx = checkTensorOrView(op, 'x', x);
  if (tx.shape.length !== 4) throw rangeError(op, `x must be NCHW (rank 4), got ${formatShape(tx.shape)}`);
  const [n, c, h, w] = tx.shape;
  let size: [number, number], scales: [number, number];
  if ((o.sizes === undefined) === (o.scales === undefined)) throw typeError(op, 'give exactly one of sizes and scales');
  if (o.sizes !== undefined) {
    size = pair(op, 'sizes', o.sizes, (v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer');
    scales = [size[0] / h, size[1] / w];
  } else {
    scales = pair(op, 'scales', o.scales, (v) => v > 0 && Number.isFinite(v), 'finite and > 0');
    size = [Math.floor(h * scales[0]), Math.floor(w * scales[1])];
  }
  if ((size[0] > 0 && h === 0) || (size[1] > 0 && w === 0)) {
    throw rangeError(op, `cannot resize x ${formatShape(tx.shape)} with an empty spatial axis to [${size.join(',')}]`);
  }
  // An empty input axis gives a 0 / 0 scale; the kernel never reads it (the output is empty).
  scales = scales.map((s) => (Number.isFinite(s) && s > 0 ? s : 1)) as [number, number];
  const out = outputFor(op, o, [n, c, size[0], size[1]], true);
  if (overlaps(out, tx)) throw rangeError(op, `out overlaps x ${formatShape(tx.shape)}`);
  return { x: tx, out, size, scales, modes, strides: tx.isContiguous && out.isContiguous ? undefined : stridesOf([tx, out]) };
}

function resizeCall(op: string, x: unknown, options: unknown): ResizeCall {
  if (options === null || typeof options !== 'object') throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  const o = options as ResizeOptions;
  const modes: [number, number, number] = [
    choice(op, 'mode', o.mode, MODES, 'nearest'),
    choice(op, 'coordinateTransformationMode', o.coordinateTransformationMode, COORD_MODES, 'half_pixel'),
    choice(op, 'nearestMode', o.nearestMode, NEAREST_MODES, 'round_prefer_floor'),
  ];
  return prepare(op, x, o, modes);
}

export type UpsampleScale = number | readonly [number, number] | { size: readonly [number, number] };

function upsampleCall(op: string, x: unknown, scale: unknown, options: OutOptions | undefined): ResizeCall {
  // PyTorch nearest / ONNX Upsample: source index = floor(dst / scale).
  const modes: [number, number, number] = [0, COORD_MODES.indexOf('asymmetric'), NEAREST_MODES.indexOf('floor')];
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw typeError(op, `options must be an object, got ${describeValue(options)}`);
  }
  const out = options?.out;
  if (typeof scale === 'number') return prepare(op, x, { scales: [scale, scale], out }, modes);
  if (Array.isArray(scale)) return prepare(op, x, { scales: scale as [number, number], out }, modes);
  if (scale !== null && typeof scale === 'object' && 'size' in scale) {
    return prepare(op, x, { sizes: (scale as { size: [number, number] }).size, out }, modes);
  }
  throw typeError(op, `scale must be a number, [h, w] or { size: [h, w] }, got ${describeValue(scale)}`);
}

function runSync(c: ResizeCall): Tensor {
  native.resize(c.x.data, c.x.shape, c.size, c.scales, ...c.modes, c.out.data, false, c.strides);
  return c.out;
}

async function runAsync(c: ResizeCall): Promise<Tensor> {
  await native.resize(c.x.data, c.x.shape, c.size, c.scales, ...c.modes, c.out.data, true, c.strides);
  return c.out;
}

/** Resizes the H and W axes of an NCHW tensor (nearest or bilinear, ONNX Resize-19 coordinates). */
export function resize(x: Tensor, options: ResizeOptions): Tensor {
  return runSync(resizeCall('resize', x, options));
}

/** resize() on the libuv thread pool. */
export async function resizeAsync(x: Tensor, options: ResizeOptions): Promise<Tensor> {
  return runAsync(resizeCall('resizeAsync', x, options));
}

/** Nearest upsampling by `scale` (one number or [h, w]) or to `{ size: [h, w] }`; source = floor(dst / scale). */
export function upsampleNearest(x: Tensor, scale: UpsampleScale, options?: OutOptions): Tensor {
  return runSync(upsampleCall('upsampleNearest', x, scale, options));
}

/** upsampleNearest() on the libuv thread pool. */
export async function upsampleNearestAsync(x: Tensor, scale: UpsampleScale, options?: OutOptions): Promise<Tensor> {
  return runAsync(upsampleCall('upsampleNearestAsync', x, scale, options));
}
