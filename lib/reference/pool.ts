// Reference pooling: 2-D max and average pooling (ONNX MaxPool / AveragePool, NCHW or
// NHWC), global pooling and LRN, every window position checked one by one in doubles.
import type { RefResult, RefTensor } from './elementwise';

export interface RefPoolOptions {
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  ceilMode?: boolean;
  layout?: 'NCHW' | 'NHWC';
  /** maxPool2d: NaN never wins (TF.js); default: NaN wins (ONNX). */
  ignoreNaN?: boolean;
  /** avgPool2d: divide by the taps inside the input and its explicit pads. */
  countIncludePad?: boolean;
}

function outLength(size: number, k: number, s: number, p0: number, p1: number, d: number, ceil: boolean): number {
  const extent = d * (k - 1) + 1;
  const exact = (size + p0 + p1 - extent) / s;
  let out = (ceil ? Math.ceil(exact) : Math.floor(exact)) + 1;
  // A window may not start in the end padding (PyTorch / ONNX reference rule).
  if (ceil && (out - 1) * s >= size + p0) out--;
  return Math.max(out, 0);
}

/** Every size of an NCHW pooling, the option defaults applied. */
function geometry(x: RefTensor, o: RefPoolOptions) {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.strides ?? [1, 1];
  const [pt, pl, pb, pr] = o.pads ?? [0, 0, 0, 0];
  const [dh, dw] = o.dilations ?? [1, 1];
  const oh = outLength(h, kh, sh, pt, pb, dh, !!o.ceilMode);
  const ow = outLength(w, kw, sw, pl, pr, dw, !!o.ceilMode);
  return { n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow };
}

/** [n, h, w, c] <-> [n, c, h, w] (perm [0, 3, 1, 2]) and back ([0, 2, 3, 1]). */
function permute4(x: RefTensor, perm: readonly number[]): RefResult {
  const shape = perm.map((p) => x.shape[p]);
  const inStrides = [x.shape[1] * x.shape[2] * x.shape[3], x.shape[2] * x.shape[3], x.shape[3], 1];
  const data = new Float32Array(x.data.length);
  let o = 0;
  for (let a = 0; a < shape[0]; a++) {
    for (let b = 0; b < shape[1]; b++) {
      for (let c = 0; c < shape[2]; c++) {
        for (let d = 0; d < shape[3]; d++) {
          const idx = [a, b, c, d];
          let i = 0;
          for (let k = 0; k < 4; k++) i += idx[k] * inStrides[perm[k]];
          data[o++] = x.data[i];
        }
      }
    }
  }
  return { data, shape };
}

/** Runs an NCHW pooling on an NHWC tensor by transposing in and out. */
function inLayout(x: RefTensor, o: RefPoolOptions, nchw: (x: RefTensor) => RefResult): RefResult {
  if (o.layout !== 'NHWC') return nchw(x);
  return permute4(nchw(permute4(x, [0, 3, 1, 2])), [0, 2, 3, 1]);
}

export function maxPool2d(x: RefTensor, o: RefPoolOptions): RefResult {
  return inLayout(x, o, (t) => maxPool2dNchw(t, o));
}

function maxPool2dNchw(x: RefTensor, o: RefPoolOptions): RefResult {
  const { n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow } = geometry(x, o);
  const data = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh - pt + ky * dh;
            const ix = ox * sw - pl + kx * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x.data[(p * h + iy) * w + ix];
            if (o.ignoreNaN) {
              if (v > m) m = v;
            } else if (Number.isNaN(v) || v > m) {
              m = Number.isNaN(m) ? m : v;
            }
          }
        }
        data[(p * oh + oy) * ow + ox] = m;
      }
    }
  }
  return { data, shape: [n, c, oh, ow] };
}

/**
 * ONNX AveragePool as onnxruntime computes it: the sum over the window's taps inside the
 * input, divided by the number of those taps, or (countIncludePad) of the taps inside the
 * input and its explicit pads; taps past the end pad (ceil mode) never count. 0 / 0 = NaN.
 */
export function avgPool2d(x: RefTensor, o: RefPoolOptions): RefResult {
  return inLayout(x, o, (t) => avgPool2dNchw(t, o));
}

function avgPool2dNchw(x: RefTensor, o: RefPoolOptions): RefResult {
  const { n, c, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, oh, ow } = geometry(x, o);
  const data = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh - pt + ky * dh;
            const ix = ox * sw - pl + kx * dw;
            const inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
            if (inside) sum += x.data[(p * h + iy) * w + ix];
            const inPads = iy >= -pt && iy < h + pb && ix >= -pl && ix < w + pr;
            if (o.countIncludePad ? inPads : inside) count++;
          }
        }
        data[(p * oh + oy) * ow + ox] = sum / count;
      }
    }
  }
  return { data, shape: [n, c, oh, ow] };
}

/** Global average or max pooling: [N, C, ...spatial] -> [N, C, 1, ...] (max: NaN wins). */
export function globalPool(x: RefTensor, kind: 'avg' | 'max'): RefResult {
  const [n, c, ...spatial] = x.shape;
  const inner = spatial.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n * c);
  for (let p = 0; p < n * c; p++) {
    let acc = kind === 'avg' ? 0 : -Infinity;
    for (let i = 0; i < inner; i++) {
      const v = x.data[p * inner + i];
      if (kind === 'avg') acc += v;
      else if (Number.isNaN(v) || v > acc) acc = Number.isNaN(acc) ? acc : v;
    }
    data[p] = kind === 'avg' ? acc / inner : acc;
  }
  return { data, shape: [n, c, ...spatial.map(() => 1)] };
}

export interface RefLrnOptions {
  size: number;
  alpha?: number;
  beta?: number;
  bias?: number;
}

/** ONNX LRN: x / (bias + alpha / size * sum of x^2 over channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta. */
export function lrn(x: RefTensor, o: RefLrnOptions): RefResult {
  const [n, c, ...spatial] = x.shape;
  const inner = spatial.reduce((p, d) => p * d, 1);
  const alpha = o.alpha ?? 1e-4, beta = o.beta ?? 0.75, bias = o.bias ?? 1;
  const before = Math.floor((o.size - 1) / 2), after = Math.ceil((o.size - 1) / 2);
  const data = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let i = 0; i < inner; i++) {
        let sq = 0;
        for (let j = Math.max(0, k - before); j <= Math.min(c - 1, k + after); j++) {
          const v = x.data[(b * c + j) * inner + i];
          sq += v * v;
        }
        const at = (b * c + k) * inner + i;
        data[at] = x.data[at] / Math.pow(bias + (alpha / o.size) * sq, beta);
      }
    }
  }
  return { data, shape: x.shape.slice() };
}
