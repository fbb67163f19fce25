// The ONNX pooling cases (AveragePool, GlobalAveragePool, GlobalMaxPool in test/data/onnx-node,
// MaxPool's too for the NHWC layout) through the public API (sync, async, NHWC) and through
// the ONNX runner (each case as a one-node model), within the README's tolerance; then
// one-node AveragePool / GlobalAveragePool / GlobalMaxPool / LRN models with the attributes
// of the ONNX cases whose inputs are random (not in the data folder) against
// onnxruntime-node, with the runner's plan checked to run no TS fallback for them.
import * as assert from 'assert';
import { Tensor, avgPool2d, avgPool2dAsync, globalAvgPool, globalAvgPoolAsync, globalMaxPool, globalMaxPoolAsync, loadOnnx, maxPool2d } from '../lib';
import type { AvgPool2dOptions, MaxPool2dOptions } from '../lib';
import * as ref from '../lib/reference';
import { Attr, GraphBuilder } from '../bench/onnx-model';
import { OnnxCase, Shaped, attr, autoPads, expectClose, itHoldsEveryCase, loadCases, skipWithReason, testDataDir, toTensor } from './onnx-cases';
import { ortRun, randomInput } from './onnx-models-util';

const OPS = ['AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'MaxPool'];
/** What the folder holds (README); the hold-out set may add more. */
const MIN_CASES: Record<string, number> = { AveragePool: 7, GlobalAveragePool: 1, GlobalMaxPool: 1, MaxPool: 9 };

/**
 * Cases whose recorded output disagrees with onnxruntime; tensorfuse follows onnxruntime
 * (checked below instead of the recorded value).
 */
const FOLLOWS_ONNXRUNTIME: Record<string, string> = {
  test_averagepool_2d_ceil_last_window_starts_on_pad:
    'the recorded 0.1511 divides by the whole 3x3 window although count_include_pad is 0; onnxruntime gives 0.3399 (sum / 4 input taps), as tensorfuse',
};

/** [n, c, h, w] <-> [n, h, w, c]. */
function toNhwc(t: Shaped): Tensor {
  const [n, c, h, w] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + k] = t.data[(b * c + k) * h * w + i];
  return Tensor.from(out, [n, h, w, c]);
}

function toNchw(t: Shaped): Shaped {
  const [n, h, w, c] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let i = 0; i < h * w; i++) out[(b * c + k) * h * w + i] = t.data[(b * h * w + i) * c + k];
  return { data: out, shape: [n, c, h, w] };
}

