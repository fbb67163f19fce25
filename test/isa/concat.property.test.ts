// concat against lib/reference over random shapes (rank 1–5, dims 0–9 and SIMD widths ±1),
// every axis (negative too), 1–5 inputs of different extents along the axis, given or
// fresh outputs and unaligned views; bit-exact (concat only moves floats). run-all.js runs
// this file once per ISA the CPU supports (TENSORFUSE_ISA).
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Tensor, concat, concatAsync, runtime } from '../../lib';
import * as ref from '../../lib/reference';
import { expectBitExact, withInlineLimit } from '../helpers';
import {
  checkIsaSelection, dimArb, expectSlackUntouched, placedOutput, placedTensor, runs, shapeArb, sizeOf, withThreads,
} from './generators';

interface Case {
  shape: number[];
  axis: number;
  /** Each input's size along the axis. */
  extents: number[];
  givenOut: boolean;
  offsets: number[];
  seed: number;
}

/** Elements per input at most: inputs are filled and checked in JS, which must stay quick. */
const INPUT_CAP = 1500;

/**
 * Halves the largest dim other than the axis until the shape, with its axis dim at the
 * largest extent, holds at most INPUT_CAP elements. shapeArb's own cap cannot do this: a
 * shape with a zero dim is empty whatever its other dims, and the axis dim is replaced by
 * each input's extent (a zero on the axis of [32,33,9,17,0] made 160k-element inputs,
 * and a property run of several seconds).
 */
function capAroundAxis(c: Case): Case {
  const axis = c.axis < 0 ? c.axis + c.shape.length : c.axis;
  const s = c.shape.slice();
  s[axis] = Math.max(1, ...c.extents);
  const size = () => s.reduce((p, d, i) => p * (i === axis ? d : Math.max(d, 1)), 1);
  while (size() > INPUT_CAP) {
    let k = -1;
    for (let i = 0; i < s.length; i++) if (i !== axis && (k < 0 || s[i] > s[k])) k = i;
    s[k] = Math.max(1, Math.floor(s[k] / 2));
  }
  s[axis] = c.shape[axis];
  return { ...c, shape: s };
}

const caseArb: fc.Arbitrary<Case> = shapeArb(1, 5, INPUT_CAP).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    axis: fc.integer({ min: -shape.length, max: shape.length - 1 }),
    extents: fc.array(dimArb, { minLength: 1, maxLength: 5 }),
    givenOut: fc.boolean(),
    offsets: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
    seed: fc.integer(),
  }).map(capAroundAxis),
);

function inputShape(c: Case, extent: number): number[] {
  const s = c.shape.slice();
  s[c.axis < 0 ? c.axis + s.length : c.axis] = extent;
  return s;
}

interface Prepared {
  inputs: Tensor[];
  before: Float32Array[];
  out?: Tensor;
  expected: ref.RefResult;
}

function prepare(c: Case): Prepared {
  const inputs = c.extents.map((e, i) => placedTensor(inputShape(c, e), c.seed + i, c.offsets[i]));
  const expected = ref.concat(inputs, c.axis);
  const out = c.givenOut ? placedOutput(expected.shape, c.offsets[5]) : undefined;
  return { inputs, before: inputs.map((t) => t.data.slice()), out, expected };
}

function verify(c: Case, p: Prepared, result: Tensor, label: string): void {
  const what = `${label} concat(${p.inputs.map((t) => `[${t.shape}]`).join(' ')}, axis ${c.axis})`;
  expectBitExact(result, p.expected, what);
  if (p.out !== undefined) {
    assert.strictEqual(result, p.out, `${what}: must return out`);
    expectSlackUntouched(result, what);
  }
  p.inputs.forEach((t, i) => {
    expectBitExact({ data: t.data, shape: t.shape }, { data: p.before[i], shape: t.shape }, `${what}: inputs[${i}] changed`);
    if (t.data.byteOffset > 0) expectSlackUntouched(t, `${what}: inputs[${i}]`);
  });
}

function runSync(c: Case): void {
  const p = prepare(c);
  verify(c, p, concat(p.inputs, c.axis, p.out ? { out: p.out } : undefined), 'sync');
}

async function runAsync(c: Case): Promise<void> {
  const p = prepare(c);
  verify(c, p, await concatAsync(p.inputs, c.axis, p.out ? { out: p.out } : undefined), 'async');
}

describe(`concat properties vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(20000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  it('sync, inline limit 0', () => {
    withInlineLimit(0, () => fc.assert(fc.property(caseArb, runSync), { numRuns: runs(300) }));
  });

  it(`sync, default inline limit (${runtime.inlineLimit()})`, () => {
    fc.assert(fc.property(caseArb, runSync), { numRuns: runs(150) });
  });

  it('async twin', async () => {
    await fc.assert(fc.asyncProperty(caseArb, runAsync), { numRuns: runs(150) });
  });

  it('every SIMD-edge inner length, on every axis of a rank-3 shape', () => {
    for (let n = 0; n <= 66; n++) {
      for (let axis = -3; axis < 3; axis++) {
        const c: Case = { shape: [2, n, 3], axis, extents: [n, 1, (n * 7) % 5], givenOut: n % 2 === 0, offsets: [1, 2, 3, 0, 1, 2], seed: n };
        runSync(c);
      }
    }
  });

  describe('large operands (> 2^18 elements: the thread pool runs)', () => {
    const cases: [number[][], number][] = [
      [[[2, 301, 300], [2, 200, 300]], 1],
      [[[2, 301, 300], [1, 301, 300]], 0],
      [[[3, 301, 100], [3, 301, 200], [3, 301, 7]], -1],
      [[[600, 1], [600, 450], [600, 0], [600, 33]], 1],
    ];
    for (const threads of [1, 2]) {
      for (const [shapes, axis] of cases) {
        it(`concat(${shapes.map((s) => `[${s}]`).join(' ')}, axis ${axis}), ${threads} thread(s), sync and async`, async () => {
          await withThreads(threads, async () => {
            const inputs = shapes.map((s, i) => placedTensor(s, 100 + i, i % 4));
            const expected = ref.concat(inputs, axis);
            assert.ok(sizeOf(expected.shape) > 2 ** 18);
            expectBitExact(concat(inputs, axis), expected, 'fresh');
            const out = placedOutput(expected.shape, 3);
            expectBitExact(await concatAsync(inputs, axis, { out }), expected, 'async into out');
            expectSlackUntouched(out, 'async into out');
          });
        });
      }
    }
  });
});
