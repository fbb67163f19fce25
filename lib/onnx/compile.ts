// Graph IR + concrete input shapes → an executable plan: shape inference, lowering, the
// planner's rewrite passes (plan.ts), buffer planning and one step per node.
//
// Buffer planning: every intermediate value lives in a *storage*. Views (Reshape, Flatten,
// Squeeze, Unsqueeze, Identity, Dropout) share their input's storage; a batch-1 Concat's
// inputs become child storages at their channel offset (their producers write straight into
// the concat output); element-wise ops may take over the storage of an input that dies
// there (in place). Root storages then get offsets in one arena by liveness (first fit), so
// intermediates whose lifetimes do not overlap share memory. Storages that hold a graph
// output are allocated fresh on every run (the caller keeps them).
import { Tensor } from '../tensor';
import { beginBatch, runBatch } from '../ops/prepared';
import type { KernelBatch, PreparedStep } from '../ops/prepared';
import { add, mul } from '../ops/elementwise';
import { concat, prepareCopyInto } from '../ops/concat';
import { Conv2d } from '../ops/conv2d';
import { clip, leakyRelu, prepareSoftmax, relu, sigmoid } from '../ops/activation';
import { channelAffine } from '../ops/channel-affine';
import { preparePool2d } from '../ops/pool';
import { prepareGlobalPool } from '../ops/global-pool';
import { prepareLrn } from '../ops/lrn';
import { resize } from '../ops/resize';
import type { CoordinateTransformationMode, NearestMode } from '../ops/resize';
import { slice } from '../ops/slice';
import { blockedShape, prepareBlockedChannelAffine, prepareReorder } from '../ops/blocked';
import { ConstTensor, DType, Graph, Node, attrFloat, attrInt, attrInts, attrString, cloneGraph, sizeOf } from './ir';
import { checkIntsFolded, foldConstants } from './load';
import { PASSES, PassName, PlanContext, activationOf, lowerBatchNorm, runPasses } from './plan';
import { constFloats, flattenShape, poolGeometry, sliceSpec, splitSizes, transposePerm } from './shapes';
import * as fb from './ops/fallback';
import { convParts } from './conv-node';
import { gatherCopiedConcats } from './concat-conv';
import { buildConvStep } from './conv-step';
import { ownData } from './raw-floats';

export interface CompileOptions {
  /** false turns every rewrite pass and the memory planner off. Default true. */
  optimize?: boolean;
  /** Per-pass switches (see PASSES / MEMORY_PASSES); a missing entry means on. */
  passes?: Partial<Record<PassName, boolean>>;
}

export interface StepInfo {
  name: string;
  op: string;
  /** Original node names this step computes (more than one when fused). */
  fused: string[];
  /** Runs a plain-TS fallback kernel (lib/onnx/ops/fallback.ts) rather than a native op. */
  fallback: boolean;
  detail?: string;
  /** What the native kernel runs, where it is worth saying (convolutions: shapes, algorithm). */
  kernel?: string;
  /** Floating-point operations per run, where known (convolutions: 2 per multiply-add). */
  flops?: number;
}

export interface PlanReport {
  /** Nodes of the model after constant folding (what would run unplanned). */
  nodes: number;
  /** Steps that run. */
  steps: number;
  /** Original nodes absorbed into another step by the rewrite passes. */
  fusedNodes: number;
  /** Rewrites per pass. */
  passes: Record<string, number>;
  /** Bytes of intermediate buffers, as planned (one arena reused by liveness). */
  peakBytes: number;
  /** Bytes the intermediates would take with one buffer each. */
  unplannedBytes: number;
  /** Bytes of the graph outputs (allocated on each run). */
  outputBytes: number;
  /** Concat inputs written in place (no copy) / copied. */
  concatInPlace: number;
  concatCopied: number;
  /** Element-wise steps that overwrite their input. */
  inPlace: number;
  /** Steps per op type; fallback steps are counted under `fallbackOps` too. */
  ops: Record<string, number>;
  fallbackOps: Record<string, number>;
  stepList: StepInfo[];
}

type Slots = Tensor[];

export interface Step {
  info: StepInfo;
  run(s: Slots): void;
  /**
   * The step's kernel calls recorded into `batch` (lib/native.ts KernelBatch): an async run
   * queues consecutive such steps as one task on the libuv pool; a step without it runs on
   * the JS thread in its turn.
   */
  record?(s: Slots, batch: KernelBatch): void;
}

interface Storage {
  id: number;
  size: number;
  parent?: Storage;
  offset: number;
  children: Storage[];
  values: string[];
  kind: 'normal' | 'input' | 'const';
}

const ALIAS_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);
const INPLACE_OPS = new Set(['Relu', 'Sigmoid', 'LeakyRelu', 'Clip', 'TfAffine', 'Add', 'Mul', 'Sum', 'Softmax']);

/**
 * The native op for a sigmoid, relu6, clip or leaky relu activation (x into out); null for
 * other kinds and for a clip with min > max (NumPy's clip, max everywhere: the fallback's loop).
 */
