// Planner passes that fold an element-wise Add/Sum into a conv (conv-node.ts has the node
// layout they produce; the step runs it through Conv2d.runSources):
//
//   fuseResidual    Conv → Add/Sum(·, skip): the add is the conv's epilogue, y = conv + B + skip
//                   (a Relu after it is then absorbed by fuseActivation: act(conv + B + skip))
//   fuseAddIntoConv Add/Sum(a, b, ...) → Conv: the conv sums its sources while packing its input
//
// When an Add sits between two convs, fuseResidual runs first and takes it: the epilogue add
// costs nothing beyond the conv's own store, for every conv kind, while addConv moves a 1x1
// stride-1 conv from its in-place GEMM onto the padded-copy path (the sum is made in that copy).
import { Graph, Node } from './ir';
import { ConvParts, convParts, isPlainConv, setConvParts } from './conv-node';
import { PlanContext, Uses } from './plan-util';

function sameShape(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);
}

function isAdd(n: Node): boolean {
  return n.op === 'Add' || n.op === 'Sum';
}

/** The names the step reports: `first`'s then `second`'s, in the order they compute. */
function fusedNames(first: Node, second: Node): string[] {
  return [...(first.fused ?? [first.name]), ...(second.fused ?? [second.name])];
}

/**
 * Conv → Add/Sum(conv output, skip) with matching shapes (no broadcasting) and no other reader
 * of the conv output: the conv takes the add's output and the skip. The conv must have no
 * activation of its own (the epilogue adds before it activates). When both addends are such
 * convs, the later one absorbs the add (the earlier one is its skip). The fused conv moves to
 * the add's position, where the skip is known to be computed.
 */
export function fuseResidual(ctx: PlanContext): number {
  const g = ctx.graph;
  const uses = new Uses(g.nodes, ctx.keep);
  const order = new Map<Node, number>(g.nodes.map((n, i) => [n, i]));
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o !== '') producer.set(o, n);
  const movedTo = new Map<Node, Node>(); // add node → the conv that takes its place
  const moved = new Set<Node>();
  for (const add of g.nodes) {
    if (!isAdd(add) || add.inputs.length !== 2 || add.inputs[0] === add.inputs[1] || add.inputs.includes('')) continue;
    const outShape = ctx.shapes.get(add.outputs[0]);
    if (!add.inputs.every((v) => sameShape(ctx.shapes.get(v), outShape) && !g.consts.has(v))) continue;
    let best: { conv: Node; skip: string } | undefined;
    for (const k of [0, 1]) {
      const conv = producer.get(add.inputs[k]);
      if (!conv || moved.has(conv) || !isPlainConv(conv) || conv.outputs.length !== 1) continue;
      if ((conv.attrs.activation ?? 'none') !== 'none' || uses.sole(conv.outputs[0]) !== add) continue;
      if (!best || order.get(conv)! > order.get(best.conv)!) best = { conv, skip: add.inputs[1 - k] };
    }
    if (!best) continue;
    const { conv, skip } = best;
    setConvParts(conv, { ...convParts(conv), skip });
    conv.outputs = [add.outputs[0]];
    conv.fused = fusedNames(conv, add);
    producer.set(add.outputs[0], conv);
    movedTo.set(add, conv);
    moved.add(conv);
  }
  g.nodes = g.nodes.flatMap((n) => (moved.has(n) ? [] : [movedTo.get(n) ?? n]));
  return moved.size;
}

/**
 * Add/Sum(a, b, ...) → Conv, where the sum has the conv's input shape (no broadcasting, no
 * constant addend) and the conv is its only reader: the conv reads a, b, ... as summed sources
 * and the sum is never written.
 */
export function fuseAddIntoConv(ctx: PlanContext): number {
  const g: Graph = ctx.graph;
  const uses = new Uses(g.nodes, ctx.keep);
  const dead = new Set<Node>();
  for (const add of g.nodes) {
    if (!isAdd(add) || add.inputs.length < 2 || add.inputs.includes('')) continue;
    const out = add.outputs[0];
    const outShape = ctx.shapes.get(out);
    if (outShape?.length !== 4 || !add.inputs.every((v) => sameShape(ctx.shapes.get(v), outShape) && !g.consts.has(v))) continue;
    const conv = uses.sole(out);
    if (conv?.op !== 'Conv' || conv.inputs[0] !== out) continue;
    const parts: ConvParts = convParts(conv);
    if (parts.sources.length !== 1) continue;
    setConvParts(conv, { ...parts, sources: add.inputs.slice(), mode: 'sum' });
    conv.fused = fusedNames(add, conv);
    dead.add(add);
  }
  g.nodes = g.nodes.filter((n) => !dead.has(n));
  return dead.size;
}
