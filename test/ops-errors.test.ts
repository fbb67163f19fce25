// Every bad input the foundation issue lists gets a TypeError or RangeError naming the
// argument and the shapes, from the sync ops (thrown) and their async twins (rejected);
// IEEE special values and zero-size dims behave; and the raw native functions reject
// wrong calls with an exception instead of touching memory out of bounds.
import * as assert from 'assert';
import { Tensor, add, addAsync, concat, concatAsync, mul, mulAsync } from '../lib';
import { native } from '../lib/native';
import { assertError, expectThrows, withInlineLimit } from './helpers';

type ErrorClass = typeof TypeError | typeof RangeError;
type OpName = 'add' | 'mul' | 'concat';

const SYNC: Record<OpName, (...args: any[]) => Tensor> = { add, mul, concat };
const ASYNC: Record<OpName, (...args: any[]) => Promise<Tensor>> = { add: addAsync, mul: mulAsync, concat: concatAsync };

interface BadCall {
  title: string;
  op: OpName;
  args: () => unknown[];
  error: ErrorClass;
  /** Strings the message must contain: the argument's name and the shapes involved. */
  mentions: string[];
}

const t = (shape: number[], fill = 1): Tensor => {
  const x = Tensor.zeros(shape);
  x.data.fill(fill);
  return x;
};

/** A tensor whose buffer has been transferred away (detached): its memory is gone. */
function detached(shape: number[]): Tensor {
  const x = Tensor.from(new Float32Array(shape.reduce((p, d) => p * d, 1)), shape);
  structuredClone(x.data.buffer, { transfer: [x.data.buffer as ArrayBuffer] });
  return x;
}

/** Tensors over one shared buffer: `count` elements starting at element `start`. */
function window(buffer: ArrayBuffer, start: number, shape: number[]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return Tensor.from(new Float32Array(buffer, start * 4, n), shape);
}

const notTensors: [string, unknown][] = [
  ['null', null],
  ['undefined', undefined],
  ['a number', 3],
  ['a Float32Array', new Float32Array(6)],
  ['a look-alike object', { data: new Float32Array(6), shape: [2, 3], size: 6 }],
];