function nativeActivation(act: fb.ActivationSpec): ((x: Tensor, out: Tensor) => void) | null {
  if (act.kind === 'sigmoid') return (x, out) => { sigmoid(x, { out }); };
  if (act.kind === 'leakyRelu') {
    const alpha = act.alpha ?? 0.01;
    return (x, out) => { leakyRelu(x, alpha, { out }); };
  }
  if (act.kind !== 'relu6' && act.kind !== 'clip') return null;
  const lo = act.kind === 'relu6' ? 0 : act.min ?? -Infinity, hi = act.kind === 'relu6' ? 6 : act.max ?? Infinity;
  return lo <= hi ? (x, out) => { clip(x, lo, hi, { out }); } : null;
}

const ALIGN = 16; // floats (64 bytes)

/** The NHWC view [N C/L, H, W, L] of a blocked tensor whose NCHW shape is s (C a multiple of L). */
function nhwcView(s: readonly number[]): number[] {
  const b = blockedShape(s);
  return [b[0] * b[1], b[2], b[3], b[4]];
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** A prepared plan for one set of input shapes; executors (arena + slots) are made from it. */
export class CompiledPlan {
  readonly report: PlanReport;
  readonly inputShapes: Map<string, number[]>;
  readonly outputShapes: Map<string, number[]>;
  private readonly steps: Step[];
  private readonly slotOf = new Map<string, number>();
  private readonly nSlots: number;
  private readonly constSlots: Array<[number, Tensor]> = [];
  /** [slot, root storage id, float offset in root, shape] for values in arena storages. */
  private readonly arenaViews: Array<[number, number, number[]]> = [];
  private readonly arenaSize: number;
  /** Per-run roots: [root size, list of [slot, offset, shape]]. */
  private readonly perRun: Array<[number, Array<[number, number, number[]]>]> = [];
  /** Views of graph inputs: [slot, source slot, shape]. */
  private readonly inputViews: Array<[number, number, number[]]> = [];
  private readonly outputNames: string[];
  private readonly free: Executor[] = [];

  constructor(graph0: Graph, dtypes: Map<string, DType>, inputShapes: Map<string, number[]>, outputNames: string[], options: CompileOptions) {
    const optimize = options.optimize !== false;
    const enabled = (p: PassName) => optimize && options.passes?.[p] !== false;
    const graph = cloneGraph(graph0);
    this.inputShapes = inputShapes;
    this.outputNames = outputNames;
    const shapes = foldConstants(graph, inputShapes, true);
    checkIntsFolded(graph, dtypes, true);
    const originalNodes = graph.nodes.length;
    lowerBatchNorm(graph);
    const keep = new Set(outputNames);
    const ctx: PlanContext = { graph, shapes, keep };
    const passStats = runPasses(ctx, enabled);
    const nodes = graph.nodes;

    // ---- values, slots, liveness ----
    const slot = (v: string) => {
      let s = this.slotOf.get(v);
      if (s === undefined) this.slotOf.set(v, (s = this.slotOf.size));
      return s;
    };
    const def = new Map<string, number>();
    const last = new Map<string, number>();
    for (const i of graph.inputs) { def.set(i.name, -1); slot(i.name); }
    nodes.forEach((n, idx) => {
      n.inputs.forEach((v) => { if (v !== '') { last.set(v, idx); slot(v); } });
      n.outputs.forEach((v) => { if (v !== '') { def.set(v, idx); slot(v); } });
    });
    for (const o of outputNames) {
      if (!def.has(o) && !graph.consts.has(o)) throw new RangeError(`Model.run: '${o}' is not a value of the planned graph (graph outputs: ${graph.outputs.map((x) => x.name).join(', ')})`);
      last.set(o, Infinity);
      slot(o);
    }

    // ---- storages ----
    const storageOf = new Map<string, Storage>();
    const roots: Storage[] = [];
    let nextId = 0;
    const newStorage = (size: number, kind: Storage['kind'], v: string): Storage => {
      const s: Storage = { id: nextId++, size, offset: 0, children: [], values: [v], kind };
      storageOf.set(v, s);
      roots.push(s);
      return s;
    };
    for (const i of graph.inputs) newStorage(sizeOf(inputShapes.get(i.name)!), 'input', i.name);
    for (const [name, c] of graph.consts) if (this.slotOf.has(name)) newStorage(sizeOf(c.dims), 'const', name);
    const shapeOf = (v: string): number[] => {
      const s = shapes.get(v);
      if (!s) throw new Error(`internal: no shape for ${v}`);
      return s;
    };
    const splitViews = new Set<number>();
    nodes.forEach((n, idx) => {
      if (ALIAS_OPS.has(n.op)) {
        const src = storageOf.get(n.inputs[0])!;
        src.values.push(n.outputs[0]);
        storageOf.set(n.outputs[0], src);
        n.outputs.slice(1).forEach((o) => o && newStorage(sizeOf(shapeOf(o)), 'normal', o));
        return;
      }
      if (n.op === 'Split' && enabled('concatInPlace')) {
        const xs = shapeOf(n.inputs[0]);
        const axis = splitSizes(n, xs, [undefined, graph.consts.get(n.inputs[1] ?? '')], graph.opset).axis;
        const src = storageOf.get(n.inputs[0])!;
        if (sizeOf(xs.slice(0, axis)) === 1 && src.kind === 'normal' && src.size === sizeOf(xs)) {
          let off = 0;
          for (const o of n.outputs) {
            const size = sizeOf(shapeOf(o));
            if (o !== '') {
              const s: Storage = { id: nextId++, size, offset: off, children: [], values: [o], kind: 'normal', parent: src };
              src.children.push(s);
              storageOf.set(o, s);
            }
            off += size;
          }
          splitViews.add(idx);
          return;
        }
      }
      n.outputs.forEach((o) => o && newStorage(sizeOf(shapeOf(o)), 'normal', o));
    });
    const rootOf = (s: Storage): Storage => (s.parent ? rootOf(s.parent) : s);
    const treeValues = (s: Storage): string[] => [...s.values, ...s.children.flatMap(treeValues)];

    // ---- concat in place (batch-1 concat: inputs become slices of the output) ----
    let concatInPlace = 0, concatCopied = 0;
    const placedConcat = new Map<number, boolean[]>();
    nodes.forEach((n, idx) => {
      if (n.op !== 'Concat') return;
      const out = shapeOf(n.outputs[0]);
      const axis = (attrInt(n, 'axis', 1) + out.length) % out.length;
      const outer = sizeOf(out.slice(0, axis));
      const placed = n.inputs.map(() => false);
      if (enabled('concatInPlace') && outer === 1) {
        const outS = storageOf.get(n.outputs[0])!;
        let off = 0;
        const seen = new Set<string>();
        n.inputs.forEach((v, k) => {
          const size = sizeOf(shapeOf(v));
          const s = storageOf.get(v)!;
          const ok = !seen.has(v) && s.kind === 'normal' && !s.parent && s !== outS && s.size === size &&
            !treeValues(s).some((x) => keep.has(x));
          seen.add(v);
          if (ok) {
            s.parent = outS;
            s.offset = off;
            outS.children.push(s);
            roots.splice(roots.indexOf(s), 1);
            placed[k] = true;
          }
          off += size;
        });
      }
      placed.forEach((p) => (p ? concatInPlace++ : concatCopied++));
      placedConcat.set(idx, placed);
    });

    // ---- concat → conv: the conv gathers a concat that would copy (concat-conv.ts) ----
    const gatheredConcats = enabled('concatConv') ? gatherCopiedConcats(nodes, shapeOf, keep, placedConcat, last) : new Map<number, number>();
    for (const idx of gatheredConcats.keys()) {
      const placed = placedConcat.get(idx)!;
      concatCopied -= placed.filter((p) => !p).length;
      // nothing placed in the concat's output: no one writes or reads it any more
      if (!placed.some((p) => p)) roots.splice(roots.indexOf(storageOf.get(nodes[idx].outputs[0])!), 1);
    }

    // ---- in place element-wise (and a conv's residual epilogue over its dying skip) ----
    let inPlace = 0;
    const inPlaceOf = new Map<number, number>(); // node idx → input slot reused
    if (enabled('inPlace')) {
      nodes.forEach((n, idx) => {
        const conv = n.op === 'Conv' ? convParts(n) : undefined;
        if (!INPLACE_OPS.has(n.op) && !conv?.skip) return;
        const out = n.outputs[0];
        const outS = storageOf.get(out)!;
        if (outS.values.length !== 1 || outS.children.length > 0 || outS.kind !== 'normal') return;
        const outShape = shapeOf(out);
        const cands = conv ? [3] : n.op === 'TfAffine' || n.op === 'Relu' || n.op === 'Sigmoid' || n.op === 'LeakyRelu' || n.op === 'Clip' || n.op === 'Softmax' ? [0] : n.inputs.map((_, i) => i);
        for (const k of cands) {
          const v = n.inputs[k];
          if (!v) continue;
          const s = storageOf.get(v)!;
          const vs = shapeOf(v);
          if (s.kind !== 'normal' || s.parent || s.children.length > 0 || s === outS) continue;
          if (vs.length !== outShape.length || vs.some((d, i) => d !== outShape[i])) continue;
          if (n.inputs.filter((x) => x === v).length > 1 && n.op !== 'Add' && n.op !== 'Mul') continue;
          // the kernel accumulates into a skip that is its output, but no source may overlap it
          if (conv && conv.sources.some((x) => storageOf.get(x) === s)) continue;
          if (s.values.some((x) => (last.get(x) ?? -1) > idx || keep.has(x))) continue;
          // merge s into outS
          for (const x of s.values) { storageOf.set(x, outS); outS.values.unshift(x); }
          roots.splice(roots.indexOf(s), 1);
          inPlaceOf.set(idx, k);
          inPlace++;
          break;
        }
      });
    }

    // ---- liveness of roots and arena offsets ----
    const life = (r: Storage): [number, number] => {
      const vals = treeValues(r);
      let a = Infinity, b = -Infinity;
      for (const v of vals) { a = Math.min(a, def.get(v) ?? -1); b = Math.max(b, last.get(v) ?? def.get(v) ?? -1); }
      return [a, b];
    };
    const reuse = optimize;
    const arenaRoots: Array<{ r: Storage; a: number; b: number; off: number }> = [];
    let arenaSize = 0, unplanned = 0, outputBytes = 0;
    const rootOffset = new Map<Storage, number>();
    for (const r of roots) {
      if (r.kind !== 'normal') continue;
      const vals = treeValues(r);
      if (vals.some((v) => keep.has(v))) {
        const list: Array<[number, number, number[]]> = [];
        const walk = (s: Storage, base: number) => {
          for (const v of s.values) list.push([this.slotOf.get(v)!, base + s.offset, shapeOf(v)]);
          for (const c of s.children) walk(c, base + s.offset);
        };
        walk(r, -r.offset);
        this.perRun.push([r.size, list]);
        outputBytes += r.size * 4;
        continue;
      }
      const [a, b] = life(r);
      const size = alignUp(r.size);
      unplanned += r.size * 4;
      let off = 0;
      if (reuse) {
        const busy = arenaRoots.filter((x) => x.a <= b && a <= x.b).sort((x, y) => x.off - y.off);
        for (const x of busy) {
          if (off + size <= x.off) break;
          off = Math.max(off, alignUp(x.off + alignUp(x.r.size)));
        }
      } else {
        off = arenaSize;
      }
      arenaRoots.push({ r, a, b, off });
      rootOffset.set(r, off);
      arenaSize = Math.max(arenaSize, off + size);
    }
    this.arenaSize = arenaSize;
    for (const { r, off } of arenaRoots) {
      const walk = (s: Storage, base: number) => {
        for (const v of s.values) this.arenaViews.push([this.slotOf.get(v)!, base + s.offset, shapeOf(v)]);
        for (const c of s.children) walk(c, base + s.offset);
      };
      walk(r, off - r.offset);
    }
    // views of graph inputs (a Reshape of the input, say): made on each run
    for (const i of graph.inputs) {
      const s = storageOf.get(i.name)!;
      for (const v of s.values) if (v !== i.name) this.inputViews.push([this.slotOf.get(v)!, this.slotOf.get(i.name)!, shapeOf(v)]);
    }
    this.nSlots = this.slotOf.size;

    // ---- steps ----
    const builder = new StepBuilder(graph, shapes, this.slotOf);
    this.steps = [];
    nodes.forEach((n, idx) => {
      if (ALIAS_OPS.has(n.op)) return;
      if (splitViews.has(idx) || gatheredConcats.has(idx)) return;
      this.steps.push(builder.build(n, placedConcat.get(idx), inPlaceOf.has(idx)));
    });
    // Constants that steps read as tensors (weights packed into a Conv2d are not kept: the
    // plan holds no fp32 copy of them), and views of them.
    for (const [name, c] of graph.consts) {
      const s = storageOf.get(name);
      if (!s || !c.f32) continue;
      let data: Float32Array | undefined;
      for (const v of s.values) {
        const sl = this.slotOf.get(v)!;
        if (!builder.read.has(sl)) continue;
        data ??= ownData(c.f32);
        this.constSlots.push([sl, Tensor.fromUnchecked(data, v === name ? c.dims : shapeOf(v))]);
      }
    }
    builder.finish();

    const ops: Record<string, number> = {};
    const fallbackOps: Record<string, number> = {};
    for (const s of this.steps) {
      ops[s.info.op] = (ops[s.info.op] ?? 0) + 1;
      if (s.info.fallback) fallbackOps[s.info.op] = (fallbackOps[s.info.op] ?? 0) + 1;
    }
    const fusedNodes = this.steps.reduce((a, s) => a + Math.max(0, s.info.fused.length - 1), 0) + (passStats.eliminateIdentity ?? 0);
    this.outputShapes = new Map(outputNames.map((o) => [o, shapeOf(o)]));
    this.report = {
      nodes: originalNodes,
      steps: this.steps.length,
      fusedNodes,
      passes: { ...passStats, concatInPlace, concatConv: gatheredConcats.size, inPlace },
      peakBytes: arenaSize * 4,
      unplannedBytes: unplanned,
      outputBytes,
      concatInPlace,
      concatCopied,
      inPlace,
      ops,
      fallbackOps,
      stepList: this.steps.map((s) => s.info),
    };
    void PASSES;
  }

  private acquire(): Executor {
    return this.free.pop() ?? this.newExecutor();
  }

  private newExecutor(): Executor {
    const slots: Slots = new Array<Tensor>(this.nSlots);
    for (const [s, t] of this.constSlots) slots[s] = t;
    if (this.arenaSize > 0) {
      const arena = Tensor.empty([this.arenaSize]).data;
      for (const [s, off, shape] of this.arenaViews) slots[s] = Tensor.fromUnchecked(arena.subarray(off, off + sizeOf(shape)), shape);
    }
    return { slots };
  }

  private bind(ex: Executor, feeds: Map<string, Tensor>): void {
    const s = ex.slots;
    for (const [name, t] of feeds) s[this.slotOf.get(name)!] = t;
    for (const [slotIdx, src, shape] of this.inputViews) s[slotIdx] = Tensor.fromUnchecked(s[src].data, shape);
    for (const [size, list] of this.perRun) {
      const buf = Tensor.empty([size]).data;
      for (const [slotIdx, off, shape] of list) s[slotIdx] = Tensor.fromUnchecked(buf.subarray(off, off + sizeOf(shape)), shape);
    }
  }

  private collect(ex: Executor, names: readonly string[]): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const n of names) out[n] = ex.slots[this.slotOf.get(n)!];
    return out;
  }

  /** With `stepMs`, adds each step's milliseconds into stepMs[step index]. */
  run(feeds: Map<string, Tensor>, names: readonly string[], stepMs?: number[]): Record<string, Tensor> {
    const ex = this.acquire();
    try {
      this.bind(ex, feeds);
      if (stepMs) {
        this.steps.forEach((st, i) => {
          const t0 = process.hrtime.bigint();
          st.run(ex.slots);
          stepMs[i] = (stepMs[i] ?? 0) + Number(process.hrtime.bigint() - t0) / 1e6;
        });
      } else {
        for (const st of this.steps) st.run(ex.slots);
      }
      return this.collect(ex, names);
    } finally {
      this.release(ex);
    }
  }

  async runAsync(feeds: Map<string, Tensor>, names: readonly string[]): Promise<Record<string, Tensor>> {
    const ex = this.acquire();
    try {
      this.bind(ex, feeds);
      // Consecutive steps that record their calls run as one task; the others in turn.
      let batch: KernelBatch | undefined;
      for (const st of this.steps) {
        if (st.record) {
          st.record(ex.slots, batch ??= beginBatch());
          continue;
        }
        if (batch) await runBatch(batch);
        batch = undefined;
        st.run(ex.slots);
      }
      if (batch) await runBatch(batch);
      return this.collect(ex, names);
    } finally {
      this.release(ex);
    }
  }

  private release(ex: Executor): void {
    // drop references to the caller's tensors and the outputs
    for (const name of this.inputShapes.keys()) ex.slots[this.slotOf.get(name)!] = undefined as unknown as Tensor;
    this.free.push(ex);
  }
}

