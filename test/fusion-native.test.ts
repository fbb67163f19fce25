// The native fused conv paths behind concatConv / addConv / convResidual (Conv2d.runSources,
// native/kernels/conv2d/conv_sources.h) on every conv path they touch: the in-place 1x1 (and
// k x 1) GEMM whose reduction runs over the concat's inputs in turn, the padded phase copy
// that gathers / sums the inputs (3x3 padded, strided, grouped, depthwise) and Winograd's
// input copy (3x3 s1, Cin, Cout >= 8); the residual epilogue with skip separate and skip ===
// out, every activation; batch 2; 1 and 2 threads; and no scratch allocated on the way.
import * as assert from 'assert';
import { Conv2d, Conv2dActivation, Conv2dWeightOptions, Tensor, addConv, addConvAsync, concatConv, concatConvAsync, convResidual, convResidualAsync, fusionScratchStats, runtime } from '../lib';
import { SourceMode } from '../lib/ops/conv2d';
import { addConvRef, concatConvRef, convResidualRef } from '../lib/reference';
import { WINOGRAD4_TOLERANCE_SCALE, expectNear, tolFor, uniformTensor, weightTensor } from './fusion-util';
import { expectThrows, withWinogradTile } from './helpers';
import { withThreads } from './isa/generators';
import { native } from '../lib/native';

interface PathCase {
  name: string;
  k: [number, number];
  strides: [number, number];
  pads: [number, number, number, number];
  cout: number;
  groups: 'one' | 'two' | 'depthwise';
  h: number;
  w: number;
  /** Packed for its own input size (inputSize): these small maps take the channel-lane GEMM on AVX-512. */
  hint?: boolean;
  /** Input channel counts x4 (32+ per group: the gathering GEMM for k x k kernels). */
  wide?: boolean;
  /** Packed for its own input size, big enough for Winograd F(4x4, 3x3) (looser tolerance: see the conv2d property tests). */
  winograd4?: boolean;
  blocked?: boolean;
}

const PATHS: PathCase[] = [
  { name: '1x1 in place', k: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], cout: 13, groups: 'one', h: 5, w: 7 },
  { name: '3x1 in place', k: [3, 1], strides: [1, 1], pads: [0, 0, 0, 0], cout: 6, groups: 'one', h: 6, w: 5 },
  { name: '1x1 grouped in place', k: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], cout: 10, groups: 'two', h: 4, w: 9 },
  { name: '3x3 padded GEMM (Cout < 8)', k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], cout: 5, groups: 'one', h: 6, w: 11 },
  { name: '3x3 Winograd (Cout >= 8)', k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], cout: 12, groups: 'one', h: 9, w: 10 },
  { name: '3x3 Winograd F(4x4) (maps >= 16x16)', k: [3, 3], strides: [1, 1], pads: [1, 0, 1, 2], cout: 9, groups: 'one', h: 16, w: 17, winograd4: true },
  { name: '3x3 stride 2', k: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], cout: 9, groups: 'one', h: 9, w: 8 },
  { name: '1x1 stride 2 (one source read in place, several copied)', k: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0], cout: 7, groups: 'one', h: 7, w: 6 },
  { name: '3x3 grouped', k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], cout: 8, groups: 'two', h: 5, w: 5 },
  { name: '3x3 depthwise', k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], cout: 0, groups: 'depthwise', h: 6, w: 7 },
  { name: '3x3 depthwise stride 2', k: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], cout: 0, groups: 'depthwise', h: 7, w: 9 },
  { name: '3x3 channel lanes', k: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], cout: 48, groups: 'one', h: 3, w: 3, hint: true },
  { name: '1x1 channel lanes in place', k: [1, 1], strides: [1, 1], pads: [0, 0, 0, 0], cout: 49, groups: 'one', h: 3, w: 2, hint: true },
  { name: '1x1 stride 2 channel lanes', k: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0], cout: 96, groups: 'two', h: 5, w: 4, hint: true },
  { name: '3x3 stride (2, 1) gathering GEMM', k: [3, 3], strides: [2, 1], pads: [1, 0, 1, 1], cout: 32, groups: 'one', h: 9, w: 8, wide: true },
  // Column stride 2, panels mostly full: the blocked kernel, x reordered inside the call.
  { name: '3x3 stride 2 blocked', k: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], cout: 48, groups: 'one', h: 9, w: 8, wide: true, blocked: true },
  { name: '3x2 unpadded gathering GEMM', k: [3, 2], strides: [1, 1], pads: [0, 0, 0, 0], cout: 24, groups: 'one', h: 6, w: 7, wide: true },
];

