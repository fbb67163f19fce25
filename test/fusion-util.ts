// Shared by the fusion tests: uniform random tensors and weights, and a closeness check
// whose tolerance grows with the reduction length behind each output.
import * as assert from 'assert';
import { Tensor } from '../lib';
import { rng } from './helpers';

/** Uniform values in [-scale, scale). */
export function uniformTensor(shape: readonly number[], seed: number, scale = 1): Tensor {
  const r = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return Tensor.from(a, shape);
}

/** An OIHW weight scaled by 1 / sqrt(fan-in), so activations stay O(1) through a chain. */
export function weightTensor(cout: number, cin: number, kh: number, kw: number, seed: number): Tensor {
  return uniformTensor([cout, cin, kh, kw], seed, 1 / Math.sqrt(cin * kh * kw));
}

/** float32 error of a K-term dot product of O(1) values (K = reduction length, summed over a chain). */
export function tolFor(k: number): number {
  return 2e-6 + 1.5e-7 * k;
}

/**
 * Winograd F(4x4, 3x3)'s rounding error is ~15x F(2x2)'s: its transforms scale values by up
 * to 8 and 5 before the products cancel. Against the float64 oracle on 80 random convs (Cin
 * 8-17, 42-50 maps), relative to tolFor: median 1.4x, 90th percentile 2.1x, worst 3.2x (the
 * worst elements are outputs near 0: 4e-5 off on terms of magnitude ~3); F(2x2) stays under
 * 0.1x. Tests of that path allow this multiple of tolFor.
 */
export const WINOGRAD4_TOLERANCE_SCALE = 6;

export interface ShapedData {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Same shape, and |a - e| <= tol * (1 + |e|) everywhere. */
export function expectNear(actual: ShapedData, expected: ShapedData, tol: number, label = ''): void {
  const p = label ? `${label}: ` : '';
  assert.deepStrictEqual([...actual.shape], [...expected.shape], `${p}shape`);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i], e = expected.data[i];
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${p}element ${i} of [${expected.shape.join(',')}] is ${a}, expected ${e} (tolerance ${tol})`);
    }
  }
}

export interface AsffTestWeights {
  compressLevel0?: { weight: Tensor; bias: Tensor };
  compressLevel1?: { weight: Tensor; bias: Tensor };
  strideLevel1?: { weight: Tensor; bias: Tensor };
  strideLevel2?: { weight: Tensor; bias: Tensor };
  weightLevel: [{ weight: Tensor; bias: Tensor }, { weight: Tensor; bias: Tensor }, { weight: Tensor; bias: Tensor }];
  weightLevels: { weight: Tensor; bias: Tensor };
  expand: { weight: Tensor; bias: Tensor };
}

/**
 * Random folded-BN weights for ASFF at `level` over levels with channels `c` (inter = c[level],
 * as the reference's dim[level]). compressLevel1 is added at level 2 when c[1] != inter or
 * when `compress1` asks for it.
 */
export function asffTestWeights(level: 0 | 1 | 2, c: readonly [number, number, number], compressC: number, outC: number, seed: number, compress1 = false): AsffTestWeights {
  const inter = c[level];
  let s = seed;
  const cw = (cout: number, cin: number, k: number) => ({ weight: weightTensor(cout, cin, k, k, s++), bias: uniformTensor([cout], s++, 0.1) });
  const w: AsffTestWeights = {
    weightLevel: [cw(compressC, inter, 1), cw(compressC, inter, 1), cw(compressC, inter, 1)],
    weightLevels: cw(3, 3 * compressC, 1),
    expand: cw(outC, inter, 3),
  };
  if (level === 0) {
    w.strideLevel1 = cw(inter, c[1], 3);
    w.strideLevel2 = cw(inter, c[2], 3);
  } else if (level === 1) {
    w.compressLevel0 = cw(inter, c[0], 1);
    w.strideLevel2 = cw(inter, c[2], 3);
  } else {
    w.compressLevel0 = cw(inter, c[0], 1);
    if (compress1 || c[1] !== inter) w.compressLevel1 = cw(inter, c[1], 1);
  }
  return w;
}

/** The reduction length along ASFF's longest chain (for the tolerance). */
export function asffChainK(c: readonly number[], level: number, compressC: number): number {
  const inter = c[level];
  return 9 * Math.max(...c) + inter + 3 * compressC + 9 * inter + 16;
}
