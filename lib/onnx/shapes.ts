// Shape inference and constant evaluation for the supported ONNX ops.
//
// inferShapes(): output shapes of one node from its input shapes (and constant inputs such
// as Reshape's shape). evalConst(): the value of a node whose inputs are all constants —
// the shape sub-graphs (Shape → Gather → Unsqueeze → Concat → Reshape) and the weight
// generators (Constant, ConstantOfShape) fold into constants this way at load.
import { allocateFloat32 } from '../memory';
import { ConstTensor, Node, attrFloat, attrInt, attrInts, attrString, sizeOf } from './ir';

export class ShapeError extends Error {}

function fail(node: Node, msg: string): never {
  throw new ShapeError(`node ${node.name} (${node.op}): ${msg}`);
}

export function broadcast(node: Node, shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = rank - s.length + i;
      const d = s[i];
      if (d === out[k] || d === 1) continue;
      if (out[k] === 1) out[k] = d;
      else fail(node, `shapes ${shapes.map((x) => `[${x}]`).join(' and ')} are not broadcastable`);
    }
  }
  return out;
}

function normAxis(node: Node, axis: number, rank: number): number {
  if (axis < -rank || axis >= rank) fail(node, `axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Integer values of a constant input (int64 or float), or undefined if it is not constant. */
export function constInts(c: ConstTensor | undefined): number[] | undefined {
  if (!c) return undefined;
  if (c.i64) return c.i64;
  return c.f32 ? Array.from(c.f32) : undefined;
}

export function constFloats(c: ConstTensor | undefined): number[] | undefined {
  if (!c) return undefined;
  if (c.f32) return Array.from(c.f32);
  return c.i64;
}

export interface PoolGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  ceil: boolean;
  out: [number, number];
}

/** Conv/pool output size with ONNX auto_pad / pads / ceil_mode rules. */
export function poolGeometry(node: Node, inH: number, inW: number, kernel: number[], isConv: boolean): PoolGeometry {
  if (kernel.length !== 2) fail(node, `only 2-D kernels are supported, got kernel_shape [${kernel}]`);
  const strides = attrInts(node, 'strides', [1, 1]);
  const dil = attrInts(node, 'dilations', [1, 1]);
  const ceil = !isConv && attrInt(node, 'ceil_mode', 0) === 1;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads', [0, 0, 0, 0]);
  if (pads.length !== 4 || strides.length !== 2 || dil.length !== 2) fail(node, 'pads/strides/dilations must be 2-D');
  const inp = [inH, inW];
  const out = [0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const p = [0, 0, 0, 0];
    for (let i = 0; i < 2; i++) {
      out[i] = Math.ceil(inp[i] / strides[i]);
      const total = Math.max(0, (out[i] - 1) * strides[i] + (kernel[i] - 1) * dil[i] + 1 - inp[i]);
      const small = Math.floor(total / 2);
      if (autoPad === 'SAME_UPPER') { p[i] = small; p[i + 2] = total - small; } else { p[i] = total - small; p[i + 2] = small; }
    }
    pads = p;
  } else {
    if (autoPad === 'VALID') pads = [0, 0, 0, 0];
    else if (autoPad !== 'NOTSET') fail(node, `auto_pad ${autoPad} is not supported`);
    for (let i = 0; i < 2; i++) {
      const span = inp[i] + pads[i] + pads[i + 2] - ((kernel[i] - 1) * dil[i] + 1);
      if (span < 0) fail(node, `kernel ${kernel} does not fit input [${inH},${inW}] with pads [${pads}]`);
      out[i] = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
      // ceil mode: the last window must start inside the input or the left padding
      if (ceil && (out[i] - 1) * strides[i] >= inp[i] + pads[i]) out[i]--;
    }
  }
  return {
    kernel: [kernel[0], kernel[1]],
    strides: [strides[0], strides[1]],
    dilations: [dil[0], dil[1]],
    pads: [pads[0], pads[1], pads[2], pads[3]],
    ceil,
    out: [out[0], out[1]],
  };
}

/** Scales for Resize/Upsample, or undefined if they are given as sizes. */
export function resizeTarget(node: Node, x: readonly number[], consts: (ConstTensor | undefined)[], opset: number): number[] {
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (node.op === 'Upsample') {
    scales = opset >= 9 ? constFloats(consts[1]) : attrInts(node, 'scales');
    if (opset < 9) scales = (node.attrs.scales as number[] | undefined);
  } else if (opset === 10) {
    scales = constFloats(consts[1]);
  } else {
    scales = node.inputs[2] ? constFloats(consts[2]) : undefined;
    sizes = node.inputs[3] ? constInts(consts[3]) : undefined;
    if (scales && scales.length === 0) scales = undefined;
  }
  if (sizes) {
    if (sizes.length !== x.length) fail(node, `sizes [${sizes}] do not match rank ${x.length}`);
    return sizes.slice();
  }
  if (!scales) fail(node, 'scales/sizes must be constants');
  if (scales.length !== x.length) fail(node, `scales [${scales}] do not match rank ${x.length}`);
  return x.map((d, i) => Math.floor(d * scales![i]));
}

export interface SliceSpec {
  starts: number[];
  steps: number[];
  outShape: number[];
}

export function sliceSpec(node: Node, x: readonly number[], consts: (ConstTensor | undefined)[], opset: number): SliceSpec {
  let starts: number[] | undefined, ends: number[] | undefined, axes: number[] | undefined, steps: number[] | undefined;
  if (opset < 10) {
    starts = attrInts(node, 'starts'); ends = attrInts(node, 'ends'); axes = attrInts(node, 'axes');
  } else {
    starts = constInts(consts[1]); ends = constInts(consts[2]);
    axes = node.inputs[3] ? constInts(consts[3]) : undefined;
    steps = node.inputs[4] ? constInts(consts[4]) : undefined;
  }
  if (!starts || !ends) fail(node, 'starts/ends must be constants');
  axes = axes ?? starts.map((_, i) => i);
  steps = steps ?? starts.map(() => 1);
  const st = x.map(() => 0);
  const sp = x.map(() => 1);
  const out = x.slice();
  axes.forEach((a0, i) => {
    const a = normAxis(node, a0, x.length);
    const d = x[a];
    const step = steps![i];
    if (step === 0) fail(node, 'step 0');
    let s = starts![i], e = ends![i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      out[a] = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      out[a] = Math.max(0, Math.ceil((e - s) / step));
    }
    st[a] = s;
    sp[a] = step;
  });
  return { starts: st, steps: sp, outShape: out };
}

export function splitSizes(node: Node, x: readonly number[], consts: (ConstTensor | undefined)[], opset: number): { axis: number; sizes: number[] } {
  const axis = normAxis(node, attrInt(node, 'axis', 0), x.length);
  let split = opset >= 13 ? (node.inputs[1] ? constInts(consts[1]) : undefined) : attrInts(node, 'split');
  const n = node.outputs.length;
  if (!split || split.length === 0) {
    const d = x[axis];
    const parts = opset >= 18 && node.attrs.num_outputs !== undefined ? attrInt(node, 'num_outputs', n) : n;
    const chunk = Math.ceil(d / parts);
    split = [];
    for (let i = 0; i < parts; i++) split.push(Math.max(0, Math.min(chunk, d - chunk * i)));
  }
  if (split.length !== n) fail(node, `split [${split}] does not give ${n} outputs`);
  if (split.reduce((a, b) => a + b, 0) !== x[axis]) fail(node, `split [${split}] does not sum to dim ${x[axis]}`);
  return { axis, sizes: split };
}

function reshapeTarget(node: Node, x: readonly number[], shape: number[]): number[] {
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out = shape.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const known = out.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    out[neg] = known === 0 ? 0 : sizeOf(x) / known;
  }
  if (sizeOf(out) !== sizeOf(x) || out.some((d) => !Number.isInteger(d) || d < 0)) fail(node, `cannot reshape [${x}] to [${shape}]`);
  return out;
}

function unsqueezeAxes(node: Node, consts: (ConstTensor | undefined)[], opset: number): number[] {
  const axes = opset >= 13 ? constInts(consts[1]) : attrInts(node, 'axes');
  if (!axes) fail(node, 'axes must be constant');
  return axes;
}

function unsqueezeShape(node: Node, x: readonly number[], axes: number[]): number[] {
  const rank = x.length + axes.length;
  const ax = axes.map((a) => normAxis(node, a, rank)).sort((a, b) => a - b);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(ax.includes(i) ? 1 : x[j++]);
  return out;
}

function squeezeShape(node: Node, x: readonly number[], axes: number[] | undefined): number[] {
  if (!axes) return x.filter((d) => d !== 1);
  const ax = axes.map((a) => normAxis(node, a, x.length));
  return x.filter((_, i) => !ax.includes(i));
}

export function flattenShape(node: Node, x: readonly number[]): number[] {
  const axis = attrInt(node, 'axis', 1);
  const a = axis < 0 ? axis + x.length : axis;
  return [sizeOf(x.slice(0, a)), sizeOf(x.slice(a))];
}

export function transposePerm(node: Node, rank: number): number[] {
  const perm = attrInts(node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) fail(node, `perm [${perm}] is not a permutation of rank ${rank}`);
  return perm;
}

/**
 * Output shapes of `node`. `shapes[i]` is the shape of input i (undefined when omitted),
 * `consts[i]` its value when it is a constant.
 */
export function inferShapes(node: Node, shapes: (readonly number[] | undefined)[], consts: (ConstTensor | undefined)[], opset: number): number[][] {
  const x = shapes[0] ?? [];
  const same = (): number[][] => [x.slice()];
  switch (node.op) {
    case 'Relu': case 'LeakyRelu': case 'Clip': case 'Sigmoid': case 'Softmax': case 'LRN': case 'Identity':
    case 'BatchNormalization': case 'TfAffine':
      return same();
    case 'Dropout':
      return node.outputs.length > 1 ? [x.slice(), x.slice()] : same();
    case 'Add': case 'Mul': case 'Sum':
      return [broadcast(node, shapes.filter((s): s is readonly number[] => s !== undefined))];
    case 'Conv': case 'TfConcatConv': case 'TfAddConv': {
      const w = shapes[1];
      if (!w || w.length !== 4) fail(node, `weight must be rank 4 (2-D conv only), got [${w}]`);
      if (x.length !== 4) fail(node, `input must be rank 4 (NCHW), got [${x}]`);
      let cin = x[1];
      if (node.op === 'TfConcatConv') cin = (node.attrs.channels as number[]).reduce((a, b) => a + b, 0);
      const group = attrInt(node, 'group', 1);
      if (cin !== w[1] * group) fail(node, `input has ${cin} channels but weight [${w}] with group ${group} needs ${w[1] * group}`);
      const g = poolGeometry(node, x[2], x[3], attrInts(node, 'kernel_shape', [w[2], w[3]]), true);
      return [[x[0], w[0], g.out[0], g.out[1]]];
    }
    case 'MaxPool': case 'AveragePool': {
      if (x.length !== 4) fail(node, `input must be rank 4 (NCHW), got [${x}]`);
      const k = attrInts(node, 'kernel_shape');
      if (!k) fail(node, 'kernel_shape is required');
      const g = poolGeometry(node, x[2], x[3], k, false);
      return [[x[0], x[1], g.out[0], g.out[1]]];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool':
      if (x.length < 3) fail(node, `input must have spatial dims, got [${x}]`);
      return [[x[0], x[1], ...x.slice(2).map(() => 1)]];
    case 'Gemm': {
      const b = shapes[1] ?? [];
      if (x.length !== 2 || b.length !== 2) fail(node, `A and B must be 2-D, got [${x}] and [${b}]`);
      const [m, k] = attrInt(node, 'transA', 0) ? [x[1], x[0]] : [x[0], x[1]];
      const [k2, n] = attrInt(node, 'transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
      if (k !== k2) fail(node, `inner dims differ: A [${x}] B [${b}]`);
      if (shapes[2]) broadcast(node, [[m, n], shapes[2]]);
      return [[m, n]];
    }
    case 'MatMul': {
      const b = shapes[1] ?? [];
      if (x.length < 1 || b.length < 1) fail(node, 'operands must have rank >= 1');
      const a2 = x.length === 1 ? [1, x[0]] : x;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      if (a2[a2.length - 1] !== b2[b2.length - 2]) fail(node, `inner dims differ: [${x}] x [${b}]`);
      const batch = broadcast(node, [a2.slice(0, -2), b2.slice(0, -2)]);
      const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
      if (x.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.pop();
      return [out];
    }
    case 'Flatten':
      return [flattenShape(node, x)];
    case 'Reshape': {
      const s = constInts(consts[1]);
      if (!s) fail(node, 'shape must be a constant (or computable at load)');
      return [reshapeTarget(node, x, s)];
    }
    case 'Transpose': {
      const p = transposePerm(node, x.length);
      return [p.map((i) => x[i])];
    }
    case 'Concat': {
      const axis = normAxis(node, attrInt(node, 'axis', 1), x.length);
      const out = x.slice();
      out[axis] = 0;
      for (const s of shapes) {
        if (!s) continue;
        if (s.length !== x.length || s.some((d, i) => i !== axis && d !== x[i])) fail(node, `inputs [${x}] and [${s}] differ off axis ${axis}`);
        out[axis] += s[axis];
      }
      return [out];
    }
    case 'Resize': case 'Upsample':
      return [resizeTarget(node, x, consts, opset)];
    case 'Split': {
      const { axis, sizes } = splitSizes(node, x, consts, opset);
      return sizes.map((d) => { const s = x.slice(); s[axis] = d; return s; });
    }
    case 'Slice':
      return [sliceSpec(node, x, consts, opset).outShape];
    case 'Shape':
      return [[x.length]];
    case 'Unsqueeze':
      return [unsqueezeShape(node, x, unsqueezeAxes(node, consts, opset))];
    case 'Squeeze':
      return [squeezeShape(node, x, opset >= 13 ? constInts(consts[1]) : attrInts(node, 'axes'))];
    case 'Gather': {
      const idx = shapes[1] ?? [];
      const axis = normAxis(node, attrInt(node, 'axis', 0), x.length);
      return [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]];
    }
    case 'Constant': case 'ConstantOfShape':
      fail(node, 'is evaluated at load');
  }
  fail(node, 'no shape rule');
}

// ---------------- constant evaluation ----------------

function ctensor(dtype: 'float32' | 'int64', dims: number[], values: ArrayLike<number>): ConstTensor {
  return dtype === 'float32' ? { dtype, dims, f32: Float32Array.from(values) } : { dtype, dims, i64: Array.from(values) };
}

function values(c: ConstTensor): ArrayLike<number> {
  return c.f32 ?? c.i64 ?? [];
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
  return s;
}

/** out[i] = v[base + sum_k coord_k(i) * step[k]] over the row-major coords of `shape`. */
function gatherStrided(v: ArrayLike<number>, shape: readonly number[], base: number, step: readonly number[]): number[] {
  const os = strides(shape);
  const n = sizeOf(shape);
  const res = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let src = base;
    for (let k = 0; k < shape.length; k++) src += (Math.floor(i / os[k]) % shape[k]) * step[k];
    res[i] = v[src];
  }
  return res;
}

/** Ops evalConst knows; a node of one of them with only constant inputs is folded at load. */
export const FOLDABLE = new Set(['Constant', 'ConstantOfShape', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Reshape',
  'Flatten', 'Identity', 'Dropout', 'Add', 'Mul', 'Sum', 'Transpose', 'Slice']);

/**
 * The value of `node` given constant inputs (Shape needs only its input's shape). Returns
 * undefined when the op is not foldable.
 */
export function evalConst(node: Node, inputs: (ConstTensor | undefined)[], inShapes: (readonly number[] | undefined)[], opset: number): ConstTensor[] | undefined {
  const x = inputs[0];
  switch (node.op) {
    case 'Constant': {
      const v = node.attrs.value;
      if (v && typeof v === 'object' && !Array.isArray(v)) return [v];
      if (typeof node.attrs.value_float === 'number') return [ctensor('float32', [], [node.attrs.value_float])];
      if (Array.isArray(node.attrs.value_floats)) return [ctensor('float32', [node.attrs.value_floats.length], node.attrs.value_floats as number[])];
      if (typeof node.attrs.value_int === 'number') return [ctensor('int64', [], [node.attrs.value_int])];
      if (Array.isArray(node.attrs.value_ints)) return [ctensor('int64', [node.attrs.value_ints.length], node.attrs.value_ints as number[])];
      fail(node, 'unsupported Constant value (sparse or string)');
      break;
    }
    case 'ConstantOfShape': {
      const dims = constInts(x);
      if (!dims) return undefined;
      const v = node.attrs.value as ConstTensor | undefined;
      const dtype = v?.dtype ?? 'float32';
      const fillv = v ? values(v)[0] ?? 0 : 0;
      const n = sizeOf(dims);
      // allocateFloat32: large weights come from the huge-page allocator (first-touch page
      // faults of a plain Float32Array cost more than the fill itself)
      return [dtype === 'float32' ? { dtype, dims: dims.slice(), f32: allocateFloat32(n).fill(fillv) } : { dtype, dims: dims.slice(), i64: new Array<number>(n).fill(fillv) }];
    }
    case 'Shape': {
      const s = inShapes[0];
      if (!s) return undefined;
      let start = opset >= 15 ? attrInt(node, 'start', 0) : 0;
      let end = opset >= 15 ? attrInt(node, 'end', s.length) : s.length;
      if (start < 0) start += s.length;
      if (end < 0) end += s.length;
      const v = s.slice(Math.max(0, start), Math.min(s.length, end));
      return [ctensor('int64', [v.length], v)];
    }
    case 'Identity': case 'Dropout':
      return x ? [x] : undefined;
  }
  if (inputs.some((c, i) => c === undefined && node.inputs[i] !== '')) return undefined;
  if (!x) return undefined;
  const shapes = inputs.map((c) => c?.dims);
  const out = (dims: number[], vals: ArrayLike<number>) => [ctensor(x.dtype, dims, vals)];
  switch (node.op) {
    case 'Unsqueeze': case 'Squeeze': case 'Reshape': case 'Flatten': {
      const [s] = inferShapes(node, shapes, inputs, opset);
      return [{ ...x, dims: s }];
    }
    case 'Gather': {
      const idx = values(inputs[1]!);
      const axis = normAxis(node, attrInt(node, 'axis', 0), x.dims.length);
      const [s] = inferShapes(node, shapes, inputs, opset);
      const d = x.dims[axis];
      const inner = sizeOf(x.dims.slice(axis + 1));
      const outer = sizeOf(x.dims.slice(0, axis));
      const src = values(x);
      const res: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < idx.length; j++) {
          let k = idx[j];
          if (k < 0) k += d;
          if (k < 0 || k >= d) fail(node, `index ${idx[j]} out of range for dim ${d}`);
          for (let i = 0; i < inner; i++) res.push(src[(o * d + k) * inner + i]);
        }
      }
      return out(s, res);
    }
    case 'Concat': {
      const [s] = inferShapes(node, shapes, inputs, opset);
      const axis = normAxis(node, attrInt(node, 'axis', 1), x.dims.length);
      const outer = sizeOf(x.dims.slice(0, axis));
      const res: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const c of inputs) {
          if (!c) continue;
          const chunk = sizeOf(c.dims.slice(axis));
          const v = values(c);
          for (let i = 0; i < chunk; i++) res.push(v[o * chunk + i]);
        }
      }
      return out(s, res);
    }
    case 'Add': case 'Mul': case 'Sum': {
      const [s] = inferShapes(node, shapes, inputs, opset);
      const n = sizeOf(s);
      const res = new Float64Array(n).fill(node.op === 'Mul' ? 1 : 0);
      const os = strides(s);
      for (const c of inputs) {
        if (!c) continue;
        const v = values(c);
        const pad = s.length - c.dims.length;
        const cs = strides(c.dims);
        for (let i = 0; i < n; i++) {
          let src = 0;
          for (let k = 0; k < c.dims.length; k++) {
            const coord = Math.floor(i / os[k + pad]) % s[k + pad];
            src += (c.dims[k] === 1 ? 0 : coord) * cs[k];
          }
          res[i] = node.op === 'Mul' ? res[i] * v[src] : res[i] + v[src];
        }
      }
      return out(s, res);
    }
    case 'Transpose': {
      const perm = transposePerm(node, x.dims.length);
      const [s] = inferShapes(node, shapes, inputs, opset);
      const is = strides(x.dims);
      return out(s, gatherStrided(values(x), s, 0, perm.map((p) => is[p])));
    }
    case 'Slice': {
      const spec = sliceSpec(node, x.dims, inputs, opset);
      const is = strides(x.dims);
      const base = spec.starts.reduce((a, st, k) => a + st * is[k], 0);
      return out(spec.outShape, gatherStrided(values(x), spec.outShape, base, spec.steps.map((st, k) => st * is[k])));
    }
  }
  return undefined;
}

export function attrAlpha(node: Node, def: number): number {
  return attrFloat(node, 'alpha', def);
}
