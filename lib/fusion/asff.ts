// ASFF (adaptive spatial feature fusion, Liu et al. 2019) at one of three pyramid levels, as the
// paper's reference implementation (ASFF/models/network_blocks.py, class ASFF). Level 0 is the
// coarsest (most channels), level 2 the finest. For target level L:
//   1. resize every level i to L's resolution and to `inter` channels:
//      i == L: as is; i = L + 1: 3x3 stride-2 conv (strideLevel<i>); i = L + 2: 3x3 stride-2
//      max-pool (pad 1), then the stride-2 conv; i < L: optional 1x1 conv (compressLevel<i>),
//      then nearest x2^(L - i);
//   2. 1x1 conv of each resized level to compressC channels (weightLevel[i], "weight_level_i"),
//      concat, 1x1 conv to 3 ("weight_levels", bias, no activation), softmax over the 3 per pixel;
//   3. the weighted sum of the resized levels, then the 3x3 expand conv.
// Every conv but weight_levels is conv + folded batch norm (weight + bias) + LeakyReLU(0.1)
// (ReLU6 with activation: 'relu6'). Step 2-3's fusion at one resolution is asffFuse() and runs
// through native-path.ts's asffFuseInto.
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { maxPool2d, maxPool2dAsync } from '../ops/pool';
import { upsampleNearest, upsampleNearestAsync } from '../ops/resize';
import type { OutOptions } from '../ops/elementwise';
import { checkTensor } from '../ops/checks';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { Step, checkConv, checkNchw, checkOptions, checkOut, convCin, convCout, convOutShape, runSteps, runStepsAsync } from './common';
import { ScratchScope, asffFuseInto, asffFuseIntoAsync } from './native-path';

export type AsffLevel = 0 | 1 | 2;

/** A conv's folded weights: OIHW weight and per-output-channel bias. */
export interface ConvWeights {
  weight: Tensor;
  bias?: Tensor | Float32Array;
}

/** Names follow the reference: compress_level_0 -> compressLevel0, etc. */
export interface AsffWeightSet<T> {
  /** Levels 1, 2: 1x1 conv, level 0's channels -> inter (optional when they already match). */
  compressLevel0?: T;
  /** Level 2: 1x1 conv, level 1's channels -> inter (the reference has none: its C1 == inter). */
  compressLevel1?: T;
  /** Level 0: 3x3 stride-2 conv, level 1's channels -> inter. */
  strideLevel1?: T;
  /** Levels 0 (after the max-pool) and 1: 3x3 stride-2 conv, level 2's channels -> inter. */
  strideLevel2?: T;
  /** weight_level_0..2: 1x1 conv, inter -> compressC. */
  weightLevel: readonly [T, T, T];
  /** weight_levels: 1x1 conv, 3 * compressC -> 3, with bias, no activation. */
  weightLevels: T;
  /** 3x3 stride-1 conv, inter -> output channels. */
  expand: T;
}

export type AsffWeights = AsffWeightSet<ConvWeights>;

/** Prepacked convs for asff(); build with createAsffParams (pack once, run many times). */
export interface AsffParams extends AsffWeightSet<Conv2d> {
  level: AsffLevel;
}

export interface AsffOptions {
  /** 'leakyRelu' (slope `alpha`, default 0.1: the reference's leaky) or 'relu6'. */
  activation?: 'leakyRelu' | 'relu6';
  alpha?: number;
}

const RESIZE_KEYS = ['compressLevel0', 'compressLevel1', 'strideLevel1', 'strideLevel2'] as const;
type ResizeKey = typeof RESIZE_KEYS[number];

/** The resize convs a target level uses: required, optional; the others are rejected. */
const LEVEL_KEYS: Record<AsffLevel, { required: ResizeKey[]; optional: ResizeKey[] }> = {
  0: { required: ['strideLevel1', 'strideLevel2'], optional: [] },
  1: { required: ['strideLevel2'], optional: ['compressLevel0'] },
  2: { required: [], optional: ['compressLevel0', 'compressLevel1'] },
};