/** The case's pooling options for the API, or why it cannot be expressed. */
function poolOptions(c: OnnxCase): (MaxPool2dOptions & AvgPool2dOptions) | string {
  const known = ['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'auto_pad', 'storage_order', 'count_include_pad'];
  const unknown = Object.keys(c.attributes).filter((a) => !known.includes(a));
  if (unknown.length) return `unsupported attribute(s) ${unknown.join(', ')}`;
  if (c.outputs.length !== 1) return `${c.op} with ${c.outputs.length} outputs`;
  const xs = c.inputs[0].dims!;
  if (xs.length !== 4) return `${c.op} over rank ${xs.length} (only 2-D pooling)`;
  const kernel = attr<number[]>(c, 'kernel_shape', []);
  const strides = attr<number[]>(c, 'strides', [1, 1]);
  const dilations = attr<number[]>(c, 'dilations', [1, 1]);
  const pads = autoPads(c, xs, kernel, strides, dilations);
  if (typeof pads === 'string') return pads;
  return {
    kernel: [kernel[0], kernel[1]], strides: [strides[0], strides[1]], pads: [pads[0], pads[1], pads[2], pads[3]],
    dilations: [dilations[0], dilations[1]], ceilMode: attr<number>(c, 'ceil_mode', 0) === 1,
    countIncludePad: attr<number>(c, 'count_include_pad', 0) === 1,
  };
}

/** The runner's newest opset; the pooling ops read the same from 19 to 22 (22 only added types). */
const MAX_RUNNER_OPSET = 21;

/** The case as a one-node model (its attributes, its opset capped at the runner's newest). */
function caseModel(c: OnnxCase): Uint8Array {
  const g = new GraphBuilder(c.name, Math.min(c.opset, MAX_RUNNER_OPSET));
  g.input('x', c.inputs[0].dims!);
  const attrs: Record<string, Attr> = {};
  for (const [k, v] of Object.entries(c.attributes)) {
    const type = c.attribute_types[k];
    if (type === 'STRING') attrs[k] = { str: v as string };
    else if (type === 'FLOAT') attrs[k] = { float: v as number };
    else attrs[k] = v as number | number[];
  }
  g.node(c.op, ['x'], ['y'], attrs);
  g.output('y');
  return g.bytes();
}

describe('ONNX pooling conformance cases (AveragePool, GlobalAveragePool, GlobalMaxPool; MaxPool in NHWC)', () => {
  const cases = loadCases(testDataDir('onnx-node'), OPS);

  itHoldsEveryCase(cases, MIN_CASES);

  for (const c of cases) {
    it(`${c.op} ${c.name}`, async function () {
      const x = () => toTensor(c.inputs[0]);
      const divergence = FOLLOWS_ONNXRUNTIME[c.name];
      const expected: Shaped = divergence === undefined
        ? { data: c.outputs[0].data!, shape: c.outputs[0].dims! }
        : { data: (await ortRun(caseModel(c), { x: x() })).y, shape: c.outputs[0].dims! };
      if (c.op === 'GlobalAveragePool' || c.op === 'GlobalMaxPool') {
        const avg = c.op === 'GlobalAveragePool';
        expectClose((avg ? globalAvgPool : globalMaxPool)(x()), expected, undefined, 'sync');
        expectClose(await (avg ? globalAvgPoolAsync : globalMaxPoolAsync)(x()), expected, undefined, 'async');
        expectClose(ref.globalPool(x(), avg ? 'avg' : 'max'), expected, undefined, 'lib/reference');
      } else {
        const o = poolOptions(c);
        if (typeof o === 'string') return skipWithReason(this, o);
        if (c.op === 'MaxPool') {
          // NCHW runs in onnx-fusion-ops.test.ts; here the same windows over channels-last memory.
          const { countIncludePad: _unused, ...maxOptions } = o;
          expectClose(toNchw(maxPool2d(toNhwc(x()), { ...maxOptions, layout: 'NHWC' })), expected, undefined, 'NHWC');
          return;
        }
        const input = x();
        const before = input.data.slice();
        expectClose(avgPool2d(input, o), expected, undefined, 'sync');
        assert.deepStrictEqual(input.data, before, 'the input was modified');
        expectClose(await avgPool2dAsync(x(), o), expected, undefined, 'async');
        expectClose(toNchw(avgPool2d(toNhwc(x()), { ...o, layout: 'NHWC' })), expected, undefined, 'NHWC');
        expectClose(ref.avgPool2d(x(), o), expected, undefined, 'lib/reference');
      }
      const model = await loadOnnx(caseModel(c));
      expectClose(model.run({ x: x() }).y, expected, undefined, 'ONNX runner');
      if (divergence !== undefined) {
        this.test!.title += ` (checked against onnxruntime, not the recorded output: ${divergence})`;
      }
    });
  }
});

interface OrtCase {
  name: string;
  op: string;
  shape: number[];
  attrs: Record<string, Attr>;
}

// The ONNX cases with random inputs (averagepool.py, globalaveragepool.py, globalmaxpool.py,
// lrn.py: same shapes and attributes), the GoogLeNet LRN, and ceil-mode windows that run past
// the end pad with count_include_pad (the divisor counts the explicit pads only).
const ORT_CASES: OrtCase[] = [
  { name: 'averagepool_2d_default', op: 'AveragePool', shape: [1, 3, 32, 32], attrs: { kernel_shape: [2, 2] } },
  { name: 'averagepool_2d_same_upper', op: 'AveragePool', shape: [1, 3, 32, 32], attrs: { kernel_shape: [2, 2], auto_pad: { str: 'SAME_UPPER' } } },
  { name: 'averagepool_2d_same_lower', op: 'AveragePool', shape: [1, 3, 32, 32], attrs: { kernel_shape: [2, 2], auto_pad: { str: 'SAME_LOWER' } } },
  { name: 'averagepool_2d_pads', op: 'AveragePool', shape: [1, 3, 28, 28], attrs: { kernel_shape: [3, 3], pads: [2, 2, 2, 2] } },
  { name: 'averagepool_2d_pads_count_include_pad', op: 'AveragePool', shape: [1, 3, 28, 28], attrs: { kernel_shape: [3, 3], pads: [2, 2, 2, 2], count_include_pad: 1 } },
  { name: 'averagepool_2d_strides', op: 'AveragePool', shape: [1, 3, 32, 32], attrs: { kernel_shape: [5, 5], strides: [3, 3] } },
  { name: 'ceil mode past the end pad, count_include_pad', op: 'AveragePool', shape: [2, 5, 6, 6], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 } },
  { name: 'ceil mode past the end pad', op: 'AveragePool', shape: [2, 5, 7, 9], attrs: { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 0, 1], ceil_mode: 1 } },
  { name: 'densenet transition (2x2 stride 2)', op: 'AveragePool', shape: [1, 128, 56, 56], attrs: { kernel_shape: [2, 2], strides: [2, 2] } },
  { name: 'globalaveragepool', op: 'GlobalAveragePool', shape: [1, 3, 5, 5], attrs: {} },
  { name: 'globalaveragepool, 1024 planes', op: 'GlobalAveragePool', shape: [2, 1024, 7, 7], attrs: {} },
  { name: 'globalmaxpool', op: 'GlobalMaxPool', shape: [1, 3, 5, 5], attrs: {} },
  { name: 'lrn', op: 'LRN', shape: [5, 5, 5, 5], attrs: { alpha: { float: 0.0002 }, beta: { float: 0.5 }, bias: { float: 2 }, size: 3 } },
  { name: 'lrn_default', op: 'LRN', shape: [5, 5, 5, 5], attrs: { size: 3 } },
  { name: 'lrn, GoogLeNet (size 5, beta 0.75)', op: 'LRN', shape: [1, 64, 28, 28], attrs: { alpha: { float: 0.0001 }, beta: { float: 0.75 }, bias: { float: 1 }, size: 5 } },
  // onnxruntime takes odd sizes only (even ones run against lib/reference in test/isa).
  { name: 'lrn, size 7, beta 0.6', op: 'LRN', shape: [2, 9, 7, 5], attrs: { alpha: { float: 0.5 }, beta: { float: 0.6 }, bias: { float: 1.5 }, size: 7 } },
];

describe('one-node pooling / LRN models on the ONNX runner vs onnxruntime-node', function () {
  this.timeout(20000);

  for (const c of ORT_CASES) {
    it(`${c.op} ${c.name} [${c.shape}]`, async () => {
      const g = new GraphBuilder(c.name);
      g.input('x', c.shape);
      g.node(c.op, ['x'], ['y'], c.attrs);
      g.output('y');
      const bytes = g.bytes();
      const x = Tensor.from(randomInput(c.shape.reduce((a, b) => a * b, 1), 7), c.shape);
      const model = await loadOnnx(bytes);
      const plan = model.plan({ x: c.shape });
      assert.deepStrictEqual(plan.fallbackOps, {}, `${c.op} must run a native kernel, not a TS fallback`);
      const want = (await ortRun(bytes, { x })).y;
      const got = model.run({ x }).y;
      expectClose(got, { data: want, shape: got.shape }, undefined, 'sync');
      expectClose((await model.runAsync({ x })).y, { data: want, shape: got.shape }, undefined, 'async');
    });
  }
});
