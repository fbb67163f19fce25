// Limits (issue 7): sizes past 2^31 elements are computed with 64-bit indexing or rejected with
// a RangeError, never with a wrapped index.
//
// Audit (native/kernels, native/binding, native/runtime): every size, index, stride and offset
// is int64_t or size_t; shapes arrive as doubles checked to be integers < 2^53 with products
// < 2^62 (binding/args.cc), concat/split products are overflow-checked, conv2d attributes are
// bounded by 2^31 so products of two stay in int64, and the only 32-bit ints are thread counts
// and SIMD lane masks (< 16). So the kernels index past 2^31 correctly; the tests below read
// past element 2^31 of a real buffer (a lazily zero-filled 8 GiB JS array: only the touched
// pages become resident) and drive the binding with shapes whose products pass 2^31, 2^32 and
// 2^62 against tiny buffers.
import * as assert from 'assert';
import { Tensor, maxPool2d, resize, slice } from '../lib';
import { native } from '../lib/native';
import { assertError, expectThrows } from './helpers';

const BIG = 2 ** 31 + 64; // elements
/** Under ASan (scripts/sanitize-js.sh) an 8 GiB allocation means 1 GiB of shadow to poison: skipped there. */
const UNDER_ASAN = /libasan/.test(process.env.LD_PRELOAD ?? '');

