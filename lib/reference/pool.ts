// Reference 2-D max pooling (ONNX MaxPool): every window position checked one by one.
import type { RefResult, RefTensor } from './elementwise';

export interface RefPoolOptions {
  kernel: readonly [number, number];
  strides?: readonly [number, number];
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  ceilMode?: boolean;
}

function outLength(size: number, k: number, s: number, p0: number, p1: number, d: number, ceil: boolean): number {
  const extent = d * (k - 1) + 1;
  const exact = (size + p0 + p1 - extent) / s;
  let out = (ceil ? Math.ceil(exact) : Math.floor(exact)) + 1;
  // A window may not start in the end padding (PyTorch / ONNX reference rule).
  if (ceil && (out - 1) * s >= size + p0) out--;
  return Math.max(out, 0);
}

export function maxPool2d(x: RefTensor, o: RefPoolOptions): RefResult {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = o.kernel;
  const [sh, sw] = o.strides ?? [1, 1];
  const [pt, pl, pb, pr] = o.pads ?? [0, 0, 0, 0];
  const [dh, dw] = o.dilations ?? [1, 1];
  const oh = outLength(h, kh, sh, pt, pb, dh, !!o.ceilMode);
  const ow = outLength(w, kw, sw, pl, pr, dw, !!o.ceilMode);
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
            if (Number.isNaN(v) || v > m) m = Number.isNaN(m) ? m : v;
          }
        }
        data[(p * oh + oy) * ow + ox] = m;
      }
    }
  }
  return { data, shape: [n, c, oh, ow] };
}
