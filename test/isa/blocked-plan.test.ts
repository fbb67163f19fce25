// The blockedLayout planner pass on small ResNet-like graphs: which regions it takes, the
// reorders at their edges, and that the blocked plan computes what onnxruntime, the plan
// with the pass off and the unplanned graph compute (checkPass). Channels are multiples of
// 16, so every ISA's block (4, 8 or 16 lanes) divides them. The scalar ISA's block is one
// channel (the layout is NCHW itself): there the pass takes nothing and the plans are NCHW.
// run-all.js runs this file once per ISA the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import { Tensor, loadOnnx } from '../../lib';
import type { Model, ModelPlan, StepInfo } from '../../lib/onnx';
import { GraphBuilder } from '../../bench/onnx-model';
import { expectClose } from '../onnx-models-util';
import { batchNorm, build, checkPass, conv, feedsFor, rand } from '../onnx-planner-util';
import { checkIsaSelection, withThreads } from './generators';
import { blockedLanes } from '../../lib/ops/blocked';

/** n where the ISA has blocks of several lanes, 0 (no region taken) for the scalar ISA. */
const taken = (n: number) => (blockedLanes() > 1 ? n : 0);

const relu = (g: GraphBuilder, v: string) => g.node('Relu', [v], 1)[0];

/** A k x k conv with stride s (pad (k - 1) / 2). */
function convS(g: GraphBuilder, x: string, cin: number, cout: number, seed: number, k: number, s: number): string {
  const w = g.initializer(g.fresh('W'), rand(cout * cin * k * k, seed, 1 / Math.sqrt(cin * k * k)), [cout, cin, k, k]);
  const b = g.initializer(g.fresh('B'), rand(cout, seed + 1, 0.1), [cout]);
  const p = (k - 1) / 2;
  return g.node('Conv', [x, w, b], 1, { kernel_shape: [k, k], pads: [p, p, p, p], strides: [s, s] })[0];
}

/** A bottleneck: 1x1 → 3x3 (stride s) → 1x1, plus the block input (or its 1x1/s projection), then relu. */
function bottleneck(g: GraphBuilder, x: string, cin: number, mid: number, cout: number, s: number, seed: number): string {
  const a = relu(g, convS(g, x, cin, mid, seed, 1, 1));
  const b = relu(g, convS(g, a, mid, mid, seed + 2, 3, s));
  const c = convS(g, b, mid, cout, seed + 4, 1, 1);
  const skip = cin === cout && s === 1 ? x : convS(g, x, cin, cout, seed + 6, 1, s);
  return relu(g, g.node('Add', [c, skip], 1)[0]);
}

/**
 * Stem (3 input channels: reads the image in NCHW), a pool, `blocks` bottlenecks at 32
 * channels, one down to 64, a global pool (reads blocked, writes NCHW).
 */
function resnetLike(blocks: number, pool: 'max' | 'avg' = 'max'): { g: (g: GraphBuilder, x: string) => string; convs: number } {
  return {
    g: (g, x) => {
      let h = relu(g, conv(g, x, 3, 32, 1));
      h = pool === 'max'
        ? g.node('MaxPool', [h], 1, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0]
        : g.node('AveragePool', [h], 1, { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], count_include_pad: 1 })[0];
      for (let i = 0; i < blocks; i++) h = bottleneck(g, h, 32, 16, 32, 1, 10 * (i + 1));
      h = bottleneck(g, h, 32, 32, 64, 2, 500);
      return g.node(pool === 'max' ? 'GlobalAveragePool' : 'GlobalMaxPool', [h], 1)[0];
    },
    convs: 1 + 3 * blocks + 4,
  };
}

/**
 * DenseNet-like: stem, max pool, `blocks` dense blocks of `layers` layers (BN-ReLU-1x1 to
 * 32, BN-ReLU-3x3 to `growth`, concatenated onto the block's input), transitions (BN-ReLU-1x1
 * halving the channels, 2x2 average pool) between them, BN-ReLU, global pool.
 */
