// The bench workloads of ../shared/bench-workloads.md as runnable closures, for the main
// job's quick tour. The benchmark.js suites in bench/ measure the same shapes properly.
import { Tensor } from '../tensor';
import { add } from '../ops/elementwise';
import { concat } from '../ops/concat';

export interface Workload {
  name: string;
  what: string;
  /** Bytes moved per call (throughput in GB/s) — memory-bound workloads. */
  bytes: number;
  /** Builds the inputs once and returns the call to time (outputs reused). */
  prepare(): () => void;
}

function filled(shape: number[]): Tensor {
  const t = Tensor.empty(shape);
  for (let i = 0; i < t.data.length; i++) t.data[i] = (i % 251) * 0.01 - 1;
  return t;
}

function addWorkload(name: string, shape: number[]): Workload {
  const n = shape.reduce((p, d) => p * d, 1);
  return {
    name,
    what: `add ${JSON.stringify(shape)}`,
    bytes: 12 * n,
    prepare() {
      const a = filled(shape), b = filled(shape), out = Tensor.empty(shape);
      return () => add(a, b, { out });
    },
  };
}

function concatWorkload(name: string, shapes: number[][]): Workload {
  const total = shapes.reduce((s, sh) => s + sh.reduce((p, d) => p * d, 1), 0);
  return {
    name,
    what: `concat axis 1 of ${shapes.length}x ${JSON.stringify(shapes[0])}`,
    bytes: 8 * total,
    prepare() {
      const inputs = shapes.map(filled);
      const outShape = shapes[0].slice();
      outShape[1] = shapes.reduce((s, sh) => s + sh[1], 0);
      const out = Tensor.empty(outShape);
      return () => concat(inputs, 1, { out });
    },
  };
}

export const WORKLOADS: Workload[] = [
  addWorkload('ADD-T', [1, 16]),
  addWorkload('ADD-S', [1, 64, 56, 56]),
  addWorkload('ADD-L', [1, 256, 128, 128]),
  concatWorkload('CAT-L', [[1, 128, 128, 128], [1, 128, 128, 128]]),
  concatWorkload('CAT-B', [[8, 64, 56, 56], [8, 64, 56, 56], [8, 64, 56, 56]]),
];

export interface Timing {
  medianSeconds: number;
  calls: number;
}

/** Median seconds per call over `rounds` batches sized to take ≈ `roundSeconds` each. */
export function timeCall(fn: () => void, rounds = 15, roundSeconds = 0.02): Timing {
  fn();
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt >= roundSeconds || batch >= 1 << 24) break;
    batch = Math.ceil(batch * Math.min(100, Math.max(2, (roundSeconds / Math.max(dt, 1e-9)) * 1.2)));
  }
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9 / batch);
  }
  samples.sort((x, y) => x - y);
  return { medianSeconds: samples[samples.length >> 1], calls: batch * rounds };
}