function badCalls(): BadCall[] {
  const calls: BadCall[] = [];
  for (const op of ['add', 'mul'] as const) {
    for (const [what, v] of notTensors) {
      calls.push({ title: `${op}: a is ${what}`, op, args: () => [v, t([2, 3])], error: TypeError, mentions: ['a', 'Tensor'] });
      calls.push({ title: `${op}: b is ${what}`, op, args: () => [t([2, 3]), v], error: TypeError, mentions: ['b', 'Tensor'] });
    }
    calls.push({ title: `${op}: out is not a Tensor`, op, args: () => [t([2, 3]), t([2, 3]), { out: new Float32Array(6) }], error: TypeError, mentions: ['out', 'Tensor'] });
    calls.push({ title: `${op}: options is not an object`, op, args: () => [t([2, 3]), t([2, 3]), 7], error: TypeError, mentions: ['options'] });
    calls.push({ title: `${op}: a's buffer was detached`, op, args: () => [detached([2, 3]), t([2, 3])], error: RangeError, mentions: ['a', '[2,3]'] });
    calls.push({ title: `${op}: b's buffer was detached`, op, args: () => [t([2, 3]), detached([2, 3])], error: RangeError, mentions: ['b', '[2,3]'] });
    calls.push({ title: `${op}: out's buffer was detached`, op, args: () => [t([2, 3]), t([2, 3]), { out: detached([2, 3]) }], error: RangeError, mentions: ['out', '[2,3]'] });
    for (const [sa, sb] of [[[2, 3], [3, 2]], [[4], [3]], [[2, 1, 5], [3, 4]], [[0], [2]], [[1, 2, 3, 4], [1, 2, 1, 5]]]) {
      calls.push({
        title: `${op}: shapes [${sa}] and [${sb}] are not broadcastable`, op, args: () => [t(sa), t(sb)], error: RangeError,
        mentions: ['broadcast', `[${sa}]`, `[${sb}]`],
      });
    }
    calls.push({ title: `${op}: out of the wrong shape`, op, args: () => [t([2, 3]), t([2, 3]), { out: t([3, 2]) }], error: RangeError, mentions: ['out', '[3,2]', '[2,3]'] });
    calls.push({ title: `${op}: out of the wrong rank (same size)`, op, args: () => [t([2, 3]), t([2, 3]), { out: t([6]) }], error: RangeError, mentions: ['out', '[6]', '[2,3]'] });
    calls.push({ title: `${op}: out of the unbroadcast input's shape`, op, args: () => [t([2, 3]), t([3]), { out: t([3]) }], error: RangeError, mentions: ['out', '[3]', '[2,3]'] });
    calls.push({ title: `${op}: out of the wrong shape, tiny (inline path)`, op, args: () => [t([4]), t([4]), { out: t([5]) }], error: RangeError, mentions: ['out', '[5]', '[4]'] });
    calls.push({
      title: `${op}: out partially overlaps a`, op, error: RangeError, mentions: ['out', 'overlaps', 'a', '[8]'],
      args: () => {
        const buf = new ArrayBuffer(12 * 4);
        return [window(buf, 0, [8]), t([8]), { out: window(buf, 4, [8]) }];
      },
    });
    calls.push({
      title: `${op}: out partially overlaps b (large, native path)`, op, error: RangeError, mentions: ['out', 'overlaps', 'b', '[1000]'],
      args: () => {
        const buf = new ArrayBuffer(1001 * 4);
        return [t([1000]), window(buf, 1, [1000]), { out: window(buf, 0, [1000]) }];
      },
    });
    calls.push({
      title: `${op}: out overlaps b with another shape, same start`, op, error: RangeError, mentions: ['out', 'overlaps', 'b'],
      args: () => {
        const buf = new ArrayBuffer(6 * 4);
        // b [3] broadcasts over out [2,3], and out's first row is b's memory.
        return [t([2, 3]), window(buf, 0, [3]), { out: window(buf, 0, [2, 3]) }];
      },
    });
  }

  const c = (title: string, args: () => unknown[], error: ErrorClass, mentions: string[]) =>
    calls.push({ title: `concat: ${title}`, op: 'concat', args, error, mentions });
  c('inputs is not an array', () => [t([2]), 0], TypeError, ['inputs', 'array']);
  c('inputs is a Float32Array', () => [new Float32Array(2), 0], TypeError, ['inputs']);
  c('empty input list', () => [[], 0], RangeError, ['inputs', 'at least one']);
  for (const [what, v] of notTensors) {
    c(`inputs[1] is ${what}`, () => [[t([2]), v], 0], TypeError, ['inputs[1]', 'Tensor']);
  }
  c('inputs[0] was detached', () => [[detached([2]), t([2])], 0], RangeError, ['inputs[0]', '[2]']);
  c('inputs differ off the axis', () => [[t([2, 3]), t([2, 4])], 0], RangeError, ['inputs[1]', '[2,4]', '[2,3]', 'axis 0']);
  c('inputs differ off a negative axis', () => [[t([2, 3, 4]), t([2, 5, 4]), t([3, 3, 4])], -2], RangeError, ['inputs[2]', '[3,3,4]', '[2,3,4]', 'axis 1']);
  c('inputs differ in rank', () => [[t([2, 3]), t([2, 3, 1])], 1], RangeError, ['inputs[1]', '[2,3,1]', '[2,3]']);
  c('axis = rank', () => [[t([2, 3]), t([2, 3])], 2], RangeError, ['axis', '2', 'rank 2']);
  c('axis < -rank', () => [[t([2, 3]), t([2, 3])], -3], RangeError, ['axis', '-3', 'rank 2']);
  c('axis is fractional', () => [[t([2, 3])], 0.5], TypeError, ['axis', 'integer']);
  c('axis is a string', () => [[t([2, 3])], '1'], TypeError, ['axis', 'integer']);
  c('axis is missing', () => [[t([2, 3])]], TypeError, ['axis', 'integer']);
  c('axis is NaN', () => [[t([2, 3])], NaN], TypeError, ['axis', 'integer']);
  c('scalar inputs', () => [[t([]), t([])], 0], RangeError, ['rank']);
  c('out of the wrong shape', () => [[t([2, 3]), t([2, 3])], 0, { out: t([2, 6]) }], RangeError, ['out', '[2,6]', '[4,3]']);
  c('out is not a Tensor', () => [[t([2, 3])], 0, { out: [0, 0, 0, 0, 0, 0] }], TypeError, ['out', 'Tensor']);
  c('options is not an object', () => [[t([2, 3])], 0, 'fast'], TypeError, ['options']);
  c('out overlaps inputs[0]', () => {
    const buf = new ArrayBuffer(8 * 4);
    return [[window(buf, 0, [2, 2]), t([2, 2])], 1, { out: window(buf, 0, [2, 4]) }];
  }, RangeError, ['out', 'overlaps', 'inputs[0]', '[2,2]']);
  c('out overlaps the tail of inputs[2]', () => {
    const buf = new ArrayBuffer(20 * 4);
    return [[t([3]), t([3]), window(buf, 0, [4])], 0, { out: window(buf, 3, [10]) }];
  }, RangeError, ['out', 'overlaps', 'inputs[2]', '[4]']);
  c('out is one of the inputs (single-input concat)', () => {
    const x = t([2, 3]);
    return [[x], 0, { out: x }];
  }, RangeError, ['out', 'overlaps', 'inputs[0]']);
  return calls;
}

