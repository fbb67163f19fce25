// The seams between the fusion blocks and the kernels: one function (sync + async) per
// fused computation. The block code (concatConv.ts, residual.ts, fpn.ts, asff.ts, dense.ts)
// validates every argument and then calls only these, so a native fused kernel can replace
// the body of a function here without touching any block.
//
// STATUS: for NCHW convs (every block's precondition) the conv bodies are native and fused,
// through Conv2d.runSources (native/kernels/conv2d/conv_sources.h):
//   - concatConvInto: no concat is written. Convs that make a padded (stride-phase) copy of
//     their input anyway (k x k, strided, padded, Winograd, depthwise) gather each input
//     plane from its own tensor while copying; the in-place 1x1 (1-column, stride 1, no pad)
//     GEMM runs its reduction over the inputs in turn (one B base per input, accumulating).
//   - addConvInto: no sum is written. The padded copy sums the inputs row by row (a 1x1
//     conv takes the copy path for this; for Winograd the sum is in the copy its input
//     transform reads: transform(a + b) = transform(a) + transform(b)).
//   - convAddActInto, when the conv's own activation is 'none': out = act(conv(x) + bias +
//     skip) in the epilogue (tiles stored into out start from skip + bias; junk-column tiles,
//     Winograd's output transform and depthwise rows add skip as they store, then activate).
//     A conv with its own activation keeps three passes (conv, add, act) — the activation
//     must come before the add, so the epilogue cannot absorb it.
// What still materialises: NHWC convs (conv.runsSources false; the blocks reject them
// before this anyway) take the old path below — scratch concat / sum, then the conv — and
// asffFuseInto runs its softmax and weighted sum as separate passes.
//
// Preconditions (checked by the blocks before calling; the native versions may rely on them):
//   * every tensor is NCHW: a Tensor or a sliceChannels view (strided when N > 1; the ops and
//     the binding take those, running the kernels per image);
//   * conv.layout === 'NCHW';
//   * concat: inputs share N, H, W; their channels sum to the conv's Cin; when groups > 1 every
//     input boundary is a multiple of Cin/groups. add: every input has the shape [N, Cin, H, W];
//   * out has conv.outputShape(...) (for convAddActInto also skip's shape) and overlaps no input
//     (skip may not overlap out either);
//   * callers never rely on scratch contents; async callers keep their tensors referenced.
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { concat, concatAsync } from '../ops/concat';
import { add, addAsync } from '../ops/elementwise';
import { relu, reluAsync, sigmoid, sigmoidAsync, softmax, softmaxAsync } from '../ops/activation';
import { weightedSum, weightedSumAsync } from '../ops/weighted';
import { Step, runSteps, runStepsAsync } from './common';
import type { Conv2dActivation } from '../ops/conv2d';
import { SourceMode } from '../ops/conv2d';
import { allocateFloat32 } from '../memory';
import { forEachBlock } from '../ops/views';

// ---- scratch buffers, reused across calls ----

/** Free scratch buffers; a call takes one for its duration (so concurrent async calls never share). */
const pool: Float32Array[] = [];
const POOL_MAX = 4;
let cumulativeBytes = 0;
/** The whole pooled buffer behind each scratch tensor handed out. */
const owners = new WeakMap<Tensor, Float32Array>();

/** @internal A scratch tensor of `shape` over a pooled buffer (release it with releaseScratch). */
export function takeScratch(shape: readonly number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    if (pool[i].length >= n && (best < 0 || pool[i].length < pool[best].length)) best = i;
  }
  let buf: Float32Array;
  if (best >= 0) {
    buf = pool[best];
    pool.splice(best, 1);
  } else {
    buf = allocateFloat32(n);
    cumulativeBytes += buf.byteLength;
  }
  const t = Tensor.fromUnchecked(buf.length === n ? buf : buf.subarray(0, n), Object.freeze(shape.slice()));
  owners.set(t, buf);
  return t;
}

/** @internal Gives a scratch tensor's buffer back to the pool (keeps the POOL_MAX largest). */
export function releaseScratch(t: Tensor): void {
  const buf = owners.get(t);
  if (buf === undefined) return;
  owners.delete(t);
  pool.push(buf);
  if (pool.length > POOL_MAX) {
    let smallest = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i].length < pool[smallest].length) smallest = i;
    pool.splice(smallest, 1);
  }
}

/** @internal Scratch tensors taken for one block call, all released together (in its finally). */
export class ScratchScope {
  private readonly held: Tensor[] = [];

  take(shape: readonly number[]): Tensor {
    const t = takeScratch(shape);
    this.held.push(t);
    return t;
  }

