// Small ONNX graphs built in code for the planner tests: random convs and batch norms, and
// checkPass, which runs a graph planned, with one pass off and unplanned against onnxruntime.
import { Tensor, loadOnnx, Model } from '../lib';
import type { LoadOptions, PassName } from '../lib/onnx';
import { GraphBuilder } from '../bench/onnx-model';
import { expectClose, ortRun, randomInput } from './onnx-models-util';

export function rand(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  return randomInput(n, seed).map((v) => v * scale + offset);
}

export interface Built {
  bytes: Uint8Array;
  feeds: Record<string, Tensor>;
}

export function feedsFor(inputs: Array<[string, number[]]>): Record<string, Tensor> {
  const f: Record<string, Tensor> = {};
  inputs.forEach(([name, shape], i) => (f[name] = Tensor.from(rand(shape.reduce((a, b) => a * b, 1), 100 + i), shape)));
  return f;
}

/** conv(x) with a random 3x3 weight and bias; returns the output name. */
export function conv(g: GraphBuilder, x: string, cin: number, cout: number, seed: number, k = 3): string {
  const w = g.initializer(g.fresh('W'), rand(cout * cin * k * k, seed, 1 / Math.sqrt(cin * k * k)), [cout, cin, k, k]);
  const b = g.initializer(g.fresh('B'), rand(cout, seed + 1, 0.1), [cout]);
  const p = (k - 1) / 2;
  return g.node('Conv', [x, w, b], 1, { kernel_shape: [k, k], pads: [p, p, p, p] })[0];
}

export function batchNorm(g: GraphBuilder, x: string, c: number, seed: number): string {
  const ins = [rand(c, seed, 0.25, 1), rand(c, seed + 1, 0.1), rand(c, seed + 2, 0.1), rand(c, seed + 3, 0.25, 1.5)]
    .map((d, i) => g.initializer(g.fresh(`bn${i}`), d, [c]));
  return g.node('BatchNormalization', [x, ...ins], 1, { epsilon: { float: 1e-5 } })[0];
}

export function build(shape: number[], body: (g: GraphBuilder, x: string) => string): Built {
  const g = new GraphBuilder('planner');
  const x = g.input('x', shape);
  const y = body(g, x);
  g.output(y);
  return { bytes: g.bytes(), feeds: feedsFor([['x', shape]]) };
}

/**
 * Loads `b` planned (with `base` options) and with `pass` off too (and fully unplanned),
 * checks all three agree with onnxruntime, and returns the planned model and the one with
 * `pass` off.
 */
export async function checkPass(b: Built, pass: PassName, base: LoadOptions = {}): Promise<{ on: Model; off: Model }> {
  const ref = await ortRun(b.bytes, b.feeds);
  const variants: LoadOptions[] = [base, { ...base, passes: { ...base.passes, [pass]: false } }, { optimize: false }];
  const models = await Promise.all(variants.map((o) => loadOnnx(b.bytes, o)));
  for (const [i, m] of models.entries()) {
    const out = m.run(b.feeds);
    for (const o of m.outputs) expectClose(`variant ${JSON.stringify(variants[i])} ${o.name}`, out[o.name].data, ref[o.name]);
  }
  return { on: models[0], off: models[1] };
}
