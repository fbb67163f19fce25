// Reference conv2d: the direct seven-loop definition in float64, both layouts and every
// option. The oracle in tests, never the fast path.
import { Tensor } from '../tensor';
import { Conv2dActivation, Conv2dOptions, conv2dGeometry, resolveConv2dSpec } from '../ops/conv2d-options';

export function activationRef(v: number, activation: Conv2dActivation, alpha: number): number {
  switch (activation) {
    case 'none': return v;
    case 'relu': return v > 0 ? v : 0;
    case 'relu6': return Math.min(Math.max(v, 0), 6);
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
    case 'silu': return v / (1 + Math.exp(-v));
    case 'leakyRelu': return v >= 0 ? v : alpha * v;
  }
}

export function conv2dRef(x: Tensor, weight: Tensor, options?: Conv2dOptions): Tensor {
  const spec = resolveConv2dSpec('conv2dRef', weight, options);
  const geo = conv2dGeometry('conv2dRef', spec, x);
  const nchw = spec.layout === 'NCHW';
  const { n: batch, cin, h, w, pads } = geo;
  const { cout, cinPerGroup, kh, kw, groups } = spec;
  const [sh, sw] = spec.strides;
  const [dh, dw] = spec.dilations;
  const [hout, wout] = nchw ? [geo.outShape[2], geo.outShape[3]] : [geo.outShape[1], geo.outShape[2]];
  const coutG = cout / groups;
  const xAt = nchw
    ? (n: number, c: number, i: number, j: number) => x.data[((n * cin + c) * h + i) * w + j]
    : (n: number, c: number, i: number, j: number) => x.data[((n * h + i) * w + j) * cin + c];
  const wAt = nchw
    ? (co: number, ci: number, i: number, j: number) => weight.data[((co * cinPerGroup + ci) * kh + i) * kw + j]
    : (co: number, ci: number, i: number, j: number) => weight.data[((i * kw + j) * cinPerGroup + ci) * cout + co];
  const yIndex = nchw
    ? (n: number, co: number, i: number, j: number) => ((n * cout + co) * hout + i) * wout + j
    : (n: number, co: number, i: number, j: number) => ((n * hout + i) * wout + j) * cout + co;
  const y = new Float32Array(geo.outShape.reduce((p, d) => p * d, 1));
  for (let n = 0; n < batch; n++) {
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oh = 0; oh < hout; oh++) {
        for (let ow = 0; ow < wout; ow++) {
          let s = spec.bias ? spec.bias[co] : 0;
          for (let ci = 0; ci < cinPerGroup; ci++) {
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pads[0] + i * dh;
              if (ih < 0 || ih >= h) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pads[1] + j * dw;
                if (iw < 0 || iw >= w) continue;
                s += xAt(n, g * cinPerGroup + ci, ih, iw) * wAt(co, ci, i, j);
              }
            }
          }
          y[yIndex(n, co, oh, ow)] = activationRef(s, spec.activation, spec.alpha);
        }
      }
    }
  }
  return Tensor.from(y, geo.outShape);
}