function denseNetLike(blocks: number, layers: number, growth: number): { g: (g: GraphBuilder, x: string) => string; convs: number } {
  return {
    g: (g, x) => {
      let h = relu(g, conv(g, x, 3, 32, 1));
      h = g.node('MaxPool', [h], 1, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0];
      let c = 32, seed = 10;
      for (let b = 0; b < blocks; b++) {
        for (let l = 0; l < layers; l++, seed += 10) {
          const a = convS(g, relu(g, batchNorm(g, h, c, seed)), c, 32, seed + 2, 1, 1);
          const n = convS(g, relu(g, batchNorm(g, a, 32, seed + 4)), 32, growth, seed + 6, 3, 1);
          h = g.node('Concat', [h, n], 1, { axis: 1 })[0];
          c += growth;
        }
        if (b + 1 < blocks) {
          h = convS(g, relu(g, batchNorm(g, h, c, seed)), c, c / 2, seed + 2, 1, 1);
          h = g.node('AveragePool', [h], 1, { kernel_shape: [2, 2], strides: [2, 2] })[0];
          c /= 2;
          seed += 10;
        }
      }
      return g.node('GlobalAveragePool', [relu(g, batchNorm(g, h, c, 999))], 1)[0];
    },
    convs: 1 + blocks * layers * 2 + blocks - 1,
  };
}

/** The step of the only node of type op. */
/** runAsync gives exactly what run gives (the async run records its steps into one batch). */
async function expectAsyncMatchesSync(m: Model, feeds: Record<string, Tensor>): Promise<void> {
  const [sync, async] = [m.run(feeds), await m.runAsync(feeds)];
  const name = m.outputs[0].name;
  assert.deepStrictEqual(Array.from(async[name].data), Array.from(sync[name].data));
}

function stepOf(p: ModelPlan, op: string): StepInfo {
  const s = p.stepList.filter((x) => x.op === op);
  assert.strictEqual(s.length, 1, op);
  return s[0];
}

function blockedSteps(p: ModelPlan): number {
  return p.stepList.filter((s) => s.op === 'Conv' && /\(NCHWc\)$/.test(s.kernel ?? '')).length;
}

