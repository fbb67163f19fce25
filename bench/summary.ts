// The headline of a bench run: per suite, workload and thread count, tensorfuse's median
// beside onnxruntime-node's and their ratio, taken from the rows each suite marks as the
// two sides of that comparison (Row.headline). summary-markdown.ts and summary-svg.ts
// render it; nothing here measures.
import { RunHeader, Row, SuiteResult } from './harness';
import { Target, targetFor } from './targets';

export interface Side {
  /** The row's variant, e.g. "tensorfuse concatConv (fused)" or "onnxruntime-node graph". */
  variant: string;
  /** Median seconds per call. */
  seconds: number;
}

export interface Comparison {
  suite: string;
  workload: string;
  threads: number;
  tensorfuse: Side;
  onnxruntime: Side;
  /** onnxruntime median / tensorfuse median: > 1 means tensorfuse is faster. */
  ratio: number;
  /** The issues' goal for this workload at this thread count, if any. */
  target?: Target;
}

export interface BenchSummary extends RunHeader {
  /** The suites of the run, in run order. */
  suites: string[];
  /** Thread counts that have comparisons, ascending. */
  threads: number[];
  /** In run order: by suite, then workload, then thread count. */
  comparisons: Comparison[];
  /** Suite facts reporting that tensorfuse's output differed from onnxruntime's: those rows time a wrong computation. */
  mismatches: string[];
}

/** The headline pairs of one suite's rows; a pair missing a side (a skipped engine) is left out. */
export function headlineComparisons(result: SuiteResult): Comparison[] {
  const pairs = new Map<string, { workload: string; threads: number; tensorfuse?: Row; onnxruntime?: Row }>();
  for (const row of result.rows) {
    if (!row.headline || row.threads === null) continue;
    const key = JSON.stringify([row.workload, row.threads]);
    const pair = pairs.get(key) ?? { workload: row.workload, threads: row.threads };
    if (pair[row.headline]) throw new Error(`${result.suite}: two ${row.headline} headline rows for ${row.workload} at ${row.threads} thread(s)`);
    pair[row.headline] = row;
    pairs.set(key, pair);
  }
  const comparisons: Comparison[] = [];
  for (const { workload, threads, tensorfuse, onnxruntime } of pairs.values()) {
    if (!tensorfuse || !onnxruntime) continue;
    const target = targetFor(workload, threads);
    comparisons.push({
      suite: result.suite, workload, threads,
      tensorfuse: { variant: tensorfuse.variant, seconds: tensorfuse.seconds },
      onnxruntime: { variant: onnxruntime.variant, seconds: onnxruntime.seconds },
      ratio: onnxruntime.seconds / tensorfuse.seconds,
      ...(target ? { target } : {}),
    });
  }
  return comparisons;
}

function mismatchFacts(result: SuiteResult): string[] {
  return Object.entries(result.facts)
    .filter(([, v]) => typeof v === 'string' && v.startsWith('MISMATCH'))
    .map(([k, v]) => `${result.suite}: ${k}: ${v}`);
}

/** One run's summary: `header` describes the run, `results` are its suites in run order. */
export function summarize(results: readonly SuiteResult[], header: RunHeader): BenchSummary {
  const comparisons = results.flatMap(headlineComparisons);
  return {
    ...header,
    suites: results.map((r) => r.suite),
    threads: [...new Set(comparisons.map((c) => c.threads))].sort((a, b) => a - b),
    comparisons,
    mismatches: results.flatMap(mismatchFacts),
  };
}

export interface WorkloadGroup {
  suite: string;
  workload: string;
  /** The workload's comparisons, one per thread count that has one. */
  byThreads: Map<number, Comparison>;
}

/** The comparisons grouped per (suite, workload), in run order: a table row, a group of bars. */
export function workloadGroups(s: BenchSummary): WorkloadGroup[] {
  const groups = new Map<string, WorkloadGroup>();
  for (const c of s.comparisons) {
    const key = JSON.stringify([c.suite, c.workload]);
    const g = groups.get(key) ?? { suite: c.suite, workload: c.workload, byThreads: new Map() };
    g.byThreads.set(c.threads, c);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** "1.95×" */
export function formatRatio(r: number): string {
  return `${r.toFixed(2)}×`;
}