  /** Releases one tensor early (the next take may reuse it). */
  release(t: Tensor): void {
    const i = this.held.indexOf(t);
    if (i >= 0) this.held.splice(i, 1);
    releaseScratch(t);
  }

  releaseAll(): void {
    this.held.splice(0).forEach(releaseScratch);
  }
}

/** Bytes of scratch the fusion blocks have allocated since load, and bytes held for reuse now. */
export function fusionScratchStats(): { allocatedBytes: number; pooledBytes: number } {
  return { allocatedBytes: cumulativeBytes, pooledBytes: pool.reduce((s, b) => s + b.byteLength, 0) };
}

/** @internal Drops every pooled scratch buffer (tests; memory pressure). */
export function clearFusionScratch(): void {
  pool.length = 0;
}

function concatShape(inputs: readonly Tensor[]): number[] {
  const [n, , h, w] = inputs[0].shape;
  return [n, inputs.reduce((s, t) => s + t.shape[1], 0), h, w];
}

// ---- concat -> conv ----

/** out = conv(concat(inputs, axis 1)), natively without the concat (NCHW). */
export function concatConvInto(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Tensor {
  if (conv.runsSources) {
    conv.runSources(inputs, SourceMode.Concat, out, null, false);
    return out;
  }
  if (inputs.length === 1) return conv.runAs('concatConv', inputs[0], { out });
  const cat = takeScratch(concatShape(inputs));
  try {
    concat(inputs as Tensor[], 1, { out: cat });
    return conv.runAs('concatConv', cat, { out });
  } finally {
    releaseScratch(cat);
  }
}

/** Async twin of concatConvInto (the scratch stays checked out until the conv settles). */
export async function concatConvIntoAsync(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Promise<Tensor> {
  if (conv.runsSources) {
    await conv.runSources(inputs, SourceMode.Concat, out, null, true);
    return out;
  }
  if (inputs.length === 1) return conv.runAsyncAs('concatConvAsync', inputs[0], { out });
  const cat = takeScratch(concatShape(inputs));
  try {
    await concatAsync(inputs as Tensor[], 1, { out: cat });
    return await conv.runAsyncAs('concatConvAsync', cat, { out });
  } finally {
    releaseScratch(cat);
  }
}

// ---- add -> conv ----

/** out = conv(inputs[0] + inputs[1] + ...), natively without the sum (NCHW). */
export function addConvInto(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Tensor {
  // The native sum is taken before the input affine only through a copy: materialise it.
  if (conv.runsSources && !conv.hasInputAffine) {
    conv.runSources(inputs, SourceMode.Sum, out, null, false);
    return out;
  }
  if (inputs.length === 1) return conv.runAs('addConv', inputs[0], { out });
  const sum = takeScratch(inputs[0].shape);
  try {
    add(inputs[0], inputs[1], { out: sum });
    for (let i = 2; i < inputs.length; i++) add(sum, inputs[i], { out: sum });
    return conv.runAs('addConv', sum, { out });
  } finally {
    releaseScratch(sum);
  }
}

/** Async twin of addConvInto. */
export async function addConvIntoAsync(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Promise<Tensor> {
  if (conv.runsSources && !conv.hasInputAffine) {
    await conv.runSources(inputs, SourceMode.Sum, out, null, true);
    return out;
  }
  if (inputs.length === 1) return conv.runAsyncAs('addConvAsync', inputs[0], { out });
  const sum = takeScratch(inputs[0].shape);
  try {
    await addAsync(inputs[0], inputs[1], { out: sum });
    for (let i = 2; i < inputs.length; i++) await addAsync(sum, inputs[i], { out: sum });
    return await conv.runAsyncAs('addConvAsync', sum, { out });
  } finally {
    releaseScratch(sum);
  }
}

// ---- conv + skip -> activation (the residual epilogue) ----

/** The activations convResidual applies after the add. */
export type ResidualActivation = Conv2dActivation;

function activateInPlace(t: Tensor, activation: ResidualActivation, alpha: number): void {
  switch (activation) {
    case 'none': return;
    case 'relu': relu(t, { out: t }); return;
    case 'sigmoid': sigmoid(t, { out: t }); return;
    // No native op for these yet; the conv epilogue fusion will apply them in the kernel.
    // Block by block: a strided view's data also spans its parent's other channels.
    case 'relu6': forEachBlock(t, (d) => { for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(d[i], 0), 6); }); return;
    case 'leakyRelu': forEachBlock(t, (d) => { for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] *= alpha; }); return;
    case 'silu': forEachBlock(t, (d) => { for (let i = 0; i < d.length; i++) d[i] = d[i] / (1 + Math.exp(-d[i])); }); return;
  }
}

/** The residual add can be the conv's epilogue: NCHW and no activation of the conv's own before the add. */
function epilogueFusable(conv: Conv2d): boolean {
  return conv.runsSources && conv.activation === 'none';
}

/**
 * out = act(conv(x) + skip) (conv's own bias and activation apply first, as Conv2d.run): in
 * the conv's epilogue when epilogueFusable, else conv, add, activation as three passes.
 */
export function convAddActInto(conv: Conv2d, x: Tensor, skip: Tensor, activation: ResidualActivation, alpha: number, out: Tensor): Tensor {
  if (epilogueFusable(conv)) {
    conv.runSources([x], SourceMode.Concat, out, { skip, activation, alpha }, false);
    return out;
  }
  conv.runAs('convResidual', x, { out });
  add(out, skip, { out });
  activateInPlace(out, activation, alpha);
  return out;
}

/** Async twin of convAddActInto. */
export async function convAddActIntoAsync(conv: Conv2d, x: Tensor, skip: Tensor, activation: ResidualActivation, alpha: number, out: Tensor): Promise<Tensor> {
  if (epilogueFusable(conv)) {
    await conv.runSources([x], SourceMode.Concat, out, { skip, activation, alpha }, true);
    return out;
  }
  await conv.runAsyncAs('convResidualAsync', x, { out });
  await addAsync(out, skip, { out });
  if (activation === 'relu') await reluAsync(out, { out });
  else if (activation === 'sigmoid') await sigmoidAsync(out, { out });
  else activateInPlace(out, activation, alpha);
  return out;
}

// ---- ASFF fusion at one resolution ----

/**
 * out = sum_i levels[i] * softmax_i(weightLevels(concat_i(weightLevel[i](levels[i])))), the
 * softmax over the levels per pixel. Preconditions: the levels share one shape [N, C, H, W];
 * weightLevel[i] maps C -> c_i keeping H, W; weightLevels maps sum(c_i) -> levels.length
 * keeping H, W; out is [N, C, H, W] and overlaps no level.
 * Now: the compressed maps are written into channel slices (views) of one scratch, then conv,
 * softmax and weightedSum (over channel views of the logits) run as separate passes. The
 * native version: one pass per row block that reads each level once.
 */
export function asffFuseInto(levels: readonly Tensor[], weightLevel: readonly Conv2d[], weightLevels: Conv2d, out: Tensor): Tensor {
  return runSteps(asffFuseBody(levels, weightLevel, weightLevels, out, 'asffFuse'));
}

/** Async twin of asffFuseInto. */
export function asffFuseIntoAsync(levels: readonly Tensor[], weightLevel: readonly Conv2d[], weightLevels: Conv2d, out: Tensor): Promise<Tensor> {
  return runStepsAsync(asffFuseBody(levels, weightLevel, weightLevels, out, 'asffFuseAsync'));
}

function* asffFuseBody(levels: readonly Tensor[], weightLevel: readonly Conv2d[], weightLevels: Conv2d, out: Tensor, op: string): Generator<Step, Tensor, void> {
  const [n, , h, w] = levels[0].shape;
  const k = levels.length;
  const ccs = weightLevel.map((c) => c.weightShape[0]);
  const total = ccs.reduce((s, v) => s + v, 0);
  const scratch = new ScratchScope();
  const take = (shape: number[]) => scratch.take(shape);
  try {
    const logits = take([n, k, h, w]);
    // Each compress conv writes its part of the concat in place (a channel view of one
    // scratch, strided when N > 1) and weightLevels reads the whole: no concat copy.
    const cat = take([n, total, h, w]);
    let at = 0;
    for (let i = 0; i < k; i++) {
      const conv = weightLevel[i], x = levels[i], slot = cat.sliceChannels(at, at + ccs[i]);
      at += ccs[i];
      yield [() => conv.runAs(op, x, { out: slot }), () => conv.runAsyncAs(op, x, { out: slot })];
    }
    yield [() => weightLevels.runAs(op, cat, { out: logits }), () => weightLevels.runAsyncAs(op, cat, { out: logits })];
    yield [() => softmax(logits, 1, { out: logits }), () => softmaxAsync(logits, 1, { out: logits })];
    // The per-level weight maps: channel views of the logits (weightedSum takes strided views).
    const maps = Array.from({ length: k }, (_, i) => logits.sliceChannels(i, i + 1));
    yield [() => weightedSum(levels as Tensor[], maps, { out }), () => weightedSumAsync(levels as Tensor[], maps, { out })];
    return out;
  } finally {
    scratch.releaseAll();
  }
}
