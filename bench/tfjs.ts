// TF.js backends side by side: 'tensorfuse' (tensorfuse/tfjs) vs tfjs-backend-wasm vs
// tfjs-backend-cpu, one thread each (tensorfuse also at 2 threads), on the conv and fusion
// workloads of shared/bench-workloads.md in NHWC (tf.fused.conv2d / depthwiseConv2d with bias;
// the fusion blocks as the TF.js ops they are made of) and the nsfwjs models end to end
// (model.predict on a fixed image, output read back).
//
//   npx tsc -p . && node dist/bench/tfjs.js            # writes bench/results/tfjs.md
//   node dist/bench/tfjs.js --quick --no-write         # shorter, print only
//
// Times are medians of per-call wall times after a warm-up (the first call packs weights,
// compiles wasm, ...); tensorfuse and wasm take turns in rounds (see timeVariants). The
// cpu backend is timed on fewer calls, once: it is 20-60x slower.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { runtime } from '../lib/runtime';
import { applyBenchMalloc, median } from './harness';
import { registerTensorfuseBackend } from '../lib/tfjs';
import { NSFW_MODELS, fixedImage, loadNsfwModel } from '../test/tfjs/nsfw-models';

interface ConvWorkload {
  name: string;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  depthwise?: boolean;
}

const CONVS: ConvWorkload[] = [
  { name: 'CONV3', h: 56, w: 56, cin: 64, cout: 64, k: 3, stride: 1 },
  { name: 'CONV1', h: 56, w: 56, cin: 256, cout: 64, k: 1, stride: 1 },
  { name: 'CONV3S2', h: 56, w: 56, cin: 128, cout: 256, k: 3, stride: 2 },
  { name: 'DW3', h: 56, w: 56, cin: 256, cout: 256, k: 3, stride: 1, depthwise: true },
];

interface Variant {
  label: string;
  backend: 'tensorfuse' | 'wasm' | 'cpu';
  threads: number;
}

const VARIANTS: Variant[] = [
  { label: 'tensorfuse', backend: 'tensorfuse', threads: 1 },
  { label: 'tensorfuse', backend: 'tensorfuse', threads: 2 },
  { label: 'wasm', backend: 'wasm', threads: 1 },
  { label: 'cpu', backend: 'cpu', threads: 1 },
];

interface Row {
  workload: string;
  variant: Variant;
  medianMs: number;
  minMs: number;
  calls: number;
  gflops?: number;
  check?: string;
}

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');


/** Median, fastest and count of per-call times (ms). */
interface Timed {
  median: number;
  min: number;
  calls: number;
}

function summarize(times: number[]): Timed {
  return { median: median(times), min: Math.min(...times), calls: times.length };
}

/**
 * Warm-up, then per-call times (ms) until the budget or the call cap is reached; `share`
 * scales both (a round of timeVariants takes its share of them).
 */
function time(fn: () => void, slow: boolean, share = 1): number[] {
  fn();
  if (!slow) fn();
  const budget = (slow ? 2 : quick ? 1 : 3) * 1000 * share;
  const maxCalls = Math.max(3, Math.ceil((slow ? (quick ? 1 : 3) : quick ? 15 : 50) * share));
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxCalls && (times.length < 3 || performance.now() - start < budget)) {
    if (slow && times.length >= 1 && performance.now() - start > budget) break;
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times;
}

/** A variant's timed call, made once its backend is active, and what frees its tensors. */
interface Prepared {
  run: () => void;
  dispose: () => void;
}

/** Rounds in which the fast backends take turns (cpu, 20-60x slower, runs once, last). */
const ROUNDS = quick ? 2 : 4;

/**
 * Times every variant: the fast ones in alternating rounds, each a share of the calls, so a
 * burst of other load on the shared machine slows them alike; `setup` makes a variant's
 * call after its backend is active (its tensors then live on that backend).
 */
