// summary.svg: grouped horizontal bars of the speed ratio (onnxruntime-node median /
// tensorfuse median) per workload and model, one bar per thread count, a dashed line at
// 1.0× (same speed) and a marker at each goal the issues set. The axis is logarithmic and
// bars grow from 1.0×: ratios here span 0.5× to 15×, and 2× slower should look as far
// from even as 2× faster. Plain SVG built as text: every name and label goes through
// escapeXml, every number is formatted here.
import { BenchSummary, Comparison, formatRatio, workloadGroups } from './summary';
import { TARGET_THREADS } from './targets';

const WIDTH = 760;
const MARGIN = 12;
const BAR_HEIGHT = 14;
const BAR_GAP = 2;
const GROUP_GAP = 10;
const SECTION_HEIGHT = 22;
const VALUE_ROOM = 48; // right of the plot: the ratio printed after the longest bar
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
/** One colour per thread count, in ascending order (colour-blind-safe palette). */
const THREAD_COLOURS = ['#4477aa', '#ee7733', '#228833', '#aa3377', '#66ccee', '#bbbbbb'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const num = (x: number) => String(Math.round(x * 10) / 10);
const threadsLabel = (t: number) => `${t} thread${t === 1 ? '' : 's'}`;

/**
 * The axis: powers of two from below the smallest ratio (with room for its label left of
 * the bar) to above the largest, and never narrower than 0.5× to 2×.
 */
export function ratioAxis(ratios: readonly number[]): { ticks: number[]; min: number; max: number } {
  const lo = Math.floor(Math.log2(Math.min(0.5, ...ratios.map((r) => r / 1.5))));
  const hi = Math.ceil(Math.log2(Math.max(2, ...ratios)));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(2 ** e);
  return { ticks, min: 2 ** lo, max: 2 ** hi };
}

function formatTick(r: number): string {
  return r >= 1 ? `${r}×` : `1/${1 / r}×`;
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${num(x)}" y="${num(y)}"${attrs ? ` ${attrs}` : ''}>${escapeXml(content)}</text>`;
}

function barTitle(c: Comparison): string {
  return `${c.workload}, ${threadsLabel(c.threads)}: tensorfuse ${(c.tensorfuse.seconds * 1e3).toPrecision(4)} ms ` +
    `(${c.tensorfuse.variant}), onnxruntime-node ${(c.onnxruntime.seconds * 1e3).toPrecision(4)} ms: ${formatRatio(c.ratio)}`;
}

export function summarySvg(s: BenchSummary): string {
  const groups = workloadGroups(s);
  const labelWidth = Math.max(80, ...groups.map((g) => g.workload.length * 7.5));
  const plotLeft = MARGIN + labelWidth + 10;
  const plotRight = WIDTH - MARGIN - VALUE_ROOM;
  const axis = ratioAxis(s.comparisons.flatMap((c) => (c.target ? [c.ratio, c.target.ratio] : [c.ratio])));
  const x = (r: number) => plotLeft + (Math.log2(r / axis.min) / Math.log2(axis.max / axis.min)) * (plotRight - plotLeft);
  const one = x(1);
  const colour = (t: number) => THREAD_COLOURS[s.threads.indexOf(t) % THREAD_COLOURS.length];
  const groupHeight = s.threads.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;

  const body: string[] = [];
  const plotTop = 84;
  let y = plotTop;
  let suite = '';
  for (const g of groups) {
    if (g.suite !== suite) {
      suite = g.suite;
      body.push(text(MARGIN, y + 14, `${suite} suite`, 'class="section" font-weight="bold"'));
      y += SECTION_HEIGHT;
    }
    body.push(text(plotLeft - 8, y + groupHeight / 2 + 4, g.workload, 'class="workload" text-anchor="end"'));
    s.threads.forEach((t, i) => {
      const c = g.byThreads.get(t);
      const top = y + i * (BAR_HEIGHT + BAR_GAP);
      if (!c) return;
      const end = x(c.ratio);
      const faster = c.ratio >= 1;
      body.push(
        `<rect class="bar" x="${num(Math.min(one, end))}" y="${num(top)}" width="${num(Math.abs(end - one))}" height="${BAR_HEIGHT}" ` +
        `fill="${colour(t)}" data-workload="${escapeXml(c.workload)}" data-threads="${t}" data-ratio="${c.ratio.toFixed(3)}">` +
        `<title>${escapeXml(barTitle(c))}</title></rect>`,
        // A faster bar's label goes past its goal marker, if that stands further right.
        text(faster ? Math.max(end, c.target ? x(c.target.ratio) + 2 : end) + 4 : end - 4, top + BAR_HEIGHT - 3, formatRatio(c.ratio),
          `class="value" font-size="11"${faster ? '' : ' text-anchor="end"'}`),
      );
      if (c.target) {
        const tx = num(x(c.target.ratio));
        body.push(
          `<g class="target" data-workload="${escapeXml(c.workload)}" data-ratio="${c.target.ratio}">` +
          `<title>${escapeXml(`goal for ${c.workload}, ${threadsLabel(t)}: ≥ ${formatRatio(c.target.ratio)} (issue ${c.target.issue})`)}</title>` +
          `<line x1="${tx}" x2="${tx}" y1="${num(top - 2)}" y2="${num(top + BAR_HEIGHT + 2)}" stroke="#111" stroke-width="2"/>` +
          `<path d="M${tx},${num(top - 1)} l-4,-5 h8 z" fill="#111"/></g>`,
        );
      }
    });
    y += groupHeight + GROUP_GAP;
  }
  const plotBottom = y - GROUP_GAP + 6;

  const grid: string[] = [];
  for (const r of groups.length ? axis.ticks : []) {
    grid.push(
      `<line class="grid" x1="${num(x(r))}" x2="${num(x(r))}" y1="${plotTop - 4}" y2="${num(plotBottom)}" stroke="#e4e4e4"/>`,
      text(x(r), plotBottom + 16, formatTick(r), 'class="tick" text-anchor="middle" font-size="11" fill="#555"'),
    );
  }
  const reference = `<line class="reference" x1="${num(one)}" x2="${num(one)}" y1="${plotTop - 4}" y2="${num(plotBottom)}" ` +
    'stroke="#333" stroke-width="1.2" stroke-dasharray="5 3"/>';

  const legend: string[] = [];
  let lx = MARGIN;
  for (const t of s.threads) {
    legend.push(`<rect x="${lx}" y="56" width="12" height="12" fill="${colour(t)}"/>`, text(lx + 16, 66, threadsLabel(t)));
    lx += 90;
  }
  legend.push(`<line x1="${lx + 6}" x2="${lx + 6}" y1="54" y2="70" stroke="#333" stroke-dasharray="5 3"/>`, text(lx + 14, 66, '1.0×: same speed'));
  lx += 130;
  if (s.comparisons.some((c) => c.target)) {
    legend.push(`<path d="M${lx + 6},58 l-4,-5 h8 z" fill="#111"/><line x1="${lx + 6}" x2="${lx + 6}" y1="58" y2="70" stroke="#111" stroke-width="2"/>`,
      text(lx + 14, 66, `goal set by the issues (${threadsLabel(TARGET_THREADS)})`));
  }

  const cpu = `${s.machine.cpu}, ${s.machine.cores} cores`;
  const subtitle = `onnxruntime-node median / tensorfuse median, same run; right of 1×: tensorfuse faster (log scale). ${s.date.slice(0, 10)}, ${cpu}` +
    `${s.quick ? ', quick mode' : ''}`;
  const height = Math.ceil(plotBottom + 28);
  const empty = s.comparisons.length ? [] : [text(MARGIN, plotTop + 14, `No tensorfuse-vs-onnxruntime-node pairs in: ${s.suites.join(', ')}`)];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    text(MARGIN, 22, 'tensorfuse vs onnxruntime-node: speed ratio per workload and model', 'font-size="15" font-weight="bold"'),
    text(MARGIN, 40, subtitle, 'font-size="11" fill="#555"'),
    ...legend,
    ...grid,
    ...body,
    ...(s.comparisons.length ? [reference] : []),
    ...empty,
    '</svg>',
    '',
  ].join('\n');
}
