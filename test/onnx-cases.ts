// Loads the ONNX conformance vectors (test/data/onnx-node/*.json, format in that folder's
// README.md) and compares results with the README's rule. Shared by every op's ONNX test:
//
//   const cases = loadCases(testDataDir('onnx-node'), ['Add', 'Sum']);
//   for (const c of cases) it(c.name, () => expectClose(add(toTensor(c.inputs[0]), ...), c.outputs[0]));
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Tensor } from '../lib/tensor';

export type AttributeValue = number | string | number[] | string[];
export type AttributeType = 'INT' | 'FLOAT' | 'STRING' | 'INTS' | 'FLOATS' | 'STRINGS';

export interface TensorJson {
  name: string;
  dtype: 'float32' | 'int64' | null;
  dims: number[] | null;
  data: number[] | null;
  /** An optional input left out; it keeps its slot and dtype/dims/data are null. */
  omitted?: true;
  /** The value was a graph initializer (a constant) in the model. */
  initializer?: true;
}

export interface OnnxCase {
  name: string;
  op: string;
  opset: number;
  source: string;
  attributes: Record<string, AttributeValue>;
  attribute_types: Record<string, AttributeType>;
  inputs: TensorJson[];
  outputs: TensorJson[];
  /** The file the case was read from. */
  file: string;
}

/** Anything with a flat row-major array and a shape (a Tensor, a reference result). */
export interface Shaped {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** The tolerance the vectors' README prescribes for float32 outputs. */
export const ONNX_TOLERANCE: Readonly<Tolerance> = Object.freeze({ atol: 1e-4, rtol: 1e-4 });

/** The repository root (holds package.json), whether running from test/ or dist/test/. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`onnx-cases: no package.json above ${__dirname}`);
    dir = up;
  }
  return dir;
}

/** A folder under test/data/ (the JSON stays in the source tree; tsc does not copy it). */
export function testDataDir(...parts: string[]): string {
  return path.join(repoRoot(), 'test', 'data', ...parts);
}

function sizeOf(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

function validateTensor(file: string, where: string, t: unknown): TensorJson {
  const bad = (why: string): never => {
    throw new Error(`onnx-cases: ${file}: ${where} ${why}`);
  };
  if (t === null || typeof t !== 'object') bad('is not an object');
  const v = t as TensorJson;
  if (typeof v.name !== 'string') bad('has no name');
  if (v.omitted) {
    if (v.dtype !== null || v.dims !== null || v.data !== null) bad('is omitted but carries a value');
    return v;
  }
  if (v.dtype !== 'float32' && v.dtype !== 'int64') bad(`has dtype ${String(v.dtype)}`);
  if (!Array.isArray(v.dims) || !v.dims.every((d) => Number.isInteger(d) && d >= 0)) bad('has bad dims');
  if (!Array.isArray(v.data) || !v.data.every((x) => typeof x === 'number')) bad('has bad data');
  if (v.data!.length !== sizeOf(v.dims!)) bad(`has ${v.data!.length} values for dims [${v.dims!.join(',')}]`);
  return v;
}

function validateCase(file: string, raw: unknown): OnnxCase {
  const bad = (why: string): never => {
    throw new Error(`onnx-cases: ${file}: ${why}`);
  };
  if (raw === null || typeof raw !== 'object') bad('is not a JSON object');
  const c = raw as OnnxCase;
  if (typeof c.name !== 'string' || typeof c.op !== 'string') bad('has no name or op');
  if (!Number.isInteger(c.opset)) bad('has no opset');
  if (c.attributes === null || typeof c.attributes !== 'object') bad('has no attributes object');
  if (c.attribute_types === null || typeof c.attribute_types !== 'object') bad('has no attribute_types object');
  if (!Array.isArray(c.inputs) || !Array.isArray(c.outputs)) bad('has no inputs/outputs arrays');
  c.inputs.forEach((t, i) => validateTensor(file, `inputs[${i}]`, t));
  c.outputs.forEach((t, i) => validateTensor(file, `outputs[${i}]`, t));
  return { ...c, file };
}

/**
 * Every case in `dir` (one *.json file each) whose op passes the filter (an op name, a list
 * of them, or a predicate), sorted by name. Throws on a malformed file rather than skip it.
 */
export function loadCases(dir: string, opFilter?: string | readonly string[] | ((c: OnnxCase) => boolean)): OnnxCase[] {
  const keep =
    opFilter === undefined ? () => true
      : typeof opFilter === 'function' ? opFilter
        : typeof opFilter === 'string' ? (c: OnnxCase) => c.op === opFilter
          : (c: OnnxCase) => opFilter.includes(c.op);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  const cases: OnnxCase[] = [];
  for (const f of files) {
    const file = path.join(dir, f);
    const c = validateCase(file, JSON.parse(fs.readFileSync(file, 'utf8')));
    if (keep(c)) cases.push(c);
  }
  return cases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Why a tensor of the case cannot become a float32 Tensor, or undefined when it can.
 * Harnesses use it to skip (with the reason) instead of dropping a case.
 */
export function unsupportedTensor(t: TensorJson): string | undefined {
  if (t.omitted) return `${t.name || 'an optional input'} is omitted`;
  if (t.dtype !== 'float32') return `${t.name} has dtype ${String(t.dtype)}`;
  return undefined;
}

/** A float32 tensor of the case as a Tensor over new memory (values rounded to float32). */
export function toTensor(t: TensorJson): Tensor {
  const why = unsupportedTensor(t);
  if (why !== undefined) throw new TypeError(`onnx-cases: cannot make a float32 Tensor: ${why}`);
  return Tensor.from(Float32Array.from(t.data!), t.dims!);
}

/** An int64 tensor of the case (shape / index inputs) as plain numbers. */
export function toInts(t: TensorJson): number[] {
  if (t.omitted || t.dtype !== 'int64') throw new TypeError(`onnx-cases: ${t.name} is not an int64 tensor`);
  return t.data!.slice();
}

/** An attribute's value, or `fallback` (the ONNX default) when the model did not set it. */
export function attr<T extends AttributeValue>(c: OnnxCase, name: string, fallback: T): T {
  return (name in c.attributes ? c.attributes[name] : fallback) as T;
}

function expectedShaped(expected: Shaped | TensorJson): { data: ArrayLike<number>; shape: readonly number[] } {
  if ('dims' in expected) {
    if (expected.omitted || expected.dims === null || expected.data === null) {
      throw new TypeError(`onnx-cases: expected tensor ${expected.name} has no value`);
    }
    return { data: expected.data, shape: expected.dims };
  }
  return expected;
}

function multiIndex(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    idx.unshift(flat % shape[k]);
    flat = Math.floor(flat / shape[k]);
  }
  return `[${idx.join(',')}]`;
}

/**
 * Asserts that `actual` has exactly the expected shape and, element by element,
 * |actual - e| <= atol + rtol * |e| where e = Math.fround(expected) (the README's rule).
 * Equal infinities pass; NaN passes only against NaN.
 */
export function expectClose(actual: Shaped, expected: Shaped | TensorJson, tol: Tolerance = ONNX_TOLERANCE, label = ''): void {
  const exp = expectedShaped(expected);
  const prefix = label ? `${label}: ` : '';
  assert.deepStrictEqual([...actual.shape], [...exp.shape], `${prefix}shape [${actual.shape.join(',')}] != expected [${exp.shape.join(',')}]`);
  assert.strictEqual(actual.data.length, exp.data.length, `${prefix}${actual.data.length} values, expected ${exp.data.length}`);
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < exp.data.length; i++) {
    const e = Math.fround(exp.data[i]);
    const a = actual.data[i];
    const ok = a === e || (Number.isNaN(a) && Number.isNaN(e)) || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok) {
      count++;
      if (bad.length < 5) bad.push(`at ${multiIndex(i, exp.shape)}: ${a} vs ${e}`);
    }
  }
  if (count > 0) {
    assert.fail(`${prefix}${count} of ${exp.data.length} values differ beyond atol ${tol.atol} + rtol ${tol.rtol}: ${bad.join('; ')}`);
  }
}