async function timeVariants(setup: (v: Variant) => Promise<Prepared>): Promise<Map<Variant, Timed>> {
  const prepared = new Map<Variant, Prepared>();
  const times = new Map<Variant, number[]>();
  const fast = VARIANTS.filter((v) => v.backend !== 'cpu');
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of fast) {
      await use(v);
      if (!prepared.has(v)) prepared.set(v, await setup(v));
      if (!times.has(v)) times.set(v, []);
      times.get(v)!.push(...time(prepared.get(v)!.run, false, 1 / ROUNDS));
    }
  }
  const out = new Map<Variant, Timed>();
  for (const [v, t] of times) out.set(v, summarize(t));
  for (const v of VARIANTS.filter((q) => q.backend === 'cpu')) {
    await use(v);
    const p = await setup(v);
    prepared.set(v, p);
    out.set(v, summarize(time(p.run, true)));
  }
  for (const p of prepared.values()) p.dispose();
  return out;
}

function seeded(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

async function use(v: Variant): Promise<void> {
  if (v.backend === 'tensorfuse') runtime.setThreads(v.threads);
  if (!(await tf.setBackend(v.backend))) throw new Error(`setBackend(${v.backend}) failed`);
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  return m;
}

async function convRows(facts: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of CONVS) {
    const x = seeded(c.h * c.w * c.cin, 1);
    const wShape: [number, number, number, number] = c.depthwise ? [c.k, c.k, c.cin, 1] : [c.k, c.k, c.cin, c.cout];
    const w = seeded(wShape.reduce((p, q) => p * q), 2);
    const b = seeded(c.cout, 3);
    const oh = Math.ceil(c.h / c.stride), ow = Math.ceil(c.w / c.stride);
    const flops = 2 * c.cout * oh * ow * (c.depthwise ? 1 : c.cin) * c.k * c.k;
    const outputs: Record<string, Float32Array> = {};
    const timed = await timeVariants(async (v) => {
      const xt = tf.tensor4d(x, [1, c.h, c.w, c.cin]);
      const wt = tf.tensor4d(w, wShape);
      const bt = tf.tensor1d(b);
      const run = () => {
        const y = c.depthwise
          ? tf.fused.depthwiseConv2d({ x: xt, filter: wt, strides: c.stride, pad: 'same', bias: bt })
          : tf.fused.conv2d({ x: xt, filter: wt, strides: c.stride, pad: 'same', bias: bt });
        y.dataSync();
        return y;
      };
      const y = run();
      outputs[v.backend] = y.dataSync() as Float32Array;
      y.dispose();
      return { run: () => run().dispose(), dispose: () => tf.dispose([xt, wt, bt]) };
    });
    for (const v of VARIANTS) {
      const t = timed.get(v)!;
      rows.push({ workload: c.name, variant: v, medianMs: t.median, minMs: t.min, calls: t.calls, gflops: flops / (t.median * 1e6) });
    }
    facts.push(`${c.name}: tensorfuse vs cpu max relative difference ${maxRel(outputs.tensorfuse, outputs.cpu).toExponential(1)}, wasm vs cpu ${maxRel(outputs.wasm, outputs.cpu).toExponential(1)}`);
  }
  return rows;
}

/**
 * The fusion workloads of shared/bench-workloads.md as TF.js ops (NHWC): TF.js runs them op by
 * op, so no backend fuses anything here; the rows show each backend's kernels on the blocks'
 * ops (concat, add, 1x1 and 3x3 convs, softmax, split, mul, addN).
 */
interface FusionWorkload {
  name: string;
  /** Multiply-adds x 2 of the convs. */
  flops: number;
  /** The block's output from its inputs and weights (made once per backend). */
  run: (t: tf.Tensor4D[]) => tf.Tensor;
  /** Shapes of the inputs, then of the weights and biases, in the order run takes them. */
  shapes: number[][];
}

