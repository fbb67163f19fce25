// FALLBACKS: plain-TypeScript kernels for the ONNX ops that have no native tensorfuse
// kernel yet (MatMul, Transpose, the per-channel affine that BatchNormalization becomes
// when it cannot be folded into a conv, LeakyRelu/Clip, and softmax over a flattened axis). They are correct and reasonably
// tight loops, not SIMD: each is a candidate for a native kernel. Everything else the ONNX
// runtime runs goes through lib/ops (conv2d via prepacked Conv2d, add, mul, concat, relu,
// sigmoid, softmax, maxPool2d, avgPool2d, globalAvgPool/globalMaxPool, lrn, resize, slice).
import { Tensor } from '../../tensor';

export type Activation = 'none' | 'relu' | 'relu6' | 'sigmoid' | 'leakyRelu' | 'clip';

export interface ActivationSpec {
  kind: Activation;
  alpha?: number;
  min?: number;
  max?: number;
}

/** y = act(x * scale[c] + shift[c]) over NC... (channel axis 1). out may be x. */
export function channelAffine(x: Tensor, scale: Float32Array | null, shift: Float32Array | null, act: ActivationSpec, out: Tensor): void {
  const [n, c] = [x.shape[0], x.shape[1]];
  let inner = 1;
  for (let i = 2; i < x.shape.length; i++) inner *= x.shape[i];
  const src = x.data, dst = out.data;
  const lo = act.kind === 'relu' || act.kind === 'relu6' ? 0 : act.kind === 'clip' ? act.min ?? -Infinity : -Infinity;
  const hi = act.kind === 'relu6' ? 6 : act.kind === 'clip' ? act.max ?? Infinity : Infinity;
  const alpha = act.alpha ?? 0.01;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const s = scale ? scale[ch] : 1, t = shift ? shift[ch] : 0;
      const base = (b * c + ch) * inner;
      const end = base + inner;
      if (act.kind === 'none') {
        for (let i = base; i < end; i++) dst[i] = src[i] * s + t;
      } else if (act.kind === 'leakyRelu') {
        for (let i = base; i < end; i++) { const v = src[i] * s + t; dst[i] = v < 0 ? v * alpha : v; }
      } else if (act.kind === 'sigmoid') {
        for (let i = base; i < end; i++) dst[i] = 1 / (1 + Math.exp(-(src[i] * s + t)));
      } else {
        for (let i = base; i < end; i++) dst[i] = Math.min(Math.max(src[i] * s + t, lo), hi);  // as activation()
      }
    }
  }
}

/** Element-wise activation (LeakyRelu, Clip and friends). out may be x. */
export function activation(x: Tensor, act: ActivationSpec, out: Tensor): void {
  const src = x.data, dst = out.data, n = src.length;
  switch (act.kind) {
    case 'none':
      if (dst !== src) dst.set(src);
      return;
    case 'leakyRelu': {
      const a = act.alpha ?? 0.01;
      for (let i = 0; i < n; i++) { const v = src[i]; dst[i] = v < 0 ? v * a : v; }
      return;
    }
    case 'sigmoid':
      for (let i = 0; i < n; i++) dst[i] = 1 / (1 + Math.exp(-src[i]));
      return;
    default: {
      const lo = act.kind === 'clip' ? act.min ?? -Infinity : 0;
      const hi = act.kind === 'relu6' ? 6 : act.kind === 'clip' ? act.max ?? Infinity : Infinity;
      // NaN passes through; min > max gives max everywhere (NumPy's clip, ONNX's reference)
      for (let i = 0; i < n; i++) dst[i] = Math.min(Math.max(src[i], lo), hi);
    }
  }
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

/** General N-d transpose (out[i...] = x[perm-permuted i...]). */
export function transpose(x: Tensor, perm: readonly number[], out: Tensor): void {
  const rank = perm.length;
  const os = out.shape;
  const is = stridesOf(x.shape);
  const src = x.data, dst = out.data;
  // Iterate the output in order; the innermost output axis walks the input with a fixed stride.
  const inStride = perm.map((p) => is[p]);
  const inner = rank > 0 ? os[rank - 1] : 1;
  const innerStride = rank > 0 ? inStride[rank - 1] : 1;
  const outerCount = out.size / Math.max(1, inner);
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  let o = 0;
  for (let it = 0; it < outerCount; it++) {
    let base = 0;
    for (let k = 0; k < rank - 1; k++) base += idx[k] * inStride[k];
    for (let i = 0; i < inner; i++) dst[o++] = src[base + i * innerStride];
    for (let k = rank - 2; k >= 0; k--) {
      if (++idx[k] < os[k]) break;
      idx[k] = 0;
    }
  }
}

/**
 * Batched matmul with NumPy broadcasting over the batch dims: a [..., M, K] x b [..., K, N].
 * Rank-1 operands are promoted as in numpy.matmul. Rows are accumulated in float64.
 */
export function matmul(a: Tensor, b: Tensor, out: Tensor): void {
  const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape.slice();
  const bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape.slice();
  const m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
  const ab = as.slice(0, -2), bb = bs.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = ab[i - (rank - ab.length)] ?? 1, db = bb[i - (rank - bb.length)] ?? 1;
    batch.push(Math.max(da, db));
  }
  const total = batch.reduce((p, d) => p * d, 1);
  const bsA = stridesOf(ab), bsB = stridesOf(bb), bsO = stridesOf(batch);
  const A = a.data, B = b.data, C = out.data;
  const acc = new Float64Array(n);
  for (let t = 0; t < total; t++) {
    let offA = 0, offB = 0;
    for (let i = 0; i < rank; i++) {
      const coord = Math.floor(t / bsO[i]) % batch[i];
      const ia = i - (rank - ab.length), ib = i - (rank - bb.length);
      if (ia >= 0 && ab[ia] !== 1) offA += coord * bsA[ia];
      if (ib >= 0 && bb[ib] !== 1) offB += coord * bsB[ib];
    }
    offA *= m * k;
    offB *= k * n;
    const offC = t * m * n;
    for (let i = 0; i < m; i++) {
      acc.fill(0);
      for (let p = 0; p < k; p++) {
        const av = A[offA + i * k + p];
        const row = offB + p * n;
        for (let j = 0; j < n; j++) acc[j] += av * B[row + j];
      }
      for (let j = 0; j < n; j++) C[offC + i * n + j] = acc[j];
    }
  }
}

/** Softmax over the flattened trailing dims from `axis` on (ONNX Softmax before opset 13). */
export function softmax2d(x: Tensor, axis: number, out: Tensor): void {
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= x.shape[i];
  const inner = x.size / Math.max(1, outer);
  const src = x.data, dst = out.data;
  for (let o = 0; o < outer; o++) {
    const b = o * inner;
    let m = -Infinity;
    for (let i = 0; i < inner; i++) if (src[b + i] > m) m = src[b + i];
    let s = 0;
    for (let i = 0; i < inner; i++) { const e = Math.exp(src[b + i] - m); dst[b + i] = e; s += e; }
    const inv = 1 / s;
    for (let i = 0; i < inner; i++) dst[b + i] *= inv;
  }
}