// Channel splits of the concat: one source, a 1-channel source, counts at SIMD widths +-1.
const CONCAT_SPLITS = [[9], [1, 8], [7, 9], [8, 1, 16], [1, 15, 17, 2]];
// Two groups: every input covers whole groups.
const TWO_GROUP_SPLITS = [[18], [1, 1], [7, 7], [9, 9], [16, 16], [17, 17]];

function makeConv(p: PathCase, cin: number, act: Conv2dActivation, seed: number): { conv: Conv2d; weight: Tensor; options: Conv2dWeightOptions } {
  const groups = p.groups === 'one' ? 1 : p.groups === 'two' ? 2 : cin;
  const cout = p.groups === 'depthwise' ? 2 * cin : p.cout;
  const weight = weightTensor(cout, cin / groups, p.k[0], p.k[1], seed);
  const options: Conv2dWeightOptions = { strides: p.strides, pads: p.pads, groups, activation: act, alpha: 0.2, bias: uniformTensor([cout], seed + 1) };
  // F(4x4) forced: the automatic choice keeps convs of <= 64 output channels on maps of <= 28 on F(2x2).
  const conv = p.winograd4 ? withWinogradTile(4, () => new Conv2d(weight, { ...options, inputSize: [p.h, p.w] }))
    : new Conv2d(weight, p.hint ? { ...options, inputSize: [p.h, p.w] } : options);
  return { conv, weight, options };
}

/** The tolerance for a reduction of k products on path p. */
function pathTol(p: PathCase, k: number): number {
  return tolFor(k) * (p.winograd4 ? WINOGRAD4_TOLERANCE_SCALE : 1);
}

const ACTS: Conv2dActivation[] = ['none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'];

