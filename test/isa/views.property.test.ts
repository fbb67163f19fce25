// Strided channel views (Tensor.sliceChannels of a batch) as inputs and as `out`, against
// lib/reference over random batches (N 1-3), channel ranges, spatial sizes and buffer offsets:
// add / mul (with broadcasting and in place), concat on every axis, conv2d / Conv2d.run /
// runAsync, the fusion blocks, and the pointwise ops that take views. Every case checks that
// nothing outside an output view was written and that no input's parent changed. Sync and
// async, 1 and 2 pool threads. run-all.js runs this file once per ISA.
import * as assert from 'assert';
import * as fc from 'fast-check';
import {
  Conv2d, Conv2dActivation, Conv2dWeightOptions, Tensor, add, addAsync, addConv, addConvAsync, asffFuse, asffFuseAsync,
  concat, concatAsync, concatConv, concatConvAsync, conv2d, conv2dAsync, convResidual, convResidualAsync, denseBlock,
  avgPool2d, avgPool2dAsync, denseBlockAsync, fpnMerge, fpnMergeAsync, maxPool2d, maxPool2dAsync, mul, mulAsync, relu, reluAsync, residual,
  residualAsync, sigmoid, sigmoidAsync, upsampleNearest, upsampleNearestAsync, weightedSum, weightedSumAsync,
} from '../../lib';
import * as ref from '../../lib/reference';
import { expectBitExact } from '../helpers';
import { expectClose } from '../onnx-cases';
import { expectNear, tolFor, weightTensor } from '../fusion-util';
import {
  ViewPlacement, expectOutsideUntouched, expectUnchanged, markedView, memoryOf, placementArb, randomView, uniformView,
} from '../views-util';
import { checkIsaSelection, expectSlackUntouched, runs, withThreads } from './generators';

const CH = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17];
const chArb = fc.constantFrom(...CH);
const nArb = fc.integer({ min: 1, max: 3 });
const dimArb = fc.integer({ min: 1, max: 9 });
const seedArb = fc.integer({ min: 1, max: 1e6 });
const threadsArb = fc.integer({ min: 1, max: 2 });

/** An output: a fresh tensor (undefined), or a view of a marked parent. */
const outArb = fc.option(placementArb, { nil: undefined, freq: 4 });

interface Out {
  out?: Tensor;
  parent?: Tensor;
}

function outFor(shape: readonly number[], p: ViewPlacement | undefined): Out {
  if (p === undefined) return {};
  const { view, parent } = markedView(shape, p);
  return { out: view, parent };
}

/** The result is the given out, nothing outside it changed, and its elements match. */
function checkOut(y: Tensor, o: Out, label: string): void {
  if (o.out === undefined || o.parent === undefined) return;
  assert.strictEqual(y, o.out, `${label}: returns out`);
  expectOutsideUntouched(o.parent, o.out, label);
  expectSlackUntouched(o.parent, label);
}

/** Input parents, to check afterwards that the op wrote none of them. */
function snapshotInputs(parents: readonly Tensor[]): () => void {
  const before = parents.map(memoryOf);
  return () => parents.forEach((p, i) => expectUnchanged(p, before[i], `input parent ${i}`));
}

