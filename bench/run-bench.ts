// `tensorfuse bench` (lib/cli/bench.ts): runs the chosen suites in one process, one after
// the other, writes each suite's own results (<suite>.json and .md, as node
// dist/bench/index.js does) and then, from the same run, summary.md and summary.svg.
import * as fs from 'fs';
import * as path from 'path';
import { loadAverage, newRunHeader, writeResults } from './harness';
import { SUITES, runSuite, selectionErrors } from './suites';
import { BenchSummary, summarize } from './summary';
import { summaryMarkdown } from './summary-markdown';
import { summarySvg } from './summary-svg';

export { ONNXRUNTIME_SUITES, SUITES } from './suites';

export interface BenchRunOptions {
  /** Suite names (bench/suites.ts), run in this order. */
  suites: readonly string[];
  /** Thread counts, default [1, 2]. */
  threads?: readonly number[];
  /** Only these workloads or models. */
  workloads?: readonly string[];
  quick?: boolean;
  /** Directory for every file written. */
  out: string;
  log?: (line: string) => void;
}

export interface BenchRun {
  summary: BenchSummary;
  /** Every file written, suites' first. */
  files: string[];
}

export const SUMMARY_MD = 'summary.md';
export const SUMMARY_SVG = 'summary.svg';

/** Writes summary.md and summary.svg into `dir`; returns their paths. */
export function writeSummary(s: BenchSummary, dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const md = path.join(dir, SUMMARY_MD);
  const svg = path.join(dir, SUMMARY_SVG);
  fs.writeFileSync(md, summaryMarkdown(s, SUMMARY_SVG));
  fs.writeFileSync(svg, summarySvg(s));
  return [md, svg];
}

export async function runBench(o: BenchRunOptions): Promise<BenchRun> {
  const errors = selectionErrors(o.suites, o.workloads);
  if (errors.length) throw new RangeError(errors.join('\n'));
  const log = o.log ?? console.log;
  const header = newRunHeader('tensorfuse vs onnxruntime-node', !!o.quick);
  const results = [];
  const files: string[] = [];
  for (const name of o.suites) {
    if (o.workloads && !SUITES[name].workloads.some((w) => o.workloads!.includes(w))) {
      log(`\n== ${name}: none of ${o.workloads.join(', ')}, skipped ==`);
      continue;
    }
    const result = await runSuite(name, { quick: o.quick, threads: o.threads, workloads: o.workloads }, log);
    results.push(result);
    // Written as each suite ends, so a failure later in the run keeps what was measured.
    files.push(...writeResults(result, o.out));
  }
  const summary = summarize(results, { ...header, loadAverageAtEnd: loadAverage() });
  files.push(...writeSummary(summary, o.out));
  return { summary, files };
}
