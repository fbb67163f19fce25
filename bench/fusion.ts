// Fusion suite (issue 4 item 7): CATCONV, ADDCONV and ASFF3 (bench-workloads.md), in one
// run: onnxruntime-node running the same graph (built in code, checked against plain JS by
// the onnx suite), tensorfuse's unfused sequence of ops, and tensorfuse's fused block where
// lib/index.ts exports one (concatConv, addConv, asffFuse). Every tensorfuse output is compared once
// with onnxruntime's; 1 and 2 threads. Plus DENSE6: a 6-layer dense block with a concat per
// layer against slice views of one preallocated output (time and bytes allocated).
import { Tensor } from '../lib/tensor';
import { add } from '../lib/ops/elementwise';
import { concat } from '../lib/ops/concat';
import {
  BenchOptions, Contender, Row, SuiteResult, Timing, isSelected, makeRow, measure, measureInterleaved, newSuiteResult, threadCounts, withThreads,
  withThreadsAsync,
} from './harness';
import { Conv2dCtor, Conv2dLike, makeTensorfuseConv, tensorfuseConv2d, tensorfuseExport } from './conv';
import { FUSION_GRAPH_NAMES, FusionGraph, compareArrays, convOutputShape, fusionGraphs, ortModel, warmUpOrt } from './onnx-model';

/** The suite's workloads: the fusion graphs and the dense block. */
export const FUSION_WORKLOADS = [...FUSION_GRAPH_NAMES, 'DENSE6'];

type OutOpt = { out?: Tensor };
type ConcatConvFn = (inputs: Tensor[], conv: Conv2dLike, options?: OutOpt) => Tensor;
type SoftmaxFn = (x: Tensor, axis?: number, options?: OutOpt) => Tensor;
type WeightedSumFn = (inputs: Tensor[], weights: Tensor[], options?: OutOpt) => Tensor;
type AsffFuseFn = (levels: Tensor[], convs: { weightLevel: Conv2dLike[]; weightLevels: Conv2dLike }, options?: OutOpt) => Tensor;
type DenseBlockFn = (x: Tensor, layers: Conv2dLike[], options?: OutOpt) => { output: Tensor; allocatedBytes: number; concatBytes: number };

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const empty = (shape: number[]) => {
  const t = Tensor.from(new Float32Array(size(shape)), shape);
  t.data.fill(0);
  return t;
};

/** A tensorfuse way to compute a graph: a name and a call writing into `out`. */
interface Variant {
  variant: string;
  /** One call of a fused block (the headline against onnxruntime), not a sequence of ops. */
  fused: boolean;
  out: Tensor;
  call(): void;
}

function variantsFor(g: FusionGraph, xs: Tensor[], Ctor: Conv2dCtor, notes: string[]): Variant[] {
  const vs: Variant[] = [];
  if (g.name === 'CATCONV' || g.name === 'ADDCONV') {
    const p = g.params.convs[0];
    const conv = makeTensorfuseConv(Ctor, p);
    const y = empty(convOutputShape(p.shape));
    const mid = empty([p.shape.n, p.shape.cin, p.shape.h, p.shape.w]);
    const isCat = g.name === 'CATCONV';
    vs.push({
      variant: isCat ? 'tensorfuse concat + Conv2d.run (unfused)' : 'tensorfuse add + Conv2d.run (unfused)',
      fused: false,
      out: y,
      call: isCat
        ? () => conv.run(concat(xs, 1, { out: mid }), { out: y })
        : () => conv.run(add(xs[0], xs[1], { out: mid }), { out: y }),
    });
    const fusedName = isCat ? 'concatConv' : 'addConv';
    const fused = tensorfuseExport<ConcatConvFn>(fusedName);
    if (fused) {
      const y2 = empty(convOutputShape(p.shape));
      vs.push({ variant: `tensorfuse ${fusedName} (fused)`, fused: true, out: y2, call: () => fused(xs, conv, { out: y2 }) });
    } else {
      notes.push(`${g.name}: ${fusedName} not exported yet (fused row skipped)`);
    }
  } else if (g.name === 'ASFF3' && g.params.asff) {
    const softmax = tensorfuseExport<SoftmaxFn>('softmax');
    const weightedSum = tensorfuseExport<WeightedSumFn>('weightedSum');
    if (!softmax || !weightedSum) {
      notes.push('ASFF3: softmax / weightedSum not exported yet (tensorfuse rows skipped)');
      return vs;
    }
    const a = g.params.asff;
    const [n, c, h, w] = xs[0].shape;
    const compress = a.compress.map((p) => makeTensorfuseConv(Ctor, p, 'relu'));
    const weightsConv = makeTensorfuseConv(Ctor, a.weights);
    const cc = a.compress[0].shape.cout;
    const ws = compress.map(() => empty([n, cc, h, w]));
    const cat = empty([n, cc * compress.length, h, w]);
    const logits = empty([n, compress.length, h, w]);
    const s = empty([n, compress.length, h, w]);
    const y = empty([n, c, h, w]);
    if (n !== 1) throw new Error('ASFF3 bench assumes batch 1 (weight maps are contiguous channel slices)');
    const maps = compress.map((_, i) => Tensor.from(s.data.subarray(i * h * w, (i + 1) * h * w), [1, 1, h, w]));
    vs.push({
      variant: 'tensorfuse ops: 3 Conv2d(relu), concat, Conv2d, softmax, weightedSum (unfused)',
      fused: false,
      out: y,
      call: () => {
        compress.forEach((conv, i) => conv.run(xs[i], { out: ws[i] }));
        concat(ws, 1, { out: cat });
        weightsConv.run(cat, { out: logits });
        softmax(logits, 1, { out: s });
        weightedSum(xs, maps, { out: y });
      },
    });
    const asffFuse = tensorfuseExport<AsffFuseFn>('asffFuse');
    if (asffFuse) {
      const y2 = empty([n, c, h, w]);
      const convs = { weightLevel: compress, weightLevels: weightsConv };
      vs.push({ variant: 'tensorfuse asffFuse (fused)', fused: true, out: y2, call: () => asffFuse(xs, convs, { out: y2 }) });
    } else {
      notes.push('ASFF3: asffFuse not exported yet (fused row skipped)');
    }
  }
  return vs;
}

