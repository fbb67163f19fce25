// The blockedLayout pass: convs that chain into one another keep their activations in the
// blocked channel layout (NCHWc, lib/ops/blocked.ts) from one to the next, as onnxruntime's
// NCHWc transformer does. A blocked conv broadcasts its input straight from x and stores its
// tile as y lays it out; between NCHW convs each pays a B-panel copy or a transposed store
// instead, and tiles its pixels in whole vectors (a 14x14 map's 196 pixels in 13 vectors).
//
// What runs blocked: a conv that reads one source (no gathered concat or sum), groups 1, a
// column stride of 1 or 2, and output channels in whole blocks of lanes (so a blocked tensor
// takes exactly its NCHW size: the memory planner and the element-wise steps see the same
// shapes and sizes); its input in whole blocks too, or else read as NCHW (a region's first
// conv over an image's 3 channels: one lane per reduction block); its residual skip; its
// input affine (a pre-activation BatchNorm-ReLU) when it is a 1x1 stride-1 unpadded conv,
// which applies it to each run of pixels as it goes. A conv whose output channels fill no
// whole block (a classifier's 1000, a YOLO head's 255) still reads a blocked x and writes its
// output, and takes its skip, in NCHW (the kernel reorders its tiles inside the call): a
// region's last conv, with no reorder of its input. Element-wise ops (Relu, Sigmoid,
// LeakyRelu, Clip; Add, Mul and Sum of equal shapes) do not care about the layout, nor does a
// channel Concat of inputs in whole blocks (each input is one run of floats per image in
// both layouts, so the memory planner still places them in their slices); MaxPool /
// AveragePool run on a blocked tensor as NHWC over its blocks, and a TfAffine (a BatchNorm
// no conv absorbed, with or without its ReLU) has a blocked kernel: they stay blocked when all
// their inputs are. GlobalAveragePool / GlobalMaxPool read a blocked tensor and write NCHW
// (the same floats: [N, C/L, 1, 1, L] is [N, C, 1, 1]). Every other reader gets an NCHW copy
// (TfFromBlocked, one per value), and NCHW values a blocked conv reads are reordered once
// (TfToBlocked).
//
// The reorders cost a pass over the tensor each: only regions with few of them win. A region
// (readers linked through blocked values) is kept when it has at least MIN_CONVS convs, at
// least half of them 1x1, and no more reorders at its edges than one per MIN_CONVS convs;
// otherwise its convs stay NCHW. That takes ResNet-50 from the stem to the last pool (53
// convs, one reorder of a [1, 2048, 1, 1] tensor before the Flatten), all of DenseNet-121 but
// its classifier (120 convs, no reorder: its concats are of 32-channel pieces), Inception v1
// but 3 convs, Inception v2 all (one reorder), SqueezeNet all (no reorder: its 1000-channel
// classifier writes NCHW), and leaves ShuffleNet (grouped convs) and VGG (3x3s) as they were. In-process A/B against the pass off (1 thread, AVX-512, Zen 5, ms per run):
// DenseNet-121 34.6 -> 28.9, Inception v1 15.2 -> 13.6, Inception v2 22.5 -> 18.2,
// SqueezeNet 4.07 -> 3.79, ResNet-50 43.2 -> 37.2.
import { Graph, Node, attrInt, attrInts } from './ir';
import { PlanContext, freshName } from './plan-util';
import { convParts } from './conv-node';
import { blockedLanes } from '../ops/blocked';

/** Fewest convs a blocked region needs (see the file comment). */
export const MIN_CONVS = 8;

