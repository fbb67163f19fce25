// Load-time planning: graph rewrites that make the model cheaper without changing what it
// computes. Each pass is independent, can be switched off (loadOnnx(x, { passes: { name:
// false } }) or all at once with { optimize: false }), and reports how many rewrites it made.
//
//   eliminateIdentity   Dropout / Identity (inference) become nothing
//   channelAffine       Mul / Add by a per-channel constant become one affine op
//   mergeAffine         affine → affine (BatchNorm → Scale → Bias in Caffe2 exports) merge
//   foldAffineIntoConv  BatchNormalization (as affine) after a conv is folded into its weights
//   poolBeforeConv      1x1 Conv → AveragePool becomes AveragePool → Conv (the conv on the
//                       pooled map: DenseNet's transitions, 4x fewer multiply-adds)
//   fuseResidual        Conv → Add(·, skip): the add is the conv's epilogue (fuse-conv.ts)
//   fuseActivation      Relu / LeakyRelu / Clip(0,6) / Sigmoid run in the conv's epilogue
//                       (after the residual add when there is one) or the affine's loop
//   fuseAddIntoConv     Add → Conv: the conv sums its sources while packing its input
//   fuseInputAffine     affine (+ ReLU) → Conv, the affine's only reader: the conv applies it
//                       where it copies or packs its input (pre-activation BN-ReLU-Conv, as
//                       in DenseNet), so the normalised tensor is never written
//   blockedLayout       regions of chained convs (ResNet's body) keep their activations in the
//                       blocked channel layout NCHWc, reordered at the region's edges
//                       (blocked-layout.ts); runs last, on the fused graph
//
// BatchNormalization itself is always lowered to an affine op (scale, shift per channel)
// before the passes run; with the passes off it executes as that affine.
//
// Concat → Conv is decided by the memory planner (compile.ts), which knows whether the concat
// is already free (its producers write straight into their channel slice) or would copy.
import { ConstTensor, Graph, Node, attrFloat, attrInt, sizeOf } from './ir';
import { constFloats } from './shapes';
import { PlanContext, constOf, freshName, mergeFused, rename, sweep } from './plan-util';
import { isPlainConv } from './conv-node';
import { fuseAddIntoConv, fuseResidual } from './fuse-conv';
import { poolBeforeConv } from './pool-before-conv';
import { blockedLayout } from './blocked-layout';

export type { PlanContext };

export interface Pass {
  name: PassName;
  description: string;
  run(ctx: PlanContext): number;
}

export type PassName = 'eliminateIdentity' | 'channelAffine' | 'mergeAffine' | 'foldAffineIntoConv' | 'poolBeforeConv' | 'fuseResidual' |
  'fuseActivation' | 'fuseAddIntoConv' | 'fuseInputAffine' | 'blockedLayout' | 'concatInPlace' | 'concatConv' | 'inPlace';

/**
 * BatchNormalization → TfAffine(scale = gamma / sqrt(var + eps), shift = beta - mean * scale).
 * Always applied (it is how BatchNormalization executes). Returns the number lowered.
 */
export function lowerBatchNorm(g: Graph): number {
  let count = 0;
  for (const n of g.nodes) {
    if (n.op !== 'BatchNormalization') continue;
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constFloats(constOf(g, n.inputs[i])));
    if (!gamma || !beta || !mean || !variance) {
      throw new Error(`node ${n.name} (BatchNormalization): scale, B, mean and var must be constants`);
    }
    const eps = attrFloat(n, 'epsilon', 1e-5);
    const c = gamma.length;
    const scale = new Float32Array(c), shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const s = gamma[i] / Math.sqrt(variance[i] + eps);
      scale[i] = s;
      shift[i] = beta[i] - mean[i] * s;
    }
    const sName = freshName(`${n.name}/scale`), tName = freshName(`${n.name}/shift`);
    g.consts.set(sName, { dtype: 'float32', dims: [c], f32: scale });
    g.consts.set(tName, { dtype: 'float32', dims: [c], f32: shift });
    n.op = 'TfAffine';
    n.inputs = [n.inputs[0], sName, tName];
    n.outputs = [n.outputs[0]];
    n.attrs = { activation: 'none' };
    n.fused = n.fused ?? [n.name];
    count++;
  }
  return count;
}