function checkLevel(op: string, level: unknown): AsffLevel {
  if (level !== 0 && level !== 1 && level !== 2) throw (typeof level === 'number' ? rangeError : typeError)(op, `level must be 0, 1 or 2, got ${describeValue(level)}`);
  return level;
}

function checkKeys(op: string, name: string, set: Record<string, unknown>, level: AsffLevel): void {
  const { required, optional } = LEVEL_KEYS[level];
  for (const key of RESIZE_KEYS) {
    const has = set[key] !== undefined && set[key] !== null;
    if (required.includes(key) && !has) throw rangeError(op, `${name}.${key} is required at level ${level}`);
    if (!required.includes(key) && !optional.includes(key) && has) throw rangeError(op, `${name}.${key} is not used at level ${level} (it takes ${[...required, ...optional].join(', ') || 'no resize conv'})`);
  }
  if (!Array.isArray(set.weightLevel) || set.weightLevel.length !== 3) {
    throw typeError(op, `${name}.weightLevel must be an array of 3 (weight_level_0..2), got ${describeValue(set.weightLevel)}`);
  }
}

/**
 * Packs the ASFF convs for `level` from folded-BN weights: conv pads (k - 1) / 2 as the
 * reference's add_conv; strideLevel* stride 2; the activation on every conv but weightLevels.
 */
export function createAsffParams(weights: AsffWeights, level: AsffLevel, options?: AsffOptions): AsffParams {
  const op = 'createAsffParams';
  const lv = checkLevel(op, level);
  if (weights === null || typeof weights !== 'object') throw typeError(op, `weights must be an object of ConvWeights, got ${describeValue(weights)}`);
  const o = checkOptions<AsffOptions>(op, options);
  const activation = o.activation ?? 'leakyRelu';
  if (activation !== 'leakyRelu' && activation !== 'relu6') throw rangeError(op, `activation must be 'leakyRelu' or 'relu6', got ${describeValue(activation)}`);
  const alpha = o.alpha ?? 0.1;
  checkKeys(op, 'weights', weights as unknown as Record<string, unknown>, lv);
  const make = (name: string, cw: unknown, stride: number, act: boolean): Conv2d => {
    if (cw === null || typeof cw !== 'object') throw typeError(op, `weights.${name} must be { weight, bias? }, got ${describeValue(cw)}`);
    const { weight, bias } = cw as ConvWeights;
    const w = checkTensor(op, `weights.${name}.weight`, weight);
    if (w.shape.length !== 4) throw rangeError(op, `weights.${name}.weight must be OIHW (rank 4), got ${formatShape(w.shape)}`);
    const ph = (w.shape[2] - 1) >> 1, pw = (w.shape[3] - 1) >> 1;
    return new Conv2d(w, {
      bias, strides: [stride, stride], pads: [ph, pw, ph, pw],
      ...(act ? { activation, alpha } : {}),
    }, `${op} (weights.${name})`);
  };
  const p: AsffParams = {
    level: lv,
    weightLevel: [0, 1, 2].map((i) => make(`weightLevel[${i}]`, weights.weightLevel[i], 1, true)) as unknown as [Conv2d, Conv2d, Conv2d],
    weightLevels: make('weightLevels', weights.weightLevels, 1, false),
    expand: make('expand', weights.expand, 1, true),
  };
  for (const key of RESIZE_KEYS) {
    if (weights[key] !== undefined && weights[key] !== null) p[key] = make(key, weights[key], key.startsWith('stride') ? 2 : 1, true);
  }
  return p;
}

/** How level i reaches the target: the conv (if any), a max-pool first, an upsampling factor after. */
interface ResizePlan {
  conv?: Conv2d;
  convName?: string;
  pool: boolean;
  up: number;
  /** Shapes after the pool, after the conv, after the upsampling. */
  pooled: number[];
  convOut: number[];
  resized: number[];
}

