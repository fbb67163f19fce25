// Loads the compiled addon and describes its functions. Everything that calls into C++
// goes through this one object; the signatures mirror native/binding/*.cc.
import * as fs from 'fs';
import * as path from 'path';

export interface NativeInfo {
  isa: string;
  bestIsa: string;
  threads: number;
  l1dCacheBytes: number;
  l2CacheBytes: number;
}

export interface AllocatorStats {
  cachedBlocks: number;
  cachedBytes: number;
  reused: number;
  allocated: number;
}

/** Packed conv2d weights owned by the addon (an opaque External). */
/** What a packed conv runs (Conv2d.algorithm). */
export type Conv2dAlgorithm = 'gemm-pixel-lanes' | 'gemm-channel-lanes' | 'gemm-gather' | 'winograd-f2x2-3x3' | 'winograd-f4x4-3x3' | 'depthwise' | 'blocked-direct';

export interface Conv2dHandle {
  readonly __conv2dHandle: unique symbol;
}

/**
 * The optional trailing `strides` of the ops that take strided channel views (lib/ops/views.ts
 * stridesOf): undefined when every tensor is contiguous, else one batch stride per tensor
 * argument in the order each signature states. The binding checks every view's span against
 * its array and runs the kernel once per image when a view is strided.
 */
export type BatchStrides = readonly number[] | undefined;

/**
 * A list of kernel calls recorded from the JS thread and run in order as one task on the
 * libuv pool (batchRun): an op given a batch as its async argument is checked at once and
 * recorded, not run. A compiled model's async run queues its steps this way.
 */
export interface KernelBatch {
  readonly __kernelBatch: unique symbol;
}

