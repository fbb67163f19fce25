// The benchmark suites by name, and how one is run and reported on the terminal: shared by
// `node dist/bench/index.js` and `tensorfuse bench` (bench/run-bench.ts).
import { BenchOptions, SuiteResult, applyBenchMalloc, loadAverage, textTable } from './harness';
import { ELEMENTWISE_WORKLOADS, runElementwiseSuite } from './elementwise';
import { runConvSuite } from './conv';
import { CONV_WORKLOADS, ONNX_WORKLOADS, runOnnxSuite } from './onnx-model';
import { FUSION_WORKLOADS, runFusionSuite } from './fusion';
import { BENCH_MODELS, runModelsSuite } from './models';

export interface SuiteEntry {
  description: string;
  /** Whether its rows carry the headline tensorfuse-vs-onnxruntime pairs (Row.headline). */
  comparesWithOnnxruntime: boolean;
  /** The names BenchOptions.workloads can pick from. */
  workloads: readonly string[];
  run(opts: BenchOptions): Promise<SuiteResult>;
}

export const SUITES: Record<string, SuiteEntry> = {
  elementwise: {
    description: 'ADD-S, ADD-L, ADD-T, CAT-L, CAT-B vs naive JS and copy bandwidth; output memory costs',
    comparesWithOnnxruntime: false,
    workloads: ELEMENTWISE_WORKLOADS.map((w) => w.name),
    run: (o) => runElementwiseSuite(o),
  },
  conv: {
    description: 'CONV3, CONV1, CONV3S2, DW3: tensorfuse Conv2d vs onnxruntime-node, 1 and 2 threads; FMA peak',
    comparesWithOnnxruntime: true,
    workloads: Object.keys(CONV_WORKLOADS),
    run: (o) => runConvSuite(o),
  },
  fusion: {
    description: 'CATCONV, ADDCONV, ASFF3: tensorfuse fused and unfused vs the onnxruntime-node graph, 1 and 2 threads',
    comparesWithOnnxruntime: true,
    workloads: FUSION_WORKLOADS,
    run: (o) => runFusionSuite(o),
  },
  models: {
    description: 'ResNet-50, DenseNet-121, Inception v1, SqueezeNet end to end vs onnxruntime-node, 1 and 2 threads; peak RSS',
    comparesWithOnnxruntime: true,
    workloads: BENCH_MODELS,
    run: (o) => runModelsSuite(o),
  },
  onnx: {
    description: 'onnxruntime-node on models built in code: Conv, Add, Concat, CATCONV, ADDCONV, ASFF3 (verified once)',
    comparesWithOnnxruntime: false,
    workloads: ONNX_WORKLOADS,
    run: (o) => runOnnxSuite(o),
  },
};

/** The suites `tensorfuse bench` runs by default: those that set tensorfuse beside onnxruntime-node. */
export const ONNXRUNTIME_SUITES = Object.keys(SUITES).filter((name) => SUITES[name].comparesWithOnnxruntime);

/** What is wrong with a choice of suites and workloads (one message per problem); empty when nothing. */
export function selectionErrors(suites: readonly string[], workloads?: readonly string[]): string[] {
  const errors: string[] = [];
  const unknown = suites.filter((s) => !(s in SUITES));
  if (unknown.length) errors.push(`unknown suite(s): ${unknown.join(', ')}; known: ${Object.keys(SUITES).join(', ')}`);
  if (workloads) {
    const known = suites.filter((s) => s in SUITES).flatMap((s) => SUITES[s].workloads);
    const missing = workloads.filter((w) => !known.includes(w));
    if (missing.length) errors.push(`no suite of ${suites.join(', ')} has workload(s) ${missing.join(', ')}; they have: ${[...new Set(known)].join(', ')}`);
  }
  return errors;
}

/**
 * Progress lines on stderr: on a terminal one line rewritten in place, elsewhere one line
 * per message (logs keep them all). `clear()` wipes the terminal line before other output.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): { onProgress: (m: string) => void; clear: () => void } {
  const tty = !!stream.isTTY;
  return {
    onProgress: (m) => stream.write(tty ? `\r\x1b[K  ${m}` : `  ${m}\n`),
    clear: () => {
      if (tty) stream.write('\r\x1b[K');
    },
  };
}

/** Runs one suite, stamps its end load average, and prints its facts and table. */
export async function runSuite(name: string, opts: BenchOptions, log: (line: string) => void = console.log): Promise<SuiteResult> {
  const progress = progressPrinter();
  log(`\n== ${name}${opts.quick ? ' (quick)' : ''} ==`);
  const started = Date.now();
  const malloc = applyBenchMalloc();
  const result = await SUITES[name].run({ onProgress: progress.onProgress, ...opts });
  result.facts['malloc'] = malloc;
  progress.clear();
  result.loadAverageAtEnd = loadAverage();
  const ri = result.runtime;
  if (ri) log(`tensorfuse ${ri.version}: isa ${ri.isa} (best ${ri.bestIsa}), pool threads ${ri.threads}`);
  log(`${result.machine.cpu}; load average ${result.machine.loadAverageAtStart.join(' ')} at start, ${result.loadAverageAtEnd.join(' ')} at end`);
  for (const [k, v] of Object.entries(result.facts)) log(`${k}: ${v}`);
  log(textTable(result.rows));
  log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}
