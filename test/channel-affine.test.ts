// channelAffine: one native pass of x * scale[c] + shift[c] (+ ReLU) per channel, against a
// plain loop; in place; rank 2 to 5; channels first or last; empty batches; 1 and 2 threads;
// bad arguments named.
import * as assert from 'assert';
import { Tensor, channelAffine, channelAffineAsync } from '../lib';
import { native } from '../lib/native';
import { expectThrows, randomData } from './helpers';
import { withThreads } from './isa/generators';

function expected(x: Tensor, scale: Float32Array, shift: Float32Array, relu: boolean, channelsLast = false): Float32Array {
  const [n] = x.shape;
  const c = channelsLast ? x.shape[x.shape.length - 1] : x.shape[1];
  const per = channelsLast ? 1 : n * c === 0 ? 0 : x.size / (n * c);
  const y = new Float32Array(x.size);
  for (let i = 0; i < x.size; i++) {
    const ch = Math.floor(i / per) % c;
    const v = Math.fround(Math.fround(x.data[i] * scale[ch]) + shift[ch]);
    y[i] = relu ? (v > 0 ? v : v === v ? 0 : v) : v;
  }
  return y;
}

/** Equal to the rounding of a fused multiply-add (the kernel may contract x * s + t). */
function near(actual: Float32Array, want: Float32Array, label: string): void {
  assert.strictEqual(actual.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    const a = actual[i], e = want[i];
    if (Number.isNaN(e)) { assert.ok(Number.isNaN(a), `${label}: element ${i} is ${a}, expected NaN`); continue; }
    if (!(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)) || a === e)) assert.fail(`${label}: element ${i} is ${a}, expected ${e}`);
  }
}

describe('channelAffine', function () {
  this.timeout(20000);
  const shapes = [[2, 3], [1, 5, 7], [2, 16, 9, 11], [3, 17, 1, 33], [1, 64, 56, 56], [2, 4, 3, 2, 5], [0, 4, 3, 3]];

  for (const threads of [1, 2]) {
    it(`matches a plain loop for ranks 2-5, relu and none, in place and not (${threads} thread(s))`, async () => {
      await withThreads(threads, async () => {
        for (const [k, shape] of shapes.entries()) {
          const x = Tensor.from(randomData(shape.reduce((a, b) => a * b, 1), 10 + k), shape);
          const c = shape[1];
          const scale = Float32Array.from(randomData(c, 20 + k, 0)), shift = Float32Array.from(randomData(c, 30 + k, 0));
          for (const relu of [false, true]) {
            const want = expected(x, scale, shift, relu);
            const label = `[${shape}] ${relu ? 'relu' : 'none'}`;
            const activation = relu ? 'relu' : 'none';
            near(channelAffine(x, scale, shift, { activation }).data, want, label);
            near((await channelAffineAsync(x, scale, shift, { activation })).data, want, `${label} async`);
            const inPlace = Tensor.from(x.data.slice(), shape);
            assert.strictEqual(channelAffine(inPlace, scale, shift, { activation, out: inPlace }), inPlace);
            near(inPlace.data, want, `${label} in place`);
          }
        }
      });
    });
  }

  for (const threads of [1, 2]) {
    it(`layout NHWC: channels are the last dim, ranks 2-4, SIMD-edge channel counts (${threads} thread(s))`, async () => {
      await withThreads(threads, async () => {
        const nhwc = [[3, 7], [1, 9, 11, 17], [2, 5, 33], [1, 112, 112, 32], [2, 4, 3, 1], [0, 3, 16]];
        for (const [k, shape] of nhwc.entries()) {
          const x = Tensor.from(randomData(shape.reduce((a, b) => a * b, 1), 40 + k), shape);
          const c = shape[shape.length - 1];
          const scale = Float32Array.from(randomData(c, 50 + k, 0)), shift = Float32Array.from(randomData(c, 60 + k, 0));
          for (const relu of [false, true]) {
            const want = expected(x, scale, shift, relu, true);
            const options = { activation: relu ? 'relu' as const : 'none' as const, layout: 'NHWC' as const };
            const label = `NHWC [${shape}] ${options.activation}`;
            near(channelAffine(x, scale, shift, options).data, want, label);
            near((await channelAffineAsync(x, scale, shift, options)).data, want, `${label} async`);
            const inPlace = Tensor.from(x.data.slice(), shape);
            assert.strictEqual(channelAffine(inPlace, scale, shift, { ...options, out: inPlace }), inPlace);
            near(inPlace.data, want, `${label} in place`);
          }
        }
      });
    });
  }

  it('rejects bad arguments naming them; the binding checks the lengths again', () => {
    const x = Tensor.from(new Float32Array(24), [2, 3, 4]);
    const s3 = new Float32Array(3);
    expectThrows(() => channelAffine(x, new Float32Array(2), s3), RangeError, ['scale', '3 channels']);
    expectThrows(() => channelAffine(x, s3, [0, 0, 0] as unknown as Float32Array), TypeError, ['shift']);
    expectThrows(() => channelAffine(Tensor.from(new Float32Array(3), [3]), s3, s3), RangeError, ['rank >= 2']);
    expectThrows(() => channelAffine(x, s3, s3, { activation: 'silu' as 'relu' }), RangeError, ['activation']);
    expectThrows(() => channelAffine(x, s3, s3, { layout: 'NWHC' as 'NHWC' }), RangeError, ['layout']);
    expectThrows(() => channelAffine(x, s3, s3, { layout: 'NHWC' }), RangeError, ['scale', '4 channels', 'NHWC']);
    expectThrows(() => channelAffine(x, s3, s3, { out: Tensor.from(new Float32Array(24), [2, 12]) }), RangeError, ['out']);
    expectThrows(() => channelAffine(x, s3, s3, { out: Tensor.fromUnchecked(x.data.subarray(1, 25) as Float32Array, [2, 3, 4]) }), RangeError, ['overlaps']);
    expectThrows(() => native.channelAffine(x.data, 2, 3, 5, s3, s3, false, x.data, false), RangeError);
    expectThrows(() => native.channelAffine(x.data, 2, 3, 4, new Float32Array(2), s3, false, x.data, false), RangeError);
    expectThrows(() => native.channelAffine(x.data, 2, 3, 4, s3, s3, false, new Float32Array(23), false), RangeError);
  });
});
