// The API fuzzer (test/fuzz/harness.ts) for ~4 s inside `npm test`: every public op with
// arbitrary arguments returns the reference result or throws TypeError/RangeError. The long
// run (>= 10^5 calls, in a child process so a crash is seen as one) is `npm run fuzz`.
// FUZZ_SEED / FUZZ_MS / FUZZ_RUNS reproduce or lengthen a run.
import * as assert from 'assert';
import { OPS, PUBLIC_FN_NAMES, caseAt, newStats, runCase, runJunkCall, runMixed } from './fuzz/harness';

const SEED = Number(process.env.FUZZ_SEED ?? 20240607);
const BUDGET_MS = Number(process.env.FUZZ_MS ?? 4000);
const MAX_RUNS = Number(process.env.FUZZ_RUNS ?? 1e9);

describe('fuzz: every public op with arbitrary arguments', function () {
  this.timeout(BUDGET_MS + 60000);

  it('each op once per corruption kind (deterministic coverage)', async () => {
    const stats = newStats();
    for (const op of OPS) {
      for (const corruption of ['none', 'junk', 'detach', 'lie', 'overlapOut'] as const) {
        for (const async of [false, true]) await runCase({ op, seed: op.length * 977 + corruption.length, async, corruption }, stats);
      }
    }
    for (const name of PUBLIC_FN_NAMES) for (let s = 0; s < 3; s++) await runJunkCall(name, s * 31 + name.length, stats);
    assert.ok(stats.compared > OPS.length, `only ${stats.compared} results compared`);
  });

  it(`a timed random stream (seed ${SEED}, ${BUDGET_MS} ms)`, async () => {
    const stats = newStats();
    const start = Date.now();
    let i = 0;
    for (; i < MAX_RUNS && Date.now() - start < BUDGET_MS; i++) await runMixed(SEED, i, stats);
    // eslint-disable-next-line no-console
    console.log(`      ${stats.calls} calls: ${stats.compared} compared with the reference, ${stats.typeErrors} TypeError, ${stats.rangeErrors} RangeError`);
    assert.ok(stats.compared > 0);
    void caseAt;
  });
});
