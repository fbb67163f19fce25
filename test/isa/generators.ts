// fast-check generators shared by the ISA property suites: shapes with sizes around the
// SIMD widths, broadcast patterns, memory placed at awkward offsets, and checks that
// nothing outside an output's window was written.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Conv2dActivation, Tensor, runtime } from '../../lib';
import { randomData, rng, viewAt } from '../helpers';

/** Every activation a conv epilogue takes. */
export const CONV_ACTIVATIONS: readonly Conv2dActivation[] = ['none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'];

/** Sizes one below, at and above the SIMD widths (4, 8, 16 floats and their multiples). */
export const SIMD_SIZES = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65] as const;

/** A dim: 0–9, or a size at a SIMD width ±1. */
export const dimArb = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(...SIMD_SIZES));

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * Shrinks the largest dims (outer ones first on ties) to a small size until the shape
 * holds at most `cap` elements, so random ranks and sizes stay cheap to check.
 */
export function capShape(shape: readonly number[], cap: number): number[] {
  const s = shape.slice();
  while (sizeOf(s) > cap) {
    let k = 0;
    for (let i = 1; i < s.length; i++) if (s[i] > s[k]) k = i;
    s[k] = (s[k] % 3) + 1;
  }
  return s;
}

/** A shape of rank minRank–maxRank with dims from dimArb and at most `cap` elements. */
export function shapeArb(minRank: number, maxRank: number, cap: number): fc.Arbitrary<number[]> {
  return fc.array(dimArb, { minLength: minRank, maxLength: maxRank }).map((s) => capShape(s, cap));
}

/** How an input is derived from the output shape: leading dims dropped, some dims set to 1. */
export interface BroadcastSide {
  drop: number;
  ones: boolean[];
}

export function broadcastSideArb(rank: number): fc.Arbitrary<BroadcastSide> {
  const full: BroadcastSide = { drop: 0, ones: new Array<boolean>(rank).fill(false) };
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(full) },
    {
      weight: 3,
      arbitrary: fc.record({
        drop: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: rank }) }),
        ones: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
      }),
    },
  );
}

export function applySide(shape: readonly number[], side: BroadcastSide): number[] {
  return shape.map((d, i) => (side.ones[i] ? 1 : d)).slice(side.drop);
}

/** n values uniform in [-1, 1); with an offset, that many elements into a larger, marked buffer. */
export function uniform(n: number, seed: number, offset = 0): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return offset === 0 ? a : viewAt(a, offset);
}

/** Memory for a tensor: random values at `offset` elements into a larger, marked buffer. */
export function placedTensor(shape: readonly number[], seed: number, offset: number): Tensor {
  return Tensor.from(viewAt(randomData(sizeOf(shape), seed), offset), shape);
}

/** An output tensor at `offset` into a buffer pre-filled with garbage (marked slack around it). */
export function placedOutput(shape: readonly number[], offset: number): Tensor {
  return Tensor.from(viewAt(new Float32Array(sizeOf(shape)).fill(1234.5), offset), shape);
}

/** The slack marker viewAt puts around a window. */
const SLACK = -7777;

/** Asserts that nothing in t's buffer outside t's window changed from viewAt's marker. */
export function expectSlackUntouched(t: Tensor, label: string): void {
  const all = new Float32Array(t.data.buffer, 0, t.data.buffer.byteLength / 4);
  const start = t.data.byteOffset / 4;
  const end = start + t.data.length;
  for (let i = 0; i < all.length; i++) {
    if ((i < start || i >= end) && all[i] !== SLACK) {
      assert.fail(`${label}: element ${i - start} relative to the window [0, ${t.data.length}) was overwritten with ${all[i]}`);
    }
  }
}

/** Number of property runs, scaled by TENSORFUSE_PROPERTY_RUNS_SCALE (default 1). */
export function runs(n: number): number {
  const scale = Number(process.env.TENSORFUSE_PROPERTY_RUNS_SCALE ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** The suite runs on the kernels TENSORFUSE_ISA asked for (when it is set). */
export function checkIsaSelection(): void {
  const want = process.env.TENSORFUSE_ISA;
  const info = runtime.info();
  if (want !== undefined && want !== '') assert.strictEqual(info.isa, want, `TENSORFUSE_ISA=${want} but runtime.info().isa is ${info.isa}`);
  else assert.strictEqual(info.isa, info.bestIsa);
}

/** Runs `fn` with `threads` pool threads, restoring the previous count after. */
export async function withThreads<T>(threads: number, fn: () => T | Promise<T>): Promise<T> {
  const saved = runtime.info().threads;
  runtime.setThreads(threads);
  try {
    assert.strictEqual(runtime.info().threads, threads);
    return await fn();
  } finally {
    runtime.setThreads(saved);
  }
}
