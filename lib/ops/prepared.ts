// What a compiled model's steps call: an op checked once for the plan's shapes, run with the
// contiguous floats of its slots (the binding checks every length again), or recorded into a
// KernelBatch so that an async run queues its steps as one task (lib/native.ts).
import type { KernelBatch } from '../native';

export interface PreparedStep {
  run(x: Float32Array, out: Float32Array): void;
  /** The same call recorded into `batch` instead of run. */
  record(x: Float32Array, out: Float32Array, batch: KernelBatch): void;
}
