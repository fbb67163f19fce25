// Runs the benchmark suites: `node dist/bench/index.js [suite...] [--quick] [--no-write]`
// (also `npm run bench -- ...`). With no suite names, runs them all. Each suite prints a
// table and writes bench/results/<suite>.json and .md unless --no-write is given.
import { SuiteResult, loadAverage, textTable, writeResults } from './harness';
import { runElementwiseSuite } from './elementwise';
import { runConvSuite } from './conv';
import { runOnnxSuite } from './onnx-model';
import { runFusionSuite } from './fusion';

export { runElementwiseSuite } from './elementwise';
export type { ElementwiseSuiteOptions } from './elementwise';
export { runConvSuite } from './conv';
export { runOnnxSuite } from './onnx-model';
export { runFusionSuite } from './fusion';
export { textTable, markdownTable, markdownReport, writeResults } from './harness';
export type { Row, SuiteResult, BenchOptions } from './harness';

interface SuiteEntry {
  description: string;
  run(opts: { quick: boolean; onProgress: (m: string) => void }): SuiteResult | Promise<SuiteResult>;
}

export const SUITES: Record<string, SuiteEntry> = {
  elementwise: {
    description: 'ADD-S, ADD-L, ADD-T, CAT-L, CAT-B vs naive JS and copy bandwidth; output memory costs',
    run: (o) => runElementwiseSuite(o),
  },
  conv: {
    description: 'CONV3, CONV1, CONV3S2, DW3: tensorfuse Conv2d vs onnxruntime-node, 1 and 2 threads; FMA peak',
    run: (o) => runConvSuite(o),
  },
  fusion: {
    description: 'CATCONV, ADDCONV, ASFF3: tensorfuse fused and unfused vs the onnxruntime-node graph, 1 and 2 threads',
    run: (o) => runFusionSuite(o),
  },
  onnx: {
    description: 'onnxruntime-node on models built in code: Conv, Add, Concat, CATCONV, ADDCONV, ASFF3 (verified once)',
    run: (o) => runOnnxSuite(o),
  },
};

function usage(): string {
  const lines = Object.entries(SUITES).map(([k, s]) => `  ${k.padEnd(12)} ${s.description}`);
  return ['usage: node dist/bench/index.js [suite...] [--quick] [--no-write]', 'suites:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const flags = argv.filter((a) => a.startsWith('-'));
  const names = argv.filter((a) => !a.startsWith('-'));
  if (flags.includes('--help') || flags.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const unknownFlags = flags.filter((f) => !['--quick', '--no-write'].includes(f));
  const unknownSuites = names.filter((n) => !(n in SUITES));
  if (unknownFlags.length || unknownSuites.length) {
    console.error(`unknown ${[...unknownFlags, ...unknownSuites].join(', ')}\n${usage()}`);
    return 2;
  }
  const quick = flags.includes('--quick');
  const write = !flags.includes('--no-write');
  const selected = names.length ? names : Object.keys(SUITES);
  const isTTY = process.stderr.isTTY;
  const onProgress = (m: string) => {
    if (isTTY) process.stderr.write(`\r\x1b[K  ${m}`);
    else process.stderr.write(`  ${m}\n`);
  };
  for (const name of selected) {
    console.log(`\n== ${name}${quick ? ' (quick)' : ''} ==`);
    const started = Date.now();
    const result = await SUITES[name].run({ quick, onProgress });
    if (isTTY) process.stderr.write('\r\x1b[K');
    result.loadAverageAtEnd = loadAverage();
    const ri = result.runtime;
    if (ri) console.log(`tensorfuse ${ri.version}: isa ${ri.isa} (best ${ri.bestIsa}), pool threads ${ri.threads}`);
    console.log(`${result.machine.cpu}; load average ${result.machine.loadAverageAtStart.join(' ')} at start, ${result.loadAverageAtEnd.join(' ')} at end`);
    for (const [k, v] of Object.entries(result.facts)) console.log(`${k}: ${v}`);
    console.log(textTable(result.rows));
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (write) {
      for (const p of writeResults(result)) console.log(`wrote ${p}`);
    }
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