describe('bad input: every error the foundation issue lists', () => {
  for (const call of badCalls()) {
    it(`${call.title} → ${call.error.name}`, async () => {
      // Sync: thrown, with the op's name in the message.
      expectThrows(() => SYNC[call.op](...call.args()), call.error, [call.op, ...call.mentions]);
      // The same under the native-kernel path (no JS fast path in front of the checks).
      withInlineLimit(0, () => expectThrows(() => SYNC[call.op](...call.args()), call.error, call.mentions));
      // Async: returns a promise that rejects (never throws synchronously) with the same class.
      let promise: Promise<Tensor> | undefined;
      assert.doesNotThrow(() => {
        promise = ASYNC[call.op](...call.args());
      }, `${call.op}Async must not throw synchronously`);
      assert.ok(promise instanceof Promise);
      await promise!.then(
        () => assert.fail(`${call.op}Async resolved; expected a ${call.error.name}`),
        (err: unknown) => assertError(err, call.error, [`${call.op}Async`, ...call.mentions]),
      );
    });
  }

  it('a rejected bad call leaves out untouched', () => {
    const out = t([3, 2], 5);
    expectThrows(() => add(t([2, 3]), t([2, 3]), { out }), RangeError);
    const buf = new ArrayBuffer(12 * 4);
    const o = window(buf, 4, [8]);
    o.data.fill(9);
    expectThrows(() => add(window(buf, 0, [8]), t([8]), { out: o }), RangeError);
    assert.ok(out.data.every((x) => x === 5) && o.data.every((x) => x === 9));
  });
});