describe('fusion: native fused conv paths (Conv2d.runSources)', function () {
  this.timeout(60000);
  let seed = 1000;

  it('the channel-lane cases run the channel-lane GEMM (AVX-512)', function () {
    if (runtime.info().isa !== 'avx512') this.skip();
    for (const p of PATHS.filter((q) => q.hint)) assert.strictEqual(makeConv(p, 18, 'none', 1).conv.algorithm, 'gemm-channel-lanes', p.name);
  });

  it('the F(4x4) case runs Winograd F(4x4, 3x3)', function () {
    for (const p of PATHS.filter((q) => q.winograd4)) assert.strictEqual(makeConv(p, 17, 'none', 1).conv.algorithm, 'winograd-f4x4-3x3', p.name);
  });

  it('the wide k x k cases run the gathering GEMM, the column-stride-2 one the blocked kernel', function () {
    for (const p of PATHS.filter((q) => q.wide)) {
      assert.strictEqual(makeConv(p, 36, 'none', 1).conv.algorithm, p.blocked ? 'blocked-direct' : 'gemm-gather', p.name);
    }
  });

  for (const threads of [1, 2]) {
    describe(`${threads} thread(s)`, function () {
      // The F(4x4) case's 16x17 maps make its oracle the slowest: one thread here (the
      // conv2d property tests run that path on two).
      for (const p of PATHS.filter((q) => threads === 1 || !q.winograd4)) {
        it(`concatConv on the ${p.name} path: 1-4 inputs, 1-channel and SIMD-width +-1 counts, batch 1 and 2`, async function () {
          await withThreads(threads, async () => {
            for (const split of p.groups === 'two' ? TWO_GROUP_SPLITS : CONCAT_SPLITS) {
              const chans = p.wide ? split.map((c) => 4 * c) : split;
              const cin = chans.reduce((s, v) => s + v, 0);
              for (const n of [1, 2]) {
                const xs = chans.map((c, i) => uniformTensor([n, c, p.h, p.w], seed + i));
                const c = makeConv(p, cin, n === 1 ? 'relu' : 'none', seed + 50);
                seed += 100;
                const expected = concatConvRef(xs, { weight: c.weight, options: c.options });
                const label = `${p.name} chans [${chans}] n ${n}`;
                expectNear(concatConv(xs, c.conv), expected, pathTol(p, cin * 9), label);
                expectNear(await concatConvAsync(xs, c.conv), expected, pathTol(p, cin * 9), `${label} async`);
              }
            }
          });
        });

        it(`addConv on the ${p.name} path: 1-3 inputs, batch 1 and 2`, async function () {
          await withThreads(threads, async () => {
            for (const k of [1, 2, 3]) {
              // (F(4x4) needs 8+ input channels: its case runs only the counts that take it.)
              for (const cin of p.groups === 'two' ? [2, 16, 18] : p.wide ? [1, 32, 33] : p.winograd4 ? [8, 17] : [1, 7, 8, 17]) {
                for (const n of [1, 2]) {
                  const xs = Array.from({ length: k }, (_, i) => uniformTensor([n, cin, p.h, p.w], seed + i));
                  const c = makeConv(p, cin, k === 2 ? 'silu' : 'none', seed + 50);
                  seed += 100;
                  const expected = addConvRef(xs, { weight: c.weight, options: c.options });
                  const label = `${p.name} ${k} inputs of ${cin} n ${n}`;
                  expectNear(addConv(xs, c.conv), expected, pathTol(p, cin * 9 * k), label);
                  expectNear(await addConvAsync(xs, c.conv), expected, pathTol(p, cin * 9 * k), `${label} async`);
                }
              }
            }
          });
        });

        it(`the residual epilogue on the ${p.name} path: every activation, skip separate and skip === out`, async function () {
          await withThreads(threads, async () => {
            const cin = p.groups === 'two' ? 18 : p.wide ? 36 : 9;
            for (const act of ACTS) {
              for (const n of [1, 2]) {
                const x = uniformTensor([n, cin, p.h, p.w], seed);
                const c = makeConv(p, cin, 'none', seed + 50);
                seed += 100;
                const skip = uniformTensor(c.conv.outputShape(x.shape), seed + 3);
                const expected = convResidualRef(x, { weight: c.weight, options: c.options }, skip, act, 0.3);
                const label = `${p.name} ${act} n ${n}`;
                expectNear(convResidual(x, c.conv, skip, { activation: act, alpha: 0.3 }), expected, pathTol(p, cin * 9), label);
                expectNear(await convResidualAsync(x, c.conv, skip, { activation: act, alpha: 0.3 }), expected, pathTol(p, cin * 9), `${label} async`);
                // skip === out: the conv accumulates into it (only reachable through runSources).
                const inPlace = Tensor.from(skip.data.slice(), skip.shape);
                c.conv.runSources([x], SourceMode.Concat, inPlace, { skip: inPlace, activation: act, alpha: 0.3 }, false);
                expectNear(inPlace, expected, pathTol(p, cin * 9), `${label} skip === out`);
                const inPlaceAsync = Tensor.from(skip.data.slice(), skip.shape);
                await c.conv.runSources([x], SourceMode.Concat, inPlaceAsync, { skip: inPlaceAsync, activation: act, alpha: 0.3 }, true);
                expectNear(inPlaceAsync, expected, pathTol(p, cin * 9), `${label} skip === out async`);
              }
            }
          });
        });
      }
    });
  }

  it('reductions longer than one K block (640): pieces straddling a block edge, residual over several blocks', async function () {
    for (const threads of [1, 2]) {
      await withThreads(threads, async () => {
        for (const p of [PATHS[0], PATHS[1], PATHS[3]]) {
          const chans = [300, 1, 399];
          const cin = 700;
          const xs = chans.map((c, i) => uniformTensor([2, c, p.h, p.w], 20 + i));
          const c = makeConv(p, cin, 'leakyRelu', 30);
          expectNear(concatConv(xs, c.conv), concatConvRef(xs, { weight: c.weight, options: c.options }), pathTol(p, cin * 9), `${p.name} concat`);
          const ys = [0, 1].map((i) => uniformTensor([2, cin, p.h, p.w], 40 + i));
          expectNear(await addConvAsync(ys, c.conv), addConvRef(ys, { weight: c.weight, options: c.options }), pathTol(p, cin * 18), `${p.name} add`);
          const r = makeConv(p, cin, 'none', 31);
          const skip = uniformTensor(r.conv.outputShape(ys[0].shape), 45);
          expectNear(convResidual(ys[0], r.conv, skip, { activation: 'relu6' }), convResidualRef(ys[0], { weight: r.weight, options: r.options }, skip, 'relu6'), pathTol(p, cin * 9), `${p.name} residual`);
        }
      });
    }
  });

  it('1x1 reductions whose input outgrows L2 (B copied a few tiles at a time): single input, concat pieces, residual, groups, batch 2', async function () {
    // Input channels so that one image's input is ~1.3x the L2 the kernels size for; every
    // case has a partial last pass and a partial last tile (29 x 31 pixels).
    const h = 29, w = 31;
    const cin = 2 * Math.ceil((1.3 * runtime.info().l2CacheBytes) / (h * w * 4) / 2);
    if (cin > 4000) this.skip();  // a huge L2: the reference would take too long
    for (const [groups, n, cout] of [[1, 1, 8], [2, 2, 6]] as const) {
      const weight = weightTensor(cout, cin / groups, 1, 1, 60 + groups);
      const bias = uniformTensor([cout], 61);
      const plainOptions: Conv2dWeightOptions = { groups, bias };
      const conv = new Conv2d(weight, { ...plainOptions, activation: 'relu' });
      const plain = new Conv2d(weight, plainOptions);
      const x = uniformTensor([n, cin, h, w], 62);
      // The concat's pieces are x's channels, cut to straddle the tiles' rows and the groups'
      // halves: every variant shares one reference conv (the JS oracle is the slow part).
      const chans = groups === 1 ? [1, cin / 2 - 1, cin / 2] : [cin / 2, cin / 2];
      const xs = chans.map((c, i) => {
        const first = chans.slice(0, i).reduce((acc, v) => acc + v, 0);
        const piece = Tensor.from(new Float32Array(n * c * h * w), [n, c, h, w]);
        for (let b = 0; b < n; b++) piece.data.set(x.data.subarray((b * cin + first) * h * w, (b * cin + first + c) * h * w), b * c * h * w);
        return piece;
      });
      const skip = uniformTensor(plain.outputShape(x.shape), 66);
      const conv0 = concatConvRef([x], { weight, options: plainOptions });
      const relu = (v: number) => Math.max(0, v);
      const expected = Tensor.from(conv0.data.map(relu), conv0.shape);
      const expectedResidual = Tensor.from(conv0.data.map((v, i) => Math.min(6, relu(v + skip.data[i]))), conv0.shape);
      for (const threads of [1, 2]) {
        await withThreads(threads, async () => {
          const label = `${cin} -> ${cout} groups ${groups} n ${n}, ${threads} thread(s)`;
          expectNear(conv.run(x), expected, tolFor(cin), label);
          expectNear(await concatConvAsync(xs, conv), expected, tolFor(cin), `${label} concat`);
          expectNear(convResidual(x, plain, skip, { activation: 'relu6' }), expectedResidual, tolFor(cin), `${label} residual`);
        });
      }
    }
  });

  it('a conv with its own activation keeps the conv-add-act order (not fused)', function () {
    const x = uniformTensor([1, 8, 5, 5], 3);
    const w = weightTensor(8, 8, 3, 3, 4);
    const o: Conv2dWeightOptions = { pads: [1, 1, 1, 1], activation: 'relu' };
    const skip = uniformTensor([1, 8, 5, 5], 5, 2);
    const expected = convResidualRef(x, { weight: w, options: o }, skip, 'sigmoid');
    expectNear(convResidual(x, new Conv2d(w, o), skip, { activation: 'sigmoid' }), expected, tolFor(72));
  });

  it('materialises no concat or sum: fusionScratchStats().allocatedBytes does not grow', async function () {
    const before = fusionScratchStats().allocatedBytes;
    for (const p of PATHS) {
      const chans = p.groups === 'two' ? [16, 16] : [7, 1, 17];
      const cin = chans.reduce((s, v) => s + v, 0);
      const xs = chans.map((c, i) => uniformTensor([2, c, p.h, p.w], 70 + i));
      const c = makeConv(p, cin, 'none', 80);
      concatConv(xs, c.conv);
      await concatConvAsync(xs, c.conv);
      const ys = [0, 1, 2].map((i) => uniformTensor([2, cin, p.h, p.w], 90 + i));
      addConv(ys, c.conv);
      await addConvAsync(ys, c.conv);
      const skip = uniformTensor(c.conv.outputShape(ys[0].shape), 95);
      convResidual(ys[0], c.conv, skip, { activation: 'relu' });
    }
    assert.strictEqual(fusionScratchStats().allocatedBytes, before);
  });

  describe('conv2dRunSources checks every length (no call reads or writes out of bounds)', function () {
    const conv = new Conv2d(weightTensor(4, 6, 3, 3, 1), { pads: [1, 1, 1, 1] });
    const h = (conv as unknown as { handle: unknown }).handle;
    const a = new Float32Array(2 * 5 * 5), b = new Float32Array(4 * 5 * 5);
    const out = new Float32Array(4 * 5 * 5);
    const run = (...args: unknown[]) => (native.conv2dRunSources as (...a: unknown[]) => unknown)(h, ...args);
    it('accepts a well-formed call', function () {
      run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false);
    });
    it('rejects bad sources, shapes, modes, outs and skips', function () {
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 5, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 4], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([], [], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 1, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 2, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, [1]], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false), TypeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out.subarray(1), null, 0, 0, false), RangeError);
      expectThrows(() => run([a, out], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, out.subarray(1), 0, 0, false), RangeError);
      const big = new Float32Array(out.length + 1);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], big.subarray(0, out.length), big.subarray(1), 0, 0, false), RangeError);
      expectThrows(() => run([a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, new Float32Array(out.length), 9, 0, false), RangeError);
      const relu = new Conv2d(weightTensor(4, 6, 3, 3, 1), { pads: [1, 1, 1, 1], activation: 'relu' });
      const hr = (relu as unknown as { handle: unknown }).handle;
      expectThrows(() => (native.conv2dRunSources as (...a: unknown[]) => unknown)(hr, [a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, new Float32Array(out.length), 0, 0, false), RangeError);
      const nhwc = new Conv2d(Tensor.zeros([3, 3, 6, 4]), { layout: 'NHWC' });
      const hn = (nhwc as unknown as { handle: unknown }).handle;
      expectThrows(() => (native.conv2dRunSources as (...a: unknown[]) => unknown)(hn, [a, b], [1, 2, 5, 5, 1, 4, 5, 5], 0, [1, 1, 1, 1], out, null, 0, 0, false), RangeError);
    });
  });
});
