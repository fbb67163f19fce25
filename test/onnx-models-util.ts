// Shared by the ONNX model tests: closeness checks, deterministic inputs, onnxruntime runs.
import * as assert from 'assert';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../lib';

export interface Closeness {
  maxAbs: number;
  maxRel: number;
  bad: number;
  firstBad: string;
}

/** Element-wise |a - b| <= atol + rtol * |b| (numpy.allclose with b the reference). */
export function compare(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): Closeness {
  assert.strictEqual(a.length, b.length, 'lengths differ');
  const r: Closeness = { maxAbs: 0, maxRel: 0, bad: 0, firstBad: '' };
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    r.maxAbs = Math.max(r.maxAbs, d);
    if (b[i] !== 0) r.maxRel = Math.max(r.maxRel, d / Math.abs(b[i]));
    if (!(d <= atol + rtol * Math.abs(b[i]))) {
      if (r.bad === 0) r.firstBad = `[${i}] ${a[i]} vs ${b[i]}`;
      r.bad++;
    }
  }
  return r;
}

export function expectClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-3, atol = 1e-5): Closeness {
  const r = compare(a, b, rtol, atol);
  assert.strictEqual(r.bad, 0, `${what}: ${r.bad}/${b.length} elements off (rtol ${rtol}, atol ${atol}); first ${r.firstBad}; max abs ${r.maxAbs}`);
  return r;
}

/** Deterministic uniform [-1, 1) input. */
export function randomInput(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = (s / 4294967296) * 2 - 1;
  }
  return x;
}

export async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const sess = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3, intraOpNumThreads: 2 });
  const inputs: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', t.data, t.shape.slice());
  const out = await sess.run(inputs);
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  await sess.release();
  return res;
}