const eliminateIdentity: Pass = {
  name: 'eliminateIdentity',
  description: 'Dropout and Identity are no-ops at inference',
  run(ctx) {
    const g = ctx.graph;
    let count = 0;
    g.nodes = g.nodes.filter((n) => {
      if (n.op !== 'Dropout' && n.op !== 'Identity') return true;
      const out = n.outputs[0];
      if (ctx.keep.has(out)) return true;
      rename(g, out, n.inputs[0]);
      count++;
      return false;
    });
    return count;
  },
};

/** A constant that, broadcast against x (rank 4, NCHW), varies only along the channel axis. */
function perChannel(c: ConstTensor, xShape: readonly number[]): Float32Array | undefined {
  if (xShape.length < 2 || c.dims.length > xShape.length) return undefined;
  const rank = xShape.length;
  const pad = rank - c.dims.length;
  const channels = xShape[1];
  for (let i = 0; i < c.dims.length; i++) {
    const axis = i + pad;
    if (axis === 1) {
      if (c.dims[i] !== 1 && c.dims[i] !== channels) return undefined;
    } else if (c.dims[i] !== 1) return undefined;
  }
  const v = constFloats(c);
  if (!v) return undefined;
  if (v.length === channels) return Float32Array.from(v);
  if (v.length === 1) return new Float32Array(channels).fill(v[0]);
  return undefined;
}

const channelAffine: Pass = {
  name: 'channelAffine',
  description: 'Mul/Add by a per-channel constant become an affine op (foldable into a conv)',
  run(ctx) {
    const g = ctx.graph;
    let count = 0;
    for (const n of g.nodes) {
      if ((n.op !== 'Mul' && n.op !== 'Add') || n.inputs.length !== 2) continue;
      const ci = constOf(g, n.inputs[1]) ? 1 : constOf(g, n.inputs[0]) ? 0 : -1;
      if (ci < 0) continue;
      const x = n.inputs[1 - ci];
      const xs = ctx.shapes.get(x);
      const outShape = ctx.shapes.get(n.outputs[0]);
      if (!xs || !outShape || xs.length !== outShape.length || xs.some((d, i) => d !== outShape[i])) continue;
      const v = perChannel(constOf(g, n.inputs[ci])!, xs);
      if (!v) continue;
      const name = freshName(`${n.name}/${n.op === 'Mul' ? 'scale' : 'shift'}`);
      g.consts.set(name, { dtype: 'float32', dims: [v.length], f32: v });
      n.inputs = n.op === 'Mul' ? [x, name, ''] : [x, '', name];
      n.fused = [n.name];
      n.op = 'TfAffine';
      n.attrs = { activation: 'none' };
      count++;
    }
    return count;
  },
};

function affineParts(g: Graph, n: Node, c: number): [Float32Array, Float32Array] {
  const s = constOf(g, n.inputs[1])?.f32 ?? new Float32Array(c).fill(1);
  const t = constOf(g, n.inputs[2])?.f32 ?? new Float32Array(c);
  return [s, t];
}

const mergeAffine: Pass = {
  name: 'mergeAffine',
  description: 'consecutive per-channel affines (BatchNorm → Mul → Add) become one',
  run(ctx) {
    const g = ctx.graph;
    return sweep(ctx, (a, b) => {
      if (a.op !== 'TfAffine' || a.attrs.activation !== 'none' || b.op !== 'TfAffine' || b.inputs[0] !== a.outputs[0]) return false;
      const c = ctx.shapes.get(a.outputs[0])![1];
      const [s1, t1] = affineParts(g, a, c);
      const [s2, t2] = affineParts(g, b, c);
      const s = new Float32Array(c), t = new Float32Array(c);
      for (let k = 0; k < c; k++) { s[k] = s1[k] * s2[k]; t[k] = t1[k] * s2[k] + t2[k]; }
      const sName = freshName(`${b.name}/scale`), tName = freshName(`${b.name}/shift`);
      g.consts.set(sName, { dtype: 'float32', dims: [c], f32: s });
      g.consts.set(tName, { dtype: 'float32', dims: [c], f32: t });
      // a absorbs b (a keeps its position; its input is already defined there)
      a.inputs = [a.inputs[0], sName, tName];
      a.outputs = [b.outputs[0]];
      a.attrs = { ...b.attrs };
      mergeFused(a, b);
      return true;
    });
  },
};

