// Facts about the loaded kernels and the thread pool.
import { native } from './native';
import { checkInteger, rangeError } from './errors';
import { getInlineLimit, setInlineLimit } from './ops/elementwise';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { version } = require('../../package.json') as { version: string };

export interface RuntimeInfo {
  /** The ISA whose kernels run: the best one supported, capped by TENSORFUSE_ISA. */
  isa: string;
  /** The best ISA this CPU supports. */
  bestIsa: string;
  threads: number;
  version: string;
  /** The per-core data caches the kernels size their blocking for (bytes, as the OS reports them). */
  l1dCacheBytes: number;
  l2CacheBytes: number;
}

export const runtime = {
  info(): RuntimeInfo {
    const i = native.info();
    return { isa: i.isa, bestIsa: i.bestIsa, threads: i.threads, version, l1dCacheBytes: i.l1dCacheBytes, l2CacheBytes: i.l2CacheBytes };
  },
  /** Sets the internal pool size (1 = single-threaded). Safe while async work runs. */
  setThreads(n: number): void {
    checkInteger('runtime.setThreads', 'n', n);
    if (n < 1 || n > 256) throw rangeError('runtime.setThreads', `n must be in [1, 256], got ${n}`);
    native.setThreads(n);
  },
  /**
   * Same-shape element-wise ops with at most this many elements run as a JS loop, where
   * a native call would cost more than the work. 0 sends every size to the kernels.
   */
  setInlineLimit(elements: number): void {
    checkInteger('runtime.setInlineLimit', 'elements', elements);
    if (elements < 0) throw rangeError('runtime.setInlineLimit', `elements must be >= 0, got ${elements}`);
    setInlineLimit(elements);
  },
  inlineLimit(): number {
    return getInlineLimit();
  },
  /**
   * Keeps up to `bytes` of freed C-heap memory in the process (glibc's malloc, which also
   * backs V8's typed arrays) instead of returning it to the OS, and serves blocks up to
   * 32 MiB from it. Programs that drop and reallocate large typed arrays (TF.js outputs read
   * back with dataSync(), say) then reuse pages they have already touched: a first write to
   * a fresh 4 KiB page costs a page fault (≈11 µs on these VMs, 2.6 ms for an 800 KB
   * output). Process-wide; RSS stays near its high-water mark. Returns false where the C
   * library has no such knob (non-glibc). registerTensorfuseBackend() calls it by default.
   */
  retainFreedMemory(bytes: number = 1 << 30): boolean {
    checkInteger('runtime.retainFreedMemory', 'bytes', bytes);
    if (bytes < 0) throw rangeError('runtime.retainFreedMemory', `bytes must be >= 0, got ${bytes}`);
    return native.retainFreedMemory(bytes);
  },
  /** The native block cache (packed weights, conv scratch): blocks kept for reuse and how often it served one. */
  allocatorStats() {
    return native.allocatorStats();
  },
};
