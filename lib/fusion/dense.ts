// DenseNet block: layer l reads the concat of x and every earlier layer's output and adds
// `growth` channels. The block preallocates its output [N, C0 + sum(g), H, W] once (or takes
// `out`), copies x into its first channels, and each layer reads the channel range written so
// far and writes its own range, both through sliceChannels views (strided when N > 1, which
// the convs take image by image): the concat costs nothing and no intermediate concat buffer
// exists (the memory-efficient DenseNet idea).
import { Tensor } from '../tensor';
import { Conv2d } from '../ops/conv2d';
import { concat, concatAsync } from '../ops/concat';
import type { OutOptions } from '../ops/elementwise';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { Step, checkConv, checkNchw, checkOptions, checkOut, convOutShape, runSteps, runStepsAsync } from './common';
import { ScratchScope, fusionScratchStats } from './native-path';

/** A dense layer: a conv over all earlier features, or a 1x1 bottleneck conv then the conv. */
export type DenseLayer = Conv2d | { bottleneck?: Conv2d; conv: Conv2d };

export interface DenseBlockResult {
  /** [N, C0 + sum of the layers' output channels, H, W]. */
  output: Tensor;
  /** Bytes of new memory the call allocated (the output when not given, scratch growth). */
  allocatedBytes: number;
  /** Bytes of concatenated intermediates written: always 0 (every layer works in views of the output). */
  concatBytes: number;
}

interface DenseCall {
  op: string;
  x: Tensor;
  layers: { bottleneck?: Conv2d; conv: Conv2d; cin: number; growth: number; mid?: number[] }[];
  out: Tensor;
  outAllocated: boolean;
}

function prepare(op: string, x: unknown, layers: unknown, options: unknown): DenseCall {
  const tx = checkNchw(op, 'x', x);
  if (!Array.isArray(layers)) throw typeError(op, `layers must be an array of Conv2d or { bottleneck?, conv }, got ${describeValue(layers)}`);
  const [n, c0, h, w] = tx.shape;
  let c = c0;
  const ls = layers.map((layer: unknown, l) => {
    const name = `layers[${l}]`;
    let bottleneck: Conv2d | undefined, conv: Conv2d;
    if (layer instanceof Conv2d) {
      conv = checkConv(op, name, layer);
    } else if (layer !== null && typeof layer === 'object') {
      const o = layer as { bottleneck?: unknown; conv?: unknown };
      conv = checkConv(op, `${name}.conv`, o.conv);
      if (o.bottleneck !== undefined) bottleneck = checkConv(op, `${name}.bottleneck`, o.bottleneck);
    } else {
      throw typeError(op, `${name} must be a Conv2d or { bottleneck?, conv }, got ${describeValue(layer)}`);
    }
    const inShape = [n, c, h, w];
    let mid: number[] | undefined;
    let convIn = inShape;
    if (bottleneck) {
      mid = convOutShape(op, `${name}.bottleneck`, bottleneck, inShape, `the ${c} features before it`);
      if (mid[2] !== h || mid[3] !== w) throw rangeError(op, `${name}.bottleneck (weight ${formatShape(bottleneck.weightShape)}) must keep the spatial size ${formatShape(inShape)} -> ${formatShape(mid)}`);
      convIn = mid;
    }
    const convName = bottleneck ? `${name}.conv` : name;
    const y = convOutShape(op, convName, conv, convIn, bottleneck ? 'the bottleneck output' : `the ${c} features before it`);
    if (y[2] !== h || y[3] !== w) throw rangeError(op, `${convName} (weight ${formatShape(conv.weightShape)}) must keep the spatial size ${formatShape(convIn)} -> ${formatShape(y)}`);
    const entry = { bottleneck, conv, cin: c, growth: y[1], mid };
    c += y[1];
    return entry;
  });
  const outShape = [n, c, h, w];
  const o = checkOptions<OutOptions>(op, options);
  const given = checkOut(op, o, outShape, [tx], ['x']);
  return { op, x: tx, layers: ls, out: given ?? Tensor.empty(outShape), outAllocated: given === undefined };
}

function* body(d: DenseCall): Generator<Step, DenseBlockResult, void> {
  const before = fusionScratchStats().allocatedBytes;
  const scratch = new ScratchScope();
  try {
    // x into channels [0, C0); then layer l reads [0, c) and writes [c, c + g), all views of out.
    const x = d.x, head = d.out.sliceChannels(0, x.shape[1]);
    yield [() => concat([x], 1, { out: head }), () => concatAsync([x], 1, { out: head })];
    for (const layer of d.layers) {
      const input = d.out.sliceChannels(0, layer.cin);
      const slot = d.out.sliceChannels(layer.cin, layer.cin + layer.growth);
      const conv = layer.conv, bn = layer.bottleneck;
      if (bn && layer.mid) {
        const mid = scratch.take(layer.mid);
        yield [() => bn.runAs(d.op, input, { out: mid }), () => bn.runAsyncAs(d.op, input, { out: mid })];
        yield [() => conv.runAs(d.op, mid, { out: slot }), () => conv.runAsyncAs(d.op, mid, { out: slot })];
        scratch.release(mid); // the next layer's bottleneck reuses it
      } else {
        yield [() => conv.runAs(d.op, input, { out: slot }), () => conv.runAsyncAs(d.op, input, { out: slot })];
      }
    }
  } finally {
    scratch.releaseAll();
  }
  const outBytes = d.outAllocated ? d.out.size * 4 : 0;
  return { output: d.out, allocatedBytes: outBytes + fusionScratchStats().allocatedBytes - before, concatBytes: 0 };
}

/**
 * A dense block: layer l convolves the concat of x and the outputs of layers 0..l-1 (through
 * its optional bottleneck) and appends its output channels. Returns the block output (written
 * into `out` when given; it must not overlap x) and the bytes the call allocated.
 */
export function denseBlock(x: Tensor, layers: readonly DenseLayer[], options?: OutOptions): DenseBlockResult {
  return runSteps(body(prepare('denseBlock', x, layers, options)));
}

/** denseBlock() off the main thread. */
export async function denseBlockAsync(x: Tensor, layers: readonly DenseLayer[], options?: OutOptions): Promise<DenseBlockResult> {
  return runStepsAsync(body(prepare('denseBlockAsync', x, layers, options)));
}