const foldAffineIntoConv: Pass = {
  name: 'foldAffineIntoConv',
  description: 'BatchNormalization (and per-channel Mul/Add) after a conv folded into its weights and bias',
  run(ctx) {
    const g = ctx.graph;
    return sweep(ctx, (conv, aff) => {
      if (!isPlainConv(conv) || (conv.attrs.activation ?? 'none') !== 'none') return false;
      if (aff.op !== 'TfAffine' || aff.inputs[0] !== conv.outputs[0]) return false;
      const w = constOf(g, conv.inputs[1]);
      if (!w?.f32) return false;
      const b = conv.inputs[2] ? constOf(g, conv.inputs[2])?.f32 : undefined;
      if (conv.inputs[2] && !b) return false;
      const cout = w.dims[0];
      const [s, t] = affineParts(g, aff, cout);
      // The weights are scaled when the conv step packs them (conv-step.ts): a folded copy of
      // every conv's weights here would double the model in memory while it plans.
      const prev = (conv.attrs.weightScale as ConstTensor | undefined)?.f32;
      const scale = new Float32Array(cout);
      for (let o = 0; o < cout; o++) scale[o] = (prev ? prev[o] : 1) * s[o];
      const nb = new Float32Array(cout);
      for (let o = 0; o < cout; o++) nb[o] = (b ? b[o] : 0) * s[o] + t[o];
      const bName = freshName(`${conv.name}/bias_folded`);
      g.consts.set(bName, { dtype: 'float32', dims: [cout], f32: nb });
      conv.inputs = [conv.inputs[0], conv.inputs[1], bName];
      conv.outputs = [aff.outputs[0]];
      const weightScale: ConstTensor = { dtype: 'float32', dims: [cout], f32: scale };
      conv.attrs = { ...conv.attrs, weightScale, activation: aff.attrs.activation, alpha: aff.attrs.alpha ?? 0.01, min: aff.attrs.min ?? 0, max: aff.attrs.max ?? 0 };
      mergeFused(conv, aff);
      return true;
    });
  },
};

/** The activation a Relu/LeakyRelu/Clip/Sigmoid node applies, or undefined. */
export function activationOf(g: Graph, n: Node): { kind: string; alpha?: number; min?: number; max?: number } | undefined {
  switch (n.op) {
    case 'Relu': return { kind: 'relu' };
    case 'Sigmoid': return { kind: 'sigmoid' };
    case 'LeakyRelu': return { kind: 'leakyRelu', alpha: attrFloat(n, 'alpha', 0.01) };
    case 'Clip': {
      let min: number | undefined, max: number | undefined;
      if (g.opset < 11) {
        min = attrFloat(n, 'min', -3.4028234663852886e38);
        max = attrFloat(n, 'max', 3.4028234663852886e38);
      } else {
        if (n.inputs[1]) { const c = constFloats(constOf(g, n.inputs[1])); if (!c) return undefined; min = c[0]; }
        if (n.inputs[2]) { const c = constFloats(constOf(g, n.inputs[2])); if (!c) return undefined; max = c[0]; }
      }
      if (min === 0 && max === 6) return { kind: 'relu6' };
      if (min === 0 && (max === undefined || max >= 3.4e38)) return { kind: 'relu' };
      return { kind: 'clip', min: min ?? -Infinity, max: max ?? Infinity };
    }
  }
  return undefined;
}

const CONV_ACTIVATIONS = new Set(['relu', 'relu6', 'sigmoid', 'leakyRelu']);

