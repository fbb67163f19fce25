// add / mul against lib/reference over random shapes (rank 0–5, dims 0–9 and SIMD widths
// ±1), random broadcast patterns, in-place outputs and unaligned views; bit-exact, since
// both sides do one float32 add or mul per element. run-all.js runs this file once per ISA
// the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Tensor, add, addAsync, mul, mulAsync, runtime } from '../../lib';
import * as ref from '../../lib/reference';
import { expectBitExact, withInlineLimit } from '../helpers';
import {
  BroadcastSide, applySide, broadcastSideArb, checkIsaSelection, expectSlackUntouched, placedOutput, placedTensor,
  runs, shapeArb, sizeOf, withThreads,
} from './generators';

type OutMode = 'fresh' | 'given' | 'a' | 'b' | 'a=b=out';

interface Case {
  op: 'add' | 'mul';
  shape: number[];
  sideA: BroadcastSide;
  sideB: BroadcastSide;
  outMode: OutMode;
  offsets: [number, number, number];
  seed: number;
}

const caseArb: fc.Arbitrary<Case> = shapeArb(0, 5, 6000).chain((shape) =>
  fc.record({
    op: fc.constantFrom('add' as const, 'mul' as const),
    shape: fc.constant(shape),
    sideA: broadcastSideArb(shape.length),
    sideB: broadcastSideArb(shape.length),
    outMode: fc.constantFrom<OutMode>('fresh', 'given', 'a', 'b', 'a=b=out'),
    offsets: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
    seed: fc.integer(),
  }),
);

interface Prepared {
  a: Tensor;
  b: Tensor;
  out?: Tensor;
  expected: ref.RefResult;
  /** Copies of the inputs that must not change (those that are not the output). */
  unchanged: [Tensor, Float32Array][];
}

function prepare(c: Case): Prepared {
  const full = { drop: 0, ones: c.shape.map(() => false) };
  // An input that is also the output must have the output's (full) shape.
  const sideA = c.outMode === 'a' || c.outMode === 'a=b=out' ? full : c.sideA;
  const sideB = c.outMode === 'b' ? full : c.sideB;
  const a = placedTensor(applySide(c.shape, sideA), c.seed, c.offsets[0]);
  const b = c.outMode === 'a=b=out' ? a : placedTensor(applySide(c.shape, sideB), c.seed ^ 0x5bd1e995, c.offsets[1]);
  const expected = (c.op === 'add' ? ref.add : ref.mul)(a, b);
  let out: Tensor | undefined;
  if (c.outMode === 'given') out = placedOutput(expected.shape, c.offsets[2]);
  else if (c.outMode === 'a' || c.outMode === 'a=b=out') out = a;
  else if (c.outMode === 'b') out = b;
  const unchanged: [Tensor, Float32Array][] = [];
  for (const t of [a, b]) if (t !== out) unchanged.push([t, t.data.slice()]);
  return { a, b, out, expected, unchanged };
}

function verify(c: Case, p: Prepared, result: Tensor, label: string): void {
  const what = `${label} ${c.op} [${p.a.shape}] [${p.b.shape}] out=${c.outMode}`;
  expectBitExact(result, p.expected, what);
  if (p.out !== undefined) assert.strictEqual(result, p.out, `${what}: must return out`);
  for (const [t, before] of p.unchanged) expectBitExact({ data: t.data, shape: t.shape }, { data: before, shape: t.shape }, `${what}: input changed`);
  // The slack around the views this test placed (offset inputs, a given out): a fresh output
  // starts wherever its 64-byte alignment put it, with whatever the allocator left around it.
  for (const t of [p.a, p.b]) if (t.data.byteOffset > 0) expectSlackUntouched(t, what);
  if (p.out !== undefined) expectSlackUntouched(result, what);
}

function runSync(c: Case): void {
  const p = prepare(c);
  const f = c.op === 'add' ? add : mul;
  verify(c, p, f(p.a, p.b, p.out ? { out: p.out } : undefined), 'sync');
}