const UNARY = new Set(['Relu', 'Sigmoid', 'LeakyRelu', 'Clip']);
const NARY = new Set(['Add', 'Mul', 'Sum']);
/** Pools over H and W: a blocked tensor [N, C/L, H, W, L] is an NHWC one of N C/L images and L channels. */
const POOLS = new Set(['MaxPool', 'AveragePool']);
/** Global pools read a blocked tensor and write NCHW [N, C, 1, 1] (the same floats as blocked). */
const GLOBAL_POOLS = new Set(['GlobalAveragePool', 'GlobalMaxPool']);

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * How conv node n can run blocked: 'blocked' (x and y in whole blocks of lanes), 'nchwIn'
 * (y in whole blocks, x's channels not: x stays NCHW, one lane per reduction block: an
 * image's 3 channels into the stem), 'nchwOut' (x in whole blocks, y's channels not: y and
 * its skip stay NCHW), or null.
 */
function convKind(n: Node, ctx: PlanContext, lanes: number): ConvKind | null {
  if (n.op !== 'Conv') return null;
  const p = convParts(n);
  if (p.sources.length !== 1 || attrInt(n, 'group', 1) !== 1) return null;
  const xs = ctx.shapes.get(p.sources[0]), ys = ctx.shapes.get(n.outputs[0]);
  if (!xs || !ys || xs.length !== 4 || ys.length !== 4) return null;
  const xWhole = xs[1] % lanes === 0, yWhole = ys[1] % lanes === 0;
  if (!xWhole && !yWhole) return null;
  const strides = attrInts(n, 'strides', [1, 1]);
  if (strides[1] !== 1 && strides[1] !== 2) return null;
  // An input affine only where the kernel applies it as it goes (any other conv would copy x).
  if (n.attrs.inputScale !== undefined && !(flatConv(n, ctx) && xWhole)) return null;
  return !yWhole ? 'nchwOut' : xWhole ? 'blocked' : 'nchwIn';
}

/** A conv whose (constant) weight is 1x1. */
function oneByOne(n: Node, ctx: PlanContext): boolean {
  const w = ctx.graph.consts.get(n.inputs[1]);
  return !!w && w.dims[2] === 1 && w.dims[3] === 1;
}

/** A 1x1 conv of strides 1 and no pads: its output pixels are its input's. */
function flatConv(n: Node, ctx: PlanContext): boolean {
  return oneByOne(n, ctx) && attrInts(n, 'strides', [1, 1]).every((s) => s === 1) &&
    attrInts(n, 'pads', [0, 0, 0, 0]).every((q) => q === 0);
}

/** Data inputs of an element-wise node, pool or concat (Clip's min / max are constants, not data). */
function dataInputs(n: Node): string[] {
  return NARY.has(n.op) || n.op === 'Concat' ? n.inputs.filter((v) => v !== '') : [n.inputs[0]];
}

/** Channels of a rank-4 value in whole blocks: its blocked form is its NCHW size, and channel slices of it are the same floats in both layouts. */
function wholeBlocks(v: string, ctx: PlanContext, lanes: number): boolean {
  const s = ctx.shapes.get(v);
  return !!s && s.length === 4 && s[1] % lanes === 0;
}

/**
 * Whether node n computes the same on blocked inputs, giving a blocked output: element-wise
 * ops without broadcasting, 2-D pools (run as NHWC), channel concats of whole blocks and
 * BatchNorm(-ReLU)s (a blocked kernel).
 */
function layoutFree(n: Node, ctx: PlanContext, lanes: number): boolean {
  if (n.outputs.length !== 1) return false;
  if (POOLS.has(n.op)) return ctx.shapes.get(n.inputs[0])?.length === 4 && ctx.shapes.get(n.outputs[0])?.length === 4;
  // A channel concat of inputs in whole blocks: each input's channels are one run of floats
  // per image in both layouts (DenseNet's concat buffers, written in place by their convs).
  if (n.op === 'Concat') {
    const axis = attrInt(n, 'axis', 1);
    return (axis === 1 || axis === -3) && wholeBlocks(n.outputs[0], ctx, lanes) && n.inputs.every((v) => wholeBlocks(v, ctx, lanes));
  }
  // A BatchNorm(-ReLU) no conv absorbed (DenseNet's transitions and its last one).
  if (n.op === 'TfAffine') {
    const act = n.attrs.activation ?? 'none';
    return (act === 'none' || act === 'relu') && wholeBlocks(n.inputs[0], ctx, lanes) &&
      [1, 2].every((i) => ctx.graph.consts.get(n.inputs[i])?.f32 !== undefined);
  }
  if (!UNARY.has(n.op) && !NARY.has(n.op)) return false;
  const out = ctx.shapes.get(n.outputs[0]);
  return dataInputs(n).every((v) => sameShape(ctx.shapes.get(v), out));
}

