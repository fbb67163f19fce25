// The step that runs a (possibly fused) Conv node: the weights packed once into a Conv2d
// (or a BlockedConv2d), and its run prepared once for the plan's shapes (prepareRun, or
// prepareRunSources for a conv over a concat / sum of sources and/or with a residual skip in
// its epilogue; conv-node.ts has the node layout), so a run hands the slots' floats straight
// to the binding.
import { Tensor } from '../tensor';
import { Conv2d, SourceMode } from '../ops/conv2d';
import { BlockedConv2d, blockedShape } from '../ops/blocked';
import type { Conv2dActivation } from '../ops/conv2d';
import { ConstTensor, Node, attrInt, attrInts } from './ir';
import { convParts } from './conv-node';
import { poolGeometry } from './shapes';
import { ownData } from './raw-floats';
import type { Step, StepInfo } from './compile';

/** What the step needs from the plan being built. */
export interface ConvStepContext {
  constant(v: string): ConstTensor | undefined;
  shape(v: string): number[];
  /** The slot of value v (marks it as read by a step). */
  slot(v: string): number;
  /** A buffer of n floats for weights about to be packed (reused by the next step built). */
  scratch(n: number): Float32Array;
}

/**
 * The weights to pack: the constant itself, or scaled per output channel into scratch when a
 * BatchNormalization was folded into the conv (conv-node.ts: attrs.weightScale). Folding at
 * this point keeps one rearranged conv's weights in memory at a time, not a second model.
 */
function packableWeights(w: ConstTensor, scale: ConstTensor | undefined, ctx: ConvStepContext): Float32Array {
  const src = w.f32!;
  if (!scale?.f32) return src;
  const s = scale.f32, out = ctx.scratch(src.length), per = src.length / s.length;
  for (let o = 0; o < s.length; o++) {
    const so = s[o];
    for (let k = o * per, e = k + per; k < e; k++) out[k] = src[k] * so;
  }
  return out;
}

function convActivation(kind: unknown): Conv2dActivation {
  switch (kind) {
    case undefined: case 'none': return 'none';
    case 'relu': case 'relu6': case 'sigmoid': case 'leakyRelu': return kind;
  }
  throw new Error(`internal: conv activation ${String(kind)}`);
}

/** info.flops, info.kernel and info.detail (sources, skip, activation) of conv node n. */
function describeConv(n: Node, info: StepInfo, ctx: ConvStepContext, algorithm: string, inputAffine?: string): void {
  const parts = convParts(n);
  const w = ctx.constant(parts.weight)!;
  const xs = ctx.shape(parts.sources[0]), ys = ctx.shape(n.outputs[0]);
  const [, cinPerGroup, kh, kw] = w.dims;
  const strides = attrInts(n, 'strides', [1, 1]);
  const act = convActivation(n.attrs.activation);
  info.flops = 2 * ys[0] * ys[1] * ys[2] * ys[3] * cinPerGroup * kh * kw;
  info.kernel = `[${xs}] → [${ys}], ${kh}x${kw}/${strides[0]}, ${algorithm}${n.attrs.layout !== 'NCHWc' ? '' : n.attrs.output === 'NCHW' ? ' (NCHWc in, NCHW out)' : ' (NCHWc)'}`;
  const details = info.detail ? [info.detail] : [];
  if (inputAffine) details.push(inputAffine);
  if (parts.sources.length > 1) details.push(`${parts.mode} of ${parts.sources.length} sources`);
  if (parts.skip !== '') details.push('+skip');
  if (act !== 'none') details.push(`+${act}`);
  if (details.length > 0) info.detail = details.join(', ');
}

/** A conv in the blocked layout (blocked-layout.ts): x, y and the skip are their slots' floats (NCHWc, or NCHW as the conv says). */
function blockedConvStep(n: Node, info: StepInfo, ctx: ConvStepContext, conv: BlockedConv2d, affineDetail?: string): Step {
  describeConv(n, info, ctx, conv.algorithm, affineDetail);
  const parts = convParts(n);
  const xShape = conv.nchwInput ? ctx.shape(parts.sources[0]) : blockedShape(ctx.shape(parts.sources[0]));
  const x = ctx.slot(parts.sources[0]), y = ctx.slot(n.outputs[0]);
  const skip = parts.skip !== '' ? ctx.slot(parts.skip) : -1;
  const activation = convActivation(n.attrs.activation), alpha = (n.attrs.alpha as number | undefined) ?? 0.01;
  const prepared = conv.prepareRun(xShape, skip < 0 ? undefined : { activation, alpha });
  return {
    info,
    run: (s) => { prepared.run(s[x].data, s[y].data, skip < 0 ? null : s[skip].data); },
    record: (s, batch) => { prepared.record(s[x].data, s[y].data, skip < 0 ? null : s[skip].data, batch); },
  };
}