interface Executor {
  slots: Slots;
}

/** Builds the step (kernel call) for one node. */
class StepBuilder {
  /** Slots some step reads or writes at run time. */
  readonly read = new Set<number>();

  /** Weights rearranged just before a Conv2d packs (copies) them: one buffer for every step. */
  private scratchData = new Float32Array(0);

  constructor(private readonly g: Graph, private readonly shapes: Map<string, number[]>, private readonly slotOf: Map<string, number>) {}

  private scratch(n: number): Float32Array {
    if (this.scratchData.length < n) this.scratchData = new Float32Array(n);
    return this.scratchData.subarray(0, n);
  }

  /**
   * Lets go of the graph's constants and the scratch once every step is built. The steps'
   * closures share their scope with this builder, so whatever it still held would live as
   * long as the plan: every fp32 weight of the model, next to its packed copy.
   */
  finish(): void {
    this.g.consts.clear();
    this.g.nodes = [];
    this.scratchData = new Float32Array(0);
  }

  private s(v: string): number {
    const sl = this.slotOf.get(v)!;
    this.read.add(sl);
    return sl;
  }

  private shape(v: string): number[] {
    return this.shapes.get(v)!;
  }

  private c(v: string): ConstTensor | undefined {
    return v === '' ? undefined : this.g.consts.get(v);
  }

