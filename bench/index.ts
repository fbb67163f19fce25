// Runs the benchmark suites: `node dist/bench/index.js [suite...] [--quick] [--no-write]`
// (also `npm run bench -- ...`). With no suite names, runs them all. Each suite prints a
// table and writes bench/results/<suite>.json and .md unless --no-write is given.
import { writeResults } from './harness';
import { SUITES, runSuite } from './suites';

export { runElementwiseSuite } from './elementwise';
export type { ElementwiseSuiteOptions } from './elementwise';
export { runConvSuite } from './conv';
export { runOnnxSuite } from './onnx-model';
export { runFusionSuite } from './fusion';
export { runModelsSuite } from './models';
export { SUITES } from './suites';
export { textTable, markdownTable, markdownReport, writeResults } from './harness';
export type { Row, SuiteResult, BenchOptions } from './harness';

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
  for (const name of selected) {
    const result = await runSuite(name, { quick });
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
