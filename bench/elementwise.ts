// Element-wise suite (issue 2 item 10): ADD-S, ADD-L, ADD-T, CAT-L, CAT-B.
//
// For each workload, in one run: tensorfuse with a reused `out` at 1 and 2 pool threads, a
// naive JS loop, and the copy bandwidth of Float32Array.prototype.set over the same working
// set (half of the bytes the workload touches copied into the other half). For ADD-L it also
// shows what output memory costs: a fresh tensorfuse-allocated output per call, a reused
// `out`, a new Float32Array as `out`, and `new Float32Array(n)` + first fill.
import { Tensor } from '../lib/tensor';
import { add, addAsync } from '../lib/ops/elementwise';
import { concat } from '../lib/ops/concat';
import { runtime } from '../lib/runtime';
import {
  BenchOptions, Row, SuiteResult, Timing, concatGBs, copyGBs, elementwiseGBs, formatBytes, formatSeconds, makeRow, measure, measureAsync,
  newSuiteResult, randomFill, isSelected, threadCounts, withThreads,
} from './harness';

interface AddWorkload {
  kind: 'add';
  name: string;
  shape: number[];
}

interface ConcatWorkload {
  kind: 'concat';
  name: string;
  inputs: number[][];
  axis: number;
}

type Workload = AddWorkload | ConcatWorkload;

export const ELEMENTWISE_WORKLOADS: Workload[] = [
  { kind: 'add', name: 'ADD-S', shape: [1, 64, 56, 56] },
  { kind: 'add', name: 'ADD-L', shape: [1, 256, 128, 128] },
  { kind: 'add', name: 'ADD-T', shape: [1, 16] },
  { kind: 'concat', name: 'CAT-L', inputs: [[1, 128, 128, 128], [1, 128, 128, 128]], axis: 1 },
  { kind: 'concat', name: 'CAT-B', inputs: [[8, 64, 56, 56], [8, 64, 56, 56], [8, 64, 56, 56]], axis: 1 },
];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function randomTensor(shape: number[], seed: number): Tensor {
  return Tensor.from(randomFill(new Float32Array(size(shape)), seed), shape);
}

// ---- naive JS baselines ----

function naiveAdd(x: Float32Array, y: Float32Array, z: Float32Array): void {
  const n = z.length;
  for (let i = 0; i < n; i++) z[i] = x[i] + y[i];
}

/** Concat along axis with `outer` blocks: element-by-element copies, no TypedArray.set. */
function naiveConcat(inputs: Float32Array[], extents: number[], outer: number, z: Float32Array): void {
  let o = 0;
  for (let b = 0; b < outer; b++) {
    for (let k = 0; k < inputs.length; k++) {
      const src = inputs[k];
      const e = extents[k];
      const base = b * e;
      for (let i = 0; i < e; i++) z[o + i] = src[base + i];
      o += e;
    }
  }
}

/** Copy of `bytes` into `bytes` with Float32Array.prototype.set: the memory-bound limit. */
function copyBench(workload: string, bytes: number, opts: BenchOptions): { gbs: number; row: Row } {
  const n = Math.max(1, Math.round(bytes / 4));
  const src = randomFill(new Float32Array(n), 7);
  const dst = new Float32Array(n);
  dst.fill(0); // touch every page before timing
  const what = `${formatBytes(n * 4)} into ${formatBytes(n * 4)}`;
  const timing = measure(`${workload}: Float32Array.prototype.set, ${what}`, () => dst.set(src), opts);
  const gbs = copyGBs(n * 4, timing.median);
  const row = makeRow(workload, 'copy: Float32Array.prototype.set', null, timing, gbs, 'GB/s');
  row.notes = { note: what };
  return { gbs, row };
}

