// Convolution suite (issue 3 item 4): CONV3, CONV1, CONV3S2, DW3 with tensorfuse (prepacked
// `new Conv2d(w, opts).run(x, { out })`) against onnxruntime-node, at 1 and 2 threads, in
// one run; GFLOP/s, the tf/ort ratio, and each conv's fraction of the FMA peak measured in
// the same run by bench/fma-peak.cc (compiled on the fly with g++).
// Optional: @tensorflow/tfjs-backend-wasm, when it is installed (skipped cleanly if not).
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '../lib/index';
import { Tensor } from '../lib/tensor';
import { runtime } from '../lib/runtime';
import {
  BenchOptions, Contender, Row, SuiteResult, Timing, convFlops, formatSeconds, isSelected, makeRow, measure, measureInterleaved, newSuiteResult,
  randomFill, threadCounts, withThreads, withThreadsAsync,
} from './harness';
import { CONV_WORKLOADS, ConvModelShape, ConvParams, compareArrays, convModel, convOutputShape, convWeightShape, ortModel, randomConvParams, warmUpOrt } from './onnx-model';

// ---- FMA peak ----

export interface FmaPeak {
  isa: string;
  /** GFLOP/s by thread count */
  gflops: Record<number, number>;
}

const FMA_SOURCE = path.resolve(__dirname, '..', '..', 'bench', 'fma-peak.cc');

/** Compiles bench/fma-peak.cc into a temp dir and runs it; null when g++ or the ISA is missing. */
export function measureFmaPeak(threads: readonly number[] = [1, 2], seconds = 0.2, trials = 3): FmaPeak | { error: string } {
  if (os.arch() !== 'x64') return { error: `not x86-64 (${os.arch()})` };
  if (!fs.existsSync(FMA_SOURCE)) return { error: `${FMA_SOURCE} not found` };
  const best = runtime.info().bestIsa;
  const flagSets = best === 'avx512' ? [['-mavx512f', '-mfma'], ['-mavx2', '-mfma']] : best === 'avx2' ? [['-mavx2', '-mfma']] : [];
  if (flagSets.length === 0) return { error: `no AVX2/AVX-512 (best ISA ${best})` };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorfuse-fma-'));
  try {
    const exe = path.join(dir, 'fma-peak');
    let compileError = '';
    for (const flags of flagSets) {
      try {
        execFileSync('g++', ['-O2', ...flags, '-pthread', FMA_SOURCE, '-o', exe], { stdio: 'pipe' });
        compileError = '';
        break;
      } catch (err) {
        compileError = err instanceof Error ? err.message.split('\n')[0] : String(err);
      }
    }
    if (compileError) return { error: `g++ failed: ${compileError}` };
    const peak: FmaPeak = { isa: '', gflops: {} };
    for (const t of threads) {
      const out = execFileSync(exe, [String(t), String(seconds), String(trials)], { encoding: 'utf8' });
      const r = JSON.parse(out.trim()) as { isa: string; gflops: number };
      peak.isa = r.isa;
      peak.gflops[t] = r.gflops;
    }
    return peak;
  } catch (err) {
    return { error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- tensorfuse Conv2d, bound late: it is written alongside this bench ----

export interface Conv2dLike {
  run(x: Tensor, options?: { out?: Tensor }): Tensor;
}
export type Conv2dCtor = new (weight: Tensor, options: Record<string, unknown>) => Conv2dLike;

/**
 * A function or class exported by lib/index.ts, or undefined while it is not exported yet:
 * the benches are written against DESIGN.md and pick ops up as they land.
 */
export function tensorfuseExport<T>(name: string): T | undefined {
  const f = (tf as unknown as Record<string, unknown>)[name];
  return typeof f === 'function' ? (f as T) : undefined;
}

/** The exported Conv2d class, or undefined while lib/index.ts does not export one. */
export function tensorfuseConv2d(): Conv2dCtor | undefined {
  return tensorfuseExport<Conv2dCtor>('Conv2d');
}

/**
 * The workload's conv packed for its input size (inputSize, as README advises for a conv that
 * sees one size; onnxruntime's one-node model has static shapes too).
 */
export function makeTensorfuseConv(Ctor: Conv2dCtor, p: ConvParams, activation?: string): Conv2dLike {
  const s = p.shape;
  return new Ctor(Tensor.from(p.weight, convWeightShape(s)), {
    inputSize: [s.h, s.w],
    ...(activation ? { activation } : {}),
    bias: Tensor.from(p.bias, [s.cout]),
    strides: s.strides,
    pads: s.pads,
    dilations: s.dilations ?? [1, 1],
    groups: s.groups,
  });
}

// ---- optional: tfjs wasm backend ----

interface TfjsLike {
  tensor4d(data: Float32Array, shape: [number, number, number, number]): unknown;
  tensor1d(data: Float32Array): unknown;
  conv2d(x: unknown, filter: unknown, strides: [number, number], pad: unknown): unknown;
  depthwiseConv2d(x: unknown, filter: unknown, strides: [number, number], pad: unknown): unknown;
  add(a: unknown, b: unknown): unknown;
  transpose(x: unknown, perm: number[]): unknown;
  tidy<T>(fn: () => T): T;
  dispose(x: unknown): void;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
}

/** tfjs-core with the wasm backend, or a reason why not. */
async function loadTfjsWasm(threads: number): Promise<TfjsLike | string> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const core = require('@tensorflow/tfjs-core') as TfjsLike;
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const wasm = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount?: (n: number) => void };
    wasm.setThreadsCount?.(threads);
    if (!(await core.setBackend('wasm'))) return 'setBackend("wasm") failed';
    await core.ready();
    return core;
  } catch (err) {
    const m = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return m.includes('Cannot find module') ? 'not installed' : m;
  }
}

