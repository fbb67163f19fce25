// The blockedLayout pass: convs that chain into one another keep their activations in the
// blocked channel layout (NCHWc, lib/ops/blocked.ts) from one to the next, as onnxruntime's
// NCHWc transformer does. A blocked conv broadcasts its input straight from x and stores its
// tile as y lays it out; between NCHW convs each pays a B-panel copy or a transposed store
// instead, and tiles its pixels in whole vectors (a 14x14 map's 196 pixels in 13 vectors).
//
// What runs blocked: a conv that reads one source (no concat or sum, no input affine), groups
// 1, a column stride of 1 or 2, and input and output channels in whole blocks of lanes (so a
// blocked tensor takes exactly its NCHW size: the memory planner and the element-wise steps
// see the same shapes and sizes); its residual skip too. Element-wise ops (Relu, Sigmoid,
// LeakyRelu, Clip; Add, Mul and Sum of equal shapes) do not care about the layout: they stay
// blocked when all their inputs are. Every other reader gets an NCHW copy (TfFromBlocked,
// one per value), and NCHW values a blocked conv reads are reordered once (TfToBlocked).
//
// The reorders cost a pass over the tensor each, and a blocked dense 3x3 (Winograd, which
// works on channel planes) reorders inside its call: only regions that are mostly
// non-Winograd convs win. A region (convs linked through blocked values) is kept when it has
// at least MIN_CONVS convs, at least half of them 1x1, and no more reorders at its edges than
// one per MIN_CONVS convs; otherwise its convs stay NCHW. That takes ResNet's body (53 convs,
// 36 of them 1x1, one reorder in after the stem's pool and one out before the global pool)
// and leaves DenseNet, Inception and SqueezeNet (short chains between concats) and VGG (3x3s)
// as they were.
import { Graph, Node, attrInt, attrInts } from './ir';
import { PlanContext, freshName } from './plan-util';
import { convParts } from './conv-node';
import { blockedLanes } from '../ops/blocked';

/** Fewest convs a blocked region needs (see the file comment). */
export const MIN_CONVS = 8;

const UNARY = new Set(['Relu', 'Sigmoid', 'LeakyRelu', 'Clip']);
const NARY = new Set(['Add', 'Mul', 'Sum']);

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Whether conv node n can run in the blocked layout. */
function blockable(n: Node, ctx: PlanContext, lanes: number): boolean {
  if (n.op !== 'Conv') return false;
  const p = convParts(n);
  if (p.sources.length !== 1 || n.attrs.inputScale !== undefined || attrInt(n, 'group', 1) !== 1) return false;
  const xs = ctx.shapes.get(p.sources[0]), ys = ctx.shapes.get(n.outputs[0]);
  if (!xs || !ys || xs.length !== 4 || ys.length !== 4) return false;
  if (xs[1] % lanes !== 0 || ys[1] % lanes !== 0) return false;
  const strides = attrInts(n, 'strides', [1, 1]);
  return strides[1] === 1 || strides[1] === 2;
}

/** Data inputs of an element-wise node (Clip's min / max are constants, not data). */
function dataInputs(n: Node): string[] {
  return UNARY.has(n.op) ? [n.inputs[0]] : n.inputs.filter((v) => v !== '');
}

/** Whether element-wise node n computes the same on blocked inputs (no broadcasting). */
function layoutFree(n: Node, ctx: PlanContext): boolean {
  if (!UNARY.has(n.op) && !NARY.has(n.op)) return false;
  const out = ctx.shapes.get(n.outputs[0]);
  return n.outputs.length === 1 && dataInputs(n).every((v) => sameShape(ctx.shapes.get(v), out));
}

interface Layout {
  /** Values held blocked. */
  blocked: Set<string>;
  /** Nodes that read blocked values as such (blocked convs, element-wise nodes over them). */
  readers: Set<Node>;
}

/** The values blocked convs make, and what element-wise nodes over only those make. */
function propagate(g: Graph, convs: Set<Node>, ctx: PlanContext): Layout {
  const blocked = new Set<string>();
  const readers = new Set<Node>(convs);
  for (const n of g.nodes) {  // topological order: an element-wise node's inputs are settled
    if (convs.has(n)) {
      blocked.add(n.outputs[0]);
    } else if (layoutFree(n, ctx) && dataInputs(n).every((v) => blocked.has(v))) {
      blocked.add(n.outputs[0]);
      readers.add(n);
    }
  }
  return { blocked, readers };
}

/** The values node n reads in the blocked layout when it runs blocked. */
function blockedInputs(n: Node): string[] {
  if (n.op !== 'Conv') return dataInputs(n);
  const p = convParts(n);
  return p.skip !== '' ? [p.sources[0], p.skip] : [p.sources[0]];
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
    for (const v of blockedInputs(n)) {
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
      const w = ctx.graph.consts.get(n.inputs[1]);
      if (w && w.dims[2] === 1 && w.dims[3] === 1) e.ones++;
    }
    for (const v of blockedInputs(n)) {
      if (!layout.blocked.has(v) && !toBlocked.has(v)) {
        toBlocked.add(v);
        e.reorders++;
      }
    }
  }
  const fromBlocked = new Set<string>();
  for (const n of g.nodes) {
    const reads = layout.readers.has(n) ? new Set(blockedInputs(n)) : new Set<string>();
    for (const v of n.inputs) {
      if (layout.blocked.has(v) && !reads.has(v) && !fromBlocked.has(v)) {
        fromBlocked.add(v);
        of(producer.get(v)!).reorders++;
      }
    }
  }
  for (const v of ctx.keep) if (layout.blocked.has(v) && !fromBlocked.has(v)) of(producer.get(v)!).reorders++;
  return [...out.values()];
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
  let convs = new Set(g.nodes.filter((n) => blockable(n, ctx, lanes)));
  let layout = propagate(g, convs, ctx);
  // Dropping a region's convs can only shrink or split other regions: repeat until all pass.
  for (;;) {
    const rejected = regions(g, layout, ctx).filter((r) => r.convs.length < MIN_CONVS || 2 * r.ones < r.convs.length ||
      r.reorders * MIN_CONVS > r.convs.length);
    if (rejected.length === 0) break;
    const drop = new Set(rejected.flatMap((r) => r.convs));
    convs = new Set([...convs].filter((n) => !drop.has(n)));
    layout = propagate(g, convs, ctx);
  }
  if (convs.size === 0) return 0;

  const blockedName = new Map<string, string>();
  for (const v of layout.blocked) {
    const b = freshName(`${v}/nchwc`);
    blockedName.set(v, b);
    ctx.shapes.set(b, ctx.shapes.get(v)!);
  }
  const needsNchw = new Set<string>([...ctx.keep].filter((v) => layout.blocked.has(v)));
  for (const n of g.nodes) {
    const reads = layout.readers.has(n) ? new Set(blockedInputs(n)) : new Set<string>();
    for (const v of n.inputs) if (layout.blocked.has(v) && !reads.has(v)) needsNchw.add(v);
  }
  const toBlockedName = new Map<string, string>();
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (layout.readers.has(n)) {
      const reads = new Set(blockedInputs(n));
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
      if (n.op === 'Conv') n.attrs = { ...n.attrs, layout: 'NCHWc' };
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
