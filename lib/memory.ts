// Output buffers. Small ones are plain JS arrays (cheapest to make); large ones come from
// the native allocator: 64-byte aligned, huge-page backed, recycled after GC.
import { native } from './native';

/** Below this many bytes a JS-heap Float32Array is cheaper than an external buffer. */
const NATIVE_ALLOC_MIN_BYTES = 64 * 1024;

/**
 * Above this many bytes Node 20 cannot wrap external memory (buffer.constants.MAX_LENGTH,
 * 4 GiB); such outputs are JS-heap arrays (V8 throws a RangeError if it cannot make one).
 */
const NATIVE_ALLOC_MAX_BYTES = 2 ** 32;

/** Every tensor buffer tensorfuse makes goes through allocateFloat32: these count them. */
let allocations = 0;
let allocatedBytes = 0;

export function allocateFloat32(elements: number): Float32Array {
  allocations++;
  allocatedBytes += elements * 4;
  if (elements * 4 < NATIVE_ALLOC_MIN_BYTES || elements * 4 > NATIVE_ALLOC_MAX_BYTES) return new Float32Array(elements);
  return native.allocate(elements);
}

/**
 * @internal Tensor buffers allocated since load (outputs, Tensor.empty/zeros, block scratch),
 * of any size: what a test diffs around a call to show which buffers the call made.
 */
export function tensorAllocationStats(): { allocations: number; bytes: number } {
  return { allocations, bytes: allocatedBytes };
}