describe(`blockedLayout planner pass (isa ${process.env.TENSORFUSE_ISA ?? 'best'})`, function () {
  this.timeout(60000);
  before(checkIsaSelection);

  it('keeps a ResNet-like net blocked from the stem (NCHW image in) to the global pool (NCHW out), the same result as onnxruntime and the NCHW plan', async () => {
    for (const pool of ['max', 'avg'] as const) {
      const net = resnetLike(5, pool);
      const b = build([2, 3, 20, 20], net.g);
      const { on, off } = await checkPass(b, 'blockedLayout');
      const p = on.plan();
      assert.strictEqual(p.passes.blockedLayout, taken(net.convs), pool);
      assert.strictEqual(blockedSteps(p), taken(net.convs), pool);
      // no reorders: the stem reads the image as NCHW, the global pool writes NCHW
      assert.strictEqual(p.ops.TfToBlocked, undefined);
      assert.strictEqual(p.ops.TfFromBlocked, undefined);
      assert.strictEqual(p.ops.Conv, net.convs);
      const blockedDetail = blockedLanes() > 1 ? 'NCHWc, as NHWC' : undefined;
      assert.strictEqual(stepOf(p, pool === 'max' ? 'MaxPool' : 'AveragePool').detail, blockedDetail);
      assert.strictEqual(stepOf(p, pool === 'max' ? 'GlobalAveragePool' : 'GlobalMaxPool').detail, blockedDetail);
      // the residual adds and relus stay fused (into the blocked convs' epilogues)
      assert.strictEqual(p.ops.Add, undefined);
      assert.strictEqual(p.ops.Relu, undefined);
      assert.strictEqual(off.plan().passes.blockedLayout, undefined);
      assert.strictEqual(blockedSteps(off.plan()), 0);
      await expectAsyncMatchesSync(on, b.feeds);
    }
  });

  it('element-wise ops between blocked convs (unfused Add, Mul, Sigmoid, Clip, LeakyRelu) run on the blocked values', async () => {
    const b = build([1, 16, 8, 8], (g, x) => {
      let h = relu(g, conv(g, x, 16, 32, 1, 1));
      const a = conv(g, h, 32, 32, 2, 1), c = conv(g, h, 32, 32, 3, 1);
      // a and c are each read twice: neither add nor mul fuses into a conv
      const sum = g.node('Add', [a, c], 1)[0], prod = g.node('Mul', [a, c], 1)[0];
      const six = g.initializer(g.fresh('six'), new Float32Array([6]), []), zero = g.initializer(g.fresh('zero'), new Float32Array([0]), []);
      h = g.node('Sigmoid', [g.node('Add', [sum, prod], 1)[0]], 1)[0];
      h = g.node('LeakyRelu', [g.node('Clip', [conv(g, h, 32, 32, 4, 1), zero, six], 1)[0]], 1, { alpha: { float: 0.1 } })[0];
      for (let i = 0; i < 5; i++) h = relu(g, conv(g, h, 32, 32, 10 + i, 1));
      return g.node('GlobalAveragePool', [h], 1)[0];
    });
    const { on } = await checkPass(b, 'blockedLayout');
    const p = on.plan();
    assert.strictEqual(p.passes.blockedLayout, taken(9));
    assert.strictEqual(p.ops.Add, 2);
    assert.strictEqual(p.ops.Mul, 1);
    assert.strictEqual(p.ops.TfToBlocked ?? 0, taken(1));
    assert.strictEqual(p.ops.TfFromBlocked, undefined);
  });

  it('an intermediate value asked for comes back in NCHW (a reorder made for it)', async () => {
    let mid = '';
    const b = build([1, 3, 12, 12], (g, x) => {
      let h = relu(g, conv(g, x, 3, 32, 1));
      // 28 convs (the stem too): the kept value's reorder is within the budget
      for (let i = 0; i < 9; i++) {
        h = bottleneck(g, h, 32, 16, 32, 1, 10 * (i + 1));
        if (i === 4) mid = h;
      }
      return g.node('GlobalAveragePool', [h], 1)[0];
    });
    const on = await loadOnnx(b.bytes);
    const off = await loadOnnx(b.bytes, { passes: { blockedLayout: false } });
    const outputs = [mid, on.outputs[0].name];
    const a = on.run(b.feeds, { outputs }), r = off.run(b.feeds, { outputs });
    assert.strictEqual(on.plan().passes.blockedLayout, taken(28));
    assert.strictEqual(on.plan().ops.TfFromBlocked ?? 0, taken(1));
    for (const o of outputs) {
      assert.deepStrictEqual(a[o].shape, r[o].shape);
      expectClose(o, a[o].data, r[o].data, 1e-4, 1e-5);
    }
  });

  it('a region\'s last conv whose output channels fill no whole block (a classifier, a YOLO head) reads x blocked and writes NCHW: no reorder', async () => {
    for (const cout of [20, 255]) {
      const head = build([1, 3, 16, 16], (g, x) => {
        let h = relu(g, conv(g, x, 3, 32, 1));
        for (let i = 0; i < 4; i++) h = bottleneck(g, h, 32, 16, 32, 1, 10 * (i + 1));
        return relu(g, convS(g, h, 32, cout, 900, 1, 1));
      });
      const { on } = await checkPass(head, 'blockedLayout');
      const p = on.plan();
      assert.strictEqual(p.passes.blockedLayout, taken(1 + 12 + 1), `${cout}`);
      assert.strictEqual(p.ops.TfFromBlocked, undefined, `${cout}`);
      assert.strictEqual(p.ops.TfToBlocked, undefined, `${cout}`);
      const last = p.stepList.filter((st) => st.op === 'Conv').pop()!;
      assert.strictEqual(/NCHWc in, NCHW out/.test(last.kernel ?? ''), blockedLanes() > 1, `${cout}: ${last.kernel}`);
      await expectAsyncMatchesSync(on, head.feeds);
    }
  });

  it('leaves NCHW: 3x3 chains (VGG), short chains, chains whose reorders cost more than they save, channels off the block', async () => {
    const vgg = build([1, 16, 12, 12], (g, x) => {
      let h = x;
      for (let i = 0; i < 10; i++) h = relu(g, conv(g, h, 16, 16, i + 1));
      return h;
    });
    const short = build([1, 3, 12, 12], resnetLike(0).g);  // 5 convs
    // 8 1x1 convs, but each output also read by a concat: 9 reorders
    const leaky = build([1, 16, 8, 8], (g, x) => {
      const outs: string[] = [];
      let h = x;
      for (let i = 0; i < 8; i++) outs.push(h = relu(g, conv(g, h, 16, 16, i + 1, 1)));
      return g.node('Concat', outs, 1, { axis: 1 })[0];
    });
    const odd = build([1, 3, 12, 12], (g, x) => {
      let h = relu(g, conv(g, x, 3, 36, 1));
      for (let i = 0; i < 6; i++) h = bottleneck(g, h, 36, 20, 36, 1, 10 * (i + 1));
      return h;
    });
    for (const [what, b] of [['vgg', vgg], ['short', short], ['leaky', leaky], ['odd channels', odd]] as const) {
      const { on } = await checkPass(b, 'blockedLayout');
      assert.strictEqual(on.plan().passes.blockedLayout, 0, what);
      assert.strictEqual(blockedSteps(on.plan()), 0, what);
    }
  });

  it('keeps a DenseNet-like net blocked: concats of whole blocks (in place), input affines, BatchNorm-ReLUs, 32-channel 3x3s', async () => {
    for (const threads of [1, 2]) await withThreads(threads, async () => {
      const net = denseNetLike(2, 4, 32);
      const b = build([1, 3, 24, 24], net.g);
      const { on, off } = await checkPass(b, 'blockedLayout');
      const p = on.plan();
      assert.strictEqual(p.passes.blockedLayout, taken(net.convs));
      assert.strictEqual(blockedSteps(p), taken(net.convs));
      assert.strictEqual(p.ops.TfToBlocked, undefined);
      assert.strictEqual(p.ops.TfFromBlocked, undefined);
      // every concat input written in place (the convs write their slice of the buffer)
      assert.strictEqual(p.passes.concatInPlace, 2 * 8);
      // the BN-ReLUs before the 1x1s run inside them; the transition's and the last one alone
      const affineConvs = p.stepList.filter((x) => x.op === 'Conv' && /input affine\+relu/.test(x.detail ?? ''));
      assert.strictEqual(affineConvs.length, 8);
      if (blockedLanes() > 1) {
        assert.ok(affineConvs.every((x) => /\(NCHWc\)$/.test(x.kernel ?? '')), JSON.stringify(affineConvs));
        const affines = p.stepList.filter((x) => x.op === 'TfAffine');
        assert.ok(affines.length > 0 && affines.every((x) => /^NCHWc/.test(x.detail ?? '')), JSON.stringify(affines));
      }
      assert.strictEqual(blockedSteps(off.plan()), 0);
      await expectAsyncMatchesSync(on, b.feeds);
    });
  });

  it('concats the blocked layout cannot keep: a copied input, channels off the block (the planned graph still computes the same)', async () => {
    // a concat that reads one value twice copies it (no slice can hold both): the blocked 1x1
    // after it reads the copied concat, not its inputs
    const twice = build([1, 3, 16, 16], (g, x) => {
      let h = relu(g, conv(g, x, 3, 32, 1));
      for (let i = 0; i < 4; i++) h = bottleneck(g, h, 32, 16, 32, 1, 10 * (i + 1));
      h = g.node('Concat', [h, h], 1, { axis: 1 })[0];
      for (let i = 0; i < 4; i++) h = bottleneck(g, h, 64, 16, 64, 1, 100 + 10 * i);
      return g.node('GlobalAveragePool', [h], 1)[0];
    });
    const { on } = await checkPass(twice, 'blockedLayout');
    assert.strictEqual(on.plan().passes.blockedLayout, taken(25));
    // the concat copies blocked floats (no reorder around it) and still runs
    assert.strictEqual(on.plan().ops.Concat, 1);
    assert.strictEqual(on.plan().ops.TfToBlocked, undefined);
    assert.strictEqual(on.plan().ops.TfFromBlocked, undefined);
    // growth 8: whole blocks of AVX2's 8 lanes, not of AVX-512's 16 (there the concats are edges)
    for (const threads of [1, 2]) await withThreads(threads, () => checkPass(build([1, 3, 16, 16], denseNetLike(2, 3, 8).g), 'blockedLayout'));
  });

  it('a blocked graph output and a concat of blocked values as a graph output work (reorders under the original names)', async () => {
    const b = build([1, 3, 12, 12], (g, x) => {
      let h = relu(g, conv(g, x, 3, 32, 1));
      for (let i = 0; i < 9; i++) h = bottleneck(g, h, 32, 16, 32, 1, 10 * (i + 1));
      // the last block's output feeds a concat (NCHW) and is a graph output itself
      g.output(h);
      return g.node('Concat', [h, relu(g, conv(g, h, 32, 16, 900))], 1, { axis: 1 })[0];
    });
    const { on } = await checkPass(b, 'blockedLayout');
    assert.strictEqual(on.plan().passes.blockedLayout, taken(29), JSON.stringify(on.plan().passes));
    assert.strictEqual(on.plan().ops.TfFromBlocked ?? 0, taken(2));
    assert.strictEqual(on.outputs.length, 2);
    const out = on.run(b.feeds);
    for (const o of on.outputs) assert.ok(out[o.name] instanceof Tensor && out[o.name].shape.length === 4, o.name);
    // the feeds are untouched
    assert.deepStrictEqual(Array.from(b.feeds.x.data), Array.from(feedsFor([['x', [1, 3, 12, 12]]]).x.data));
  });
});
