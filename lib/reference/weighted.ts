// Reference weighted sum: out[n,c,h,w] = sum_i inputs[i][n,c,h,w] * weights[i][n,0,h,w].
import type { RefResult, RefTensor } from './elementwise';

export function weightedSum(inputs: readonly RefTensor[], weights: readonly RefTensor[]): RefResult {
  const [n, c, h, w] = inputs[0].shape;
  const data = new Float32Array(inputs[0].data.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        let s = 0;
        for (let i = 0; i < inputs.length; i++) s += inputs[i].data[(b * c + ch) * h * w + p] * weights[i].data[b * h * w + p];
        data[(b * c + ch) * h * w + p] = s;
      }
    }
  }
  return { data, shape: [...inputs[0].shape] };
}
