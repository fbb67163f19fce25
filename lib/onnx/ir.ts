// The loader's graph IR: what an ONNX graph becomes after parsing, and what the planner's
// rewrite passes transform. Plain data, no tensors: constants are typed arrays, values
// are names (ONNX's own), shapes are filled in by shape inference once input shapes are known.

export type DType = 'float32' | 'int64';

/** A constant: float32 data, or int64 values as JS numbers (shape computations only). */
export interface ConstTensor {
  dtype: DType;
  dims: number[];
  f32?: Float32Array;
  i64?: number[];
}

export type Attr = number | string | number[] | string[] | ConstTensor;

/** A graph input or output as declared in the file. Symbolic dims are strings ('N', '?'). */
export interface ValueInfo {
  name: string;
  elemType: number;
  dtype: DType | null;
  shape: (number | string)[] | null;
}

export interface Node {
  /** The ONNX node name, or `#<index>` when the file gives none. */
  name: string;
  /** ONNX op type, or an internal op (prefixed `Tf`) created by the planner. */
  op: string;
  domain: string;
  /** Value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  /** Names of the original nodes folded into this one by the planner (for plan()). */
  fused?: string[];
}

export interface Graph {
  opset: number;
  nodes: Node[];
  consts: Map<string, ConstTensor>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function cloneGraph(g: Graph): Graph {
  return {
    opset: g.opset,
    nodes: g.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs }, fused: n.fused?.slice() })),
    consts: new Map(g.consts),
    inputs: g.inputs,
    outputs: g.outputs,
  };
}

function attrError(node: Node, name: string, want: string): Error {
  return new Error(`node ${node.name} (${node.op}): attribute ${name} must be ${want}`);
}

export function attrInt(node: Node, name: string, def: number): number {
  const v = node.attrs[name];
  if (v === undefined) return def;
  if (typeof v !== 'number') throw attrError(node, name, 'an int');
  return v;
}

export function attrFloat(node: Node, name: string, def: number): number {
  return attrInt(node, name, def);
}

export function attrInts(node: Node, name: string): number[] | undefined;
export function attrInts(node: Node, name: string, def: number[]): number[];
export function attrInts(node: Node, name: string, def?: number[]): number[] | undefined {
  const v = node.attrs[name];
  if (v === undefined) return def;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw attrError(node, name, 'a list of ints');
  return v as number[];
}

export function attrString(node: Node, name: string, def: string): string {
  const v = node.attrs[name];
  if (v === undefined) return def;
  if (typeof v !== 'string') throw attrError(node, name, 'a string');
  return v;
}

/** Consumers of every value: value name → list of [node index, input slot]. */
export function consumers(nodes: readonly Node[]): Map<string, Array<[number, number]>> {
  const m = new Map<string, Array<[number, number]>>();
  nodes.forEach((n, i) =>
    n.inputs.forEach((v, slot) => {
      if (v === '') return;
      let l = m.get(v);
      if (!l) m.set(v, (l = []));
      l.push([i, slot]);
    }),
  );
  return m;
}

/** Producer of every value: value name → node index. */
export function producers(nodes: readonly Node[]): Map<string, number> {
  const m = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((v) => v !== '' && m.set(v, i)));
  return m;
}
