// What a compiled model's steps call: an op checked once for the plan's shapes, run with the
// contiguous floats of its slots (the binding checks every length again), or recorded into a
// KernelBatch so that an async run queues its steps as one task (lib/native.ts).
import { native } from '../native';
import type { KernelBatch } from '../native';

export interface PreparedStep {
  run(x: Float32Array, out: Float32Array): void;
  /** The same call recorded into `batch` instead of run. */
  record(x: Float32Array, out: Float32Array, batch: KernelBatch): void;
}

export type { KernelBatch };

/**
 * The prepared step of one native call: `call(x, out, mode)` makes it with mode false (run
 * now) or a batch (recorded).
 */
export function preparedStep(call: (x: Float32Array, out: Float32Array, mode: false | KernelBatch) => void): PreparedStep {
  return { run: (x, out) => call(x, out, false), record: (x, out, batch) => call(x, out, batch) };
}

/** A new, empty batch to record prepared steps into. */
export function beginBatch(): KernelBatch {
  return native.batchBegin();
}

/** Runs the batch's recorded calls in order as one task on the libuv pool; the batch is left empty. */
export function runBatch(batch: KernelBatch): Promise<unknown> {
  return native.batchRun(batch);
}
