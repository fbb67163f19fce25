// ONNX models built in code (onnx-proto) and run with onnxruntime-node, for the benches
// that compare tensorfuse with onnxruntime: single-node Conv (bias, pads, strides, group,
// dilations), Add, Concat, and the multi-node graphs CATCONV (Concat→Conv), ADDCONV
// (Add→Conv) and ASFF3 (bench-workloads.md). Every model is checked once against a plain-JS
// computation before it is timed, so a wrong model cannot produce a flattering number.
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { BenchOptions, ConvShape, Row, SuiteResult, WarmUp, convFlops, convOutputSize, isSelected, makeRow, measureAsync, newSuiteResult, randomFill, threadCounts, warmUpAsync } from './harness';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const OPSET = 13;
const IR_VERSION = 7;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// ---- model building ----

type Attr = number | number[] | { floats: number[] } | { float: number } | { str: string };

function attribute(name: string, value: Attr): onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: A.INT, i: value };
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  if ('str' in value) return { name, type: A.STRING, s: new TextEncoder().encode(value.str) };
  return { name, type: A.FLOAT, f: value.float };
}

function valueInfo(name: string, shape?: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: shape ? { dim: shape.map((d) => ({ dimValue: d })) } : undefined } },
  };
}

/** Collects nodes, initializers and graph inputs/outputs; serialises to ModelProto bytes. */
export type { Attr };

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly name: string, private readonly opset = OPSET) {}

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, shape: readonly number[]): string {
    this.inputs.push(valueInfo(name, shape));
    return name;
  }

  output(name: string, shape?: readonly number[]): void {
    this.outputs.push(valueInfo(name, shape));
  }

  initializer(name: string, data: Float32Array, dims: readonly number[]): string {
    if (data.length !== size(dims)) throw new RangeError(`initializer ${name}: ${data.length} values for dims [${dims}]`);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims: [...dims], dataType: FLOAT, rawData: raw });
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[] | number, attrs: Record<string, Attr> = {}): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs;
    this.nodes.push({
      opType, input: inputs, output: outs, name: this.fresh(`n_${opType}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  conv(x: string, c: ConvParams, output?: string): string {
    const w = this.initializer(this.fresh('W'), c.weight, convWeightShape(c.shape));
    const b = this.initializer(this.fresh('B'), c.bias, [c.shape.cout]);
    const s = c.shape;
    return this.node('Conv', [x, w, b], output ? [output] : 1, {
      kernel_shape: [s.kh, s.kw], strides: s.strides, pads: s.pads, group: s.groups, dilations: s.dilations ?? [1, 1],
    })[0];
  }

  bytes(): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'tensorfuse-bench',
      opsetImport: [{ domain: '', version: this.opset }],
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

export interface ConvModelShape extends ConvShape {
  dilations?: [number, number];
}

export interface ConvParams {
  shape: ConvModelShape;
  /** OIHW */
  weight: Float32Array;
  bias: Float32Array;
}

export function convWeightShape(s: ConvModelShape): number[] {
  return [s.cout, s.cin / s.groups, s.kh, s.kw];
}

/** Output spatial size with dilations (harness.convOutputSize assumes none). */
function convOut(s: ConvModelShape): [number, number] {
  const [dh, dw] = s.dilations ?? [1, 1];
  if (dh === 1 && dw === 1) return convOutputSize(s);
  const ho = Math.floor((s.h + s.pads[0] + s.pads[2] - (dh * (s.kh - 1) + 1)) / s.strides[0]) + 1;
  const wo = Math.floor((s.w + s.pads[1] + s.pads[3] - (dw * (s.kw - 1) + 1)) / s.strides[1]) + 1;
  return [ho, wo];
}

export function convOutputShape(s: ConvModelShape): number[] {
  const [ho, wo] = convOut(s);
  return [s.n, s.cout, ho, wo];
}

/** Random weights scaled by 1/sqrt(fan-in) and a random bias (deterministic per seed). */
export function randomConvParams(shape: ConvModelShape, seed: number): ConvParams {
  const weight = randomFill(new Float32Array(size(convWeightShape(shape))), seed);
  const scale = 1 / Math.sqrt((shape.cin / shape.groups) * shape.kh * shape.kw);
  for (let i = 0; i < weight.length; i++) weight[i] *= scale;
  const bias = randomFill(new Float32Array(shape.cout), seed + 1000);
  return { shape, weight, bias };
}

export function convModel(c: ConvParams): Uint8Array {
  const g = new GraphBuilder('conv');
  const s = c.shape;
  g.conv(g.input('x', [s.n, s.cin, s.h, s.w]), c, 'y');
  g.output('y', convOutputShape(s));
  return g.bytes();
}

export function addModel(shape: readonly number[]): Uint8Array {
  const g = new GraphBuilder('add');
  g.node('Add', [g.input('a', shape), g.input('b', shape)], ['y']);
  g.output('y', shape);
  return g.bytes();
}

export function concatModel(shapes: readonly (readonly number[])[], axis: number): Uint8Array {
  const g = new GraphBuilder('concat');
  const names = shapes.map((s, i) => g.input(`x${i}`, s));
  g.node('Concat', names, ['y'], { axis });
  const out = shapes[0].slice();
  out[axis] = shapes.reduce((t, s) => t + s[axis], 0);
  g.output('y', out);
  return g.bytes();
}

/** Concat along channels, then one conv: inputs x0..xk-1. */
export function concatConvModel(shapes: readonly (readonly number[])[], c: ConvParams): Uint8Array {
  const g = new GraphBuilder('concat_conv');
  const names = shapes.map((s, i) => g.input(`x${i}`, s));
  const cat = g.node('Concat', names, 1, { axis: 1 })[0];
  g.conv(cat, c, 'y');
  g.output('y', convOutputShape(c.shape));
  return g.bytes();
}

/** Sum of the inputs, then one conv: inputs x0..xk-1. */
export function addConvModel(shape: readonly number[], inputs: number, c: ConvParams): Uint8Array {
  const g = new GraphBuilder('add_conv');
  const names = Array.from({ length: inputs }, (_, i) => g.input(`x${i}`, shape));
  let acc = names[0];
  for (let i = 1; i < names.length; i++) acc = g.node('Add', [acc, names[i]], 1)[0];
  g.conv(acc, c, 'y');
  g.output('y', convOutputShape(c.shape));
  return g.bytes();
}

export interface AsffParams {
  /** per level: 1x1 conv C → compress, followed by ReLU */
  compress: ConvParams[];
  /** 1x1 conv levels × compress → levels, followed by softmax over channels */
  weights: ConvParams;
}

/** ASFF3 (bench-workloads.md): shape [N, C, H, W] per level, compress channels per level. */
export function randomAsffParams(shape: readonly number[], compressC: number, levels: number, seed: number): AsffParams {
  const [n, c, h, w] = shape;
  const one = (cin: number, cout: number): ConvModelShape =>
    ({ n, cin, h, w, cout, kh: 1, kw: 1, strides: [1, 1], pads: [0, 0, 0, 0], groups: 1 });
  return {
    compress: Array.from({ length: levels }, (_, i) => randomConvParams(one(c, compressC), seed + i)),
    weights: randomConvParams(one(levels * compressC, levels), seed + levels),
  };
}

export function asffModel(shape: readonly number[], p: AsffParams): Uint8Array {
  const g = new GraphBuilder('asff3');
  const levels = p.compress.length;
  const xs = Array.from({ length: levels }, (_, i) => g.input(`x${i}`, shape));
  const ws = xs.map((x, i) => g.node('Relu', [g.conv(x, p.compress[i])], 1)[0]);
  const cat = g.node('Concat', ws, 1, { axis: 1 })[0];
  const s = g.node('Softmax', [g.conv(cat, p.weights)], 1, { axis: 1 })[0];
  const parts = g.node('Split', [s], levels, { axis: 1 });
  const products = xs.map((x, i) => g.node('Mul', [x, parts[i]], 1)[0]);
  g.node('Sum', products, ['y']);
  g.output('y', shape);
  return g.bytes();
}

// ---- plain-JS references (for checking the models once) ----

export function referenceConv(x: Float32Array, c: ConvParams): Float32Array {
  const s = c.shape;
  const [ho, wo] = convOut(s);
  const [dh, dw] = s.dilations ?? [1, 1];
  const cinG = s.cin / s.groups;
  const coutG = s.cout / s.groups;
  const y = new Float32Array(s.n * s.cout * ho * wo);
  for (let n = 0; n < s.n; n++) {
    for (let co = 0; co < s.cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++) {
          let acc = c.bias[co];
          for (let ci = 0; ci < cinG; ci++) {
            const xc = ((n * s.cin + g * cinG + ci) * s.h) * s.w;
            const wc = ((co * cinG + ci) * s.kh) * s.kw;
            for (let ky = 0; ky < s.kh; ky++) {
              const iy = oy * s.strides[0] - s.pads[0] + ky * dh;
              if (iy < 0 || iy >= s.h) continue;
              for (let kx = 0; kx < s.kw; kx++) {
                const ix = ox * s.strides[1] - s.pads[1] + kx * dw;
                if (ix < 0 || ix >= s.w) continue;
                acc += x[xc + iy * s.w + ix] * c.weight[wc + ky * s.kw + kx];
              }
            }
          }
          y[((n * s.cout + co) * ho + oy) * wo + ox] = acc;
        }
      }
    }
  }
  return y;
}

function referenceConcat(xs: Float32Array[], shapes: readonly (readonly number[])[], axis: number): Float32Array {
  const outer = size(shapes[0].slice(0, axis));
  const extents = xs.map((x) => x.length / outer);
  const y = new Float32Array(xs.reduce((t, x) => t + x.length, 0));
  let o = 0;
  for (let b = 0; b < outer; b++) {
    xs.forEach((x, k) => {
      y.set(x.subarray(b * extents[k], (b + 1) * extents[k]), o);
      o += extents[k];
    });
  }
  return y;
}

function referenceAsff(xs: Float32Array[], shape: readonly number[], p: AsffParams): Float32Array {
  const [n, c, h, w] = shape;
  const hw = h * w;
  const ws = xs.map((x, i) => referenceConv(x, p.compress[i]).map((v) => Math.max(0, v)));
  const cat = referenceConcat(ws, ws.map(() => [n, p.compress[0].shape.cout, h, w]), 1);
  const logits = referenceConv(cat, p.weights);
  const levels = xs.length;
  const y = new Float32Array(n * c * hw);
  for (let b = 0; b < n; b++) {
    for (let q = 0; q < hw; q++) {
      const l = Array.from({ length: levels }, (_, k) => logits[(b * levels + k) * hw + q]);
      const m = Math.max(...l);
      const e = l.map((v) => Math.exp(v - m));
      const z = e.reduce((t, v) => t + v, 0);
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < levels; k++) acc += xs[k][(b * c + ch) * hw + q] * (e[k] / z);
        y[(b * c + ch) * hw + q] = acc;
      }
    }
  }
  return y;
}

/** Largest |a - b| / (atol + rtol·|b|); ≤ 1 means within tolerance. */
export function compareArrays(actual: Float32Array, expected: Float32Array, atol = 1e-4, rtol = 1e-4):
  { ok: boolean; maxAbs: number; worst: number } {
  if (actual.length !== expected.length) return { ok: false, maxAbs: Infinity, worst: Infinity };
  let maxAbs = 0;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN-safe
    const r = d / (atol + rtol * Math.abs(expected[i]));
    if (!(r <= worst)) worst = r;
  }
  return { ok: worst <= 1, maxAbs, worst };
}

// ---- onnxruntime-node sessions ----

export interface OrtModel {
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  output: string;
  threads: number;
  /** One inference; onnxruntime allocates the output. */
  run(): Promise<Float32Array>;
  /** One inference into a preallocated output tensor (onnxruntime's `fetches`). */
  runInto(): Promise<Float32Array>;
}

export async function ortSession(bytes: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/**
 * A new onnxruntime-node session runs several times slower for its first hundreds of calls
 * (measured here: DW3 ≈18 ms per call for ≈600 calls, then ≈1.2 ms; CONV3 ≈4 ms, then
 * ≈1.3 ms), apparently while its allocations still land on fresh pages, whose first touch
 * costs ≈11 µs per 4 KiB on these machines. The benches time the steady state: each session
 * first runs at least this many calls (then until its timings settle, 15 s at most).
 */
export const ORT_WARMUP_CALLS = 800;

export async function warmUpOrt(m: OrtModel, quick: boolean | undefined): Promise<WarmUp> {
  return warmUpAsync(() => m.run(), quick, quick ? ORT_WARMUP_CALLS / 2 : ORT_WARMUP_CALLS, 15);
}

export async function ortModel(bytes: Uint8Array, threads: number, inputs: Record<string, { data: Float32Array; shape: readonly number[] }>): Promise<OrtModel> {
  const session = await ortSession(bytes, threads);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) feeds[k] = new ort.Tensor('float32', v.data, [...v.shape]);
  const output = session.outputNames[0];
  const first = (await session.run(feeds))[output];
  const fetches = { [output]: new ort.Tensor('float32', new Float32Array(first.data as Float32Array), [...first.dims]) };
  return {
    session, feeds, output, threads,
    async run() {
      const r = await session.run(feeds);
      return r[output].data as Float32Array;
    },
    async runInto() {
      const r = await session.run(feeds, fetches);
      return r[output].data as Float32Array;
    },
  };
}

// ---- the workloads of bench-workloads.md that onnx graphs cover ----

const conv = (n: number, cin: number, h: number, w: number, cout: number, k: number, stride: number, pad: number, groups = 1): ConvModelShape =>
  ({ n, cin, h, w, cout, kh: k, kw: k, strides: [stride, stride], pads: [pad, pad, pad, pad], groups });

export const CONV_WORKLOADS: Record<string, ConvModelShape> = {
  CONV3: conv(1, 64, 56, 56, 64, 3, 1, 1),
  CONV1: conv(1, 256, 56, 56, 64, 1, 1, 0),
  CONV3S2: conv(1, 128, 56, 56, 256, 3, 2, 1),
  DW3: conv(1, 256, 56, 56, 256, 3, 1, 1, 256),
};

/** A small conv exercising bias, asymmetric pads, strides, groups and dilations. */
export const CHECK_CONV: ConvModelShape = {
  n: 2, cin: 6, h: 9, w: 8, cout: 4, kh: 3, kw: 2, strides: [2, 1], pads: [1, 0, 2, 1], groups: 2, dilations: [1, 2],
};

export interface FusionGraph {
  name: string;
  bytes: Uint8Array;
  inputs: Record<string, { data: Float32Array; shape: number[] }>;
  flops: number;
  reference(): Float32Array;
  /** The conv / asff parameters, for running the same computation elsewhere. */
  params: { convs: ConvParams[]; asff?: AsffParams };
}

function randomInput(shape: number[], seed: number): { data: Float32Array; shape: number[] } {
  return { data: randomFill(new Float32Array(size(shape)), seed), shape };
}

/** The graphs fusionGraphs() builds, by name. */
export const FUSION_GRAPH_NAMES = ['CATCONV', 'ADDCONV', 'ASFF3'];

/** CATCONV, ADDCONV, ASFF3 with random weights and inputs. */
export function fusionGraphs(): FusionGraph[] {
  const catShapes = [[1, 128, 52, 52], [1, 256, 52, 52]];
  const catConv = randomConvParams(conv(1, 384, 52, 52, 128, 1, 1, 0), 11);
  const catIn = { x0: randomInput(catShapes[0], 12), x1: randomInput(catShapes[1], 13) };

  const addShape = [1, 256, 52, 52];
  const addConv = randomConvParams(conv(1, 256, 52, 52, 256, 3, 1, 1), 21);
  const addIn = { x0: randomInput(addShape, 22), x1: randomInput(addShape, 23) };

  const asffShape = [1, 256, 52, 52];
  const asff = randomAsffParams(asffShape, 16, 3, 31);
  const asffIn = { x0: randomInput(asffShape, 34), x1: randomInput(asffShape, 35), x2: randomInput(asffShape, 36) };
  const asffFlops = asff.compress.reduce((t, c) => t + convFlops(c.shape), 0) + convFlops(asff.weights.shape);

  return [
    {
      name: 'CATCONV', bytes: concatConvModel(catShapes, catConv), inputs: catIn, flops: convFlops(catConv.shape),
      reference: () => referenceConv(referenceConcat([catIn.x0.data, catIn.x1.data], catShapes, 1), catConv),
      params: { convs: [catConv] },
    },
    {
      name: 'ADDCONV', bytes: addConvModel(addShape, 2, addConv), inputs: addIn, flops: convFlops(addConv.shape),
      reference: () => referenceConv(addIn.x0.data.map((v, i) => v + addIn.x1.data[i]), addConv),
      params: { convs: [addConv] },
    },
    {
      name: 'ASFF3', bytes: asffModel(asffShape, asff), inputs: asffIn, flops: asffFlops,
      reference: () => referenceAsff([asffIn.x0.data, asffIn.x1.data, asffIn.x2.data], asffShape, asff),
      params: { convs: [], asff },
    },
  ];
}

export interface CheckResult {
  model: string;
  ok: boolean;
  maxAbs: number;
}

/** Runs a model once on onnxruntime and compares it with `reference`; throws if it differs. */
export async function checkModel(name: string, bytes: Uint8Array, inputs: Record<string, { data: Float32Array; shape: readonly number[] }>,
  reference: () => Float32Array, atol = 1e-4, rtol = 1e-4): Promise<CheckResult> {
  const m = await ortModel(bytes, 1, inputs);
  const got = await m.run();
  const cmp = compareArrays(got, reference(), atol, rtol);
  await m.session.release();
  if (!cmp.ok) throw new Error(`onnx model ${name}: onnxruntime differs from the plain-JS check (max |Δ| ${cmp.maxAbs}, ${cmp.worst.toFixed(2)}× tolerance)`);
  return { model: name, ok: true, maxAbs: cmp.maxAbs };
}

/** Checks the Conv model (bias, pads, strides, group, dilations), Add and Concat once. */
export async function checkBasicModels(): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const c = randomConvParams(CHECK_CONV, 5);
  const xShape = [CHECK_CONV.n, CHECK_CONV.cin, CHECK_CONV.h, CHECK_CONV.w];
  const x = randomInput(xShape, 6);
  out.push(await checkModel('Conv (groups 2, strides [2,1], pads [1,0,2,1], dilations [1,2], bias)', convModel(c), { x }, () => referenceConv(x.data, c)));
  const shape = [2, 3, 5, 7];
  const a = randomInput(shape, 7);
  const b = randomInput(shape, 8);
  out.push(await checkModel('Add', addModel(shape), { a, b }, () => a.data.map((v, i) => v + b.data[i])));
  const shapes = [[2, 3, 4, 5], [2, 1, 4, 5], [2, 2, 4, 5]];
  const xs = shapes.map((s, i) => randomInput(s, 9 + i));
  out.push(await checkModel('Concat axis 1', concatModel(shapes, 1), { x0: xs[0], x1: xs[1], x2: xs[2] },
    () => referenceConcat(xs.map((v) => v.data), shapes, 1)));
  return out;
}

// ---- suite: onnxruntime-node on every model, 1 and 2 threads ----

/** What runOnnxSuite times (bench-workloads.md names). */
export const ONNX_WORKLOADS = [...Object.keys(CONV_WORKLOADS), 'ADD-L', 'CAT-L', ...FUSION_GRAPH_NAMES];

export async function runOnnxSuite(opts: BenchOptions = {}): Promise<SuiteResult> {
  const result = newSuiteResult('onnx', 'onnxruntime-node on ONNX models built in code', !!opts.quick);
  result.facts['onnxruntime-node'] = `${ort.env.versions?.node ?? 'unknown'} (intraOpNumThreads ${threadCounts(opts).join('|')}, interOpNumThreads 1, graphOptimizationLevel all)`;

  opts.onProgress?.('checking models against plain JS');
  const checks = await checkBasicModels();
  const graphs = fusionGraphs();
  for (const g of graphs) checks.push(await checkModel(g.name, g.bytes, g.inputs, g.reference, 1e-4, 1e-3));
  for (const c of checks) result.facts[`check ${c.model}`] = `ok (max |Δ| ${c.maxAbs.toExponential(1)})`;

  const timed: { name: string; bytes: Uint8Array; inputs: FusionGraph['inputs']; flops: number | null; gbBytes: number | null }[] = [];
  for (const [name, s] of Object.entries(CONV_WORKLOADS)) {
    timed.push({ name, bytes: convModel(randomConvParams(s, 1)), inputs: { x: randomInput([s.n, s.cin, s.h, s.w], 2) }, flops: convFlops(s), gbBytes: null });
  }
  const addL = [1, 256, 128, 128];
  timed.push({ name: 'ADD-L', bytes: addModel(addL), inputs: { a: randomInput(addL, 1), b: randomInput(addL, 2) }, flops: null, gbBytes: 12 * size(addL) });
  const catL = [[1, 128, 128, 128], [1, 128, 128, 128]];
  timed.push({ name: 'CAT-L', bytes: concatModel(catL, 1), inputs: { x0: randomInput(catL[0], 1), x1: randomInput(catL[1], 2) }, flops: null, gbBytes: 8 * 2 * size(catL[0]) });
  for (const g of graphs) timed.push({ name: g.name, bytes: g.bytes, inputs: g.inputs, flops: g.flops, gbBytes: null });

  for (const t of timed.filter((tm) => isSelected(opts, tm.name))) {
    const byThreads: Row[] = [];
    for (const threads of threadCounts(opts)) {
      const m = await ortModel(t.bytes, threads, t.inputs);
      opts.onProgress?.(`${t.name}: onnxruntime-node warm-up, ${threads} thread(s)`);
      await warmUpOrt(m, opts.quick);
      const timing = await measureAsync(`${t.name}: onnxruntime-node, ${threads} thread(s)`, () => m.run(), opts);
      await m.session.release();
      const row = t.flops !== null
        ? makeRow(t.name, 'onnxruntime-node', threads, timing, t.flops / timing.median / 1e9, 'GFLOP/s')
        : makeRow(t.name, 'onnxruntime-node', threads, timing, t.gbBytes! / timing.median / 1e9, 'GB/s');
      if (byThreads.length) row.ratios['vs 1 thread'] = byThreads[0].seconds / row.seconds;
      byThreads.push(row);
    }
    result.rows.push(...byThreads);
  }
  result.facts['ASFF3 GFLOP/s'] = 'counts the four 1x1 convs only (3 × 256→16, 48→3)';
  return result;
}