const fuseActivation: Pass = {
  name: 'fuseActivation',
  description: 'Relu / LeakyRelu / Clip(0,6) / Sigmoid after a conv (or affine) run in its epilogue',
  run(ctx) {
    const g = ctx.graph;
    return sweep(ctx, (p, a) => {
      if ((p.op !== 'Conv' && p.op !== 'TfAffine') || (p.attrs.activation ?? 'none') !== 'none') return false;
      const act = activationOf(g, a);
      if (!act || a.inputs[0] !== p.outputs[0]) return false;
      if (p.op === 'Conv' && !CONV_ACTIVATIONS.has(act.kind)) return false;
      p.attrs = { ...p.attrs, activation: act.kind, alpha: act.alpha ?? 0.01, min: act.min ?? 0, max: act.max ?? 0 };
      p.outputs = [a.outputs[0]];
      mergeFused(p, a);
      return true;
    });
  },
};

/** The rewrite passes, in the order they run. */
const residual: Pass = {
  name: 'fuseResidual',
  description: 'an Add/Sum of a conv output and another tensor runs in the conv epilogue (before fuseActivation: act(conv + skip))',
  run: fuseResidual,
};

const addIntoConv: Pass = {
  name: 'fuseAddIntoConv',
  description: 'an Add/Sum whose only reader is a conv is summed while the conv packs its input (addConv)',
  run: fuseAddIntoConv,
};

const fuseInputAffine: Pass = {
  name: 'fuseInputAffine',
  description: 'an affine (+ ReLU) whose only reader is a plain NCHW conv runs inside the conv, where it copies or packs its input',
  run(ctx) {
    const g = ctx.graph;
    return sweep(ctx, (aff, conv) => {
      const act = aff.attrs.activation ?? 'none';
      if (aff.op !== 'TfAffine' || (act !== 'none' && act !== 'relu')) return false;
      if (!isPlainConv(conv) || conv.inputs[0] !== aff.outputs[0] || conv.attrs.inputScale !== undefined) return false;
      const xs = ctx.shapes.get(aff.inputs[0]);
      if (!xs || xs.length !== 4) return false;
      const [scale, shift] = affineParts(g, aff, xs[1]);
      // The affine node becomes the conv: its input is defined by then and the conv's other
      // inputs (weights, bias) are constants.
      mergeFused(aff, conv);
      aff.op = 'Conv';
      aff.name = conv.name;
      aff.inputs = [aff.inputs[0], ...conv.inputs.slice(1)];
      aff.outputs = conv.outputs;
      aff.attrs = {
        ...conv.attrs,
        inputScale: { dtype: 'float32', dims: [xs[1]], f32: scale } satisfies ConstTensor,
        inputShift: { dtype: 'float32', dims: [xs[1]], f32: shift } satisfies ConstTensor,
        inputRelu: act === 'relu' ? 1 : 0,
      };
      return true;
    });
  },
};

const poolFirst: Pass = {
  name: 'poolBeforeConv',
  description: 'a 1x1 conv whose only reader is an average pool runs after the pool instead, on the pooled map (exact: both are linear)',
  run: poolBeforeConv,
};

const blocked: Pass = {
  name: 'blockedLayout',
  description: 'regions of chained convs (mostly 1x1, few reorders at their edges) keep their activations in the blocked channel layout (NCHWc)',
  run: blockedLayout,
};

export const PASSES: readonly Pass[] = [eliminateIdentity, channelAffine, mergeAffine, foldAffineIntoConv, poolFirst, residual, fuseActivation,
  addIntoConv, fuseInputAffine, blocked];

/** Memory-planner switches (not graph rewrites, but switchable the same way). */
export const MEMORY_PASSES: readonly { name: PassName; description: string }[] = [
  { name: 'concatInPlace', description: 'producers of a batch-1 Concat write straight into their channel slice (no copy)' },
  { name: 'concatConv', description: 'a Concat whose only reader is a conv and that would copy an input is gathered by the conv instead (concatConv)' },
  { name: 'inPlace', description: 'element-wise ops (activations, affine, add) overwrite an input that dies there' },
];

export function runPasses(ctx: PlanContext, enabled: (name: PassName) => boolean): Record<string, number> {
  const stats: Record<string, number> = {};
  for (const p of PASSES) {
    if (!enabled(p.name)) continue;
    stats[p.name] = p.run(ctx);
  }
  return stats;
}

export { sizeOf, attrInt };
