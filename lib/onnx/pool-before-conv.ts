// The poolBeforeConv pass: a 1x1 convolution followed by an average pool computes the same
// as the pool followed by the convolution (both are linear per pixel; an average's weights
// sum to 1, so the bias passes through), and the conv then runs on the pooled map: 4x fewer
// multiply-adds under DenseNet's 2x2 transition pools. The pool now averages the conv's
// input channels instead of its output channels (cheap: no reduction over channels).
import { Node, attrInt, attrInts, attrString } from './ir';
import { PlanContext, Uses, freshName } from './plan-util';
import { isPlainConv } from './conv-node';

/** A 1x1, stride-1, unpadded, undilated conv with no fused activation, read as written. */
function isPointwiseConv(n: Node, kernel: readonly number[] | undefined): boolean {
  if (!isPlainConv(n) || (n.attrs.activation ?? 'none') !== 'none') return false;
  const ones = (v: number[] | undefined) => v === undefined || v.every((d) => d === 1);
  const zeros = (v: number[] | undefined) => v === undefined || v.every((d) => d === 0);
  return kernel !== undefined && kernel.length === 2 && kernel[0] === 1 && kernel[1] === 1 &&
    ones(attrInts(n, 'strides')) && ones(attrInts(n, 'dilations')) && zeros(attrInts(n, 'pads')) &&
    ['NOTSET', 'VALID'].includes(attrString(n, 'auto_pad', 'NOTSET'));
}

/**
 * An AveragePool whose every window's weights sum to 1: no padding, or padding left out of
 * the count (count_include_pad 0), so averaging commutes with x -> W x + b.
 */
function isAveraging(n: Node): boolean {
  if (n.op !== 'AveragePool') return false;
  const padded = attrString(n, 'auto_pad', 'NOTSET').startsWith('SAME') || (attrInts(n, 'pads') ?? []).some((p) => p !== 0);
  return !padded || attrInt(n, 'count_include_pad', 0) === 0;
}

export function poolBeforeConv(ctx: PlanContext): number {
  const g = ctx.graph;
  const uses = new Uses(g.nodes, ctx.keep);
  let count = 0;
  for (let i = 0; i < g.nodes.length; i++) {
    const conv = g.nodes[i];
    if (conv.op !== 'Conv' || conv.outputs.length !== 1) continue;
    const w = g.consts.get(conv.inputs[1]);
    if (!isPointwiseConv(conv, w?.dims.slice(2))) continue;
    const y = conv.outputs[0];
    const pool = uses.sole(y);
    if (!pool || !isAveraging(pool) || pool.inputs[0] !== y) continue;
    const j = g.nodes.indexOf(pool);
    const xs = ctx.shapes.get(conv.inputs[0]), ps = ctx.shapes.get(pool.outputs[0]);
    if (!xs || !ps || xs.length !== 4 || ps.length !== 4) continue;
    // x -> pool -> pooled -> conv -> the pool's old output, each where the other was.
    const pooled = freshName(`${pool.name}/pooled_input`);
    ctx.shapes.set(pooled, [ps[0], xs[1], ps[2], ps[3]]);
    const out = pool.outputs[0];
    pool.inputs = [conv.inputs[0], ...pool.inputs.slice(1)];
    pool.outputs = [pooled];
    conv.inputs = [pooled, ...conv.inputs.slice(1)];
    conv.outputs = [out];
    g.nodes[i] = pool;
    g.nodes[j] = conv;
    count++;
  }
  return count;
}
