// Reference relu / sigmoid / softmax: straightforward float64 loops, the test oracle.
import type { RefResult, RefTensor } from './elementwise';

function map(x: RefTensor, f: (v: number) => number): RefResult {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = f(x.data[i]);
  return { data, shape: [...x.shape] };
}

export function relu(x: RefTensor): RefResult {
  return map(x, (v) => (Number.isNaN(v) ? v : v > 0 ? v : 0));
}

/** min(max(v, lo), hi); NaN stays NaN. */
export function clip(x: RefTensor, lo: number, hi: number): RefResult {
  return map(x, (v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi)));
}

/** v < 0 ? alpha * v : v; NaN stays NaN. */
export function leakyRelu(x: RefTensor, alpha: number): RefResult {
  return map(x, (v) => (v < 0 ? alpha * v : v));
}

export function sigmoid(x: RefTensor): RefResult {
  return map(x, (v) => 1 / (1 + Math.exp(-v)));
}

/** Softmax along `axis` (negative counts from the end), subtracting the max first. */
export function softmax(x: RefTensor, axis = -1): RefResult {
  const rank = x.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  const len = x.shape[ax];
  let outer = 1;
  for (let k = 0; k < ax; k++) outer *= x.shape[k];
  let inner = 1;
  for (let k = ax + 1; k < rank; k++) inner *= x.shape[k];
  const data = new Float32Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (a: number): number => (o * len + a) * inner + i;
      let max = -Infinity;
      for (let a = 0; a < len; a++) max = Number.isNaN(x.data[at(a)]) ? NaN : Math.max(max, x.data[at(a)]);
      let sum = 0;
      for (let a = 0; a < len; a++) sum += Math.exp(x.data[at(a)] - max);
      for (let a = 0; a < len; a++) data[at(a)] = Math.exp(x.data[at(a)] - max) / sum;
    }
  }
  return { data, shape: [...x.shape] };
}