// ---- dense block: concat per layer vs writing into slices of one preallocated output ----

export const DENSE = { shape: [1, 64, 56, 56], growth: 32, layers: 6 };

function denseRows(Ctor: Conv2dCtor, opts: BenchOptions, facts: SuiteResult['facts']): Row[] {
  const [n, c0, h, w] = DENSE.shape;
  if (n !== 1) throw new Error('dense bench assumes batch 1 (channel slices are contiguous)');
  const hw = h * w;
  const x = Tensor.from(new Float32Array(size(DENSE.shape)), DENSE.shape);
  for (let i = 0; i < x.size; i++) x.data[i] = Math.sin(i * 0.37);
  const convs: Conv2dLike[] = [];
  let flops = 0;
  for (let l = 0; l < DENSE.layers; l++) {
    const cin = c0 + l * DENSE.growth;
    const wt = new Float32Array(DENSE.growth * cin * 9);
    for (let i = 0; i < wt.length; i++) wt[i] = Math.cos(i * 0.11 + l) / Math.sqrt(cin * 9);
    convs.push(new Ctor(Tensor.from(wt, [DENSE.growth, cin, 3, 3]), { pads: [1, 1, 1, 1], activation: 'relu' }));
    flops += 2 * DENSE.growth * hw * cin * 9;
  }
  const cTotal = c0 + DENSE.layers * DENSE.growth;
  const view = (t: Tensor, from: number, to: number) => Tensor.from(t.data.subarray(from * hw, to * hw), [1, to - from, h, w]);

  // Without views: every layer concatenates all earlier features into a new tensor, the
  // conv allocates its output, and a last concat builds the block's output.
  let allocated = 0;
  const counted = (t: Tensor) => {
    allocated += t.data.byteLength;
    return t;
  };
  const withConcat = (): Tensor => {
    const features: Tensor[] = [x];
    for (const conv of convs) {
      const cat = features.length === 1 ? x : counted(concat(features, 1));
      features.push(counted(conv.run(cat)));
    }
    return counted(concat(features, 1));
  };
  // With views: one output; x copied into its first channels, each layer reads the channels
  // so far and writes its own slice. Nothing else is allocated.
  const out = Tensor.from(new Float32Array(cTotal * hw), [1, cTotal, h, w]);
  // tensorfuse's denseBlock does exactly this (and reports what it allocated) when exported.
  const denseBlock = tensorfuseExport<DenseBlockFn>('denseBlock');
  let blockBytes = '0 (output preallocated once)';
  const withBlock = (): Tensor => {
    const r = denseBlock!(x, convs, { out });
    blockBytes = `${r.allocatedBytes} (denseBlock's report; ${r.concatBytes} bytes of concat intermediates)`;
    return r.output;
  };
  const withViews = denseBlock ? withBlock : (): Tensor => {
    out.data.set(x.data);
    convs.forEach((conv, l) => {
      const c = c0 + l * DENSE.growth;
      conv.run(view(out, 0, c), { out: view(out, c, c + DENSE.growth) });
    });
    return out;
  };

  allocated = 0;
  const ref = withConcat();
  const bytesConcat = allocated;
  withViews();
  const cmp = compareArrays(out.data, ref.data, 1e-4, 1e-4);
  facts['DENSE6 views vs concat'] = cmp.ok ? `match (max |Δ| ${cmp.maxAbs.toExponential(1)})` : `MISMATCH (max |Δ| ${cmp.maxAbs})`;
  facts['DENSE6'] = `6-layer dense block: x [1,64,56,56], growth 32, conv 3x3 pad 1 + relu per layer, output [1,${cTotal},56,56] ` +
    `(${(cTotal * hw * 4 / 2 ** 20).toFixed(2)} MiB); views: channel ranges of one preallocated output`;

  const rows: Row[] = [];
  for (const threads of threadCounts(opts)) {
    const tc = withThreads(threads, () => measure(`DENSE6: concat per layer, ${threads} thread(s)`, withConcat, opts));
    const tv = withThreads(threads, () => measure(`DENSE6: slice views, ${threads} thread(s)`, withViews, opts));
    const rc = makeRow('DENSE6', 'concat per layer, outputs allocated by tensorfuse', threads, tc, flops / tc.median / 1e9, 'GFLOP/s');
    const rv = makeRow('DENSE6', denseBlock ? 'denseBlock: slice views of one preallocated output' : 'slice views of one preallocated output', threads, tv, flops / tv.median / 1e9, 'GFLOP/s');
    rc.notes = { 'bytes allocated per block': `${(bytesConcat / 2 ** 20).toFixed(2)} MiB (concat inputs, conv outputs, final concat)` };
    rv.notes = { 'bytes allocated per block': blockBytes };
    rv.ratios['vs concat'] = tc.median / tv.median;
    rows.push(rc, rv);
  }
  return rows;
}

