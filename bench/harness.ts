// Benchmark harness: times a function with benchmark.js, reports the median time per call
// over benchmark.js's samples, derives throughput (bench-workloads.md formulas), and writes
// a suite's rows to bench/results/<suite>.json and .md with the command that made them.
//
// The machines here are shared and noisy: every figure is a median, and every ratio is
// taken between two measurements of the same run.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Benchmark = require('benchmark');
import { runtime } from '../lib/runtime';

export interface BenchOptions {
  /** Shorter runs (fewer samples); medians stay medians but get noisier. */
  quick?: boolean;
  /** Called with a one-line description before each measurement. */
  onProgress?: (message: string) => void;
  /**
   * Thread counts to measure at, in this order (tensorfuse pool threads, onnxruntime
   * intraOpNumThreads); default DEFAULT_THREADS. "vs 1 thread" ratios are against the first.
   */
  threads?: readonly number[];
  /** Only these workloads (bench-workloads.md names, model names in the models suite); default: all. */
  workloads?: readonly string[];
}

/** bench-workloads.md: single-threaded and two-threaded figures side by side. */
export const DEFAULT_THREADS: readonly number[] = [1, 2];

export function threadCounts(opts: BenchOptions): readonly number[] {
  return opts.threads?.length ? opts.threads : DEFAULT_THREADS;
}

/** Whether the options select this workload. */
export function isSelected(opts: BenchOptions, workload: string): boolean {
  return !opts.workloads || opts.workloads.includes(workload);
}

export interface Timing {
  /** Median over benchmark.js samples of the mean seconds per call within a sample. */
  median: number;
  /** Fastest sample (mean seconds per call within it): the least disturbed by other load. */
  min: number;
  /** Number of samples the median is taken over. */
  samples: number;
  /** benchmark.js relative margin of error of the mean, in percent. */
  rme: number;
  /** Total calls made while sampling. */
  calls: number;
  /** The warm-up before sampling. */
  warmUp?: WarmUp;
}

