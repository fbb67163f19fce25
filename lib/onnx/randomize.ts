// Test/bench utility: replaces the ConstantOfShape weight generators of an ONNX model (the
// "light" models store every weight that way, so their outputs are degenerate) by seeded
// random initializers, and writes the modified model with the protobuf package.
//
// Scales follow the role of each weight so activations stay in range: conv weights He-normal
// (std sqrt(2 / fan_in)), Gemm/MatMul weights sqrt(1 / fan_in), biases U(-0.1, 0.1),
// BatchNormalization scale U(0.5, 1), shift U(-0.1, 0.1), mean U(-0.1, 0.1), var U(1, 2),
// per-channel Mul U(0.8, 1.2), per-channel Add U(-0.1, 0.1).
import { onnx } from 'onnx-proto';
import { num, tensorToProto } from './proto';
import { rng } from '../random';


export interface RandomizeOptions {
  seed?: number;
  /**
   * Also expose the input of the final Softmax (the logits) as a graph output: a softmax
   * of large random logits is nearly one-hot, the logits compare better.
   */
  exposeLogits?: boolean;
  /**
   * Weights with more elements stay ConstantOfShape (constant). The fully-connected layers of
   * VGG/AlexNet/ZFNet hold 40-100M weights each; randomising them costs seconds of protobuf
   * and onnxruntime load time, while their conv trunks are what differs between runtimes.
   */
  maxElements?: number;
  /** Also expose the first input of the first node of this op type as a graph output. */
  exposeInputOf?: string;
}

export interface RandomizedModel {
  bytes: Uint8Array;
  /** Names of the weights that were randomised. */
  replaced: string[];
  /** The extra output added by exposeLogits (or undefined). */
  logits?: string;
  /** The extra output added by exposeInputOf (or undefined). */
  exposed?: string;
}

type Role = 'convW' | 'fcW' | 'bias' | 'bnScale' | 'bnShift' | 'bnMean' | 'bnVar' | 'mul' | 'add' | 'other';

function roleOf(op: string, slot: number): Role {
  switch (op) {
    case 'Conv': return slot === 1 ? 'convW' : 'bias';
    case 'Gemm': return slot === 1 ? 'fcW' : slot === 2 ? 'bias' : 'other';
    case 'MatMul': return slot === 1 ? 'fcW' : 'other';
    case 'BatchNormalization': return (['other', 'bnScale', 'bnShift', 'bnMean', 'bnVar'] as Role[])[slot] ?? 'other';
    case 'Mul': return 'mul';
    case 'Add': case 'Sum': return 'add';
  }
  return 'other';
}

/** Returns new model bytes with random weights in place of every float ConstantOfShape. */
export function randomizeWeights(bytes: Uint8Array, options: RandomizeOptions = {}): RandomizedModel {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const nodes = g.node ?? [];
  const uses = new Map<string, Array<[onnx.INodeProto, number]>>();
  for (const n of nodes) (n.input ?? []).forEach((v, i) => { if (!uses.has(v)) uses.set(v, []); uses.get(v)!.push([n, i]); });
  const shapeOf = new Map<string, number[]>();
  for (const t of g.initializer ?? []) {
    if (t.dataType === onnx.TensorProto.DataType.INT64) {
      const raw = t.rawData;
      const vals = raw && raw.length > 0
        ? Array.from({ length: raw.length / 8 }, (_, i) => Number(new DataView(raw.buffer, raw.byteOffset, raw.byteLength).getBigInt64(i * 8, true)))
        : (t.int64Data ?? []).map(num);
      shapeOf.set(t.name ?? '', vals);
    }
  }
  // follow a value through shape-only ops to the op that uses it
  const role = (v: string, depth = 0): [Role, onnx.INodeProto | undefined] => {
    const u = uses.get(v) ?? [];
    if (u.length === 0 || depth > 4) return ['other', undefined];
    const [n, slot] = u[0];
    if (['Unsqueeze', 'Reshape', 'Squeeze', 'Flatten', 'Identity'].includes(n.opType ?? '') && slot === 0) return role(n.output![0], depth + 1);
    return [roleOf(n.opType ?? '', slot), n];
  };
  const r = rng(options.seed ?? 1);
  let spare = NaN;
  const normal = () => {
    if (!Number.isNaN(spare)) { const v = spare; spare = NaN; return v; }
    const u = Math.max(r(), 1e-12), v = r();
    const rad = Math.sqrt(-2 * Math.log(u));
    spare = rad * Math.sin(2 * Math.PI * v);
    return rad * Math.cos(2 * Math.PI * v);
  };
  const replaced: string[] = [];
  const keptNodes: onnx.INodeProto[] = [];
  for (const n of nodes) {
    const value = (n.attribute ?? []).find((a) => a.name === 'value')?.t;
    const isFloat = !value || value.dataType === onnx.TensorProto.DataType.FLOAT;
    const dims = n.opType === 'ConstantOfShape' ? shapeOf.get(n.input?.[0] ?? '') : undefined;
    if (n.opType !== 'ConstantOfShape' || !isFloat || !dims || dims.reduce((a, b) => a * b, 1) > (options.maxElements ?? Infinity)) {
      keptNodes.push(n);
      continue;
    }
    const out = n.output![0];
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const [rl, user] = role(out);
    const transB = num((user?.attribute ?? []).find((a) => a.name === 'transB')?.i) === 1;
    const fanIn = rl === 'convW' ? dims.slice(1).reduce((a, b) => a * b, 1) : rl === 'fcW' ? (transB ? dims[1] : dims[0]) : 1;
    const u = (lo: number, hi: number) => lo + (hi - lo) * r();
    for (let i = 0; i < size; i++) {
      switch (rl) {
        case 'convW': data[i] = normal() * Math.sqrt(2 / fanIn); break;
        case 'fcW': data[i] = normal() * Math.sqrt(1 / fanIn); break;
        case 'bnScale': data[i] = u(0.5, 1); break;
        case 'bnVar': data[i] = u(1, 2); break;
        case 'mul': data[i] = u(0.8, 1.2); break;
        default: data[i] = u(-0.1, 0.1);
      }
    }
    g.initializer!.push(tensorToProto(out, dims, data) as onnx.TensorProto);
    if (num(model.irVersion) < 4) {
      g.input!.push({ name: out, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } } as onnx.ValueInfoProto);
    }
    replaced.push(out);
  }
  g.node = keptNodes as onnx.NodeProto[];
  const outs = new Set((g.output ?? []).map((o) => o.name));
  const expose = (name: string) => {
    if (outs.has(name)) return;
    outs.add(name);
    g.output!.push({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } } } as onnx.ValueInfoProto);
  };
  let exposed: string | undefined;
  if (options.exposeInputOf) {
    const n = keptNodes.find((x) => x.opType === options.exposeInputOf);
    if (n) expose((exposed = n.input![0]));
  }
  let logits: string | undefined;
  if (options.exposeLogits) {
    const sm = keptNodes.find((n) => n.opType === 'Softmax' && outs.has(n.output?.[0] ?? ''));
    if (sm) expose((logits = sm.input![0]));
  }
  return { bytes: onnx.ModelProto.encode(model).finish(), replaced, logits, exposed };
}
