// Kernel batches (lib/native.ts KernelBatch): calls recorded from the JS thread, each checked
// as it comes, then run in order as one task on the libuv pool; a compiled model's runAsync
// queues its steps that way, one task per run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor, loadOnnx } from '../lib';
import { native } from '../lib/native';
import { blockedShape } from '../lib/ops/blocked';
import { randomizeWeights } from '../lib/onnx/randomize';
import { collectGarbage } from './helpers';
import { build, conv } from './onnx-planner-util';

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

describe('kernel batches', () => {
  const nchw = [1, 20, 3, 5];
  const x = Float32Array.from({ length: sizeOf(nchw) }, (_, i) => Math.sin(i));

  it('records calls without running them, then runs them in order (the second reads what the first wrote)', async () => {
    const b = new Float32Array(sizeOf(blockedShape(nchw)));
    const y = new Float32Array(x.length);
    const batch = native.batchBegin();
    assert.strictEqual(native.toBlocked(x, nchw, b, batch), undefined);
    native.fromBlocked(b, nchw, y, batch);
    assert.ok(y.every((v) => v === 0), 'nothing ran while recording');
    assert.strictEqual(await native.batchRun(batch), batch);
    assert.deepStrictEqual(Array.from(y), Array.from(x));
    // Emptied by the run: running it again runs nothing.
    y.fill(0);
    await native.batchRun(batch);
    assert.ok(y.every((v) => v === 0));
  });

  it('checks each call as it is recorded', () => {
    const batch = native.batchBegin();
    assert.throws(() => native.toBlocked(x.subarray(1), nchw, new Float32Array(sizeOf(blockedShape(nchw))), batch), RangeError);
    assert.throws(() => native.softmax(x, 1, 300, 1, new Float32Array(299), batch), RangeError);
  });

  it('batchRun takes only a batch handle', () => {
    assert.throws(() => native.batchRun({} as never), TypeError);
    assert.throws(() => native.batchRun(undefined as never), TypeError);
  });

  it('keeps the arrays of recorded calls alive until the batch has run', async () => {
    const batch = native.batchBegin();
    const out = new Float32Array(sizeOf(blockedShape(nchw)));
    (() => {
      const dropped = x.slice();  // referenced only by the recorded call
      native.toBlocked(dropped, nchw, out, batch);
    })();
    collectGarbage();
    await native.batchRun(batch);
    const back = new Float32Array(x.length);
    native.fromBlocked(out, nchw, back);
    assert.deepStrictEqual(Array.from(back), Array.from(x));
  });

  it('a batch never run (a step threw while recording) lets go of the arrays it held once collected', async () => {
    let released = 0;
    const registry = new FinalizationRegistry(() => { released++; });
    for (let k = 0; k < 50; k++) {
      const held = x.slice();  // referenced only by the abandoned batch's recorded call
      registry.register(held, k);
      native.toBlocked(held, nchw, new Float32Array(sizeOf(blockedShape(nchw))), native.batchBegin());
    }
    // The batch handles' finalizers run from the event loop; then their arrays can go.
    for (let round = 0; round < 10 && released === 0; round++) {
      collectGarbage();
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(released > 0, 'no array held by an abandoned batch was collected');
  });

  it('a model runAsync runs as one batch (no step queued on its own) and matches run()', async () => {
    const file = path.join(__dirname, '..', '..', 'test', 'data', 'onnx-light', 'light_squeezenet.onnx');
    const m = await loadOnnx(randomizeWeights(fs.readFileSync(file), { seed: 3 }).bytes);
    const input = m.inputs[0];
    const feeds = { [input.name]: Tensor.from(Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.cos(i * 0.01)), [1, 3, 224, 224]) };
    const want = m.run(feeds)[m.outputs[0].name].data.slice();
    const calls = { batchRun: 0, conv2dRunAsync: 0 };
    const { batchRun, conv2dRun } = native;
    native.batchRun = (b) => { calls.batchRun++; return batchRun.call(native, b); };
    native.conv2dRun = ((...args: Parameters<typeof conv2dRun>) => {
      if ((args[5] as unknown) === true) calls.conv2dRunAsync++;
      return (conv2dRun as (...a: unknown[]) => unknown).apply(native, args);
    }) as typeof conv2dRun;
    try {
      const got = (await m.runAsync(feeds))[m.outputs[0].name].data;
      assert.deepStrictEqual(Array.from(got), Array.from(want));
    } finally {
      native.batchRun = batchRun;
      native.conv2dRun = conv2dRun;
    }
    assert.deepStrictEqual(calls, { batchRun: 1, conv2dRunAsync: 0 });
  });

  it('a step that cannot be recorded (a JS fallback) ends the batch and runs in its turn: runAsync still matches run()', async () => {
    const b = build([1, 8, 6, 6], (g, x) => {
      const h = conv(g, x, 8, 8, 1);
      const t = g.node('Transpose', [h], 1, { perm: [0, 1, 3, 2] })[0];  // a plain-TS fallback step
      return conv(g, t, 8, 8, 2);
    });
    const m = await loadOnnx(b.bytes);
    assert.ok(m.plan().stepList.some((st) => st.fallback), 'the Transpose runs as a fallback');
    const want = m.run(b.feeds)[m.outputs[0].name].data.slice();
    let batches = 0;
    const { batchRun } = native;
    native.batchRun = (bt) => { batches++; return batchRun.call(native, bt); };
    try {
      const got = (await m.runAsync(b.feeds))[m.outputs[0].name].data;
      assert.deepStrictEqual(Array.from(got), Array.from(want));
    } finally {
      native.batchRun = batchRun;
    }
    assert.strictEqual(batches, 2, 'the conv before the fallback, then the conv after it');
  });
});
