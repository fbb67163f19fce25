#!/usr/bin/env node
// Load test of examples/server on loopback (bounded in time): forks the server, drives it with
// autocannon, then reports requests/s, latency p50/p99, errors, and the server's event-loop
// delay (perf_hooks.monitorEventLoopDelay, measured inside the server process) while the
// convolutions run.
//   npm run loadtest                                   # both variants, 8 s each
//   node examples/server/loadtest.js --variant async --duration 5 --connections 8 [--json]
// Exits non-zero on any error, non-2xx response, or event-loop delay p99 >= 10 ms (async variant).
'use strict';
const { fork } = require('child_process');
const path = require('path');
const autocannon = require('autocannon');
const { FpnPipeline, seeded, DEFAULT_GEOMETRY } = require('./pipeline');

const ELD_P99_LIMIT_MS = 10;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function ask(child, msg, key) {
  return new Promise((resolve) => {
    const on = (m) => { if (m && m[key] !== undefined) { child.off('message', on); resolve(m[key]); } };
    child.on('message', on);
    child.send(msg);
  });
}

async function loadTest({ variant = 'async', duration = 8, connections = 8, warmup = 1 } = {}) {
  const child = fork(path.join(__dirname, 'server.js'), ['--variant', variant, '--port', '0'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const inputElems = new FpnPipeline(DEFAULT_GEOMETRY, 0).inputElems;
    const body = Buffer.from(seeded(inputElems, 42, 1).buffer);
    const opts = { url: `http://127.0.0.1:${port}/fpn`, method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, connections };
    await autocannon({ ...opts, duration: warmup });
    await ask(child, 'reset', 'reset');
    const r = await autocannon({ ...opts, duration });
    const stats = await ask(child, 'stats', 'stats');
    return {
      variant,
      durationS: duration,
      connections,
      requests: r.requests.total,
      requestsPerSec: Number(r.requests.average.toFixed(1)),
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors + r.timeouts + stats.errors,
      non2xx: r.non2xx,
      served: stats.served,
      eventLoopDelayMs: stats.eventLoopDelayMs,
    };
  } finally {
    child.kill();
  }
}

module.exports = { loadTest, ELD_P99_LIMIT_MS };

if (require.main === module) {
  (async () => {
    const variants = arg('--variant', 'both') === 'both' ? ['async', 'piscina'] : [arg('--variant')];
    const duration = Number(arg('--duration', 8)), connections = Number(arg('--connections', 8));
    let ok = true;
    const { runtime } = require('../../');
    const info = runtime.info();
    console.log(`tensorfuse ${info.version}, ${info.isa}, ${info.threads} pool threads, ${require('os').cpus().length} CPUs; FPN merge top [1,${DEFAULT_GEOMETRY.c},${DEFAULT_GEOMETRY.h},${DEFAULT_GEOMETRY.w}] + lateral [1,${DEFAULT_GEOMETRY.cl},${2 * DEFAULT_GEOMETRY.h},${2 * DEFAULT_GEOMETRY.w}]`);
    for (const variant of variants) {
      const r = await loadTest({ variant, duration, connections });
      if (process.argv.includes('--json')) console.log(JSON.stringify(r));
      console.log(`${variant.padEnd(8)} ${r.requestsPerSec} req/s over ${r.durationS} s x ${r.connections} connections; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; ` +
        `errors ${r.errors}, non-2xx ${r.non2xx}; event-loop delay p50 ${r.eventLoopDelayMs.p50} ms, p99 ${r.eventLoopDelayMs.p99} ms, max ${r.eventLoopDelayMs.max} ms`);
      if (r.errors || r.non2xx || r.requests === 0) ok = false;
      if (variant === 'async' && r.eventLoopDelayMs.p99 >= ELD_P99_LIMIT_MS) ok = false;
    }
    process.exit(ok ? 0 : 1);
  })();
}