type ConvKind = 'blocked' | 'nchwIn' | 'nchwOut';

interface Layout {
  /** Values held blocked. */
  blocked: Set<string>;
  /** Nodes that read blocked values as such (blocked convs, element-wise nodes and pools over them). */
  readers: Set<Node>;
  convs: Map<Node, ConvKind>;
}

/**
 * The values blocked convs make, what element-wise nodes and pools over only those make,
 * and the global pools that read them.
 */
function propagate(g: Graph, convs: Map<Node, ConvKind>, ctx: PlanContext, lanes: number): Layout {
  const blocked = new Set<string>();
  const readers = new Set<Node>(convs.keys());
  for (const n of g.nodes) {  // topological order: an element-wise node's inputs are settled
    if (convs.has(n)) {
      if (convs.get(n) !== 'nchwOut') blocked.add(n.outputs[0]);
    } else if (layoutFree(n, ctx, lanes) && dataInputs(n).every((v) => blocked.has(v))) {
      blocked.add(n.outputs[0]);
      readers.add(n);
    } else if (GLOBAL_POOLS.has(n.op) && blocked.has(n.inputs[0]) && n.outputs.length === 1) {
      readers.add(n);
    }
  }
  return { blocked, readers, convs };
}

/** The values node n reads in the blocked layout when it runs blocked. */
function blockedInputs(n: Node, layout: Layout): string[] {
  if (n.op !== 'Conv') return dataInputs(n);
  const p = convParts(n);
  const kind = layout.convs.get(n);
  const x = kind === 'nchwIn' ? [] : [p.sources[0]];
  return p.skip !== '' && kind !== 'nchwOut' ? [...x, p.skip] : x;
}

/**
 * Regions: readers linked through blocked values (union-find over the readers). For each,
 * its convs, 1x1 convs and edge reorders (NCHW values its convs read, blocked values read by
 * others or kept).
 */
function regions(g: Graph, layout: Layout, ctx: PlanContext): Array<{ convs: Node[]; ones: number; reorders: number }> {
  const parent = new Map<Node, Node>();
  const find = (n: Node): Node => {
    let r = n;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(n, r);
    return r;
  };
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  for (const n of layout.readers) parent.set(n, n);
  for (const n of layout.readers) {
    for (const v of blockedInputs(n, layout)) {
      const p = producer.get(v);
      if (p && layout.readers.has(p) && layout.blocked.has(v)) parent.set(find(n), find(p));
    }
  }
  const out = new Map<Node, { convs: Node[]; ones: number; reorders: number }>();
  const of = (n: Node) => {
    const r = find(n);
    let e = out.get(r);
    if (!e) out.set(r, (e = { convs: [], ones: 0, reorders: 0 }));
    return e;
  };
  const toBlocked = new Set<string>();
  for (const n of layout.readers) {
    const e = of(n);
    if (n.op === 'Conv') {
      e.convs.push(n);
      if (oneByOne(n, ctx)) e.ones++;
    }
    for (const v of blockedInputs(n, layout)) {
      if (!layout.blocked.has(v) && !toBlocked.has(v)) {
        toBlocked.add(v);
        e.reorders++;
      }
    }
  }
  for (const v of needingNchw(g, layout, ctx.keep)) of(producer.get(v)!).reorders++;
  return [...out.values()];
}

