// `tensorfuse bench`'s summary from synthetic suite results: the headline pairs and their
// ratios, the markdown table, and the SVG chart parsed back as XML (bar count, geometry
// of the log axis, goal markers, escaping of names).
import * as assert from 'assert';
import { DOMParser, Element } from '@xmldom/xmldom';
import { Headline, Row, RunHeader, SuiteResult } from '../bench/harness';
import { BenchSummary, headlineComparisons, summarize } from '../bench/summary';
import { summaryMarkdown } from '../bench/summary-markdown';
import { escapeXml, ratioAxis, summarySvg } from '../bench/summary-svg';

const NASTY = `res<&>"net'|50`;

const header: RunHeader = {
  title: 'tensorfuse vs onnxruntime-node',
  command: 'node bin/tensorfuse.js bench --quick',
  quick: true,
  date: '2026-01-02T03:04:05.000Z',
  runtime: { isa: 'avx2', bestIsa: 'avx512', threads: 2, version: '9.9.9' } as RunHeader['runtime'],
  machine: { cpu: 'Test CPU <x>', cores: 2, platform: 'linux', node: 'v20', totalMemGiB: 8, loadAverageAtStart: [0.5, 0.4, 0.3] },
  loadAverageAtEnd: [0.6, 0.5, 0.4],
};

function row(workload: string, variant: string, threads: number, seconds: number, headline?: Headline): Row {
  return {
    workload, variant, threads, seconds, minSeconds: seconds, samples: 5, rmePercent: 1, throughput: null, unit: null, ratios: {},
    ...(headline ? { headline } : {}),
  };
}

function suite(name: string, rows: Row[], facts: SuiteResult['facts'] = {}): SuiteResult {
  return { suite: name, ...header, title: name, facts, rows };
}

/** tensorfuse and onnxruntime headline rows for one workload at 1 and 2 threads, given the ratios. */
function pairRows(workload: string, ratio1: number, ratio2: number): Row[] {
  return [
    row(workload, 'tensorfuse fused', 1, 0.001, 'tensorfuse'),
    row(workload, 'tensorfuse unfused', 1, 0.0009),
    row(workload, 'onnxruntime-node', 1, 0.001 * ratio1, 'onnxruntime'),
    row(workload, 'tensorfuse fused', 2, 0.0005, 'tensorfuse'),
    row(workload, 'onnxruntime-node', 2, 0.0005 * ratio2, 'onnxruntime'),
  ];
}

/** Two suites, four workloads, two thread counts; CATCONV and resnet50 have goals (1.3×, 1.0×). */
function sampleSummary(): BenchSummary {
  const fusion = suite('fusion', [...pairRows('CATCONV', 2, 4), ...pairRows('ADDCONV', 1, 0.5)],
    { 'ADDCONV check': 'MISMATCH (max |Δ| 3)', 'CATCONV check': 'match (max |Δ| 1e-6)' });
  const models = suite('models', [...pairRows('resnet50', 0.8, 0.25), ...pairRows(NASTY, 8, 1.5)]);
  return summarize([fusion, models], header);
}

function parseSvg(svg: string): Element {
  const doc = new DOMParser({ onError: (level, msg) => { throw new Error(`SVG ${level}: ${msg}`); } }).parseFromString(svg, 'image/svg+xml');
  const root = doc.documentElement;
  assert.ok(root, 'no root element');
  assert.strictEqual(root.tagName, 'svg');
  return root;
}

function elements(root: Element, tag: string, cls?: string): Element[] {
  return Array.from(root.getElementsByTagName(tag)).filter((e) => cls === undefined || e.getAttribute('class') === cls);
}

const attr = (e: Element, name: string) => Number(e.getAttribute(name));

