// The async twins: they resolve to the output tensor with the right values, many of them
// can be in flight at once, the inputs a caller drops stay alive until the work is done,
// and resizing the thread pool while work is in flight is safe.
import * as assert from 'assert';
import { Tensor, add, addAsync, concat, concatAsync, mul, mulAsync, runtime } from '../lib';
import * as ref from '../lib/reference';
import { collectGarbage, expectBitExact, randomTensor } from './helpers';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function filled(shape: number[], value: number): Tensor {
  const t = Tensor.empty(shape);
  t.data.fill(value);
  return t;
}

describe('async twins', function () {
  this.timeout(20000);
  const savedThreads = runtime.info().threads;
  afterEach(() => runtime.setThreads(savedThreads));

  describe('resolve to the output tensor', () => {
    for (const [label, sa, sb] of [
      ['same shape, small', [2, 3], [2, 3]],
      ['same shape, large', [4, 300, 300], [4, 300, 300]],
      ['broadcast', [4, 5, 6], [5, 1]],
      ['rank 0', [], []],
    ] as [string, number[], number[]][]) {
      it(`addAsync / mulAsync, ${label}`, async () => {
        const a = randomTensor(sa, 1);
        const b = randomTensor(sb, 2);
        const out = Tensor.empty(ref.broadcastShape(sa, sb));
        const pAdd = addAsync(a, b, { out });
        assert.ok(pAdd instanceof Promise);
        assert.strictEqual(await pAdd, out);
        expectBitExact(out, ref.add(a, b), 'addAsync into out');
        const fresh = await mulAsync(a, b);
        assert.ok(fresh instanceof Tensor);
        assert.notStrictEqual(fresh.data, a.data);
        expectBitExact(fresh, ref.mul(a, b), 'mulAsync fresh');
        // In place.
        if (a.shape.length === out.shape.length) {
          const expected = ref.add(a, b);
          assert.strictEqual(await addAsync(a, b, { out: a }), a);
          expectBitExact(a, expected, 'addAsync in place');
        }
      });
    }

    it('concatAsync, fresh and into out, negative axis', async () => {
      const xs = [randomTensor([2, 3, 4], 1), randomTensor([2, 5, 4], 2), randomTensor([2, 0, 4], 3)];
      const expected = ref.concat(xs, -2);
      const fresh = await concatAsync(xs, -2);
      expectBitExact(fresh, expected);
      const out = Tensor.empty([2, 8, 4]);
      assert.strictEqual(await concatAsync(xs, 1, { out }), out);
      expectBitExact(out, expected);
    });

    it('the caller gets control back before large work finishes (it runs off the main thread)', async () => {
      const a = filled([8, 1024, 1024], 1);
      const b = filled([8, 1024, 1024], 2);
      let settled = false;
      const p = addAsync(a, b).then((r) => {
        settled = true;
        return r;
      });
      assert.strictEqual(settled, false, 'a promise never settles synchronously');
      const r = await p;
      assert.ok(settled);
      assert.strictEqual(r.data[0], 3);
      assert.strictEqual(r.data[r.size - 1], 3);
    });
  });

  it('200 concurrent ops of mixed kinds and sizes all resolve correctly', async () => {
    const jobs: { promise: Promise<Tensor>; expected: ref.RefResult; out?: Tensor }[] = [];
    for (let i = 0; i < 200; i++) {
      const n = [1, 7, 16, 33, 257, 4099, 70000][i % 7];
      const kind = i % 3;
      if (kind === 2) {
        const xs = [randomTensor([2, n], i), randomTensor([2, (i % 5) + 1], i + 1000)];
        const out = i % 2 === 0 ? Tensor.empty([2, n + (i % 5) + 1]) : undefined;
        jobs.push({ promise: concatAsync(xs, 1, out ? { out } : undefined), expected: ref.concat(xs, 1), out });
      } else {
        const a = randomTensor([n], i);
        const b = i % 4 === 0 ? randomTensor([1], i + 1000) : randomTensor([n], i + 1000);
        const out = i % 2 === 0 ? Tensor.empty([n]) : undefined;
        jobs.push({
          promise: (kind === 0 ? addAsync : mulAsync)(a, b, out ? { out } : undefined),
          expected: (kind === 0 ? ref.add : ref.mul)(a, b),
          out,
        });
      }
    }
    const results = await Promise.all(jobs.map((j) => j.promise));
    results.forEach((r, i) => {
      if (jobs[i].out) assert.strictEqual(r, jobs[i].out, `job ${i} must resolve to its out`);
      expectBitExact(r, jobs[i].expected, `job ${i}`);
    });
  });

  describe('inputs the caller drops stay alive until the work is done', () => {
    const shape = [4, 512, 512]; // 4 MiB each: external buffers from the native allocator

    /** Starts ops on inputs that only the ops reference; returns the promises and weak refs to the inputs. */
    function startDropped(count: number) {
      const weak: WeakRef<Float32Array>[] = [];
      const promises: Promise<Tensor>[] = [];
      for (let i = 0; i < count; i++) {
        const a = filled(shape, 1.5);
        const b = filled(shape, 2.25);
        weak.push(new WeakRef(a.data), new WeakRef(b.data));
        promises.push(i % 3 === 2 ? concatAsync([a, b], 0) : (i % 3 === 0 ? addAsync : mulAsync)(a, b));
      }
      return { weak, promises };
    }

    it(`add/mul/concat on dropped inputs (global.gc ${typeof (globalThis as { gc?: unknown }).gc === 'function' ? 'exposed' : 'not exposed: references are only dropped'})`, async () => {
      const { weak, promises } = startDropped(12);
      // Collect while the work is in flight, then churn buffers of the same size: a block
      // freed too early would be handed out again here and overwritten.
      collectGarbage();
      const churn = Array.from({ length: 8 }, () => filled(shape, -99));
      collectGarbage();
      const results = await Promise.all(promises);
      results.forEach((r, i) => {
        if (i % 3 === 2) {
          assert.deepStrictEqual([...r.shape], [8, 512, 512]);
          const half = r.size / 2;
          assert.ok(r.data.subarray(0, half).every((x) => x === 1.5), `concat ${i}: first input`);
          assert.ok(r.data.subarray(half).every((x) => x === 2.25), `concat ${i}: second input`);
        } else {
          const want = i % 3 === 0 ? 3.75 : 3.375;
          assert.ok(r.data.every((x) => x === want), `op ${i}: expected ${want} everywhere`);
        }
      });
      assert.ok(churn.every((t) => t.data[0] === -99));
      // Once settled, the ops let go of their inputs (nothing is kept alive for ever).
      if (collectGarbage()) {
        await tick();
        collectGarbage();
        await tick();
        const alive = weak.filter((w) => w.deref() !== undefined).length;
        assert.strictEqual(alive, 0, `${alive} of ${weak.length} dropped inputs are still alive after their ops settled`);
      }
    });
  });

  describe('runtime.setThreads while work is in flight', () => {
    it('resizing the pool during many large async ops and sync ops gives correct results', async () => {
      const a = randomTensor([3, 301, 300], 5);
      const b = randomTensor([301, 300], 6);
      const expectedAdd = ref.add(a, b);
      const expectedCat = ref.concat([a, a], 1);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 30; i++) {
        pending.push(addAsync(a, b).then((r) => expectBitExact(r, expectedAdd, `addAsync ${i}`)));
        pending.push(concatAsync([a, a], 1).then((r) => expectBitExact(r, expectedCat, `concatAsync ${i}`)));
        runtime.setThreads((i % 3) + 1);
        // The main thread's own large ops share the pool with the async ones.
        expectBitExact(add(a, b), expectedAdd, `add ${i}`);
      }
      await Promise.all(pending);
    });

    it('a large in-place op right after each resize runs every chunk exactly once', () => {
      // An in-place add applied twice to a chunk (or skipped) would change the sums.
      const n = 300000;
      const acc = Tensor.zeros([n]);
      const one = filled([n], 1);
      const rounds = 300;
      for (let i = 0; i < rounds; i++) {
        runtime.setThreads((i % 2) + 1);
        add(acc, one, { out: acc });
        mul(acc, one, { out: acc });
      }
      const wrong = acc.data.findIndex((x) => x !== rounds);
      assert.strictEqual(wrong, -1, `element ${wrong} is ${acc.data[wrong]}, expected ${rounds}`);
    });

    it('setThreads rejects bad counts and keeps the pool usable', async () => {
      assert.throws(() => runtime.setThreads(0), RangeError);
      assert.throws(() => runtime.setThreads(1.5), TypeError);
      runtime.setThreads(2);
      assert.strictEqual(runtime.info().threads, 2);
      const r = await concatAsync([filled([300000], 1), filled([300000], 2)], 0);
      assert.strictEqual(r.data[0], 1);
      assert.strictEqual(r.data[599999], 2);
    });
  });

  it('concat of sync results while async ops run (no interference)', async () => {
    const xs = [randomTensor([64, 4096], 1), randomTensor([64, 4096], 2)];
    const expected = ref.concat(xs, 1);
    const inFlight = Array.from({ length: 8 }, () => concatAsync(xs, 1));
    for (let i = 0; i < 8; i++) expectBitExact(concat(xs, 1), expected, `sync ${i}`);
    (await Promise.all(inFlight)).forEach((r, i) => expectBitExact(r, expected, `async ${i}`));
  });
});
