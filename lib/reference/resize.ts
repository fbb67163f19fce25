// Reference Resize over the two spatial axes of NCHW (ONNX Resize-19, nearest and linear),
// written after the ONNX reference implementation: each output coordinate maps to an input
// coordinate x; the two input positions bracketing x (on an edge-padded axis) are combined
// with per-mode coefficients, one axis at a time (H over W-interpolated rows).
import type { RefResult, RefTensor } from './elementwise';

export type RefCoordMode = 'half_pixel' | 'asymmetric' | 'align_corners' | 'pytorch_half_pixel' | 'half_pixel_symmetric';
export type RefNearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface RefResizeOptions {
  sizes?: readonly [number, number];
  scales?: readonly [number, number];
  mode?: 'nearest' | 'linear';
  coordinateTransformationMode?: RefCoordMode;
  nearestMode?: RefNearestMode;
}

function originalCoord(x: number, scale: number, inLen: number, outLen: number, mode: RefCoordMode): number {
  const outWidth = scale * inLen;
  switch (mode) {
    case 'asymmetric':
      return x / scale;
    case 'align_corners':
      return outWidth === 1 ? 0 : (x * (inLen - 1)) / (outWidth - 1);
    case 'pytorch_half_pixel':
      return outLen === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = outLen / outWidth;
      const center = inLen / 2;
      return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
    }
    default:
      return (x + 0.5) / scale - 0.5;
  }
}

function coefficients(ratio: number, mode: 'nearest' | 'linear', nearest: RefNearestMode): [number, number] {
  if (mode === 'linear') return [1 - ratio, ratio];
  if (Number.isInteger(ratio)) return [0, 1];
  switch (nearest) {
    case 'round_prefer_ceil': return ratio < 0.5 ? [1, 0] : [0, 1];
    case 'floor': return [1, 0];
    case 'ceil': return [0, 1];
    default: return ratio <= 0.5 ? [1, 0] : [0, 1];
  }
}

/** Interpolates the 1-D `line` at output index `i`. */
function interpolate1d(line: number[], i: number, scale: number, outLen: number, o: Required<Omit<RefResizeOptions, 'sizes' | 'scales'>>): number {
  const n = line.length;
  const x = originalCoord(i, scale, n, outLen, o.coordinateTransformationMode);
  const xi = Math.floor(x);
  const ratio = Number.isInteger(x) ? 1 : x - xi;
  const c = coefficients(ratio, o.mode, o.nearestMode);
  // The two positions bracketing x (x - 1 and x when x is integral), read with edge padding.
  const [a, b] = Number.isInteger(x) ? [x - 1, x] : [xi, xi + 1];
  const at = (k: number): number => line[Math.min(Math.max(k, 0), n - 1)];
  // A zero coefficient drops its term (so 0 * Infinity never makes a NaN out of nothing).
  if (c[1] === 0) return c[0] * at(a);
  if (c[0] === 0) return c[1] * at(b);
  return c[0] * at(a) + c[1] * at(b);
}

export function resize(x: RefTensor, options: RefResizeOptions): RefResult {
  const [n, ch, h, w] = x.shape;
  const o = {
    mode: options.mode ?? 'nearest',
    coordinateTransformationMode: options.coordinateTransformationMode ?? 'half_pixel',
    nearestMode: options.nearestMode ?? 'round_prefer_floor',
  };
  let oh: number, ow: number, sh: number, sw: number;
  if (options.sizes) {
    [oh, ow] = options.sizes;
    sh = oh / h;
    sw = ow / w;
  } else {
    [sh, sw] = options.scales!;
    oh = Math.floor(h * sh);
    ow = Math.floor(w * sw);
  }
  const data = new Float32Array(n * ch * oh * ow);
  for (let p = 0; p < n * ch; p++) {
    const rows: number[][] = [];
    for (let r = 0; r < h; r++) rows.push(Array.from(x.data.subarray((p * h + r) * w, (p * h + r + 1) * w)));
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const column = rows.map((row) => interpolate1d(row, ox, sw, ow, o));
        data[(p * oh + oy) * ow + ox] = interpolate1d(column, oy, sh, oh, o);
      }
    }
  }
  return { data, shape: [n, ch, oh, ow] };
}

/** Nearest-neighbour upsampling as PyTorch / ONNX Upsample: source = floor(dst / scale). */
export function upsampleNearest(x: RefTensor, scaleOrSize: number | readonly [number, number] | { size: readonly [number, number] }): RefResult {
  const [, , h, w] = x.shape;
  if (typeof scaleOrSize === 'object' && 'size' in scaleOrSize) {
    return resize(x, { sizes: scaleOrSize.size, coordinateTransformationMode: 'asymmetric', nearestMode: 'floor' });
  }
  const [sh, sw] = typeof scaleOrSize === 'number' ? [scaleOrSize, scaleOrSize] : scaleOrSize;
  const oh = Math.floor(h * sh), ow = Math.floor(w * sw);
  const data = new Float32Array(x.shape[0] * x.shape[1] * oh * ow);
  for (let p = 0; p < x.shape[0] * x.shape[1]; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const iy = Math.min(Math.floor(oy / sh), h - 1), ix = Math.min(Math.floor(ox / sw), w - 1);
        data[(p * oh + oy) * ow + ox] = x.data[(p * h + iy) * w + ix];
      }
    }
  }
  return { data, shape: [x.shape[0], x.shape[1], oh, ow] };
}
