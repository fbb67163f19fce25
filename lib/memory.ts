// Tensor buffers. Small ones are plain JS arrays (cheapest to make); large ones are
// uninitialised V8 ArrayBuffers with the array starting on a 64-byte boundary.
//
// V8 owns them, so the GC frees them as soon as it collects the tensor. They used to be
// external buffers from the native allocator; Node runs those buffers' finalizers from the
// event loop, so a synchronous loop of ops without `out` (a benchmark, a batch pipeline)
// freed none of its outputs until it yielded: 1.7 GB of RSS after 2000 convs with 800 KB
// outputs, and a page fault on every 4 KiB of every output (CONV1 2.2 ms a call instead of
// 1.5). Freed V8 buffers go back to malloc, which hands them to the next output
// (runtime.retainFreedMemory keeps glibc from returning them to the OS in between).
import { constants } from 'buffer';
import { native } from './native';

/** Below this many bytes a zero-filled JS array is cheaper than aligning a buffer. */
const ALIGNED_MIN_BYTES = 64 * 1024;
const ALIGNMENT = 64;

/** Every tensor buffer tensorfuse makes goes through allocateFloat32: these count them. */
let allocations = 0;
let allocatedBytes = 0;

export function allocateFloat32(elements: number): Float32Array {
  allocations++;
  allocatedBytes += elements * 4;
  const bytes = elements * 4;
  // Past Buffer's limit (4 GiB on Node 20) V8 makes the array itself or throws a RangeError.
  if (bytes < ALIGNED_MIN_BYTES || bytes + ALIGNMENT > constants.MAX_LENGTH) return new Float32Array(elements);
  const buffer = Buffer.allocUnsafeSlow(bytes + ALIGNMENT).buffer;
  return new Float32Array(buffer, native.alignmentOffset(buffer), elements);
}

/**
 * @internal Tensor buffers allocated since load (outputs, Tensor.empty/zeros, block scratch),
 * of any size: what a test diffs around a call to show which buffers the call made.
 */
export function tensorAllocationStats(): { allocations: number; bytes: number } {
  return { allocations, bytes: allocatedBytes };
}