/** Time budget per measurement, in seconds. */
function maxTime(quick: boolean | undefined): number {
  return quick ? 0.25 : 1.0;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timingOf(bench: Benchmark): Timing {
  const b = bench as Benchmark & { error?: unknown };
  if (b.error) throw b.error instanceof Error ? b.error : new Error(String(b.error));
  const sample = bench.stats.sample;
  if (sample.length === 0) throw new Error(`benchmark ${String(bench.name)} produced no samples`);
  // benchmark.js's `count` is the calls per sample of the last cycle; good enough for a tally.
  return { median: median(sample), min: Math.min(...sample), samples: sample.length, rme: bench.stats.rme, calls: sample.length * bench.count };
}

function benchOptions(quick: boolean | undefined): Benchmark.Options {
  return { maxTime: maxTime(quick), minSamples: quick ? 5 : 10, initCount: 1 };
}

/**
 * Warm-up until steady: batches of calls until a batch's median is within 10 % of the best
 * batch median seen, twice in a row (and at least `minSeconds`), or `maxSeconds` passed.
 * onnxruntime-node needs this: a new session runs 3-15× slower for its first hundreds of
 * calls (DW3: ≈500 calls, 5 s). Every engine gets the same warm-up.
 */
export interface WarmUp {
  calls: number;
  seconds: number;
  /** Median of the first and of the last warm-up batch, seconds per call. */
  first: number;
  last: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** Tracks warm-up batches and says when the timings have settled. */
class Steadiness {
  private readonly start = now();
  private readonly minSeconds: number;
  private readonly maxSeconds: number;
  private calls = 0;
  private best = Infinity;
  private steady = 0;
  private first = NaN;
  private last = NaN;

  constructor(quick: boolean | undefined, private readonly minCalls = 0, maxSeconds?: number) {
    [this.minSeconds, this.maxSeconds] = quick ? [0.1, 3] : [0.3, 10];
    if (maxSeconds !== undefined) this.maxSeconds = maxSeconds;
  }

  /** Whether a batch that began at `batchStart` with `times` so far wants another call. */
  static more(times: readonly number[], batchStart: number): boolean {
    return times.length < 5 || (now() - batchStart < 0.05 && times.length < 1000);
  }

  add(times: readonly number[]): void {
    this.calls += times.length;
    this.last = median(times);
    if (Number.isNaN(this.first)) this.first = this.last;
    this.steady = this.last <= this.best * 1.1 ? this.steady + 1 : 0;
    this.best = Math.min(this.best, this.last);
  }

  done(): boolean {
    const elapsed = now() - this.start;
    return elapsed >= this.maxSeconds || (this.steady >= 2 && elapsed >= this.minSeconds && this.calls >= this.minCalls);
  }

  result(): WarmUp {
    return { calls: this.calls, seconds: now() - this.start, first: this.first, last: this.last };
  }
}

export async function warmUpAsync(fn: () => unknown, quick: boolean | undefined, minCalls = 0, maxSeconds?: number): Promise<WarmUp> {
  const st = new Steadiness(quick, minCalls, maxSeconds);
  while (!st.done()) {
    const times: number[] = [];
    const batchStart = now();
    while (Steadiness.more(times, batchStart)) {
      const t0 = now();
      await fn();
      times.push(now() - t0);
    }
    st.add(times);
  }
  return st.result();
}

/** warmUpAsync for synchronous functions (no awaits between calls). */
export function warmUp(fn: () => unknown, quick: boolean | undefined): WarmUp {
  const st = new Steadiness(quick);
  while (!st.done()) {
    const times: number[] = [];
    const batchStart = now();
    while (Steadiness.more(times, batchStart)) {
      const t0 = now();
      fn();
      times.push(now() - t0);
    }
    st.add(times);
  }
  return st.result();
}

/** Times a synchronous function. */
export function measure(name: string, fn: () => unknown, opts: BenchOptions = {}): Timing {
  opts.onProgress?.(name);
  const w = warmUp(fn, opts.quick); // outside the timer: first-call costs, JIT, engines' own warm-up
  const bench = new Benchmark(name, fn as () => void, { ...benchOptions(opts.quick), async: false });
  bench.run();
  return { ...timingOf(bench), warmUp: w };
}

/** One contender of measureInterleaved: a synchronous call or one returning a promise. */
export interface Contender {
  name: string;
  fn: () => unknown;
  async?: boolean;
}

/** Rounds of measureInterleaved. */
function rounds(quick: boolean | undefined): number {
  return quick ? 3 : 6;
}

function runBenchmark(name: string, fn: () => unknown, isAsync: boolean, options: Benchmark.Options): Promise<Benchmark> {
  return new Promise<Benchmark>((resolve, reject) => {
    const bench: Benchmark = isAsync
      ? new Benchmark(name, {
        ...options,
        defer: true,
        async: true,
        fn: (deferred: { resolve(): void }) => {
          (fn() as Promise<unknown>).then(() => deferred.resolve(), (err: unknown) => {
            bench.abort();
            reject(err);
          });
        },
      } as Benchmark.Options)
      : new Benchmark(name, fn as () => void, { ...options, async: false });
    const failure = () => (bench as Benchmark & { error?: unknown }).error;
    bench.on('complete', () => {
      const err = failure();
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else resolve(bench);
    });
    bench.on('error', () => reject(failure()));
    bench.run();
  });
}

/**
 * Times several contenders in alternating rounds (A B C A B C ...), each round a short
 * benchmark.js run per contender, and pools each one's samples: on a shared machine a burst
 * of other load then slows every contender alike instead of whichever ran during it, so
 * the ratios of the medians stay meaningful. Each contender is warmed up first.
 */
export async function measureInterleaved(contenders: readonly Contender[], opts: BenchOptions = {}): Promise<Timing[]> {
  const warm: WarmUp[] = [];
  for (const c of contenders) {
    opts.onProgress?.(`${c.name} (warm-up)`);
    warm.push(c.async ? await warmUpAsync(c.fn, opts.quick) : warmUp(c.fn, opts.quick));
  }
  const n = rounds(opts.quick);
  const options: Benchmark.Options = { maxTime: maxTime(opts.quick) / n, minSamples: 3, initCount: 1 };
  const samples: number[][] = contenders.map(() => []);
  const calls = contenders.map(() => 0);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[i];
      opts.onProgress?.(`${c.name} (round ${r + 1}/${n})`);
      const bench = await runBenchmark(c.name, c.fn, !!c.async, options);
      samples[i].push(...bench.stats.sample);
      calls[i] += bench.stats.sample.length * bench.count;
    }
  }
  return contenders.map((c, i) => {
    const s = samples[i];
    if (s.length === 0) throw new Error(`benchmark ${c.name} produced no samples`);
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
    // Relative margin of error of the mean (normal approximation), as benchmark.js reports it.
    const rme = s.length > 1 ? (100 * 1.96 * sd) / Math.sqrt(s.length) / mean : 0;
    return { median: median(s), min: Math.min(...s), samples: s.length, rme, calls: calls[i], warmUp: warm[i] };
  });
}

