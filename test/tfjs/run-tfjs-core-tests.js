#!/usr/bin/env node
// Runs @tensorflow/tfjs-core's own op test suites (the *_test.js files it publishes in
// dist/) with jasmine against the 'tensorfuse' backend (tensorfuse/tfjs).
//
//   node test/tfjs/run-tfjs-core-tests.js            # the suites of the kernels tensorfuse registers
//   node test/tfjs/run-tfjs-core-tests.js --all      # every suite in tfjs-core's dist/tests.js
//   node test/tfjs/run-tfjs-core-tests.js --filter conv2d   # only specs whose full name matches
//
// tfjs-core ships its dist/*.js as ES modules without "type": "module" (and with
// extensionless imports), so Node cannot load them as they are: a require hook compiles
// each one to CommonJS with the TypeScript compiler (cached under the OS temp dir), and
// every require('@tensorflow/tfjs-core') -- ours, tfjs-backend-cpu's -- is sent to that same
// dist/index.js, so tests, backend and kernels share one tfjs-core (tfjs-backend-cpu's
// ES-module dist/ is loaded the same way).
//
// Specs named in test/tfjs/exclusions.json (a substring of the spec's full name, with the
// reason) are not run. Exits 1 when any spec fails. Prints "N passed, N failed" last.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const Module = require('module');

const root = path.resolve(__dirname, '..', '..');
const coreDir = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json', { paths: [root] }));
const coreDist = path.join(coreDir, 'dist') + path.sep;
const coreVersion = require(path.join(coreDir, 'package.json')).version;
const coreIndex = path.join(coreDist, 'index.js');
// tfjs-backend-cpu's node bundle is ES5 (its classes cannot extend tfjs-core's ES2020 ones):
// load its ES-module dist/ through the same hook.
const cpuDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-cpu/package.json', { paths: [root] })), 'dist') + path.sep;
const cpuIndex = path.join(cpuDist, 'index.js');
const esmDirs = [coreDist, cpuDist];

// The suites of the kernels tensorfuse implements or was asked to (paths under dist/).
const SUITES = [
  'ops/add_test', 'ops/add_n_test', 'ops/arithmetic_test', 'ops/concat_test',
  'ops/conv2d_test', 'ops/conv1d_test', 'ops/conv2d_separable_test', 'ops/fused/fused_conv2d_test',
  'ops/depthwise_conv2d_test', 'ops/fused/fused_depthwise_conv2d_test',
  'ops/max_pool_test', 'ops/avg_pool_test', 'ops/pool_test',
  'ops/relu_test', 'ops/relu6_test', 'ops/sigmoid_test', 'ops/softmax_test',
  'ops/clip_by_value_test', 'ops/leaky_relu_test', 'ops/batchnorm_test', 'ops/pad_test',
  'ops/image/resize_nearest_neighbor_test', 'ops/image/resize_bilinear_test',
  'ops/slice_test', 'ops/split_test',
];

