// Memory geometry of tensors that may be strided channel views (Tensor.sliceChannels of a
// batch): the floats a tensor's `data` must span, the batch strides handed to the binding,
// and exact overlap tests (a view's data range also covers its parent's other channels, so
// two slices of one batch can interleave without sharing a float).
import { Tensor } from '../tensor';
import { formatShape } from '../errors';

/** The length `t.data` has while its memory is intact: size, or a view's first-to-last-image span. */
export function spanOf(t: Tensor): number {
  if (t.isContiguous) return t.size;
  const images = t.shape[0];
  return (images - 1) * t.batchStride + t.size / images;
}

/** True when none of `tensors` is a strided view (null entries count as contiguous). */
export function allContiguous(tensors: readonly (Tensor | null)[]): boolean {
  for (const t of tensors) if (t !== null && !t.isContiguous) return false;
  return true;
}

/**
 * The trailing `strides` argument of a native op when a tensor is a strided view: each
 * tensor's batch stride in order (0 for a null). With every tensor contiguous the ops pass
 * undefined instead (checking isContiguous first, so that path allocates nothing) and the
 * binding runs the kernel once over the whole batch, as before views existed.
 */
export function stridesOf(tensors: readonly (Tensor | null)[]): number[] {
  return tensors.map((t) => (t === null ? 0 : t.batchStride));
}

/** The message for an op that takes contiguous tensors only. */
export function viewRejection(name: string, t: Tensor): string {
  return `${name} ${formatShape(t.shape)} is a strided channel view (batch stride ${t.batchStride}), which this op does not take; pass ${name}.contiguous()`;
}

/** A tensor's memory as `count` blocks of `len` floats, `stride` apart, from float `start` of its buffer. */
interface Blocks {
  start: number;
  count: number;
  len: number;
  stride: number;
}

function blocksOf(t: Tensor): Blocks {
  const start = t.data.byteOffset / 4;
  if (t.isContiguous) return { start, count: 1, len: t.size, stride: t.size };
  const count = t.shape[0];
  return { start, count, len: t.size / count, stride: t.batchStride };
}

/**
 * Whether two sorted runs of disjoint blocks share a float: walk both in order, always
 * stepping past the block that ends first (O(images), no allocation).
 */
function blocksIntersect(p: Blocks, q: Blocks): boolean {
  let i = 0, j = 0;
  while (i < p.count && j < q.count) {
    const ps = p.start + i * p.stride, pe = ps + p.len;
    const qs = q.start + j * q.stride, qe = qs + q.len;
    if (ps < qe && qs < pe) return true;
    if (pe <= qe) i++;
    else j++;
  }
  return false;
}

/** True when two tensors share any float of memory (exact for strided views). */
export function overlaps(a: Tensor, b: Tensor): boolean {
  if (a.buffer !== b.buffer || a.size === 0 || b.size === 0) return false;
  const x = a.data, y = b.data;
  const spansMeet = x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
  if (!spansMeet || (a.isContiguous && b.isContiguous)) return spansMeet;
  return blocksIntersect(blocksOf(a), blocksOf(b));
}

/** True when two tensors cover exactly the same floats in the same layout. */
export function sameMemory(a: Tensor, b: Tensor): boolean {
  if (a.buffer !== b.buffer || a.data.byteOffset !== b.data.byteOffset || a.size !== b.size) return false;
  if (a.isContiguous && b.isContiguous) return true;
  const p = blocksOf(a), q = blocksOf(b);
  return p.count === q.count && p.len === q.len && p.stride === q.stride;
}

/**
 * Calls `fn` with each contiguous block of t's elements: all of t.data for a contiguous tensor,
 * else one subarray per image (for JS loops that must not touch the gaps between a view's images).
 */
export function forEachBlock(t: Tensor, fn: (block: Float32Array) => void): void {
  if (t.isContiguous) {
    fn(t.data);
    return;
  }
  const images = t.shape[0], image = t.size / images, stride = t.batchStride;
  for (let n = 0; n < images; n++) fn(t.data.subarray(n * stride, n * stride + image));
}