/** Times a function returning a promise (benchmark.js deferred mode); one call at a time. */
export async function measureAsync(name: string, fn: () => Promise<unknown>, opts: BenchOptions = {}): Promise<Timing> {
  opts.onProgress?.(name);
  const w = await warmUpAsync(fn, opts.quick);
  const bench = await runBenchmark(name, fn, true, benchOptions(opts.quick));
  return { ...timingOf(bench), warmUp: w };
}

// ---- derived figures (bench-workloads.md) ----

/** add/mul: two reads and one write of 4 bytes per element. */
export function elementwiseGBs(elements: number, seconds: number): number {
  return (12 * elements) / seconds / 1e9;
}

/** concat: one read and one write of 4 bytes per output element. */
export function concatGBs(outputElements: number, seconds: number): number {
  return (8 * outputElements) / seconds / 1e9;
}

/** Float32Array.prototype.set of `bytes` into `bytes`: one read and one write. */
export function copyGBs(bytes: number, seconds: number): number {
  return (2 * bytes) / seconds / 1e9;
}

export interface ConvShape {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  strides: [number, number];
  pads: [number, number, number, number];
  groups: number;
}

export function convOutputSize(s: ConvShape): [number, number] {
  const ho = Math.floor((s.h + s.pads[0] + s.pads[2] - s.kh) / s.strides[0]) + 1;
  const wo = Math.floor((s.w + s.pads[1] + s.pads[3] - s.kw) / s.strides[1]) + 1;
  return [ho, wo];
}

/** 2 × N × Cout × Hout × Wout × (Cin / groups) × kh × kw */
export function convFlops(s: ConvShape): number {
  const [ho, wo] = convOutputSize(s);
  return 2 * s.n * s.cout * ho * wo * (s.cin / s.groups) * s.kh * s.kw;
}

// ---- results ----

export interface Row {
  workload: string;
  /** What ran: engine and variant, e.g. "tensorfuse (out reused)". */
  variant: string;
  /** Threads the engine was given; null for single-threaded JS baselines. */
  threads: number | null;
  /** Median seconds per call. */
  seconds: number;
  /** Fastest sample's seconds per call. */
  minSeconds: number;
  samples: number;
  rmePercent: number;
  /** Calls and seconds of warm-up before sampling, and the first warm-up batch's median. */
  warmUp?: { calls: number; seconds: number; firstSeconds: number };
  throughput: number | null;
  unit: 'GB/s' | 'GFLOP/s' | null;
  /** Same-run ratios, e.g. { 'vs copy': 0.95 }; > 1 means faster / more than the baseline. */
  ratios: Record<string, number>;
  /** Anything else worth a column: ns per call, fraction of peak, allocator counters. */
  notes?: Record<string, string | number>;
  /**
   * Which side of the headline tensorfuse-vs-onnxruntime comparison this row is, for
   * `tensorfuse bench`'s summary: at most one row per side, workload and thread count.
   */
  headline?: Headline;
}

export type Headline = 'tensorfuse' | 'onnxruntime';

export function makeRow(workload: string, variant: string, threads: number | null, t: Timing,
  throughput: number | null, unit: Row['unit'], headline?: Headline): Row {
  return {
    workload, variant, threads, seconds: t.median, minSeconds: t.min, samples: t.samples, rmePercent: t.rme,
    warmUp: t.warmUp && { calls: t.warmUp.calls, seconds: t.warmUp.seconds, firstSeconds: t.warmUp.first },
    throughput, unit, ratios: {}, ...(headline ? { headline } : {}),
  };
}

