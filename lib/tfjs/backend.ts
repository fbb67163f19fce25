// TensorfuseBackend: tfjs-backend-cpu's MathBackendCPU (its storage: one Float32Array per
// dataId, read and written in place by both the cpu kernels and ours) plus a cache of
// packed tensorfuse Conv2d objects per filter tensor.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { DataId, DataType, BackendValues } from '@tensorflow/tfjs-core';
import { Conv2d } from '../ops/conv2d';

interface CacheEntry {
  conv: Conv2d;
  /** dataId of the bias packed into `conv`, if any (disposing it drops the entry too). */
  bias: DataId | null;
}

/** Packed convolutions kept per filter; a filter used with many geometries keeps the last few. */
const MAX_ENTRIES_PER_FILTER = 8;
/** Bytes of released output buffers kept for reuse. */
const MAX_POOL_BYTES = 256 * 1024 * 1024;

export class TensorfuseBackend extends MathBackendCPU {
  /** filter dataId -> (attribute key -> packed conv). */
  private readonly convCache = new Map<DataId, Map<string, CacheEntry>>();
  /** bias dataId -> filters whose entries packed it. */
  private readonly biasUsers = new Map<DataId, Set<DataId>>();

  constructor() {
    super();
    // MathBackendCPU prints its "install tfjs-node" notice on its first write() when this
    // flag is still set; tensorfuse is the fast Node backend, so the notice does not apply.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  // Output buffers. Fresh memory costs a page fault per 4 KiB on first touch (here a conv
  // into a new 5.5 MB output took 3-4x the time of one into a reused output), so buffers
  // that our kernels allocated are reused once TF.js releases the last tensor on them --
  // unless they escaped: read()/readSync() (dataSync(), data(), arraySync(), ...) hand the
  // array itself to the caller, so a buffer once read is never reused.
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  /** ArrayBuffers allocated by allocF32 (only these are ever reused). */
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private readonly escaped = new WeakSet<ArrayBufferLike>();
  /** Live data entries whose values view an owned buffer (cpu kernels' slices make views). */
  private readonly users = new Map<ArrayBufferLike, number>();

  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  /** A number naming a dataId for this backend's lifetime (cache keys). */
  idOf(dataId: DataId): number {
    let id = this.ids.get(dataId);
    if (id === undefined) this.ids.set(dataId, (id = this.nextId++));
    return id;
  }

  /**
   * A Float32Array of n elements for a kernel output: a released one when the pool has one
   * (its contents are stale: the kernel must write every element), else a new one, not
   * zero-filled either: every kernel of ours writes all of its output, and zeroing a fresh
   * 3 MiB output before the kernel overwrites it cost a fifth of a depthwise conv here.
   */
  allocF32(n: number): Float32Array {
    const list = this.pool.get(n);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytes -= reused.byteLength;
      return reused;
    }
    // allocUnsafeSlow: an ArrayBuffer of its own (offset 0, so Float32Array-aligned), never a
    // slice of Node's shared pool.
    const a = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
    this.owned.add(a.buffer);
    return a;
  }

  /** Bytes held for reuse (tests). */
  pooledByteCount(): number {
    return this.pooledBytes;
  }

  private track(values: unknown, delta: number, release: boolean): void {
    if (!(values instanceof Float32Array) || !this.owned.has(values.buffer)) return;
    const buf = values.buffer;
    const n = (this.users.get(buf) ?? 0) + delta;
    if (n > 0) {
      this.users.set(buf, n);
      return;
    }
    this.users.delete(buf);
    if (!release || this.escaped.has(buf) || values.byteOffset !== 0 || values.byteLength !== buf.byteLength) return;
    if (this.pooledBytes + buf.byteLength > MAX_POOL_BYTES) return;
    let list = this.pool.get(values.length);
    if (!list) this.pool.set(values.length, (list = []));
    list.push(values);
    this.pooledBytes += buf.byteLength;
  }

  override write(values: BackendValues, shape: number[], dtype: DataType): DataId {
    const id = super.write(values, shape, dtype);
    this.track(values, +1, false);
    return id;
  }

  override readSync(dataId: DataId): BackendValues {
    const v = this.data.get(dataId)?.values;
    if (v && ArrayBuffer.isView(v)) this.escaped.add(v.buffer);
    return super.readSync(dataId);
  }

  /** The Float32Array behind a float32 tensor (no copy). */
  f32(dataId: DataId): Float32Array {
    return this.data.get(dataId).values as Float32Array;
  }

  /** A cached packed conv for (filter, key), or a new one from `make`. */
  cachedConv(filter: DataId, bias: DataId | null, key: string, make: () => Conv2d): Conv2d {
    let perFilter = this.convCache.get(filter);
    const hit = perFilter?.get(key);
    if (hit) return hit.conv;
    const conv = make();
    if (!perFilter) {
      perFilter = new Map();
      this.convCache.set(filter, perFilter);
    }
    if (perFilter.size >= MAX_ENTRIES_PER_FILTER) {
      const [oldKey, old] = perFilter.entries().next().value as [string, CacheEntry];
      perFilter.delete(oldKey);
      old.conv.dispose();
    }
    perFilter.set(key, { conv, bias });
    if (bias) {
      let users = this.biasUsers.get(bias);
      if (!users) this.biasUsers.set(bias, (users = new Set()));
      users.add(filter);
    }
    return conv;
  }

  /** Number of packed convs held (tests check the cache empties on dispose). */
  packedConvCount(): number {
    let n = 0;
    for (const m of this.convCache.values()) n += m.size;
    return n;
  }

  private dropCached(dataId: DataId): void {
    const perFilter = this.convCache.get(dataId);
    if (perFilter) {
      for (const e of perFilter.values()) e.conv.dispose();
      this.convCache.delete(dataId);
    }
    const users = this.biasUsers.get(dataId);
    if (users) {
      for (const f of users) {
        const m = this.convCache.get(f);
        if (!m) continue;
        for (const [k, e] of m) {
          if (e.bias === dataId) {
            e.conv.dispose();
            m.delete(k);
          }
        }
        if (m.size === 0) this.convCache.delete(f);
      }
      this.biasUsers.delete(dataId);
    }
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) {
      this.dropCached(dataId);
      this.track(values, -1, true);
    }
    return released;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.dropCached(dataId);
    if (this.data.has(dataId)) this.track(this.data.get(dataId).values, -1, false);
    super.move(dataId, values, shape, dtype, refCount);
    this.track(values, +1, false);
  }

  override dispose(): void {
    for (const m of this.convCache.values()) for (const e of m.values()) e.conv.dispose();
    this.convCache.clear();
    this.biasUsers.clear();
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }
}