/** Blocked values that something reads as NCHW or that must stay visible (one TfFromBlocked each). */
function needingNchw(g: Graph, layout: Layout, keep: Set<string>): Set<string> {
  const need = new Set<string>([...keep].filter((v) => layout.blocked.has(v)));
  for (const n of g.nodes) {
    const reads = layout.readers.has(n) ? new Set(blockedInputs(n, layout)) : new Set<string>();
    for (const v of n.inputs) if (layout.blocked.has(v) && !reads.has(v)) need.add(v);
  }
  return need;
}

/**
 * Rewrites the graph: blocked convs get attrs.layout = 'NCHWc'; a blocked value is renamed
 * (its producer and blocked readers use the new name) and, when something else reads it or it
 * is kept, TfFromBlocked makes the NCHW value under its old name right after the producer;
 * an NCHW value a blocked node reads gets a TfToBlocked copy just before its first such reader.
 * Returns the number of convs made blocked.
 */
export function blockedLayout(ctx: PlanContext): number {
  const g = ctx.graph;
  const lanes = blockedLanes();
  if (lanes === 1) return 0;  // the scalar ISA's blocks are single channels: NCHW itself
  let convs = new Map<Node, ConvKind>();
  for (const n of g.nodes) {
    const k = convKind(n, ctx, lanes);
    if (k) convs.set(n, k);
  }
  let layout = propagate(g, convs, ctx, lanes);
  // Dropping a region's convs can only shrink or split other regions: repeat until all pass.
  for (;;) {
    const rejected = regions(g, layout, ctx).filter((r) => r.convs.length < MIN_CONVS || 2 * r.ones < r.convs.length ||
      r.reorders * MIN_CONVS > r.convs.length);
    if (rejected.length === 0) break;
    const drop = new Set(rejected.flatMap((r) => r.convs));
    convs = new Map([...convs].filter(([n]) => !drop.has(n)));
    layout = propagate(g, convs, ctx, lanes);
  }
  if (convs.size === 0) return 0;

  const blockedName = new Map<string, string>();
  for (const v of layout.blocked) {
    const b = freshName(`${v}/nchwc`);
    blockedName.set(v, b);
    ctx.shapes.set(b, ctx.shapes.get(v)!);
  }
  const needsNchw = needingNchw(g, layout, ctx.keep);
  const toBlockedName = new Map<string, string>();
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (layout.readers.has(n)) {
      const reads = new Set(blockedInputs(n, layout));
      n.inputs = n.inputs.map((v) => {
        if (!reads.has(v)) return v;
        const b = blockedName.get(v);
        if (b) return b;
        let t = toBlockedName.get(v);
        if (!t) {
          t = freshName(`${v}/nchwc`);
          toBlockedName.set(v, t);
          ctx.shapes.set(t, ctx.shapes.get(v)!);
          nodes.push({ name: `${v}/to_nchwc`, op: 'TfToBlocked', domain: '', inputs: [v], outputs: [t], attrs: {}, fused: [] });
        }
        return t;
      });
      // the step runs it blocked (a conv's attrs.input / attrs.output say whether x / y is NCHW)
      const kind = convs.get(n);
      n.attrs = { ...n.attrs, layout: 'NCHWc', ...(kind === 'nchwIn' ? { input: 'NCHW' } : kind === 'nchwOut' ? { output: 'NCHW' } : {}) };
    }
    const out = n.outputs[0];
    const b = out !== undefined ? blockedName.get(out) : undefined;
    nodes.push(n);
    if (b) {
      n.outputs = [b, ...n.outputs.slice(1)];
      if (needsNchw.has(out)) {
        nodes.push({ name: `${out}/from_nchwc`, op: 'TfFromBlocked', domain: '', inputs: [b], outputs: [out], attrs: {}, fused: [] });
      }
    }
  }
  g.nodes = nodes;
  return convs.size;
}