/** NHWC input and HWIO filter for tfjs; returns a call that runs the conv + bias and frees it. */
function tfjsConv(t: TfjsLike, p: ConvParams, x: Float32Array): (() => void) | string {
  const s = p.shape;
  if (s.pads[0] !== s.pads[2] || s.pads[1] !== s.pads[3]) return 'asymmetric pads';
  const depthwise = s.groups === s.cin && s.groups === s.cout;
  if (s.groups !== 1 && !depthwise) return 'grouped conv';
  const xt = t.transpose(t.tensor4d(x, [s.n, s.cin, s.h, s.w]), [0, 2, 3, 1]);
  const wOIHW = t.tensor4d(p.weight, convWeightShape(s) as [number, number, number, number]);
  // OIHW → HWIO (conv) or HW(C)(1) (depthwise: O = C, I = 1)
  const filter = t.transpose(wOIHW, depthwise ? [2, 3, 0, 1] : [2, 3, 1, 0]);
  const bias = t.tensor1d(p.bias);
  const pad = [[0, 0], [s.pads[0], s.pads[2]], [s.pads[1], s.pads[3]], [0, 0]];
  return () => {
    const y = t.tidy(() => {
      const c = depthwise ? t.depthwiseConv2d(xt, filter, s.strides, pad) : t.conv2d(xt, filter, s.strides, pad);
      return t.add(c, bias);
    });
    t.dispose(y);
  };
}

// ---- the suite ----

export interface ConvSuiteOptions extends BenchOptions {
  /** Skip the tfjs wasm attempt. */
  skipTfjs?: boolean;
}

function peakNote(row: Row, peak: FmaPeak | null): void {
  if (!peak || row.threads === null || row.throughput === null) return;
  const p = peak.gflops[row.threads];
  if (p) row.notes = { ...row.notes, 'of FMA peak': `${((100 * row.throughput) / p).toFixed(1)} %` };
}

export async function runConvSuite(opts: ConvSuiteOptions = {}): Promise<SuiteResult> {
  const result = newSuiteResult('conv', 'tensorfuse conv2d vs onnxruntime-node (CONV3, CONV1, CONV3S2, DW3)', !!opts.quick);
  const facts = result.facts;
  const threadList = threadCounts(opts);

  // The peak is measured before and after the convs and the best kept: on a shared machine
  // a probe that lost its core to another process would make every fraction look too good.
  opts.onProgress?.('measuring the FMA peak');
  const fma = measureFmaPeak(threadList, 0.1, opts.quick ? 3 : 5);
  const peak = 'error' in fma ? null : fma;
  if ('error' in fma) {
    facts['FMA peak'] = `unknown (${fma.error})`;
    console.log(`peak: unknown (${fma.error})`);
  }

  const Ctor = tensorfuseConv2d();
  if (!Ctor) {
    facts['tensorfuse'] = 'conv2d not available yet (lib/index.ts exports no Conv2d): skipped';
    console.log('conv2d not available yet: tensorfuse rows skipped');
  }

  let tfjs: TfjsLike | undefined;
  if (!opts.skipTfjs) {
    const t = await loadTfjsWasm(1);
    if (typeof t === 'string') facts['tfjs-backend-wasm'] = `skipped (${t})`;
    else {
      tfjs = t;
      facts['tfjs-backend-wasm'] = `backend ${t.getBackend()}, 1 thread, NHWC (input transposed once, outside the timing)`;
    }
  }

  for (const [name, shape] of Object.entries(CONV_WORKLOADS)) {
    if (!isSelected(opts, name)) continue;
    result.rows.push(...(await convRows(name, shape, Ctor, tfjs, opts, facts)));
  }
  if (peak) {
    opts.onProgress?.('measuring the FMA peak again');
    const again = measureFmaPeak(threadList, 0.1, opts.quick ? 3 : 5);
    for (const t of threadList) {
      const before = peak.gflops[t];
      const after = 'error' in again ? 0 : again.gflops[t];
      peak.gflops[t] = Math.max(before, after);
      facts[`FMA peak, ${t} thread(s)`] = `${peak.gflops[t].toFixed(1)} GFLOP/s (${peak.isa}, bench/fma-peak.cc; ` +
        `best of ${before.toFixed(1)} before and ${after.toFixed(1)} after the convs)`;
    }
    for (const r of result.rows) peakNote(r, peak);
  }
  facts['GFLOP/s'] = '2 × N × Cout × Hout × Wout × (Cin / groups) × kh × kw / s; tensorfuse and onnxruntime both include bias';
  facts['ratios'] = '"tf/ort" = onnxruntime median / tensorfuse median at the same thread count (> 1: tensorfuse faster)';
  return result;
}

