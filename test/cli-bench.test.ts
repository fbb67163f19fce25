// `tensorfuse bench` end to end on the smallest run there is (the models suite, SqueezeNet
// only, 1 thread, --quick: two child processes, a few seconds), and its argument checks.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DOMParser } from '@xmldom/xmldom';
import { parseThreadList } from '../lib/cli/bench';
import { ONNXRUNTIME_SUITES, selectionErrors } from '../bench/suites';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorfuse.js');

function tensorfuse(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tensorfuse bench: options', () => {
  it('reads thread counts as a comma-separated list of positive whole numbers', () => {
    assert.deepStrictEqual(parseThreadList('1,2'), [1, 2]);
    assert.deepStrictEqual(parseThreadList(' 4 '), [4]);
    for (const bad of ['', '0', '1,x', '1.5', '-1']) assert.throws(() => parseThreadList(bad), /positive whole numbers/, bad);
  });

  it('defaults to the suites that compare with onnxruntime-node', () => {
    assert.deepStrictEqual(ONNXRUNTIME_SUITES, ['conv', 'fusion', 'models']);
  });

  it('names unknown suites and workloads before running anything', () => {
    assert.deepStrictEqual(selectionErrors(['conv', 'models'], ['CONV3', 'squeezenet']), []);
    const errors = selectionErrors(['conv', 'nope'], ['CONV3', 'ADD-L']);
    assert.strictEqual(errors.length, 2);
    assert.match(errors[0], /unknown suite\(s\): nope/);
    assert.match(errors[1], /has workload\(s\) ADD-L; they have: CONV3, CONV1, CONV3S2, DW3/);
    const r = tensorfuse(['bench', '--suites', 'conv,nope']);
    assert.strictEqual(r.status, 1);
    assert.match(r.stderr, /unknown suite\(s\): nope; known: elementwise, conv, fusion, models, onnx/);
  });
});

describe('tensorfuse bench: one small run', function () {
  this.timeout(120000);
  let out: string;
  before(() => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'tensorfuse-bench-'));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('writes the suite results, summary.md and summary.svg from the one run', () => {
    const args = ['bench', '--suites', 'models', '--workloads', 'squeezenet', '--threads', '1', '--quick', '--out', out];
    const r = tensorfuse(args);
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(fs.readdirSync(out).sort(), ['models.json', 'models.md', 'summary.md', 'summary.svg']);

    const models = JSON.parse(fs.readFileSync(path.join(out, 'models.json'), 'utf8')) as { rows: { workload: string; variant: string; seconds: number }[] };
    const median = (variant: string) => models.rows.find((row) => row.variant === variant)!.seconds;
    const ratio = median('onnxruntime-node') / median('tensorfuse');

    const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.ok(md.includes(`- command: \`npx tensorfuse ${args.join(' ')}\` (quick mode)`), md);
    // Only the thread count asked for: the root command's own --threads did not take it.
    assert.match(md, /\| models \| squeezenet \| tensorfuse \| [\d.]+ ms \| [\d.]+ ms \| ([\d.]+)× \|\n/);
    assert.strictEqual(md.match(/\| models \| squeezenet \|.*\| ([\d.]+)× \|\n/)![1], ratio.toFixed(2));

    const svg = new DOMParser({ onError: (level, msg) => { throw new Error(`SVG ${level}: ${msg}`); } })
      .parseFromString(fs.readFileSync(path.join(out, 'summary.svg'), 'utf8'), 'image/svg+xml');
    const bars = Array.from(svg.getElementsByTagName('rect')).filter((e) => e.getAttribute('class') === 'bar');
    assert.deepStrictEqual(bars.map((b) => [b.getAttribute('data-workload'), b.getAttribute('data-threads'), b.getAttribute('data-ratio')]),
      [['squeezenet', '1', ratio.toFixed(3)]]);
  });
});

describe('bench/layers.js: per-layer times next to onnxruntime-node', function () {
  this.timeout(120000);

  it('writes layers-squeezenet.md: every conv shape with both engines\' times, sorted by what tensorfuse loses', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-layers-test-'));
    try {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'layers.js'), 'squeezenet', '--runs', '2', '--out', out],
        { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
      assert.strictEqual(r.status, 0, r.stderr);
      const md = fs.readFileSync(path.join(out, 'layers-squeezenet.md'), 'utf8');
      const convs = md.split('\n').filter((l) => l.startsWith('| Conv ['));
      // SqueezeNet 1.1: 26 convs over 18 distinct shapes; each row has both engines' times.
      assert.ok(convs.length >= 10, md);
      for (const row of convs) {
        const cells = row.split('|').map((c) => c.trim());
        assert.ok(Number(cells[3]) > 0 && Number(cells[4]) > 0, `both times in: ${row}`);
      }
      const gaps = convs.map((row) => { const c = row.split('|').map((x) => x.trim()); return Number(c[3]) - Number(c[4]); });
      // Sorted on unrounded times; the table shows them to 0.001 ms.
      gaps.forEach((g, i) => assert.ok(i === 0 || gaps[i - 1] >= g - 0.002, `row ${i} out of order: ${gaps}`));
      assert.match(md, /totals per run: tensorfuse \d+\.\d+ ms, onnxruntime-node \d+\.\d+ ms/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('bench/chains.js: one conv shape in a chain, next to onnxruntime-node', function () {
  this.timeout(120000);

  it('writes chains.md: a row per shape with both engines\' times per conv', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-chains-test-'));
    try {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'chains.js'), '--shapes', '16x8x1,24x9x3', '--length', '2', '--rounds', '2', '--out', out],
        { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
      assert.strictEqual(r.status, 0, r.stderr);
      const md = fs.readFileSync(path.join(out, 'chains.md'), 'utf8');
      const rows = md.split('\n').filter((l) => l.startsWith('| ['));
      assert.deepStrictEqual(rows.map((row) => row.split('|')[1].trim()), ['[16,8,8] → 16 1x1', '[24,9,9] → 24 3x3']);
      for (const row of rows) {
        const cells = row.split('|').map((c) => c.trim());
        assert.ok(cells[2].length > 0 && Number(cells[3]) > 0 && Number(cells[4]) > 0, `kernel and both times in: ${row}`);
        assert.match(cells[5], /^\d+\.\d\d×$/, `a ratio in: ${row}`);
        assert.ok(Number(cells[5].slice(0, -1)) > 0, `a positive ratio in: ${row}`);
      }
      for (const row of rows) {
        const [ms, ratio] = row.split('|').map((c) => c.trim()).slice(8, 10);
        assert.ok(Number(ms) > 0 && /^\d+\.\d\d×$/.test(ratio), `blocked time and ratio in: ${row}`);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects a shape it cannot build, naming it', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'chains.js'), '--shapes', '16x8x2'], { encoding: 'utf8', cwd: ROOT, timeout: 60000 });
    assert.notStrictEqual(r.status, 0);
    assert.match(r.stderr, /--shapes: "16x8x2" needs positive sizes and an odd kernel/);
  });
});
