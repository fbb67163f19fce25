// Leak test: 10^5 small ops and 10^3 large ones with fresh outputs do not grow the
// process's memory beyond a bound. run-all.js runs the unit suites with --expose-gc so the
// test can collect before measuring; without it the ops still run and the bounds still
// hold, with more noise.
//
// Measured on the 2-core dev machine (Node 20, alone and under load from parallel builds):
// the small ops move RSS by -1..+4 MiB; after the large ops RSS ends 0..+30 MiB over the
// warmed-up baseline with --expose-gc and up to +63 MiB without (malloc keeps some freed
// memory), peaking at +30..+150 MiB while GC lags behind the allocations. The bounds leave
// 2-10x headroom while still catching a leak of a persistent reference or a small buffer per
// op (10^5 of them) or of the large outputs (10^3 x 4 MiB = 4 GiB). The synchronous loop
// peaks at about +60 MiB; when outputs were external buffers, released only from the event
// loop, it peaked at +3 GiB.
import * as assert from 'assert';
import { Tensor, add, addAsync, concat, concatAsync, mul, mulAsync } from '../lib';
import { collectGarbage, withInlineLimit } from './helpers';

const MiB = 1024 * 1024;
/** Allowed growth of RSS over the warmed-up baseline after the small ops. */
const SMALL_OPS_RSS_BOUND = 40 * MiB;
/** Allowed growth of RSS over the warmed-up baseline after the large ops. */
const LARGE_OPS_RSS_BOUND = 150 * MiB;
/** Allowed growth of RSS at any point during the large ops (GC runs when V8 chooses). */
const LARGE_OPS_PEAK_BOUND = 1024 * MiB;

function settle(): Promise<number> {
  collectGarbage();
  return new Promise((resolve) =>
    setImmediate(() => {
      // Finalizers of external buffers run after the GC pass; collect once more.
      collectGarbage();
      resolve(process.memoryUsage().rss);
    }),
  );
}

function report(label: string, before: number, after: number, extra = ''): void {
  // eslint-disable-next-line no-console
  console.log(`      ${label}: RSS ${(before / MiB).toFixed(0)} -> ${(after / MiB).toFixed(0)} MiB (${((after - before) / MiB).toFixed(1)} MiB)${extra}`);
}

describe('memory does not leak', function () {
  this.timeout(30000);

  it('10^5 small ops (sync, native kernels and JS path) plus 10^4 small async ops', async () => {
    const a = Tensor.from(new Float32Array(16).fill(1), [1, 16]);
    const b = Tensor.from(new Float32Array(16).fill(2), [1, 16]);
    const row = Tensor.from(new Float32Array(16).fill(3), [16]);
    const out = Tensor.empty([1, 16]);
    const round = (i: number): void => {
      switch (i % 6) {
        case 0: add(a, b); break; // fresh output
        case 1: mul(a, row); break; // broadcast path, fresh output
        case 2: concat([a, b], 1); break;
        case 3: add(a, b, { out }); break;
        case 4: mul(a, b, { out: a }); break;
        default: add(a, a, { out: a }); a.data.fill(1); break;
      }
    };
    const many = async (count: number) => {
      withInlineLimit(0, () => { for (let i = 0; i < count; i++) round(i); });
      for (let i = 0; i < count; i++) round(i); // default limit: tiny same-shape ops run in JS
      for (let i = 0; i < count / 10; i += 100) {
        const batch: Promise<Tensor>[] = [];
        for (let k = 0; k < 100; k++) {
          batch.push([addAsync(a, b), mulAsync(a, row), concatAsync([a, b], 0)][k % 3]);
        }
        await Promise.all(batch);
      }
    };
    await many(10000); // warm-up: JIT, inline caches, the shape intern table
    const before = await settle();
    await many(50000); // 2 x 5·10^4 sync ops + 5·10^3 async ones
    const after = await settle();
    report('small ops', before, after);
    assert.ok(after - before < SMALL_OPS_RSS_BOUND, `RSS grew by ${((after - before) / MiB).toFixed(1)} MiB (bound ${SMALL_OPS_RSS_BOUND / MiB} MiB)`);
    assert.strictEqual(a.data[0], 1); // the in-place rounds kept working on the same memory
  });

  it('10^3 large ops ([1,64,128,128], fresh 4 MiB outputs each time)', async () => {
    const x = Tensor.from(new Float32Array(64 * 128 * 128).fill(1), [1, 64, 128, 128]);
    const y = Tensor.from(new Float32Array(64 * 128 * 128).fill(2), [1, 64, 128, 128]);
    const half = Tensor.from(new Float32Array(32 * 128 * 128).fill(3), [1, 32, 128, 128]);
    const bias = Tensor.from(new Float32Array(64).fill(0.5), [1, 64, 1, 1]);
    const op = async (i: number): Promise<Tensor> => {
      switch (i % 5) {
        case 0: return add(x, y);
        case 1: return mul(x, bias); // broadcast
        case 2: return concat([half, half], 1);
        case 3: return addAsync(x, y);
        default: return concatAsync([half, half], 1);
      }
    };
    for (let i = 0; i < 200; i++) await op(i); // warm-up: the allocator's cache fills
    const before = await settle();
    let peak = before;
    for (let i = 0; i < 1000; i++) {
      const r = await op(i);
      if (r.data[r.size - 1] === 0) assert.fail(`op ${i} left its output unwritten`);
      if (i % 50 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const after = await settle();
    report('large ops', before, after, `, peak +${((peak - before) / MiB).toFixed(0)} MiB`);
    assert.ok(peak - before < LARGE_OPS_PEAK_BOUND, `RSS peaked ${((peak - before) / MiB).toFixed(0)} MiB above the baseline (bound ${LARGE_OPS_PEAK_BOUND / MiB} MiB)`);
    assert.ok(after - before < LARGE_OPS_RSS_BOUND, `RSS grew by ${((after - before) / MiB).toFixed(1)} MiB (bound ${LARGE_OPS_RSS_BOUND / MiB} MiB)`);
  });
  it('a synchronous loop of 800 large ops without `out` frees its outputs as it goes', async () => {
    // No await inside the loop: buffers whose release waits for the event loop (external
    // buffers' finalizers did) would all stay alive, 800 x 4 MiB = 3.2 GiB.
    const x = Tensor.from(new Float32Array(64 * 128 * 128).fill(1), [1, 64, 128, 128]);
    const y = Tensor.from(new Float32Array(64 * 128 * 128).fill(2), [1, 64, 128, 128]);
    for (let i = 0; i < 50; i++) add(x, y);
    const before = await settle();
    let peak = before;
    for (let i = 0; i < 800; i++) {
      const r = add(x, y);
      if (r.data[r.size - 1] !== 3) assert.fail(`op ${i} left its output unwritten`);
      if (i % 25 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const after = await settle();
    report('sync large ops', before, after, `, peak +${((peak - before) / MiB).toFixed(0)} MiB`);
    assert.ok(peak - before < LARGE_OPS_PEAK_BOUND, `RSS peaked ${((peak - before) / MiB).toFixed(0)} MiB above the baseline (bound ${LARGE_OPS_PEAK_BOUND / MiB} MiB)`);
  });
});
