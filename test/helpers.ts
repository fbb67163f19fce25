// Small helpers shared by the test suites: deterministic random data (with IEEE special
// values), bit-exact comparison, and views at awkward offsets.
import * as assert from 'assert';
import { Tensor, runtime } from '../lib';
import { rng } from '../lib/random';

/** mulberry32 (lib/random.ts): floats in [0, 1) from a seed. */
export { rng };

/** Values that exercise IEEE corner cases: signed zeros, infinities, NaN, subnormals, extremes. */
export const SPECIAL_VALUES: readonly number[] = [
  0, -0, Infinity, -Infinity, NaN, 1.401298464324817e-45, -1.401298464324817e-45,
  1.1754942106924411e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1, -1,
];

/**
 * n float32 values from `seed`: mostly in [-8, 8), some of magnitude up to 1e30, and with
 * `specialRate` of them (default 2 %) drawn from SPECIAL_VALUES.
 */
export function randomData(n: number, seed: number, specialRate = 0.02): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < specialRate) out[i] = SPECIAL_VALUES[Math.floor(r() * SPECIAL_VALUES.length)];
    else if (u < 0.1) out[i] = (r() - 0.5) * 2e30;
    else out[i] = (r() - 0.5) * 16;
  }
  return out;
}

/** A Float32Array holding `values` at element offset `offset` of a larger buffer (a view). */
export function viewAt(values: Float32Array, offset: number, slack = 3): Float32Array {
  const backing = new Float32Array(offset + values.length + slack);
  backing.fill(-7777);
  backing.set(values, offset);
  return backing.subarray(offset, offset + values.length);
}

/** A tensor over random data, placed at `offset` elements into its buffer (0 = own buffer). */
export function randomTensor(shape: readonly number[], seed: number, offset = 0): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = randomData(n, seed);
  return Tensor.from(offset === 0 ? data : viewAt(data, offset), shape);
}

export interface Shaped {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Same shape, and every element the same float32 (any NaN matches any NaN; -0 !== +0). */
export function expectBitExact(actual: Shaped, expected: Shaped, label = ''): void {
  const prefix = label ? `${label}: ` : '';
  assert.deepStrictEqual([...actual.shape], [...expected.shape], `${prefix}shape`);
  assert.strictEqual(actual.data.length, expected.data.length, `${prefix}length`);
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      assert.fail(`${prefix}element ${i} of [${expected.shape.join(',')}] is ${a}, expected ${e}`);
    }
  }
}

/** Runs `fn` with runtime.setInlineLimit(limit), restoring the previous limit after. */
export function withInlineLimit<T>(limit: number, fn: () => T): T {
  const saved = runtime.inlineLimit();
  runtime.setInlineLimit(limit);
  try {
    return fn();
  } finally {
    runtime.setInlineLimit(saved);
  }
}

/**
 * Runs `fn` (which packs convs) with TENSORFUSE_CONV_WINOGRAD=tile, read at every packing:
 * tests of the F(4x4) kernel pack with it forced, whatever the automatic choice would be.
 */
export function withWinogradTile<T>(tile: 2 | 4, fn: () => T): T {
  const saved = process.env.TENSORFUSE_CONV_WINOGRAD;
  process.env.TENSORFUSE_CONV_WINOGRAD = String(tile);
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TENSORFUSE_CONV_WINOGRAD;
    else process.env.TENSORFUSE_CONV_WINOGRAD = saved;
  }
}

/** Calls global.gc a few times if node runs with --expose-gc; returns whether it could. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return false;
  for (let i = 0; i < 3; i++) gc();
  return true;
}

/** Asserts that `fn` throws an instance of `cls` whose message holds every string in `mentions`. */
export function expectThrows(fn: () => unknown, cls: typeof TypeError | typeof RangeError, mentions: readonly string[] = []): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) assert.fail(`expected a ${cls.name}, but nothing was thrown`);
  assertError(caught, cls, mentions);
  return caught as Error;
}

/** Asserts `err` is a `cls` (exactly that class, not a subclass of Error in general) mentioning each string. */
export function assertError(err: unknown, cls: typeof TypeError | typeof RangeError, mentions: readonly string[]): void {
  assert.ok(err instanceof Error, `expected a ${cls.name}, got ${String(err)}`);
  assert.strictEqual(err.constructor, cls, `expected a ${cls.name}, got ${err.constructor.name}: ${err.message}`);
  for (const m of mentions) {
    assert.ok(err.message.includes(m), `message ${JSON.stringify(err.message)} should mention ${JSON.stringify(m)}`);
  }
}
