// bench/harness measureInterleaved: contenders take turns in rounds and each gets its own
// pooled timing, sync and async alike.
import * as assert from 'assert';
import { measureInterleaved } from '../bench/harness';

/** Busy work of about `n` microseconds' worth of arithmetic (no timers: deterministic). */
function spin(n: number): number {
  let s = 0;
  for (let i = 0; i < n * 200; i++) s += Math.sqrt(i);
  return s;
}

describe('bench harness: measureInterleaved', function () {
  this.timeout(30000);

  it('times every contender in turns, pools its samples, and keeps their order of cost', async () => {
    const order: string[] = [];
    const [light, heavy, asyncHeavy] = await measureInterleaved([
      { name: 'light', fn: () => { order.push('light'); return spin(20); } },
      { name: 'heavy', fn: () => { order.push('heavy'); return spin(200); } },
      { name: 'async heavy', fn: async () => { order.push('async'); return spin(200); }, async: true },
    ], { quick: true });
    for (const t of [light, heavy, asyncHeavy]) {
      assert.ok(t.samples >= 9, `3 rounds of >= 3 samples, got ${t.samples}`);
      assert.ok(t.min > 0 && t.min <= t.median, `min ${t.min} <= median ${t.median}`);
      assert.ok(t.calls >= t.samples && t.warmUp !== undefined);
    }
    // 10x the work: even on a noisy machine the medians keep that order by a wide margin.
    assert.ok(heavy.median > 3 * light.median, `heavy ${heavy.median} vs light ${light.median}`);
    assert.ok(asyncHeavy.median > 3 * light.median, `async heavy ${asyncHeavy.median} vs light ${light.median}`);
    // Turns: after the warm-ups, the light contender runs again after the others have run.
    const lastWarm = order.lastIndexOf('async', order.indexOf('light', order.indexOf('async')));
    const turns = order.slice(lastWarm + 1).filter((c, i, a) => i === 0 || c !== a[i - 1]);
    assert.ok(turns.length >= 9, `3 rounds x 3 contenders in turn, got ${turns.join(',').slice(0, 200)}`);
  });

  it('passes a failing contender\'s error on', async () => {
    let calls = 0;
    await assert.rejects(measureInterleaved([
      { name: 'fails after 30 calls', fn: () => { if (++calls > 30) throw new Error('boom'); return 0; } },
    ], { quick: true }), /boom/);
  });
});
