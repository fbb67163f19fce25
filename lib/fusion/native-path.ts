// The seams between the fusion blocks and the kernels: one function (sync + async) per
// fused computation. The block code (concatConv.ts, residual.ts, fpn.ts, asff.ts, dense.ts)
// validates every argument and then calls only these, so a native fused kernel can replace
// the body of a function here without touching any block.
//
// HONEST STATUS: these bodies MATERIALISE the intermediate tensors until the native
// multi-source conv and the conv add-epilogue land:
//   - concatConvInto copies the inputs into a (reused) scratch concat, then runs the conv;
//   - addConvInto sums the inputs into a (reused) scratch tensor, then runs the conv;
//   - convAddActInto runs the conv into `out`, adds `skip` in place, then the activation.
// What the native versions should do instead:
//   - concatConvInto: the conv's GEMM reduction (K = Cin*kh*kw) runs over the inputs in turn,
//     packing each input's channels straight from its own buffer: no concat is written.
//   - addConvInto: the sum is done while packing the conv's input tiles (or, for Winograd,
//     in the input transform, which is linear): no summed tensor is written.
//   - convAddActInto: out = act(conv(x) + bias + skip) in the GEMM epilogue.
//
// Preconditions (checked by the blocks before calling; the native versions may rely on them):
//   * every tensor is NCHW and contiguous (a Tensor or a sliceChannels view with N = 1);
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
import { split, splitAsync } from '../ops/slice';
import { weightedSum, weightedSumAsync } from '../ops/weighted';
import { Step, runSteps, runStepsAsync } from './common';
import type { Conv2dActivation } from '../ops/conv2d';
import { allocateFloat32 } from '../memory';

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

/** out = conv(concat(inputs, axis 1)). Materialises the concat until the native multi-source conv lands. */
export function concatConvInto(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Tensor {
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

/** out = conv(inputs[0] + inputs[1] + ...). Materialises the sum until the native sum-while-packing lands. */
export function addConvInto(conv: Conv2d, inputs: readonly Tensor[], out: Tensor): Tensor {
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
  const d = t.data;
  switch (activation) {
    case 'none': return;
    case 'relu': relu(t, { out: t }); return;
    case 'sigmoid': sigmoid(t, { out: t }); return;
    // No native op for these yet; the conv epilogue fusion will apply them in the kernel.
    case 'relu6': for (let i = 0; i < d.length; i++) d[i] = Math.min(Math.max(d[i], 0), 6); return;
    case 'leakyRelu': for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] *= alpha; return;
    case 'silu': for (let i = 0; i < d.length; i++) d[i] = d[i] / (1 + Math.exp(-d[i])); return;
  }
}

/**
 * out = act(conv(x) + skip) (conv's own bias and activation apply first, as Conv2d.run). Runs
 * conv, add, activation as three passes until the conv add-epilogue lands.
 */
export function convAddActInto(conv: Conv2d, x: Tensor, skip: Tensor, activation: ResidualActivation, alpha: number, out: Tensor): Tensor {
  conv.runAs('convResidual', x, { out });
  add(out, skip, { out });
  activateInPlace(out, activation, alpha);
  return out;
}

/** Async twin of convAddActInto. */
export async function convAddActIntoAsync(conv: Conv2d, x: Tensor, skip: Tensor, activation: ResidualActivation, alpha: number, out: Tensor): Promise<Tensor> {
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
 * Now: the compressed maps are written into channel slices of one scratch (N = 1; a
 * concatConvInto for N > 1), then conv, softmax and weightedSum run as separate passes. The
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
    if (n === 1) {
      // Batch 1: channel slices are contiguous, so each compress conv writes its part of the
      // concat in place and weightLevels reads the whole: no concat copy.
      const cat = take([1, total, h, w]);
      let at = 0;
      for (let i = 0; i < k; i++) {
        const conv = weightLevel[i], x = levels[i], slot = cat.sliceChannels(at, at + ccs[i]);
        at += ccs[i];
        yield [() => conv.runAs(op, x, { out: slot }), () => conv.runAsyncAs(op, x, { out: slot })];
      }
      yield [() => weightLevels.runAs(op, cat, { out: logits }), () => weightLevels.runAsyncAs(op, cat, { out: logits })];
    } else {
      const parts = ccs.map((cc) => take([n, cc, h, w]));
      for (let i = 0; i < k; i++) {
        const conv = weightLevel[i], x = levels[i], slot = parts[i];
        yield [() => conv.runAs(op, x, { out: slot }), () => conv.runAsyncAs(op, x, { out: slot })];
      }
      yield [() => concatConvInto(weightLevels, parts, logits), () => concatConvIntoAsync(weightLevels, parts, logits)];
    }
    yield [() => softmax(logits, 1, { out: logits }), () => softmaxAsync(logits, 1, { out: logits })];
    // The per-level weight maps: channel slices for N = 1, copies (split) for N > 1.
    let maps: Tensor[] = [];
    if (n === 1) maps = Array.from({ length: k }, (_, i) => logits.sliceChannels(i, i + 1));
    else yield [() => (maps = split(logits, 1, k)), async () => (maps = await splitAsync(logits, 1, k))];
    yield [() => weightedSum(levels as Tensor[], maps, { out }), () => weightedSumAsync(levels as Tensor[], maps, { out })];
    return out;
  } finally {
    scratch.releaseAll();
  }
}
