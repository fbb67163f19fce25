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

  private readonly ids = new WeakMap<object, number>();
  private nextId = 1;

  /** A number naming a dataId for this backend's lifetime (cache keys). */
  idOf(dataId: DataId): number {
    let id = this.ids.get(dataId);
    if (id === undefined) this.ids.set(dataId, (id = this.nextId++));
    return id;
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
    const released = super.disposeData(dataId, force);
    if (released && !this.data.has(dataId)) this.dropCached(dataId);
    return released;
  }

  override move(dataId: DataId, values: BackendValues, shape: number[], dtype: DataType, refCount: number): void {
    this.dropCached(dataId);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override dispose(): void {
    for (const m of this.convCache.values()) for (const e of m.values()) e.conv.dispose();
    this.convCache.clear();
    this.biasUsers.clear();
    super.dispose();
  }
}
