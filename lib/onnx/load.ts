// ONNX file → validated graph IR with constants folded.
//
// Everything that would make the model unrunnable is found here, before any kernel runs:
// unsupported ops (or attribute values), opsets and element types are collected and thrown
// together as one UnsupportedModelError that lists every offending node.
import * as fs from 'fs';
import { onnx } from 'onnx-proto';
import { ConstTensor, DType, Graph, Node, ValueInfo, attrInt, attrString } from './ir';
import { attrFromProto, decodeModel, dtypeName, num, tensorFromProto, valueInfoFromProto } from './proto';
import { FOLDABLE, ShapeError, evalConst, inferShapes } from './shapes';

export const MIN_OPSET = 7;
export const MAX_OPSET = 21;

/** The model cannot run on tensorfuse; `problems` lists every reason (one per node/value). */
export class UnsupportedModelError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`loadOnnx: the model cannot run on tensorfuse (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'UnsupportedModelError';
    this.problems = problems;
  }
}

/** Ops the runtime executes (or folds). Each maps to a native op or a TS fallback in ops/. */
export const SUPPORTED_OPS = new Set([
  'Conv', 'Add', 'Sum', 'Mul', 'Concat', 'Relu', 'LeakyRelu', 'Clip', 'Sigmoid', 'MaxPool', 'AveragePool',
  'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'Gemm', 'MatMul', 'Flatten', 'Reshape', 'Transpose',
  'Softmax', 'LRN', 'Dropout', 'Identity', 'Constant', 'ConstantOfShape', 'Resize', 'Upsample', 'Split', 'Slice',
  'Shape', 'Gather', 'Unsqueeze', 'Squeeze',
]);

/** Ops whose int64 inputs are only shape data (and are folded at load). */
const SHAPE_OPS = new Set(['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Reshape', 'Flatten', 'Slice', 'Identity', 'Dropout',
  'Add', 'Mul', 'Sum', 'ConstantOfShape', 'Transpose']);

/** Input slots that carry shape data (int64) rather than tensors to compute on. */
function isShapeSlot(op: string, slot: number, opset: number): boolean {
  switch (op) {
    case 'Reshape': case 'ConstantOfShape': return slot === (op === 'Reshape' ? 1 : 0);
    case 'Gather': return slot === 1;
    case 'Unsqueeze': case 'Squeeze': case 'Split': return slot === 1;
    case 'Slice': return slot >= 1;
    case 'Resize': return slot === 3 || (opset >= 11 && slot === 1);
    case 'Clip': return false;
    default: return false;
  }
}

function nodeLabel(n: Node): string {
  return `node ${n.name} (${n.op}${n.domain && n.domain !== 'ai.onnx' ? `, domain ${n.domain}` : ''})`;
}

/** Attribute/structure checks for a supported op; returns the reason it cannot run, or null. */
function checkNode(n: Node, opset: number, used: Set<string>): string | null {
  const extraOutputsUsed = (from: number) => n.outputs.slice(from).some((o) => o !== '' && used.has(o));
  switch (n.op) {
    case 'Conv': {
      const k = n.attrs.kernel_shape as number[] | undefined;
      if (k && k.length !== 2) return `only 2-D convolutions are supported (kernel_shape [${k}])`;
      const ap = attrString(n, 'auto_pad', 'NOTSET');
      if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(ap)) return `auto_pad ${ap}`;
      return null;
    }
    case 'MaxPool': case 'AveragePool': {
      const k = n.attrs.kernel_shape as number[] | undefined;
      if (!k || k.length !== 2) return `only 2-D pooling is supported (kernel_shape [${k ?? ''}])`;
      if (n.op === 'MaxPool' && attrInt(n, 'storage_order', 0) !== 0) return 'storage_order 1';
      if (n.op === 'MaxPool' && extraOutputsUsed(1)) return 'the Indices output is not supported';
      return null;
    }
    case 'BatchNormalization':
      if (extraOutputsUsed(1)) return 'training-mode outputs (mean/var) are not supported';
      if (attrInt(n, 'training_mode', 0) !== 0) return 'training_mode 1';
      if (opset < 9 && attrInt(n, 'spatial', 1) !== 1) return 'spatial 0';
      return null;
    case 'Dropout':
      if (extraOutputsUsed(1)) return 'the mask output is not supported';
      return null;
    case 'Resize': case 'Upsample': {
      const mode = attrString(n, 'mode', 'nearest');
      if (mode !== 'nearest' && mode !== 'linear' && mode !== 'bilinear') return `mode ${mode}`;
      const ct = attrString(n, 'coordinate_transformation_mode', opset >= 11 && n.op === 'Resize' ? 'half_pixel' : 'asymmetric');
      if (!['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel'].includes(ct)) return `coordinate_transformation_mode ${ct}`;
      const nm = attrString(n, 'nearest_mode', 'round_prefer_floor');
      if (!['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(nm)) return `nearest_mode ${nm}`;
      if (attrInt(n, 'antialias', 0) !== 0) return 'antialias';
      if (n.attrs.axes !== undefined) return 'the axes attribute';
      if (attrString(n, 'keep_aspect_ratio_policy', 'stretch') !== 'stretch') return 'keep_aspect_ratio_policy';
      return null;
    }
    case 'Softmax': case 'LRN': case 'Gemm': case 'MatMul': case 'Flatten': case 'Transpose': case 'Concat': case 'Add': case 'Mul':
    case 'Sum': case 'Relu': case 'LeakyRelu': case 'Clip': case 'Sigmoid': case 'GlobalAveragePool': case 'GlobalMaxPool':
    case 'Reshape': case 'Split': case 'Slice': case 'Shape': case 'Gather': case 'Unsqueeze': case 'Squeeze': case 'Identity':
    case 'Constant': case 'ConstantOfShape':
      return null;
  }
  return 'unsupported operator';
}

export interface LoadedGraph {
  graph: Graph;
  /** dtype of every value (after folding, int64 values should all be constants). */
  dtypes: Map<string, DType>;
  producerName: string;
  irVersion: number;
}

export function readModelBytes(pathOrBytes: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof pathOrBytes === 'string') return fs.readFileSync(pathOrBytes);
  if (pathOrBytes instanceof Uint8Array) return pathOrBytes;
  if (pathOrBytes instanceof ArrayBuffer) return new Uint8Array(pathOrBytes);
  throw new TypeError('loadOnnx: pathOrBytes must be a file path, a Uint8Array/Buffer or an ArrayBuffer');
}

/**
 * Parses and validates a model; throws UnsupportedModelError listing every problem. With
 * `ownsBytes` the loader may rearrange `bytes` so that float weights stay in them instead of
 * being copied (raw-floats.ts); the bytes are then no valid model any more.
 */
export function parseModel(bytes: Uint8Array, ownsBytes = false): LoadedGraph {
  const owned = ownsBytes ? bytes : undefined;
  let model: onnx.ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new Error(`loadOnnx: not a valid ONNX model (protobuf decode failed: ${(e as Error).message})`);
  }
  const problems: string[] = [];
  const g = model.graph;
  if (!g) throw new Error('loadOnnx: the model has no graph');

  let opset = -1;
  for (const o of model.opsetImport ?? []) {
    const d = o.domain ?? '';
    if (d === '' || d === 'ai.onnx') opset = num(o.version);
  }
  if (opset < 0) problems.push('the model imports no default-domain (ai.onnx) opset');
  else if (opset < MIN_OPSET || opset > MAX_OPSET) problems.push(`opset ${opset} is not supported (supported: ${MIN_OPSET}..${MAX_OPSET})`);

  const consts = new Map<string, ConstTensor>();
  for (const t of g.initializer ?? []) {
    try {
      consts.set(t.name ?? '', tensorFromProto(t, `initializer ${t.name}`, owned));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if ((g.sparseInitializer ?? []).length > 0) problems.push('sparse initializers are not supported');

  const inputs: ValueInfo[] = [];
  const dtypes = new Map<string, DType>();
  for (const [name, c] of consts) dtypes.set(name, c.dtype);
  for (const vi of g.input ?? []) {
    if (consts.has(vi.name ?? '')) continue; // IR < 4 lists initializers as inputs too
    const v = valueInfoFromProto(vi);
    if (v.dtype !== 'float32') problems.push(`graph input ${v.name}: element type ${dtypeName(v.elemType)} is not supported (float32 inputs only)`);
    else dtypes.set(v.name, 'float32');
    inputs.push(v);
  }
  const outputs = (g.output ?? []).map(valueInfoFromProto);

  const used = new Set<string>(outputs.map((o) => o.name));
  for (const n of g.node ?? []) for (const i of n.input ?? []) used.add(i);

  const nodes: Node[] = [];
  (g.node ?? []).forEach((p, idx) => {
    const node: Node = {
      name: p.name ? p.name : `#${idx}`,
      op: p.opType ?? '',
      domain: p.domain ?? '',
      inputs: (p.input ?? []).slice(),
      outputs: (p.output ?? []).slice(),
      attrs: {},
    };
    try {
      for (const a of p.attribute ?? []) node.attrs[a.name ?? ''] = attrFromProto(a, nodeLabel(node), owned);
    } catch (e) {
      problems.push(`${nodeLabel(node)}: ${(e as Error).message}`);
      nodes.push(node);
      return;
    }
    nodes.push(node);
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      problems.push(`${nodeLabel(node)}: operator domain ${node.domain} is not supported`);
      return;
    }
    if (!SUPPORTED_OPS.has(node.op)) {
      problems.push(`${nodeLabel(node)}: unsupported operator`);
      return;
    }
    const why = checkNode(node, opset, used);
    if (why) problems.push(`${nodeLabel(node)}: ${why}`);
  });

  // dtype propagation: int64 only in shape computations
  const constDtype = (n: Node): DType => {
    if (n.op === 'Constant') {
      const v = n.attrs.value;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v.dtype;
      return n.attrs.value_int !== undefined || n.attrs.value_ints !== undefined ? 'int64' : 'float32';
    }
    const v = n.attrs.value;
    return v && typeof v === 'object' && !Array.isArray(v) ? v.dtype : 'float32';
  };
  for (const n of nodes) {
    if (!SUPPORTED_OPS.has(n.op)) {
      n.outputs.forEach((o) => dtypes.set(o, 'float32'));
      continue;
    }
    let outType: DType = 'float32';
    if (n.op === 'Shape') outType = 'int64';
    else if (n.op === 'Constant' || n.op === 'ConstantOfShape') outType = constDtype(n);
    else if (SHAPE_OPS.has(n.op)) outType = dtypes.get(n.inputs[0]) ?? 'float32';
    if (!SHAPE_OPS.has(n.op)) {
      n.inputs.forEach((v, slot) => {
        if (v !== '' && dtypes.get(v) === 'int64' && !isShapeSlot(n.op, slot, opset)) {
          problems.push(`${nodeLabel(n)}: input ${slot} (${v}) is int64; only shape computations may use int64`);
        }
      });
    } else if (n.op === 'Gather' && dtypes.get(n.inputs[0]) === 'float32' && !consts.has(n.inputs[0])) {
      problems.push(`${nodeLabel(n)}: Gather on float tensors is not supported (only on shapes)`);
    }
    n.outputs.forEach((o, i) => dtypes.set(o, n.op === 'Dropout' && i === 1 ? 'int64' : outType));
  }
  for (const o of outputs) {
    if (o.dtype !== 'float32') problems.push(`graph output ${o.name}: element type ${dtypeName(o.elemType)} is not supported (float32 outputs only)`);
  }
  if (problems.length > 0) throw new UnsupportedModelError(problems);

  const graph: Graph = { opset, nodes, consts, inputs, outputs };
  const staticShapes = new Map<string, number[]>();
  for (const i of inputs) {
    if (i.shape && i.shape.every((d) => typeof d === 'number')) staticShapes.set(i.name, i.shape as number[]);
  }
  foldConstants(graph, staticShapes, false);
  checkIntsFolded(graph, dtypes, false);
  return { graph, dtypes, producerName: model.producerName ?? '', irVersion: num(model.irVersion) };
}