const S = 52;
const FUSIONS: FusionWorkload[] = [
  {
    name: 'CATCONV',
    flops: 2 * 128 * S * S * 384,
    shapes: [[1, S, S, 128], [1, S, S, 256], [1, 1, 384, 128], [128]],
    run: ([a, b, w, bias]) => tf.fused.conv2d({ x: tf.concat([a, b], 3) as tf.Tensor4D, filter: w, strides: 1, pad: 'same', bias: bias as unknown as tf.Tensor1D }),
  },
  {
    name: 'ADDCONV',
    flops: 2 * 256 * S * S * 256 * 9,
    shapes: [[1, S, S, 256], [1, S, S, 256], [3, 3, 256, 256], [256]],
    run: ([a, b, w, bias]) => tf.fused.conv2d({ x: tf.add(a, b) as tf.Tensor4D, filter: w, strides: 1, pad: 'same', bias: bias as unknown as tf.Tensor1D }),
  },
  {
    name: 'ASFF3',
    flops: 3 * 2 * 16 * S * S * 256 + 2 * 3 * S * S * 48,
    shapes: [[1, S, S, 256], [1, S, S, 256], [1, S, S, 256], [1, 1, 256, 16], [1, 1, 256, 16], [1, 1, 256, 16], [16], [16], [16], [1, 1, 48, 3], [3]],
    run: (t) => {
      const xs = t.slice(0, 3), ws = t.slice(3, 6), bs = t.slice(6, 9) as unknown as tf.Tensor1D[];
      const level = xs.map((x, i) => tf.fused.conv2d({ x, filter: ws[i], strides: 1, pad: 'same', bias: bs[i], activation: 'relu' }));
      const logits = tf.fused.conv2d({ x: tf.concat(level, 3) as tf.Tensor4D, filter: t[9], strides: 1, pad: 'same', bias: t[10] as unknown as tf.Tensor1D });
      const s = tf.split(tf.softmax(logits), 3, 3);
      return tf.addN(xs.map((x, i) => tf.mul(x, s[i])));
    },
  },
];

async function fusionRows(facts: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const f of FUSIONS) {
    const data = f.shapes.map((shape, i) => seeded(shape.reduce((p, q) => p * q), 10 + i).map((v) => v * 0.2));
    const outputs: Record<string, Float32Array> = {};
    const timed = await timeVariants(async (v) => {
      const ts = f.shapes.map((shape, i) => tf.tensor(data[i], shape) as tf.Tensor as tf.Tensor4D);
      const run = () => {
        const y = tf.tidy(() => f.run(ts));
        const d = y.dataSync() as Float32Array;
        y.dispose();
        return d;
      };
      outputs[v.backend] = run();
      return { run: () => { run(); }, dispose: () => tf.dispose(ts) };
    });
    for (const v of VARIANTS) {
      const t = timed.get(v)!;
      rows.push({ workload: f.name, variant: v, medianMs: t.median, minMs: t.min, calls: t.calls, gflops: f.flops / (t.median * 1e6) });
    }
    facts.push(`${f.name}: tensorfuse vs cpu max relative difference ${maxRel(outputs.tensorfuse, outputs.cpu).toExponential(1)}, wasm vs cpu ${maxRel(outputs.wasm, outputs.cpu).toExponential(1)}`);
  }
  return rows;
}

async function modelRows(facts: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const m of NSFW_MODELS) {
    const probs: Record<string, Float32Array> = {};
    const timed = await timeVariants(async (v) => {
      const model = await loadNsfwModel(m.name);
      const x = tf.tensor4d(fixedImage(m.size), [1, m.size, m.size, 3]);
      const run = () => {
        const y = model.predict(x);
        const d = y.dataSync() as Float32Array;
        y.dispose();
        return d;
      };
      probs[v.backend] = run();
      return { run, dispose: () => { x.dispose(); model.dispose(); } };
    });
    for (const v of VARIANTS) {
      const t = timed.get(v)!;
      rows.push({ workload: m.label, variant: v, medianMs: t.median, minMs: t.min, calls: t.calls });
    }
    facts.push(`${m.name}: probabilities, max relative difference to cpu: tensorfuse ${maxRel(probs.tensorfuse, probs.cpu).toExponential(1)}, wasm ${maxRel(probs.wasm, probs.cpu).toExponential(1)}`);
  }
  return rows;
}

