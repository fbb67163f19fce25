// End-to-end model latency: ResNet-50, DenseNet-121, Inception v1 and SqueezeNet (the
// onnx-light graphs with seeded random weights), batch 1, 224x224, tensorfuse vs
// onnxruntime-node at 1 and 2 threads, in one run. Each (engine, model, threads) runs in its
// own child process so its peak RSS is its own.
//
//   node dist/bench/models.js [--quick] [--models resnet50,densenet121] [--repeat k]
//
// Writes bench/results/models.json and .md.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BenchOptions, Row, SuiteResult, benchMallocEnv, loadAverage, median, newSuiteResult, textTable, threadCounts, writeResults } from './harness';

export const BENCH_MODELS = ['resnet50', 'densenet121', 'inception_v1', 'squeezenet'];

/** What one child process measured. */
interface ChildResult {
  engine: string;
  model: string;
  threads: number;
  loadSeconds: number;
  maxRssBytes: number;
  /** Seconds of each timed run. */
  times: number[];
}

/** One engine's child runs pooled: times merged, the peak of peak RSS, the median load. */
interface PooledResult extends ChildResult {
  median: number;
  min: number;
  runs: number;
}

const ENGINES = ['tensorfuse', 'onnxruntime-node'];
/** Child processes per (engine, model, threads) in a full run. */
const ROUNDS = 5;

function pooled(runs: ChildResult[]): PooledResult {
  const times = runs.flatMap((r) => r.times);
  return {
    ...runs[0], times, median: median(times), min: Math.min(...times), runs: times.length,
    maxRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)), loadSeconds: median(runs.map((r) => r.loadSeconds)),
  };
}

export function modelDir(): string {
  return path.resolve(__dirname, '..', '..', 'test', 'data', 'onnx-light');
}


/**
 * This process's peak RSS. On Linux, VmHWM: getrusage's maxRSS of a spawned child also
 * counts the parent's RSS when it forked (exec keeps the larger), which is wrong when the
 * parent ran other suites first (`tensorfuse bench`: 5 GiB for every model).
 */
function peakRssBytes(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // no /proc: not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Child: load one model in one engine, time `repeat` runs after 2 warm-ups, print JSON. */
async function child(engine: string, file: string, model: string, threads: number, repeat: number): Promise<void> {
  const shape = [1, 3, 224, 224];
  const x = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  const t0 = process.hrtime.bigint();
  let runOnce: () => Promise<unknown>;
  if (engine === 'tensorfuse') {
    const tf = await import('../lib');
    tf.runtime.setThreads(threads);
    const m = await tf.loadOnnx(file);
    const feeds = { [m.inputs[0].name]: tf.Tensor.from(x, shape) };
    runOnce = async () => m.run(feeds);
  } else {
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 });
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, shape) };
    runOnce = () => s.run(feeds);
  }
  const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await runOnce();
  await runOnce();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const a = process.hrtime.bigint();
    await runOnce();
    times.push(Number(process.hrtime.bigint() - a) / 1e9);
  }
  const r: ChildResult = { engine, model, threads, loadSeconds, maxRssBytes: peakRssBytes(), times };
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

function runChild(engine: string, file: string, model: string, threads: number, repeat: number): ChildResult {
  const r = spawnSync(process.execPath, [__filename, '--child', engine, file, model, String(threads), String(repeat)], {
    encoding: 'utf8', env: { ...process.env, ...benchMallocEnv(), TENSORFUSE_THREADS: String(threads) }, maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${engine} ${model} x${threads} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as ChildResult;
}

/** `workloads` picks models by name (BENCH_MODELS). */
export interface ModelsSuiteOptions extends BenchOptions {
  /** Timed runs per (engine, model, threads); default 20, quick 5. */
  repeat?: number;
}

export async function runModelsSuite(o: ModelsSuiteOptions = {}): Promise<SuiteResult> {
  const { randomizeWeights } = await import('../lib/onnx/randomize');
  const result = newSuiteResult('models', 'End-to-end CNN latency, batch 1, 224x224 (random weights)', o.quick ?? false);
  const repeat = o.repeat ?? (o.quick ? 5 : 20);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-models-'));
  try {
    for (const model of o.workloads ?? BENCH_MODELS) {
      const bytes = randomizeWeights(fs.readFileSync(path.join(modelDir(), `light_${model}.onnx`)), { seed: 1 }).bytes;
      const file = path.join(tmp, `${model}.onnx`);
      fs.writeFileSync(file, bytes);
      for (const threads of threadCounts(o)) {
        // The engines' child processes alternate, a share of the runs each, so that a burst
        // of other load on the machine slows both engines alike. Five rounds: on the shared
        // bench VM a whole process can run 10-15 % slower than the next (per-process medians
        // of one engine 37.6-45.1 ms on ResNet-50), so with three the ratio of the same code
        // swung between 0.94x and 1.05x from run to run.
        const rounds = o.quick ? 2 : ROUNDS;
        const runs: Record<string, ChildResult[]> = Object.fromEntries(ENGINES.map((e) => [e, []]));
        for (let r = 0; r < rounds; r++) {
          for (const engine of ENGINES) {
            o.onProgress?.(`${model} ${engine} x${threads} (round ${r + 1}/${rounds})`);
            runs[engine].push(runChild(engine, file, model, threads, Math.ceil(repeat / rounds)));
          }
        }
        const res: Record<string, PooledResult> = Object.fromEntries(ENGINES.map((e) => [e, pooled(runs[e])]));
        for (const engine of ENGINES) {
          const c = res[engine];
          const row: Row = {
            workload: model, variant: engine, threads, seconds: c.median, minSeconds: c.min, samples: c.runs, rmePercent: 0,
            throughput: null, unit: null, ratios: {}, headline: engine === 'tensorfuse' ? 'tensorfuse' : 'onnxruntime',
            notes: { 'peak RSS MiB': Math.round(c.maxRssBytes / 2 ** 20), 'load s': Math.round(c.loadSeconds * 100) / 100 },
          };
          if (engine === 'tensorfuse') {
            row.ratios['vs onnxruntime'] = res['onnxruntime-node'].median / c.median;
            row.ratios['RSS vs onnxruntime'] = res['onnxruntime-node'].maxRssBytes / c.maxRssBytes;
          }
          result.rows.push(row);
        }
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  result.facts['runs per measurement'] = repeat;
  result.facts['method'] = `${o.quick ? 2 : ROUNDS} child processes per (engine, model, threads), the engines alternating, each timing its share of the runs after 2 warm-ups; median of the pooled runs; peak RSS = the largest VmHWM of those processes (getrusage maxRSS without /proc; includes load)`;
  result.loadAverageAtEnd = loadAverage();
  return result;
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') {
    await child(argv[1], argv[2], argv[3], Number(argv[4]), Number(argv[5]));
    return;
  }
  const quick = argv.includes('--quick');
  const mi = argv.indexOf('--models');
  const ri = argv.indexOf('--repeat');
  const r = await runModelsSuite({
    quick,
    workloads: mi >= 0 ? argv[mi + 1].split(',') : undefined,
    repeat: ri >= 0 ? Number(argv[ri + 1]) : undefined,
    onProgress: (m) => process.stderr.write(`  ${m}\n`),
  });
  console.log(textTable(r.rows));
  for (const p of writeResults(r)) console.log(`wrote ${p}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