/**
 * Folds every node whose inputs are constants (and Shape nodes whose input shape is known)
 * into `graph.consts`, in place. `shapes` holds the known shapes of graph inputs; shapes of
 * other values are inferred along the way. With `strict`, a shape error is thrown;
 * otherwise (load time, shapes may be symbolic) inference just stops at that value.
 */
export function foldConstants(graph: Graph, shapes: Map<string, number[]>, strict: boolean): Map<string, number[]> {
  const known = new Map(shapes);
  for (const [k, c] of graph.consts) known.set(k, c.dims);
  const kept: Node[] = [];
  for (const n of graph.nodes) {
    const ins = n.inputs.map((v) => (v === '' ? undefined : graph.consts.get(v)));
    const inShapes = n.inputs.map((v) => (v === '' ? undefined : known.get(v)));
    let folded: ConstTensor[] | undefined;
    if (FOLDABLE.has(n.op)) {
      try {
        folded = evalConst(n, ins, inShapes, graph.opset);
      } catch (e) {
        if (strict || !(e instanceof ShapeError)) throw e;
      }
    }
    if (folded) {
      n.outputs.forEach((o, i) => {
        if (o === '' || !folded![i]) return;
        graph.consts.set(o, folded![i]);
        known.set(o, folded![i].dims);
      });
      continue;
    }
    kept.push(n);
    if (n.inputs.every((v, i) => v === '' || inShapes[i] !== undefined) && n.op !== 'Constant' && n.op !== 'ConstantOfShape') {
      try {
        const outs = inferShapes(n, inShapes, ins, graph.opset);
        n.outputs.forEach((o, i) => o !== '' && outs[i] && known.set(o, outs[i]));
      } catch (e) {
        if (strict || !(e instanceof ShapeError)) throw e;
      }
    }
  }
  graph.nodes = kept;
  return known;
}

/** After folding, every int64 value must be a constant: a runtime int64 tensor is unsupported. */
export function checkIntsFolded(graph: Graph, dtypes: Map<string, DType>, strict: boolean): void {
  const problems: string[] = [];
  for (const n of graph.nodes) {
    const intOut = n.outputs.some((o) => o !== '' && dtypes.get(o) === 'int64') && !(n.op === 'Dropout');
    if (!intOut) continue;
    if (n.op === 'Shape' && !strict) continue; // folds once input shapes are known
    const pending = n.inputs.some((v) => v !== '' && !graph.consts.has(v));
    if (!strict && pending) continue; // may still fold once the input shapes are known
    problems.push(`${nodeLabel(n)}: computes int64 values at run time (only shape computations that fold to constants are supported)`);
  }
  if (strict) {
    for (const n of graph.nodes) {
      if (n.op === 'Constant' || n.op === 'ConstantOfShape') problems.push(`${nodeLabel(n)}: could not be folded`);
    }
  }
  if (problems.length > 0) throw new UnsupportedModelError(problems);
}
