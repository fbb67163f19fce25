// Strided channel views for the tests: inputs as channel ranges of a wider parent, outputs as
// channel ranges of a marked parent, and the checks that nothing outside an output view (and
// nothing of an input's parent) was written.
import * as assert from 'assert';
import * as fc from 'fast-check';
import { Tensor } from '../lib';
import { randomData, viewAt } from './helpers';
import { uniformTensor } from './fusion-util';

/** Where a view sits: `before` / `after` more parent channels around it, the parent `offset` floats into its buffer. */
export interface ViewPlacement {
  before: number;
  after: number;
  offset: number;
}

/** Mostly views (strided when N > 1), sometimes a plain tensor (no extra channels). */
export const placementArb: fc.Arbitrary<ViewPlacement> = fc.record({
  before: fc.integer({ min: 0, max: 3 }),
  after: fc.integer({ min: 0, max: 3 }),
  offset: fc.integer({ min: 0, max: 5 }),
});

/** What an output marker reads before an op writes. */
export const MARK = 1234.5;

function parentShape(shape: readonly number[], p: ViewPlacement): number[] {
  const s = shape.slice();
  s[1] += p.before + p.after;
  return s;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Channels [before, before + C) of a parent over `data` (placed `offset` floats into a marked buffer). */
function viewOver(data: Float32Array, shape: readonly number[], p: ViewPlacement): { view: Tensor; parent: Tensor } {
  const ps = parentShape(shape, p);
  const parent = Tensor.from(p.offset === 0 ? data : viewAt(data, p.offset), ps);
  return { view: parent.sliceChannels(p.before, p.before + shape[1]), parent };
}

/** An input view over random data with IEEE specials (for the bit-exact ops). */
export function randomView(shape: readonly number[], seed: number, p: ViewPlacement): { view: Tensor; parent: Tensor } {
  return viewOver(randomData(sizeOf(parentShape(shape, p)), seed), shape, p);
}

/** An input view over uniform values in [-scale, scale) (for convs and blocks). */
export function uniformView(shape: readonly number[], seed: number, p: ViewPlacement, scale = 1): { view: Tensor; parent: Tensor } {
  const ps = parentShape(shape, p);
  return viewOver(uniformTensor(ps, seed, scale).data, shape, p);
}

/** An output view whose parent holds MARK everywhere. */
export function markedView(shape: readonly number[], p: ViewPlacement): { view: Tensor; parent: Tensor } {
  return viewOver(new Float32Array(sizeOf(parentShape(shape, p))).fill(MARK), shape, p);
}

/** Whether parent element i (of parent.data) belongs to view `v` (a view of parent). */
function inView(parent: Tensor, v: Tensor, i: number): boolean {
  const start = (v.data.byteOffset - parent.data.byteOffset) / 4;
  const at = i - start;
  if (at < 0 || at >= v.data.length) return false;
  if (v.isContiguous) return true;
  return at % v.batchStride < v.size / v.shape[0];
}

/** Every element of `parent` outside `view` still holds MARK. */
export function expectOutsideUntouched(parent: Tensor, view: Tensor, label: string): void {
  const d = parent.data;
  for (let i = 0; i < d.length; i++) {
    if (!inView(parent, view, i) && !Object.is(d[i], MARK)) {
      assert.fail(`${label}: element ${i} of the parent ${JSON.stringify(parent.shape)}, outside the view ${JSON.stringify(view.shape)}, was overwritten with ${d[i]}`);
    }
  }
}

/** A copy of a tensor's memory, to check later that an op did not write it. */
export function memoryOf(t: Tensor): Float32Array {
  return new Float32Array(t.data);
}

/** t's memory equals `before` (NaNs compared as NaN). */
export function expectUnchanged(t: Tensor, before: Float32Array, label: string): void {
  const d = t.data;
  assert.strictEqual(d.length, before.length, `${label}: length`);
  for (let i = 0; i < d.length; i++) {
    if (!Object.is(d[i], before[i]) && !(Number.isNaN(d[i]) && Number.isNaN(before[i]))) {
      assert.fail(`${label}: element ${i} changed from ${before[i]} to ${d[i]}`);
    }
  }
}