export interface NativeAddon {
  info(): NativeInfo;
  setThreads(n: number): void;
  /** Bytes from the buffer's start to its first 64-byte boundary. */
  alignmentOffset(buffer: ArrayBuffer): number;
  allocatorStats(): AllocatorStats;
  allocatorTrim(): void;
  retainFreedMemory(bytes: number): boolean;
  binarySame(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  /** strides: [a, b, out]. */
  binary(op: number, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    out: Float32Array, async: false, strides?: BatchStrides): void;
  binary(op: number, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[],
    out: Float32Array, async: true, strides?: BatchStrides): Promise<Float32Array>;
  /**
   * Inputs [outer, extents[i]] into out [outer, sum]. With strides ([...inputs, out]) every
   * tensor is `images` such blocks, one per image, at its batch stride.
   */
  concat(inputs: Float32Array[], extents: number[], outer: number, out: Float32Array, async: false,
    strides?: BatchStrides, images?: number): void;
  concat(inputs: Float32Array[], extents: number[], outer: number, out: Float32Array, async: true,
    strides?: BatchStrides, images?: number): Promise<Float32Array>;
  concat(inputs: Float32Array[], extents: number[], outer: number, out: Float32Array, async: KernelBatch,
    strides?: BatchStrides, images?: number): void;
  // conv2d (native/binding/conv2d_binding.cc). params: [layout (0 NCHW, 1 NHWC, 2 NCHWc, 3 NCHW x to NCHWc y), groups,
  // strideH, strideW, dilationH, dilationW, activation code, alpha].
  conv2dCreate(weight: Float32Array, weightShape: readonly number[], bias: Float32Array | null, params: number[],
    inScale?: Float32Array | null, inShift?: Float32Array | null, inRelu?: boolean): Conv2dHandle;
  /**
   * strides: [x, out] ([x, out, skip] with a skip). With `skip` (NCHW or NCHWc, out's shape;
   * out itself or disjoint from it), out = act(conv + skip) (the conv's activation 'none').
   */
  conv2dRun(handle: Conv2dHandle, x: Float32Array, xShape: readonly number[], pads: readonly number[], out: Float32Array,
    async: false, strides?: BatchStrides, skip?: Float32Array | null, act?: number, alpha?: number): void;
  conv2dRun(handle: Conv2dHandle, x: Float32Array, xShape: readonly number[], pads: readonly number[], out: Float32Array,
    async: true, strides?: BatchStrides, skip?: Float32Array | null, act?: number, alpha?: number): Promise<Float32Array>;
  conv2dRun(handle: Conv2dHandle, x: Float32Array, xShape: readonly number[], pads: readonly number[], out: Float32Array,
    async: KernelBatch, strides?: BatchStrides, skip?: Float32Array | null, act?: number, alpha?: number): void;
  /**
   * NCHW conv over the channel concat (mode 0) or the sum (mode 1) of `sources` (shapes: 4 dims
   * per source, flat), without materialising it; with `skip`, out = act(conv + skip) (the
   * conv's own activation must be 'none'; skip is out itself or disjoint from it).
   * strides: [...sources, out, skip] (skip's entry is ignored without a skip).
   */
  conv2dRunSources(handle: Conv2dHandle, sources: readonly Float32Array[], sourceShapes: readonly number[], mode: number,
    pads: readonly number[], out: Float32Array, skip: Float32Array | null, act: number, alpha: number, async: false,
    strides?: BatchStrides): void;
  conv2dRunSources(handle: Conv2dHandle, sources: readonly Float32Array[], sourceShapes: readonly number[], mode: number,
    pads: readonly number[], out: Float32Array, skip: Float32Array | null, act: number, alpha: number,
    async: true, strides?: BatchStrides): Promise<Float32Array>;
  conv2dRunSources(handle: Conv2dHandle, sources: readonly Float32Array[], sourceShapes: readonly number[], mode: number,
    pads: readonly number[], out: Float32Array, skip: Float32Array | null, act: number, alpha: number,
    async: KernelBatch, strides?: BatchStrides): void;
  /** Frees the packed weights (after any run in flight); later runs throw. */
  conv2dDispose(handle: Conv2dHandle): void;
  conv2dAlgorithm(handle: Conv2dHandle): Conv2dAlgorithm;
  /** The channel block L of the NCHWc layout (the active ISA's vector lanes). */
  conv2dBlockedLanes(): number;
  // NCHW <-> NCHWc (native/binding/blocked_layout_binding.cc): x [n, c, h, w] and
  // [n, ceil(c / L), h, w, L]; nchwShape is the NCHW side's shape either way.
  toBlocked(x: Float32Array, nchwShape: readonly number[], out: Float32Array, async?: boolean | KernelBatch): Promise<unknown> | undefined;
  fromBlocked(x: Float32Array, nchwShape: readonly number[], out: Float32Array, async?: boolean | KernelBatch): Promise<unknown> | undefined;
  /** A new empty batch (KernelBatch). */
  batchBegin(): KernelBatch;
  /** Runs the batch's calls in order on the libuv pool (keeping their arrays alive); settles with the batch, left empty. */
  batchRun(batch: KernelBatch): Promise<KernelBatch>;
  // fusion-block ops (native/binding/fusion_ops_binding.cc); with async = true each returns
  // a Promise of its out argument(s) instead of undefined.
  /** strides: [x, out], with the number of images. */
  unary(op: number, x: Float32Array, out: Float32Array, async: boolean, strides?: BatchStrides, images?: number, a?: number, b?: number): Promise<unknown> | undefined;
  softmax(x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array, async: boolean | KernelBatch): Promise<unknown> | undefined;
  /** blocked: x and out are NCHWc [n, c / L, hw, L] (c a multiple of L). */
  channelAffine(x: Float32Array, n: number, c: number, hw: number, scale: Float32Array, shift: Float32Array, relu: boolean,
    out: Float32Array, async: boolean | KernelBatch, blocked?: boolean): Promise<unknown> | undefined;
  /** strides: [...inputs, ...weights, out]. */
  weightedSum(inputs: Float32Array[], weights: Float32Array[], n: number, c: number, hw: number, out: Float32Array,
    async: boolean, strides?: BatchStrides): Promise<unknown> | undefined;
  // pooling (native/binding/pool_binding.cc). pool2d: op 0 max / 1 average, layout 0 NCHW /
  // 1 NHWC, params [kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, ceil, flag] (flag: average
  // count_include_pad, max NaN-never-wins), strides: [x, out]; globalPool: op 0 average / 1 max.
  pool2d(op: number, layout: number, x: Float32Array, shape: readonly number[], params: number[], out: Float32Array,
    async: boolean | KernelBatch, strides?: BatchStrides): Promise<unknown> | undefined;
  globalPool(op: number, x: Float32Array, planes: number, inner: number, out: Float32Array, async: boolean | KernelBatch): Promise<unknown> | undefined;
  lrn(x: Float32Array, n: number, c: number, inner: number, size: number, coefficients: number[], out: Float32Array,
    async: boolean | KernelBatch): Promise<unknown> | undefined;
  /** strides: [x, out]. */
  resize(x: Float32Array, shape: readonly number[], size: number[], scales: number[], mode: number, coord: number,
    nearest: number, out: Float32Array, async: boolean, strides?: BatchStrides): Promise<unknown> | undefined;
  slice(x: Float32Array, shape: readonly number[], starts: number[], steps: number[], outShape: number[], out: Float32Array,
    async: boolean): Promise<unknown> | undefined;
  split(x: Float32Array, outer: number, extents: number[], outs: Float32Array[], async: boolean): Promise<unknown> | undefined;
}

const ISA_NAMES = ['scalar', 'avx2', 'avx512', 'neon'];

function checkEnvironment(): void {
  const isa = process.env.TENSORFUSE_ISA;
  if (isa !== undefined && isa !== '' && !ISA_NAMES.includes(isa)) {
    throw new RangeError(`tensorfuse: TENSORFUSE_ISA=${isa} is not one of ${ISA_NAMES.join(', ')}`);
  }
  const threads = process.env.TENSORFUSE_THREADS;
  if (threads !== undefined && threads !== '' && !/^[1-9][0-9]*$/.test(threads)) {
    throw new RangeError(`tensorfuse: TENSORFUSE_THREADS=${threads} is not a positive integer`);
  }
}

function load(): NativeAddon {
  checkEnvironment();
  // dist/lib/native.js -> <package root>/build/Release. TENSORFUSE_ADDON=/path/to/tensorfuse.node
  // loads another build of the same addon instead (the ASan build in scripts/sanitize-js.sh).
  const root = path.resolve(__dirname, '..', '..');
  const override = process.env.TENSORFUSE_ADDON;
  let file = path.join(root, 'build', 'Release', 'tensorfuse.node');
  if (override !== undefined && override !== '') {
    file = path.resolve(override);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new Error(`tensorfuse: TENSORFUSE_ADDON=${override} is not a file (resolved to ${file})`);
    }
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(file) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`tensorfuse: cannot load the native addon at ${file} (${reason}); run \`npm install\` or \`npm run build\``);
  }
}

export const native: NativeAddon = load();
