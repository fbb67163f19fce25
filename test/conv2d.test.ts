// conv2d: every ONNX Conv conformance case (onnx-node and onnx-pytorch-converted), in both
// layouts, sync / async / packed Conv2d and through lib/reference; the API (out reuse,
// input views, repeated runs, concurrent async runs, packed weights independent of later
// writes); and every bad input, from the TS layer and straight at the native binding.
import * as assert from 'assert';
import { Conv2d, Conv2dOptions, Tensor, conv2d, conv2dAsync, runtime } from '../lib';
import { native } from '../lib/native';
import { SourceMode } from '../lib/ops/conv2d';
import { conv2dRef } from '../lib/reference/conv2d';
import { rng, viewAt } from './helpers';
import { OnnxCase, attr, expectClose, loadCases, testDataDir, toTensor, unsupportedTensor } from './onnx-cases';

function uniform(shape: readonly number[], seed: number): Tensor {
  const r = rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return Tensor.from(a, shape);
}

/** Permutes a rank-4 tensor: result dim k is input dim perm[k]. */
function transpose(t: Tensor, perm: readonly number[]): Tensor {
  const s = t.shape;
  const outShape = perm.map((p) => s[p]);
  const stride = [s[1] * s[2] * s[3], s[2] * s[3], s[3], 1];
  const out = new Float32Array(t.size);
  let i = 0;
  for (let a = 0; a < outShape[0]; a++) {
    for (let b = 0; b < outShape[1]; b++) {
      for (let c = 0; c < outShape[2]; c++) {
        for (let d = 0; d < outShape[3]; d++) {
          out[i++] = t.data[a * stride[perm[0]] + b * stride[perm[1]] + c * stride[perm[2]] + d * stride[perm[3]]];
        }
      }
    }
  }
  return Tensor.from(out, outShape);
}
const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const OIHW_TO_HWIO = [2, 3, 1, 0];