interface AsffCall {
  op: string;
  levels: Tensor[];
  params: AsffParams;
  target: AsffLevel;
  plans: ResizePlan[];
  inter: number[];
  out: Tensor;
}

const poolLen = (d: number) => Math.floor((d + 2 - 3) / 2) + 1;

function prepareAsff(op: string, levels: unknown, params: unknown, level: unknown, options: unknown): AsffCall {
  const L = checkLevel(op, level);
  if (!Array.isArray(levels) || levels.length !== 3) throw typeError(op, `levels must be an array of 3 NCHW Tensors [level0, level1, level2], got ${describeValue(levels)}`);
  const xs = levels.map((t, i) => checkNchw(op, `levels[${i}]`, t));
  xs.forEach((t, i) => {
    if (t.shape[0] !== xs[0].shape[0]) throw rangeError(op, `levels[${i}] ${formatShape(t.shape)} has a different batch from levels[0] ${formatShape(xs[0].shape)}`);
  });
  if (params === null || typeof params !== 'object') throw typeError(op, `params must be an AsffParams (createAsffParams), got ${describeValue(params)}`);
  const p = params as AsffParams;
  if (p.level !== undefined && p.level !== L) throw rangeError(op, `params were built for level ${p.level} but level is ${L}`);
  checkKeys(op, 'params', p as unknown as Record<string, unknown>, L);
  const weightLevel = p.weightLevel.map((c, i) => checkConv(op, `params.weightLevel[${i}]`, c));
  const weightLevels = checkConv(op, 'params.weightLevels', p.weightLevels);
  const expand = checkConv(op, 'params.expand', p.expand);
  const [, , th, tw] = xs[L].shape;
  const plans = xs.map((x, i): ResizePlan => {
    const plan: ResizePlan = { pool: i === L + 2, up: i < L ? 2 ** (L - i) : 1, pooled: x.shape.slice(), convOut: x.shape.slice(), resized: x.shape.slice() };
    if (plan.pool) plan.pooled = [x.shape[0], x.shape[1], poolLen(x.shape[2]), poolLen(x.shape[3])];
    const key = i > L ? `strideLevel${i}` : i < L ? `compressLevel${i}` : undefined;
    const conv = key ? (p as unknown as Record<string, unknown>)[key] : undefined;
    if (key && conv !== undefined && conv !== null) {
      plan.conv = checkConv(op, `params.${key}`, conv);
      plan.convName = key;
      plan.convOut = convOutShape(op, `params.${key}`, plan.conv, plan.pooled, plan.pool ? `levels[${i}] after the max-pool` : `levels[${i}]`);
    } else {
      plan.convOut = plan.pooled;
    }
    plan.resized = [plan.convOut[0], plan.convOut[1], plan.convOut[2] * plan.up, plan.convOut[3] * plan.up];
    if (plan.resized[2] !== th || plan.resized[3] !== tw) {
      throw rangeError(op, `levels[${i}] ${formatShape(x.shape)} resizes to ${formatShape(plan.resized)} but the target levels[${L}] is ${formatShape(xs[L].shape)}: the levels must halve in size from 2 to 0`);
    }
    return plan;
  });
  // Every resized level must have the channels the expand conv takes ("inter").
  const inter = [xs[0].shape[0], convCin(expand), th, tw];
  plans.forEach((plan, i) => {
    if (plan.resized[1] !== inter[1]) {
      throw rangeError(op, `levels[${i}] resizes to ${plan.resized[1]} channels (${plan.convName ? `params.${plan.convName} weight ${formatShape(plan.conv!.weightShape)}` : `levels[${i}] ${formatShape(xs[i].shape)}`}) but params.expand (weight ${formatShape(expand.weightShape)}) takes ${inter[1]}`);
    }
  });
  weightLevel.forEach((c, i) => {
    const s = convOutShape(op, `params.weightLevel[${i}]`, c, inter, 'the resized level');
    if (s[2] !== inter[2] || s[3] !== inter[3]) throw rangeError(op, `params.weightLevel[${i}] (weight ${formatShape(c.weightShape)}) must keep the spatial size ${formatShape(inter)} -> ${formatShape(s)}`);
  });
  checkFuseConvs(op, weightLevel, weightLevels, inter);
  const outShape = convOutShape(op, 'params.expand', expand, inter, 'the fused map');
  const o = checkOptions<OutOptions>(op, options);
  const out = checkOut(op, o, outShape, xs, ['levels[0]', 'levels[1]', 'levels[2]']) ?? Tensor.empty(outShape);
  return { op, levels: xs, params: p, target: L, plans, inter, out };
}

