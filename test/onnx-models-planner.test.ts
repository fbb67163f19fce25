// The ONNX loader's planner, one pass at a time, on small graphs built in code; and the
// load-time rejection of unsupported graphs (one error listing every problem).
import * as assert from 'assert';
import { onnx } from 'onnx-proto';
import { Tensor, loadOnnx, UnsupportedModelError } from '../lib';
import { GraphBuilder } from '../bench/onnx-model';
import { expectClose, ortRun } from './onnx-models-util';
import { batchNorm, build, checkPass, conv, rand } from './onnx-planner-util';

describe('ONNX planner passes (each on a small graph, on vs off vs onnxruntime)', function () {
  this.timeout(30000);

  it('foldAffineIntoConv: Conv → BatchNormalization becomes one conv', async () => {
    const b = build([1, 8, 10, 10], (g, x) => batchNorm(g, conv(g, x, 8, 16, 1), 16, 5));
    const { on, off } = await checkPass(b, 'foldAffineIntoConv');
    assert.strictEqual(on.plan().passes.foldAffineIntoConv, 1);
    assert.deepStrictEqual(on.plan().ops, { Conv: 1 });
    assert.deepStrictEqual(off.plan().ops, { Conv: 1, TfAffine: 1 });
  });

  it('fuseActivation: Conv → Relu, Conv → Clip(0, 6), Conv → LeakyRelu, Conv → Sigmoid run in the conv epilogue', async () => {
    const b = build([1, 4, 9, 9], (g, x) => {
      let y = g.node('Relu', [conv(g, x, 4, 6, 1)], 1)[0];
      const lo = g.initializer('lo', new Float32Array([0]), []), hi = g.initializer('hi', new Float32Array([6]), []);
      y = g.node('Clip', [conv(g, y, 6, 6, 3), lo, hi], 1)[0];
      y = g.node('LeakyRelu', [conv(g, y, 6, 5, 5)], 1, { alpha: { float: 0.2 } })[0];
      return g.node('Sigmoid', [conv(g, y, 5, 3, 7)], 1)[0];
    });
    const { on, off } = await checkPass(b, 'fuseActivation');
    assert.strictEqual(on.plan().passes.fuseActivation, 4);
    assert.deepStrictEqual(on.plan().ops, { Conv: 4 });
    assert.deepStrictEqual(on.plan().stepList.map((s) => s.detail), ['+relu', '+relu6', '+leakyRelu', '+sigmoid']);
    assert.strictEqual(off.plan().steps, 8);
  });

  it('Clip and LeakyRelu alone and after a scale (an affine step), Sigmoid after one, run natively; Clip min > max gives max', async () => {
    const bounds: Array<[number | null, number | null]> = [[0, 6], [-0.5, 0.75], [null, 0.25], [-0.1, null], [1, -1]];
    const b = build([1, 3, 5, 7], (g, x) => {
      const outs = bounds.flatMap(([lo, hi], i) => {
        const lb = lo === null ? '' : g.initializer(g.fresh('lo'), new Float32Array([lo]), []);
        const hb = hi === null ? '' : g.initializer(g.fresh('hi'), new Float32Array([hi]), []);
        const scaled = g.node('Mul', [x, g.initializer(g.fresh('s'), new Float32Array([4 + i]), [])], 1)[0];
        return [g.node('Clip', [x, lb, hb], 1)[0], g.node('Clip', [scaled, lb, hb], 1)[0]];
      });
      const leaky = { alpha: { float: 0.3 } };
      const scaled = g.node('Mul', [x, g.initializer(g.fresh('s'), new Float32Array([-3]), [])], 1)[0];
      outs.push(g.node('LeakyRelu', [x], 1, leaky)[0], g.node('LeakyRelu', [scaled], 1, leaky)[0], g.node('Sigmoid', [g.node('Mul', [x, g.initializer(g.fresh('s'), new Float32Array([2]), [])], 1)[0]], 1)[0]);
      return g.node('Concat', outs, 1, { axis: 1 })[0];
    });
    const ref = await ortRun(b.bytes, b.feeds);
    const m = await loadOnnx(b.bytes);
    const out = m.run(b.feeds);
    for (const o of m.outputs) expectClose(o.name, out[o.name].data, ref[o.name]);
    const steps = m.plan().stepList;
    const alone = steps.filter((st) => st.op === 'Clip' || st.op === 'LeakyRelu'), scaled = steps.filter((st) => st.op === 'TfAffine');
    assert.strictEqual(alone.length, 6, JSON.stringify(steps));
    assert.deepStrictEqual(scaled.map((st) => st.fused.length), [2, 2, 2, 2, 2, 2, 2], JSON.stringify(steps));
    // native everywhere but min > max
    assert.deepStrictEqual(alone.map((st) => st.fallback), [false, false, false, false, true, false]);
    assert.deepStrictEqual(scaled.map((st) => st.fallback), [false, false, false, false, true, false, false]);
  });

  it('channelAffine + mergeAffine: BatchNorm → Mul → Add (Caffe2 scale) → Relu after a Concat become one affine+relu step', async () => {
    const b = build([1, 4, 6, 6], (g, x) => {
      const cat = g.node('Concat', [conv(g, x, 4, 3, 1), conv(g, x, 4, 5, 3)], 1, { axis: 1 })[0];
      let y = batchNorm(g, cat, 8, 5);
      const s = g.initializer('s', rand(8, 9, 0.2, 1), [8, 1, 1]);
      const t = g.initializer('t', rand(8, 10, 0.1), [8, 1, 1]);
      y = g.node('Add', [g.node('Mul', [y, s], 1)[0], t], 1)[0];
      return conv(g, g.node('Relu', [y], 1)[0], 8, 4, 11, 1);
    });
    // (fuseInputAffine off: it would move the merged affine into the conv)
    const { on, off } = await checkPass(b, 'mergeAffine', { passes: { fuseInputAffine: false } });
    const p = on.plan();
    assert.strictEqual(p.passes.channelAffine, 2);
    assert.strictEqual(p.passes.mergeAffine, 2);
    assert.strictEqual(p.ops.TfAffine, 1);
    assert.ok(p.stepList.some((st) => st.op === 'TfAffine' && st.fused.length === 4), JSON.stringify(p.stepList));
    assert.strictEqual(off.plan().ops.TfAffine, 3);
  });

  it('fuseInputAffine: BatchNorm (+ Relu) → Conv, the affine\'s only reader, runs inside the conv (DenseNet\'s pre-activation)', async () => {
    const b = build([1, 4, 7, 7], (g, x) => {
      const cat = g.node('Concat', [conv(g, x, 4, 6, 1), conv(g, x, 4, 5, 3, 1)], 1, { axis: 1 })[0];
      const shared = g.node('Relu', [batchNorm(g, cat, 11, 5)], 1)[0];                       // read by two convs: stays
      const sum = g.node('Add', [conv(g, shared, 11, 8, 9, 1), conv(g, shared, 11, 8, 11)], 1)[0];
      const s = conv(g, g.node('Relu', [batchNorm(g, sum, 8, 13)], 1)[0], 8, 6, 17, 1);     // fused: BN + Relu → 1x1
      const t = conv(g, batchNorm(g, g.node('Relu', [s], 1)[0], 6, 19), 6, 6, 23);          // fused: BN → 3x3 padded
      const out = g.node('Concat', [t, s], 1, { axis: 1 })[0];
      return g.node('Relu', [batchNorm(g, out, 12, 29)], 1)[0];                               // no conv after: stays
    });
    const { on, off } = await checkPass(b, 'fuseInputAffine');
    const p = on.plan();
    assert.strictEqual(p.passes.fuseInputAffine, 2);
    assert.strictEqual(p.ops.TfAffine, 2);
    const fused = p.stepList.filter((st) => st.detail?.includes('input affine'));
    assert.deepStrictEqual(fused.map((st) => st.detail), ['input affine+relu', 'input affine']);
    assert.deepStrictEqual(fused.map((st) => st.fused.map((f) => f.replace(/^n_([A-Za-z]+).*$/, '$1'))), [['BatchNormalization', 'Relu', 'Conv'], ['BatchNormalization', 'Conv']]);
    assert.strictEqual(off.plan().ops.TfAffine, 4);
  });

  it('poolBeforeConv: 1x1 Conv → AveragePool runs as AveragePool → Conv; not with an activation, a 3x3, or counted padding', async () => {
    const b = build([1, 6, 12, 12], (g, x) => {
      const pool = (y: string, attrs: Record<string, unknown> = {}) =>
        g.node('AveragePool', [y], 1, { kernel_shape: [2, 2], strides: [2, 2], ...attrs })[0];
      const t = g.node('Relu', [batchNorm(g, x, 6, 3)], 1)[0];
      const a = pool(conv(g, t, 6, 5, 5, 1));                                              // swapped (DenseNet transition)
      const c = pool(g.node('Relu', [conv(g, a, 5, 4, 7, 1)], 1)[0]);                     // relu between: stays
      const d = pool(conv(g, c, 4, 4, 9, 3));                                              // 3x3: stays
      const e = pool(conv(g, d, 4, 3, 11, 1), { pads: [1, 1, 0, 0], count_include_pad: 1 }); // counted padding: stays
      return pool(conv(g, e, 3, 2, 13, 1), { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }); // padding not counted: swapped
    });
    const { on, off } = await checkPass(b, 'poolBeforeConv');
    const p = on.plan();
    assert.strictEqual(p.passes.poolBeforeConv, 2);
    const order = p.stepList.filter((st) => st.op === 'Conv' || st.op === 'AveragePool').map((st) => st.op[0]).join('');
    assert.strictEqual(order, 'ACCACACAAC');
    assert.strictEqual(off.plan().stepList.filter((st) => st.op === 'Conv' || st.op === 'AveragePool').map((st) => st.op[0]).join(''), 'CACACACACA');
  });

  it('concatInPlace: Concat → Conv (Inception/DenseNet style) writes each branch into its channel slice', async () => {
    const b = build([1, 4, 8, 8], (g, x) => {
      const branches = [conv(g, x, 4, 3, 1, 1), conv(g, x, 4, 5, 3), g.node('Relu', [conv(g, x, 4, 2, 5)], 1)[0]];
      const cat = g.node('Concat', branches, 1, { axis: 1 })[0];
      return conv(g, cat, 10, 6, 7, 1);
    });
    const { on, off } = await checkPass(b, 'concatInPlace');
    assert.strictEqual(on.plan().concatInPlace, 3);
    assert.strictEqual(on.plan().concatCopied, 0);
    assert.strictEqual(on.plan().passes.concatConv, 0);
    // without the slices the concat would copy all three: the conv gathers them instead
    assert.strictEqual(off.plan().concatInPlace, 0);
    assert.strictEqual(off.plan().concatCopied, 0);
    assert.strictEqual(off.plan().passes.concatConv, 1);
    const plain = await loadOnnx(b.bytes, { passes: { concatInPlace: false, concatConv: false } });
    assert.strictEqual(plain.plan().concatCopied, 3);
  });

  it('concatInPlace: a graph input and a repeated input are copied, batch > 1 uses the concat kernel', async () => {
    const b1 = build([1, 4, 5, 5], (g, x) => {
      const c = conv(g, x, 4, 4, 1);
      return g.node('Concat', [x, c, c], 1, { axis: 1 })[0];
    });
    const { on } = await checkPass(b1, 'concatInPlace');
    assert.strictEqual(on.plan().concatInPlace, 1);
    assert.strictEqual(on.plan().concatCopied, 2);
    const b2 = build([2, 4, 5, 5], (g, x) => g.node('Concat', [conv(g, x, 4, 4, 1), conv(g, x, 4, 2, 2)], 1, { axis: 1 })[0]);
    const r2 = await checkPass(b2, 'concatInPlace');
    assert.strictEqual(r2.on.plan().concatInPlace, 0);
  });

  it('inPlace: a residual Add and the Relu after it overwrite the dying conv output (ResNet block, unfused)', async () => {
    const b = build([1, 6, 7, 7], (g, x) => {
      const r = g.node('Relu', [conv(g, x, 6, 6, 1)], 1)[0];
      const y = conv(g, r, 6, 6, 3);
      return g.node('Relu', [g.node('Add', [y, x], 1)[0]], 1)[0];
    });
    const { on, off } = await checkPass(b, 'inPlace', { passes: { fuseResidual: false } });
    // the Add overwrites the second conv's output, and the final Relu works in place on the
    // Add's result, which therefore lives in the (per-run) graph output buffer
    assert.strictEqual(on.plan().inPlace, 2);
    assert.strictEqual(off.plan().inPlace, 0);
    assert.ok(on.plan().peakBytes <= off.plan().peakBytes);
  });

  it('eliminateIdentity: Dropout and Identity disappear', async () => {
    const b = build([1, 3, 4, 4], (g, x) => {
      const y = g.node('Dropout', [conv(g, x, 3, 3, 1)], 1)[0];
      return g.node('Relu', [g.node('Identity', [y], 1)[0]], 1)[0];
    });
    const { on } = await checkPass(b, 'eliminateIdentity');
    assert.strictEqual(on.plan().passes.eliminateIdentity, 2);
    assert.deepStrictEqual(on.plan().ops, { Conv: 1 });
  });

  it('memory: a chain reuses two buffers (peak is two activations, not one per layer)', async () => {
    const shape = [1, 8, 16, 16];
    const b = build(shape, (g, x) => {
      let y = x;
      for (let i = 0; i < 6; i++) y = g.node('Relu', [conv(g, y, 8, 8, 10 * i)], 1)[0];
      return g.node('Add', [y, x], 1)[0];
    });
    const { on } = await checkPass(b, 'inPlace');
    const bytes = 8 * 16 * 16 * 4;
    assert.strictEqual(on.plan().peakBytes, 2 * bytes);
    assert.strictEqual(on.plan().unplannedBytes, 5 * bytes);
  });

  it('Gemm / MatMul / Flatten / Softmax / GlobalAveragePool / AveragePool / LRN / Transpose / Split / Slice / Resize match onnxruntime', async () => {
    const b = build([1, 4, 8, 8], (g, x) => {
      const up = g.node('Resize', [x, '', g.initializer('scales', new Float32Array([1, 1, 2, 2]), [4])], 1)[0];
      const pooled = g.node('AveragePool', [up], 1, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0];
      const n = g.node('LRN', [pooled], 1, { size: 3, alpha: { float: 1e-3 }, beta: { float: 0.75 } })[0];
      const [a, c] = g.node('Split', [n], 2, { axis: 1 });
      const t = g.node('Transpose', [a], 1, { perm: [0, 1, 3, 2] })[0];
      const cat = g.node('Concat', [t, c], 1, { axis: 1 })[0];
      const gap = g.node('GlobalAveragePool', [cat], 1)[0];
      const f = g.node('Flatten', [gap], 1)[0];
      const w = g.initializer('fcw', rand(6 * 4, 3), [6, 4]);
      const fc = g.node('Gemm', [f, w, g.initializer('fcb', rand(6, 4), [6])], 1, { transB: 1 })[0];
      const mm = g.node('MatMul', [fc, g.initializer('mm', rand(6 * 5, 5), [6, 5])], 1)[0];
      return g.node('Softmax', [mm], 1, { axis: 1 })[0];
    });
    const { on } = await checkPass(b, 'inPlace');
    assert.deepStrictEqual(Object.keys(on.plan().fallbackOps).sort(), ['Transpose']);
  });
});

