// Every copied ONNX Relu / Sigmoid / Softmax / MaxPool / Resize / Upsample / Split / Slice
// conformance case, run through the public API (sync and async) and through lib/reference,
// within the README's tolerance. Cases that need features outside tensorfuse's scope
// (Resize antialias, tf_crop_and_resize, keep_aspect_ratio_policy, cubic; MaxPool indices)
// are reported as skipped with the reason, never dropped.
import * as assert from 'assert';
import {
  Tensor, maxPool2d, maxPool2dAsync, relu, reluAsync, resize, resizeAsync, sigmoid, sigmoidAsync, slice, sliceAsync,
  softmax, softmaxAsync, split, splitAsync, upsampleNearest, upsampleNearestAsync,
} from '../lib';
import type { MaxPool2dOptions, ResizeOptions, SliceSpec } from '../lib';
import * as ref from '../lib/reference';
import { OnnxCase, TensorJson, attr, autoPads, expectClose, itHoldsEveryCase, loadCases, skipWithReason, testDataDir, toInts, toTensor } from './onnx-cases';

const OPS = ['Relu', 'Sigmoid', 'Softmax', 'MaxPool', 'Resize', 'Upsample', 'Split', 'Slice'];
/** Public cases per op in the copied folder (README); the hold-out set may add more. */
const MIN_CASES: Record<string, number> = { Relu: 1, Sigmoid: 2, Softmax: 6, MaxPool: 9, Resize: 21, Upsample: 1, Split: 12, Slice: 6 };

interface Runner {
  sync(x: Tensor): Tensor[];
  async(x: Tensor): Promise<Tensor[]>;
  reference(x: Tensor): ref.RefResult[];
}

const given = (c: OnnxCase, i: number): TensorJson | undefined =>
  i < c.inputs.length && !c.inputs[i].omitted ? c.inputs[i] : undefined;

function unknownAttributes(c: OnnxCase, known: string[]): string | undefined {
  const unknown = Object.keys(c.attributes).filter((a) => !known.includes(a));
  return unknown.length ? `unsupported attribute(s) ${unknown.join(', ')}` : undefined;
}

function one(sync: (x: Tensor) => Tensor, async: (x: Tensor) => Promise<Tensor>, reference: (x: Tensor) => ref.RefResult): Runner {
  return { sync: (x) => [sync(x)], async: async (x) => [await async(x)], reference: (x) => [reference(x)] };
}

function maxPoolRunner(c: OnnxCase): Runner | string {
  const why = unknownAttributes(c, ['kernel_shape', 'strides', 'pads', 'dilations', 'ceil_mode', 'auto_pad', 'storage_order']);
  if (why) return why;
  if (c.outputs.length !== 1) return 'MaxPool with an Indices output';
  const xs = c.inputs[0].dims!;
  if (xs.length !== 4) return `MaxPool over rank ${xs.length} (only 2-D pooling of NCHW)`;
  const kernel = attr<number[]>(c, 'kernel_shape', []);
  const strides = attr<number[]>(c, 'strides', [1, 1]);
  const dilations = attr<number[]>(c, 'dilations', [1, 1]);
  const pads = autoPads(c, xs, kernel, strides, dilations);
  if (typeof pads === 'string') return pads;
  const o: MaxPool2dOptions = {
    kernel: [kernel[0], kernel[1]], strides: [strides[0], strides[1]], pads: [pads[0], pads[1], pads[2], pads[3]],
    dilations: [dilations[0], dilations[1]], ceilMode: attr<number>(c, 'ceil_mode', 0) === 1,
  };
  return one((x) => maxPool2d(x, o), (x) => maxPool2dAsync(x, o), (x) => ref.maxPool2d(x, o));
}