export function buildConvStep(n: Node, info: StepInfo, ctx: ConvStepContext): Step {
  const parts = convParts(n);
  const w = ctx.constant(parts.weight);
  if (!w?.f32) throw new Error(`node ${n.name} (Conv): the weight must be a constant`);
  const b = parts.bias ? ctx.constant(parts.bias) : undefined;
  if (parts.bias && !b?.f32) throw new Error(`node ${n.name} (Conv): the bias must be a constant`);
  const xs = ctx.shape(parts.sources[0]);
  const g = poolGeometry(n, xs[2], xs[3], attrInts(n, 'kernel_shape', [w.dims[2], w.dims[3]]), true);
  const act = convActivation(n.attrs.activation);
  const alpha = (n.attrs.alpha as number | undefined) ?? 0.01;
  const withSkip = parts.skip !== '';
  // With a skip the activation comes after the add: the epilogue's, not the conv's own.
  const weights = packableWeights(w, n.attrs.weightScale as ConstTensor | undefined, ctx);
  const inScale = n.attrs.inputScale as ConstTensor | undefined, inShift = n.attrs.inputShift as ConstTensor | undefined;
  const inputAffine = inScale?.f32 && inShift?.f32
    ? { scale: inScale.f32, shift: inShift.f32, activation: n.attrs.inputRelu === 1 ? 'relu' as const : 'none' as const }
    : undefined;
  const options = {
    bias: b?.f32 && ownData(b.f32), strides: g.strides, pads: g.pads, dilations: g.dilations,
    activation: withSkip ? 'none' as const : act, alpha, inputSize: [xs[2], xs[3]],  // small maps pick channel lanes
  };
  const affineDetail = inputAffine && `input affine${inputAffine.activation === 'relu' ? '+relu' : ''}`;
  if (n.attrs.layout === 'NCHWc') {
    const input = n.attrs.input === 'NCHW' ? 'NCHW' as const : 'NCHWc' as const;
    const output = n.attrs.output === 'NCHW' ? 'NCHW' as const : 'NCHWc' as const;
    return blockedConvStep(n, info, ctx, new BlockedConv2d(Tensor.from(weights, w.dims), { ...options, input, output, inputAffine }), affineDetail);
  }
  const conv = new Conv2d(Tensor.from(weights, w.dims), { ...options, groups: attrInt(n, 'group', 1), inputAffine });
  describeConv(n, info, ctx, conv.algorithm, affineDetail);
  const y = ctx.slot(n.outputs[0]);
  const sources = parts.sources.map((v) => ctx.slot(v));
  // The planner checked shapes and overlaps (out may be the skip itself: the kernel then
  // accumulates into it); the binding checks every length again.
  if (sources.length === 1 && !withSkip) {
    const x = sources[0], prepared = conv.prepareRun(xs);
    return {
      info,
      run: (s) => { prepared.run(s[x].data, s[y].data, null); },
      record: (s, batch) => { prepared.record(s[x].data, s[y].data, null, batch); },
    };
  }
  const mode = parts.mode === 'sum' ? SourceMode.Sum : SourceMode.Concat;
  const skip = withSkip ? ctx.slot(parts.skip) : -1;
  const prepared = conv.prepareRunSources(parts.sources.map((v) => ctx.shape(v)), mode, withSkip ? { activation: act, alpha } : undefined);
  const inputs = (s: Tensor[]) => sources.map((i) => s[i].data);
  return {
    info,
    run: (s) => { prepared.run(inputs(s), s[y].data, skip < 0 ? null : s[skip].data); },
    record: (s, batch) => { prepared.record(inputs(s), s[y].data, skip < 0 ? null : s[skip].data, batch); },
  };
}
