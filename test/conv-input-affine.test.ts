// Conv2d's inputAffine (a pre-activation BatchNorm-ReLU run inside the conv): every path that
// copies or packs the input applies it, padding stays zero, and the result equals the conv
// of the normalised tensor. Paths: the pixel-lane GEMM read in place (forced to pack its B,
// small and L2-sized inputs, widening and reducing), the padded copy (Winograd, strided),
// the gathering GEMM with and without padding, the channel-lane GEMM in place and copied,
// depthwise, groups, batch 2; concatConv pieces, addConv (its sum is materialised first),
// the residual epilogue; 1 and 2 threads; and the argument checks.
import * as assert from 'assert';
import { Conv2d, Conv2dWeightOptions, Tensor, addConv, concatConv, concatConvAsync, convResidual, runtime } from '../lib';
import { native } from '../lib/native';
import { conv2dRef } from '../lib/reference/conv2d';
import { expectNear, tolFor, uniformTensor, weightTensor } from './fusion-util';
import { expectThrows } from './helpers';
import { withThreads } from './isa/generators';

interface AffineCase {
  name: string;
  cin: number;
  cout: number;
  k: [number, number];
  strides?: [number, number];
  pads?: [number, number, number, number];
  groups?: number;
  h: number;
  w: number;
  /** Packed for its own size: small maps take the channel-lane GEMM. */
  hint?: boolean;
}

const CASES: AffineCase[] = [
  { name: '1x1 reduction in place (B packed to apply it)', cin: 40, cout: 24, k: [1, 1], h: 9, w: 23 },
  { name: '1x1 widening in place', cin: 8, cout: 40, k: [1, 1], h: 11, w: 13 },
  { name: '1x1 grouped in place', cin: 24, cout: 16, k: [1, 1], groups: 2, h: 6, w: 17 },
  { name: '1x1 stride 2 in place (gathered while packing)', cin: 12, cout: 20, k: [1, 1], strides: [2, 2], h: 9, w: 11 },
  { name: '1x1 stride 3x2 grouped in place', cin: 12, cout: 18, k: [1, 1], strides: [3, 2], groups: 3, h: 10, w: 7 },
  // 132 output pixels (3 tiles) and 40 output channels: the widening rows-outer sweep.
  { name: '1x1 stride 2 widening in place', cin: 8, cout: 40, k: [1, 1], strides: [2, 2], h: 21, w: 23 },
  { name: '3x3 padded (Winograd)', cin: 12, cout: 10, k: [3, 3], pads: [1, 1, 1, 1], h: 8, w: 9 },
  { name: '3x3 stride 2 padded copy', cin: 9, cout: 7, k: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], h: 9, w: 8 },
  { name: '3x3 stride (2, 1) gathering GEMM', cin: 33, cout: 32, k: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1], h: 9, w: 10 },
  { name: '3x3 stride 2 blocked (x reordered inside the call)', cin: 33, cout: 48, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], h: 9, w: 10 },
  { name: '3x2 unpadded gathering GEMM (copied for the affine)', cin: 32, cout: 24, k: [3, 2], h: 6, w: 7 },
  { name: '1x1 channel lanes in place', cin: 20, cout: 48, k: [1, 1], h: 3, w: 2, hint: true },
  { name: '3x3 channel lanes', cin: 20, cout: 48, k: [3, 3], pads: [1, 1, 1, 1], h: 3, w: 3, hint: true },
  // 7-wide outputs: every 7-pixel block (AVX-512) is one row, packed as a run.
  { name: '1x1 channel lanes, 7x7 map', cin: 20, cout: 48, k: [1, 1], h: 7, w: 7, hint: true },
  { name: '3x3 stride 2 channel lanes, 7x7 output', cin: 20, cout: 48, k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], h: 14, w: 13, hint: true },
  { name: '3x3 depthwise', cin: 10, cout: 10, k: [3, 3], pads: [1, 1, 1, 1], groups: 10, h: 6, w: 7 },
];