function addRows(w: AddWorkload, opts: BenchOptions, facts: SuiteResult['facts']): Row[] {
  const n = size(w.shape);
  const bytes = 12 * n;
  const a = randomTensor(w.shape, 1);
  const b = randomTensor(w.shape, 2);
  const out = Tensor.from(new Float32Array(n), w.shape);
  out.data.fill(0);
  const rows: Row[] = [];

  // ADD-T measures the fixed cost per call: no copy bandwidth there, ns per call instead.
  const copy = w.name === 'ADD-T' ? undefined : copyBench(w.name, bytes / 2, opts);
  const naive = measure(`${w.name}: naive JS loop`, () => naiveAdd(a.data, b.data, out.data), opts);
  const naiveRow = makeRow(w.name, 'naive JS loop', null, naive, elementwiseGBs(n, naive.median), 'GB/s');
  if (copy) {
    naiveRow.ratios['vs copy'] = naiveRow.throughput! / copy.gbs;
    rows.push(copy.row);
  }
  rows.push(naiveRow);

  for (const threads of threadCounts(opts)) {
    const t = withThreads(threads, () =>
      measure(`${w.name}: tensorfuse add, out reused, ${threads} thread(s)`, () => add(a, b, { out }), opts));
    const row = makeRow(w.name, 'tensorfuse add (out reused)', threads, t, elementwiseGBs(n, t.median), 'GB/s');
    if (copy) row.ratios['vs copy'] = row.throughput! / copy.gbs;
    row.ratios['vs naive JS'] = naive.median / t.median;
    rows.push(row);
  }

  if (w.name === 'ADD-T') {
    // The fixed cost per call: report ns, and the native path with the JS inline path off.
    naiveRow.notes = { 'ns/call': naive.median * 1e9 };
    for (const r of rows) if (r.variant.startsWith('tensorfuse')) r.notes = { 'ns/call': r.seconds * 1e9 };
    const limit = runtime.inlineLimit();
    runtime.setInlineLimit(0);
    try {
      const t = withThreads(1, () =>
        measure(`${w.name}: tensorfuse add, native call forced (inline limit 0)`, () => add(a, b, { out }), opts));
      const row = makeRow(w.name, 'tensorfuse add, native call (inline limit 0)', 1, t, elementwiseGBs(n, t.median), 'GB/s');
      row.ratios['vs naive JS'] = naive.median / t.median;
      row.notes = { 'ns/call': t.median * 1e9 };
      rows.push(row);
    } finally {
      runtime.setInlineLimit(limit);
    }
    facts['ADD-T inline limit (elements run as a JS loop inside add)'] = limit;
  }
  return rows;
}

function concatRows(w: ConcatWorkload, opts: BenchOptions, facts: SuiteResult['facts']): Row[] {
  const inputs = w.inputs.map((s, i) => randomTensor(s, i + 1));
  const outShape = w.inputs[0].slice();
  outShape[w.axis] = w.inputs.reduce((t, s) => t + s[w.axis], 0);
  const outN = size(outShape);
  const out = Tensor.from(new Float32Array(outN), outShape);
  out.data.fill(0);
  const outer = size(outShape.slice(0, w.axis));
  const extents = inputs.map((t) => t.size / outer);
  const bytes = 8 * outN;
  const rows: Row[] = [];

  const copy = copyBench(w.name, bytes / 2, opts);
  const datas = inputs.map((t) => t.data);
  const naive = measure(`${w.name}: naive JS loop`, () => naiveConcat(datas, extents, outer, out.data), opts);
  const naiveRow = makeRow(w.name, 'naive JS loop', null, naive, concatGBs(outN, naive.median), 'GB/s');
  naiveRow.ratios['vs copy'] = naiveRow.throughput! / copy.gbs;
  rows.push(copy.row, naiveRow);

  for (const threads of threadCounts(opts)) {
    const t = withThreads(threads, () =>
      measure(`${w.name}: tensorfuse concat, out reused, ${threads} thread(s)`, () => concat(inputs, w.axis, { out }), opts));
    const row = makeRow(w.name, 'tensorfuse concat (out reused)', threads, t, concatGBs(outN, t.median), 'GB/s');
    row.ratios['vs copy'] = row.throughput! / copy.gbs;
    row.ratios['vs naive JS'] = naive.median / t.median;
    rows.push(row);
  }
  return rows;
}

/**
 * Output memory for ADD-L: what a call costs when its output is new memory, against a
 * reused `out`. Fresh tensorfuse outputs come from its allocator, which recycles buffers
 * after GC, so the allocator's counters during the measurement are reported too.
 */
