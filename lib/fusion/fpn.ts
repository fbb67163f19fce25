// FPN top-down merge: out = smooth(up2(reduce(top)) + lateralConv(lateral)), one call.
// The lateral conv and the add go through native-path.ts's convAddActInto (the add becomes the
// lateral conv's epilogue once that lands); intermediates use reused scratch buffers.
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { upsampleNearest, upsampleNearestAsync } from '../ops/resize';
import type { OutOptions } from '../ops/elementwise';
import { formatShape, rangeError, typeError, describeValue } from '../errors';
import { Step, checkConv, checkNchw, checkOptions, checkOut, convOutShape, runSteps, runStepsAsync } from './common';
import { ScratchScope, convAddActInto, convAddActIntoAsync } from './native-path';

export interface FpnMergeOptions extends OutOptions {
  /** 1x1 conv of the finer `lateral` map to the merged channel count (required). */
  lateralConv: Conv2d;
  /** Optional conv (3x3, pad 1 in FPN) applied to the merged map. */
  smoothConv?: Conv2d;
  /** Optional 1x1 conv thinning the coarse `top` map's channels before the upsampling (CPN). */
  reduceConv?: Conv2d;
}

interface FpnCall {
  op: string;
  top: Tensor;
  lateral: Tensor;
  lateralConv: Conv2d;
  smoothConv?: Conv2d;
  reduceConv?: Conv2d;
  /** Shapes of the merged (pre-smoothing) map and of the reduced top. */
  merged: number[];
  reduced: number[];
  out: Tensor;
}

function prepare(op: string, top: unknown, lateral: unknown, options: unknown): FpnCall {
  const tt = checkNchw(op, 'top', top);
  const tl = checkNchw(op, 'lateral', lateral);
  if (options === undefined || options === null || typeof options !== 'object') {
    throw typeError(op, `options must be an object { lateralConv, smoothConv?, reduceConv?, out? }, got ${describeValue(options)}`);
  }
  const o = checkOptions<FpnMergeOptions>(op, options);
  const [n, , h, w] = tt.shape;
  if (tl.shape[0] !== n || tl.shape[2] !== 2 * h || tl.shape[3] !== 2 * w) {
    throw rangeError(op, `lateral ${formatShape(tl.shape)} must be [${n}, C, ${2 * h}, ${2 * w}]: the batch of top ${formatShape(tt.shape)} and twice its spatial size`);
  }
  const lateralConv = checkConv(op, 'lateralConv', o.lateralConv);
  const reduceConv = o.reduceConv === undefined ? undefined : checkConv(op, 'reduceConv', o.reduceConv);
  const smoothConv = o.smoothConv === undefined ? undefined : checkConv(op, 'smoothConv', o.smoothConv);
  let reduced = tt.shape.slice();
  if (reduceConv) {
    reduced = convOutShape(op, 'reduceConv', reduceConv, tt.shape, 'top');
    if (reduced[2] !== h || reduced[3] !== w) {
      throw rangeError(op, `reduceConv (weight ${formatShape(reduceConv.weightShape)}) must keep top's spatial size: ${formatShape(tt.shape)} -> ${formatShape(reduced)}`);
    }
  }
  const lat = convOutShape(op, 'lateralConv', lateralConv, tl.shape, 'lateral');
  if (lat[2] !== tl.shape[2] || lat[3] !== tl.shape[3]) {
    throw rangeError(op, `lateralConv (weight ${formatShape(lateralConv.weightShape)}) must keep lateral's spatial size: ${formatShape(tl.shape)} -> ${formatShape(lat)}`);
  }
  if (lat[1] !== reduced[1]) {
    throw rangeError(op, `lateralConv gives ${lat[1]} channels (weight ${formatShape(lateralConv.weightShape)}) but the ${reduceConv ? 'reduced ' : ''}top has ${reduced[1]} (top ${formatShape(tt.shape)}${reduceConv ? `, reduceConv weight ${formatShape(reduceConv.weightShape)}` : ''}); they must match to be added`);
  }
  const outShape = smoothConv ? convOutShape(op, 'smoothConv', smoothConv, lat, 'the merged map') : lat;
  const out = checkOut(op, o, outShape, [tt, tl], ['top', 'lateral']) ?? Tensor.empty(outShape);
  return { op, top: tt, lateral: tl, lateralConv, smoothConv, reduceConv, merged: lat, reduced, out };
}

function* body(c: FpnCall): Generator<Step, Tensor, void> {
  const scratch = new ScratchScope();
  const take = (shape: number[]) => scratch.take(shape);
  try {
    let t = c.top;
    if (c.reduceConv) {
      const conv = c.reduceConv, r = take(c.reduced);
      yield [() => conv.runAs(c.op, c.top, { out: r }), () => conv.runAsyncAs(c.op, c.top, { out: r })];
      t = r;
    }
    const src = t, up = take(c.merged);
    yield [() => upsampleNearest(src, 2, { out: up }), () => upsampleNearestAsync(src, 2, { out: up })];
    const smooth = c.smoothConv;
    const merged = smooth ? take(c.merged) : c.out;
    yield [
      () => convAddActInto(c.lateralConv, c.lateral, up, 'none', 0, merged),
      () => convAddActIntoAsync(c.lateralConv, c.lateral, up, 'none', 0, merged),
    ];
    if (smooth) yield [() => smooth.runAs(c.op, merged, { out: c.out }), () => smooth.runAsyncAs(c.op, merged, { out: c.out })];
    return c.out;
  } finally {
    scratch.releaseAll();
  }
}

/**
 * The FPN top-down merge: nearest x2 of the coarser `top` (after the optional 1x1 reduceConv),
 * plus lateralConv(lateral), then the optional smoothConv. top [N, Ct, H, W], lateral
 * [N, Cl, 2H, 2W]. `out` must not overlap top or lateral.
 */
export function fpnMerge(top: Tensor, lateral: Tensor, options: FpnMergeOptions): Tensor {
  return runSteps(body(prepare('fpnMerge', top, lateral, options)));
}

/** fpnMerge() off the main thread. */
export async function fpnMergeAsync(top: Tensor, lateral: Tensor, options: FpnMergeOptions): Promise<Tensor> {
  return runStepsAsync(body(prepare('fpnMergeAsync', top, lateral, options)));
}
