// `npx tensorfuse` / `npm start`: what the runtime is, then the kernels on the bench
// workloads with a progress line and a results table.
import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { runtime } from '../runtime';
import { WORKLOADS, timeCall } from './workloads';
import { registerRun } from './run';
import { registerBench } from './bench';

function formatTime(seconds: number): string {
  if (seconds < 1e-6) return `${(seconds * 1e9).toFixed(0)} ns`;
  if (seconds < 1e-3) return `${(seconds * 1e6).toFixed(1)} µs`;
  return `${(seconds * 1e3).toFixed(2)} ms`;
}

function printInfo(): void {
  const info = runtime.info();
  console.log(`tensorfuse ${info.version}: kernels ${info.isa} (best on this CPU: ${info.bestIsa}), ${info.threads} thread(s)`);
}

function runWorkloads(names: string[] | undefined, quiet: boolean): void {
  const chosen = names && names.length ? WORKLOADS.filter((w) => names.includes(w.name)) : WORKLOADS;
  const unknown = (names ?? []).filter((n) => !WORKLOADS.some((w) => w.name === n));
  if (unknown.length) throw new RangeError(`unknown workload(s): ${unknown.join(', ')}; known: ${WORKLOADS.map((w) => w.name).join(', ')}`);
  const bar = new SingleBar({ format: 'running {bar} {value}/{total} {workload}', hideCursor: true, noTTYOutput: !quiet, notTTYSchedule: 1000 }, Presets.shades_classic);
  bar.start(chosen.length, 0, { workload: '' });
  const rows: string[][] = [];
  for (const w of chosen) {
    bar.update({ workload: w.name });
    const t = timeCall(w.prepare());
    rows.push([w.name, w.what, formatTime(t.medianSeconds), (w.bytes / t.medianSeconds / 1e9).toFixed(1)]);
    bar.increment();
  }
  bar.stop();
  const table = new Table({ head: ['workload', 'what', 'median / call', 'GB/s'] });
  table.push(...rows);
  console.log(table.toString());
  console.log('Median of 15 timed batches per workload, outputs reused; `npm run bench` compares against baselines.');
}

export function main(argv: string[]): void {
  const program = new Command();
  program
    .name('tensorfuse')
    // Root options only before a subcommand: `run` and `bench` have their own --threads
    // (bench's takes a list), which the root's would otherwise swallow.
    .enablePositionalOptions()
    .description('Fast feature-fusion ops for CNNs. Without a command: runtime info and the bench workloads.')
    .option('-t, --threads <n>', 'threads for the internal pool', (v) => Number.parseInt(v, 10))
    .option('-w, --workload <names...>', 'run only these workloads (e.g. ADD-L CAT-L)')
    .option('-q, --quiet', 'no progress line')
    .action((opts: { threads?: number; workload?: string[]; quiet?: boolean }) => {
      if (opts.threads !== undefined) runtime.setThreads(opts.threads);
      printInfo();
      runWorkloads(opts.workload, opts.quiet ?? false);
    });
  program.command('info').description('print the runtime facts as JSON').action(() => {
    console.log(JSON.stringify(runtime.info(), null, 2));
  });
  registerRun(program);
  registerBench(program);
  program.parse(argv);
}
