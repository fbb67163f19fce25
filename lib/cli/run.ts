// `tensorfuse run model.onnx [--input name=1x3x224x224] [--threads n] [--repeat k]`: loads an
// ONNX model, prints its inputs/outputs and plan, runs it on random input and prints the
// latency percentiles and the time per op type.
import * as fs from 'fs';
import { Command } from 'commander';
import Table from 'cli-table3';
import { runtime } from '../runtime';
import { Tensor } from '../tensor';
import { StepProfile, loadOnnx } from '../onnx';
import { randomizeWeights } from '../onnx/randomize';

interface RunOpts {
  input?: string[];
  threads?: number;
  repeat: number;
  warmup: number;
  optimize: boolean;
  randomWeights?: boolean;
  layers?: number;
}

function parseInputs(specs: string[] | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of specs ?? []) {
    const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(s);
    if (!m) throw new RangeError(`--input ${s}: expected name=1x3x224x224`);
    out[m[1]] = m[2].split('x').map(Number);
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const ms = (s: number) => `${s.toFixed(2)} ms`;

async function runModel(file: string, o: RunOpts): Promise<void> {
  if (o.threads !== undefined) runtime.setThreads(o.threads);
  let bytes: Uint8Array = fs.readFileSync(file);
  if (o.randomWeights) bytes = randomizeWeights(bytes, { seed: 1 }).bytes;
  const given = parseInputs(o.input);
  const t0 = performance.now();
  const model = await loadOnnx(bytes, { optimize: o.optimize, inputShapes: given });
  const loadMs = performance.now() - t0;
  const info = runtime.info();
  console.log(`${file}: opset ${model.opset}${model.producerName ? `, from ${model.producerName}` : ''}; loaded in ${ms(loadMs)}; kernels ${info.isa}, ${info.threads} thread(s)`);
  const io = new Table({ head: ['', 'name', 'shape', 'dtype'] });
  for (const i of model.inputs) io.push(['input', i.name, `[${i.shape.join(',')}]`, i.dtype]);
  for (const i of model.outputs) io.push(['output', i.name, `[${i.shape.join(',')}]`, i.dtype]);
  console.log(io.toString());

  const feeds: Record<string, Tensor> = {};
  for (const i of model.inputs) {
    const shape = given[i.name] ?? i.shape.map((d) => (typeof d === 'number' ? d : NaN));
    if (shape.some((d) => Number.isNaN(d))) throw new RangeError(`input ${i.name} has symbolic dims [${i.shape}]: pass --input ${i.name}=<dims>`);
    const t = Tensor.empty(shape);
    for (let k = 0; k < t.size; k++) t.data[k] = Math.sin(k * 0.37);
    feeds[i.name] = t;
  }
  const plan = model.plan(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.shape.slice()])));
  console.log(`plan: ${plan.nodes} nodes → ${plan.steps} steps (${plan.fusedNodes} fused); intermediates ${(plan.peakBytes / 2 ** 20).toFixed(1)} MiB ` +
    `(unplanned ${(plan.unplannedBytes / 2 ** 20).toFixed(1)} MiB); concat inputs in place ${plan.concatInPlace}, copied ${plan.concatCopied}; ` +
    `in place ${plan.inPlace}; passes ${JSON.stringify(plan.passes)}`);
  if (Object.keys(plan.fallbackOps).length) console.log(`TS fallback steps: ${JSON.stringify(plan.fallbackOps)}`);

  for (let i = 0; i < o.warmup; i++) model.run(feeds);
  const times: number[] = [];
  const profile = new Map<string, number>();
  for (let i = 0; i < o.repeat; i++) {
    const a = performance.now();
    model.run(feeds);
    times.push(performance.now() - a);
  }
  for (let i = 0; i < Math.min(o.repeat, 5); i++) model.profile(feeds, profile);
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`latency over ${o.repeat} runs: p50 ${ms(percentile(sorted, 50))}, p90 ${ms(percentile(sorted, 90))}, p99 ${ms(percentile(sorted, 99))}, min ${ms(sorted[0])}`);
  const total = [...profile.values()].reduce((a, b) => a + b, 0);
  const byOp = new Table({ head: ['op', 'steps', 'ms / run', 'share'] });
  const runs = Math.min(o.repeat, 5);
  for (const [op, t] of [...profile].sort((a, b) => b[1] - a[1])) {
    byOp.push([op + (plan.fallbackOps[op] ? ' (TS fallback)' : ''), String(plan.ops[op] ?? 0), (t / runs).toFixed(2), `${((100 * t) / total).toFixed(1)} %`]);
  }
  console.log(byOp.toString());
  if (o.layers) printSlowestSteps(model.profileSteps(feeds, runs), runs, o.layers);
}

/** The `count` slowest steps: what each computes, its time and, for convolutions, GFLOP/s. */
function printSlowestSteps(steps: StepProfile[], runs: number, count: number): void {
  const total = steps.reduce((a, s) => a + s.ms, 0);
  const table = new Table({ head: ['step', 'op', 'detail', 'ms / run', 'share', 'GFLOP/s'] });
  for (const s of [...steps].sort((a, b) => b.ms - a.ms).slice(0, count)) {
    const ms = s.ms / runs;
    table.push([s.name, s.op, [s.kernel, s.detail].filter((d) => d).join('; '), ms.toFixed(3), `${((100 * s.ms) / total).toFixed(1)} %`, s.flops ? (s.flops / ms / 1e6).toFixed(1) : '']);
  }
  console.log(`the ${Math.min(count, steps.length)} slowest of ${steps.length} steps:`);
  console.log(table.toString());
}

/** Adds the `run` subcommand to the CLI. */
export function registerRun(program: Command): void {
  program
    .command('run <model>')
    .description('load an ONNX model, print its inputs/outputs and plan, time it on random input')
    .option('-i, --input <specs...>', 'input shapes for symbolic dims, name=1x3x224x224')
    .option('-t, --threads <n>', 'threads for the internal pool', (v) => Number.parseInt(v, 10))
    .option('-r, --repeat <k>', 'timed runs', (v) => Number.parseInt(v, 10), 20)
    .option('-w, --warmup <k>', 'untimed runs first', (v) => Number.parseInt(v, 10), 2)
    .option('--no-optimize', 'turn the planner off (no fusion, no buffer reuse)')
    .option('-l, --layers <k>', 'also time each step and list the k slowest (shapes, algorithm, GFLOP/s)', (v) => Number.parseInt(v, 10))
    .option('--random-weights', 'replace ConstantOfShape weights by seeded random ones (the onnx-light models)')
    .action(async (file: string, o: RunOpts) => {
      // --threads before or after `run` (the root command has its own --threads)
      await runModel(file, { ...o, threads: o.threads ?? (program.opts() as { threads?: number }).threads });
    });
}