export interface SuiteResult {
  suite: string;
  title: string;
  command: string;
  date: string;
  quick: boolean;
  runtime: ReturnType<typeof runtime.info> | null;
  machine: { cpu: string; cores: number; platform: string; node: string; totalMemGiB: number; loadAverageAtStart: number[] };
  /** Load average (1, 5, 15 min) when the suite finished. */
  loadAverageAtEnd?: number[];
  /** Free-form facts measured by the suite (copy bandwidth, FMA peak, skipped engines). */
  facts: Record<string, string | number>;
  rows: Row[];
}

const CLI_BIN = path.resolve(__dirname, '..', '..', 'bin', 'tensorfuse.js');

/** How to run this process again: `npx tensorfuse ...` through the CLI (npx runs it from npm's cache), else `node script ...`. */
export function commandLine(): string {
  const argv1 = process.argv[1] ?? '';
  let real = argv1;
  try {
    real = fs.realpathSync(argv1);
  } catch {
    // not a file (node -e): keep it as it is
  }
  if (real === CLI_BIN) return ['npx tensorfuse', ...process.argv.slice(2)].join(' ');
  const script = path.relative(process.cwd(), argv1) || argv1;
  return ['node', script, ...process.argv.slice(2)].join(' ');
}

export function machineInfo(): SuiteResult['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageAtStart: loadAverage(),
  };
}

/**
 * glibc malloc settings every engine in a bench process runs with: freed memory up to
 * 1 GiB stays in the process and blocks up to 32 MiB come from the heap, not fresh mmaps.
 * On these VMs a first touch of a page costs ≈11 µs, and with glibc's defaults both
 * engines' per-call buffers land on fresh pages some of the time: onnxruntime-node's CONV3
 * then alternates between 1.3 and 4 ms a call and DW3 between 0.7 and 13 ms, which would
 * make every ratio a measure of the allocator. Applied the same way to every engine.
 */
export const BENCH_MALLOC = { trimThresholdBytes: 2 ** 30, mmapThresholdBytes: 32 * 2 ** 20 };

/** The same settings as environment for child processes (glibc tunables, read at start). */
export function benchMallocEnv(): Record<string, string> {
  return { GLIBC_TUNABLES: `glibc.malloc.mmap_threshold=${BENCH_MALLOC.mmapThresholdBytes}:glibc.malloc.trim_threshold=${BENCH_MALLOC.trimThresholdBytes}` };
}

/** Applies BENCH_MALLOC to this process (runtime.retainFreedMemory); returns the fact to record. */
export function applyBenchMalloc(): string {
  const ok = runtime.retainFreedMemory(BENCH_MALLOC.trimThresholdBytes);
  return ok
    ? 'glibc malloc keeps freed memory (trim threshold 1 GiB, mmap threshold 32 MiB) for every engine: runtime.retainFreedMemory in this process, GLIBC_TUNABLES in child processes'
    : 'default (no glibc: runtime.retainFreedMemory unavailable)';
}

/** The facts of a run starting now: command line, date, runtime, machine and its load. */
export function newRunHeader(title: string, quick: boolean): RunHeader {
  return { title, command: commandLine(), date: new Date().toISOString(), quick, runtime: runtime.info(), machine: machineInfo() };
}

export function newSuiteResult(suite: string, title: string, quick: boolean): SuiteResult {
  return { suite, ...newRunHeader(title, quick), facts: {}, rows: [] };
}