function close(actual: Tensor, expected: Tensor, tol: number, label: string): void {
  assert.deepStrictEqual([...actual.shape], [...expected.shape], `${label}: shape`);
  for (let i = 0; i < expected.size; i++) {
    const e = expected.data[i];
    if (!(Math.abs(actual.data[i] - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${label}: element ${i} is ${actual.data[i]}, expected ${e}`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// ONNX conformance vectors

/** The residual epilogue with the skip as the output (the conv accumulates into it): relu(conv(x) + skip). */
function residualIntoSkip(x: Tensor, w: Tensor, plain: Conv2dOptions, tol: number, label: string): void {
  const conv = new Conv2d(w, plain);
  const skip = uniform(conv.outputShape(x.shape), 9);
  const expected = conv2dRef(x, w, plain);
  for (let i = 0; i < expected.size; i++) expected.data[i] = Math.max(0, expected.data[i] + skip.data[i]);
  const out = Tensor.from(skip.data.slice(), skip.shape);
  conv.runSources([x], SourceMode.Concat, out, { skip: out, activation: 'relu', alpha: 0 }, false);
  close(out, expected, tol, `${label} residual into the skip`);
}

const CONV_ATTRIBUTES = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

/** The case's attributes as conv2d options, or why they cannot be expressed. */
function optionsFor(c: OnnxCase, x: Tensor, w: Tensor): Conv2dOptions | string {
  const unknown = Object.keys(c.attributes).filter((a) => !CONV_ATTRIBUTES.includes(a));
  if (unknown.length > 0) return `unsupported attribute(s) ${unknown.join(', ')}`;
  if (x.shape.length !== 4) return `x has rank ${x.shape.length} (conv2d is 2-D)`;
  const kernel = attr<number[]>(c, 'kernel_shape', [w.shape[2], w.shape[3]]);
  assert.deepStrictEqual(kernel, [w.shape[2], w.shape[3]], `${c.name}: kernel_shape matches W`);
  const strides = attr<number[]>(c, 'strides', [1, 1]);
  const dilations = attr<number[]>(c, 'dilations', [1, 1]);
  const autoPad = attr<string>(c, 'auto_pad', 'NOTSET');
  let pads: Conv2dOptions['pads'];
  if (autoPad === 'NOTSET') pads = attr<number[]>(c, 'pads', [0, 0, 0, 0]);
  else if (autoPad === 'VALID') pads = 'valid';
  else if (autoPad === 'SAME_UPPER') pads = 'same';
  else if (autoPad === 'SAME_LOWER') {
    // SAME_LOWER puts the odd padding pixel at the beginning; conv2d takes it explicitly.
    const p = [0, 1].map((d) => {
      const size = x.shape[2 + d];
      const total = Math.max(0, (Math.ceil(size / strides[d]) - 1) * strides[d] + (kernel[d] - 1) * dilations[d] + 1 - size);
      return [Math.ceil(total / 2), Math.floor(total / 2)];
    });
    pads = [p[0][0], p[1][0], p[0][1], p[1][1]];
  } else return `auto_pad ${autoPad}`;
  const options: Conv2dOptions = { strides, dilations, pads, groups: attr<number>(c, 'group', 1) };
  if (c.inputs.length > 2 && !c.inputs[2].omitted) options.bias = toTensor(c.inputs[2]);
  return options;
}

function onnxSuite(folder: string, minCases: number): void {
  describe(`ONNX Conv cases in test/data/${folder}`, () => {
    const cases = loadCases(testDataDir(folder), 'Conv');
    it(`has at least ${minCases} cases`, () => {
      assert.ok(cases.length >= minCases, `found ${cases.length}`);
    });
    for (const c of cases) {
      const why = [...c.inputs, ...c.outputs].map(unsupportedTensor).find((r) => r !== undefined);
      if (why !== undefined) {
        it.skip(`${c.name} (${why})`);
        continue;
      }
      const x = toTensor(c.inputs[0]);
      const w = toTensor(c.inputs[1]);
      const options = optionsFor(c, x, w);
      if (typeof options === 'string') {
        it.skip(`${c.name} (${options})`);
        continue;
      }
      it(`${c.name}: NCHW sync, Conv2d, async, reference`, async () => {
        const expected = c.outputs[0];
        expectClose(conv2d(x, w, options), expected, undefined, 'conv2d');
        expectClose(new Conv2d(w, options).run(x), expected, undefined, 'Conv2d.run');
        expectClose(await conv2dAsync(x, w, options), expected, undefined, 'conv2dAsync');
        expectClose(await new Conv2d(w, options).runAsync(x), expected, undefined, 'Conv2d.runAsync');
        expectClose(conv2dRef(x, w, options), expected, undefined, 'reference');
      });
      it(`${c.name}: NHWC (x and W transposed)`, async () => {
        const xh = transpose(x, NCHW_TO_NHWC);
        const wh = transpose(w, OIHW_TO_HWIO);
        const o = { ...options, layout: 'NHWC' as const };
        expectClose(transpose(conv2d(xh, wh, o), NHWC_TO_NCHW), c.outputs[0], undefined, 'conv2d NHWC');
        expectClose(transpose(await conv2dAsync(xh, wh, o), NHWC_TO_NCHW), c.outputs[0], undefined, 'conv2dAsync NHWC');
        expectClose(transpose(conv2dRef(xh, wh, o), NHWC_TO_NCHW), c.outputs[0], undefined, 'reference NHWC');
      });
    }
  });
}

onnxSuite('onnx-node', 5);
onnxSuite('onnx-pytorch-converted', 9);

// ---------------------------------------------------------------------------------------
// API

describe('conv2d API', () => {
  const x = uniform([2, 6, 9, 11], 1);
  const w = uniform([8, 3, 3, 2], 2);
  const bias = uniform([8], 3);
  const options: Conv2dOptions = { groups: 2, pads: [1, 0, 2, 1], strides: [2, 1], dilations: [1, 2], bias, activation: 'relu' };
  const expected = conv2dRef(x, w, options);

  it('returns a new tensor of the output shape', () => {
    const y = conv2d(x, w, options);
    assert.ok(y instanceof Tensor);
    assert.deepStrictEqual([...y.shape], [2, 8, 5, 10]);
    close(y, expected, 1e-5, 'conv2d');
  });

  it('writes into out and returns it; reusing out gives the same result', () => {
    const out = Tensor.from(new Float32Array(expected.size).fill(NaN), expected.shape);
    assert.strictEqual(conv2d(x, w, { ...options, out }), out);
    close(out, expected, 1e-5, 'first');
    const conv = new Conv2d(w, options);
    assert.strictEqual(conv.run(x, { out }), out);
    assert.strictEqual(conv.run(x, { out }), out);
    close(out, expected, 1e-5, 'reused');
  });

  it('bias may be a Tensor or a Float32Array', () => {
    close(conv2d(x, w, { ...options, bias: bias.data }), expected, 1e-5, 'Float32Array bias');
  });

  it('reads x and writes out through views at any offset', () => {
    const xv = Tensor.from(viewAt(x.data, 3), x.shape);
    const outBuf = new Float32Array(expected.size + 5).fill(-1);
    const out = Tensor.from(outBuf.subarray(1, 1 + expected.size), expected.shape);
    conv2d(xv, w, { ...options, out });
    close(out, expected, 1e-5, 'views');
    assert.strictEqual(outBuf[0], -1);
    assert.ok(outBuf.subarray(1 + expected.size).every((v) => v === -1), 'nothing written past out');
  });

  it('Conv2d packs the weights once: later writes to weight and bias do not change it', () => {
    const w2 = Tensor.from(w.data.slice(), w.shape);
    const b2 = bias.data.slice();
    const conv = new Conv2d(w2, { ...options, bias: b2 });
    w2.data.fill(100);
    b2.fill(100);
    close(conv.run(x), expected, 1e-5, 'after writes');
  });

  it('one Conv2d runs inputs of different sizes and batches', () => {
    const conv = new Conv2d(w, { ...options, pads: 'same' });
    for (const shape of [[1, 6, 5, 5], [3, 6, 17, 4], [1, 6, 1, 1]]) {
      const xi = uniform(shape, shape[2]);
      const y = conv.run(xi);
      close(y, conv2dRef(xi, w, { ...options, pads: 'same' }), 1e-5, `x [${shape}]`);
      assert.deepStrictEqual(conv.outputShape(shape), [...y.shape]);
    }
  });

  it("pads 'same' is SAME_UPPER: output ceil(in / stride), the extra pixel at the end", () => {
    const xi = uniform([1, 1, 6, 6], 5);
    const wi = Tensor.from(new Float32Array(4).fill(1), [1, 1, 2, 2]);
    const y = conv2d(xi, wi, { pads: 'same', strides: [2, 2] });
    assert.deepStrictEqual([...y.shape], [1, 1, 3, 3]);
    close(y, conv2dRef(xi, wi, { pads: [0, 0, 0, 0], strides: [2, 2] }), 1e-6, 'same == no pad here');
    const y1 = conv2d(xi, wi, { pads: 'same' });
    assert.deepStrictEqual([...y1.shape], [1, 1, 6, 6]);
    close(y1, conv2dRef(xi, wi, { pads: [0, 0, 1, 1] }), 1e-6, 'same stride 1 pads at the end');
  });

  it("defaults: stride 1, no padding ('valid'), no bias, no activation", () => {
    const xi = uniform([1, 2, 4, 4], 6);
    const wi = uniform([3, 2, 3, 3], 7);
    const y = conv2d(xi, wi);
    assert.deepStrictEqual([...y.shape], [1, 3, 2, 2]);
    close(y, conv2dRef(xi, wi, { pads: 'valid', strides: [1, 1] }), 1e-5, 'defaults');
  });

  for (const activation of ['none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'] as const) {
    it(`activation '${activation}' in both layouts`, () => {
      const xi = uniform([1, 5, 7, 6], 8);
      const scaled = Tensor.from(xi.data.map((v) => v * 8), xi.shape);
      const wi = uniform([4, 5, 3, 3], 9);
      const o: Conv2dOptions = { pads: [1, 1, 1, 1], activation, alpha: 0.25, bias: uniform([4], 10) };
      close(conv2d(scaled, wi, o), conv2dRef(scaled, wi, o), 1e-5, 'NCHW');
      const xh = transpose(scaled, NCHW_TO_NHWC);
      const wh = transpose(wi, OIHW_TO_HWIO);
      close(conv2d(xh, wh, { ...o, layout: 'NHWC' }), conv2dRef(xh, wh, { ...o, layout: 'NHWC' }), 1e-5, 'NHWC');
    });
  }

  it('leakyRelu alpha defaults to 0.01', () => {
    const xi = uniform([1, 3, 5, 5], 11);
    const wi = uniform([2, 3, 1, 1], 12);
    close(conv2d(xi, wi, { activation: 'leakyRelu' }), conv2dRef(xi, wi, { activation: 'leakyRelu', alpha: 0.01 }), 1e-6, 'alpha');
  });

  it('zero-size batch gives an empty result', () => {
    const y = conv2d(Tensor.zeros([0, 6, 9, 11]), w, options);
    assert.deepStrictEqual([...y.shape], [0, 8, 5, 10]);
    assert.strictEqual(y.size, 0);
  });

  it('async twins resolve to out and keep their buffers alive', async () => {
    const out = Tensor.empty(expected.shape);
    const pending = conv2dAsync(x, w, { ...options, out });
    assert.ok(pending instanceof Promise);
    assert.strictEqual(await pending, out);
    close(out, expected, 1e-5, 'conv2dAsync');
    // Unreferenced inputs: only the promise holds them.
    const conv = new Conv2d(uniform([8, 3, 3, 2], 2), options);
    const results = await Promise.all([0, 1, 2, 3].map(() => conv.runAsync(uniform([2, 6, 9, 11], 1))));
    if (typeof global.gc === 'function') global.gc();
    for (const y of results) close(y, expected, 1e-5, 'concurrent runAsync');
  });

  it('inputSize picks the GEMM orientation for that size; any input still runs', () => {
    const wt = uniform([96, 32, 1, 1], 30);
    const bias = uniform([96], 31).data;
    // AVX-512 pixel tiles are 48 lanes wide: a 7x7 map (49 pixels) fills 49 of 64 (a tile
    // and one narrow vector), the 7-row channel tile all of its rows: channels go on the lanes.
    const small = new Conv2d(wt, { bias, inputSize: [7, 7] });
    const plain = new Conv2d(wt, { bias });
    assert.strictEqual(plain.algorithm, 'gemm-pixel-lanes');
    if (runtime.info().isa === 'avx512') assert.strictEqual(small.algorithm, 'gemm-channel-lanes');
    for (const size of [7, 9, 16]) {
      const xi = uniform([size === 7 ? 2 : 1, 32, size, size + 1], 32 + size);
      close(small.run(xi), conv2dRef(xi, wt, { bias }), 1e-4, `packed for 7x7, run on ${size}x${size + 1}`);
    }
    assert.strictEqual(new Conv2d(uniform([8, 1, 3, 3], 1), { groups: 8 }).algorithm, 'depthwise');
    // A dense 3x3 with few output channels on a small map gathers instead of Winograd.
    const w3 = uniform([32, 32, 3, 3], 33);
    const o3: Conv2dOptions = { pads: [1, 1, 1, 1], bias: uniform([32], 34).data, activation: 'relu' };
    const gathered = new Conv2d(w3, { ...o3, inputSize: [7, 7] });
    assert.strictEqual(gathered.algorithm, 'gemm-gather');
    assert.strictEqual(new Conv2d(w3, o3).algorithm, 'winograd-f2x2-3x3');
    // Hinted maps of 16x16 and up take F(4x4) (15 wide stays on F(2x2)), but convs of <= 64
    // output channels stay on F(2x2) up to 28x28.
    const w72 = uniform([72, 32, 3, 3], 36);
    const o72: Conv2dOptions = { pads: [1, 1, 1, 1], bias: uniform([72], 37).data };
    assert.strictEqual(new Conv2d(w72, { ...o72, inputSize: [16, 16] }).algorithm, 'winograd-f4x4-3x3');
    assert.strictEqual(new Conv2d(w72, { ...o72, inputSize: [16, 15] }).algorithm, 'winograd-f2x2-3x3');
    assert.strictEqual(new Conv2d(w3, { ...o3, inputSize: [28, 28] }).algorithm, 'winograd-f2x2-3x3');
    assert.strictEqual(new Conv2d(w3, { ...o3, inputSize: [29, 29] }).algorithm, 'winograd-f4x4-3x3');
    const x3 = uniform([1, 32, 7, 7], 35);
    close(gathered.run(x3), conv2dRef(x3, w3, o3), 1e-4, '3x3 on 7x7 gathered');
    small.dispose();
    assert.throws(() => small.algorithm, /disposed/);
  });

  it('widening 1x1 convs (Cout > Cin, written rows outer in passes of tiles): full and partial passes, groups, batch 2, residual', async () => {
    const saved = runtime.info().threads;
    try {
      for (const threads of [1, 2]) {
        runtime.setThreads(threads);
        for (const [cin, cout, groups, h, w] of [[16, 49, 1, 23, 29], [8, 64, 2, 17, 45], [24, 100, 1, 9, 11]] as const) {
          const xi = uniform([2, cin, h, w], cin + h);
          const wi = uniform([cout, cin / groups, 1, 1], cout);
          const o: Conv2dOptions = { groups, bias: uniform([cout], 3).data, activation: 'relu' };
          const label = `${cin} -> ${cout} groups ${groups} on ${h}x${w}, ${threads} thread(s)`;
          close(conv2d(xi, wi, o), conv2dRef(xi, wi, o), 1e-5, label);
          close(await conv2dAsync(xi, wi, o), conv2dRef(xi, wi, o), 1e-5, `${label} async`);
          residualIntoSkip(xi, wi, { groups, bias: o.bias }, 1e-5, label);
        }
      }
    } finally {
      runtime.setThreads(saved);
    }
  });

  it('wide output rows of the padded copy go tile by tile within each row (no junk columns): stem-like, 5x5, residual, 1-2 threads', async () => {
    const saved = runtime.info().threads;
    try {
      for (const threads of [1, 2]) {
        runtime.setThreads(threads);
        for (const [n, cin, cout, k, s, h, w] of [[1, 3, 16, 7, 2, 9, 230], [2, 5, 9, 5, 1, 4, 100], [1, 4, 20, 3, 1, 3, 151]] as const) {
          const p = (k - 1) / 2;
          const xi = uniform([n, cin, h, w], w + k);
          const wi = uniform([cout, cin, k, k], cout + k);
          const o: Conv2dOptions = { strides: s, pads: [p, p, p, p], bias: uniform([cout], 7).data, activation: 'relu6' };
          const label = `${cin} -> ${cout} ${k}x${k}/${s} on [${n},${cin},${h},${w}], ${threads} thread(s)`;
          const expected = conv2dRef(xi, wi, o);
          close(conv2d(xi, wi, o), expected, 1e-4, label);
          close(await conv2dAsync(xi, wi, o), expected, 1e-4, `${label} async`);
          residualIntoSkip(xi, wi, { strides: s, pads: [p, p, p, p], bias: o.bias }, 1e-4, label);
        }
      }
    } finally {
      runtime.setThreads(saved);
    }
  });

  it('NHWC convs whose Cout per group fills the lanes run the indirect GEMM (no input packing)', () => {
    for (const [groups, cout, strides, dilations] of [[1, 64, 1, 1], [2, 96, 2, 1], [1, 40, 1, 2]] as const) {
      const cin = 6 * groups;
      const wt = uniform([3, 3, cin / groups, cout], 40 + cout);
      const options: Conv2dOptions = { layout: 'NHWC', groups, strides, dilations, pads: [1, 0, 2, 1], bias: uniform([cout], 41).data, activation: 'relu6' };
      const conv = new Conv2d(wt, options);
      assert.strictEqual(conv.algorithm, 'gemm-channel-lanes');
      for (const [n, h, w] of [[1, 7, 9], [2, 13, 5]]) {
        const xi = uniform([n, h, w, cin], 42 + h);
        close(conv.run(xi), conv2dRef(xi, wt, options), 1e-4, `NHWC groups ${groups} cout ${cout} x [${n},${h},${w},${cin}]`);
      }
    }
    // 3 output channels fill 3 of the SIMD ISAs' 12-32 lanes (scalar's tile is 4 wide).
    if (runtime.info().isa !== 'scalar') assert.strictEqual(new Conv2d(uniform([3, 3, 4, 3], 1), { layout: 'NHWC' }).algorithm, 'gemm-pixel-lanes');
  });

  it('dispose() frees the packed weights: runs in flight finish, later runs throw', async () => {
    const conv = new Conv2d(w, options);
    const pending = conv.runAsync(x);
    conv.dispose();
    close(await pending, expected, 1e-5, 'run in flight at dispose');
    assert.throws(() => conv.run(x), (e: unknown) => e instanceof TypeError && /disposed/.test((e as Error).message));
    await assert.rejects(conv.runAsync(x), TypeError);
    conv.dispose();  // twice is harmless
  });

  it('large convs give the same result on 1 and 2 threads, sync and async', async () => {
    const xi = uniform([1, 32, 30, 28], 13);
    const wi = uniform([40, 32, 3, 3], 14);
    const o: Conv2dOptions = { pads: [1, 1, 1, 1], bias: uniform([40], 15), activation: 'silu' };
    const ref = conv2dRef(xi, wi, o);
    const saved = runtime.info().threads;
    try {
      for (const threads of [1, 2]) {
        runtime.setThreads(threads);
        close(conv2d(xi, wi, o), ref, 1e-4, `${threads} thread(s)`);
        close(await conv2dAsync(xi, wi, o), ref, 1e-4, `${threads} thread(s) async`);
      }
    } finally {
      runtime.setThreads(saved);
    }
  });
});

// ---------------------------------------------------------------------------------------
// Bad input

describe('conv2d bad input', () => {
  const x = uniform([1, 4, 6, 6], 20);
  const w = uniform([6, 4, 3, 3], 21);

  function rejects(fn: () => unknown, type: typeof TypeError | typeof RangeError, pattern: RegExp): void {
    assert.throws(fn, (e: unknown) => e instanceof type && pattern.test((e as Error).message));
  }

  const cases: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    ['x not a Tensor', () => conv2d(x.data as unknown as Tensor, w), TypeError, /conv2d: x must be a Tensor/],
    ['weight not a Tensor', () => conv2d(x, [1, 2] as unknown as Tensor), TypeError, /weight must be a Tensor/],
    ['weight of rank 3', () => conv2d(x, uniform([6, 4, 9], 1)), RangeError, /weight must have rank 4.*\[6,4,9\]/],
    ['x of rank 3', () => conv2d(uniform([4, 6, 6], 1), w), RangeError, /x must have rank 4.*\[4,6,6\]/],
    ['weight in-channels != Cin/groups', () => conv2d(x, uniform([6, 3, 3, 3], 1)), RangeError, /weight \[6,3,3,3\] has 3 input channels per group but x \[1,4,6,6\]/],
    ['groups not dividing Cin', () => conv2d(x, uniform([6, 1, 3, 3], 1), { groups: 3 }), RangeError, /groups 3 does not divide the 4 input channels of x \[1,4,6,6\]/],
    ['groups not dividing Cout', () => conv2d(x, uniform([6, 1, 3, 3], 1), { groups: 4 }), RangeError, /groups 4 does not divide the 6 output channels of weight \[6,1,3,3\]/],
    ['groups 0', () => conv2d(x, w, { groups: 0 }), RangeError, /groups must be >= 1/],
    ['groups 1.5', () => conv2d(x, w, { groups: 1.5 }), TypeError, /groups must be an integer/],
    ['output size <= 0', () => conv2d(x, uniform([6, 4, 7, 7], 1)), RangeError, /output size 0x0 <= 0.*\[1,4,6,6\]/],
    ['output size <= 0 through dilations', () => conv2d(x, w, { dilations: [3, 1] }), RangeError, /output size/],
    ['bias length != Cout', () => conv2d(x, w, { bias: new Float32Array(5) }), RangeError, /bias has 5 elements but weight \[6,4,3,3\] has 6 output channels/],
    ['bias of the wrong type', () => conv2d(x, w, { bias: [1, 2, 3, 4, 5, 6] as unknown as Float32Array }), TypeError, /bias must be a Tensor or a Float32Array/],
    ['unknown activation', () => conv2d(x, w, { activation: 'gelu' as 'relu' }), RangeError, /unknown activation 'gelu'/],
    ['activation not a string', () => conv2d(x, w, { activation: 1 as unknown as 'relu' }), TypeError, /activation must be a string/],
    ['alpha not finite', () => conv2d(x, w, { activation: 'leakyRelu', alpha: NaN }), RangeError, /alpha must be finite/],
    ['strides 0', () => conv2d(x, w, { strides: [0, 1] }), RangeError, /strides must hold integers in \[1/],
    ['strides of length 3', () => conv2d(x, w, { strides: [1, 1, 1] }), TypeError, /strides must be \[sh, sw\]/],
    ['dilations 1.5', () => conv2d(x, w, { dilations: [1.5, 1] }), TypeError, /dilations must hold integers/],
    ['negative pads', () => conv2d(x, w, { pads: [1, -1, 1, 1] }), RangeError, /pads must hold integers in \[0/],
    ['pads of length 2', () => conv2d(x, w, { pads: [1, 1] }), TypeError, /pads must be \[top, left, bottom, right\]/],
    ["pads 'full'", () => conv2d(x, w, { pads: 'full' as 'same' }), RangeError, /pads must be .*'full'/],
    ['unknown layout', () => conv2d(x, w, { layout: 'NCWH' as 'NCHW' }), RangeError, /layout must be 'NCHW' or 'NHWC'/],
    ['options not an object', () => conv2d(x, w, 3 as unknown as Conv2dOptions), TypeError, /options must be an object/],
    ['out of the wrong shape', () => conv2d(x, w, { out: Tensor.zeros([1, 6, 4, 5]) }), RangeError, /out has shape \[1,6,4,5\] but the result has shape \[1,6,4,4\]/],
    ['out overlapping x', () => {
      const buf = new Float32Array(400);
      const xo = Tensor.from(buf.subarray(0, 144), [1, 4, 6, 6]);
      return conv2d(xo, w, { out: Tensor.from(buf.subarray(100, 196), [1, 6, 4, 4]) });
    }, RangeError, /out \[1,6,4,4\] overlaps x \[1,4,6,6\]/],
    ['inputSize not a pair', () => new Conv2d(w, { inputSize: [6] }), TypeError, /inputSize must be \[H, W\]/],
    ['inputSize 0', () => new Conv2d(w, { inputSize: [0, 6] }), RangeError, /inputSize must hold integers in \[1/],
    ['inputSize the kernel does not fit', () => new Conv2d(w, { inputSize: [2, 6] }), RangeError, /Conv2d: output size 0x4 <= 0/],
    ['Conv2d.run with the wrong channels', () => new Conv2d(w).run(uniform([1, 5, 6, 6], 1)), RangeError, /Conv2d.run: weight \[6,4,3,3\]/],
    ['NHWC weight in-channels', () => conv2d(uniform([1, 6, 6, 4], 1), uniform([3, 3, 2, 6], 1), { layout: 'NHWC' }), RangeError, /weight \[3,3,2,6\] has 2 input channels per group but x \[1,6,6,4\]/],
  ];

  for (const [name, fn, type, pattern] of cases) {
    it(`${name}: ${type.name}`, () => rejects(fn, type, pattern));
  }

  it('the async twins reject with the same errors', async () => {
    await assert.rejects(conv2dAsync(x, uniform([6, 3, 3, 3], 1)), RangeError);
    await assert.rejects(conv2dAsync(x, w, { activation: 'gelu' as 'relu' }), RangeError);
    await assert.rejects(new Conv2d(w).runAsync(uniform([1, 4, 2, 2], 1)), /output size/);
  });

  describe('the native binding checks again', () => {
    const handle = native.conv2dCreate(w.data, w.shape, null, [0, 1, 1, 1, 1, 1, 0, 0.01, 0, 0]);
    const out = new Float32Array(6 * 4 * 4);

    it('runs a well-formed call', () => {
      native.conv2dRun(handle, x.data, x.shape, [0, 0, 0, 0], out, false);
      close(Tensor.from(out, [1, 6, 4, 4]), conv2dRef(x, w), 1e-5, 'native');
    });

    const bad: [string, () => unknown, RegExp][] = [
      ['weight length != shape', () => native.conv2dCreate(w.data, [6, 4, 3, 4], null, [0, 1, 1, 1, 1, 1, 0, 0, 0, 0]), /weight has 216 elements but shape \[6,4,3,4\] needs 288/],
      ['bias length', () => native.conv2dCreate(w.data, w.shape, new Float32Array(2), [0, 1, 1, 1, 1, 1, 0, 0, 0, 0]), /bias has 2 elements/],
      ['groups not dividing', () => native.conv2dCreate(w.data, w.shape, null, [0, 4, 1, 1, 1, 1, 0, 0, 0, 0]), /groups 4 does not divide/],
      ['bad activation code', () => native.conv2dCreate(w.data, w.shape, null, [0, 1, 1, 1, 1, 1, 9, 0, 0, 0]), /activation must be an integer in \[0, 5\]/],
      ['stride 0', () => native.conv2dCreate(w.data, w.shape, null, [0, 1, 0, 1, 1, 1, 0, 0, 0, 0]), /strides\[0\]/],
      ['negative size hint', () => native.conv2dCreate(w.data, w.shape, null, [0, 1, 1, 1, 1, 1, 0, 0, -1, 0]), /output size hint/],
      ['params of the old length', () => native.conv2dCreate(w.data, w.shape, null, [0, 1, 1, 1, 1, 1, 0, 0]), /10 numbers/],
      ['params not an array', () => native.conv2dCreate(w.data, w.shape, null, 3 as unknown as number[]), /params/],
      ['not a handle', () => native.conv2dRun({} as never, x.data, x.shape, [0, 0, 0, 0], out, false), /handle/],
      ['x length != shape', () => native.conv2dRun(handle, x.data, [1, 4, 6, 7], [0, 0, 0, 0], out, false), /x has 144 elements but shape \[1,4,6,7\] needs 168/],
      ['x channels', () => native.conv2dRun(handle, x.data, [1, 9, 4, 4], [0, 0, 0, 0], out, false), /x \[1,9,4,4\] has 9 channels but the weights expect 4/],
      ['out too short', () => native.conv2dRun(handle, x.data, x.shape, [0, 0, 0, 0], new Float32Array(95), false), /out has 95 elements but shape \[1,6,4,4\] needs 96/],
      ['out too long', () => native.conv2dRun(handle, x.data, x.shape, [1, 1, 1, 1], out, false), /out has 96 elements but shape \[1,6,6,6\] needs 216/],
      ['negative pads', () => native.conv2dRun(handle, x.data, x.shape, [0, -1, 0, 0], out, false), /pads/],
      ['huge pads', () => native.conv2dRun(handle, x.data, x.shape, [2 ** 40, 0, 0, 0], out, false), /pads .* too large/],
      ['kernel does not fit', () => native.conv2dRun(handle, new Float32Array(16), [1, 4, 2, 2], [0, 0, 0, 0], out, false), /does not fit/],
      ['out overlaps x', () => native.conv2dRun(handle, x.data, x.shape, [0, 0, 0, 0], x.data.subarray(0, 96), false), /out overlaps x/],
    ];
    for (const [name, fn, pattern] of bad) {
      it(name, () => assert.throws(fn, (e: unknown) => (e instanceof RangeError || e instanceof TypeError) && pattern.test((e as Error).message)));
    }
  });
});

describe('conv2d Winograd bands with many channels', () => {
  // 160 + 160 channels leave room for one 10-lane tile row per band in L2; the band then
  // grows to fill the NR lanes (the L3 budget). 256 -> 256 transforms to 4 MiB of weights,
  // beyond L2: one band per thread's share of the rows. Each at 1 and 2 threads, batch 2.
  function uniform(shape: number[], seed: number): Tensor {
    const r = rng(seed);
    const t = Tensor.empty(shape);
    for (let i = 0; i < t.size; i++) t.data[i] = r() - 0.5;
    return t;
  }
  for (const [channels, size] of [[160, 18], [256, 10]]) {
    const x = uniform([2, channels, size, size], 11);
    const w = uniform([channels, channels, 3, 3], 12);
    const bias = uniform([channels], 13);
    const expected = conv2dRef(x, w, { pads: [1, 1, 1, 1], bias });
    for (const threads of [1, 2]) {
      it(`${channels} -> ${channels} channels on ${size}x${size}: matches the reference with ${threads} thread(s)`, () => {
        const before = runtime.info().threads;
        runtime.setThreads(threads);
        try {
          const conv = new Conv2d(w, { pads: [1, 1, 1, 1], bias });
          assert.strictEqual(conv.algorithm, 'winograd-f2x2-3x3');
          close(conv.run(x), expected, 2e-5, `threads ${threads}`);
        } finally {
          runtime.setThreads(before);
        }
      });
    }
  }
});

describe('prepared conv runs (the conv steps of a compiled model): checked once, buffers checked by the binding', () => {
  const r = rng(77);
  const rand = (shape: number[]) => Tensor.from(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() - 0.5), shape);
  const w = rand([8, 6, 3, 3]), b = rand([8]).data;

  it('Conv2d.prepareRun computes what run() does, with and without a residual skip', async () => {
    const x = rand([2, 6, 7, 5]);
    const plain = new Conv2d(w, { bias: b, pads: [1, 1, 1, 1], activation: 'relu' });
    const want = plain.run(x);
    const p = plain.prepareRun(x.shape);
    assert.deepStrictEqual(p.outShape, want.shape);
    const out = new Float32Array(want.size);
    p.run(x.data, out, null);
    assert.deepStrictEqual(Array.from(out), Array.from(want.data));
    const out2 = new Float32Array(want.size);
    await p.runAsync(x.data, out2, null);
    assert.deepStrictEqual(Array.from(out2), Array.from(want.data));

    const linear = new Conv2d(w, { bias: b, pads: [1, 1, 1, 1] });
    const skip = rand([...want.shape]);
    const withSkip = linear.run(x).data.map((v, i) => Math.max(0, Math.fround(v + skip.data[i])));
    const got = new Float32Array(want.size);
    linear.prepareRun(x.shape, { activation: 'relu', alpha: 0.01 }).run(x.data, got, skip.data);
    expectClose(Tensor.from(got, want.shape), { shape: want.shape, data: withSkip }, { atol: 1e-6, rtol: 1e-6 }, 'conv + skip, relu');
  });

  it('Conv2d.prepareRunSources is runSources over a concat', () => {
    const a = rand([1, 2, 6, 6]), c = rand([1, 4, 6, 6]);
    const conv = new Conv2d(w, { bias: b, pads: [1, 1, 1, 1] });
    const want = Tensor.zeros([1, 8, 6, 6]);
    conv.runSources([a, c], SourceMode.Concat, want, null, false);
    const got = new Float32Array(want.size);
    conv.prepareRunSources([a.shape, c.shape], SourceMode.Concat).run([a.data, c.data], got, null);
    assert.deepStrictEqual(Array.from(got), Array.from(want.data));
  });

  it('rejects when prepared what run() would reject; the binding rejects buffers of the wrong length', () => {
    const conv = new Conv2d(w, { bias: b });
    assert.throws(() => conv.prepareRun([1, 5, 7, 7]), (e: Error) => e instanceof RangeError && /channels|5/.test(e.message));
    const relu = new Conv2d(w, { activation: 'relu' });
    assert.throws(() => relu.prepareRun([1, 6, 7, 7], { activation: 'none', alpha: 0 }), (e: Error) => e instanceof RangeError && /activation to be 'none'/.test(e.message));
    assert.throws(() => conv.prepareRun([1, 6, 7, 7], { activation: 'swish' as never, alpha: 0 }), (e: Error) => e instanceof RangeError && /skip activation/.test(e.message));
    const p = conv.prepareRun([1, 6, 7, 7]);
    const outFloats = p.outShape.reduce((x, y) => x * y);
    assert.throws(() => p.run(new Float32Array(6 * 49 - 1), new Float32Array(outFloats), null), RangeError);
    assert.throws(() => p.run(new Float32Array(6 * 49), new Float32Array(outFloats - 1), null), RangeError);
    assert.throws(() => p.run(new Float32Array(6 * 49), new Float32Array(outFloats), new Float32Array(outFloats - 1)), RangeError);
  });
});
