// tensorfuse/tfjs: a TensorFlow.js backend named 'tensorfuse'.
//
//   import * as tf from '@tensorflow/tfjs-core';
//   import { registerTensorfuseBackend } from 'tensorfuse/tfjs';
//   registerTensorfuseBackend();          // then tf.setBackend('tensorfuse') (or let priority pick it)
//
// Storage and every kernel tensorfuse does not implement come from @tensorflow/tfjs-backend-cpu
// (peer dependencies: @tensorflow/tfjs-core and @tensorflow/tfjs-backend-cpu ^4.22).
import { findBackendFactory, getKernelsForBackend, registerBackend, registerKernel } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';  // registers the 'cpu' backend and its kernels
import { runtime } from '../runtime';
import { TensorfuseBackend } from './backend';
import { BACKEND_NAME, CPU_KERNELS_KEPT, TENSORFUSE_KERNELS, kernelStats } from './kernels';

export { TensorfuseBackend, BACKEND_NAME, CPU_KERNELS_KEPT, TENSORFUSE_KERNELS, kernelStats };

export interface TensorfuseBackendOptions {
  /**
   * Backend priority: the highest registered one is tf's default backend. Default 3: above
   * cpu (1), wasm and webgl (2), level with tfjs-node.
   */
  priority?: number;
  /** Sets tensorfuse's thread pool size (runtime.setThreads); default: leave it as it is. */
  threads?: number;
  /**
   * Bytes of freed memory the process keeps for reuse (runtime.retainFreedMemory), default
   * 1 GiB; 0 leaves the C heap's defaults alone. TF.js hands every output read back with
   * dataSync()/data() to the caller, so the next output is fresh memory: with the default
   * that memory comes back from the heap already faulted in (CONV3 with dataSync, 1 thread:
   * 4.4 -> 2.0 ms per call), at the price of an RSS that stays at its high-water mark.
   */
  retainFreedMemory?: number;
}

let kernelsRegistered = false;

/**
 * Registers the 'tensorfuse' backend and its kernels (tensorfuse's own for the ops in
 * TENSORFUSE_KERNELS, tfjs-backend-cpu's for the rest). Returns false when it was already
 * registered (the options then only change the thread count).
 */
export function registerTensorfuseBackend(options: TensorfuseBackendOptions = {}): boolean {
  if (options.threads !== undefined) runtime.setThreads(options.threads);
  const retain = options.retainFreedMemory ?? 1 << 30;
  if (retain > 0) runtime.retainFreedMemory(retain);
  if (findBackendFactory(BACKEND_NAME) != null) return false;
  registerBackend(BACKEND_NAME, () => new TensorfuseBackend(), options.priority ?? 3);
  if (!kernelsRegistered) {
    const ours = new Set(TENSORFUSE_KERNELS.map((k) => k.kernelName));
    for (const k of getKernelsForBackend('cpu')) {
      if (!ours.has(k.kernelName)) registerKernel({ ...k, backendName: BACKEND_NAME });
    }
    for (const k of TENSORFUSE_KERNELS) registerKernel({ ...k, backendName: BACKEND_NAME });
    kernelsRegistered = true;
  }
  return true;
}
