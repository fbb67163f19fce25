// Tensor: wrapping without copies, zeros/empty, reshape views, and every bad argument.
import * as assert from 'assert';
import { Tensor, add } from '../lib';
import { collectGarbage, expectThrows } from './helpers';

describe('Tensor', () => {
  describe('Tensor.from', () => {
    it('wraps the caller\'s Float32Array without copying', () => {
      const data = new Float32Array([1, 2, 3, 4, 5, 6]);
      const t = Tensor.from(data, [2, 3]);
      assert.strictEqual(t.data, data);
      data[4] = 42;
      assert.strictEqual(t.data[4], 42);
      t.data[0] = -1;
      assert.strictEqual(data[0], -1);
      assert.deepStrictEqual([...t.shape], [2, 3]);
      assert.strictEqual(t.size, 6);
      assert.strictEqual(t.rank, 2);
    });

    it('wraps a subarray view at an offset (same memory, not a copy)', () => {
      const backing = new Float32Array(10).map((_, i) => i);
      const view = backing.subarray(3, 9);
      const t = Tensor.from(view, [3, 2]);
      assert.strictEqual(t.data, view);
      backing[3] = 100;
      assert.strictEqual(t.data[0], 100);
      // An op writing into it writes into the backing buffer, and only its window.
      add(t, t, { out: t });
      assert.deepStrictEqual([...backing], [0, 1, 2, 200, 8, 10, 12, 14, 16, 9]);
    });

    it('keeps its own frozen copy of the shape', () => {
      const shape = [2, 3];
      const t = Tensor.from(new Float32Array(6), shape);
      shape[0] = 3;
      shape.push(1);
      assert.deepStrictEqual([...t.shape], [2, 3]);
      assert.ok(Object.isFrozen(t.shape));
    });

    it('accepts rank 0 (one element) and zero-size shapes', () => {
      const s = Tensor.from(new Float32Array([7]), []);
      assert.deepStrictEqual([...s.shape], []);
      assert.strictEqual(s.size, 1);
      const e = Tensor.from(new Float32Array(0), [3, 0, 2]);
      assert.strictEqual(e.size, 0);
      assert.deepStrictEqual([...e.shape], [3, 0, 2]);
    });

    it('accepts a Float32Array over a SharedArrayBuffer', () => {
      const data = new Float32Array(new SharedArrayBuffer(16));
      const t = Tensor.from(data, [4]);
      data[3] = 5;
      assert.strictEqual(t.data[3], 5);
    });

    it('rejects data that is not a Float32Array (TypeError naming data)', () => {
      for (const bad of [new Float64Array(6), [1, 2, 3, 4, 5, 6], new Uint8Array(24), null, undefined, 'abc', new ArrayBuffer(24)]) {
        expectThrows(() => Tensor.from(bad as unknown as Float32Array, [2, 3]), TypeError, ['Tensor.from', 'data', 'Float32Array']);
      }
    });

    it('rejects a shape that is not an array of numbers (TypeError naming shape)', () => {
      const data = new Float32Array(6);
      expectThrows(() => Tensor.from(data, 6 as unknown as number[]), TypeError, ['Tensor.from', 'shape']);
      expectThrows(() => Tensor.from(data, '2,3' as unknown as number[]), TypeError, ['Tensor.from', 'shape']);
      expectThrows(() => Tensor.from(data, undefined as unknown as number[]), TypeError, ['Tensor.from', 'shape']);
      expectThrows(() => Tensor.from(data, [2, '3'] as unknown as number[]), TypeError, ['Tensor.from', 'shape[1]']);
      expectThrows(() => Tensor.from(data, [null, 6] as unknown as number[]), TypeError, ['Tensor.from', 'shape[0]']);
    });

    it('rejects non-integer, negative, NaN and infinite dims (RangeError naming the dim and shape)', () => {
      const data = new Float32Array(6);
      expectThrows(() => Tensor.from(data, [2, 1.5, 2]), RangeError, ['Tensor.from', 'shape[1]', '1.5', '[2,1.5,2]']);
      expectThrows(() => Tensor.from(data, [-2, -3]), RangeError, ['Tensor.from', 'shape[0]', '-2', '[-2,-3]']);
      expectThrows(() => Tensor.from(data, [6, NaN]), RangeError, ['Tensor.from', 'shape[1]', 'NaN']);
      expectThrows(() => Tensor.from(data, [Infinity]), RangeError, ['Tensor.from', 'shape[0]', 'Infinity']);
      expectThrows(() => Tensor.from(data, [2 ** 60, 2 ** 60]), RangeError, ['Tensor.from', 'shape']);
    });

    it('rejects data whose length is not the product of the shape (RangeError naming both)', () => {
      const err = expectThrows(() => Tensor.from(new Float32Array(5), [2, 3]), RangeError, ['Tensor.from', 'data', '5', '[2,3]', '6']);
      assert.match(err.message, /data has 5 elements/);
      expectThrows(() => Tensor.from(new Float32Array(1), [0]), RangeError, ['[0]']);
      expectThrows(() => Tensor.from(new Float32Array(0), []), RangeError, ['[]']);
    });
  });

  describe('Tensor.zeros / Tensor.empty', () => {
    it('zeros gives a zero-filled tensor of the shape, small and large', () => {
      for (const shape of [[], [0], [3, 4], [1, 64, 32, 32]]) {
        const t = Tensor.zeros(shape);
        assert.deepStrictEqual([...t.shape], shape);
        assert.strictEqual(t.data.length, shape.reduce((p, d) => p * d, 1));
        assert.ok(t.data instanceof Float32Array);
        assert.ok(t.data.every((x) => Object.is(x, 0)));
      }
    });

    it('zeros is zero even when its memory is recycled from a dropped output', () => {
      const shape = [1, 16, 64, 64]; // 256 KiB: served by the native allocator and its cache
      for (let round = 0; round < 4; round++) {
        const dirty = Tensor.empty(shape);
        dirty.data.fill(NaN);
        collectGarbage();
        const z = Tensor.zeros(shape);
        assert.ok(z.data.every((x) => Object.is(x, 0)), `round ${round}`);
        assert.notStrictEqual(z.data, dirty.data);
      }
    });

    it('empty gives a writable tensor of the shape with its own memory', () => {
      for (const shape of [[], [5], [2, 0, 3], [1, 16, 64, 64]]) {
        const a = Tensor.empty(shape);
        const b = Tensor.empty(shape);
        assert.deepStrictEqual([...a.shape], shape);
        assert.strictEqual(a.size, shape.reduce((p, d) => p * d, 1));
        if (a.size > 0) {
          a.data.fill(1);
          b.data.fill(2);
          assert.ok(a.data.every((x) => x === 1), 'a and b must not share memory');
          assert.strictEqual(a.data[a.size - 1], 1);
        }
      }
    });

    it('large empty outputs are separate buffers of exactly the requested length', () => {
      const live = [Tensor.empty([300000]), Tensor.empty([300000]), Tensor.empty([300001])];
      live.forEach((t, i) => t.data.fill(i));
      live.forEach((t, i) => {
        assert.strictEqual(t.data.length, t.size);
        assert.strictEqual(t.data[0], i);
        assert.strictEqual(t.data[t.size - 1], i);
      });
    });

    it('reject bad shapes with a TypeError or RangeError naming the argument', () => {
      for (const [name, make] of [['Tensor.zeros', Tensor.zeros], ['Tensor.empty', Tensor.empty]] as const) {
        expectThrows(() => make('3' as unknown as number[]), TypeError, ['shape']);
        expectThrows(() => make([2, -1]), RangeError, ['shape[1]', '[2,-1]']);
        expectThrows(() => make([2.5]), RangeError, ['shape[0]', '[2.5]']);
        expectThrows(() => make([2 ** 40, 2 ** 40]), RangeError, ['shape']);
        // Each names the function the caller called.
        expectThrows(() => make([-1]), RangeError, [name]);
      }
    });
  });

  describe('reshape', () => {
    it('is a view on the same memory', () => {
      const data = new Float32Array(24).map((_, i) => i);
      const t = Tensor.from(data, [2, 3, 4]);
      const r = t.reshape([4, 6]);
      assert.strictEqual(r.data, t.data);
      assert.deepStrictEqual([...r.shape], [4, 6]);
      r.data[23] = -5;
      assert.strictEqual(t.data[23], -5);
      data[0] = 9;
      assert.strictEqual(r.data[0], 9);
      assert.deepStrictEqual([...t.shape], [2, 3, 4], 'the original keeps its shape');
    });

    it('infers one -1 dim', () => {
      const t = Tensor.zeros([2, 3, 4]);
      assert.deepStrictEqual([...t.reshape([-1]).shape], [24]);
      assert.deepStrictEqual([...t.reshape([4, -1]).shape], [4, 6]);
      assert.deepStrictEqual([...t.reshape([-1, 2, 3]).shape], [4, 2, 3]);
      assert.deepStrictEqual([...t.reshape([2, 3, 4, -1]).shape], [2, 3, 4, 1]);
      assert.deepStrictEqual([...Tensor.zeros([0, 3]).reshape([-1, 3]).shape], [0, 3]);
      assert.deepStrictEqual([...Tensor.zeros([0, 3]).reshape([-1]).shape], [0]);
      assert.deepStrictEqual([...Tensor.zeros([]).reshape([-1]).shape], [1]);
      assert.deepStrictEqual([...Tensor.zeros([1]).reshape([]).shape], []);
    });

    it('rejects a shape of another size (RangeError naming both shapes)', () => {
      const t = Tensor.zeros([2, 3]);
      expectThrows(() => t.reshape([4]), RangeError, ['reshape', '[2,3]', '[4]']);
      expectThrows(() => t.reshape([4, -1]), RangeError, ['reshape', '[2,3]', '[4,-1]']);
      expectThrows(() => t.reshape([0, -1]), RangeError, ['reshape', '[2,3]', '[0,-1]']);
      expectThrows(() => Tensor.zeros([0, 3]).reshape([-1, 0]), RangeError, ['reshape', '[0,3]', '[-1,0]']);
    });

    it('rejects bad dims (more than one -1, negative, fractional, not numbers)', () => {
      const t = Tensor.zeros([2, 3]);
      expectThrows(() => t.reshape([-1, -1]), RangeError, ['reshape', 'shape', '[-1,-1]']);
      expectThrows(() => t.reshape([-1, 2, -1]), RangeError, ['reshape', 'shape', '[-1,2,-1]']);
      expectThrows(() => t.reshape([-2, -3]), RangeError, ['reshape', 'shape[0]', '-2']);
      expectThrows(() => t.reshape([2, -1, -3]), RangeError, ['reshape', 'shape[2]', '-3']);
      expectThrows(() => t.reshape([1.5, 4]), RangeError, ['reshape', 'shape[0]', '1.5']);
      expectThrows(() => t.reshape(['6'] as unknown as number[]), TypeError, ['reshape', 'shape[0]']);
      expectThrows(() => t.reshape(6 as unknown as number[]), TypeError, ['reshape', 'shape']);
    });
  });
});
