// Where one ONNX model's time goes, layer by layer, in tensorfuse and in onnxruntime-node:
//   node dist/bench/layers.js <model.onnx | light model name> [--threads n] [--runs k] [--out dir]
// Both run the same file (ConstantOfShape weights randomised, seed 1) on the same input in
// this process, taking turns run by run. tensorfuse's times come from Model.profileSteps,
// onnxruntime's from its own profiler (kernel time per node); medians over the runs.
// Convolutions are matched by shape (input, output, kernel) and summed over the layers that
// share it; other ops are summed by op type.
// Writes <out>/layers-<model>.md (default bench/results).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { Tensor, loadOnnx, runtime } from '../lib';
import type { StepProfile } from '../lib/onnx/model';
import { randomizeWeights } from '../lib/onnx/randomize';
import { RESULTS_DIR, applyBenchMalloc, markdownHeader, median, newRunHeader, runIfMain, writeMarkdownReport } from './harness';
import { modelDir } from './models';

interface LayerTime {
  key: string;
  layers: number;
  ms: number;
  flops?: number;
  kernel?: string;
}

/** "Conv [cin,h,w] → [cout,ho,wo] kxk": the key both engines' convolutions map to. */
function convKey(cin: number, h: number, w: number, cout: number, ho: number, wo: number, kh: number, kw: number): string {
  return `Conv [${cin},${h},${w}] → [${cout},${ho},${wo}] ${kh}x${kw}`;
}

const CONV_KEY = /^Conv \[(\d+),(\d+),(\d+)\] → \[(\d+),(\d+),(\d+)\] (\d+)x(\d+)$/;

/**
 * onnxruntime's blocked layout pads channels to its block (SqueezeNet's 1000 classes run as
 * 1008): an onnxruntime conv key that matches no tensorfuse key is renamed to the
 * tensorfuse key it equals with channel counts rounded up to a multiple of 8 or 16.
 */
function matchPadded(ortMap: Map<string, LayerTime>, tfMap: Map<string, LayerTime>): Map<string, LayerTime> {
  const out = new Map<string, LayerTime>();
  for (const [k, t] of ortMap) {
    const o = CONV_KEY.exec(k);
    let key = k;
    if (o && !tfMap.has(k)) {
      const od = o.slice(1).map(Number);
      for (const tk of tfMap.keys()) {
        const td = CONV_KEY.exec(tk)?.slice(1).map(Number);
        const channel = (i: number) => [8, 16].some((b) => Math.ceil(td![i] / b) * b === od[i]) || td![i] === od[i];
        if (td && channel(0) && channel(3) && [1, 2, 4, 5, 6, 7].every((i) => td[i] === od[i])) key = tk;
      }
    }
    out.set(key, { ...t, key });
  }
  return out;
}

function add(map: Map<string, LayerTime>, key: string, ms: number, flops?: number, kernel?: string): void {
  const t = map.get(key) ?? { key, layers: 0, ms: 0, flops: flops === undefined ? undefined : 0, kernel };
  t.layers += 1;
  t.ms += ms;
  if (flops !== undefined) t.flops = (t.flops ?? 0) + flops;
  map.set(key, t);
}


/** Per step of the plan: its median over the profiled runs, aggregated by conv shape or op type. */
function tensorfuseLayers(runs: StepProfile[][]): Map<string, LayerTime> {
  const out = new Map<string, LayerTime>();
  runs[0].forEach((s, i) => {
    const ms = median(runs.map((r) => r[i].ms));
    const c = s.op === 'Conv' && s.kernel ? /^\[\d+,(\d+),(\d+),(\d+)\] → \[\d+,(\d+),(\d+),(\d+)\], (\d+)x(\d+)\/\d+, (.*)$/.exec(s.kernel) : null;
    if (!c) {
      add(out, s.op, ms);
      return;
    }
    const [cin, h, w, cout, ho, wo, kh, kw] = c.slice(1, 9).map(Number);
    const extra = s.detail && /\+skip|sources/.test(s.detail) ? ` (${s.detail})` : '';
    add(out, convKey(cin, h, w, cout, ho, wo, kh, kw), ms, s.flops, `${c[9]}${extra}`);
  });
  return out;
}

type Dims = number[];
interface OrtNodeEvent {
  cat?: string;
  name: string;
  dur: number;
  args?: { op_name?: string; input_type_shape?: Record<string, Dims>[]; output_type_shape?: Record<string, Dims>[] };
}

/** NCHW or onnxruntime's blocked NCHWc ([n, c / b, h, w, b]): channels, height, width. */
function chw(d: Dims): [number, number, number] {
  return d.length === 5 ? [d[1] * d[4], d[2], d[3]] : [d[1], d[2], d[3]];
}

/** Per node: the median of its profiled runs (the first `warmUps` dropped), aggregated as tensorfuseLayers does. */
function ortLayers(events: OrtNodeEvent[], warmUps: number): Map<string, LayerTime> {
  const perNode = new Map<string, { e: OrtNodeEvent; us: number[] }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const n = perNode.get(e.name) ?? { e, us: [] };
    n.us.push(e.dur);
    perNode.set(e.name, n);
  }
  const out = new Map<string, LayerTime>();
  for (const { e, us } of perNode.values()) {
    const ms = median(us.slice(warmUps)) / 1000;
    const op = e.args?.op_name ?? e.name;
    const ins = (e.args?.input_type_shape ?? []).map((o) => Object.values(o)[0]);
    const outs = (e.args?.output_type_shape ?? []).map((o) => Object.values(o)[0]);
    if (op !== 'Conv' || ins.length < 2 || outs.length < 1) {
      add(out, op, ms);
      continue;
    }
    const [cin, h, w] = chw(ins[0]);
    const [cout, ho, wo] = chw(outs[0]);
    const [kh, kw] = [ins[1][2], ins[1][3]];
    add(out, convKey(cin, h, w, cout, ho, wo, kh, kw), ms);
  }
  return out;
}

