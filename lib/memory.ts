// Output buffers. Small ones are plain JS arrays (cheapest to make); large ones come from
// the native allocator: 64-byte aligned, huge-page backed, recycled after GC.
import { native } from './native';

/** Below this many bytes a JS-heap Float32Array is cheaper than an external buffer. */
const NATIVE_ALLOC_MIN_BYTES = 64 * 1024;

export function allocateFloat32(elements: number): Float32Array {
  if (elements * 4 < NATIVE_ALLOC_MIN_BYTES) return new Float32Array(elements);
  return native.allocate(elements);
}