/** Full-rank scales or sizes from Resize's (scales | sizes, axes) inputs. */
function resizeRunner(c: OnnxCase): Runner | string {
  const why = unknownAttributes(c, ['mode', 'coordinate_transformation_mode', 'nearest_mode', 'axes', 'antialias',
    'keep_aspect_ratio_policy', 'exclude_outside', 'cubic_coeff_a', 'extrapolation_value']);
  if (why) return why;
  const mode = attr<string>(c, 'mode', 'nearest');
  const ctm = attr<string>(c, 'coordinate_transformation_mode', 'half_pixel');
  if (mode !== 'nearest' && mode !== 'linear') return `mode ${mode} (only nearest and linear)`;
  if (attr<number>(c, 'antialias', 0) !== 0) return 'antialias (outside tensorfuse\'s scope)';
  if (ctm === 'tf_crop_and_resize') return 'coordinate_transformation_mode tf_crop_and_resize (outside scope)';
  if (attr<string>(c, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') return 'keep_aspect_ratio_policy (outside scope)';
  const xs = c.inputs[0].dims!;
  if (xs.length !== 4) return `Resize of rank ${xs.length} (only the H, W axes of NCHW)`;
  const axes = attr<number[]>(c, 'axes', [0, 1, 2, 3]).map((a) => (a < 0 ? a + 4 : a));
  const scalesIn = given(c, 2), sizesIn = given(c, 3);
  const full = (values: number[], fill: (axis: number) => number): number[] => {
    const r = [0, 1, 2, 3].map(fill);
    axes.forEach((a, i) => { r[a] = values[i]; });
    return r;
  };
  const o: ResizeOptions = {
    mode: mode as 'nearest' | 'linear',
    coordinateTransformationMode: ctm as ResizeOptions['coordinateTransformationMode'],
    nearestMode: attr<string>(c, 'nearest_mode', 'round_prefer_floor') as ResizeOptions['nearestMode'],
  };
  if (sizesIn) {
    const sizes = full(toInts(sizesIn), (a) => xs[a]);
    if (sizes[0] !== xs[0] || sizes[1] !== xs[1]) return 'Resize of the N or C axis';
    o.sizes = [sizes[2], sizes[3]];
  } else if (scalesIn) {
    const scales = full(Array.from(toTensor(scalesIn).data), () => 1);
    if (scales[0] !== 1 || scales[1] !== 1) return 'Resize of the N or C axis';
    o.scales = [scales[2], scales[3]];
  } else {
    return 'Resize without scales or sizes';
  }
  return one((x) => resize(x, o), (x) => resizeAsync(x, o), (x) => ref.resize(x, o));
}

function upsampleRunner(c: OnnxCase): Runner | string {
  const why = unknownAttributes(c, ['mode']);
  if (why) return why;
  const scales = Array.from(toTensor(c.inputs[1]).data);
  if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) return 'Upsample of the N or C axis';
  const s: [number, number] = [scales[2], scales[3]];
  const mode = attr<string>(c, 'mode', 'nearest');
  if (mode === 'nearest') {
    return one((x) => upsampleNearest(x, s), (x) => upsampleNearestAsync(x, s), (x) => ref.upsampleNearest(x, s));
  }
  if (mode !== 'linear') return `Upsample mode ${mode}`;
  const o: ResizeOptions = { scales: s, mode: 'linear', coordinateTransformationMode: 'asymmetric' };
  return one((x) => resize(x, o), (x) => resizeAsync(x, o), (x) => ref.resize(x, o));
}

function splitRunner(c: OnnxCase): Runner | string {
  const why = unknownAttributes(c, ['axis', 'num_outputs', 'split']);
  if (why) return why;
  const axis = attr<number>(c, 'axis', 0);
  const splitIn = given(c, 1);
  const parts: number | number[] = splitIn ? toInts(splitIn)
    : 'split' in c.attributes ? attr<number[]>(c, 'split', [])
      : attr<number>(c, 'num_outputs', c.outputs.length);
  const dims = c.inputs[0].dims!;
  const len = dims[axis < 0 ? axis + dims.length : axis];
  const sizes = typeof parts === 'number'
    ? Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(Math.ceil(len / parts), len - i * Math.ceil(len / parts))))
    : parts;
  return {
    sync: (x) => split(x, axis, parts),
    async: (x) => splitAsync(x, axis, parts),
    reference: (x) => ref.split(x, axis, sizes),
  };
}

function sliceRunner(c: OnnxCase): Runner | string {
  let spec: SliceSpec;
  if (c.opset < 10) {
    const why = unknownAttributes(c, ['starts', 'ends', 'axes']);
    if (why) return why;
    spec = { starts: attr<number[]>(c, 'starts', []), ends: attr<number[]>(c, 'ends', []) };
    if ('axes' in c.attributes) spec.axes = attr<number[]>(c, 'axes', []);
  } else {
    const why = unknownAttributes(c, []);
    if (why) return why;
    spec = { starts: toInts(c.inputs[1]), ends: toInts(c.inputs[2]) };
    const axes = given(c, 3), steps = given(c, 4);
    if (axes) spec.axes = toInts(axes);
    if (steps) spec.steps = toInts(steps);
  }
  return one((x) => slice(x, spec), (x) => sliceAsync(x, spec), (x) => ref.slice(x, spec));
}

/** The runner for a case, or the reason it cannot run. */
function runnerFor(c: OnnxCase): Runner | string {
  if (c.inputs[0].dtype !== 'float32') return `input has dtype ${String(c.inputs[0].dtype)}`;
  if (c.outputs.some((t) => t.dtype !== 'float32')) return 'a non-float32 output';
  switch (c.op) {
    case 'Relu':
      return unknownAttributes(c, []) ?? one(relu, reluAsync, ref.relu);
    case 'Sigmoid':
      return unknownAttributes(c, []) ?? one(sigmoid, sigmoidAsync, ref.sigmoid);
    case 'Softmax': {
      if (c.opset < 13) return `Softmax-${c.opset} (flatten-to-2-D semantics; tensorfuse implements opset 13)`;
      const axis = attr<number>(c, 'axis', -1);
      return unknownAttributes(c, ['axis']) ?? one((x) => softmax(x, axis), (x) => softmaxAsync(x, axis), (x) => ref.softmax(x, axis));
    }
    case 'MaxPool': return maxPoolRunner(c);
    case 'Resize': return resizeRunner(c);
    case 'Upsample': return upsampleRunner(c);
    case 'Split': return splitRunner(c);
    case 'Slice': return sliceRunner(c);
    default: return `op ${c.op} is not handled by this harness`;
  }
}

function expectAll(actual: readonly { data: ArrayLike<number>; shape: readonly number[] }[], c: OnnxCase, label: string): void {
  assert.strictEqual(actual.length, c.outputs.length, `${label}: ${actual.length} outputs, expected ${c.outputs.length}`);
  actual.forEach((t, i) => expectClose(t, c.outputs[i], undefined, `${label}, output ${i}`));
}

describe('ONNX node conformance cases (Relu, Sigmoid, Softmax, MaxPool, Resize, Upsample, Split, Slice)', () => {
  const cases = loadCases(testDataDir('onnx-node'), OPS);

  itHoldsEveryCase(cases, MIN_CASES);

  for (const c of cases) {
    it(`${c.op} ${c.name}`, async function () {
      const runner = runnerFor(c);
      if (typeof runner === 'string') return skipWithReason(this, runner);
      const input = () => toTensor(c.inputs[0]);
      const x = input();
      const before = x.data.slice();
      expectAll(runner.sync(x), c, 'sync');
      assert.deepStrictEqual(x.data, before, 'the input was modified');
      expectAll(await runner.async(input()), c, 'async');
      expectAll(runner.reference(input()), c, 'lib/reference');
    });
  }
});
