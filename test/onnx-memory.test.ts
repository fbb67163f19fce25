// What a loaded ONNX model keeps in memory: its packed weights, not the parsed fp32 ones nor
// the file's bytes; a new plan parses the model again from its source (model-source.ts).
// Also raw-floats.ts, which keeps float weights in the file buffer while the model loads.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadOnnx } from '../lib';
import { randomizeWeights } from '../lib/onnx/randomize';
import { floatsFromRaw } from '../lib/onnx/raw-floats';
import { testDataDir } from './onnx-cases';
import { expectClose } from './onnx-models-util';
import { build, conv } from './onnx-planner-util';

async function collectGarbage(): Promise<void> {
  const gc = (global as { gc?: () => void }).gc;
  if (!gc) throw new Error('run mocha with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r)); // external buffers are freed by their finalizers
  }
}

describe('ONNX model memory', function () {
  this.timeout(60000);
  let dir = '';
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-onnx-memory-')); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('after loading, neither the fp32 weights nor the file bytes stay in memory (DenseNet-121, 31 MiB of weights)', async () => {
    const file = path.join(dir, 'densenet121.onnx');
    fs.writeFileSync(file, randomizeWeights(fs.readFileSync(path.join(testDataDir('onnx-light'), 'light_densenet121.onnx')), { seed: 2 }).bytes);
    await collectGarbage();
    const before = process.memoryUsage();
    const m = await loadOnnx(file);
    await collectGarbage();
    const after = process.memoryUsage();
    const weights = m.plan().weightBytes;
    assert.ok(weights > 30e6, `weights ${weights}`);
    // what V8 sees (JS arrays, file buffers, native output buffers): the arena is 7 MiB
    const grew = (after.external - before.external) + (after.arrayBuffers - before.arrayBuffers);
    assert.ok(grew < weights / 3, `external + array buffers grew by ${grew} B for ${weights} B of weights`);
  });

  it('a new plan re-reads the file; a changed file is reported; keepWeights needs no re-read', async () => {
    let hidden = '';
    const b = build([1, 3, 6, 6], (g, x) => conv(g, g.node('Relu', [(hidden = conv(g, x, 3, 4, 1))], 1)[0], 4, 2, 3));
    const file = path.join(dir, 'small.onnx');
    fs.writeFileSync(file, b.bytes);
    const [m, kept, fromBytes] = await Promise.all([loadOnnx(file), loadOnnx(file, { keepWeights: true }), loadOnnx(b.bytes)]);
    const name = m.outputs[0].name;
    const first = m.run(b.feeds)[name].data;
    // an intermediate output is another plan: the file is parsed again, with the same weights
    const twice = m.run(b.feeds, { outputs: [name, hidden] });
    expectClose('re-parsed plan', twice[name].data, first, 0, 0);
    expectClose('loaded from bytes', fromBytes.run(b.feeds, { outputs: [name, hidden] })[hidden].data, twice[hidden].data, 0, 0);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(b.bytes), Buffer.from([0])])); // size changes
    assert.throws(() => m.plan({ x: [1, 3, 7, 7] }), /changed since the model was loaded/);
    assert.throws(() => m.run(b.feeds, { outputs: [hidden] }), /changed since the model was loaded/);
    expectClose('keepWeights plans without the file', kept.run(b.feeds, { outputs: [hidden] })[hidden].data, twice[hidden].data, 0, 0);
    // the plans made before the change keep running
    expectClose('earlier plan', m.run(b.feeds)[name].data, first, 0, 0);
  });

  it('floatsFromRaw: views into bytes the loader owns (moved into alignment), copies of the caller\'s', () => {
    const owned = new Uint8Array(1024);
    const values = Float32Array.from({ length: 64 }, (_, i) => i - 10.5);
    const bytes = new Uint8Array(values.buffer);
    for (const offset of [8, 9, 10, 11]) {
      owned.fill(0xee);
      owned.set(bytes, offset);
      const raw = owned.subarray(offset, offset + bytes.length);
      const copy = floatsFromRaw(raw, 64);
      assert.deepStrictEqual(Array.from(copy), Array.from(values));
      assert.notStrictEqual(copy.buffer, owned.buffer, `offset ${offset}: the caller's bytes are copied`);
      const view = floatsFromRaw(raw, 64, owned);
      assert.deepStrictEqual(Array.from(view), Array.from(values));
      assert.strictEqual(view.buffer, owned.buffer, `offset ${offset}: owned bytes are not copied`);
      assert.strictEqual(view.byteOffset, offset - (offset % 4));
      assert.strictEqual(owned[offset + bytes.length], 0xee, 'nothing after the payload is touched');
    }
    // a short payload has no room to move into (its header may be 2 bytes): copied
    owned.set(bytes.subarray(0, 16), 9);
    assert.notStrictEqual(floatsFromRaw(owned.subarray(9, 25), 4, owned).buffer, owned.buffer);
  });
});