describe('ONNX loader: model metadata, options and errors', function () {
  this.timeout(30000);

  it('rejects at load a graph with two unsupported nodes, listing both (name and op type)', async () => {
    const g = new GraphBuilder('bad');
    const x = g.input('x', [1, 2, 3, 3]);
    const a = g.node('Erf', [x], ['a'])[0];
    const r = g.node('Relu', [a], 1)[0];
    g.node('NonMaxSuppression', [r], ['y']);
    g.output('y');
    await assert.rejects(loadOnnx(g.bytes()), (e: Error) => {
      assert.ok(e instanceof UnsupportedModelError);
      assert.strictEqual(e.problems.length, 2, e.message);
      assert.match(e.message, /n_Erf_\d+ \(Erf\): unsupported operator/);
      assert.match(e.message, /n_NonMaxSuppression_\d+ \(NonMaxSuppression\): unsupported operator/);
      return true;
    });
  });

  it('rejects unsupported opsets, non-float inputs and unsupported attribute values, all in one error', async () => {
    const g = new GraphBuilder('bad2');
    const x = g.input('x', [1, 2, 4, 4]);
    const p = g.node('MaxPool', [x], 1, { kernel_shape: [2, 2], storage_order: 1 })[0];
    g.node('Conv', [p, g.initializer('w3d', new Float32Array(2 * 2 * 8), [2, 2, 2, 2, 2])], ['y'], { kernel_shape: [2, 2, 2] });
    g.output('y');
    const model = onnx.ModelProto.decode(g.bytes());
    model.opsetImport[0].version = 99;
    model.graph!.input!.push({ name: 'ids', type: { tensorType: { elemType: onnx.TensorProto.DataType.INT32, shape: { dim: [{ dimValue: 3 }] } } } } as onnx.ValueInfoProto);
    await assert.rejects(loadOnnx(onnx.ModelProto.encode(model).finish()), (e: Error) => {
      assert.ok(e instanceof UnsupportedModelError);
      assert.match(e.message, /opset 99 is not supported/);
      assert.match(e.message, /graph input ids: element type INT32/);
      assert.match(e.message, /\(MaxPool\): storage_order 1/);
      assert.match(e.message, /\(Conv\): only 2-D convolutions/);
      assert.strictEqual(e.problems.length, 4, e.message);
      return true;
    });
  });

  it('symbolic batch dim: metadata keeps the name, each batch size gets its own plan, matches onnxruntime', async () => {
    const b = build([1, 3, 6, 6], (g, x) => g.node('Relu', [conv(g, x, 3, 4, 1)], 1)[0]);
    const model = onnx.ModelProto.decode(b.bytes);
    const dim0 = model.graph!.input![0].type!.tensorType!.shape!.dim![0];
    dim0.dimValue = undefined as unknown as number;
    dim0.dimParam = 'N';
    const bytes = onnx.ModelProto.encode(model).finish();
    const m = await loadOnnx(bytes);
    assert.deepStrictEqual(m.inputs[0].shape, ['N', 3, 6, 6]);
    assert.throws(() => m.plan(), /symbolic/);
    for (const n of [1, 3]) {
      const feeds = { x: Tensor.from(rand(n * 3 * 36, n), [n, 3, 6, 6]) };
      const ref = await ortRun(bytes, feeds);
      const name = m.outputs[0].name;
      const out = m.run(feeds)[name];
      assert.deepStrictEqual(out.shape, [n, 4, 6, 6]);
      expectClose(`batch ${n}`, out.data, ref[name]);
    }
    assert.deepStrictEqual(m.plan({ x: [2, 3, 6, 6] }).outputShapes[m.outputs[0].name], [2, 4, 6, 6]);
  });

  it('run checks feeds; options.outputs returns an intermediate value', async () => {
    let convOut = '';
    const b = build([1, 2, 5, 5], (g, x) => g.node('Relu', [(convOut = conv(g, x, 2, 3, 1))], 1)[0]);
    const m = await loadOnnx(b.bytes);
    assert.throws(() => m.run({}), /missing input 'x'/);
    assert.throws(() => m.run({ x: Tensor.zeros([1, 2, 4, 4]) }), /has shape \[1,2,4,4\] but the model declares \[1,2,5,5\]/);
    assert.throws(() => m.run({ ...b.feeds, y: Tensor.zeros([1]) }), /'y' is not an input/);
    assert.throws(() => m.run({ x: Tensor.zeros([2, 4, 5, 5]).sliceChannels(1, 3) }), /input 'x' \[2,2,5,5\] is a strided channel view.*contiguous\(\) copy/);
    const full = m.run(b.feeds);
    const name = m.outputs[0].name;
    const both = m.run(b.feeds, { outputs: [name, convOut] });
    assert.deepStrictEqual(both[name].data, full[name].data);
    const relu = both[convOut].data.map((v) => Math.max(v, 0));
    assert.deepStrictEqual(relu, full[name].data);
    assert.throws(() => m.run(b.feeds, { outputs: ['nope'] }), /'nope' is not a value/);
  });

  it('profileSteps: one entry per planned step, conv flops and kernel; profile sums the same steps by op type', async () => {
    // conv 3x3, pad 1 (conv() in onnx-planner-util): [1,4,9,9] → [1,6,9,9], then MaxPool 2x2.
    const b = build([1, 4, 9, 9], (g, x) => g.node('MaxPool', [conv(g, x, 4, 6, 3)], 1, { kernel_shape: [2, 2] })[0]);
    const m = await loadOnnx(b.bytes);
    const steps = m.profileSteps(b.feeds, 3);
    assert.deepStrictEqual(steps.map((s) => s.op), m.plan().stepList.map((s) => s.op));
    assert.deepStrictEqual(steps.map((s) => s.op), ['Conv', 'MaxPool']);
    assert.ok(steps.every((s) => Number.isFinite(s.ms) && s.ms > 0), JSON.stringify(steps));
    assert.strictEqual(steps[0].flops, 2 * 6 * 9 * 9 * 4 * 3 * 3);
    assert.match(steps[0].kernel ?? '', /^\[1,4,9,9\] → \[1,6,9,9\], 3x3\/1, (gemm|winograd)-/);
    assert.strictEqual(steps[1].flops, undefined);
    const byOp = new Map<string, number>();
    m.profile(b.feeds, byOp);
    assert.deepStrictEqual([...byOp.keys()].sort(), ['Conv', 'MaxPool']);
  });
});