describe(`strided channel views vs lib/reference (TENSORFUSE_ISA=${process.env.TENSORFUSE_ISA ?? 'unset'})`, function () {
  this.timeout(120000);

  it('runs the kernels of the requested ISA', () => {
    checkIsaSelection();
  });

  it('add / mul: views as a, b and out, broadcast operands, in place through a view', async function () {
    const arb = fc.record({
      n: nArb, c: chArb, h: dimArb, w: dimArb, mul: fc.boolean(),
      bShape: fc.constantFrom('same', 'channel', 'batch1', 'rank3'), a: placementArb, b: placementArb,
      out: fc.oneof(outArb, fc.constant('inPlace' as const)), swap: fc.boolean(), async: fc.boolean(), threads: threadsArb, seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const shape = [c.n, c.c, c.h, c.w];
      const a = randomView(shape, c.seed, c.a);
      const bs = { same: shape, channel: [1, c.c, 1, 1], batch1: [1, c.c, c.h, c.w], rank3: [c.c, c.h, c.w] }[c.bShape];
      const b = c.bShape === 'rank3' ? randomView(bs, c.seed + 1, { before: 0, after: 0, offset: c.b.offset }) : randomView(bs, c.seed + 1, c.b);
      const [x, y] = c.swap ? [b.view, a.view] : [a.view, b.view];
      const expected = (c.mul ? ref.mul : ref.add)(x.contiguous(), y.contiguous());
      const inPlace = c.out === 'inPlace';
      const o = c.out === 'inPlace' ? { out: a.view } : outFor(expected.shape, c.out);
      const untouched = snapshotInputs(inPlace ? [b.parent] : [a.parent, b.parent]);
      const outside = inPlace ? memoryOf(a.parent) : undefined;
      const op = c.mul ? (c.async ? mulAsync : mul) : (c.async ? addAsync : add);
      const r = await withThreads(c.threads, () => op(x, y, o.out ? { out: o.out } : undefined));
      const label = JSON.stringify(c);
      expectBitExact({ data: r.contiguous().data, shape: r.shape }, expected, label);
      checkOut(r, o, label);
      untouched();
      if (inPlace) {
        // Only a's own channels changed in its parent.
        assert.strictEqual(r, a.view);
        const now = a.parent.data;
        const size = c.h * c.w, per = (c.c + c.a.before + c.a.after) * size;
        for (let i = 0; i < now.length; i++) {
          const ch = Math.floor((i % per) / size);
          if ((ch < c.a.before || ch >= c.a.before + c.c) && !Object.is(now[i], outside![i]) && !(Number.isNaN(now[i]) && Number.isNaN(outside![i]))) {
            assert.fail(`${label}: in place, parent element ${i} outside a's channels changed`);
          }
        }
      }
    }), { numRuns: runs(150) });
  });

  it('concat on every axis: views as inputs and as out', async function () {
    const arb = fc.record({
      n: nArb, c: chArb, h: dimArb, w: dimArb, axis: fc.constantFrom(0, 1, 2, 3, -1),
      sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
      ins: fc.array(placementArb, { minLength: 3, maxLength: 3 }), out: outArb, async: fc.boolean(), seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const ax = c.axis < 0 ? c.axis + 4 : c.axis;
      const inputs = c.sizes.map((s, i) => {
        const shape = [c.n, c.c, c.h, c.w];
        shape[ax] = s;
        return randomView(shape, c.seed + i, c.ins[i]);
      });
      const views = inputs.map((t) => t.view);
      const expected = ref.concat(views.map((t) => t.contiguous()), c.axis);
      const o = outFor(expected.shape, c.out);
      const untouched = snapshotInputs(inputs.map((t) => t.parent));
      const y = await (c.async ? concatAsync : concat)(views, c.axis, o.out ? { out: o.out } : undefined);
      const label = JSON.stringify(c);
      expectBitExact({ data: y.contiguous().data, shape: y.shape }, expected, label);
      checkOut(y, o, label);
      untouched();
    }), { numRuns: runs(150) });
  });

  it('conv2d / Conv2d.run / runAsync: a view as x and as out (incl. Winograd, depthwise, NHWC)', async function () {
    const arb = fc.record({
      n: nArb, cin: chArb, cout: chArb, k: fc.constantFrom(1, 3), stride: fc.integer({ min: 1, max: 2 }), pad: fc.boolean(),
      depthwise: fc.boolean(), nhwc: fc.integer({ min: 0, max: 5 }).map((v) => v === 0), h: fc.integer({ min: 1, max: 12 }),
      w: fc.integer({ min: 1, max: 12 }), act: fc.constantFrom<Conv2dActivation>('none', 'relu', 'leakyRelu', 'silu'), bias: fc.boolean(),
      x: placementArb, out: outArb, api: fc.constantFrom('conv2d', 'conv2dAsync', 'run', 'runAsync'), threads: threadsArb, seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const p = c.pad ? (c.k - 1) / 2 : 0;
      if (c.h + 2 * p < c.k || c.w + 2 * p < c.k) return;
      const groups = c.depthwise ? c.cin : 1;
      const cout = c.depthwise ? c.cin : c.cout;
      // NHWC: sliceChannels views axis 1 (rows), still one contiguous block per image.
      const xShape = c.nhwc ? [c.n, c.h, c.w, c.cin] : [c.n, c.cin, c.h, c.w];
      const x = uniformView(xShape, c.seed, c.x);
      const oihw = weightTensor(cout, c.cin / groups, c.k, c.k, c.seed + 1);
      const weight = c.nhwc ? hwioOf(oihw) : oihw;
      const o: Conv2dWeightOptions = {
        strides: [c.stride, c.stride], pads: [p, p, p, p], groups, activation: c.act, layout: c.nhwc ? 'NHWC' : 'NCHW',
        bias: c.bias ? weightTensor(cout, 1, 1, 1, c.seed + 2).reshape([cout]) : undefined,
      };
      const expected = ref.conv2dRef(x.view.contiguous(), weight, o);
      const out = outFor(expected.shape, c.out);
      const untouched = snapshotInputs([x.parent]);
      const y = await withThreads(c.threads, () => {
        const opts = out.out ? { out: out.out } : undefined;
        if (c.api === 'conv2d') return conv2d(x.view, weight, { ...o, ...opts });
        if (c.api === 'conv2dAsync') return conv2dAsync(x.view, weight, { ...o, ...opts });
        const conv = new Conv2d(weight, o);
        return c.api === 'run' ? conv.run(x.view, opts) : conv.runAsync(x.view, opts);
      });
      const label = JSON.stringify(c);
      expectNear(y.contiguous(), expected, tolFor((c.cin / groups) * c.k * c.k), label);
      checkOut(y, out, label);
      untouched();
    }), { numRuns: runs(120) });
  });

  it('concatConv / addConv: inputs as slices of one parent or of several, out as a view', async function () {
    const arb = fc.record({
      n: nArb, chans: fc.array(chArb, { minLength: 1, maxLength: 3 }), cout: chArb, k: fc.constantFrom(1, 3),
      add: fc.boolean(), shared: fc.boolean(), h: dimArb, w: dimArb, ins: fc.array(placementArb, { minLength: 3, maxLength: 3 }),
      out: outArb, async: fc.boolean(), threads: threadsArb, seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const chans = c.add ? c.chans.map(() => c.chans[0]) : c.chans;
      // shared: consecutive channel slices of one parent (a dense block's layout), else one parent each.
      const inputs = c.shared ? slicesOfOne([c.n, 0, c.h, c.w], chans, c.seed, c.ins[0]) : separateViews(c.n, chans, c.h, c.w, c.seed, c.ins);
      const xs = inputs.views;
      const cin = c.add ? chans[0] : chans.reduce((s, v) => s + v, 0);
      const p = (c.k - 1) / 2;
      const weight = weightTensor(c.cout, cin, c.k, c.k, c.seed + 5);
      const o: Conv2dWeightOptions = { pads: [p, p, p, p], activation: 'relu' };
      const conv = new Conv2d(weight, o);
      const plain = xs.map((t) => t.contiguous());
      const expected = c.add ? ref.addConvRef(plain, { weight, options: o }) : ref.concatConvRef(plain, { weight, options: o });
      const out = outFor(expected.shape, c.out);
      const untouched = snapshotInputs(inputs.parents);
      const run = c.add ? (c.async ? addConvAsync : addConv) : (c.async ? concatConvAsync : concatConv);
      const y = await withThreads(c.threads, () => run(xs, conv, out.out ? { out: out.out } : undefined));
      const label = JSON.stringify(c);
      expectNear(y.contiguous(), expected, tolFor(cin * c.k * c.k * (c.add ? chans.length : 1)), label);
      checkOut(y, out, label);
      untouched();
    }), { numRuns: runs(100) });
  });

  it('convResidual / residual: x, skip and out as views (fused epilogue and the three-pass path)', async function () {
    const arb = fc.record({
      n: nArb, cin: chArb, k: fc.constantFrom(1, 3), h: dimArb, w: dimArb, convAct: fc.constantFrom<Conv2dActivation>('none', 'relu'),
      act: fc.constantFrom<Conv2dActivation>('none', 'relu', 'relu6', 'sigmoid', 'silu', 'leakyRelu'),
      x: placementArb, skip: placementArb, out: outArb, async: fc.boolean(), threads: threadsArb, seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const p = (c.k - 1) / 2;
      const shape = [c.n, c.cin, c.h, c.w];
      const x = uniformView(shape, c.seed, c.x), skip = uniformView(shape, c.seed + 1, c.skip);
      const weight = weightTensor(c.cin, c.cin, c.k, c.k, c.seed + 2);
      const o: Conv2dWeightOptions = { pads: [p, p, p, p], activation: c.convAct };
      const conv = new Conv2d(weight, o);
      const expected = ref.convResidualRef(x.view.contiguous(), { weight, options: o }, skip.view.contiguous(), c.act, 0.2);
      const out = outFor(expected.shape, c.out);
      const untouched = snapshotInputs([x.parent, skip.parent]);
      const opts = { activation: c.act, alpha: 0.2, ...(out.out ? { out: out.out } : {}) };
      const y = await withThreads(c.threads, () => (c.async ? convResidualAsync : convResidual)(x.view, conv, skip.view, opts));
      const label = JSON.stringify(c);
      expectNear(y.contiguous(), expected, tolFor(c.cin * c.k * c.k), label);
      checkOut(y, out, label);
      // residual(x, relu): f(x) + x into a view.
      const expectedR = ref.residualRef(x.view.contiguous(), (t) => ref.relu(t));
      const outR = outFor(shape, c.out);
      const r = await (c.async ? residualAsync : residual)(x.view, (t) => relu(t), outR.out ? { out: outR.out } : undefined);
      expectBitExact({ data: r.contiguous().data, shape: r.shape }, expectedR, `residual ${label}`);
      checkOut(r, outR, `residual ${label}`);
      untouched();
    }), { numRuns: runs(80) });
  });

  it('fpnMerge / asffFuse / denseBlock: views as inputs and as out', async function () {
    const arb = fc.record({
      n: nArb, h: fc.integer({ min: 1, max: 5 }), w: fc.integer({ min: 1, max: 5 }), c: chArb, c2: chArb, growth: fc.integer({ min: 1, max: 5 }),
      layers: fc.integer({ min: 1, max: 3 }), bottleneck: fc.boolean(), a: placementArb, b: placementArb, c3: placementArb, out: outArb,
      async: fc.boolean(), threads: threadsArb, seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const label = JSON.stringify(c);
      await withThreads(c.threads, async () => {
        // fpnMerge: top [N, c, H, W], lateral [N, c2, 2H, 2W] -> [N, c, 2H, 2W].
        const top = uniformView([c.n, c.c, c.h, c.w], c.seed, c.a), lat = uniformView([c.n, c.c2, 2 * c.h, 2 * c.w], c.seed + 1, c.b);
        const lw = weightTensor(c.c, c.c2, 1, 1, c.seed + 2), sw = weightTensor(c.c, c.c, 3, 3, c.seed + 3);
        const smooth = { pads: [1, 1, 1, 1] as [number, number, number, number] };
        const expFpn = ref.fpnMergeRef(top.view.contiguous(), lat.view.contiguous(), { lateralConv: { weight: lw }, smoothConv: { weight: sw, options: smooth } });
        const outF = outFor(expFpn.shape, c.out);
        const untouched = snapshotInputs([top.parent, lat.parent]);
        const fo = { lateralConv: new Conv2d(lw), smoothConv: new Conv2d(sw, smooth), ...(outF.out ? { out: outF.out } : {}) };
        const yF = await (c.async ? fpnMergeAsync : fpnMerge)(top.view, lat.view, fo);
        expectNear(yF.contiguous(), expFpn, tolFor(c.c2 + 9 * c.c), `fpnMerge ${label}`);
        checkOut(yF, outF, `fpnMerge ${label}`);
        untouched();

        // asffFuse over 3 level views.
        const shape = [c.n, c.c, c.h, c.w];
        const levels = [c.a, c.b, c.c3].map((p, i) => uniformView(shape, c.seed + 10 + i, p));
        const wl = [0, 1, 2].map((i) => weightTensor(c.growth, c.c, 1, 1, c.seed + 20 + i)), wls = weightTensor(3, 3 * c.growth, 1, 1, c.seed + 23);
        const expAsff = ref.asffFuseRef(levels.map((l) => l.view.contiguous()), { weightLevel: wl.map((weight) => ({ weight })), weightLevels: { weight: wls } });
        const outA = outFor(shape, c.out);
        const convs = { weightLevel: wl.map((w) => new Conv2d(w)), weightLevels: new Conv2d(wls) };
        const untouchedA = snapshotInputs(levels.map((l) => l.parent));
        const yA = await (c.async ? asffFuseAsync : asffFuse)(levels.map((l) => l.view), convs, outA.out ? { out: outA.out } : undefined);
        expectNear(yA.contiguous(), expAsff, 1e-4, `asffFuse ${label}`);
        checkOut(yA, outA, `asffFuse ${label}`);
        untouchedA();

        // denseBlock: x a view, out a view of a wider parent.
        const x = uniformView(shape, c.seed + 30, c.a);
        const fast = [], refs = [];
        for (let l = 0; l < c.layers; l++) {
          const cin = c.c + l * c.growth, o = { pads: [1, 1, 1, 1] as [number, number, number, number], activation: 'relu' as const };
          const w3 = weightTensor(c.growth, c.bottleneck ? 2 * c.growth : cin, 3, 3, c.seed + 40 + l);
          if (c.bottleneck) {
            const w1 = weightTensor(2 * c.growth, cin, 1, 1, c.seed + 50 + l);
            fast.push({ bottleneck: new Conv2d(w1), conv: new Conv2d(w3, o) });
            refs.push({ bottleneck: { weight: w1 }, conv: { weight: w3, options: o } });
          } else {
            fast.push(new Conv2d(w3, o));
            refs.push({ weight: w3, options: o });
          }
        }
        const expDense = ref.denseBlockRef(x.view.contiguous(), refs);
        const outD = outFor(expDense.shape, c.out);
        const untouchedD = snapshotInputs([x.parent]);
        const rD = await (c.async ? denseBlockAsync : denseBlock)(x.view, fast, outD.out ? { out: outD.out } : undefined);
        expectNear(rD.output.contiguous(), expDense, tolFor(9 * (c.c + c.layers * c.growth) * 2), `denseBlock ${label}`);
        assert.strictEqual(rD.concatBytes, 0);
        checkOut(rD.output, outD, `denseBlock ${label}`);
        untouchedD();
      });
    }), { numRuns: runs(60) });
  });

  it('relu / sigmoid / maxPool2d / avgPool2d (NCHW, NHWC) / upsampleNearest / weightedSum: views as input and out', async function () {
    const arb = fc.record({
      n: nArb, c: chArb, h: dimArb, w: dimArb, x: placementArb, maps: placementArb, out: outArb, inPlace: fc.boolean(),
      async: fc.boolean(), seed: seedArb,
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const shape = [c.n, c.c, c.h, c.w];
      const label = JSON.stringify(c);
      const check = async (name: string, expected: ref.RefResult, run: (o?: { out: Tensor }) => Promise<Tensor> | Tensor, exact: boolean, inPlace?: Tensor) => {
        const out = inPlace ? { out: inPlace } : outFor(expected.shape, c.out);
        const y = await run(out.out ? { out: out.out } : undefined);
        // relu(-0) may be +0 (as in the contiguous ISA suites): compare by value, NaN with NaN.
        expectClose({ data: y.contiguous().data, shape: y.shape }, expected, exact ? { atol: 0, rtol: 0 } : { atol: 1e-6, rtol: 2e-5 }, `${name} ${label}`);
        if (!inPlace) checkOut(y, out, `${name} ${label}`);
      };
      const x = randomView(shape, c.seed, c.x);
      const ux = uniformView(shape, c.seed + 1, c.x);
      await check('relu', ref.relu(x.view.contiguous()), (o) => (c.async ? reluAsync : relu)(x.view, o), true);
      await check('sigmoid', ref.sigmoid(ux.view.contiguous()), (o) => (c.async ? sigmoidAsync : sigmoid)(ux.view, o), false);
      if (c.inPlace) await check('relu in place', ref.relu(x.view.contiguous()), (o) => relu(x.view, o), true, x.view);
      const pool = { kernel: [2, 2] as [number, number], strides: [1, 2] as [number, number], pads: [1, 0, 0, 1] as [number, number, number, number] };
      await check('maxPool2d', ref.maxPool2d(x.view.contiguous(), pool), (o) => (c.async ? maxPool2dAsync : maxPool2d)(x.view, { ...pool, ...o }), true);
      const avg = { ...pool, ceilMode: true, countIncludePad: c.inPlace };
      await check('avgPool2d', ref.avgPool2d(ux.view.contiguous(), avg), (o) => (c.async ? avgPool2dAsync : avgPool2d)(ux.view, { ...avg, ...o }), false);
      // The same views read as NHWC images (the pool runs one image at a time either way).
      const nhwc = { ...pool, layout: 'NHWC' as const, ignoreNaN: c.inPlace };
      await check('maxPool2d NHWC', ref.maxPool2d(x.view.contiguous(), nhwc), (o) => (c.async ? maxPool2dAsync : maxPool2d)(x.view, { ...nhwc, ...o }), true);
      await check('upsampleNearest', ref.upsampleNearest(x.view.contiguous(), 2), (o) => (c.async ? upsampleNearestAsync : upsampleNearest)(x.view, 2, o), true);
      const levels = [0, 1].map((i) => uniformView(shape, c.seed + 2 + i, c.x).view);
      const maps = [0, 1].map((i) => uniformView([c.n, 1, c.h, c.w], c.seed + 4 + i, c.maps).view);
      const expected = ref.weightedSum(levels.map((t) => t.contiguous()), maps.map((t) => t.contiguous()));
      await check('weightedSum', expected, (o) => (c.async ? weightedSumAsync : weightedSum)(levels, maps, o), false);
    }), { numRuns: runs(80) });
  });
});

