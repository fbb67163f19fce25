// The served model: one FPN top-down merge (lib/fusion fpnMerge) with prepacked weights,
//   out = smooth3x3( up2(top) + lateral1x1(lateral) )
// top [1, C, H, W] and lateral [1, CL, 2H, 2W] arrive as one binary float32 body (top first);
// the result [1, C, 2H, 2W] goes back as raw float32. Weights are seeded, so every process
// (server, piscina worker, test) builds the same model.
'use strict';
const tf = require('../../');

const DEFAULT_GEOMETRY = { c: 64, cl: 32, h: 16, w: 16 };

function seeded(n, seed, scale) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return a;
}

/** The raw weights (OIHW) and conv options; the reference test builds the same from these. */
function fpnWeights(g = DEFAULT_GEOMETRY) {
  const lateral = tf.Tensor.from(seeded(g.c * g.cl, 1, 1 / Math.sqrt(g.cl)), [g.c, g.cl, 1, 1]);
  const smooth = tf.Tensor.from(seeded(g.c * g.c * 9, 2, 1 / Math.sqrt(g.c * 9)), [g.c, g.c, 3, 3]);
  const smoothBias = tf.Tensor.from(seeded(g.c, 3, 0.1), [g.c]);
  return {
    lateral: { weight: lateral },
    smooth: { weight: smooth, options: { pads: [1, 1, 1, 1], bias: smoothBias, activation: 'relu' } },
  };
}

/**
 * A model instance: convs packed once, `slots` pairs of reused input/output buffers. acquire()
 * waits for a free slot (backpressure instead of unbounded allocation), release() returns it.
 */
class FpnPipeline {
  constructor(g = DEFAULT_GEOMETRY, slots = 8) {
    this.g = g;
    const w = fpnWeights(g);
    this.lateralConv = new tf.Conv2d(w.lateral.weight);
    this.smoothConv = new tf.Conv2d(w.smooth.weight, w.smooth.options);
    this.topShape = [1, g.c, g.h, g.w];
    this.lateralShape = [1, g.cl, 2 * g.h, 2 * g.w];
    this.outShape = [1, g.c, 2 * g.h, 2 * g.w];
    this.topElems = g.c * g.h * g.w;
    this.inputElems = this.topElems + g.cl * 4 * g.h * g.w;
    this.inputBytes = this.inputElems * 4;
    this.outBytes = g.c * 4 * g.h * g.w * 4;
    this.free = [];
    this.waiting = [];
    for (let i = 0; i < slots; i++) {
      const input = new Float32Array(this.inputElems);
      this.free.push({
        input,
        inputBytes: new Uint8Array(input.buffer),
        top: tf.Tensor.from(input.subarray(0, this.topElems), this.topShape),
        lateral: tf.Tensor.from(input.subarray(this.topElems), this.lateralShape),
        out: tf.Tensor.empty(this.outShape),
      });
    }
  }

  acquire() {
    const slot = this.free.pop();
    if (slot) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(slot) {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }

  options(slot) {
    return { lateralConv: this.lateralConv, smoothConv: this.smoothConv, out: slot.out };
  }

  /** Runs the block off the main thread into slot.out. */
  runAsync(slot) {
    return tf.fpnMergeAsync(slot.top, slot.lateral, this.options(slot));
  }

  /** Runs it on the calling thread (inside a piscina worker). */
  runSync(slot) {
    return tf.fpnMerge(slot.top, slot.lateral, this.options(slot));
  }
}

module.exports = { FpnPipeline, fpnWeights, seeded, DEFAULT_GEOMETRY };