function caseNamed(name: string): AffineCase {
  const c = CASES.find((k) => k.name === name);
  if (!c) throw new Error(`no case named ${name}`);
  return c;
}

function affineOf(cin: number, seed: number, relu: boolean): { scale: Float32Array; shift: Float32Array; activation: 'none' | 'relu' } {
  return {
    scale: uniformTensor([cin], seed, 2).data,
    shift: uniformTensor([cin], seed + 1).data,
    activation: relu ? 'relu' : 'none',
  };
}

/** act(x * scale[c] + shift[c]) per channel of an NCHW tensor. */
function applyAffine(x: Tensor, a: { scale: Float32Array; shift: Float32Array; activation: 'none' | 'relu' }): Tensor {
  const [n, c, h, w] = x.shape;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    for (let p = i * h * w; p < (i + 1) * h * w; p++) {
      const v = Math.fround(Math.fround(x.data[p] * a.scale[ch]) + a.shift[ch]);
      out[p] = a.activation === 'relu' ? Math.max(0, v) : v;
    }
  }
  return Tensor.from(out, x.shape);
}

function makeCase(c: AffineCase, relu: boolean, seed: number) {
  const groups = c.groups ?? 1;
  const weight = weightTensor(c.cout, c.cin / groups, c.k[0], c.k[1], seed);
  const plain: Conv2dWeightOptions = { strides: c.strides, pads: c.pads, groups, bias: uniformTensor([c.cout], seed + 1) };
  const affine = affineOf(c.cin, seed + 2, relu);
  const options: Conv2dWeightOptions = { ...plain, inputAffine: affine, ...(c.hint ? { inputSize: [c.h, c.w] } : {}) };
  return { weight, plain, affine, conv: new Conv2d(weight, options) };
}