/** weightLevels reads the concat of the weightLevel outputs and gives one logit per level. */
function checkFuseConvs(op: string, weightLevel: readonly Conv2d[], weightLevels: Conv2d, shape: readonly number[]): void {
  const total = weightLevel.reduce((s, c) => s + convCout(c), 0);
  const name = op.startsWith('asffFuse') ? 'weightLevels' : 'params.weightLevels';
  if (convCin(weightLevels) !== total || convCout(weightLevels) !== weightLevel.length) {
    throw rangeError(op, `${name} (weight ${formatShape(weightLevels.weightShape)}) must map the ${total} concatenated weight-level channels to ${weightLevel.length} logits`);
  }
  const s = convOutShape(op, name, weightLevels, [shape[0], total, shape[2], shape[3]], 'the concatenated weight maps');
  if (s[2] !== shape[2] || s[3] !== shape[3]) throw rangeError(op, `${name} (weight ${formatShape(weightLevels.weightShape)}) must keep the spatial size [${shape[2]},${shape[3]}]`);
}

function* asffBody(c: AsffCall): Generator<Step, Tensor, void> {
  const scratch = new ScratchScope();
  const take = (shape: number[]) => scratch.take(shape);
  try {
    const resized: Tensor[] = [];
    for (let i = 0; i < 3; i++) {
      const plan = c.plans[i];
      let t = c.levels[i];
      if (plan.pool) {
        const src = t, dst = take(plan.pooled);
        const po = { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], out: dst } as const;
        yield [() => maxPool2d(src, po), () => maxPool2dAsync(src, po)];
        t = dst;
      }
      if (plan.conv) {
        const conv = plan.conv, src = t, dst = take(plan.convOut);
        yield [() => conv.runAs(c.op, src, { out: dst }), () => conv.runAsyncAs(c.op, src, { out: dst })];
        t = dst;
      }
      if (plan.up > 1) {
        const src = t, dst = take(plan.resized), s = plan.up;
        yield [() => upsampleNearest(src, s, { out: dst }), () => upsampleNearestAsync(src, s, { out: dst })];
        t = dst;
      }
      resized.push(t);
    }
    const fused = take(c.inter);
    const { weightLevel, weightLevels, expand } = c.params;
    yield [() => asffFuseInto(resized, weightLevel, weightLevels, fused), () => asffFuseIntoAsync(resized, weightLevel, weightLevels, fused)];
    yield [() => expand.runAs(c.op, fused, { out: c.out }), () => expand.runAsyncAs(c.op, fused, { out: c.out })];
    return c.out;
  } finally {
    scratch.releaseAll();
  }
}

/**
 * ASFF at `level` over levels [coarsest, middle, finest] (levels[i + 1] has twice the H and W
 * of levels[i], as the stride-2 resizes need). Returns the expand conv's
 * output at the target level's resolution. `out` must not overlap a level.
 */
export function asff(levels: readonly [Tensor, Tensor, Tensor], params: AsffParams, level: AsffLevel, options?: OutOptions): Tensor {
  return runSteps(asffBody(prepareAsff('asff', levels, params, level, options)));
}