/** Explicit [top, left, bottom, right] pads for an ONNX auto_pad. */
export function autoPads(c: OnnxCase, x: readonly number[], kernel: number[], strides: number[], dilations: number[]): number[] | string {
  const mode = attr<string>(c, 'auto_pad', 'NOTSET');
  if (mode === 'NOTSET') return attr<number[]>(c, 'pads', [0, 0, 0, 0]);
  if (mode === 'VALID') return [0, 0, 0, 0];
  if (mode !== 'SAME_UPPER' && mode !== 'SAME_LOWER') return `auto_pad ${mode}`;
  const begin: number[] = [], end: number[] = [];
  for (let a = 0; a < 2; a++) {
    const size = x[2 + a];
    const out = Math.ceil(size / strides[a]);
    const total = Math.max(0, (out - 1) * strides[a] + (kernel[a] - 1) * dilations[a] + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(mode === 'SAME_UPPER' ? small : total - small);
    end.push(mode === 'SAME_UPPER' ? total - small : small);
  }
  return [begin[0], begin[1], end[0], end[1]];
}

/** A test that fails when the copied data folder lost cases: at least minCases[op] per op. */
export function itHoldsEveryCase(cases: readonly OnnxCase[], minCases: Readonly<Record<string, number>>): void {
  it('the copied folder holds every public case of each op', () => {
    for (const [op, min] of Object.entries(minCases)) {
      const n = cases.filter((c) => c.op === op).length;
      assert.ok(n >= min, `${op}: ${n} cases, expected at least ${min}`);
    }
  });
}

/** Marks the running test skipped, with the reason in its title (never silently dropped). */
export function skipWithReason(ctx: Mocha.Context, reason: string): void {
  ctx.test!.title += ` (skipped: ${reason})`;
  ctx.skip();
}
