// `tensorfuse bench`: runs the bench/ suites that set tensorfuse beside onnxruntime-node in
// one run and writes their results plus summary.md (table) and summary.svg (chart).
//
// The suites stay in bench/ (compiled to dist/bench and shipped in the package), loaded
// only when this command runs: they need benchmark.js and onnxruntime-node, tools for
// measuring that the runtime itself must not depend on.
import * as path from 'path';
import { Command, InvalidArgumentError } from 'commander';

type BenchModule = typeof import('../../bench/run-bench');

interface BenchCliOptions {
  suites?: string[];
  threads: number[];
  workloads?: string[];
  quick?: boolean;
  out: string;
}

/** The modules the suites load that a plain install of tensorfuse does not bring. */
const BENCH_PACKAGES = ['benchmark', 'onnxruntime-node'];

function loadBenchModule(): BenchModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('../../bench/run-bench') as BenchModule;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const missing = e.code === 'MODULE_NOT_FOUND' ? /Cannot find module '([^']+)'/.exec(e.message)?.[1] : undefined;
    if (missing && !missing.startsWith('.') && !path.isAbsolute(missing)) {
      throw new Error(`tensorfuse bench needs ${missing}, which is not installed: npm install ${BENCH_PACKAGES.join(' ')}`);
    }
    throw err;
  }
}

/** Relative to the current directory when inside it. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export function parseThreadList(value: string): number[] {
  const counts = list(value).map(Number);
  if (counts.length === 0 || counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new InvalidArgumentError('expected positive whole numbers separated by commas, e.g. 1,2');
  }
  return counts;
}

/** Adds the `bench` subcommand to the CLI. */
export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suites against onnxruntime-node; write <suite>.json/.md, summary.md (table) and summary.svg (chart)')
    .option('-s, --suites <names>', 'comma-separated suites (default: conv,fusion,models, those that compare with onnxruntime-node)', list)
    .option('-t, --threads <counts>', 'comma-separated thread counts', parseThreadList, [1, 2])
    .option('-w, --workloads <names>', 'only these workloads or models, comma-separated (e.g. CONV3,resnet50)', list)
    .option('-q, --quick', 'shorter sampling (about 4x faster, noisier)')
    .option('-o, --out <dir>', 'directory for the results, relative to the current directory', 'bench/results')
    .action(async (o: BenchCliOptions) => {
      try {
        const bench = loadBenchModule();
        const out = path.resolve(o.out);
        const { summary, files } = await bench.runBench({
          suites: o.suites ?? bench.ONNXRUNTIME_SUITES, threads: o.threads, workloads: o.workloads, quick: o.quick, out,
        });
        console.log('');
        for (const f of files) console.log(`wrote ${shortPath(f)}`);
        if (summary.comparisons.length === 0) console.log('no tensorfuse-vs-onnxruntime-node pairs in these suites: the summary is empty');
        for (const m of summary.mismatches) console.log(`WARNING: ${m}`);
      } catch (err) {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 1;
      }
    });
}