describe('limits: sizes past 2^31 elements', function () {
  this.timeout(30000);

  it('large tensor buffers start on a 64-byte boundary of a buffer of their own', () => {
    for (const n of [16384, 16385, 200704, 1 << 22]) {
      const t = Tensor.empty([n]);
      assert.strictEqual(t.data.length, n);
      assert.strictEqual(t.data.byteOffset, native.alignmentOffset(t.data.buffer as ArrayBuffer), `${n} elements`);
      assert.ok(t.data.byteOffset < 64 && t.data.buffer.byteLength >= t.data.byteOffset + 4 * n);
    }
  });

  it('Tensor.empty of 2^31 + 64 elements works (a JS-heap array); past 2^32 elements it is a RangeError', function () {
    if (UNDER_ASAN) this.skip();
    const t = Tensor.empty([2, 2 ** 30 + 32]);
    assert.strictEqual(t.size, BIG);
    assert.strictEqual(t.data.length, BIG);
    expectThrows(() => Tensor.empty([2 ** 32 + 16]), RangeError);
    expectThrows(() => Tensor.zeros([65536, 65536, 2]), RangeError);
    expectThrows(() => Tensor.empty([2 ** 53]), RangeError, ['Tensor.empty']);
  });

  describe('kernels index past element 2^31 of a real 8 GiB input', () => {
    let x: Tensor;
    before(function () {
      if (UNDER_ASAN) this.skip();
      const data = new Float32Array(BIG); // calloc'd: untouched pages cost no memory
      for (let i = BIG - 64; i < BIG; i++) data[i] = i - (BIG - 64) + 1; // 1..64 in the last 64
      x = Tensor.from(data, [1, 1, 2 ** 25 + 1, 64]);
    });
    after(() => {
      x = undefined as unknown as Tensor;
    });

    it('slice of the last row', () => {
      const y = slice(x, { starts: [2 ** 25], ends: [2 ** 25 + 1], axes: [2] });
      assert.deepStrictEqual([...y.shape], [1, 1, 1, 64]);
      assert.deepStrictEqual([...y.data], Array.from({ length: 64 }, (_, i) => i + 1));
      const z = slice(x, { starts: [-1, -1], ends: [-(2 ** 40), -65], axes: [2, 3], steps: [-(2 ** 24), -16] });
      assert.deepStrictEqual([...z.shape], [1, 1, 3, 4]);
      assert.deepStrictEqual([...z.data.slice(0, 4)], [64, 48, 32, 16]);
    });

    it('maxPool2d with a stride that lands past 2^31', () => {
      const y = maxPool2d(x, { kernel: [1, 1], strides: [2 ** 24, 63] });
      assert.deepStrictEqual([...y.shape], [1, 1, 3, 2]);
      assert.deepStrictEqual([...y.data], [0, 0, 0, 0, 1, 64]);
    });

    it('nearest resize down to a few pixels reads the last row', () => {
      const y = resize(x, { sizes: [2, 2], mode: 'nearest', coordinateTransformationMode: 'align_corners', nearestMode: 'floor' });
      assert.deepStrictEqual([...y.data], [0, 0, 1, 64]);
    });
  });

  describe('the binding rejects shapes past 2^31 (and past 2^62) that do not match their buffers', () => {
    const tiny = new Float32Array(4);
    const huge2 = [65536, 32768]; // 2^31
    const huge4 = [1, 2, 65536, 65536]; // 2^33

    const cases: [string, () => unknown][] = [
      ['binary: a shape 2^31', () => native.binary(0, tiny, huge2, tiny, [4], tiny, false)],
      ['binary: product past 2^62', () => native.binary(0, tiny, [2 ** 31, 2 ** 31, 4], tiny, [1], tiny, false)],
      ['binary: out wraps to 2^32 + 4 elements', () => native.binary(1, tiny, [2 ** 32 + 4], tiny, [1], tiny, false)],
      ['binarySame: lengths differ', () => native.binarySame(0, tiny, new Float32Array(5), tiny)],
      ['concat: outer * extent overflows int64', () => native.concat([tiny], [2 ** 52], 2 ** 52, tiny, false)],
      ['concat: outer * extent = 2^32 + 4 (wraps to 4 in 32 bits)', () => native.concat([tiny], [2 ** 16], 2 ** 16 + 1, tiny, false)],
      ['unary: out length differs', () => native.unary(0, tiny, new Float32Array(2), false)],
      ['softmax: dims 2^31 * 2^31 * 4', () => native.softmax(tiny, 2 ** 31, 2 ** 31, 4, tiny, false)],
      ['softmax: dims 2^32 * 1 * 4', () => native.softmax(tiny, 2 ** 32 + 1, 1, 4, tiny, false)],
      ['weightedSum: 2^31 planes', () => native.weightedSum([tiny], [tiny], 2 ** 31, 1, 2, tiny, false)],
      ['pool2d: x shape 2^33', () => native.pool2d(0, 0, tiny, huge4, [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], tiny, false)],
      ['pool2d NHWC: x shape 2^33', () => native.pool2d(1, 1, tiny, huge4, [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], tiny, false)],
      ['pool2d: params 2^31', () => native.pool2d(1, 0, tiny, [1, 1, 2, 2], [2 ** 31 + 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0], tiny, false)],
      ['globalPool: 2^31 planes of 2^31', () => native.globalPool(0, tiny, 2 ** 31, 2 ** 31, tiny, false)],
      ['lrn: dims 2^32 * 1 * 4', () => native.lrn(tiny, 2 ** 32 + 1, 1, 4, 5, [1e-4, 0.75, 1], tiny, false)],
      ['resize: output 2^33', () => native.resize(tiny, [1, 1, 2, 2], [65536, 131072], [32768, 65536], 0, 1, 2, tiny, false)],
      ['slice: x shape 2^31', () => native.slice(tiny, huge2, [0, 0], [1, 1], [2, 2], tiny, false)],
      ['split: outer * extents 2^32 + 4', () => native.split(tiny, 2 ** 16 + 1, [2 ** 16], [tiny], false)],
      ['conv2dRun: x shape 2^33', () => native.conv2dRun(native.conv2dCreate(tiny, [1, 1, 2, 2], null, [0, 1, 1, 1, 1, 1, 0, 0]), tiny, [1, 1, 65536, 131072], [0, 0, 0, 0], tiny, false)],
      ['conv2dRun: pads past 2^31', () => native.conv2dRun(native.conv2dCreate(tiny, [1, 1, 2, 2], null, [0, 1, 1, 1, 1, 1, 0, 0]), tiny, [1, 1, 2, 2], [2 ** 31 + 1, 0, 0, 0], tiny, false)],
      ['conv2dCreate: kernel 2^32 x 1 over 4 floats', () => native.conv2dCreate(tiny, [1, 1, 2 ** 32, 1], null, [0, 1, 1, 1, 1, 1, 0, 0])],
      ['conv2dCreate: stride 2^40', () => native.conv2dCreate(tiny, [1, 1, 2, 2], null, [0, 1, 2 ** 40, 1, 1, 1, 0, 0])],
    ];
    for (const [label, call] of cases) {
      it(label, () => {
        let err: unknown;
        try {
          call();
        } catch (e) {
          err = e;
        }
        assert.ok(err !== undefined, `${label}: accepted`);
        assert.ok(err instanceof RangeError || err instanceof TypeError, `${label}: ${String(err)}`);
      });
    }

    it('async variants reject the same way', async () => {
      await assert.rejects(async () => native.binary(0, tiny, huge2, tiny, [4], tiny, true), RangeError);
      await assert.rejects(async () => native.concat([tiny], [2 ** 16], 2 ** 16 + 1, tiny, true), RangeError);
      await assert.rejects(async () => native.slice(tiny, huge2, [0, 0], [1, 1], [2, 2], tiny, true), RangeError);
    });

    it('a tensor whose shape lies (> 2^31 elements over 4 floats) is rejected by the native re-checks', () => {
      const t = Tensor.from(new Float32Array(4), [4]);
      (t as unknown as { shape: readonly number[] }).shape = Object.freeze([2, 2 ** 30 + 32]);
      let err: unknown;
      try {
        resize(t.reshape([1, 1, 2, 2]), { sizes: [1, 1] });
        slice(t, { starts: [0, 2 ** 30], ends: [1, 2 ** 30 + 2] });
      } catch (e) {
        err = e;
      }
      assert.ok(err !== undefined);
      assertError(err, RangeError, []);
    });
  });
});
