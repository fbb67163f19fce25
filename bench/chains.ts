// One conv shape in model conditions, tensorfuse vs onnxruntime-node:
//   node dist/bench/chains.js [--shapes 256x14x1,512x7x3,...] [--length 16] [--rounds 10] [--threads n] [--out dir]
// Each shape C x H x k is a chain of `length` identical-shape convs (C -> C channels, k x k,
// stride 1, same padding, each with its own random weights and a Relu), built as one ONNX
// model and run by both engines in this process, taking turns run by run. Inside a chain
// each conv reads what the previous one wrote and its weights come from memory, as in a
// network; onnxruntime keeps its blocked layout from the first conv to the last, so its
// per-conv time is its kernel's, without the reorders a one-node model adds. The ratio per
// conv is onnxruntime's median over tensorfuse's. Each chain also runs as tensorfuse's
// blocked (NCHWc) direct convs, the layout kept from one conv to the next as onnxruntime
// does (lib/ops/blocked.ts; not yet used by model plans), with the reorders into and out of
// it inside the timed run. Writes <out>/chains.md (default bench/results).
import { Command } from 'commander';
import * as ort from 'onnxruntime-node';
import { Tensor, loadOnnx, runtime } from '../lib';
import { BlockedConv2d, blockedShape, fromBlocked, toBlocked } from '../lib/ops/blocked';
import { RESULTS_DIR, applyBenchMalloc, markdownHeader, median, newRunHeader, runIfMain, writeMarkdownReport } from './harness';
import { GraphBuilder, randomConvParams } from './onnx-model';

/** ResNet-50's shapes where the per-layer table shows the largest gaps, and one Winograd one. */
const DEFAULT_SHAPES = '256x14x1,1024x14x1,64x56x1,128x28x1,512x7x3,256x14x3,128x28x3';

interface ChainShape {
  c: number;
  h: number;
  k: number;
}

function parseShapes(spec: string): ChainShape[] {
  return spec.split(',').map((s) => {
    const m = /^(\d+)x(\d+)x(\d+)$/.exec(s.trim());
    if (!m) throw new RangeError(`--shapes: "${s}" is not CxHxk (e.g. 256x14x1)`);
    const [c, h, k] = m.slice(1).map(Number);
    if (c < 1 || h < 1 || k < 1 || k % 2 === 0) throw new RangeError(`--shapes: "${s}" needs positive sizes and an odd kernel`);
    return { c, h, k };
  });
}

function chainParams(s: ChainShape, length: number): ReturnType<typeof randomConvParams>[] {
  const p = (s.k - 1) / 2;
  return Array.from({ length }, (_, i) =>
    randomConvParams({ n: 1, cin: s.c, h: s.h, w: s.h, cout: s.c, kh: s.k, kw: s.k, strides: [1, 1], pads: [p, p, p, p], groups: 1 }, i + 1));
}

function chainModel(s: ChainShape, params: ReturnType<typeof randomConvParams>[]): Uint8Array {
  const g = new GraphBuilder('chain');
  let x = g.input('x', [1, s.c, s.h, s.h]);
  params.forEach((prm, i) => {
    x = g.node('Relu', [g.conv(x, prm)], i === params.length - 1 ? ['y'] : 1)[0];
  });
  g.output('y', [1, s.c, s.h, s.h]);
  return g.bytes();
}

/** The chain as blocked convs (Relu in the epilogue): NCHW in, NCHW out, blocked between. */
function blockedChain(s: ChainShape, params: ReturnType<typeof randomConvParams>[]): { run: (x: Tensor) => Tensor; dispose: () => void } {
  const p = (s.k - 1) / 2;
  const convs = params.map((prm) => new BlockedConv2d(Tensor.from(prm.weight, [s.c, s.c, s.k, s.k]), { bias: prm.bias, activation: 'relu', pads: [p, p, p, p] }));
  const shape = blockedShape([1, s.c, s.h, s.h]);
  const a = Tensor.empty(shape);
  const b = Tensor.empty(shape);
  const y = Tensor.empty([1, s.c, s.h, s.h]);
  return {
    run: (x) => {
      let from = toBlocked(x, { out: a });
      let to = b;
      for (const conv of convs) {
        conv.run(from, { out: to });
        [from, to] = [to, from];
      }
      return fromBlocked(from, s.c, { out: y });
    },
    dispose: () => convs.forEach((c) => c.dispose()),
  };
}


interface ChainResult {
  shape: ChainShape;
  kernel: string;
  tfMs: number;
  ortMs: number;
  /** The blocked chain's ms per conv. */
  blockedMs: number;
  gflop: number;
}