function parseArgs(argv) {
  const o = { all: false, filter: null, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--all') o.all = true;
    else if (argv[i] === '--filter') o.filter = argv[++i];
    else if (argv[i] === '--verbose') o.verbose = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

// ---- ESM -> CommonJS for tfjs-core's dist/ ----
const ts = require('typescript');
const cacheDir = path.join(os.tmpdir(), `tensorfuse-tfjs-core-cjs-${coreVersion}-ts${ts.version}`);

function compiled(filename, source) {
  const st = fs.statSync(filename);
  const key = crypto.createHash('sha1').update(`${filename}:${st.size}:${st.mtimeMs}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch { /* not cached yet */ }
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true, sourceMap: false, inlineSourceMap: false },
  }).outputText;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached);
  } catch { /* the cache is an optimisation */ }
  return out;
}

const jsLoader = Module._extensions['.js'];
Module._extensions['.js'] = function (module, filename) {
  if (esmDirs.some((d) => filename.startsWith(d)) && !/tf-(core|backend-cpu)[^/\\]*\.js$/.test(filename)) {
    const source = fs.readFileSync(filename, 'utf8');
    if (/^\s*(import|export)\s/m.test(source)) {
      module._compile(compiled(filename, source), filename);
      return;
    }
  }
  jsLoader(module, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@tensorflow/tfjs-core') return coreIndex;
  if (request === '@tensorflow/tfjs-backend-cpu') return cpuIndex;
  return resolve.call(this, request, ...rest);
};

// ---- jasmine ----
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const Jasmine = require('jasmine');
  const runner = new Jasmine({ projectBaseDir: root });
  runner.exitOnCompletion = false;
  runner.env.configure({ random: false, stopSpecOnExpectationFailure: false });

  // As tfjs-core's own test setup does: gradients and chained ops (x.add(y)) registered.
  require(path.join(coreDist, 'register_all_gradients.js'));
  require(path.join(coreDist, 'public', 'chained_ops', 'register_all_chained_ops.js'));
  const jasmineUtil = require(path.join(coreDist, 'jasmine_util.js'));
  jasmineUtil.setTestEnvs([{ name: 'tensorfuse', backendName: 'tensorfuse', flags: {}, isDataSync: true }]);

  const tfjs = require(path.join(root, 'dist', 'lib', 'tfjs', 'index.js'));
  tfjs.registerTensorfuseBackend();

  const files = opts.all ? ['tests'] : SUITES;
  for (const f of files) require(path.join(coreDist, `${f}.js`));
  const loaded = Date.now();

  const exclusions = JSON.parse(fs.readFileSync(path.join(__dirname, 'exclusions.json'), 'utf8')).exclusions;
  const filterRe = opts.filter ? new RegExp(opts.filter) : null;
  const excludedHits = new Map();
  runner.env.configure({
    specFilter: (spec) => {
      const name = spec.getFullName();
      if (filterRe && !filterRe.test(name)) return false;
      const ex = exclusions.find((e) => name.includes(e.name));
      if (ex) {
        excludedHits.set(ex.name, (excludedHits.get(ex.name) || 0) + 1);
        return false;
      }
      return true;
    },
  });

  let passed = 0, failed = 0;
  const failures = [];
  runner.configureDefaultReporter({ print: () => {} });
  runner.addReporter({
    specDone(r) {
      if (r.status === 'passed') passed++;
      else if (r.status === 'failed') {
        failed++;
        failures.push(r);
        console.log(`FAILED: ${r.fullName}`);
        for (const e of r.failedExpectations.slice(0, 3)) console.log(`    ${String(e.message).slice(0, 400)}`);
      }
      if (opts.verbose) console.log(`${r.status}: ${r.fullName}`);
    },
    suiteDone(r) {
      for (const e of r.failedExpectations || []) {
        failed++;
        console.log(`FAILED (suite): ${r.fullName}: ${String(e.message).slice(0, 400)}`);
      }
    },
  });
  const result = await runner.execute();
  const stats = tfjs.kernelStats;
  const fast = Object.entries(stats).map(([k, s]) => `${k} ${s.fast}/${s.fast + s.fallback}`).join(', ');
  console.log(`\ntfjs-core ${coreVersion} suites: ${opts.all ? 'all (dist/tests.js)' : SUITES.length + ' files'} on backend 'tensorfuse'`);
  console.log(`kernel calls on the tensorfuse fast path (fast/all): ${fast}`);
  const why = Object.entries(stats).filter(([, s]) => s.fallback > 0)
    .map(([k, s]) => `${k}: ${Object.entries(s.reasons).map(([r, n]) => `${r} ${n}`).join(', ')}`).join('; ');
  if (why) console.log(`cpu-kernel fallbacks by reason: ${why}`);
  const excludedCount = [...excludedHits.values()].reduce((a, b) => a + b, 0);
  console.log(`excluded by test/tfjs/exclusions.json: ${excludedCount} spec(s) over ${excludedHits.size} entr${excludedHits.size === 1 ? 'y' : 'ies'}`);
  console.log(`load ${((loaded - started) / 1000).toFixed(1)} s, run ${((Date.now() - loaded) / 1000).toFixed(1)} s, overall status ${result && result.overallStatus}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