/** OIHW -> HWIO (the NHWC conv's weight layout). */
function hwioOf(w: Tensor): Tensor {
  const [o, i, kh, kw] = w.shape;
  const out = new Float32Array(w.size);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
    out[((y * kw + x) * i + b) * o + a] = w.data[((a * i + b) * kh + y) * kw + x];
  }
  return Tensor.from(out, [kh, kw, i, o]);
}

/** Consecutive channel slices (of `chans` channels) of one parent [N, sum + extra, H, W]. */
function slicesOfOne(shape: readonly number[], chans: readonly number[], seed: number, p: ViewPlacement): { views: Tensor[]; parents: Tensor[] } {
  const total = chans.reduce((s, v) => s + v, 0);
  const whole = uniformView([shape[0], total, shape[2], shape[3]], seed, p);
  let at = 0;
  const views = chans.map((ch) => {
    const v = whole.view.sliceChannels(at, at + ch);
    at += ch;
    return v;
  });
  return { views, parents: [whole.parent] };
}

/** One view per input, each of its own parent. */
function separateViews(n: number, chans: readonly number[], h: number, w: number, seed: number, ps: readonly ViewPlacement[]): { views: Tensor[]; parents: Tensor[] } {
  const each = chans.map((ch, i) => uniformView([n, ch, h, w], seed + i, ps[i]));
  return { views: each.map((e) => e.view), parents: each.map((e) => e.parent) };
}