  build(n: Node, placed: boolean[] | undefined, inPlace: boolean): Step {
    const info: StepInfo = { name: n.name, op: n.op, fused: n.fused ?? [n.name], fallback: false };
    if (inPlace) info.detail = 'in place';
    const x = n.inputs.length > 0 && n.inputs[0] !== '' ? this.s(n.inputs[0]) : -1;
    const y = this.s(n.outputs[0]);
    const step = (run: Step['run']): Step => ({ info, run });
    // A step of one prepared op from slot x to slot y (lib/ops/prepared.ts).
    const prepared = (op: PreparedStep): Step => ({
      info,
      run: (s) => { op.run(s[x].data, s[y].data); },
      record: (s, batch) => { op.record(s[x].data, s[y].data, batch); },
    });
    const fallback = (run: Step['run']): Step => { info.fallback = true; return { info, run }; };
    switch (n.op) {
      case 'Conv': return buildConvStep(n, info, { constant: (v) => this.c(v), shape: (v) => this.shape(v), slot: (v) => this.s(v), scratch: (k) => this.scratch(k) });
      case 'Gemm': return this.gemm(n, info);
      case 'MatMul': return this.matmul(n, info);
      case 'Add': case 'Mul': case 'Sum': {
        const ins = n.inputs.map((v) => this.s(v));
        const f = n.op === 'Mul' ? mul : add;
        if (ins.length === 1) return step((s) => { s[y].data.set(s[ins[0]].data); });
        return step((s) => {
          const out = s[y];
          f(s[ins[0]], s[ins[1]], { out });
          for (let k = 2; k < ins.length; k++) f(out, s[ins[k]], { out });
        });
      }
      case 'TfAffine': {
        const sc = this.c(n.inputs[1])?.f32 ?? null, sh = this.c(n.inputs[2])?.f32 ?? null;
        const act: fb.ActivationSpec = { kind: (n.attrs.activation as fb.Activation) ?? 'none', alpha: n.attrs.alpha as number, min: n.attrs.min as number, max: n.attrs.max as number };
        if (act.kind !== 'none') info.detail = `${info.detail ? info.detail + ', ' : ''}+${act.kind}`;
        const xs = this.shape(n.inputs[0]);
        if (n.attrs.layout === 'NCHWc') {
          // blocked-layout.ts made it blocked: constant scale and shift, none or relu
          const bv = blockedShape(xs), scale = ownData(sc!), shift = ownData(sh!);
          const activation = act.kind === 'relu' ? 'relu' : 'none';
          info.detail = `NCHWc${info.detail ? ', ' + info.detail : ''}`;
          const affine = prepareBlockedChannelAffine(bv, scale, shift, activation);
          return prepared(affine);
        }
        const after = nativeActivation(act);
        if (xs.length >= 2 && (act.kind === 'none' || act.kind === 'relu' || after)) {
          // one native pass: x * scale + shift (+ relu); any other activation is a second, in place
          const scale = sc ? ownData(sc) : new Float32Array(xs[1]).fill(1), shift = sh ? ownData(sh) : new Float32Array(xs[1]);
          const activation = act.kind === 'relu' ? 'relu' : 'none';
          if (!after) return step((s) => { channelAffine(s[x], scale, shift, { activation, out: s[y] }); });
          return step((s) => { after(channelAffine(s[x], scale, shift, { out: s[y] }), s[y]); });
        }
        return fallback((s) => fb.channelAffine(s[x], sc, sh, act, s[y]));
      }
      case 'Relu': return step((s) => { relu(s[x], { out: s[y] }); });
      case 'Sigmoid': return step((s) => { sigmoid(s[x], { out: s[y] }); });
      case 'LeakyRelu': case 'Clip': {
        const a = activationOf(this.g, n);
        if (!a) throw new Error(`node ${n.name} (${n.op}): min/max must be constants`);
        if (a.kind === 'relu') return step((s) => { relu(s[x], { out: s[y] }); });
        const spec: fb.ActivationSpec = { kind: a.kind as fb.Activation, alpha: a.alpha, min: a.min, max: a.max };
        const native = nativeActivation(spec);
        if (native) return step((s) => { native(s[x], s[y]); });
        return fallback((s) => fb.activation(s[x], spec, s[y]));
      }
      case 'Softmax': {
        const xs = this.shape(n.inputs[0]);
        let axis = attrInt(n, 'axis', this.g.opset >= 13 ? -1 : 1);
        if (axis < 0) axis += xs.length;
        // Before opset 13, over the flattened [outer, inner] (all axes from `axis` on).
        const sm = this.g.opset >= 13 ? prepareSoftmax(xs, axis) : prepareSoftmax([sizeOf(xs.slice(0, axis)), sizeOf(xs.slice(axis))], 1);
        return prepared(sm);
      }
      case 'MaxPool': case 'AveragePool': {
        const xs = this.shape(n.inputs[0]);
        const g = poolGeometry(n, xs[2], xs[3], attrInts(n, 'kernel_shape', []), false);
        // [N, C/L, H, W, L] is NHWC over N C/L images of L channels (blocked-layout.ts)
        const blocked = n.attrs.layout === 'NCHWc';
        if (blocked) info.detail = 'NCHWc, as NHWC';
        const pool = preparePool2d(n.op === 'MaxPool' ? 'max' : 'avg', blocked ? nhwcView(xs) : xs, {
          kernel: g.kernel, strides: g.strides, pads: g.pads, dilations: g.dilations, ceilMode: g.ceil,
          layout: blocked ? 'NHWC' : 'NCHW', countIncludePad: n.op === 'AveragePool' && attrInt(n, 'count_include_pad', 0) === 1,
        });
        return prepared(pool);
      }
      case 'GlobalAveragePool': case 'GlobalMaxPool': {
        if (n.attrs.layout === 'NCHWc') {
          // a blocked x pooled as NHWC over the whole map gives [N C/L, 1, 1, L]: NCHW [N, C, 1, 1]
          const xs = this.shape(n.inputs[0]);
          const pool = preparePool2d(n.op === 'GlobalMaxPool' ? 'max' : 'avg', nhwcView(xs), { kernel: [xs[2], xs[3]], layout: 'NHWC' });
          info.detail = 'NCHWc, as NHWC';
          return prepared(pool);
        }
        const pool = prepareGlobalPool(n.op === 'GlobalMaxPool' ? 'max' : 'avg', this.shape(n.inputs[0]));
        return prepared(pool);
      }
      case 'LRN': {
        const o = { size: attrInt(n, 'size', 5), alpha: attrFloat(n, 'alpha', 1e-4), beta: attrFloat(n, 'beta', 0.75), bias: attrFloat(n, 'bias', 1) };
        return prepared(prepareLrn(this.shape(n.inputs[0]), o));
      }
      case 'Transpose': {
        const perm = transposePerm(n, this.shape(n.inputs[0]).length);
        return fallback((s) => fb.transpose(s[x], perm, s[y]));
      }
      case 'Concat': {
        const out = this.shape(n.outputs[0]);
        const axis = (attrInt(n, 'axis', 1) + out.length) % out.length;
        const ins = n.inputs.map((v) => this.s(v));
        if (sizeOf(out.slice(0, axis)) === 1) {
          // The inputs not written in place: each copied into its slice of y.
          const ops: Array<[number, PreparedStep]> = [];
          let off = 0;
          n.inputs.forEach((v, k) => {
            const size = sizeOf(this.shape(v));
            if (!placed?.[k]) ops.push([ins[k], prepareCopyInto(off, size)]);
            off += size;
          });
          info.detail = `${n.inputs.length - ops.length}/${n.inputs.length} inputs in place`;
          return {
            info,
            run: (s) => { for (const [i, op] of ops) op.run(s[i].data, s[y].data); },
            record: (s, batch) => { for (const [i, op] of ops) op.record(s[i].data, s[y].data, batch); },
          };
        }
        return step((s) => { concat(ins.map((i) => s[i]), axis, { out: s[y] }); });
      }
      case 'Split': {
        const xs = this.shape(n.inputs[0]);
        const { axis, sizes } = splitSizes(n, xs, [undefined, this.c(n.inputs[1] ?? '')], this.g.opset);
        const outs = n.outputs.map((o) => (o ? this.s(o) : -1));
        let start = 0;
        const specs = sizes.map((d) => { const sp = { starts: [start], ends: [start + d], axes: [axis] }; start += d; return sp; });
        return step((s) => { outs.forEach((o, k) => o >= 0 && slice(s[x], specs[k], { out: s[o] })); });
      }
      case 'Slice': {
        const xs = this.shape(n.inputs[0]);
        const spec = sliceSpec(n, xs, n.inputs.map((v) => this.c(v)), this.g.opset);
        const ends = spec.outShape.map((d, i) => spec.starts[i] + d * spec.steps[i]);
        // ends computed from the clamped starts; a negative step ending before 0 needs the sentinel
        const sp = { starts: spec.starts, ends: ends.map((e, i) => (spec.steps[i] < 0 && e < 0 ? -xs[i] - 1 : e)), steps: spec.steps };
        return step((s) => { slice(s[x], sp, { out: s[y] }); });
      }
      case 'Resize': case 'Upsample': return this.resize(n, info);
      case 'TfToBlocked': {
        const reorder = prepareReorder('toBlocked', this.shape(n.inputs[0]));
        return prepared(reorder);
      }
      case 'TfFromBlocked': {
        const reorder = prepareReorder('fromBlocked', this.shape(n.outputs[0]));
        return prepared(reorder);
      }
      case 'Reshape': case 'Flatten': case 'Squeeze': case 'Unsqueeze': case 'Identity': case 'Dropout':
        return { info, run: () => undefined, record: () => undefined };  // views of one slot: no work
    }
    throw new Error(`node ${n.name} (${n.op}): no kernel (inputs must fold to constants at load)`);
  }