function outputMemoryRows(opts: BenchOptions): Row[] {
  const shape = [1, 256, 128, 128];
  const n = size(shape);
  const name = 'ADD-L memory';
  const a = randomTensor(shape, 1);
  const b = randomTensor(shape, 2);
  const out = Tensor.from(new Float32Array(n), shape);
  out.data.fill(0);
  const rows: Row[] = [];

  for (const threads of threadCounts(opts)) {
    withThreads(threads, () => {
      const reused = measure(`${name}: out reused, ${threads} thread(s)`, () => add(a, b, { out }), opts);
      const reusedRow = makeRow(name, 'add, out reused', threads, reused, elementwiseGBs(n, reused.median), 'GB/s');
      rows.push(reusedRow);

      const before = runtime.allocatorStats();
      let sink = 0;
      const fresh = measure(`${name}: fresh tensorfuse output per call, ${threads} thread(s)`, () => {
        sink += add(a, b).data[0];
      }, opts);
      const after = runtime.allocatorStats();
      const freshRow = makeRow(name, 'add, fresh output per call (tensorfuse-allocated)', threads, fresh,
        elementwiseGBs(n, fresh.median), 'GB/s');
      freshRow.ratios['vs out reused'] = reused.median / fresh.median;
      freshRow.notes = {
        'allocator': `${after.allocated - before.allocated} new, ${after.reused - before.reused} recycled`,
      };
      rows.push(freshRow);

      const jsOut = measure(`${name}: new Float32Array(n) as out, ${threads} thread(s)`, () => {
        const z = new Float32Array(n);
        sink += add(a, b, { out: Tensor.from(z, shape) }).data[0];
      }, opts);
      const jsRow = makeRow(name, 'add, out = new Float32Array(n) per call', threads, jsOut, elementwiseGBs(n, jsOut.median), 'GB/s');
      jsRow.ratios['vs out reused'] = reused.median / jsOut.median;
      rows.push(jsRow);
      if (sink === 12345.678) console.log(sink); // keep results observable
    });
  }

  let sink = 0;
  const fill = measure(`${name}: new Float32Array(n) + fill`, () => {
    const z = new Float32Array(n);
    z.fill(1);
    sink += z[n - 1];
  }, opts);
  const fillRow = makeRow(name, 'new Float32Array(n) + fill(1) (no add)', null, fill, (4 * n) / fill.median / 1e9, 'GB/s');
  fillRow.notes = { note: `${formatSeconds(fill.median)} per ${(4 * n) / 2 ** 20} MiB; GB/s = bytes written` };
  rows.push(fillRow);
  if (sink === 12345.678) console.log(sink);
  return rows;
}

/**
 * Fresh outputs when the event loop turns between calls (a server's pattern): the GC's
 * finalizers for tensorfuse's external buffers run on the event loop, so here the
 * allocator's cache hands the previous output's block back instead of new pages. In a
 * synchronous loop (the row above) nothing is freed until the loop ends.
 */
async function recycledOutputRow(opts: BenchOptions): Promise<Row> {
  const shape = [1, 256, 128, 128];
  const n = size(shape);
  const name = 'ADD-L memory';
  const a = randomTensor(shape, 1);
  const b = randomTensor(shape, 2);
  const before = runtime.allocatorStats();
  let sink = 0;
  const t = await measureAsync(`${name}: addAsync, fresh output per call`, async () => {
    sink += (await addAsync(a, b)).data[0];
  }, opts);
  const after = runtime.allocatorStats();
  const row = makeRow(name, 'addAsync, fresh output per call (event loop turns)', runtime.info().threads, t,
    elementwiseGBs(n, t.median), 'GB/s');
  row.notes = { allocator: `${after.allocated - before.allocated} new, ${after.reused - before.reused} recycled` };
  if (sink === 12345.678) console.log(sink);
  return row;
}

export interface ElementwiseSuiteOptions extends BenchOptions {
  /** Skip the ADD-L output-memory comparison. */
  skipMemory?: boolean;
}

/** Runs the element-wise suite; returns the suite result (rows + facts), writes nothing. */
export async function runElementwiseSuite(opts: ElementwiseSuiteOptions = {}): Promise<SuiteResult> {
  const result = newSuiteResult('elementwise', 'tensorfuse element-wise suite (ADD-S, ADD-L, ADD-T, CAT-L, CAT-B)', !!opts.quick);
  const threadsBefore = runtime.info().threads;
  try {
    for (const w of ELEMENTWISE_WORKLOADS) {
      if (!isSelected(opts, w.name)) continue;
      result.rows.push(...(w.kind === 'add' ? addRows(w, opts, result.facts) : concatRows(w, opts, result.facts)));
    }
    if (!opts.skipMemory && isSelected(opts, 'ADD-L')) {
      result.rows.push(...outputMemoryRows(opts));
      result.rows.push(await recycledOutputRow(opts));
    }
  } finally {
    runtime.setThreads(threadsBefore);
  }
  result.facts['copy working set'] = 'half the bytes a workload touches copied into the other half (ADD-S: 3 × 784 KiB touched, ' +
    'so 1176 KiB into 1176 KiB; bench-workloads.md says 600 KiB, which does not match its own rule)';
  result.facts['GB/s'] = 'add: 12 × elements / s; concat: 8 × output elements / s; copy: 2 × bytes / s (read + write)';
  return result;
}
