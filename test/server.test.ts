// The served pipeline (examples/server) as a test: one request's bytes vs the reference FPN
// merge, bad requests answered 400, and a ~3 s load run on loopback (autocannon, server in a
// child process) with zero errors and a bounded event-loop delay. The full load test with its
// 10 ms p99 bar is `npm run loadtest` (numbers in examples/server/README.md); here the bound is
// looser because `npm test` shares the machine with whatever else runs.
import * as assert from 'assert';
import * as path from 'path';
import { Tensor } from '../lib';
import { fpnMergeRef } from '../lib/reference';
import { expectNear, tolFor } from './fusion-util';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const serverDir = path.resolve(__dirname, '..', '..', 'examples', 'server');
/* eslint-disable @typescript-eslint/no-var-requires */
const { createServer } = require(path.join(serverDir, 'server.js'));
const { fpnWeights, seeded, DEFAULT_GEOMETRY } = require(path.join(serverDir, 'pipeline.js'));
const { loadTest } = require(path.join(serverDir, 'loadtest.js'));
/* eslint-enable @typescript-eslint/no-var-requires */

const TEST_ELD_P99_MS = 30;

describe('examples/server: FPN merge over HTTP', function () {
  this.timeout(60000);
  const g = DEFAULT_GEOMETRY;

  for (const variant of ['async', 'piscina']) {
    it(`${variant}: a response holds the reference result; bad bodies get 400`, async () => {
      const s = createServer({ variant, computeThreads: 1 });
      try {
        const port = await s.listen(0);
        const input: Float32Array = seeded(s.pipeline.inputElems, 7, 1);
        const res = await fetch(`http://127.0.0.1:${port}/fpn`, { method: 'POST', body: Buffer.from(input.buffer) });
        assert.strictEqual(res.status, 200);
        const got = new Float32Array(await res.arrayBuffer());
        const topN = g.c * g.h * g.w;
        const top = Tensor.from(input.slice(0, topN), [1, g.c, g.h, g.w]);
        const lateral = Tensor.from(input.slice(topN), [1, g.cl, 2 * g.h, 2 * g.w]);
        const w = fpnWeights(g);
        const expected = fpnMergeRef(top, lateral, { lateralConv: w.lateral, smoothConv: w.smooth });
        expectNear({ data: got, shape: [1, g.c, 2 * g.h, 2 * g.w] }, expected, tolFor(g.cl + 9 * g.c), 'response');
        const bad = await fetch(`http://127.0.0.1:${port}/fpn`, { method: 'POST', body: Buffer.alloc(12) });
        assert.strictEqual(bad.status, 400);
        await bad.text();
        const missing = await fetch(`http://127.0.0.1:${port}/nope`);
        assert.strictEqual(missing.status, 404);
        await missing.text();
        assert.strictEqual(s.stats().errors, 0);
      } finally {
        await s.close();
      }
    });
  }

  it('a 3 s load run: zero errors, event-loop delay bounded while the convolutions run', async () => {
    const r = await loadTest({ variant: 'async', duration: 3, connections: 8, warmup: 0.5 });
    // eslint-disable-next-line no-console
    console.log(`      ${r.requestsPerSec} req/s, latency p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms, event-loop delay p99 ${r.eventLoopDelayMs.p99} ms (max ${r.eventLoopDelayMs.max} ms)`);
    assert.ok(r.requests > 50, `only ${r.requests} requests`);
    assert.strictEqual(r.errors, 0);
    assert.strictEqual(r.non2xx, 0);
    assert.ok(r.served >= r.requests, `served ${r.served} < ${r.requests} requests`);
    assert.ok(r.eventLoopDelayMs.p99 < TEST_ELD_P99_MS, `event-loop delay p99 ${r.eventLoopDelayMs.p99} ms`);
  });
});
