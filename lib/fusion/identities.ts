// The seed identities as API, for OIHW weights of a dense (groups = 1) convolution:
//   conv(a + b + ..., W) == conv(concat(a, b, ...), [W, W, ...])      (addAsConcatWeight)
//   conv(concat(a, b), [Wa, Wb]) == conv(a, Wa) + conv(b, Wb)          (splitConcatWeight)
import { Tensor } from '../tensor';
import { describeValue, formatShape, rangeError, typeError } from '../errors';
import { checkTensor } from '../ops/checks';

function checkOihw(op: string, w: unknown): Tensor {
  const t = checkTensor(op, 'w', w);
  if (t.shape.length !== 4) throw rangeError(op, `w must be an OIHW weight [Cout, Cin, kh, kw] (rank 4), got ${formatShape(t.shape)}`);
  if (t.size === 0) throw rangeError(op, `w ${formatShape(t.shape)} must have every dim >= 1`);
  return t;
}

/**
 * The concat kernel [W, W, ...] (n copies of W along the input-channel axis): OIHW
 * [Cout, Cin, kh, kw] -> [Cout, n*Cin, kh, kw]. A conv with it over concat(x1..xn) equals
 * the conv with W over x1 + ... + xn.
 */
export function addAsConcatWeight(w: Tensor, n: number): Tensor {
  const op = 'addAsConcatWeight';
  const t = checkOihw(op, w);
  if (typeof n !== 'number' || !Number.isInteger(n)) throw typeError(op, `n must be an integer, got ${describeValue(n)}`);
  if (n < 1) throw rangeError(op, `n must be >= 1, got ${n}`);
  const [cout, cin, kh, kw] = t.shape;
  const block = cin * kh * kw;
  const out = Tensor.empty([cout, n * cin, kh, kw]);
  for (let o = 0; o < cout; o++) {
    const src = t.data.subarray(o * block, (o + 1) * block);
    for (let k = 0; k < n; k++) out.data.set(src, (o * n + k) * block);
  }
  return out;
}

/**
 * Splits an OIHW concat kernel [Cout, sum(channels), kh, kw] along its input channels into
 * per-input kernels [Cout, channels[i], kh, kw] (fresh copies), so that
 * conv(concat(x1..xn), w) == sum_i conv(xi, parts[i]) (the bias belongs to one of the terms).
 */
export function splitConcatWeight(w: Tensor, channels: readonly number[]): Tensor[] {
  const op = 'splitConcatWeight';
  const t = checkOihw(op, w);
  if (!Array.isArray(channels)) throw typeError(op, `channels must be an array of integers, got ${describeValue(channels)}`);
  if (channels.length === 0) throw rangeError(op, 'channels must hold at least one count');
  channels.forEach((c: unknown, i) => {
    if (typeof c !== 'number' || !Number.isInteger(c)) throw typeError(op, `channels[${i}] must be an integer, got ${describeValue(c)}`);
    if (c < 1) throw rangeError(op, `channels[${i}] must be >= 1, got ${c} in [${channels.join(',')}]`);
  });
  const [cout, cin, kh, kw] = t.shape;
  const total = channels.reduce((s, c) => s + c, 0);
  if (total !== cin) {
    throw rangeError(op, `channels [${channels.join(',')}] add up to ${total} but w ${formatShape(t.shape)} has ${cin} input channels`);
  }
  const k = kh * kw;
  let start = 0;
  return channels.map((c) => {
    const part = Tensor.empty([cout, c, kh, kw]);
    for (let o = 0; o < cout; o++) {
      part.data.set(t.data.subarray((o * cin + start) * k, (o * cin + start + c) * k), o * c * k);
    }
    start += c;
    return part;
  });
}