  /** A 1x1 Conv2d computing x[M,K] · W[N,K]ᵀ + bias: Gemm/MatMul on the conv kernels. */
  private fc(info: StepInfo, wNK: Float32Array, n: number, k: number, bias: Float32Array | undefined, xSlot: number, ySlot: number, m: number): Step {
    const conv = new Conv2d(Tensor.from(wNK, [n, k, 1, 1]), { bias, inputSize: [1, 1] });
    const prepared = conv.prepareRun([m, k, 1, 1]);
    info.detail = 'as 1x1 conv';
    return {
      info,
      run: (s) => { prepared.run(s[xSlot].data, s[ySlot].data, null); },
      record: (s, batch) => { prepared.record(s[xSlot].data, s[ySlot].data, null, batch); },
    };
  }

  private gemm(n: Node, info: StepInfo): Step {
    const transA = attrInt(n, 'transA', 0), transB = attrInt(n, 'transB', 0);
    const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
    const B = this.c(n.inputs[1]);
    const C = n.inputs[2] ? this.c(n.inputs[2]) : undefined;
    const ys = this.shape(n.outputs[0]);
    const [m, nn] = ys;
    const cVec = C ? constFloats(C) : undefined;
    const cPerCol = !n.inputs[2] || (C && cVec && (cVec.length === nn || cVec.length === 1) && (C.dims.length < 2 || C.dims[0] === 1));
    if (B?.f32 && !transA && cPerCol) {
      const k = transB ? B.dims[1] : B.dims[0];
      const src = B.f32;
      let w: Float32Array;
      if (transB && alpha === 1) {
        w = src; // already [N, K]; Conv2d copies it while packing
      } else {
        w = this.scratch(nn * k);
        if (transB) for (let i = 0; i < w.length; i++) w[i] = alpha * src[i];
        else for (let p = 0; p < k; p++) for (let j = 0; j < nn; j++) w[j * k + p] = alpha * src[p * nn + j];
      }
      let bias: Float32Array | undefined;
      if (cVec) { bias = new Float32Array(nn); for (let j = 0; j < nn; j++) bias[j] = beta * cVec[cVec.length === 1 ? 0 : j]; }
      return this.fc(info, w, nn, k, bias, this.s(n.inputs[0]), this.s(n.outputs[0]), m);
    }
    // FALLBACK: general Gemm (runtime B, transA, or a 2-D C)
    info.fallback = true;
    const a = this.s(n.inputs[0]), b = this.s(n.inputs[1]), y = this.s(n.outputs[0]);
    const cs = n.inputs[2] ? this.s(n.inputs[2]) : -1;
    const as = this.shape(n.inputs[0]), bs = this.shape(n.inputs[1]);
    const aT = transA ? [as[1], as[0]] : as, bT = transB ? [bs[1], bs[0]] : bs;
    return {
      info,
      run: (s) => {
        const A = transA ? Tensor.empty(aT) : s[a];
        if (transA) fb.transpose(s[a], [1, 0], A);
        const Bt = transB ? Tensor.empty(bT) : s[b];
        if (transB) fb.transpose(s[b], [1, 0], Bt);
        fb.matmul(A, Bt, s[y]);
        const d = s[y].data;
        if (alpha !== 1) for (let i = 0; i < d.length; i++) d[i] *= alpha;
        if (cs >= 0) {
          const cT = s[cs];
          const scaled = beta === 1 ? cT : Tensor.from(Float32Array.from(cT.data, (v) => v * beta), cT.shape);
          add(s[y], scaled, { out: s[y] });
        }
      },
    };
  }

