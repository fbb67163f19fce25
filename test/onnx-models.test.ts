// Real CNN graphs from ONNX files (test/data/onnx-light: ResNet-50, DenseNet-121, Inception
// v1/v2, SqueezeNet, ShuffleNet, VGG-19, AlexNet, ZFNet-512) on tensorfuse vs
// onnxruntime-node, with the file's constant weights and with seeded random weights.
//
// Tolerances: rtol 1e-3 (2e-3 DenseNet-121, as the ONNX runner), atol 1e-5 — the ONNX runner
// uses atol 1e-7 for the *_output_0.pb vectors; we use 1e-5 throughout (float32 sums of
// 1e4-term dot products in a different order differ by more than 1e-7 in absolute terms).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { Tensor, loadOnnx, Model } from '../lib';
import { randomizeWeights } from '../lib/onnx/randomize';
import { testDataDir } from './onnx-cases';
import { expectClose, ortRun, randomInput } from './onnx-models-util';

const DIR = testDataDir('onnx-light');
const MODELS = fs.readdirSync(DIR).filter((f) => f.endsWith('.onnx')).sort();

function inputOf(m: Model, data: (n: number) => Float32Array): Record<string, Tensor> {
  const i = m.inputs[0];
  const shape = i.shape as number[];
  return { [i.name]: Tensor.from(data(shape.reduce((a, b) => a * b, 1)), shape) };
}

function readExpected(file: string): Float32Array {
  const t = onnx.TensorProto.decode(fs.readFileSync(file));
  const raw = t.rawData;
  if (raw && raw.length > 0) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  return Float32Array.from(t.floatData ?? []);
}

const arange = (n: number) => Float32Array.from({ length: n }, (_, i) => i / n);

describe('ONNX light models vs onnxruntime-node', function () {
  this.timeout(120000);

  for (const file of MODELS) {
    const name = file.replace(/^light_|\.onnx$/g, '');
    const rtol = name === 'densenet121' ? 2e-3 : 1e-3;

    it(`${name}: loads, matches its *_output_0.pb (arange input) and onnxruntime (random input)`, async () => {
      const bytes = fs.readFileSync(path.join(DIR, file));
      const m = await loadOnnx(bytes);
      assert.strictEqual(m.inputs.length, 1);
      assert.strictEqual(m.outputs.length, 1);
      const outName = m.outputs[0].name;
      const expected = readExpected(path.join(DIR, file.replace('.onnx', '_output_0.pb')));
      expectClose(`${name} arange`, m.run(inputOf(m, arange))[outName].data, expected, rtol, 1e-5);
      const feeds = inputOf(m, (n) => randomInput(n, 11));
      const ref = await ortRun(bytes, feeds);
      expectClose(`${name} random input`, m.run(feeds)[outName].data, ref[outName], rtol, 1e-5);
    });

    // VGG/AlexNet/ZFNet: their first two fully-connected layers (17-100M weights each) keep the
    // file's constant weights (the last, 4M, is random) — randomising them costs tens of seconds of protobuf and onnxruntime
    // load time here — and the flattened conv-trunk output (Gemm input) is compared as well.
    const heavy = ['vgg19', 'zfnet512', 'bvlc_alexnet'].includes(name);
    it(`${name}: random weights${heavy ? ' (convs, fc8; fc6/fc7 constant)' : ''} match onnxruntime (output, logits${heavy ? ', conv trunk' : ''}); unplanned == planned`, async () => {
      const rnd = randomizeWeights(fs.readFileSync(path.join(DIR, file)),
        { seed: 5, exposeLogits: true, maxElements: heavy ? 4.2e6 : Infinity, exposeInputOf: heavy ? 'Gemm' : undefined });
      assert.ok(rnd.replaced.length > 0);
      const m = await loadOnnx(rnd.bytes);
      const feeds = inputOf(m, (n) => randomInput(n, 3));
      const ref = await ortRun(rnd.bytes, feeds);
      const ours = m.run(feeds);
      // Extra outputs (logits, trunk) reach 1e2-1e3: atol 1e-5 relative to their largest value.
      const atolFor = (o: string, r: Float32Array) => (o === rnd.logits || o === rnd.exposed ? 1e-5 * Math.max(1, ...r.map(Math.abs)) : 1e-5);
      for (const o of m.outputs) expectClose(`${name} random weights ${o.name}`, ours[o.name].data, ref[o.name], rtol, atolFor(o.name, ref[o.name]));
      const plan = m.plan();
      assert.ok(plan.peakBytes < plan.unplannedBytes, `planned ${plan.peakBytes} B should be below ${plan.unplannedBytes} B`);
      // The heavy fully-connected nets only fuse activations: an unplanned run adds seconds for nothing new.
      if (heavy) return;
      const plain = await loadOnnx(rnd.bytes, { optimize: false });
      assert.strictEqual(plain.plan().fusedNodes, 0);
      const theirs = plain.run(feeds);
      for (const o of m.outputs) expectClose(`${name} unplanned vs planned ${o.name}`, theirs[o.name].data, ours[o.name].data, rtol, atolFor(o.name, ours[o.name].data));
    });
  }

  it('runAsync gives the same result as run, and concurrent runs do not share buffers', async () => {
    const bytes = randomizeWeights(fs.readFileSync(path.join(DIR, 'light_squeezenet.onnx')), { seed: 9 }).bytes;
    const m = await loadOnnx(bytes);
    const f1 = inputOf(m, (n) => randomInput(n, 1));
    const f2 = inputOf(m, (n) => randomInput(n, 2));
    const out = m.outputs[0].name;
    const s1 = m.run(f1)[out].data.slice();
    const s2 = m.run(f2)[out].data.slice();
    const [a1, a2] = await Promise.all([m.runAsync(f1), m.runAsync(f2)]);
    assert.deepStrictEqual(a1[out].data, s1);
    assert.deepStrictEqual(a2[out].data, s2);
  });

  it('resnet50 plan: every BatchNormalization folded, every residual Sum and ReLU in a conv epilogue, arena below the unplanned bytes', async () => {
    const m = await loadOnnx(path.join(DIR, 'light_resnet50.onnx'));
    const p = m.plan();
    assert.strictEqual(p.ops.BatchNormalization, undefined);
    assert.strictEqual(p.ops.TfAffine, undefined);
    assert.strictEqual(p.ops.Conv, 53);
    assert.strictEqual(p.passes.foldAffineIntoConv, 53);
    assert.strictEqual(p.passes.fuseResidual, 16);
    assert.strictEqual(p.ops.Sum, undefined);
    assert.strictEqual(p.ops.Relu, undefined);
    assert.strictEqual(p.stepList.filter((s) => s.detail?.endsWith('+skip, +relu')).length, 16);
    assert.ok(p.peakBytes * 3 < p.unplannedBytes, `peak ${p.peakBytes} vs unplanned ${p.unplannedBytes}`);
    assert.deepStrictEqual(p.inputShapes, { 'gpu_0/data_0': [1, 3, 224, 224] });
    assert.deepStrictEqual(p.outputShapes, { 'gpu_0/softmax_1': [1, 1000] });
  });

  it('densenet121 plan: concat inputs written in place, no concat copies of conv outputs', async () => {
    const m = await loadOnnx(path.join(DIR, 'light_densenet121.onnx'));
    const p = m.plan();
    assert.ok(p.concatInPlace >= 116, `concat inputs in place: ${p.concatInPlace}`);
    assert.strictEqual(p.concatCopied, 0);
  });
});