export function formatBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(0)} KiB`;
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}

export function formatSeconds(s: number): string {
  if (s < 1e-6) return `${(s * 1e9).toFixed(1)} ns`;
  if (s < 1e-3) return `${(s * 1e6).toFixed(2)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(3)} ms`;
  return `${s.toFixed(3)} s`;
}

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function unionKeys(rows: readonly Row[], pick: (r: Row) => Record<string, unknown> | undefined): string[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(pick(r) ?? {})) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** The rows as a table: one array of cells per line, header first. */
export function tableCells(rows: readonly Row[]): string[][] {
  const ratioKeys = unionKeys(rows, (r) => r.ratios);
  const noteKeys = unionKeys(rows, (r) => r.notes);
  const header = ['workload', 'variant', 'threads', 'median', 'min', 'throughput', ...ratioKeys, ...noteKeys];
  const lines = rows.map((r) => [
    r.workload,
    r.variant,
    r.threads === null ? '-' : String(r.threads),
    formatSeconds(r.seconds),
    formatSeconds(r.minSeconds),
    r.throughput === null ? '-' : `${formatNumber(r.throughput)} ${r.unit}`,
    ...ratioKeys.map((k) => (k in r.ratios ? `${formatNumber(r.ratios[k])}×` : '')),
    ...noteKeys.map((k) => {
      const v = r.notes?.[k];
      return v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : v;
    }),
  ]);
  return [header, ...lines];
}

/** A fixed-width text table for the terminal. */
export function textTable(rows: readonly Row[]): string {
  const cells = tableCells(rows);
  const widths = cells[0].map((_, c) => Math.max(...cells.map((line) => line[c].length)));
  const fmt = (line: string[]) => line.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  return [fmt(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

/** A markdown table from cells, header line first; `|` inside a cell is escaped. */
export function markdownGrid(cells: readonly (readonly string[])[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const line = (l: readonly string[]) => `| ${l.map(esc).join(' | ')} |`;
  return [line(cells[0]), line(cells[0].map(() => '---')), ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  return markdownGrid(tableCells(rows));
}

/** What a results file says about the run that made it. */
export type RunHeader = Pick<SuiteResult, 'title' | 'command' | 'quick' | 'date' | 'runtime' | 'machine' | 'loadAverageAtEnd'>;

/** The title and the run's facts (command, date, runtime, CPU, load average) as markdown lines. */
export function markdownHeader(r: RunHeader): string[] {
  const info = r.runtime ? `isa ${r.runtime.isa} (best ${r.runtime.bestIsa}), pool threads ${r.runtime.threads}, tensorfuse ${r.runtime.version}` : 'n/a';
  return [
    `# ${r.title}`,
    '',
    `- command: \`${r.command}\`${r.quick ? ' (quick mode)' : ''}`,
    `- date: ${r.date}`,
    `- runtime.info(): ${info}`,
    `- CPU: ${r.machine.cpu}, ${r.machine.cores} cores; ${r.machine.platform}; Node ${r.machine.node}`,
    `- load average at start (1, 5, 15 min): ${r.machine.loadAverageAtStart.join(', ')}`,
    ...(r.loadAverageAtEnd ? [`- load average at end: ${r.loadAverageAtEnd.join(', ')}`] : []),
  ];
}

export function markdownReport(r: SuiteResult): string {
  const facts = Object.entries(r.facts).map(([k, v]) => `- ${k}: ${typeof v === 'number' ? formatNumber(v) : v}`);
  return [
    ...markdownHeader(r),
    ...facts,
    '',
    'Times are medians over benchmark.js samples (min: the fastest sample); throughput and every ratio come from medians measured in the same run. Contenders compared by a ratio are timed in alternating rounds (measureInterleaved), so a burst of other load on the machine hits them alike.',
    '',
    markdownTable(r.rows),
    '',
  ].join('\n');
}

export const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'bench', 'results');

/** Writes a standalone tool's markdown report to dir/name, prints it and where it went. */
export function writeMarkdownReport(dir: string, name: string, md: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, name);
  fs.writeFileSync(out, md);
  console.log(md);
  console.log(`wrote ${out}`);
}

/** Runs a standalone tool's main when its file is the entry point; an error exits 1. */
export function runIfMain(mod: NodeModule, main: () => Promise<void>): void {
  if (require.main !== mod) return;
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

export function loadAverage(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

/** Writes bench/results/<suite>.json and .md; returns the paths. */
export function writeResults(r: SuiteResult, dir = RESULTS_DIR): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${r.suite}.json`);
  const md = path.join(dir, `${r.suite}.md`);
  fs.writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  fs.writeFileSync(md, markdownReport(r));
  return [json, md];
}

/** Deterministic pseudo-random fill in [-1, 1) (xorshift), so runs compare. */
export function randomFill(a: Float32Array, seed = 1): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

/** Runs `body` with the tensorfuse pool set to `threads`, restoring the previous size. */
export function withThreads<T>(threads: number, body: () => T): T {
  const before = runtime.info().threads;
  runtime.setThreads(threads);
  try {
    return body();
  } finally {
    runtime.setThreads(before);
  }
}

export async function withThreadsAsync<T>(threads: number, body: () => Promise<T>): Promise<T> {
  const before = runtime.info().threads;
  runtime.setThreads(threads);
  try {
    return await body();
  } finally {
    runtime.setThreads(before);
  }
}