/**
 * Both engines on the same file and input, taking turns run by run (this machine's speed
 * drifts over seconds; a block of runs per engine would compare different moments): each
 * round one profiled tensorfuse run, then one onnxruntime run with its profiler on.
 */
async function profileBoth(bytes: Uint8Array, x: Tensor, threads: number, runs: number): Promise<{ tf: Map<string, LayerTime>; ort: Map<string, LayerTime> }> {
  const warmUps = 3;
  const m = await loadOnnx(bytes);
  const feeds = { [m.inputs[0].name]: x };
  for (let i = 0; i < warmUps; i++) m.run(feeds);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-layers-'));
  try {
    const s = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: path.join(dir, 'ort'),
    });
    const ortFeeds = { [s.inputNames[0]]: new ort.Tensor('float32', x.data, [...x.shape]) };
    for (let i = 0; i < warmUps; i++) await s.run(ortFeeds);
    const steps: StepProfile[][] = [];
    for (let r = 0; r < runs; r++) {
      steps.push(m.profileSteps(feeds, 1));
      await s.run(ortFeeds);
    }
    s.endProfiling();
    await s.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime-node wrote no profile');
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as OrtNodeEvent[];
    const tf = tensorfuseLayers(steps);
    return { tf, ort: matchPadded(ortLayers(events, warmUps), tf) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function report(runs: number, tfl: Map<string, LayerTime>, orl: Map<string, LayerTime>, facts: string[]): string {
  const keys = [...new Set([...tfl.keys(), ...orl.keys()])];
  const gap = (k: string) => (tfl.get(k)?.ms ?? 0) - (orl.get(k)?.ms ?? 0);
  keys.sort((a, b) => gap(b) - gap(a));
  const f = (v: number | undefined, d = 3) => (v === undefined ? '' : v.toFixed(d));
  const sum = (m: Map<string, LayerTime>) => [...m.values()].reduce((a, t) => a + t.ms, 0);
  const lines = [
    ...facts,
    `- layers: tensorfuse steps (Model.profileSteps) and onnxruntime-node nodes (its profiler's kernel times), the engines taking turns run by run for ${runs} rounds; each step's and node's median over the rounds, convolutions matched by shape and summed over the layers sharing it, other ops summed by type`,
    `- totals per run: tensorfuse ${f(sum(tfl), 2)} ms, onnxruntime-node ${f(sum(orl), 2)} ms`,
    '- sorted by what tensorfuse loses (ms per run); "ort/tf" > 1: tensorfuse faster; onnxruntime convs whose channels its blocked layout padded are matched to the model\'s counts',
    '',
    '| layer | layers | tensorfuse ms | onnxruntime ms | ort/tf | tensorfuse GFLOP/s | onnxruntime GFLOP/s | tensorfuse kernel |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const k of keys) {
    const t = tfl.get(k);
    const o = orl.get(k);
    const flops = t?.flops;
    lines.push(`| ${k} | ${t?.layers ?? o?.layers ?? ''} | ${f(t?.ms)} | ${f(o?.ms)} | ${t && o ? `${(o.ms / t.ms).toFixed(2)}×` : ''} | ` +
      `${flops && t ? f(flops / t.ms / 1e6, 1) : ''} | ${flops && o ? f(flops / o.ms / 1e6, 1) : ''} | ${t?.kernel ?? ''} |`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const program = new Command()
    .argument('<model>', 'an .onnx file, or the name of a test/data/onnx-light model (resnet50, densenet121, ...)')
    .option('-t, --threads <n>', 'threads for both engines', (v) => Number.parseInt(v, 10), 1)
    .option('-r, --runs <k>', 'profiled runs of each engine (taking turns)', (v) => Number.parseInt(v, 10), 15)
    .option('-o, --out <dir>', 'where layers-<model>.md goes', RESULTS_DIR)
    .parse();
  const o = program.opts<{ threads: number; runs: number; out: string }>();
  const arg = program.args[0];
  const file = fs.existsSync(arg) ? arg : path.join(modelDir(), `light_${arg}.onnx`);
  const model = path.basename(file, '.onnx').replace(/^light_/, '');
  const malloc = applyBenchMalloc();
  runtime.setThreads(o.threads);
  const bytes = randomizeWeights(fs.readFileSync(file), { seed: 1 }).bytes;
  const x = Tensor.empty([1, 3, 224, 224]);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.37);
  const header = newRunHeader(`${model}: tensorfuse vs onnxruntime-node layer by layer, ${o.threads} thread(s)`, false);
  const { tf: tfl, ort: orl } = await profileBoth(bytes, x, o.threads, o.runs);
  const facts = [...markdownHeader(header), `- model: ${path.relative(process.cwd(), file)}, input [1,3,224,224], weights randomised (seed 1)`, `- malloc: ${malloc}`];
  const md = report(o.runs, tfl, orl, facts);
  writeMarkdownReport(o.out, `layers-${model}.md`, md);
}

runIfMain(module, main);