describe('bench summary: headline pairs', () => {
  it('pairs the headline rows per workload and thread count, ratio = onnxruntime / tensorfuse', () => {
    const s = sampleSummary();
    assert.deepStrictEqual(s.threads, [1, 2]);
    assert.deepStrictEqual(s.comparisons.map((c) => [c.suite, c.workload, c.threads, Number(c.ratio.toFixed(6))]), [
      ['fusion', 'CATCONV', 1, 2], ['fusion', 'CATCONV', 2, 4], ['fusion', 'ADDCONV', 1, 1], ['fusion', 'ADDCONV', 2, 0.5],
      ['models', 'resnet50', 1, 0.8], ['models', 'resnet50', 2, 0.25], ['models', NASTY, 1, 8], ['models', NASTY, 2, 1.5],
    ]);
    assert.strictEqual(s.comparisons[0].tensorfuse.variant, 'tensorfuse fused');
    assert.deepStrictEqual(s.mismatches, ['fusion: ADDCONV check: MISMATCH (max |Δ| 3)']);
  });

  it('attaches the issues\' goals at one thread only', () => {
    const goals = sampleSummary().comparisons.filter((c) => c.target).map((c) => [c.workload, c.threads, c.target!.ratio]);
    assert.deepStrictEqual(goals, [['CATCONV', 1, 1.3], ['ADDCONV', 1, 1.3], ['resnet50', 1, 1.0]]);
  });

  it('leaves out a pair with a side missing and refuses two rows for one side', () => {
    const lonely = suite('conv', [row('CONV3', 'tensorfuse', 1, 1, 'tensorfuse'), row('CONV1', 'onnxruntime-node', 1, 1, 'onnxruntime')]);
    assert.deepStrictEqual(headlineComparisons(lonely), []);
    const twice = suite('conv', [row('CONV3', 'a', 1, 1, 'tensorfuse'), row('CONV3', 'b', 1, 2, 'tensorfuse')]);
    assert.throws(() => headlineComparisons(twice), /two tensorfuse headline rows for CONV3 at 1 thread/);
  });
});

describe('bench summary: markdown table', () => {
  const md = summaryMarkdown(sampleSummary());
  const tableLines = md.split('\n').filter((l) => l.startsWith('| '));

  it('has the run header: command, date, CPU, load average', () => {
    assert.ok(md.startsWith('# tensorfuse vs onnxruntime-node\n'));
    for (const s of ['command: `node bin/tensorfuse.js bench --quick` (quick mode)', 'date: 2026-01-02T03:04:05.000Z', 'CPU: Test CPU <x>, 2 cores',
      'load average at start (1, 5, 15 min): 0.5, 0.4, 0.3', 'load average at end: 0.6, 0.5, 0.4', 'WARNING, output differs from onnxruntime-node: fusion: ADDCONV']) {
      assert.ok(md.includes(s), `missing: ${s}`);
    }
  });

  it('one line per workload with both medians and the ratio at each thread count, and the goal', () => {
    assert.strictEqual(tableLines.length, 2 + 4); // header, separator, 4 workloads
    assert.strictEqual(tableLines[0], '| suite | workload | tensorfuse as | tensorfuse, 1 thread | onnxruntime-node, 1 thread | ratio, 1 thread | ' +
      'tensorfuse, 2 threads | onnxruntime-node, 2 threads | ratio, 2 threads | goal, 1 thread |');
    assert.strictEqual(tableLines[2], '| fusion | CATCONV | tensorfuse fused | 1.000 ms | 2.000 ms | 2.00× | 500.00 µs | 2.000 ms | 4.00× | ≥ 1.30× (issue 4): met |');
    assert.ok(tableLines[3].endsWith('| 1.00× | 500.00 µs | 250.00 µs | 0.50× | ≥ 1.30× (issue 4): not met |'), tableLines[3]);
    assert.ok(tableLines[4].endsWith('| 0.80× | 500.00 µs | 125.00 µs | 0.25× | ≥ 1.00× (issue 5): not met |'), tableLines[4]);
  });

  it('escapes | in names so the columns hold', () => {
    const line = tableLines[5];
    assert.ok(line.includes(`res<&>"net'\\|50`), line);
    assert.strictEqual(line.split(/(?<!\\)\|/).length - 2, tableLines[0].split('|').length - 2);
  });
});