/** asff() off the main thread. */
export async function asffAsync(levels: readonly [Tensor, Tensor, Tensor], params: AsffParams, level: AsffLevel, options?: OutOptions): Promise<Tensor> {
  return runStepsAsync(asffBody(prepareAsff('asffAsync', levels, params, level, options)));
}

/** The convs of ASFF's fusion at one resolution. */
export interface AsffFuseConvs {
  /** One conv per level (weight_level_i): C -> c_i, keeping H and W. */
  weightLevel: readonly Conv2d[];
  /** weight_levels: sum(c_i) -> levels.length logits, keeping H and W. */
  weightLevels: Conv2d;
}

interface FuseCall {
  levels: Tensor[];
  weightLevel: Conv2d[];
  weightLevels: Conv2d;
  out: Tensor;
}

function prepareFuse(op: string, levels: unknown, convs: unknown, options: unknown): FuseCall {
  if (!Array.isArray(levels) || levels.length < 1) throw typeError(op, `levels must be a non-empty array of NCHW Tensors, got ${describeValue(levels)}`);
  const xs = levels.map((t, i) => checkNchw(op, `levels[${i}]`, t));
  xs.forEach((t, i) => {
    if (t.shape.some((d, k) => d !== xs[0].shape[k])) throw rangeError(op, `levels[${i}] ${formatShape(t.shape)} differs from levels[0] ${formatShape(xs[0].shape)}; resize them to one shape first`);
  });
  if (convs === null || typeof convs !== 'object') throw typeError(op, `convs must be { weightLevel, weightLevels }, got ${describeValue(convs)}`);
  const cv = convs as AsffFuseConvs;
  if (!Array.isArray(cv.weightLevel) || cv.weightLevel.length !== xs.length) {
    throw rangeError(op, `convs.weightLevel must hold one Conv2d per level (${xs.length}), got ${describeValue(cv.weightLevel)}${Array.isArray(cv.weightLevel) ? ` of ${cv.weightLevel.length}` : ''}`);
  }
  const weightLevel = cv.weightLevel.map((c, i) => checkConv(op, `convs.weightLevel[${i}]`, c));
  const weightLevels = checkConv(op, 'convs.weightLevels', cv.weightLevels);
  weightLevel.forEach((c, i) => {
    const s = convOutShape(op, `convs.weightLevel[${i}]`, c, xs[i].shape, `levels[${i}]`);
    if (s[2] !== xs[i].shape[2] || s[3] !== xs[i].shape[3]) throw rangeError(op, `convs.weightLevel[${i}] (weight ${formatShape(c.weightShape)}) must keep the spatial size of levels[${i}] ${formatShape(xs[i].shape)}`);
  });
  checkFuseConvs(op, weightLevel, weightLevels, xs[0].shape);
  const o = checkOptions<OutOptions>(op, options);
  const out = checkOut(op, o, xs[0].shape, xs, xs.map((_, i) => `levels[${i}]`)) ?? Tensor.empty(xs[0].shape);
  return { levels: xs, weightLevel, weightLevels, out };
}

/**
 * ASFF's fusion at one resolution (the ASFF3 workload): levels of one shape [N, C, H, W];
 * out = sum_i levels[i] * s_i with s = softmax over levels of
 * weightLevels(concat_i(weightLevel[i](levels[i]))). No resizing and no expand conv.
 */
export function asffFuse(levels: Tensor[], convs: AsffFuseConvs, options?: OutOptions): Tensor {
  const c = prepareFuse('asffFuse', levels, convs, options);
  return asffFuseInto(c.levels, c.weightLevel, c.weightLevels, c.out);
}

/** asffFuse() off the main thread. */
export async function asffFuseAsync(levels: Tensor[], convs: AsffFuseConvs, options?: OutOptions): Promise<Tensor> {
  const c = prepareFuse('asffFuseAsync', levels, convs, options);
  return asffFuseIntoAsync(c.levels, c.weightLevel, c.weightLevels, c.out);
}