describe('allowed aliasing', () => {
  it('out may be a or b exactly, or another view of exactly the same memory', () => {
    for (const n of [5, 1000]) {
      const a = t([n], 2);
      const b = t([n], 3);
      add(a, b, { out: a });
      assert.ok(a.data.every((x) => x === 5));
      mul(a, b, { out: b });
      assert.ok(b.data.every((x) => x === 15));
      add(a, a, { out: a });
      assert.ok(a.data.every((x) => x === 10));
      const sameMemory = Tensor.from(new Float32Array(a.data.buffer, a.data.byteOffset, n), [n]);
      add(a, b, { out: sameMemory });
      assert.ok(a.data.every((x) => x === 25));
    }
  });

  it('out may be a while b broadcasts into it', () => {
    const a = Tensor.from(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = Tensor.from(new Float32Array([10, 20, 30]), [3]);
    add(a, b, { out: a });
    assert.deepStrictEqual([...a.data], [11, 22, 33, 14, 25, 36]);
  });

  it('concat accepts out in the same buffer as an input when they do not overlap', () => {
    const buf = new ArrayBuffer(10 * 4);
    const a = window(buf, 0, [2]);
    a.data.set([1, 2]);
    const b = t([2], 3);
    const out = window(buf, 2, [4]);
    concat([a, b], 0, { out });
    assert.deepStrictEqual([...new Float32Array(buf).subarray(0, 6)], [1, 2, 1, 2, 3, 3]);
  });
});

describe('IEEE special values pass through', () => {
  const max = 3.4028234663852886e38;
  const tiny = 1.401298464324817e-45; // smallest subnormal float32
  const xs = [NaN, Infinity, -Infinity, Infinity, -0, -0, 0, max, tiny, tiny, 1.1754942106924411e-38, 5, NaN];
  const ys = [1, 1, 1, -Infinity, -0, 0, -0, max, 0, tiny, -1.1754942106924411e-38, 0, NaN];
  const sums = [NaN, Infinity, -Infinity, NaN, -0, 0, 0, Infinity, tiny, 2 * tiny, 0, 5, NaN];
  const products = [NaN, Infinity, -Infinity, -Infinity, 0, -0, -0, Infinity, 0, 0, -0, 0, NaN];

  const check = (got: Float32Array, want: number[], label: string) => {
    want.forEach((w, i) => {
      const g = got[i];
      assert.ok(Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)), `${label}[${i}]: ${g}, expected ${w}`);
    });
  };

  for (const limit of [0, 1 << 20]) {
    for (const repeat of [1, 9]) { // 13 and 117 elements: SIMD bodies and tails
      it(`add and mul, ${13 * repeat} elements, inline limit ${limit}`, async () => {
        const rep = (v: number[]) => Array.from({ length: repeat }, () => v).flat();
        const a = Tensor.from(Float32Array.from(rep(xs)), [13 * repeat]);
        const b = Tensor.from(Float32Array.from(rep(ys)), [13 * repeat]);
        withInlineLimit(limit, () => {
          check(add(a, b).data, rep(sums), 'add');
          check(mul(a, b).data, rep(products), 'mul');
        });
        check((await addAsync(a, b)).data, rep(sums), 'addAsync');
        check((await mulAsync(a, b)).data, rep(products), 'mulAsync');
        // Broadcast path: b as [1, n] against a as [2, n].
        const a2 = Tensor.from(Float32Array.from([...rep(xs), ...rep(xs)]), [2, 13 * repeat]);
        check(add(a2, b).data, [...rep(sums), ...rep(sums)], 'add broadcast');
        check(mul(a2, b).data, [...rep(products), ...rep(products)], 'mul broadcast');
      });
    }
  }

  it('concat copies NaN, infinities and -0 unchanged', () => {
    const a = Tensor.from(Float32Array.from(xs), [13]);
    const out = concat([a, a], 0);
    check(out.data, [...xs, ...xs], 'concat');
    // NaN payloads survive the copy bit for bit.
    const bits = new Uint32Array([0x7fc00001, 0xffc12345, 0x7f800001]);
    const nans = Tensor.from(new Float32Array(bits.buffer), [3]);
    const copied = concat([nans, nans], 0);
    assert.deepStrictEqual([...new Uint32Array(copied.data.buffer, copied.data.byteOffset, 6)], [...bits, ...bits]);
  });
});

