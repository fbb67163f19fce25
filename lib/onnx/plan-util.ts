// Helpers the planner's rewrite passes share (plan.ts, fuse-conv.ts): fresh value names,
// the consumers of each value, and the sweep that lets a node absorb its sole consumer.
import { ConstTensor, Graph, Node } from './ir';

export interface PlanContext {
  graph: Graph;
  shapes: Map<string, number[]>;
  /** Values that must stay visible (graph outputs and outputs the caller asked for). */
  keep: Set<string>;
}

let fresh = 0;
export function freshName(base: string): string {
  return `${base}::tf${fresh++}`;
}

export function constOf(g: Graph, name: string): ConstTensor | undefined {
  return name === '' ? undefined : g.consts.get(name);
}

/** Replaces every use of `from` by `to` in nodes' inputs. */
export function rename(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === from ? to : v));
}

/** Consumers of every value (node objects), built once per pass and kept up to date. */
export class Uses {
  private readonly m = new Map<string, Node[]>();
  constructor(nodes: readonly Node[], private readonly keep: Set<string>) {
    for (const n of nodes) for (const v of n.inputs) if (v !== '') this.add(v, n);
  }
  add(v: string, n: Node): void {
    let l = this.m.get(v);
    if (!l) this.m.set(v, (l = []));
    l.push(n);
  }
  replace(v: string, from: Node, to: Node): void {
    const l = this.m.get(v);
    if (l) this.m.set(v, l.map((x) => (x === from ? to : x)));
  }
  /** The single consumer of `v`, or undefined if it has none, several, or must stay visible. */
  sole(v: string): Node | undefined {
    if (this.keep.has(v)) return undefined;
    const l = this.m.get(v) ?? [];
    return l.length === 1 ? l[0] : undefined;
  }
}

/**
 * One forward sweep: for each node p, `tryFuse(p, consumer)` may absorb p's sole consumer
 * into p (returns true); the consumer is then dropped and p is tried again (chains fuse).
 */
export function sweep(ctx: PlanContext, tryFuse: (p: Node, c: Node, uses: Uses) => boolean): number {
  const g = ctx.graph;
  const uses = new Uses(g.nodes, ctx.keep);
  const dead = new Set<Node>();
  let count = 0;
  for (const p of g.nodes) {
    if (dead.has(p)) continue;
    for (;;) {
      const c = p.outputs.length === 1 ? uses.sole(p.outputs[0]) : undefined;
      if (!c || dead.has(c) || !tryFuse(p, c, uses)) break;
      dead.add(c);
      count++;
    }
  }
  g.nodes = g.nodes.filter((n) => !dead.has(n));
  return count;
}

export function mergeFused(into: Node, from: Node): void {
  into.fused = [...(into.fused ?? [into.name]), ...(from.fused ?? [from.name])];
}