async function runChain(s: ChainShape, length: number, rounds: number, threads: number): Promise<ChainResult> {
  const params = chainParams(s, length);
  const bytes = chainModel(s, params);
  const m = await loadOnnx(bytes);
  const blocked = blockedChain(s, params);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', logSeverityLevel: 3 });
  const data = new Float32Array(s.c * s.h * s.h);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.37);
  const feeds = { x: Tensor.from(data, [1, s.c, s.h, s.h]) };
  const ortFeeds = { x: new ort.Tensor('float32', data, [1, s.c, s.h, s.h]) };
  for (let i = 0; i < 2; i++) {
    m.run(feeds);
    await session.run(ortFeeds);
  }
  const want = m.run(feeds).y.data;
  const got = blocked.run(feeds.x).data;
  for (let i = 0; i < want.length; i++) {
    // Winograd's rounding differs from the direct sums: compare at the models' test tolerance.
    if (Math.abs(got[i] - want[i]) > 1e-3 * Math.max(1, Math.abs(want[i]))) {
      throw new Error(`chain ${s.c}x${s.h}x${s.k}: the blocked chain gives ${got[i]} at ${i}, the model ${want[i]}`);
    }
  }
  const tf: number[] = [];
  const o: number[] = [];
  const bl: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    m.run(feeds);
    tf.push(performance.now() - t0);
    t0 = performance.now();
    await session.run(ortFeeds);
    o.push(performance.now() - t0);
    t0 = performance.now();
    blocked.run(feeds.x);
    bl.push(performance.now() - t0);
  }
  await session.release();
  blocked.dispose();
  const conv = m.plan().stepList.find((st) => st.op === 'Conv');
  return {
    shape: s,
    kernel: conv?.kernel?.replace(/^.*, /, '') ?? '',
    tfMs: median(tf) / length,
    ortMs: median(o) / length,
    blockedMs: median(bl) / length,
    gflop: (2 * s.c * s.c * s.k * s.k * s.h * s.h) / 1e9,
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .option('-s, --shapes <list>', 'comma-separated CxHxk shapes (C channels in and out, HxH map, kxk kernel)', DEFAULT_SHAPES)
    .option('-l, --length <n>', 'convs per chain', (v) => Number.parseInt(v, 10), 16)
    .option('-r, --rounds <n>', 'runs of each engine per shape (taking turns)', (v) => Number.parseInt(v, 10), 10)
    .option('-t, --threads <n>', 'threads for both engines', (v) => Number.parseInt(v, 10), 1)
    .option('-o, --out <dir>', 'where chains.md goes', RESULTS_DIR)
    .parse();
  const o = program.opts<{ shapes: string; length: number; rounds: number; threads: number; out: string }>();
  for (const [name, v] of [['--length', o.length], ['--rounds', o.rounds], ['--threads', o.threads]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  const shapes = parseShapes(o.shapes);
  const malloc = applyBenchMalloc();
  runtime.setThreads(o.threads);
  const header = newRunHeader(`conv chains: tensorfuse vs onnxruntime-node, ${o.threads} thread(s)`, false);
  const lines = [
    ...markdownHeader(header),
    `- each shape: a chain of ${o.length} convs C -> C (k x k, stride 1, same padding, random weights, each followed by a Relu) as one ONNX model; both engines in this process, taking turns run by run for ${o.rounds} rounds; time per conv = median run / ${o.length}`,
    `- malloc: ${malloc}`,
    '- blocked: the same chain as tensorfuse blocked (NCHWc) direct convs, Relu in the epilogue, x reordered into the layout and y out of it inside the timed run; its output checked against the model\'s first',
    '- "ort/tf", "ort/blocked" > 1: tensorfuse faster',
    '',
    '| shape | tensorfuse kernel | tensorfuse ms/conv | onnxruntime ms/conv | ort/tf | tensorfuse GFLOP/s | onnxruntime GFLOP/s | blocked ms/conv | ort/blocked |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of shapes) {
    const r = await runChain(s, o.length, o.rounds, o.threads);
    lines.push(`| [${s.c},${s.h},${s.h}] → ${s.c} ${s.k}x${s.k} | ${r.kernel} | ${r.tfMs.toFixed(3)} | ${r.ortMs.toFixed(3)} | ` +
      `${(r.ortMs / r.tfMs).toFixed(2)}× | ${(r.gflop / r.tfMs * 1e3).toFixed(1)} | ${(r.gflop / r.ortMs * 1e3).toFixed(1)} | ` +
      `${r.blockedMs.toFixed(3)} | ${(r.ortMs / r.blockedMs).toFixed(2)}× |`);
  }
  const md = `${lines.join('\n')}\n`;
  writeMarkdownReport(o.out, 'chains.md', md);
}

runIfMain(module, main);