describe('zero-size dims give an empty result', () => {
  const empties: [number[], number[], number[]][] = [
    [[0], [0], [0]],
    [[0, 3], [0, 3], [0, 3]],
    [[0, 3], [1, 3], [0, 3]],
    [[0, 3], [3], [0, 3]],
    [[2, 0], [2, 1], [2, 0]],
    [[2, 1, 4], [0, 1], [2, 0, 4]],
    [[1], [0], [0]],
    [[], [0, 5], [0, 5]],
  ];
  for (const [sa, sb, so] of empties) {
    it(`add/mul [${sa}] with [${sb}] → [${so}]`, async () => {
      for (const limit of [0, 256]) {
        withInlineLimit(limit, () => {
          for (const op of [add, mul]) {
            const r = op(t(sa), t(sb));
            assert.deepStrictEqual([...r.shape], so);
            assert.strictEqual(r.data.length, r.shape.reduce((p, d) => p * d, 1));
          }
        });
      }
      const r = await addAsync(t(sa), t(sb), { out: Tensor.empty(so) });
      assert.deepStrictEqual([...r.shape], so);
    });
  }

  it('concat with zero-size inputs', async () => {
    assert.deepStrictEqual([...concat([t([0, 2]), t([0, 2])], 0).shape], [0, 2]);
    assert.deepStrictEqual([...concat([t([0, 2]), t([0, 3])], 1).shape], [0, 5]);
    assert.deepStrictEqual([...concat([t([2, 0]), t([2, 0])], 1).shape], [2, 0]);
    const b = Tensor.from(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const r = concat([t([2, 0]), b, t([2, 0])], 1);
    assert.deepStrictEqual([...r.shape], [2, 3]);
    assert.deepStrictEqual([...r.data], [1, 2, 3, 4, 5, 6]);
    const r2 = await concatAsync([t([0, 3]), b, t([0, 3])], -2);
    assert.deepStrictEqual([...r2.shape], [2, 3]);
    assert.deepStrictEqual([...r2.data], [1, 2, 3, 4, 5, 6]);
    assert.deepStrictEqual([...(await concatAsync([t([3, 0])], 0)).shape], [3, 0]);
  });
});

describe('the native functions check their arguments again', () => {
  // Called directly, bypassing the TS checks: every wrong call must throw a JS exception
  // (TypeError / RangeError), never read or write out of bounds or crash the process.
  const f = (n: number) => new Float32Array(n);
  const raw = native as unknown as Record<string, (...args: unknown[]) => unknown>;
  const rejects = (title: string, fn: () => unknown, cls: ErrorClass) => {
    it(`${title} → ${cls.name}`, () => {
      expectThrows(fn, cls);
    });
  };

  rejects('binarySame: a shorter than out', () => raw.binarySame(0, f(3), f(4), f(4)), RangeError);
  rejects('binarySame: out shorter than a', () => raw.binarySame(1, f(1000), f(1000), f(999)), RangeError);
  rejects('binarySame: a is a Float64Array', () => raw.binarySame(0, new Float64Array(4), f(4), f(4)), TypeError);
  rejects('binarySame: b is an Array', () => raw.binarySame(0, f(4), [1, 2, 3, 4], f(4)), TypeError);
  rejects('binarySame: out is missing', () => raw.binarySame(0, f(4), f(4)), TypeError);
  rejects('binarySame: op is unknown', () => raw.binarySame(7, f(4), f(4), f(4)), RangeError);
  rejects('binarySame: op is a string', () => raw.binarySame('add', f(4), f(4), f(4)), TypeError);
  rejects('binarySame: out partially overlaps a', () => {
    const buf = new Float32Array(12);
    return raw.binarySame(0, buf.subarray(0, 8), f(8), buf.subarray(4, 12));
  }, RangeError);
  rejects('binary: a length does not match its shape', () => raw.binary(0, f(5), [2, 3], f(6), [2, 3], f(6), false), RangeError);
  rejects('binary: b length does not match its shape', () => raw.binary(0, f(6), [2, 3], f(2), [3], f(6), false), RangeError);
  rejects('binary: out too short for the broadcast shape', () => raw.binary(0, f(6), [2, 3], f(3), [3], f(5), false), RangeError);
  rejects('binary: out too long for the broadcast shape', () => raw.binary(0, f(6), [2, 3], f(3), [3], f(7), false), RangeError);
  rejects('binary: shapes not broadcastable', () => raw.binary(0, f(6), [2, 3], f(6), [3, 2], f(6), false), RangeError);
  rejects('binary: negative dim', () => raw.binary(0, f(6), [-2, -3], f(6), [2, 3], f(6), false), RangeError);
  rejects('binary: fractional dim', () => raw.binary(0, f(6), [1.5, 4], f(6), [6], f(6), false), RangeError);
  rejects('binary: NaN dim', () => raw.binary(0, f(6), [NaN], f(6), [6], f(6), false), RangeError);
  rejects('binary: dim is a string', () => raw.binary(0, f(6), ['6'], f(6), [6], f(6), false), RangeError);
  rejects('binary: shape is not an array', () => raw.binary(0, f(6), 6, f(6), [6], f(6), false), TypeError);
  rejects('binary: huge shape whose product overflows', () => raw.binary(0, f(0), [2 ** 40, 2 ** 40], f(1), [1], f(0), false), RangeError);
  rejects('binary: zero-size dim against a huge dim', () => raw.binary(0, f(0), [2 ** 33, 0], f(1), [1, 2 ** 33], f(0), false), RangeError);
  rejects('binary (async): wrong out length throws before queueing', () => raw.binary(0, f(6), [6], f(6), [6], f(5), true), RangeError);
  rejects('binary: out partially overlaps b', () => {
    const buf = new Float32Array(12);
    return raw.binary(1, f(8), [8], buf.subarray(2, 10), [8], buf.subarray(0, 8), false);
  }, RangeError);
  rejects('concat: inputs is not an array', () => raw.concat(f(4), [4], 1, f(4), false), TypeError);
  rejects('concat: inputs[1] is a Float64Array', () => raw.concat([f(2), new Float64Array(2)], [2, 2], 1, f(4), false), TypeError);
  rejects('concat: inputs and extents differ in count', () => raw.concat([f(2), f(2)], [2], 1, f(4), false), RangeError);
  rejects('concat: no inputs', () => raw.concat([], [], 1, f(0), false), RangeError);
  rejects('concat: an input shorter than outer * extent', () => raw.concat([f(2), f(3)], [2, 2], 2, f(8), false), RangeError);
  rejects('concat: out shorter than the result', () => raw.concat([f(4), f(4)], [2, 2], 2, f(7), false), RangeError);
  rejects('concat: negative outer', () => raw.concat([f(0)], [2], -1, f(0), false), RangeError);
  rejects('concat: negative extent', () => raw.concat([f(2), f(2)], [-2, 4], 1, f(2), false), RangeError);
  rejects('concat: out overlaps an input', () => {
    const buf = new Float32Array(8);
    return raw.concat([buf.subarray(0, 4), f(4)], [4, 4], 1, buf, false);
  }, RangeError);
  rejects('concat (async): wrong input length throws before queueing', () => raw.concat([f(3)], [4], 1, f(4), true), RangeError);
  // outer * extent wraps around 2^64 to a small number (467443687 * 39463029637 = 2^64 + 3;
  // the empty middle input makes the extents' product 0, so no size check catches it):
  // with the products unchecked the kernel would copy 9 floats out of a 3-float input.
  rejects('concat: outer * extent overflows int64', () =>
    raw.concat([f(3), f(0), f(6)], [39463029637, 0, 2 * 39463029637], 467443687, f(9), false), RangeError);
  rejects('alignmentOffset: not an ArrayBuffer', () => raw.alignmentOffset(new Float32Array(4)), TypeError);
  rejects('alignmentOffset: nothing', () => raw.alignmentOffset(), TypeError);
  rejects('setThreads: 0', () => raw.setThreads(0), RangeError);
  rejects('setThreads: not a number', () => raw.setThreads('2'), TypeError);

  it('concat extents are sizes, not a shape: a huge product of extents is fine', () => {
    // outer 0: every input is empty, whatever the extents.
    assert.doesNotThrow(() => raw.concat([f(0), f(0), f(0)], [2 ** 40, 2 ** 40, 2 ** 40], 0, f(0), false));
    // Four [1,64,32,32] maps along channels: extents 65536 each, product 2^64.
    const maps = [0, 1, 2, 3].map((i) => Tensor.from(new Float32Array(65536).fill(i), [1, 64, 32, 32]));
    const r = concat(maps, 1);
    assert.deepStrictEqual([...r.shape], [1, 256, 32, 32]);
    for (let i = 0; i < 4; i++) assert.ok(r.data.subarray(i * 65536, (i + 1) * 65536).every((x) => x === i));
  });

  it('the valid raw calls still work (sanity check for the cases above)', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([10, 20, 30]);
    const out = f(6);
    raw.binary(0, a, [2, 3], b, [3], out, false);
    assert.deepStrictEqual([...out], [11, 22, 33, 14, 25, 36]);
    raw.binarySame(1, a, a, out);
    assert.deepStrictEqual([...out], [1, 4, 9, 16, 25, 36]);
    const cat = f(9);
    raw.concat([a, b], [6, 3], 1, cat, false);
    assert.deepStrictEqual([...cat], [1, 2, 3, 4, 5, 6, 10, 20, 30]);
  });
});