describe('bench summary: SVG chart', () => {
  const summary = sampleSummary();
  let root: Element;
  let bars: Element[];
  let reference: Element[];
  before(() => {
    root = parseSvg(summarySvg(summary));
    bars = elements(root, 'rect', 'bar');
    reference = elements(root, 'line', 'reference');
  });

  it('is well-formed SVG with one bar per workload and thread count', () => {
    assert.strictEqual(bars.length, 4 * 2);
    assert.deepStrictEqual(bars.map((b) => `${b.getAttribute('data-workload')}@${b.getAttribute('data-threads')}`),
      summary.comparisons.map((c) => `${c.workload}@${c.threads}`));
    assert.strictEqual(elements(root, 'text', 'workload').length, 4);
    assert.deepStrictEqual(elements(root, 'text', 'section').map((t) => t.textContent), ['fusion suite', 'models suite']);
  });

  it('prints every ratio', () => {
    const values = elements(root, 'text', 'value').map((t) => t.textContent);
    assert.deepStrictEqual(values, ['2.00×', '4.00×', '1.00×', '0.50×', '0.80×', '0.25×', '8.00×', '1.50×']);
  });

  it('grows bars from the 1.0× line on a log axis: faster to the right, slower to the left', () => {
    assert.strictEqual(reference.length, 1);
    const one = attr(reference[0], 'x1');
    const byRatio = new Map(bars.map((b) => [Number(b.getAttribute('data-ratio')), b]));
    const width = (r: number) => attr(byRatio.get(r)!, 'width');
    for (const r of [2, 4, 8, 1.5]) assert.ok(Math.abs(attr(byRatio.get(r)!, 'x') - one) < 0.11, `bar ${r}× starts at 1.0×`);
    for (const r of [0.5, 0.25, 0.8]) assert.ok(Math.abs(attr(byRatio.get(r)!, 'x') + width(r) - one) < 0.11, `bar ${r}× ends at 1.0×`);
    assert.ok(Math.abs(width(4) - 2 * width(2)) < 0.2, 'log scale: 4× is twice as long as 2×');
    assert.ok(Math.abs(width(0.25) - width(4)) < 0.2, '1/4× as long as 4×');
    assert.strictEqual(width(1), 0);
  });

  it('marks each goal on its one-thread bar', () => {
    const targets = elements(root, 'g', 'target');
    assert.deepStrictEqual(targets.map((g) => [g.getAttribute('data-workload'), g.getAttribute('data-ratio')]),
      [['CATCONV', '1.3'], ['ADDCONV', '1.3'], ['resnet50', '1']]);
    const one = attr(reference[0], 'x1');
    const resnetGoal = elements(targets[2], 'line')[0];
    assert.strictEqual(attr(resnetGoal, 'x1'), one);
  });

  it('escapes names: they read back exactly as given', () => {
    const label = elements(root, 'text', 'workload').find((t) => t.textContent === NASTY);
    assert.ok(label, 'workload label with <&>"\' read back');
    assert.strictEqual(bars.filter((b) => b.getAttribute('data-workload') === NASTY).length, 2);
    assert.ok(elements(root, 'title').some((t) => t.textContent!.startsWith(`${NASTY}, 1 thread: tensorfuse 1.000 ms`)));
    assert.strictEqual(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
  });

  it('says so, still well-formed, when no suite compared with onnxruntime-node', () => {
    const empty = summarize([suite('elementwise', [row('ADD-L', 'tensorfuse add', 1, 1)])], header);
    const svg = parseSvg(summarySvg(empty));
    assert.strictEqual(elements(svg, 'rect', 'bar').length, 0);
    assert.ok(svg.textContent!.includes('No tensorfuse-vs-onnxruntime-node pairs in: elementwise'));
    assert.ok(summaryMarkdown(empty).includes('No tensorfuse-vs-onnxruntime-node pairs in the suites run (elementwise).'));
  });

  it('spans powers of two from below the slowest ratio (room for its label) to above the fastest', () => {
    assert.deepStrictEqual(ratioAxis([1]), { ticks: [0.5, 1, 2], min: 0.5, max: 2 });
    assert.deepStrictEqual(ratioAxis([0.47, 16.3]).ticks, [0.25, 0.5, 1, 2, 4, 8, 16, 32]);
    assert.strictEqual(ratioAxis([0.3]).min, 0.125);
  });
});
