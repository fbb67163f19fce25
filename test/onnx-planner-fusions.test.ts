// The planner's conv fusions, one at a time on small graphs: the residual Add in the conv's
// epilogue (fuseResidual), Add → Conv (fuseAddIntoConv) and Concat → Conv (concatConv). Each
// graph runs planned, with the fusion off and unplanned, against onnxruntime (checkPass);
// the plan shows which nodes each step computes.
import * as assert from 'assert';
import { loadOnnx } from '../lib';
import type { ModelPlan, StepInfo } from '../lib/onnx';
import { GraphBuilder } from '../bench/onnx-model';
import { expectClose } from './onnx-models-util';
import { build, checkPass, conv, rand } from './onnx-planner-util';

/** The op types a step computes, from the GraphBuilder's node names (n_<Op>_<k>). */
function fusedOps(s: StepInfo): string[] {
  return s.fused.map((name) => name.replace(/^n_([A-Za-z]+)_\d+$/, '$1'));
}

function convSteps(p: ModelPlan): StepInfo[] {
  return p.stepList.filter((s) => s.op === 'Conv');
}

const relu = (g: GraphBuilder, v: string) => g.node('Relu', [v], 1)[0];

describe('ONNX planner conv fusions (each on a small graph, on vs off vs onnxruntime)', function () {
  this.timeout(30000);

  it('fuseResidual: Conv → Add(·, skip) → Relu is one conv step, and it accumulates into the dying skip', async () => {
    // a ResNet basic block: the block input is the skip; the inner conv's output dies at the add
    const b = build([1, 6, 7, 7], (g, x) => {
      const h = relu(g, conv(g, x, 6, 6, 1));
      const t = relu(g, conv(g, h, 6, 6, 3));
      return relu(g, g.node('Add', [conv(g, t, 6, 6, 5), h], 1)[0]);
    });
    const { on, off } = await checkPass(b, 'fuseResidual');
    const p = on.plan();
    assert.strictEqual(p.passes.fuseResidual, 1);
    assert.deepStrictEqual(p.ops, { Conv: 3 });
    const last = convSteps(p)[2];
    assert.deepStrictEqual(fusedOps(last), ['Conv', 'Add', 'Relu']);
    // h dies at the add, so the conv writes its output over it (skip === out in the kernel)
    assert.strictEqual(last.detail, 'in place, +skip, +relu');
    assert.deepStrictEqual(off.plan().ops, { Conv: 3, Add: 1, Relu: 1 });
  });

  it('fuseResidual: a skip that is read later is not overwritten; a Sum works as an Add', async () => {
    const b = build([1, 4, 6, 6], (g, x) => {
      const h = relu(g, conv(g, x, 4, 4, 1));
      const y = g.node('Sum', [h, conv(g, h, 4, 4, 3)], 1)[0];
      return g.node('Concat', [y, h], 1, { axis: 1 })[0];
    });
    const { on } = await checkPass(b, 'fuseResidual');
    const p = on.plan();
    assert.strictEqual(p.passes.fuseResidual, 1);
    const fused = convSteps(p)[1];
    assert.deepStrictEqual(fusedOps(fused), ['Conv', 'Sum']);
    assert.strictEqual(fused.detail, '+skip');
  });

  it('fuseResidual: a skip that is also the conv input (here through an Identity view) is not overwritten', async () => {
    const b = build([1, 5, 6, 6], (g, x) => {
      const h = relu(g, conv(g, x, 5, 5, 1));
      const view = g.node('Identity', [h], 1)[0]; // kept: a view sharing h's buffer
      return g.node('Add', [conv(g, view, 5, 5, 3), h], 1)[0];
    });
    const { on } = await checkPass(b, 'fuseResidual', { passes: { eliminateIdentity: false } });
    const fused = convSteps(on.plan())[1];
    assert.deepStrictEqual(fusedOps(fused), ['Conv', 'Add']);
    assert.strictEqual(fused.detail, '+skip');
  });

  it('fuseResidual: with two conv addends the later conv absorbs the add (projection shortcut)', async () => {
    const b = build([1, 4, 8, 8], (g, x) => {
      const main = conv(g, relu(g, conv(g, x, 4, 6, 1)), 6, 8, 3);
      const shortcut = conv(g, x, 4, 8, 5, 1);
      return relu(g, g.node('Add', [main, shortcut], 1)[0]);
    });
    const { on, off } = await checkPass(b, 'fuseResidual');
    const steps = convSteps(on.plan());
    assert.strictEqual(steps.length, 3);
    // the shortcut conv comes last in the file: it computes the add, the main branch is its skip
    assert.deepStrictEqual(fusedOps(steps[2]), ['Conv', 'Add', 'Relu']);
    assert.match(steps[2].detail ?? '', /\+skip, \+relu$/);
    assert.strictEqual(off.plan().steps, 5);
  });

  it('fuseResidual: the fused conv moves to the add when the skip is computed after it', async () => {
    const b = build([1, 4, 6, 6], (g, x) => {
      const c = conv(g, x, 4, 4, 1); // first in the file
      const skip = relu(g, conv(g, x, 4, 4, 3)); // computed after c, so c must run later
      return g.node('Add', [c, skip], 1)[0];
    });
    const { on } = await checkPass(b, 'fuseResidual');
    const steps = on.plan().stepList;
    assert.deepStrictEqual(steps.map(fusedOps), [['Conv', 'Relu'], ['Conv', 'Add']]);
  });

  it('fuseResidual leaves alone: a conv with its own activation, a conv output read twice, a broadcasting add', async () => {
    const b = build([1, 4, 5, 5], (g, x) => {
      const a = g.node('Add', [relu(g, conv(g, x, 4, 4, 1)), x], 1)[0]; // act before the add
      const c = conv(g, a, 4, 4, 3);
      const d = g.node('Add', [c, a], 1)[0];
      const e = g.node('Mul', [c, d], 1)[0]; // c is read twice
      const bias = g.initializer('rowBias', new Float32Array(5).fill(0.5), [1, 1, 1, 5]);
      return g.node('Add', [conv(g, e, 4, 4, 5), bias], 1)[0]; // broadcasting constant
    });
    const { on } = await checkPass(b, 'fuseResidual');
    assert.strictEqual(on.plan().passes.fuseResidual, 0);
  });

  it('fuseAddIntoConv: Add(a, b) → Conv and Sum(a, b, c) → 1x1 Conv sum their sources while packing', async () => {
    const b = build([1, 4, 6, 6], (g, x) => {
      const a = relu(g, conv(g, x, 4, 5, 1)), c = relu(g, conv(g, x, 4, 5, 3));
      const y = conv(g, g.node('Add', [a, c], 1)[0], 5, 6, 5);
      const z = relu(g, conv(g, x, 4, 6, 7, 1));
      return conv(g, g.node('Sum', [relu(g, y), z, z], 1)[0], 6, 3, 9, 1);
    });
    const { on, off } = await checkPass(b, 'fuseAddIntoConv');
    const p = on.plan();
    assert.strictEqual(p.passes.fuseAddIntoConv, 2);
    assert.deepStrictEqual(p.ops, { Conv: 5 });
    const fused = convSteps(p).filter((s) => s.fused[0].startsWith('n_Add') || s.fused[0].startsWith('n_Sum'));
    assert.deepStrictEqual(fused.map(fusedOps), [['Add', 'Conv', 'Relu'], ['Sum', 'Conv']]);
    assert.deepStrictEqual(fused.map((s) => s.detail), ['sum of 2 sources, +relu', 'sum of 3 sources']);
    assert.deepStrictEqual(off.plan().ops, { Conv: 5, Add: 1, Sum: 1 });
  });

  it('fuseAddIntoConv and fuseResidual together: act(conv(a + b) + skip) is one step', async () => {
    const b = build([1, 4, 5, 5], (g, x) => {
      const a = relu(g, conv(g, x, 4, 4, 1));
      const y = conv(g, g.node('Add', [a, x], 1)[0], 4, 4, 3);
      return relu(g, g.node('Add', [y, a], 1)[0]);
    });
    const { on } = await checkPass(b, 'fuseAddIntoConv');
    const steps = convSteps(on.plan());
    assert.deepStrictEqual(steps.map(fusedOps), [['Conv', 'Relu'], ['Add', 'Conv', 'Add', 'Relu']]);
    assert.strictEqual(steps[1].detail, 'sum of 2 sources, +skip, +relu');
  });

  it('concatConv: a Concat → Conv that would copy (graph input, batch > 1) is gathered by the conv', async () => {
    const withInput = build([1, 3, 6, 6], (g, x) => conv(g, g.node('Concat', [x, relu(g, conv(g, x, 3, 5, 1))], 1, { axis: 1 })[0], 8, 4, 3));
    const r1 = await checkPass(withInput, 'concatConv');
    assert.strictEqual(r1.on.plan().passes.concatConv, 1);
    assert.strictEqual(r1.on.plan().ops.Concat, undefined);
    assert.strictEqual(r1.on.plan().concatCopied, 0);
    assert.strictEqual(convSteps(r1.on.plan())[1].detail, 'concat of 2 sources');
    assert.strictEqual(r1.off.plan().concatCopied, 1);

    const batch2 = build([2, 3, 5, 5], (g, x) => conv(g, g.node('Concat', [conv(g, x, 3, 2, 1), conv(g, x, 3, 4, 3, 1)], 1, { axis: 1 })[0], 6, 4, 5));
    const r2 = await checkPass(batch2, 'concatConv');
    assert.strictEqual(r2.on.plan().passes.concatConv, 1);
    assert.deepStrictEqual(r2.on.plan().ops, { Conv: 3 });
    // the concat's output is never written: the intermediates are the two branch outputs only
    assert.ok(r2.on.plan().peakBytes < r2.off.plan().peakBytes, `${r2.on.plan().peakBytes} vs ${r2.off.plan().peakBytes}`);
  });

  it('concatConv with a grouped conv: gathered when each input covers whole groups, else copied', async () => {
    const grouped = (g: GraphBuilder, x: string, cin: number, groups: number, seed: number) => {
      const w = g.initializer(g.fresh('Wg'), rand(6 * (cin / groups) * 9, seed, 0.3), [6, cin / groups, 3, 3]);
      return g.node('Conv', [x, w], 1, { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: groups })[0];
    };
    const make = (groups: number) => build([1, 4, 5, 5], (g, x) => grouped(g, g.node('Concat', [x, conv(g, x, 4, 2, 1)], 1, { axis: 1 })[0], 6, groups, 3));
    const whole = await checkPass(make(3), 'concatConv'); // groups of 2 channels: inputs 4 + 2
    assert.strictEqual(whole.on.plan().passes.concatConv, 1);
    const split = await checkPass(make(2), 'concatConv'); // groups of 3 channels: 4 + 2 splits one
    assert.strictEqual(split.on.plan().passes.concatConv, 0);
    assert.strictEqual(split.on.plan().concatCopied, 1);
  });

  it('concatConv: a concat whose inputs all write in place stays (it already costs nothing)', async () => {
    const b = build([1, 4, 6, 6], (g, x) => conv(g, g.node('Concat', [relu(g, conv(g, x, 4, 3, 1)), conv(g, x, 4, 5, 3, 1)], 1, { axis: 1 })[0], 8, 2, 5));
    const { on } = await checkPass(b, 'concatConv');
    assert.strictEqual(on.plan().passes.concatConv, 0);
    assert.strictEqual(on.plan().concatInPlace, 2);
    assert.strictEqual(on.plan().ops.Concat, 1);
  });

  it('fused plans give the same result through runAsync', async () => {
    const b = build([1, 4, 6, 6], (g, x) => {
      const h = relu(g, conv(g, x, 4, 4, 1));
      const s = conv(g, g.node('Add', [h, x], 1)[0], 4, 4, 3);
      const y = relu(g, g.node('Add', [s, h], 1)[0]);
      return conv(g, g.node('Concat', [y, x], 1, { axis: 1 })[0], 8, 3, 5);
    });
    const m = await loadOnnx(b.bytes);
    const p = m.plan();
    assert.deepStrictEqual([p.passes.fuseResidual, p.passes.fuseAddIntoConv, p.passes.concatConv], [1, 1, 1]);
    const name = m.outputs[0].name;
    const sync = m.run(b.feeds)[name].data;
    expectClose('runAsync vs run', (await m.runAsync(b.feeds))[name].data, sync, 0, 0);
  });
});