export async function runFusionSuite(opts: BenchOptions = {}): Promise<SuiteResult> {
  const result = newSuiteResult('fusion', 'tensorfuse fusion blocks vs onnxruntime-node graphs (CATCONV, ADDCONV, ASFF3)', !!opts.quick);
  const facts = result.facts;
  const Ctor = tensorfuseConv2d();
  if (!Ctor) {
    facts['tensorfuse'] = 'conv2d not available yet (lib/index.ts exports no Conv2d): tensorfuse rows skipped';
    console.log('conv2d not available yet: tensorfuse rows skipped');
  }
  const notes: string[] = [];
  const threadList = threadCounts(opts);
  for (const g of fusionGraphs().filter((fg) => isSelected(opts, fg.name))) {
    const xs = Object.values(g.inputs).map((v) => Tensor.from(v.data, v.shape));
    const variants = Ctor ? variantsFor(g, xs, Ctor, notes) : [];
    const unit = g.name === 'ASFF3' ? 'GFLOP/s (1x1 convs only)' : 'GFLOP/s';
    const gf = (t: Timing) => g.flops / t.median / 1e9;
    const firsts: Record<string, Row> = {};
    // The headline tensorfuse row: the fused block where one is exported, else the ops.
    const headline = variants.find((v) => v.fused) ?? variants[0];
    for (const threads of threadList) {
      const ort = await ortModel(g.bytes, threads, g.inputs);
      const expected = threads === threadList[0] ? await ort.run() : undefined;
      for (const v of variants) {
        if (!expected) continue;
        withThreads(threads, v.call);
        const cmp = compareArrays(v.out.data, expected, 1e-3, 1e-3);
        facts[`${g.name} ${v.variant} vs onnxruntime`] = cmp.ok ? `match (max |Δ| ${cmp.maxAbs.toExponential(1)})` : `MISMATCH (max |Δ| ${cmp.maxAbs})`;
      }
      opts.onProgress?.(`${g.name}: onnxruntime-node warm-up, ${threads} thread(s)`);
      await warmUpOrt(ort, opts.quick);
      const contenders: Contender[] = [
        { name: `${g.name}: onnxruntime-node graph, ${threads} thread(s)`, fn: () => ort.run(), async: true },
        ...variants.map((v) => ({ name: `${g.name}: ${v.variant}, ${threads} thread(s)`, fn: v.call })),
      ];
      const [to, ...tv] = await withThreadsAsync(threads, () => measureInterleaved(contenders, opts));
      const tfRows = variants.map((v, i) => makeRow(g.name, v.variant, threads, tv[i], gf(tv[i]), 'GFLOP/s', v === headline ? 'tensorfuse' : undefined));
      await ort.session.release();
      const ortRow = makeRow(g.name, 'onnxruntime-node graph', threads, to, gf(to), 'GFLOP/s', 'onnxruntime');
      const unfused = tfRows.find((r) => r.variant.includes('unfused'));
      for (const r of tfRows) {
        r.ratios['vs ort'] = to.median / r.seconds;
        if (unfused && r !== unfused) r.ratios['vs unfused'] = unfused.seconds / r.seconds;
      }
      for (const r of [...tfRows, ortRow]) {
        const first = firsts[r.variant];
        if (first) r.ratios['vs 1 thread'] = first.seconds / r.seconds;
        else firsts[r.variant] = r;
        if (unit !== 'GFLOP/s') r.notes = { note: 'GFLOP/s counts the 1x1 convs only' };
      }
      result.rows.push(...tfRows, ortRow);
    }
  }
  if (Ctor && isSelected(opts, 'DENSE6')) {
    try {
      result.rows.push(...denseRows(Ctor, opts, facts));
    } catch (err) {
      facts['DENSE6'] = `failed: ${err instanceof Error ? err.message : String(err)}`;
      console.log(`DENSE6 failed: ${facts['DENSE6']}`);
    }
  }
  notes.forEach((n, i) => (facts[`note ${i + 1}`] = n));
  facts['ratios'] = '"vs ort" = onnxruntime median / tensorfuse median at the same thread count (> 1: tensorfuse faster)';
  return result;
}