async function convRows(name: string, shape: ConvModelShape, Ctor: Conv2dCtor | undefined, tfjs: TfjsLike | undefined,
  opts: BenchOptions, facts: SuiteResult['facts']): Promise<Row[]> {
  const p = randomConvParams(shape, 1);
  const xShape = [shape.n, shape.cin, shape.h, shape.w];
  const x = randomFill(new Float32Array(xShape.reduce((a, b) => a * b, 1)), 2);
  const yShape = convOutputShape(shape);
  const flops = convFlops(shape);
  const gf = (t: Timing) => flops / t.median / 1e9;
  const rows: Row[] = [];

  const bytes = convModel(p);
  const conv = Ctor ? makeTensorfuseConv(Ctor, p) : undefined;
  const xt = Tensor.from(x, xShape);
  const out = Tensor.from(new Float32Array(yShape.reduce((a, b) => a * b, 1)), yShape);
  out.data.fill(0);

  const firstRows: Record<string, Row> = {};
  const threadList = threadCounts(opts);
  for (const threads of threadList) {
    const ort = await ortModel(bytes, threads, { x: { data: x, shape: xShape } });
    if (conv && threads === threadList[0]) {
      // Same answer as onnxruntime, or the timing means nothing.
      const expected = await ort.run();
      withThreads(threads, () => conv.run(xt, { out }));
      const cmp = compareArrays(out.data, expected, 1e-3, 1e-3);
      facts[`${name} tensorfuse vs onnxruntime`] = cmp.ok ? `match (max |Δ| ${cmp.maxAbs.toExponential(1)})` : `MISMATCH (max |Δ| ${cmp.maxAbs})`;
    }
    opts.onProgress?.(`${name}: onnxruntime-node warm-up, ${threads} thread(s)`);
    const w = await warmUpOrt(ort, opts.quick);
    facts[`${name} onnxruntime warm-up, ${threads} thread(s)`] = `${w.calls} calls in ${w.seconds.toFixed(1)} s, ` +
      `first batch ${formatSeconds(w.first)}/call, last ${formatSeconds(w.last)}/call`;
    const contenders: Contender[] = [
      { name: `${name}: onnxruntime-node, ${threads} thread(s)`, fn: () => ort.run(), async: true },
      { name: `${name}: onnxruntime-node, preallocated output, ${threads} thread(s)`, fn: () => ort.runInto(), async: true },
    ];
    if (conv) contenders.push({ name: `${name}: tensorfuse Conv2d.run(x, { out }), ${threads} thread(s)`, fn: () => conv.run(xt, { out }) });
    const [to, tp, tt] = await withThreadsAsync(threads, () => measureInterleaved(contenders, opts));
    const tfRow = tt && makeRow(name, 'tensorfuse Conv2d.run (out reused)', threads, tt, gf(tt), 'GFLOP/s', 'tensorfuse');
    await ort.session.release();
    const ortRow = makeRow(name, 'onnxruntime-node', threads, to, gf(to), 'GFLOP/s', 'onnxruntime');
    const ortPre = makeRow(name, 'onnxruntime-node (preallocated output)', threads, tp, gf(tp), 'GFLOP/s');
    if (tfRow) {
      tfRow.ratios['tf/ort'] = to.median / tfRow.seconds;
      tfRow.ratios['tf/ort-prealloc'] = tp.median / tfRow.seconds;
      rows.push(tfRow);
    }
    rows.push(ortRow, ortPre);
    for (const r of [tfRow, ortRow, ortPre]) {
      if (!r) continue;
      const first = firstRows[r.variant];
      if (first) r.ratios['vs 1 thread'] = first.seconds / r.seconds;
      else firstRows[r.variant] = r;
    }
  }

  if (tfjs) {
    const call = tfjsConv(tfjs, p, x);
    if (typeof call === 'string') facts[`${name} tfjs-backend-wasm`] = `skipped (${call})`;
    else {
      const t = measure(`${name}: tfjs-backend-wasm, 1 thread`, call, opts);
      const row = makeRow(name, 'tfjs-backend-wasm (NHWC)', 1, t, gf(t), 'GFLOP/s');
      const ort1 = rows.find((r) => r.variant === 'onnxruntime-node' && r.threads === 1);
      if (ort1) row.ratios['vs ort'] = ort1.seconds / t.median;
      rows.push(row);
    }
  }
  return rows;
}