  private matmul(n: Node, info: StepInfo): Step {
    const B = this.c(n.inputs[1]);
    const as = this.shape(n.inputs[0]);
    if (B?.f32 && B.dims.length === 2 && as.length >= 2) {
      const [k, nn] = B.dims;
      const w = this.scratch(nn * k);
      const src = B.f32;
      for (let p = 0; p < k; p++) for (let j = 0; j < nn; j++) w[j * k + p] = src[p * nn + j];
      return this.fc(info, w, nn, k, undefined, this.s(n.inputs[0]), this.s(n.outputs[0]), sizeOf(as) / k);
    }
    info.fallback = true;
    const a = this.s(n.inputs[0]), b = this.s(n.inputs[1]), y = this.s(n.outputs[0]);
    return { info, run: (s) => fb.matmul(s[a], s[b], s[y]) };
  }

  private resize(n: Node, info: StepInfo): Step {
    const xs = this.shape(n.inputs[0]);
    const ys = this.shape(n.outputs[0]);
    if (xs.length !== 4 || xs[0] !== ys[0] || xs[1] !== ys[1]) throw new Error(`node ${n.name} (${n.op}): only H/W resizing of NCHW tensors is supported ([${xs}] → [${ys}])`);
    let mode = attrString(n, 'mode', 'nearest');
    if (mode === 'bilinear') mode = 'linear';
    const opset = this.g.opset;
    const coord = attrString(n, 'coordinate_transformation_mode', n.op === 'Resize' && opset >= 11 ? 'half_pixel' : 'asymmetric') as CoordinateTransformationMode;
    const nearest = attrString(n, 'nearest_mode', n.op === 'Resize' && opset >= 11 ? 'round_prefer_floor' : 'floor') as NearestMode;
    // scales given → coordinates divide by the scale; sizes given → by out/in
    let scales: number[] | undefined;
    if (n.op === 'Upsample') scales = opset >= 9 ? constFloats(this.c(n.inputs[1])) : (n.attrs.scales as number[]);
    else if (opset === 10) scales = constFloats(this.c(n.inputs[1]));
    else if (n.inputs[2] && (this.c(n.inputs[2])?.dims[0] ?? 0) > 0) scales = constFloats(this.c(n.inputs[2]));
    const x = this.s(n.inputs[0]), y = this.s(n.outputs[0]);
    const base = { mode: mode as 'nearest' | 'linear', coordinateTransformationMode: opset < 11 ? 'asymmetric' as const : coord, nearestMode: opset < 11 ? 'floor' as const : nearest };
    const o = scales ? { ...base, scales: [scales[2], scales[3]] as [number, number] } : { ...base, sizes: [ys[2], ys[3]] as [number, number] };
    return { info, run: (s) => { resize(s[x], { ...o, out: s[y] }); } };
  }
}

export { flattenShape };