async function runAsync(c: Case): Promise<void> {
  const p = prepare(c);
  const f = c.op === 'add' ? addAsync : mulAsync;
  verify(c, p, await f(p.a, p.b, p.out ? { out: p.out } : undefined), 'async');
}

describe(`add / mul properties vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(20000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  it('sync, inline limit 0: every size through the native kernels', () => {
    withInlineLimit(0, () => fc.assert(fc.property(caseArb, runSync), { numRuns: runs(300) }));
  });

  it(`sync, default inline limit (${runtime.inlineLimit()})`, () => {
    fc.assert(fc.property(caseArb, runSync), { numRuns: runs(200) });
  });

  it('async twins', async () => {
    await fc.assert(fc.asyncProperty(caseArb, runAsync), { numRuns: runs(150) });
  });

  it('every SIMD-edge length, same shape, in place and not, at every offset', () => {
    withInlineLimit(0, () => {
      for (let n = 0; n <= 70; n++) {
        for (const op of ['add', 'mul'] as const) {
          for (const outMode of ['fresh', 'given', 'a', 'b'] as const) {
            const c: Case = { op, shape: [n], sideA: { drop: 0, ones: [false] }, sideB: { drop: 0, ones: [false] }, outMode, offsets: [n % 4, (n + 1) % 4, (n + 2) % 4], seed: n };
            runSync(c);
          }
        }
      }
    });
  });

  it('every SIMD-edge inner length with a broadcast row and a broadcast scalar', () => {
    withInlineLimit(0, () => {
      for (let n = 1; n <= 70; n++) {
        for (const op of ['add', 'mul'] as const) {
          // [3, n] with [n] (vector-vector rows), [3, n] with [3, 1] (vector-scalar rows), [n] with [] (scalar).
          for (const [sb, drop] of [[[false, false], 1], [[false, true], 0], [[true, true], 2]] as const) {
            runSync({ op, shape: [3, n], sideA: { drop: 0, ones: [false, false] }, sideB: { drop, ones: [...sb] }, outMode: 'fresh', offsets: [1, 2, 3], seed: n });
            runSync({ op, shape: [3, n], sideA: { drop, ones: [...sb] }, sideB: { drop: 0, ones: [false, false] }, outMode: 'b', offsets: [3, 1, 0], seed: n });
          }
        }
      }
    });
  });

  describe('large operands (> 2^18 elements: the thread pool runs)', () => {
    const shapes: [number[], number[]][] = [
      [[3, 301, 300], [3, 301, 300]], // same shape: one long run split across threads
      [[3, 301, 300], [301, 1]], // a scalar per row
      [[3, 1, 300], [3, 301, 300]], // a broadcast row
      [[1, 270001], [1]], // a scalar for everything
    ];
    for (const threads of [1, 2]) {
      for (const [sa, sb] of shapes) {
        for (const op of ['add', 'mul'] as const) {
          it(`${op} [${sa}] with [${sb}], ${threads} thread(s), fresh and in place, sync and async`, async () => {
            await withThreads(threads, async () => {
              const a = placedTensor(sa, 11, 1);
              const b = placedTensor(sb, 12, 2);
              const expected = (op === 'add' ? ref.add : ref.mul)(a, b);
              assert.ok(sizeOf(expected.shape) > 2 ** 18);
              withInlineLimit(0, () => expectBitExact((op === 'add' ? add : mul)(a, b), expected, 'fresh'));
              expectBitExact(await (op === 'add' ? addAsync : mulAsync)(a, b), expected, 'async');
              const big = sizeOf(sa) >= sizeOf(sb) ? a : b;
              if (sizeOf(big.shape) === sizeOf(expected.shape)) {
                const r = (op === 'add' ? add : mul)(a, b, { out: big });
                assert.strictEqual(r, big);
                expectBitExact(r, expected, 'in place');
                expectSlackUntouched(r, 'in place');
              }
            });
          });
        }
      }
    }
  });
});