function table(rows: Row[]): string {
  const head = ['workload', 'backend', 'threads', 'median', 'min', 'calls', 'GFLOP/s', 'vs wasm', 'vs cpu'];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const wasm = rows.find((q) => q.workload === r.workload && q.variant.backend === 'wasm');
    const cpu = rows.find((q) => q.workload === r.workload && q.variant.backend === 'cpu');
    const ratio = (q: Row | undefined) => (q && q !== r ? `${(q.medianMs / r.medianMs).toFixed(2)}×` : '');
    lines.push(`| ${[
      r.workload, r.variant.label, r.variant.threads, `${r.medianMs.toFixed(2)} ms`, `${r.minMs.toFixed(2)} ms`, r.calls,
      r.gflops !== undefined ? r.gflops.toFixed(1) : '', ratio(wasm), ratio(cpu),
    ].join(' | ')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const load0 = os.loadavg().map((l) => l.toFixed(2)).join(', ');
  const malloc = applyBenchMalloc();
  registerTensorfuseBackend();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount?: (n: number) => void };
  wasm.setThreadsCount?.(1);
  tf.env().set('PROD', true);  // no cpu-backend notice, no debug checks on any backend
  const facts: string[] = [];
  const rows = [...(await convRows(facts)), ...(await fusionRows(facts)), ...(await modelRows(facts))];
  const info = runtime.info();
  const report = [
    '# TF.js backends: tensorfuse vs tfjs-backend-wasm vs tfjs-backend-cpu',
    '',
    `- command: \`node dist/bench/tfjs.js${quick ? ' --quick' : ''}\``,
    `- date: ${new Date().toISOString()}`,
    `- tensorfuse: isa ${info.isa}; tfjs-core ${tf.version_core}; wasm: ${wasm.setThreadsCount ? 'setThreadsCount(1)' : 'default threads'}; cpu: pure JS, 1 thread`,
    `- CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores; Node ${process.version}`,
    `- load average at start: ${load0}; at end: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`,
    '- convs: NHWC, tf.fused.conv2d / tf.fused.depthwiseConv2d with bias, pad "same", output read back (dataSync); GFLOP/s = 2·Cout·Hout·Wout·(Cin/groups)·k² / median',
    '- fusion blocks (shared/bench-workloads.md, NHWC): CATCONV tf.concat + 1x1 fused.conv2d, ADDCONV tf.add + 3x3 fused.conv2d, ASFF3 three 1x1 convs (+relu), concat, 1x1 conv to 3, softmax, split, mul, addN; TF.js runs them op by op (no backend fuses them); GFLOP/s counts the convs',
    `- malloc: ${malloc}`,
    '- models: nsfwjs (weights shipped in its npm package), input [1, size, size, 3] = fixedImage(size), predict + dataSync',
    `- timing: tensorfuse (1 and 2 threads) and wasm take turns in ${ROUNDS} rounds, each a share of the calls; medians of the pooled per-call times; cpu runs once, after them`,
    '- "vs wasm" / "vs cpu": that backend\'s median / this row\'s median (> 1: this row faster)',
    ...facts.map((f) => `- ${f}`),
    '',
    table(rows),
    '',
  ].join('\n');
  console.log(report);
  if (!args.has('--no-write')) {
    const out = path.resolve(__dirname, '..', '..', 'bench', 'results', 'tfjs.md');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, report);
    console.log(`wrote ${out}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
