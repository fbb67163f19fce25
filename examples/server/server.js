// A node:http server running an FPN merge per request (examples/server/README.md).
//   POST /fpn   body: float32 top [1,C,H,W] then lateral [1,CL,2H,2W]  ->  float32 [1,C,2H,2W]
//   GET  /stats event-loop delay (perf_hooks.monitorEventLoopDelay) and counters as JSON
// Variants: 'async' (default) runs the block through the async API on the libuv pool from the
// main thread, over a pool of reused input/output buffers; 'piscina' hands each request to a
// pool of worker threads (piscina) that run it synchronously, one core each.
//   node examples/server/server.js [--variant async|piscina] [--port 8080]
'use strict';
const http = require('http');
const path = require('path');
const { monitorEventLoopDelay } = require('perf_hooks');
const tf = require('../../');
const { FpnPipeline, DEFAULT_GEOMETRY } = require('./pipeline');

class Semaphore {
  constructor(n) { this.n = n; this.queue = []; }
  acquire() {
    if (this.n > 0) { this.n--; return Promise.resolve(); }
    return new Promise((resolve) => this.queue.push(resolve));
  }
  release() {
    const next = this.queue.shift();
    if (next) next(); else this.n++;
  }
}

// One core is left to the event loop: with every core busy in kernels, the main thread waits
// for a time slice and its delay grows to several ms. computeThreads = cores - 1 (at least 1).
const CORES = require('os').availableParallelism();
const COMPUTE_THREADS = Math.max(1, CORES - 1);

function createServer({ variant = 'async', geometry = DEFAULT_GEOMETRY, slots = 16, computeThreads = COMPUTE_THREADS } = {}) {
  const pipeline = new FpnPipeline(geometry, slots);
  let pool;
  // At most this many blocks compute at once: one op already spreads over the internal pool
  // (runtime.setThreads), so more would only queue more CPU-bound threads behind the event loop.
  const compute = new Semaphore(1);
  if (variant === 'async') tf.runtime.setThreads(computeThreads);
  if (variant === 'piscina') {
    const { Piscina } = require('piscina');
    const n = computeThreads;
    // Each worker runs one request at a time on its own thread; the addon's internal pool is
    // process-wide, so it is set to 1 thread (runtime.setThreads in worker.js): the workers are the parallelism.
    pool = new Piscina({ filename: path.join(__dirname, 'worker.js'), minThreads: n, maxThreads: n, workerData: { geometry }, concurrentTasksPerWorker: 1 });
  }
  // Sampled every 1 ms; a sample is the time between two timer callbacks, so it includes that
  // 1 ms period (an idle loop reads ~1.1 ms): the figures are an upper bound on the delay.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const stats = { served: 0, errors: 0, badRequests: 0 };

  function fail(res, status, message) {
    if (status >= 500) stats.errors++; else stats.badRequests++;
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(message + '\n');
  }

  async function handleFpn(req, res) {
    const declared = Number(req.headers['content-length']);
    if (declared !== pipeline.inputBytes) {
      req.resume();
      return fail(res, 400, `body must be ${pipeline.inputBytes} bytes of float32 (top then lateral), got ${req.headers['content-length']}`);
    }
    const slot = await pipeline.acquire();
    let released = false;
    const release = () => { if (!released) { released = true; pipeline.release(slot); } };
    try {
      // Read the body straight into the slot's reused input buffer.
      let at = 0;
      for await (const chunk of req) {
        if (at + chunk.length > pipeline.inputBytes) throw Object.assign(new Error('body longer than declared'), { status: 400 });
        slot.inputBytes.set(chunk, at);
        at += chunk.length;
      }
      if (at !== pipeline.inputBytes) throw Object.assign(new Error('body shorter than declared'), { status: 400 });
      let body;
      if (pool) {
        const input = slot.input.slice().buffer; // a transferable copy; the slot's buffer stays here
        const result = await pool.run({ input }, { transferList: [input] });
        body = Buffer.from(result);
      } else {
        await compute.acquire();
        let out;
        try {
          out = await pipeline.runAsync(slot);
        } finally {
          compute.release();
        }
        body = Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength); // no copy
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      // The slot (and its output buffer under `body`) is reused once the response is flushed.
      res.on('close', release);
      res.end(body);
      stats.served++;
    } catch (err) {
      release();
      fail(res, err.status || 500, String(err.message || err));
    }
  }

  const server = http.createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/fpn') return void handleFpn(req, res);
    if (req.method === 'GET' && req.url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify(statsSnapshot()));
    }
    req.resume();
    fail(res, 404, 'POST /fpn or GET /stats');
  });
  server.keepAliveTimeout = 10000;

  function statsSnapshot() {
    const ms = (ns) => Number((ns / 1e6).toFixed(3));
    return {
      ...stats,
      variant,
      eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max), mean: ms(eld.mean) },
    };
  }

  return {
    server,
    pipeline,
    stats: statsSnapshot,
    resetStats() { eld.reset(); stats.served = 0; stats.errors = 0; stats.badRequests = 0; },
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve) => server.listen(port, host, () => resolve(server.address().port)));
    },
    async close() {
      eld.disable();
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(resolve));
      if (pool) await pool.destroy();
    },
  };
}

module.exports = { createServer };

if (require.main === module) {
  const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : fallback; };
  const s = createServer({ variant: arg('--variant', 'async') });
  s.listen(Number(arg('--port', 8080))).then((port) => {
    console.log(`tensorfuse FPN server (${arg('--variant', 'async')}) on http://127.0.0.1:${port}/fpn: ${s.pipeline.inputBytes}-byte float32 body -> ${s.pipeline.outBytes} bytes`);
    if (process.send) process.send({ port });
  });
  process.on('message', (m) => {
    if (m === 'stats') process.send({ stats: s.stats() });
    if (m === 'reset') { s.resetStats(); process.send({ reset: true }); }
    if (m === 'close') s.close().then(() => process.exit(0));
  });
}
