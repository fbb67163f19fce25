// summary.md: one line per workload and model, tensorfuse's and onnxruntime-node's medians
// and their ratio at each thread count, with the run's command, date, CPU and load.
import { formatSeconds, markdownGrid, markdownHeader } from './harness';
import { BenchSummary, WorkloadGroup, formatRatio, workloadGroups } from './summary';
import { TARGET_THREADS } from './targets';

const threadsLabel = (t: number) => `${t} thread${t === 1 ? '' : 's'}`;

function goalCell(g: WorkloadGroup): string {
  const c = g.byThreads.get(TARGET_THREADS);
  if (!c?.target) return '';
  return `≥ ${formatRatio(c.target.ratio)} (issue ${c.target.issue}): ${c.ratio >= c.target.ratio ? 'met' : 'not met'}`;
}

function tableCells(s: BenchSummary): string[][] {
  const groups = workloadGroups(s);
  const withGoals = groups.some((g) => goalCell(g) !== '');
  const header = [
    'suite', 'workload', 'tensorfuse as',
    ...s.threads.flatMap((t) => [`tensorfuse, ${threadsLabel(t)}`, `onnxruntime-node, ${threadsLabel(t)}`, `ratio, ${threadsLabel(t)}`]),
    ...(withGoals ? [`goal, ${threadsLabel(TARGET_THREADS)}`] : []),
  ];
  const lines = groups.map((g) => {
    const variants = [...new Set([...g.byThreads.values()].map((c) => c.tensorfuse.variant))];
    return [
      g.suite, g.workload, variants.join('; '),
      ...s.threads.flatMap((t) => {
        const c = g.byThreads.get(t);
        return c ? [formatSeconds(c.tensorfuse.seconds), formatSeconds(c.onnxruntime.seconds), formatRatio(c.ratio)] : ['', '', ''];
      }),
      ...(withGoals ? [goalCell(g)] : []),
    ];
  });
  return [header, ...lines];
}

/** The markdown file; `chartFile` is the SVG written beside it (linked relative). */
export function summaryMarkdown(s: BenchSummary, chartFile = 'summary.svg'): string {
  const table = s.comparisons.length
    ? [markdownGrid(tableCells(s)), '', `![speed ratio per workload and thread count](${chartFile})`]
    : [`No tensorfuse-vs-onnxruntime-node pairs in the suites run (${s.suites.join(', ')}).`];
  return [
    ...markdownHeader(s),
    `- suites: ${s.suites.map((name) => `${name} (full table: ${name}.md, ${name}.json)`).join(', ')}`,
    '- times: medians of this one run; ratio = onnxruntime-node median / tensorfuse median at the same thread count (> 1: tensorfuse faster)',
    ...(s.comparisons.some((c) => c.target) ? [`- goal: the ${threadsLabel(TARGET_THREADS)} ratio the issues ask for`] : []),
    ...s.mismatches.map((m) => `- WARNING, output differs from onnxruntime-node: ${m}`),
    '',
    ...table,
    '',
  ].join('\n');
}