describe('Conv2d inputAffine: conv(act(x * scale + shift)) inside the conv', function () {
  this.timeout(60000);

  it('the cases reach the paths they name (AVX-512 picks channel lanes for the hinted maps)', function () {
    const algorithm = (name: string): string => makeCase(caseNamed(name), true, 1).conv.algorithm;
    assert.strictEqual(algorithm('1x1 stride 2 in place (gathered while packing)'), 'gemm-pixel-lanes');
    assert.strictEqual(algorithm('3x3 padded (Winograd)'), 'winograd-f2x2-3x3');
    assert.strictEqual(algorithm('3x3 stride (2, 1) gathering GEMM'), 'gemm-gather');
    assert.strictEqual(algorithm('3x3 stride 2 blocked (x reordered inside the call)'), 'blocked-direct');
    assert.strictEqual(algorithm('3x2 unpadded gathering GEMM (copied for the affine)'), 'gemm-gather');
    assert.strictEqual(algorithm('3x3 depthwise'), 'depthwise');
    if (runtime.info().isa === 'avx512') {
      for (const name of ['1x1 channel lanes in place', '1x1 channel lanes, 7x7 map', '3x3 stride 2 channel lanes, 7x7 output']) {
        assert.strictEqual(algorithm(name), 'gemm-channel-lanes', name);
      }
    }
  });

  for (const threads of [1, 2]) {
    for (const c of CASES) {
      it(`${c.name}: relu and none, batch 1 and 2, ${threads} thread(s)`, async function () {
        await withThreads(threads, async () => {
          for (const relu of [true, false]) {
            for (const n of [1, 2]) {
              const { weight, plain, affine, conv } = makeCase(c, relu, 10 * n + (relu ? 1 : 0));
              const x = uniformTensor([n, c.cin, c.h, c.w], 7 + n);
              const expected = conv2dRef(applyAffine(x, affine), weight, plain);
              const tol = tolFor((c.cin / (c.groups ?? 1)) * c.k[0] * c.k[1] * 3);
              const label = `${c.name} ${relu ? 'relu' : 'none'} n ${n}`;
              expectNear(conv.run(x), expected, tol, label);
              expectNear(await conv.runAsync(x), expected, tol, `${label} async`);
            }
          }
        });
      });
    }
  }

  it('concatConv (pieces straddling the channels), addConv (sum materialised first) and the residual epilogue', async function () {
    for (const c of ['1x1 reduction in place (B packed to apply it)', '3x3 padded (Winograd)', '3x3 stride (2, 1) gathering GEMM', '3x3 stride 2 blocked (x reordered inside the call)'].map(caseNamed)) {
      const { weight, plain, affine, conv } = makeCase(c, true, 40);
      const tol = tolFor(c.cin * c.k[0] * c.k[1] * 3);
      const chans = [1, c.cin - 9, 8];
      const xs = chans.map((ch, i) => uniformTensor([2, ch, c.h, c.w], 50 + i));
      const joined = Tensor.from(new Float32Array(2 * c.cin * c.h * c.w), [2, c.cin, c.h, c.w]);
      for (let n = 0, o = 0; n < 2; n++) {
        for (const x of xs) {
          const per = x.size / 2;
          joined.data.set(x.data.subarray(n * per, (n + 1) * per), o);
          o += per;
        }
      }
      const expected = conv2dRef(applyAffine(joined, affine), weight, plain);
      expectNear(concatConv(xs, conv), expected, tol, `${c.name} concatConv`);
      expectNear(await concatConvAsync(xs, conv), expected, tol, `${c.name} concatConv async`);
      const ys = [0, 1].map((i) => uniformTensor([2, c.cin, c.h, c.w], 60 + i));
      const sum = Tensor.from(ys[0].data.map((v, i) => v + ys[1].data[i]), ys[0].shape);
      expectNear(addConv(ys, conv), conv2dRef(applyAffine(sum, affine), weight, plain), tol, `${c.name} addConv`);
      const skip = uniformTensor(conv.outputShape(ys[0].shape), 70);
      const res = conv2dRef(applyAffine(ys[0], affine), weight, plain);
      for (let i = 0; i < res.size; i++) res.data[i] = Math.max(0, res.data[i] + skip.data[i]);
      expectNear(convResidual(ys[0], conv, skip, { activation: 'relu' }), res, tol, `${c.name} residual`);
    }
  });

  it('rejects bad inputAffine options naming them, and the binding checks the lengths again', function () {
    const w = weightTensor(4, 6, 1, 1, 1);
    const ok = affineOf(6, 2, true);
    expectThrows(() => new Conv2d(w, { inputAffine: { ...ok, scale: new Float32Array(5) } }), RangeError, ['inputAffine.scale', '6 input channels']);
    expectThrows(() => new Conv2d(w, { inputAffine: { ...ok, shift: [1, 2] as unknown as Float32Array } }), TypeError, ['inputAffine.shift']);
    expectThrows(() => new Conv2d(w, { inputAffine: { ...ok, activation: 'silu' as 'relu' } }), RangeError, ['inputAffine.activation']);
    expectThrows(() => new Conv2d(w, { inputAffine: null as unknown as { scale: Float32Array; shift: Float32Array } }), TypeError, ['inputAffine']);
    const hwio = Tensor.from(new Float32Array(24), [1, 1, 6, 4]);
    expectThrows(() => new Conv2d(hwio, { layout: 'NHWC', inputAffine: ok }), RangeError, ['NCHW']);
    const params = [0, 1, 1, 1, 1, 1, 0, 0, 0, 0];
    expectThrows(() => native.conv2dCreate(w.data, w.shape, null, params, new Float32Array(5), new Float32Array(6), true), RangeError, ['6 input channels']);
    expectThrows(() => native.conv2dCreate(w.data, w.shape, null, params, ok.scale, null, true), TypeError, ['together']);
    expectThrows(() => native.conv2dCreate(new Float32Array(24), [1, 1, 6, 4], null, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0], ok.scale, ok.shift, true), RangeError, ['NCHW']);
  });
});
